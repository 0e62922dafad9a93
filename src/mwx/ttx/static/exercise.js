/* mwx exercise pages: the facilitator's (role "white") and the evaluators' (role "eval").
 *
 * Plain ES2020, no build step, no framework.  Everything a cell or a script wrote (notes, warnings, answers,
 * observations) is partners' text: it is only ever put in the page as text (textContent), never as HTML.
 *
 * Data (JSON bodies are the msgspec structs of mwx/ttx/desk.py and mwx/ttx/log.py; times ISO 8601, UTC):
 *   GET  /api/exercise/state     -> ExerciseState, polled every POLL_MS (the page redraws when it changed)
 *   POST /api/exercise/control   {action, speed?}                                    (white) -> 202
 *   POST /api/exercise/rating    {capability, rating, observation}                   (eval)  -> 202
 *   POST /api/exercise/plan      {capability, issue, corrective_action, owner, due, item_id?} (eval) -> 202
 *
 * DOM contract (tests rely on it):
 *   body.dataset.ready "1" once the first state is drawn; body.dataset.version counts the states drawn
 *   #clock-state (waiting|running|paused|finished), #clock-time ("HH:MM:SSZ T+MM:SS"), #clock-speed ("×N")
 *   white: #start #pause #resume #next #end, #speed-input + #speed-set, #control-status;
 *          #cells tr.cell[data-cell]
 *   both:  #injects tr.inject[data-inject-id][data-delivered="true|false"]; #actions li[data-type] newest first
 *   eval:  #evaluation tr.capability[data-capability][data-proposed][data-rating] (data-rating "" until rated),
 *          each with .rating-select (P/S/M/U), .rating-observation, .rating-save, .rating-status;
 *          #plan tr[data-item-id] (each with .plan-edit); #plan-capability #plan-issue #plan-action #plan-owner
 *          #plan-due #plan-add, #plan-status
 *   window.mwx = {state(), version}
 */
'use strict';

(function () {
  const body = document.body;
  const CONFIG = Object.freeze({
    role: body.dataset.role || '',
    token: body.dataset.token || '',
  });
  delete body.dataset.token; // kept in this closure only, not left in the DOM

  const POLL_MS = 500;
  const RETRY_MS = 2000;
  const RATINGS = { P: 'performed without challenges', S: 'performed with some challenges', M: 'performed with major challenges', U: 'unable to be performed' };

  // ================================================================== helpers
  const $ = (id) => document.getElementById(id);

  /** An HTML element with attributes (null/false left out) and children (strings become text: no HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value == null || value === false) continue;
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const { ms, hms } = window.mwxTime; // the consoles' time.js

  /** "T+MM:SS" (minutes past 59 go on counting) of milliseconds since the start; "T-…" before it. */
  function tplus(dt) {
    if (dt == null || !isFinite(dt)) return 'T+—';
    const sign = dt < 0 ? '-' : '+';
    const s = Math.floor(Math.abs(dt) / 1000);
    return `T${sign}${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  function speedText(x) {
    return x == null || !isFinite(x) ? '' : `×${Number(x) < 10 ? Number(x).toFixed(1).replace(/\.0$/, '') : Math.round(x)}`;
  }

  function duration(s) {
    if (s == null || !isFinite(s)) return '—';
    return s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`;
  }

  /** The response's reason (FastAPI's {"detail": …}) or its status. */
  async function reason(response) {
    try {
      const data = await response.json();
      if (data && typeof data.detail === 'string') return `${response.status}: ${data.detail}`;
    } catch (err) { /* not JSON */ }
    return `${response.status} ${response.statusText}`;
  }

  /** POST a JSON body with the token; resolves to null when accepted, else the reason. */
  async function post(path, payload) {
    try {
      const response = await fetch(path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${CONFIG.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
      return response.ok ? null : await reason(response);
    } catch (err) {
      return 'no connection';
    }
  }

  function say(node, text, bad) {
    node.textContent = text;
    node.className = `status-line${bad ? ' bad' : ''}`;
  }

  function linkState(text, cls) {
    const node = $('link-state');
    node.textContent = text;
    node.className = cls;
  }

  // ================================================================== what each action says
  /** One line of the log: what an action did (its time and who did it are columns of their own). */
  function describe(a) {
    const to = (list) => (list && list.length ? list.join(', ') : 'all');
    switch (a.type) {
      case 'inject':
        return `inject ${a.inject_id} (${a.kind}, ${a.module}) → ${to(a.to)}${a.text ? ': ' + a.text : ''}`;
      case 'ack':
        return `acknowledged ${a.alert_id ? 'alert ' + a.alert_id + ' ' : ''}(${a.msg_id})${a.sender ? ' of ' + a.sender : ''}`;
      case 'note':
        return `${a.act} on ${a.topic} → ${to(a.to)}${a.in_reply_to ? ' (re ' + a.in_reply_to + ')' : ''}: ${a.text}`;
      case 'received':
        return `received ${a.act} from ${a.sender} on ${a.topic}${a.in_reply_to ? ' (re ' + a.in_reply_to + ')' : ''}: ${a.text}`;
      case 'warning':
        return `public warning ${a.warning_id} ${a.status} for ${a.area}: ${a.text}`;
      case 'answer':
        return `answered ${a.inject_id}: ${a.text}`;
      case 'control':
        return `clock ${a.action}${a.speed != null ? ' ' + speedText(a.speed) : ''}${a.jumped_to ? ' → ' + hms(ms(a.jumped_to)) : ''}`;
      case 'rating':
        return `rated ${a.capability} ${a.rating}: ${a.observation}`;
      case 'plan':
        return `plan ${a.item_id} (${a.capability}): ${a.issue} → ${a.corrective_action} (${a.owner}, due ${a.due})`;
      default:
        return a.type || 'action';
    }
  }

  // ================================================================== drawing
  let state = null;
  let version = 0;

  function renderClock(s) {
    const node = $('clock-state');
    node.textContent = s.clock;
    node.className = s.clock;
    const t = ms(s.time);
    $('clock-time').textContent = `${hms(t)} ${tplus(t - ms(s.start))}`;
    $('clock-speed').textContent = speedText(s.speed);
    $('exercise-name').textContent = s.title ? `${s.name} · ${s.title}` : s.name;
    document.title = `EXERCISE · ${s.clock} · ${s.name} · mwx`;
  }

  function renderControls(s) {
    if (CONFIG.role !== 'white') return;
    const over = s.clock === 'finished';
    $('start').disabled = s.clock !== 'waiting';
    $('pause').disabled = s.clock !== 'running';
    $('resume').disabled = s.clock !== 'paused';
    $('next').disabled = over;
    $('end').disabled = over;
    $('speed-set').disabled = over;
    $('speed-input').placeholder = String(s.speed);
  }

  function renderInjects(s) {
    const start = ms(s.start);
    const rows = s.injects.map((i) => {
      const at = ms(i.at);
      return el('tr', {
        class: `inject${i.delivered ? ' delivered' : ''}${i.technical ? ' technical' : ''}`,
        'data-inject-id': i.inject_id, 'data-delivered': i.delivered ? 'true' : 'false',
      },
      el('td', { class: 'mono nowrap' }, hms(at), el('br'), el('span', { class: 'muted' }, tplus(at - start)),
        i.delivered ? el('span', { class: 'tick', title: 'delivered' }, ' ✓') : null),
      el('td', null, i.kind, i.technical ? el('span', { class: 'muted' }, ' (technical)') : null,
        el('br'), el('span', { class: 'muted mono' }, `${i.inject_id} · ${i.module}`)),
      el('td', { class: 'nowrap' }, `${i.source} → ${i.to.length ? i.to.join(', ') : 'all'}`),
      el('td', { class: 'text' }, i.text || ''),
      el('td', { class: 'text' }, i.expected_action || ''));
    });
    $('injects').tBodies[0].replaceChildren(...rows);
    $('inject-count').textContent = `${s.injects.filter((i) => i.delivered).length}/${s.injects.length}`;
  }

  function renderActions(s) {
    const start = ms(s.start);
    const items = s.actions.slice().reverse().map((a) => {
      const t = ms(a.time);
      return el('li', { 'data-type': a.type, 'data-by': a.by, class: a.source === 'script' ? 'scripted' : null },
        el('span', { class: 't mono', title: tplus(t - start) }, hms(t)),
        el('span', { class: 'by', 'data-role': a.by }, a.by),
        el('span', { class: 'what' }, describe(a), a.source === 'script' ? el('span', { class: 'muted' }, ' (scripted)') : null));
    });
    $('actions').replaceChildren(...items);
    $('action-count').textContent = String(s.actions.length);
  }

  /** The cells' summary (white): what each cell got and did so far. */
  function renderCells(s) {
    const table = $('cells');
    if (!table) return;
    const rows = s.cells.map((cell) => {
      const mine = s.actions.filter((a) => a.by === cell);
      const count = (type) => mine.filter((a) => a.type === type).length;
      const injects = s.actions.filter((a) => a.type === 'inject' && (!a.to.length || a.to.includes(cell))).length;
      const warnings = new Map();
      for (const a of mine) if (a.type === 'warning') warnings.set(a.warning_id, a.status);
      const statuses = [...warnings.entries()].map(([id, status]) => `${id} ${status}`);
      const last = mine.length ? mine[mine.length - 1] : null;
      return el('tr', { class: 'cell', 'data-cell': cell },
        el('td', null, el('span', { class: 'role-badge', 'data-role': cell }, cell)),
        el('td', { class: 'mono' }, String(injects)),
        el('td', { class: 'mono' }, String(count('ack'))),
        el('td', { class: 'mono' }, String(count('note'))),
        el('td', { class: 'mono' }, String(count('received'))),
        el('td', null, statuses.length ? statuses.join(', ') : '—'),
        el('td', { class: 'mono' }, String(count('answer'))),
        el('td', null, last ? `${hms(ms(last.time))} ${describe(last)}` : '—'));
    });
    table.tBodies[0].replaceChildren(...rows);
  }

  // ------------------------------------------------------------------ eval: the evaluation and the plan
  const ratingRows = new Map(); // capability -> {row, info cells}

  function tasksList(c) {
    return el('ul', { class: 'tasks' }, c.tasks.map((t) => el('li', { class: `task ${t.status}`, 'data-task': t.task },
      el('span', { class: `task-status ${t.status}` }, t.status), ' ',
      el('span', null, `${t.task}${t.cell ? ' (' + t.cell + ')' : ''}: ${t.text}`),
      el('div', { class: 'muted' }, `${t.measure} · target ${duration(t.target_s)} · `
        + (t.done_at ? `done ${hms(ms(t.done_at))} (${duration(t.elapsed_s)})` : 'not done')
        + (t.evidence ? ` · ${t.evidence}` : '')))));
  }

  /** A capability's row: its figures are redrawn with each state, its form (what the evaluator is writing)
   * is made once and kept. */
  function capabilityRow(c) {
    let entry = ratingRows.get(c.capability);
    if (!entry) {
      const select = el('select', { class: 'rating-select', 'aria-label': `rating of ${c.capability}` },
        Object.entries(RATINGS).map(([k, words]) => el('option', { value: k, title: words }, `${k} — ${words}`)));
      select.value = c.rating || c.proposed;
      const form = el('div', { class: 'rating-form' },
        select,
        el('textarea', { class: 'rating-observation', rows: 2, maxlength: 2000, placeholder: 'observation (required)' }),
        el('button', { type: 'button', class: 'rating-save', 'data-capability': c.capability }, 'Save rating'),
        el('span', { class: 'rating-status status-line', role: 'status' }));
      entry = {
        row: el('tr', { class: 'capability' }),
        name: el('td'), proposed: el('td'), tasks: el('td'), rating: el('td'), form: el('td', null, form),
      };
      entry.row.append(entry.name, entry.proposed, entry.tasks, entry.rating, entry.form);
      ratingRows.set(c.capability, entry);
    }
    const row = entry.row;
    row.setAttribute('data-capability', c.capability);
    row.setAttribute('data-proposed', c.proposed);
    row.setAttribute('data-rating', c.rating || '');
    entry.name.replaceChildren(el('b', null, c.capability), el('br'), c.name);
    entry.proposed.replaceChildren(el('span', { class: `rating r-${c.proposed}`, title: RATINGS[c.proposed] }, c.proposed),
      el('div', { class: 'reason' }, c.reason));
    entry.tasks.replaceChildren(tasksList(c));
    entry.rating.replaceChildren(...(c.rating
      ? [el('span', { class: `rating r-${c.rating}`, title: RATINGS[c.rating] }, c.rating),
        el('div', { class: 'muted' }, c.rated_by ? `by ${c.rated_by}` : ''),
        el('div', { class: 'observation' }, c.observation || '')]
      : [el('span', { class: 'muted' }, 'not rated')]));
    return row;
  }

  function renderEvaluation(s) {
    const table = $('evaluation');
    if (!table) return;
    const rows = s.evaluation.map(capabilityRow);
    const tbody = table.tBodies[0];
    const same = rows.length === tbody.children.length && rows.every((r, i) => tbody.children[i] === r);
    if (!same) tbody.replaceChildren(...rows); // rows kept: what is being written in them stays
    // the plan form's capabilities
    const select = $('plan-capability');
    const chosen = select.value;
    const ids = s.evaluation.map((c) => c.capability);
    if (ids.join('\n') !== [...select.options].map((o) => o.value).join('\n')) {
      select.replaceChildren(...s.evaluation.map((c) => el('option', { value: c.capability }, `${c.capability} — ${c.name}`)));
      if (ids.includes(chosen)) select.value = chosen;
    }
  }

  function renderPlan(s) {
    const table = $('plan');
    if (!table) return;
    const rows = s.plan.map((p) => el('tr', { 'data-item-id': p.item_id },
      el('td', { class: 'mono' }, p.item_id),
      el('td', null, p.capability),
      el('td', { class: 'text' }, p.issue),
      el('td', { class: 'text' }, p.corrective_action),
      el('td', null, p.owner),
      el('td', { class: 'mono nowrap' }, p.due),
      el('td', null, p.by),
      el('td', null, el('button', { type: 'button', class: 'plan-edit', 'data-item-id': p.item_id }, 'Edit'))));
    table.tBodies[0].replaceChildren(...rows);
    $('plan-count').textContent = String(s.plan.length);
  }

  function render(s) {
    renderClock(s);
    renderControls(s);
    renderInjects(s);
    renderActions(s);
    renderCells(s);
    renderEvaluation(s);
    renderPlan(s);
    version += 1;
    body.dataset.version = String(version);
    body.dataset.ready = '1';
  }

  // ================================================================== the state, polled
  let lastText = null;
  const polling = { timer: null, inFlight: false, again: false };

  function schedule(delay) {
    clearTimeout(polling.timer);
    polling.timer = setTimeout(poll, delay);
  }

  /** Fetch the state and redraw if it changed; again after POLL_MS (RETRY_MS after a failure). */
  async function poll() {
    if (polling.inFlight) {
      polling.again = true;
      return;
    }
    polling.inFlight = true;
    let delay = POLL_MS;
    try {
      const response = await fetch('/api/exercise/state', {
        headers: { Authorization: `Bearer ${CONFIG.token}`, Accept: 'application/json' },
      });
      if (!response.ok) {
        linkState(`no state (${await reason(response)})`, 'link-bad');
        delay = RETRY_MS;
      } else {
        const text = await response.text();
        linkState('live', 'link-ok');
        if (text !== lastText) {
          lastText = text;
          state = JSON.parse(text);
          render(state);
        }
      }
    } catch (err) {
      linkState('disconnected — retrying', 'link-bad');
      delay = RETRY_MS;
    }
    polling.inFlight = false;
    if (polling.again) {
      polling.again = false;
      delay = 0;
    }
    schedule(delay);
  }

  /** Poll at once (after an action: its effect shows without waiting for the next turn). */
  function soon() {
    if (polling.inFlight) polling.again = true;
    else schedule(0);
  }

  // ================================================================== the facilitator's controls
  function wireControls() {
    const status = $('control-status');
    const send = async (payload, button) => {
      button.disabled = true;
      say(status, `${payload.action}…`, false);
      const why = await post('/api/exercise/control', payload);
      say(status, why ? `${payload.action} refused — ${why}` : `${payload.action} sent`, Boolean(why));
      if (state) renderControls(state);
      else button.disabled = false;
      soon();
    };
    for (const action of ['start', 'pause', 'resume', 'next', 'end']) {
      const button = $(action);
      button.addEventListener('click', () => { if (!button.disabled) send({ action }, button); });
    }
    const input = $('speed-input');
    const setSpeed = () => {
      const speed = Number(input.value);
      if (!input.value || !isFinite(speed) || speed <= 0 || speed > 1000) {
        say(status, 'speed: a number above 0, at most 1000', true);
        return;
      }
      send({ action: 'speed', speed }, $('speed-set'));
    };
    $('speed-set').addEventListener('click', setSpeed);
    input.addEventListener('keydown', (event) => { if (event.key === 'Enter') setSpeed(); });
  }

  // ================================================================== the evaluators' forms
  function wireEvaluation() {
    $('evaluation').addEventListener('click', async (event) => {
      const button = event.target.closest('.rating-save');
      if (!button || button.disabled) return;
      const row = button.closest('tr.capability');
      const status = row.querySelector('.rating-status');
      const observation = row.querySelector('.rating-observation');
      const text = observation.value.trim();
      if (!text) {
        say(status, 'an observation is needed', true);
        return;
      }
      button.disabled = true;
      say(status, 'saving…', false);
      const why = await post('/api/exercise/rating', {
        capability: row.getAttribute('data-capability'), rating: row.querySelector('.rating-select').value, observation: text,
      });
      button.disabled = false;
      say(status, why ? `not saved — ${why}` : 'saved', Boolean(why));
      if (!why) observation.value = '';
      soon();
    });

    const form = $('plan-form');
    form.addEventListener('submit', (event) => event.preventDefault());
    const status = $('plan-status');
    const field = (id) => $(id).value.trim();
    const reset = () => {
      $('plan-item-id').value = '';
      $('plan-add').textContent = 'Add to plan';
      $('plan-new').hidden = true;
    };
    $('plan-new').addEventListener('click', reset);
    $('plan-add').addEventListener('click', async () => {
      const payload = {
        capability: field('plan-capability'), issue: field('plan-issue'), corrective_action: field('plan-action'),
        owner: field('plan-owner'), due: field('plan-due'),
      };
      const missing = Object.entries(payload).filter(([, v]) => !v).map(([k]) => k.replace('_', ' '));
      if (missing.length) {
        say(status, `needed: ${missing.join(', ')}`, true);
        return;
      }
      if (!/^\d{4}-\d\d-\d\d$/.test(payload.due)) {
        say(status, 'due: a date (YYYY-MM-DD)', true);
        return;
      }
      const itemId = $('plan-item-id').value;
      if (itemId) payload.item_id = itemId;
      $('plan-add').disabled = true;
      say(status, 'saving…', false);
      const why = await post('/api/exercise/plan', payload);
      $('plan-add').disabled = false;
      say(status, why ? `not saved — ${why}` : 'saved', Boolean(why));
      if (!why) {
        for (const id of ['plan-issue', 'plan-action']) $(id).value = '';
        reset();
      }
      soon();
    });
    $('plan').addEventListener('click', (event) => {
      const button = event.target.closest('.plan-edit');
      if (!button || !state) return;
      const item = state.plan.find((p) => p.item_id === button.getAttribute('data-item-id'));
      if (!item) return;
      $('plan-item-id').value = item.item_id;
      $('plan-capability').value = item.capability;
      $('plan-issue').value = item.issue;
      $('plan-action').value = item.corrective_action;
      $('plan-owner').value = item.owner;
      $('plan-due').value = item.due;
      $('plan-add').textContent = `Replace ${item.item_id}`;
      $('plan-new').hidden = false;
      $('plan-issue').focus();
    });
  }

  // ================================================================== start
  window.mwx = {
    state: () => state,
    get version() { return version; },
  };

  if (CONFIG.role === 'white') wireControls();
  if (CONFIG.role === 'eval') wireEvaluation();
  poll();
})();
