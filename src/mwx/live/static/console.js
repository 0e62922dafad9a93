/* mwx live console: one partner's picture on a vector map, its alerts, launch events and exchange health.
 *
 * Plain ES2020, no build step, no framework; Leaflet 1.9.4 (vendored) draws the map with SVG.
 *
 * Data (all JSON bodies are the msgspec structs of mwx/live/updates.py; times are ISO 8601 strings):
 *   GET  /api/{partner}/picture[?at=ISO]  -> Snapshot (the picture now, or at a scenario time: replay)
 *   GET  /api/{partner}/stream?after=SEQ  -> server-sent events "updates", each an UpdateBatch (live)
 *   POST /api/{partner}/ack {"msg_id"}    -> 202 (an operator acknowledges a partner's alert change)
 *
 * The picture is reduced from the updates with exactly the rule of mwx.live.picture.reduce:
 *   - tracks keyed "kind/source/track_id": latest state, trail of every position appended; a track is
 *     shown while (now - state.time) <= setup.stale_s, now = the replay instant, else the latest
 *     ClockUpdate's time, else the newest update's time;
 *   - alerts keyed (owner, alert_id): every change and every acknowledgement (an ack of an unknown alert
 *     is dropped); the alert's reason is its latest change's;
 *   - launch events keyed by event_id: the latest report; the latest health and clock.
 * Updates change the model at once; drawing is coalesced into one animation frame, and Leaflet layers are
 * updated in place.
 *
 * DOM contract (tests rely on it):
 *   body.dataset.seq         highest update seq applied (live) or the snapshot's seq (replay)
 *   body.dataset.ready       "1" once the first snapshot is drawn
 *   body.dataset.trackCount  number of tracks drawn
 *   path[data-track-key]     each drawn track's trail
 *   [data-owner][data-alert-id][data-status][data-acked-by]  one element per alert; .ack-button inside
 *   #clock, #replay-slider, #replay-play
 *   window.mwx = {latencies, applied, trackKeys(), alertStates(), notes(), injects()}
 *
 * An exercise (setup.mode "exercise", issue 17) adds the cell's panel #exercise-panel, fed by the same snapshots
 * and pushed updates (inject, note, warning, answer), and posts the cell's actions:
 *   POST /api/{partner}/note    {act, topic, text, to, in_reply_to?}    POST /api/{partner}/answer {inject_id, text}
 *   POST /api/{partner}/warning {status, area, text, warning_id?}
 *   .inject[data-inject-id][data-kind] in #inject-list, newest first; a question's [data-answered="false|true"]
 *     with .answer-text + .answer-send (+ .answer-status) until answered, then its .answer s
 *   #notes .note[data-msg-id][data-act][data-sender][data-own="true|false"], newest first, each with .note-reply
 *   compose: #note-act, #note-topic (+ datalist #note-topics), #note-to input[type=checkbox][value=PARTNER] (none
 *     ticked: every partner), #note-reply-to, #note-text, #note-send, #note-status
 *   #launch-list .launch: .confirm-launch / .dispute-launch (a note, act confirm/dispute, topic the event id)
 *   #warning-area (the cell's own protected areas), #warning-text, #warning-draft, #warning-issue,
 *     #warning-all-clear, #warning-status; #warnings .warning[data-warning-id][data-status], each with
 *     .warning-edit (the warning the buttons then change) unless it ended
 *   window.mwx.notes() -> [{msgId, act, sender, text}] as they came; window.mwx.injects() -> inject ids as they came
 */
'use strict';

(function () {
  // ================================================================== configuration
  const body = document.body;
  const CONFIG = Object.freeze({
    partner: body.dataset.partner || '',
    token: body.dataset.token || '',
    mode: body.dataset.mode === 'replay' ? 'replay' : 'live',
    exercise: body.dataset.mode === 'exercise', // a live picture with the exercise's panel
    static: body.dataset.static || '/static',
  });
  delete body.dataset.token; // kept in this closure only, not left in the DOM

  const API = `/api/${encodeURIComponent(CONFIG.partner)}`;
  const PARTNER_COLOURS = { KR: '#2f8fe0', JP: '#e2453f', US: '#3bb44a' };
  const OTHER_COLOUR = '#a0a8b4';
  const ENDED = new Set(['ended', 'cancelled', 'track-lost']);
  const RETRY_MS = 2000; // wait before fetching the picture again, or reopening a closed stream
  const REPLAY_TICK_MS = 250; // replay playback step (wall clock)
  const TIP_POINTS = 48; // newest points of a trail drawn apart from the rest (cheap to redraw)

  // How each kind of track is drawn: own solid, a partner's dashed, the fused system track thick and hollow.
  const TRACK_STYLE = {
    own: { weight: 2, opacity: 0.95, dash: null, radius: 4.5, fill: true, headWeight: 1.2 },
    partner: { weight: 2, opacity: 0.9, dash: '6 5', radius: 4, fill: true, headWeight: 1 },
    system: { weight: 5, opacity: 0.42, dash: null, radius: 8, fill: false, headWeight: 2.5 },
  };

  /** The colour of a partner (grey for anyone else). */
  function colourOf(partner) {
    return PARTNER_COLOURS[partner] || OTHER_COLOUR;
  }

  // ================================================================== time and number formatting
  const { ms, hms } = window.mwxTime; // time.js

  /** "2022-10-03" of Unix milliseconds. */
  function ymd(t) {
    return t == null || !isFinite(t) ? '' : new Date(t).toISOString().slice(0, 10);
  }

  /** A number with `digits` decimals ("—" for null). */
  function num(x, digits = 0) {
    return x == null || !isFinite(x) ? '—' : Number(x).toFixed(digits);
  }

  /** "40.61°N 126.43°E" of a point. */
  function latlon(lat, lon) {
    if (lat == null || lon == null) return '—';
    return `${Math.abs(lat).toFixed(2)}°${lat >= 0 ? 'N' : 'S'} ${Math.abs(lon).toFixed(2)}°${lon >= 0 ? 'E' : 'W'}`;
  }

  /** "a × b km" of a 95 % ellipse. */
  function ellipse(e) {
    return e ? `${num(e.semi_major_km, 1)} × ${num(e.semi_minor_km, 1)} km @ ${num(e.orientation_deg)}°` : '—';
  }

  // ================================================================== DOM helpers
  /** An HTML element with attributes (null/false left out) and children (strings become text: no HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children.flat(Infinity)) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** An SVG element with attributes. */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setAttrs(node, attrs);
    for (const child of children.flat(Infinity)) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [name, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }

  const $ = (id) => document.getElementById(id);

  // ================================================================== the model: the picture, reduced
  const model = {
    setup: null,
    seq: 0, // highest update seq applied (or the snapshot's)
    clock: null, // the latest ClockUpdate
    latestMs: null, // the newest update's time
    atMs: null, // replay: the instant the snapshot was taken at (the stale rule's "now")
    tracks: new Map(), // key -> {state, t (state time ms), trail: [[lon, lat]], epoch, firstMs}
    alerts: new Map(), // "owner/alert_id" -> {owner, alert_id, area, area_kind, reason, launch_id, changes, acks}
    launches: new Map(), // event_id -> LaunchUpdate
    health: null, // the latest HealthUpdate
    // an exercise's, in the order they came: inject_id -> InjectUpdate, msg_id -> NoteUpdate,
    // warning_id -> the latest WarningUpdate, inject_id -> [AnswerUpdate]
    injects: new Map(),
    notes: new Map(),
    warnings: new Map(),
    answers: new Map(),
    epoch: 0, // bumped whenever the model is rebuilt from a snapshot (trails must be redrawn whole)
  };

  /** Key moments for the timeline: key -> {t, kind, text, colour}. */
  const moments = new Map();
  /** Acknowledgements this page sent and not yet seen come back: msg_id -> "sending" | "sent" | error text. */
  const pendingAcks = new Map();

  /** What has changed since the last frame was drawn. */
  const dirty = {
    tracks: new Set(), alerts: new Set(), all: false, launches: false, health: false, timeline: false, exercise: false,
  };

  /** A track's key: "kind/source/track_id" (as TrackUpdate.key in Python). */
  function trackKey(u) {
    return `${u.kind}/${u.source}/${u.track_id}`;
  }

  /** An alert's key in the model. */
  function alertKey(owner, alertId) {
    return `${owner}/${alertId}`;
  }

  /** The stale rule's "now" (ms): the replay instant, else the latest clock, else the newest update. */
  function nowMs() {
    if (model.atMs != null) return model.atMs;
    if (model.clock) return ms(model.clock.time);
    return model.latestMs;
  }

  /** Apply one update to the model (the rule of picture.reduce). */
  function applyUpdate(u) {
    const t = ms(u.time);
    if (model.latestMs == null || t > model.latestMs) model.latestMs = t;
    switch (u.type) {
      case 'track': {
        const key = trackKey(u);
        let track = model.tracks.get(key);
        if (!track) {
          track = { state: u, t, trail: [[u.lon, u.lat]], epoch: model.epoch, firstMs: t };
          model.tracks.set(key, track);
        } else {
          track.state = u;
          track.t = t;
          track.trail.push([u.lon, u.lat]);
        }
        noteTrack(track);
        dirty.tracks.add(key);
        break;
      }
      case 'alert': {
        const key = alertKey(u.owner, u.alert_id);
        let alert = model.alerts.get(key);
        if (!alert) {
          alert = {
            owner: u.owner, alert_id: u.alert_id, area: u.area, area_kind: u.area_kind ?? null,
            reason: u.reason, launch_id: u.launch_id ?? null, changes: [], acks: [],
          };
          model.alerts.set(key, alert);
        }
        alert.changes.push(u);
        alert.reason = u.reason;
        noteAlertChange(u);
        dirty.alerts.add(key);
        break;
      }
      case 'ack': {
        const key = alertKey(u.owner, u.alert_id);
        const alert = model.alerts.get(key);
        if (alert) {
          alert.acks.push(u);
          dirty.alerts.add(key);
        }
        if (u.by === CONFIG.partner) pendingAcks.delete(u.msg_id);
        break;
      }
      case 'launch':
        model.launches.set(u.event_id, u);
        noteLaunch(u);
        dirty.launches = true;
        break;
      case 'health':
        model.health = u;
        dirty.health = true;
        break;
      case 'clock':
        if (model.clock && model.clock.state !== u.state) dirty.all = true; // e.g. finished: no more acks
        model.clock = u;
        break;
      case 'inject':
        model.injects.set(u.inject_id, u);
        dirty.exercise = true;
        break;
      case 'note':
        model.notes.set(u.msg_id, u);
        dirty.exercise = true;
        if (u.own && (u.act === 'confirm' || u.act === 'dispute')) dirty.launches = true;
        break;
      case 'warning':
        model.warnings.delete(u.warning_id); // re-inserted: the map stays in the order of the latest changes
        model.warnings.set(u.warning_id, u);
        dirty.exercise = true;
        break;
      case 'answer':
        if (!model.answers.has(u.inject_id)) model.answers.set(u.inject_id, []);
        model.answers.get(u.inject_id).push(u);
        dirty.exercise = true;
        break;
      default:
        break; // a kind this page does not know: nothing to draw
    }
  }

  /** Rebuild the model from a Snapshot (the first picture; every replay instant). */
  function applySnapshot(snap, atMs) {
    model.setup = snap.setup;
    model.seq = snap.seq;
    model.clock = snap.clock || null;
    model.atMs = atMs;
    model.epoch += 1;
    model.tracks.clear();
    model.alerts.clear();
    model.launches.clear();
    model.health = snap.health || null;
    let latest = ms(snap.time);
    const later = (t) => { if (t != null && (latest == null || t > latest)) latest = t; };
    for (const view of snap.tracks) {
      const u = view.state;
      const t = ms(u.time);
      later(t);
      model.tracks.set(trackKey(u), { state: u, t, trail: view.trail.slice(), epoch: model.epoch, firstMs: null });
    }
    for (const a of snap.alerts) {
      model.alerts.set(alertKey(a.owner, a.alert_id), {
        owner: a.owner, alert_id: a.alert_id, area: a.area, area_kind: a.area_kind ?? null, reason: a.reason,
        launch_id: a.launch_id ?? null, changes: a.changes.slice(), acks: a.acks.slice(),
      });
      for (const c of a.changes) later(ms(c.time));
      for (const k of a.acks) {
        later(ms(k.time));
        if (k.by === CONFIG.partner) pendingAcks.delete(k.msg_id);
      }
    }
    for (const l of snap.launches) {
      later(ms(l.time));
      model.launches.set(l.event_id, l);
    }
    if (model.health) later(ms(model.health.time));
    if (model.clock) later(ms(model.clock.time));
    model.injects.clear();
    model.notes.clear();
    model.warnings.clear();
    model.answers.clear();
    for (const u of snap.injects || []) model.injects.set(u.inject_id, u);
    for (const u of snap.notes || []) model.notes.set(u.msg_id, u);
    for (const u of (snap.warnings || []).slice().sort((a, b) => a.seq - b.seq)) model.warnings.set(u.warning_id, u);
    for (const u of snap.answers || []) {
      if (!model.answers.has(u.inject_id)) model.answers.set(u.inject_id, []);
      model.answers.get(u.inject_id).push(u);
    }
    for (const list of [snap.injects, snap.notes, snap.warnings, snap.answers]) for (const u of list || []) later(ms(u.time));
    model.latestMs = latest;
    dirty.all = true;
    dirty.exercise = true;
    dirty.launches = dirty.health = dirty.timeline = true;
  }

  // ================================================================== timeline moments
  /** Add or move a key moment. */
  function moment(key, t, kind, text, colour) {
    if (t == null || !isFinite(t)) return;
    const old = moments.get(key);
    if (old && old.t === t && old.text === text) return;
    moments.set(key, { t, kind, text, colour });
    dirty.timeline = true;
  }

  /** What a snapshot already held: its first track and its launch events' first tracks are not moments this
   * page saw (it cannot tell when they came). */
  const seenBefore = { anything: false, launches: new Set() };

  /** The first track of the picture, and the first track of each launch event (as this page saw them come). */
  function noteTrack(track) {
    if (track.firstMs == null) return;
    const s = track.state;
    if (!seenBefore.anything && !moments.has('track/first')) {
      moment('track/first', track.firstMs, 'track', `first track ${trackKey(s)}`, colourOf(s.source));
    }
    if (s.launch_id && !seenBefore.launches.has(s.launch_id) && !moments.has(`track/${s.launch_id}`)) {
      moment(`track/${s.launch_id}`, track.firstMs, 'track', `first track of ${s.launch_id}: ${trackKey(s)}`,
        colourOf(s.source));
    }
  }

  /** An alert's issue and its end (cancelled, ended, track lost) are key moments; updates are not. */
  function noteAlertChange(u) {
    const c = u.change;
    if (c.status === 'updated') return;
    const n = u.change_number != null ? u.change_number : c.time;
    const level = c.level ? ` ${c.level}` : '';
    moment(`alert/${u.owner}/${u.alert_id}/${n}`, ms(c.time), ENDED.has(c.status) ? 'alert-end' : 'alert',
      `${u.owner} alert ${u.alert_id} ${c.status}${level} — ${u.area} (${c.reason || u.reason})`, colourOf(u.owner));
  }

  /** A launch event's (estimated) launch time. */
  function noteLaunch(u) {
    const r = u.report;
    moment(`launch/${u.event_id}`, ms(r.launch_time), 'launch',
      `launch ${u.event_id} (${r.class}) from ${latlon(r.launch_point.lat, r.launch_point.lon)}`, '#ffffff');
  }

  /** Moments of a whole snapshot (alerts' changes, launch events). */
  function noteSnapshot(snap) {
    if (snap.tracks.length || snap.alerts.length || snap.launches.length) seenBefore.anything = true;
    for (const view of snap.tracks) if (view.state.launch_id) seenBefore.launches.add(view.state.launch_id);
    for (const a of snap.alerts) for (const c of a.changes) noteAlertChange(c);
    for (const l of snap.launches) noteLaunch(l);
  }

  // ================================================================== the map
  let map = null;
  let refLon = 140; // longitudes are drawn continuously around this one (the window's middle)
  const groups = {}; // overlay layer groups by name
  const drawn = new Map(); // track key -> drawn layers
  const launchMarks = new Map(); // event_id -> {launch, impact}
  const alertAreas = new Map(); // alert key -> polygon

  /** The longitude equal to `lon` modulo 360 nearest to `ref`. */
  function near(lon, ref) {
    return lon + 360 * Math.round((ref - lon) / 360);
  }

  /** Leaflet [lat, lon] pairs of a [lon, lat] path, continuous in longitude, starting near `ref`. */
  function pathLatLngs(coords, ref = refLon) {
    const out = new Array(coords.length);
    let r = ref;
    for (let i = 0; i < coords.length; i++) {
      const lon = near(coords[i][0], r);
      out[i] = [coords[i][1], lon];
      r = lon;
    }
    return out;
  }

  /** Leaflet multi-polygon latlngs of an outline's rings: each ring its own polygon (not a hole). */
  function ringsLatLngs(rings) {
    return (rings || []).filter((r) => r.length >= 3).map((r) => [pathLatLngs(r)]);
  }

  /** A point's Leaflet [lat, lon], continuous with the window. */
  function pointLatLng(lat, lon, ref = refLon) {
    return [lat, near(lon, ref)];
  }

  /** Create the map, its panes (drawing order), overlays, layer control and legend. */
  function initMap() {
    map = L.map('map', {
      renderer: L.svg({ padding: 0.3 }),
      preferCanvas: false,
      zoomSnap: 0.25,
      worldCopyJump: false,
      attributionControl: true,
      minZoom: 2,
    });
    map.attributionControl.setPrefix('Leaflet');
    map.attributionControl.addAttribution('Natural Earth (public domain)');
    const panes = [
      ['land', 250], ['areas', 380], ['coverage', 385], ['alertAreas', 400], ['impacts', 410],
      ['uncertainty', 420], ['trails', 430], ['events', 440], ['heads', 450],
    ];
    for (const [name, z] of panes) map.createPane(name).style.zIndex = String(z);
    map.getPane('land').style.pointerEvents = 'none';

    const names = {
      own: 'Own tracks', partner: 'Partner tracks', system: 'System tracks', uncertainty: 'Track uncertainty (95 %)',
      impacts: 'Predicted impacts', alertAreas: 'Alert areas', launches: 'Launch events', sensors: 'Sensors',
      coverage: 'Sensor coverage', areas: 'Protected areas', borders: 'Borders',
    };
    const overlays = {};
    for (const [key, label] of Object.entries(names)) {
      groups[key] = L.layerGroup().addTo(map);
      overlays[label] = groups[key];
    }
    L.control.layers(null, overlays, { collapsed: false, position: 'topright' }).addTo(map);
    legend().addTo(map);
    map.setView([35, 135], 4);
  }

  /** The legend: track styles and partner colours. */
  function legend() {
    const control = L.control({ position: 'bottomleft' });
    control.onAdd = () => {
      const sample = (style) => svg('svg', { width: 34, height: 12 },
        svg('line', {
          x1: 2, y1: 6, x2: 22, y2: 6, stroke: '#d9e1ea', 'stroke-width': Math.min(style.weight, 4),
          'stroke-opacity': Math.max(style.opacity, 0.6), 'stroke-dasharray': style.dash,
        }),
        svg('circle', {
          cx: 27, cy: 6, r: Math.min(style.radius, 5), fill: style.fill ? '#d9e1ea' : 'none', stroke: '#d9e1ea',
          'stroke-width': style.fill ? 1 : 2,
        }));
      const swatches = Object.entries(PARTNER_COLOURS).map(([p, c]) => [el('span', { class: 'sw', style: `background:${c}` }), p]);
      return el('div', { class: 'legend' },
        el('div', null, sample(TRACK_STYLE.own), 'own track'),
        el('div', null, sample(TRACK_STYLE.partner), 'partner track (received)'),
        el('div', null, sample(TRACK_STYLE.system), 'system track (fused)'),
        el('div', null, swatches));
    };
    return control;
  }

  /** Fetch and draw the land and borders (a failure leaves the sea: the picture is still drawn). */
  async function loadLand() {
    try {
      const response = await fetch(`${CONFIG.static}/map/theater-50m.geojson`);
      if (!response.ok) return;
      const data = await response.json();
      const land = data.features.filter((f) => f.properties.layer === 'land');
      const borders = data.features.filter((f) => f.properties.layer === 'borders');
      L.geoJSON(land, {
        pane: 'land', interactive: false,
        style: { color: '#3b4a5c', weight: 0.8, fillColor: '#1b2632', fillOpacity: 1 },
      }).addTo(map);
      L.geoJSON(borders, {
        pane: 'land', interactive: false, style: { color: '#55657a', weight: 0.8, dashArray: '3 3' },
      }).addTo(groups.borders);
    } catch (err) {
      showNote('map background unavailable');
    }
  }

  /** The map window of a setup: its bounds, unless they wrap the globe; then its sensors' coverage and those
   * of its protected areas that are not themselves spread around the globe (else a fixed theater window). */
  function windowOf(setup) {
    const [w, s, e, n] = setup.bounds;
    if (e - w <= 200) return [[s, w], [n, e]];
    const pts = [];
    for (const sensor of setup.sensors) {
      if (sensor.lat != null) pts.push(pointLatLng(sensor.lat, sensor.lon, 135));
      if (sensor.coverage) for (const ring of ringsLatLngs(sensor.coverage.rings)) for (const p of ring[0]) pts.push(p);
    }
    for (const area of setup.areas) {
      const ll = area.outline.rings.filter((r) => r.length >= 3).flatMap((r) => pathLatLngs(r, 135));
      let west = Infinity;
      let east = -Infinity;
      for (const p of ll) {
        west = Math.min(west, p[1]);
        east = Math.max(east, p[1]);
      }
      if (ll.length && east - west <= 60) for (const p of ll) pts.push(p);
    }
    if (pts.length) return L.latLngBounds(pts).pad(0.05);
    return [[10, 110], [55, 165]];
  }

  /** Draw what does not change: sensors, their coverage, protected areas; fit the window. */
  function drawSetup(setup) {
    const bounds = L.latLngBounds(windowOf(setup));
    refLon = bounds.getCenter().lng;
    map.fitBounds(bounds, { padding: [10, 10] });
    for (const area of setup.areas) {
      const territory = area.kind === 'territory';
      L.polygon(ringsLatLngs(area.outline.rings), {
        pane: 'areas', interactive: false, color: colourOf(area.partner), weight: territory ? 1.3 : 1,
        opacity: territory ? 0.55 : 0.4, dashArray: territory ? null : '6 6', fill: territory,
        fillOpacity: 0.05, fillRule: 'nonzero',
      }).addTo(groups.areas);
    }
    for (const sensor of setup.sensors) {
      const colour = colourOf(sensor.partner);
      if (sensor.coverage) {
        L.polygon(ringsLatLngs(sensor.coverage.rings), {
          pane: 'coverage', interactive: false, color: colour, weight: 1, opacity: 0.45, dashArray: '2 5',
          fillColor: colour, fillOpacity: 0.03, fillRule: 'nonzero',
        }).addTo(groups.coverage);
      }
      if (sensor.lat != null && sensor.lon != null) {
        L.circleMarker(pointLatLng(sensor.lat, sensor.lon), {
          pane: 'heads', radius: 4, color: '#ffffff', weight: 1.5, fillColor: colour, fillOpacity: 1,
        }).bindTooltip(textTip(`${sensor.name}\n${sensor.partner} ${sensor.kind}`), { direction: 'top' }).addTo(groups.sensors);
      }
    }
    $('scenario-name').textContent = `${setup.scenario} · ${setup.mode}`;
  }

  /** A small note over the map (top centre). */
  function showNote(text) {
    const note = L.control({ position: 'topleft' });
    note.onAdd = () => el('div', { class: 'map-note' }, text);
    note.addTo(map);
  }

  // ------------------------------------------------------------------ tracks on the map
  /** The words of a track's tooltip. */
  function describeTrack(key) {
    const track = model.tracks.get(key);
    if (!track) return key;
    const s = track.state;
    const lines = [
      key,
      `${hms(track.t)}  alt ${num(s.alt_km, 1)} km`,
      `${num(s.speed_mps)} m/s  hdg ${num(s.heading_deg)}°${s.boosting ? '  BOOSTING' : ''}`,
    ];
    if (s.launch_id) lines.push(`launch event ${s.launch_id}`);
    if (s.members && s.members.length) lines.push(`members ${s.members.join(', ')}`);
    if (s.impact) {
      const i = s.impact;
      lines.push(`impact ${hms(ms(i.time))} at ${latlon(i.point.lat, i.point.lon)}`);
      lines.push(`  95 % ${ellipse(i.ellipse_95)}`);
    }
    return lines.join('\n');
  }

  /** Mark a trail's SVG path with its key (again each time Leaflet makes the path: on every add). */
  function tagTrail(layer, key) {
    const element = layer.getElement();
    if (element) {
      element.setAttribute('data-track-key', key);
      element.setAttribute('data-track-kind', key.split('/', 1)[0]);
    }
  }

  /** Draw a track that has come into the picture. */
  function createTrack(key, track) {
    const s = track.state;
    const style = TRACK_STYLE[s.kind] || TRACK_STYLE.own;
    const colour = colourOf(s.source);
    const group = groups[s.kind] || groups.own;
    const d = { key, kind: s.kind, colour, group, epoch: -1, ll: [], settled: 0, boosting: null, unc: null,
      impactArea: null, impactPoint: null };
    d.trail = L.polyline([], {
      pane: 'trails', interactive: false, color: colour, weight: style.weight, opacity: style.opacity,
      dashArray: style.dash, lineCap: 'round', lineJoin: 'round',
    });
    d.trail.on('add', () => tagTrail(d.trail, key));
    d.tip = L.polyline([], { ...d.trail.options });
    d.tip.on('add', () => { const e = d.tip.getElement(); if (e) e.setAttribute('data-track-tip', key); });
    d.head = L.circleMarker([s.lat, s.lon], {
      pane: 'heads', radius: style.radius, color: style.fill ? '#0c1117' : colour, weight: style.headWeight,
      fill: style.fill, fillColor: colour, fillOpacity: 1,
    }).bindTooltip(() => textTip(describeTrack(key)), { direction: 'top', offset: [0, -6] });
    updateTrack(d, track);
    group.addLayer(d.trail);
    group.addLayer(d.tip);
    group.addLayer(d.head);
    return d;
  }

  /** Draw the whole trail as its settled part (the tip then holds only the newest point). */
  function settleTrail(d) {
    d.settled = d.ll.length;
    d.trail.setLatLngs(d.ll);
    d.tip.setLatLngs(d.ll.slice(-1));
  }

  /** Bring a drawn track's layers up to its latest state (in place).  A trail is two polylines: the settled
   * part (carrying data-track-key) and the tip of the newest points, so that a new point re-projects the
   * tip's few points only, and the settled part once every TIP_POINTS points. */
  function updateTrack(d, track) {
    const s = track.state;
    // the trail: extend it, or (a new snapshot) draw it whole
    if (d.epoch !== track.epoch || track.trail.length < d.ll.length) {
      d.ll = pathLatLngs(track.trail);
      d.epoch = track.epoch;
      settleTrail(d);
    } else if (track.trail.length > d.ll.length) {
      let ref = d.ll.length ? d.ll[d.ll.length - 1][1] : refLon;
      for (let i = d.ll.length; i < track.trail.length; i++) {
        const lon = near(track.trail[i][0], ref);
        d.ll.push([track.trail[i][1], lon]);
        ref = lon;
      }
      if (d.ll.length - d.settled > TIP_POINTS) settleTrail(d);
      else d.tip.setLatLngs(d.ll.slice(Math.max(d.settled - 1, 0)));
    }
    const last = d.ll.length ? d.ll[d.ll.length - 1][1] : refLon;
    d.head.setLatLng(pointLatLng(s.lat, s.lon, last));
    if (d.boosting !== s.boosting) {
      d.boosting = s.boosting;
      const style = TRACK_STYLE[s.kind] || TRACK_STYLE.own;
      if (style.fill) d.head.setStyle({ color: s.boosting ? '#ffffff' : '#0c1117', weight: s.boosting ? 2 : style.headWeight });
    }
    // the 95 % uncertainty outline
    if (s.uncertainty && s.uncertainty.rings.length) {
      const ll = s.uncertainty.rings.map((r) => [pathLatLngs(r, last)]);
      if (d.unc) d.unc.setLatLngs(ll);
      else {
        d.unc = L.polygon(ll, {
          pane: 'uncertainty', interactive: false, color: d.colour, weight: 1, opacity: 0.75,
          fillColor: d.colour, fillOpacity: 0.1, fillRule: 'nonzero',
        }).addTo(groups.uncertainty);
      }
    } else if (d.unc) {
      groups.uncertainty.removeLayer(d.unc);
      d.unc = null;
    }
    // the predicted impact: its 95 % region and mean point
    if (s.impact) {
      const ll = ringsLatLngs(s.impact.outline.rings);
      const point = pointLatLng(s.impact.point.lat, s.impact.point.lon);
      if (d.impactArea) {
        d.impactArea.setLatLngs(ll);
        d.impactPoint.setLatLng(point);
      } else {
        d.impactArea = L.polygon(ll, {
          pane: 'impacts', interactive: false, color: d.colour, weight: 1.5, opacity: 0.95, dashArray: '4 3',
          fillColor: d.colour, fillOpacity: 0.16, fillRule: 'nonzero',
        }).addTo(groups.impacts);
        d.impactPoint = L.circleMarker(point, {
          pane: 'events', radius: 3.5, color: '#ffffff', weight: 1.5, fillColor: d.colour, fillOpacity: 1,
        }).bindTooltip(() => textTip(`predicted impact\n${describeTrack(d.key)}`), { direction: 'top' }).addTo(groups.impacts);
      }
    } else if (d.impactArea) {
      groups.impacts.removeLayer(d.impactArea);
      groups.impacts.removeLayer(d.impactPoint);
      d.impactArea = d.impactPoint = null;
    }
  }

  /** Take a track that left the picture off the map. */
  function removeTrack(d) {
    d.group.removeLayer(d.trail);
    d.group.removeLayer(d.tip);
    d.group.removeLayer(d.head);
    if (d.unc) groups.uncertainty.removeLayer(d.unc);
    if (d.impactArea) {
      groups.impacts.removeLayer(d.impactArea);
      groups.impacts.removeLayer(d.impactPoint);
    }
  }

  /** Draw the tracks in the picture at "now" (the stale rule), updating the changed ones in place. */
  function renderTracks() {
    const now = nowMs();
    const staleMs = (model.setup ? model.setup.stale_s : Infinity) * 1000;
    const shown = new Set();
    for (const [key, track] of model.tracks) {
      if (now == null || now - track.t <= staleMs) shown.add(key);
    }
    for (const [key, d] of drawn) {
      if (!shown.has(key)) {
        removeTrack(d);
        drawn.delete(key);
      }
    }
    for (const key of shown) {
      const track = model.tracks.get(key);
      const d = drawn.get(key);
      if (!d) drawn.set(key, createTrack(key, track));
      else if (dirty.all || dirty.tracks.has(key)) updateTrack(d, track);
    }
  }

  // ------------------------------------------------------------------ alert areas and launch events on the map
  /** The latest change of an alert that carries an area (null if none does). */
  function drawnChange(alert) {
    for (let i = alert.changes.length - 1; i >= 0; i--) {
      if (alert.changes[i].change.alert_area) return alert.changes[i];
    }
    return null;
  }

  /** Draw an alert's area: the owner's colour, filled by level; grey once the alert is over. */
  function renderAlertArea(key, alert) {
    const change = drawnChange(alert);
    const old = alertAreas.get(key);
    if (!change) {
      if (old) groups.alertAreas.removeLayer(old);
      alertAreas.delete(key);
      return;
    }
    const latest = alert.changes[alert.changes.length - 1].change;
    const over = ENDED.has(latest.status);
    const advisory = latest.level === 'advisory';
    const style = over
      ? { color: '#6b7280', weight: 1, opacity: 0.6, dashArray: '4 4', fillColor: '#6b7280', fillOpacity: 0.04 }
      : { color: colourOf(alert.owner), weight: 2, opacity: 0.95, dashArray: advisory ? '6 4' : null,
        fillColor: advisory ? '#f2c94c' : '#ff7a1a', fillOpacity: advisory ? 0.14 : 0.24 };
    const ll = ringsLatLngs(change.change.alert_area);
    if (old) {
      old.setLatLngs(ll);
      old.setStyle(style);
    } else {
      const polygon = L.polygon(ll, { pane: 'alertAreas', fillRule: 'nonzero', ...style })
        .bindTooltip(() => textTip(alertTooltip(key)), { sticky: true });
      alertAreas.set(key, polygon.addTo(groups.alertAreas));
    }
  }

  function alertTooltip(key) {
    const a = model.alerts.get(key);
    if (!a) return key;
    const c = a.changes[a.changes.length - 1].change;
    return `${a.owner} alert ${a.alert_id}: ${c.status}${c.level ? ' ' + c.level : ''}\n${a.area} (${a.reason})`;
  }

  /** Draw each launch event's estimated launch point and impact point. */
  function renderLaunchMarks() {
    for (const [id, marks] of launchMarks) {
      if (!model.launches.has(id)) {
        groups.launches.removeLayer(marks.launch);
        groups.launches.removeLayer(marks.impact);
        launchMarks.delete(id);
      }
    }
    for (const [id, u] of model.launches) {
      const r = u.report;
      const at = pointLatLng(r.launch_point.lat, r.launch_point.lon);
      const to = pointLatLng(r.impact_point.lat, r.impact_point.lon);
      let marks = launchMarks.get(id);
      if (!marks) {
        marks = {
          launch: L.circleMarker(at, { pane: 'events', radius: 6, color: '#ffffff', weight: 2, fillColor: '#111', fillOpacity: 1 })
            .bindTooltip(() => textTip(`launch event ${id} (estimated launch point)`), { direction: 'top' }),
          impact: L.circleMarker(to, { pane: 'events', radius: 6, color: '#ffffff', weight: 2, dashArray: '2 2', fill: false })
            .bindTooltip(() => textTip(`launch event ${id} (estimated impact point)`), { direction: 'top' }),
        };
        groups.launches.addLayer(marks.launch);
        groups.launches.addLayer(marks.impact);
        launchMarks.set(id, marks);
      } else {
        marks.launch.setLatLng(at);
        marks.impact.setLatLng(to);
      }
    }
  }

  // ================================================================== the alert panel
  /** Whether acknowledgement `ack` (of the same alert) is of change `u`: the same change number, or the
   * envelope `u` came in. */
  function acknowledges(ack, u) {
    if ((ack.change_number ?? null) === (u.change_number ?? null)) return true;
    return u.msg_id != null && ack.msg_id === u.msg_id;
  }

  /** The partners who acknowledged an alert's latest change (sorted). */
  function ackedBy(alert) {
    const latest = alert.changes[alert.changes.length - 1];
    return [...new Set(alert.acks.filter((a) => acknowledges(a, latest)).map((a) => a.by))].sort();
  }

  /** The panel's element of one alert (attributes per the DOM contract). */
  function alertRow(key, alert) {
    const latestUpdate = alert.changes[alert.changes.length - 1];
    const latest = latestUpdate.change;
    const acked = ackedBy(alert);
    const level = latest.level ? `level-${latest.level}` : '';
    const row = el('article', {
      class: `alert ${level}`, 'data-owner': alert.owner, 'data-alert-id': alert.alert_id, 'data-status': latest.status,
      'data-acked-by': acked.join(' '), 'data-key': key,
    });
    row.append(el('div', { class: 'alert-head' },
      el('span', { class: 'partner-badge small', 'data-partner': alert.owner }, alert.owner),
      el('span', { class: 'area' }, alert.area),
      el('span', { class: `status ${latest.status} ${level}` }, latest.status + (latest.level ? ` · ${latest.level}` : '')),
      el('span', { class: 'reason' }, alert.reason + (alert.area_kind ? ` · ${alert.area_kind}` : '')),
      el('span', { class: 'id' }, alert.alert_id + (alert.launch_id ? ` · ${alert.launch_id}` : ''))));

    const rows = alert.changes.map((u) => {
      const c = u.change;
      const detail = [];
      if (c.impact_time) detail.push(`impact ${hms(ms(c.impact_time))}`);
      if (c.crossing_time) detail.push(`crossing ${hms(ms(c.crossing_time))}`);
      if (c.probability != null) detail.push(`p ${num(c.probability, 2)}`);
      return el('tr', null,
        el('td', { class: 't' }, hms(ms(c.time))),
        el('td', { class: 's' }, c.status),
        el('td', null, c.level || ''),
        el('td', null, c.reason || ''),
        el('td', { class: 'why' }, [...detail, ...(c.why || [])].join('; ')));
    });
    row.append(el('table', { class: 'changes' }, el('tbody', null, rows)));

    const acks = el('div', { class: 'acks' });
    if (alert.acks.length) {
      acks.append('acknowledged: ', ...alert.acks.map((a, i) => el('span', { class: acknowledges(a, latestUpdate) ? 'acked' : '' },
        `${i ? ', ' : ''}${a.by}${a.change_number != null ? ` #${a.change_number}` : ''} ${hms(ms(a.time))}`)));
    } else {
      acks.append(alert.owner === CONFIG.partner ? 'not acknowledged by partners yet' : 'not acknowledged');
    }
    const mine = alert.acks.some((a) => a.by === CONFIG.partner && acknowledges(a, latestUpdate));
    const over = model.clock != null && model.clock.state === 'finished'; // the run is over: no one to carry it out
    if (CONFIG.mode === 'live' && !over && alert.owner !== CONFIG.partner && latestUpdate.msg_id && !mine) {
      const pending = pendingAcks.get(latestUpdate.msg_id);
      const button = el('button', {
        type: 'button', class: 'ack-button', 'data-msg-id': latestUpdate.msg_id,
        disabled: pending === 'sending' || pending === 'sent',
      }, pending === 'sending' ? 'Sending…' : pending === 'sent' ? 'Sent' : 'Acknowledge');
      if (pending && pending !== 'sending' && pending !== 'sent') acks.append(el('span', { class: 'ack-error' }, pending));
      acks.append(button);
    }
    row.append(acks);
    return row;
  }

  /** The panel's order: alerts still on first, newest first. */
  function alertOrder() {
    const entries = [...model.alerts.entries()];
    const first = (a) => ms(a.changes[0].time);
    entries.sort(([, a], [, b]) => {
      const endedA = ENDED.has(a.changes[a.changes.length - 1].change.status);
      const endedB = ENDED.has(b.changes[b.changes.length - 1].change.status);
      if (endedA !== endedB) return endedA ? 1 : -1;
      return first(b) - first(a) || (a.owner + a.alert_id).localeCompare(b.owner + b.alert_id);
    });
    return entries;
  }

  /** Redraw the changed alerts' rows (and their areas on the map), keeping the panel in order. */
  function renderAlerts() {
    const list = $('alert-list');
    const keys = dirty.all ? [...model.alerts.keys()] : [...dirty.alerts];
    if (!keys.length && !dirty.all) return;
    const rows = new Map();
    for (const row of list.querySelectorAll('article.alert')) rows.set(row.getAttribute('data-key'), row);
    for (const key of keys) {
      const alert = model.alerts.get(key);
      if (alert) rows.set(key, alertRow(key, alert));
      renderAlertArea(key, alert || { changes: [] });
    }
    if (dirty.all) {
      for (const key of [...alertAreas.keys()]) if (!model.alerts.has(key)) renderAlertArea(key, { changes: [] });
    }
    const ordered = alertOrder().map(([key]) => rows.get(key));
    if (!ordered.length) {
      list.replaceChildren(el('p', { class: 'empty' }, 'No alerts.'));
    } else {
      const same = ordered.length === list.children.length && ordered.every((row, i) => list.children[i] === row);
      if (!same) list.replaceChildren(...ordered);
    }
    $('alert-count').textContent = String(model.alerts.size);
  }

  /** Send the operator's acknowledgement of a partner's alert change. */
  async function acknowledge(msgId) {
    pendingAcks.set(msgId, 'sending');
    markAlertsWith(msgId);
    try {
      const response = await fetch(`${API}/ack`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${CONFIG.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ msg_id: msgId }),
      });
      if (pendingAcks.get(msgId) === 'sending') {
        pendingAcks.set(msgId, response.ok ? 'sent' : `not sent (${response.status}) `);
      }
    } catch (err) {
      pendingAcks.set(msgId, 'not sent (no connection) ');
    }
    markAlertsWith(msgId);
  }

  /** Mark the alerts whose latest change came in envelope `msgId` for redrawing. */
  function markAlertsWith(msgId) {
    for (const [key, alert] of model.alerts) {
      if (alert.changes[alert.changes.length - 1].msg_id === msgId) dirty.alerts.add(key);
    }
    scheduleRender();
  }

  // ================================================================== the launch panel
  /** One launch event's card: its latest report's figures. */
  function launchCard(u) {
    const r = u.report;
    const facts = [
      ['launch', `${hms(ms(r.launch_time))} ${latlon(r.launch_point.lat, r.launch_point.lon)}`],
      ['launch 95 %', `${ellipse(r.launch_ellipse_95)} (${r.launch_method})`],
      ['apogee', `${num(r.apogee_km)} km`],
      ['range', `${num(r.range_km)} km` + (r.lofted ? ` · lofted, equiv. ${num(r.equivalent_range_km)} km` : '')],
      ['impact', `${hms(ms(r.impact_time))} ${latlon(r.impact_point.lat, r.impact_point.lon)}`],
      ['impact 95 %', ellipse(r.impact_ellipse_95)],
      ['over territory', r.over_territory_of.length ? r.over_territory_of.join(', ') : 'none'],
      ['inside EEZ', r.inside_eez_of.length ? r.inside_eez_of.join(', ') : 'none'],
      ['objects', `${r.number_of_objects} · stage p ${num(r.stage_probability, 2)}`],
    ];
    return el('article', { class: 'launch', 'data-event-id': u.event_id },
      el('div', { class: 'launch-head' },
        el('span', { class: 'cls' }, r.class),
        el('span', { class: 'id' }, u.event_id),
        r.lofted ? el('span', { class: 'status' }, 'lofted') : null,
        el('span', { class: 'est' }, `estimated ${hms(ms(r.estimated_at))}`)),
      el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
      exercise.on ? launchConsult(u.event_id) : null);
  }

  function renderLaunches() {
    const list = $('launch-list');
    const launches = [...model.launches.values()].sort((a, b) => ms(b.report.launch_time) - ms(a.report.launch_time));
    if (!launches.length) list.replaceChildren(el('p', { class: 'empty' }, 'No launch events.'));
    else list.replaceChildren(...launches.map(launchCard));
    $('launch-count').textContent = String(launches.length);
    renderLaunchMarks();
  }

  // ================================================================== the exercise's panel (a cell's console)
  /** Whether the exercise's panel is on (setup.mode "exercise"), and what this page is sending. */
  const exercise = {
    on: false,
    replyTo: null, // msg_id the next note answers
    warningTarget: null, // warning_id the warning buttons change (null: the area's, or a new one)
    launchActs: new Map(), // event_id -> "confirm sending…" | "confirm sent" | an error
    nodes: { injects: new Map(), notes: new Map(), warnings: new Map() }, // key -> {node, v}: kept, not redrawn
  };

  /** POST an exercise action of this cell; resolves to null when accepted, else why not (one line). */
  async function postAction(kind, payload) {
    try {
      const response = await fetch(`${API}/${kind}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${CONFIG.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
      if (response.ok) return null;
      let why = `${response.status} ${response.statusText}`;
      try {
        const data = await response.json();
        if (data && typeof data.detail === 'string') why = `${response.status}: ${data.detail}`;
      } catch (err) { /* not JSON */ }
      return why;
    } catch (err) {
      return 'no connection';
    }
  }

  function sayStatus(node, text, bad) {
    node.textContent = text;
    node.classList.toggle('bad', Boolean(bad));
  }

  /** Turn the panel on for an exercise's picture: its partners (note-to) and own protected areas (warnings). */
  function setupExercise(setup) {
    const panel = $('exercise-panel');
    if (!panel || !CONFIG.exercise || setup.mode !== 'exercise' || CONFIG.mode !== 'live') return;
    exercise.on = true;
    panel.hidden = false;
    body.classList.add('exercise-on');
    const others = setup.partners.filter((p) => p !== CONFIG.partner);
    $('note-to').append(...others.map((p) => el('label', { class: 'to' },
      el('input', { type: 'checkbox', name: 'note-to', value: p }), ' ',
      el('span', { class: 'partner-badge small', 'data-partner': p }, p))));
    const areas = setup.areas.filter((a) => a.partner === CONFIG.partner);
    $('warning-area').replaceChildren(...areas.map((a) => el('option', { value: a.name }, `${a.name} (${a.kind})`)));
    if (!areas.length) $('warning-area').append(el('option', { value: '' }, 'no protected area'));
    wireExercise();
    dirty.exercise = true;
  }

  /** Keep `container`'s children to `items`' nodes in order, building only new or changed ones (a node being
   * written in keeps its text and its focus). */
  function syncList(container, cache, items, key, version, build, emptyText) {
    const wanted = [];
    const keep = new Set();
    for (const item of items) {
      const k = key(item);
      const v = version(item);
      let entry = cache.get(k);
      if (!entry || entry.v !== v) {
        const node = build(item);
        if (entry && entry.node.parentNode === container) entry.node.replaceWith(node);
        entry = { node, v };
        cache.set(k, entry);
      }
      keep.add(k);
      wanted.push(entry.node);
    }
    for (const [k, entry] of cache) {
      if (!keep.has(k)) {
        entry.node.remove();
        cache.delete(k);
      }
    }
    if (!wanted.length) {
      container.replaceChildren(el('p', { class: 'empty' }, emptyText));
      return;
    }
    for (const empty of container.querySelectorAll(':scope > .empty')) empty.remove();
    wanted.forEach((node, i) => {
      if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
    });
  }

  function isQuestion(u) {
    return Boolean(u.question) || u.kind === 'question';
  }

  /** An inject's card: its text, and for a question the answer form (until answered) or the answers. */
  function injectCard(u) {
    const answers = model.answers.get(u.inject_id) || [];
    const question = isQuestion(u);
    const card = el('article', {
      class: `inject kind-${u.kind}`, 'data-inject-id': u.inject_id, 'data-kind': u.kind,
      'data-question': question ? 'true' : null,
      'data-answered': question ? (answers.length ? 'true' : 'false') : null,
    },
    el('div', { class: 'inject-head' },
      el('span', { class: 'kind' }, u.kind),
      el('span', { class: 'source' }, `from ${u.source}`),
      el('span', { class: 'id' }, u.inject_id),
      el('span', { class: 't' }, hms(ms(u.time)))),
    el('div', { class: 'inject-text' }, u.text));
    if (answers.length) {
      card.append(el('div', { class: 'answers' }, answers.map((a) =>
        el('div', { class: 'answer' }, el('span', { class: 't' }, `answered ${hms(ms(a.time))}`), ' ', a.text))));
    } else if (question) {
      card.append(el('div', { class: 'answer-form' },
        el('textarea', { class: 'answer-text', rows: 2, maxlength: 2000, placeholder: 'your answer', 'aria-label': `answer to ${u.inject_id}` }),
        el('div', { class: 'row' },
          el('button', { type: 'button', class: 'answer-send', 'data-inject-id': u.inject_id }, 'Answer'),
          el('span', { class: 'answer-status status-line', role: 'status' }))));
    }
    return card;
  }

  /** A message of the consultation channel. */
  function noteCard(n) {
    const to = n.to && n.to.length ? n.to.join(', ') : 'all';
    return el('article', {
      class: `note act-${n.act}${n.own ? ' own' : ''}`, 'data-msg-id': n.msg_id, 'data-act': n.act,
      'data-sender': n.sender, 'data-own': n.own ? 'true' : 'false',
    },
    el('div', { class: 'note-head' },
      el('span', { class: 'partner-badge small', 'data-partner': n.sender }, n.sender),
      el('span', { class: 'act' }, n.act),
      el('span', { class: 'topic' }, n.topic),
      el('span', { class: 'to' }, `→ ${to}`),
      el('span', { class: 't' }, hms(ms(n.time)))),
    n.in_reply_to ? el('div', { class: 'reply-to' }, `in reply to ${n.in_reply_to}`) : null,
    el('div', { class: 'note-text' }, n.text),
    el('button', { type: 'button', class: 'note-reply', 'data-msg-id': n.msg_id }, 'Reply'));
  }

  /** One of the cell's public warnings (its latest state). */
  function warningCard(w) {
    return el('article', { class: `warning status-${w.status}`, 'data-warning-id': w.warning_id, 'data-status': w.status },
      el('div', { class: 'warning-head' },
        el('span', { class: `wstatus ${w.status}` }, w.status),
        el('span', { class: 'area' }, w.area),
        el('span', { class: 'id' }, w.warning_id),
        el('span', { class: 't' }, hms(ms(w.time)))),
      el('div', { class: 'warning-text' }, w.text),
      w.status !== 'all-clear'
        ? el('button', { type: 'button', class: 'warning-edit', 'data-warning-id': w.warning_id }, 'Change') : null);
  }

  /** Under a launch event's card: confirm or dispute it on the consultation channel, and what the cell said. */
  function launchConsult(eventId) {
    const said = [...model.notes.values()].filter((n) => n.own && n.topic === eventId && (n.act === 'confirm' || n.act === 'dispute'));
    const last = said.length ? said[said.length - 1] : null;
    const pending = exercise.launchActs.get(eventId);
    return el('div', { class: 'launch-consult' },
      el('button', { type: 'button', class: 'confirm-launch', 'data-event-id': eventId }, 'Confirm'),
      el('button', { type: 'button', class: 'dispute-launch', 'data-event-id': eventId }, 'Dispute'),
      last ? el('span', { class: `said ${last.act}` }, `${last.act === 'confirm' ? 'confirmed' : 'disputed'} ${hms(ms(last.time))}`) : null,
      pending ? el('span', { class: 'status-line' }, pending) : null);
  }

  /** The topics offered for a note: the picture's launch events, then the channel's topics. */
  function renderTopics() {
    const topics = [...new Set([...model.launches.keys(), ...[...model.notes.values()].map((n) => n.topic)])];
    const list = $('note-topics');
    if ([...list.options].map((o) => o.value).join('\n') === topics.join('\n')) return;
    list.replaceChildren(...topics.map((t) => el('option', { value: t })));
  }

  function renderExercise() {
    const injects = [...model.injects.values()].reverse();
    syncList($('inject-list'), exercise.nodes.injects, injects, (u) => u.inject_id,
      (u) => `${u.seq}/${(model.answers.get(u.inject_id) || []).length}`, injectCard, 'No injects.');
    $('inject-count').textContent = String(model.injects.size);
    const notes = [...model.notes.values()].reverse();
    syncList($('notes'), exercise.nodes.notes, notes, (n) => n.msg_id, (n) => String(n.seq), noteCard, 'No messages.');
    $('note-count').textContent = String(model.notes.size);
    const warnings = [...model.warnings.values()].reverse();
    syncList($('warnings'), exercise.nodes.warnings, warnings, (w) => w.warning_id, (w) => String(w.seq), warningCard,
      'No public warnings.');
    $('warning-count').textContent = String(model.warnings.size);
    renderTopics();
    showWarningTarget();
  }

  // ------------------------------------------------------------------ the cell's actions
  /** The compose form as a reply to note `msgId` (its topic). */
  function replyTo(msgId) {
    const n = model.notes.get(msgId);
    if (!n) return;
    exercise.replyTo = msgId;
    $('note-topic').value = n.topic;
    $('note-reply-to').textContent = `${msgId} (${n.sender} ${n.act})`;
    $('note-reply').hidden = false;
    $('note-text').focus();
  }

  function notReply() {
    exercise.replyTo = null;
    $('note-reply-to').textContent = '';
    $('note-reply').hidden = true;
  }

  async function sendNote() {
    const status = $('note-status');
    const text = $('note-text').value.trim();
    const topic = $('note-topic').value.trim();
    if (!topic || !text) {
      sayStatus(status, !topic ? 'a topic is needed (a launch event or consultation)' : 'a message is needed', true);
      return;
    }
    const payload = {
      act: $('note-act').value, topic, text,
      to: [...document.querySelectorAll('#note-to input[type=checkbox]:checked')].map((box) => box.value),
    };
    if (exercise.replyTo) payload.in_reply_to = exercise.replyTo;
    const button = $('note-send');
    button.disabled = true;
    sayStatus(status, 'sending…', false);
    const why = await postAction('note', payload);
    button.disabled = false;
    sayStatus(status, why ? `not sent — ${why}` : 'sent', Boolean(why));
    if (!why) {
      $('note-text').value = '';
      notReply();
    }
  }

  async function consultLaunch(eventId, act) {
    exercise.launchActs.set(eventId, `${act} sending…`);
    dirty.launches = true;
    scheduleRender();
    const why = await postAction('note', { act, topic: eventId, text: `${act === 'confirm' ? 'Confirmed' : 'Disputed'}: launch event ${eventId}` });
    exercise.launchActs.set(eventId, why ? `${act} not sent — ${why}` : `${act} sent`);
    dirty.launches = true;
    scheduleRender();
  }

  async function sendAnswer(button) {
    const card = button.closest('.inject');
    const box = card.querySelector('.answer-text');
    const status = card.querySelector('.answer-status');
    const text = box.value.trim();
    if (!text) {
      sayStatus(status, 'an answer is needed', true);
      return;
    }
    button.disabled = true;
    box.readOnly = true;
    sayStatus(status, 'sending…', false);
    const why = await postAction('answer', { inject_id: button.getAttribute('data-inject-id'), text });
    if (why) {
      button.disabled = false;
      box.readOnly = false;
    }
    sayStatus(status, why ? `not sent — ${why}` : 'sent to exercise control', Boolean(why));
  }

  /** The warning the buttons change: the one chosen, else for issue the area's draft and for all-clear the
   * area's issued warning (none: a new warning). */
  function warningIdFor(status, area) {
    if (exercise.warningTarget) return exercise.warningTarget;
    const wanted = status === 'issued' ? 'draft' : status === 'all-clear' ? 'issued' : null;
    if (!wanted) return null;
    const found = [...model.warnings.values()].reverse().find((w) => w.area === area && w.status === wanted);
    return found ? found.warning_id : null;
  }

  function showWarningTarget() {
    const w = exercise.warningTarget ? model.warnings.get(exercise.warningTarget) : null;
    if (exercise.warningTarget && (!w || w.status === 'all-clear')) exercise.warningTarget = null;
    $('warning-target').textContent = exercise.warningTarget && w ? `changing ${w.warning_id} (${w.status})` : '';
    $('warning-new').hidden = !exercise.warningTarget;
  }

  async function sendWarning(status) {
    const line = $('warning-status');
    const area = $('warning-area').value;
    let text = $('warning-text').value.trim();
    if (!area) {
      sayStatus(line, 'no protected area of this cell', true);
      return;
    }
    if (!text && status === 'all-clear') text = `All clear: ${area}`;
    if (!text) {
      sayStatus(line, 'the warning needs a text', true);
      return;
    }
    const payload = { status, area, text };
    const id = warningIdFor(status, area);
    if (id) payload.warning_id = id;
    const buttons = ['warning-draft', 'warning-issue', 'warning-all-clear'].map($);
    for (const b of buttons) b.disabled = true;
    sayStatus(line, `${status}: sending…`, false);
    const why = await postAction('warning', payload);
    for (const b of buttons) b.disabled = false;
    sayStatus(line, why ? `${status} not sent — ${why}` : `${status} sent${id ? ' for ' + id : ''}`, Boolean(why));
    if (!why) {
      $('warning-text').value = '';
      exercise.warningTarget = null;
      showWarningTarget();
    }
  }

  function wireExercise() {
    $('note-form').addEventListener('submit', (event) => event.preventDefault());
    $('warning-form').addEventListener('submit', (event) => event.preventDefault());
    $('note-send').addEventListener('click', () => { if (!$('note-send').disabled) sendNote(); });
    $('note-reply-cancel').addEventListener('click', notReply);
    $('notes').addEventListener('click', (event) => {
      const button = event.target.closest('.note-reply');
      if (button) replyTo(button.getAttribute('data-msg-id'));
    });
    $('inject-list').addEventListener('click', (event) => {
      const button = event.target.closest('.answer-send');
      if (button && !button.disabled) sendAnswer(button);
    });
    $('launch-list').addEventListener('click', (event) => {
      const button = event.target.closest('.confirm-launch, .dispute-launch');
      if (button) consultLaunch(button.getAttribute('data-event-id'), button.classList.contains('confirm-launch') ? 'confirm' : 'dispute');
    });
    $('warnings').addEventListener('click', (event) => {
      const button = event.target.closest('.warning-edit');
      if (!button) return;
      const w = model.warnings.get(button.getAttribute('data-warning-id'));
      if (!w) return;
      exercise.warningTarget = w.warning_id;
      if ([...$('warning-area').options].some((o) => o.value === w.area)) $('warning-area').value = w.area;
      $('warning-text').value = w.text;
      showWarningTarget();
      $('warning-text').focus();
    });
    $('warning-new').addEventListener('click', () => { exercise.warningTarget = null; showWarningTarget(); });
    $('warning-draft').addEventListener('click', () => sendWarning('draft'));
    $('warning-issue').addEventListener('click', () => sendWarning('issued'));
    $('warning-all-clear').addEventListener('click', () => sendWarning('all-clear'));
  }

  // ================================================================== the exchange's health
  function renderHealth() {
    const box = $('health');
    const h = model.health;
    if (!h) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No report yet.'));
      return;
    }
    const at = ms(h.time);
    const rows = h.peers.map((p) => {
      const heard = ms(p.last_heard);
      return el('tr', null,
        el('td', null, el('span', { class: 'partner-badge small', 'data-partner': p.partner }, p.partner)),
        el('td', { class: p.connected ? 'up' : 'down' }, p.connected ? '● connected' : '● not heard'),
        el('td', { class: 'mono' }, heard == null ? 'never' : `${hms(heard)} (${num((at - heard) / 1000)} s ago)`),
        el('td', { class: p.gaps ? 'gaps mono' : 'mono' }, String(p.gaps)));
    });
    const refused = Object.entries(h.refused || {}).filter(([, n]) => n > 0);
    box.replaceChildren(
      el('table', { class: 'peers' },
        el('thead', null, el('tr', null, el('th', null, 'peer'), el('th', null, 'link'), el('th', null, 'last heard'),
          el('th', null, 'gaps'))),
        el('tbody', null, rows)),
      el('div', { class: 'health-figures' },
        'accepted ', el('b', null, String(h.accepted)), ' · sent ', el('b', null, String(h.sent)),
        ' · withheld ', el('b', null, String(h.withheld)), ' · refused ',
        refused.length ? refused.map(([why, n], i) => [i ? ', ' : '', `${why} `, el('b', null, String(n))]) : el('b', null, '0'),
        el('span', { class: 'mono' }, `  (at ${hms(at)})`)));
  }

  // ================================================================== clock and timeline
  function renderClock() {
    const now = CONFIG.mode === 'replay' ? model.atMs : nowMs();
    $('clock').textContent = hms(now);
    $('clock-date').textContent = ymd(now);
    const state = $('run-state');
    if (CONFIG.mode === 'replay') {
      state.textContent = replay.playing ? `replay ×${replay.speed}` : 'replay paused';
      state.className = replay.playing ? 'running' : 'paused';
    } else if (model.clock) {
      state.textContent = `${model.clock.state} ×${num(model.clock.speed, model.clock.speed < 10 ? 1 : 0)}`;
      state.className = model.clock.state;
    }
  }

  /** The timeline's span: the run's start to end. */
  function timelineSpan() {
    const setup = model.setup;
    if (!setup) return null;
    const start = ms(setup.start);
    const end = Math.max(ms(setup.end), start + 1000);
    return { start, end };
  }

  let timelineWidth = 0;

  /** Draw the key moments on a time axis (start to end of the run) and list them, newest first. */
  function renderTimeline() {
    const span = timelineSpan();
    const strip = $('timeline-svg');
    if (!span) return;
    const width = Math.max(strip.clientWidth, 100);
    const height = 62;
    timelineWidth = width;
    const x = (t) => 8 + ((t - span.start) / (span.end - span.start)) * (width - 16);
    const items = [svg('line', { class: 'axis', x1: 8, x2: width - 8, y1: 40, y2: 40 })];
    // ticks at a round interval giving about 8 labels
    const steps = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 21600e3];
    const step = steps.find((s) => (span.end - span.start) / s <= 8) || 86400e3;
    for (let t = Math.ceil(span.start / step) * step; t <= span.end; t += step) {
      items.push(svg('line', { class: 'axis', x1: x(t), x2: x(t), y1: 37, y2: 43 }));
      items.push(svg('text', { class: 'tick', x: x(t), y: 56, 'text-anchor': 'middle' }, hms(t).slice(0, 5)));
    }
    const sorted = [...moments.values()].filter((m) => m.t >= span.start - 60e3 && m.t <= span.end + 60e3)
      .sort((a, b) => a.t - b.t);
    const rows = { launch: 8, track: 18, alert: 28, 'alert-end': 28 };
    for (const m of sorted) {
      const cx = x(Math.min(Math.max(m.t, span.start), span.end));
      const y = rows[m.kind] ?? 28;
      let mark;
      if (m.kind === 'launch') mark = svg('path', { d: `M${cx - 5},${y + 5}L${cx},${y - 5}L${cx + 5},${y + 5}Z`, fill: '#fff' });
      else if (m.kind === 'track') mark = svg('circle', { cx, cy: y, r: 3.5, fill: m.colour });
      else if (m.kind === 'alert') mark = svg('rect', { x: cx - 3, y: y - 6, width: 6, height: 12, fill: '#ff7a1a', stroke: m.colour, 'stroke-width': 1.5 });
      else mark = svg('rect', { x: cx - 3, y: y - 6, width: 6, height: 12, fill: '#4b5563', stroke: m.colour, 'stroke-width': 1 });
      mark.append(svg('title', null, `${hms(m.t)} ${m.text}`));
      items.push(mark);
    }
    items.push(svg('line', { id: 'timeline-now', class: 'now', x1: 0, x2: 0, y1: 2, y2: 46 }));
    strip.setAttribute('viewBox', `0 0 ${width} ${height}`);
    strip.replaceChildren(...items);
    moveTimelineCursor();
    const list = $('timeline-list');
    list.replaceChildren(...sorted.slice().reverse().map((m) =>
      el('li', { 'data-kind': m.kind }, el('span', { class: 't' }, hms(m.t)), m.text)));
  }

  /** Put the timeline's "now" line at the picture's time. */
  function moveTimelineCursor() {
    const span = timelineSpan();
    const cursor = $('timeline-now');
    const now = CONFIG.mode === 'replay' ? model.atMs : nowMs();
    if (!span || !cursor || now == null) return;
    const t = Math.min(Math.max(now, span.start), span.end);
    const cx = 8 + ((t - span.start) / (span.end - span.start)) * (timelineWidth - 16);
    cursor.setAttribute('x1', cx);
    cursor.setAttribute('x2', cx);
  }

  // ================================================================== drawing a frame
  let frameRequested = false;
  let frameTimer = null;
  let frameId = null;
  let ready = false;

  /** Draw what changed at the next animation frame (or within 250 ms where frames are not run: a hidden tab). */
  function scheduleRender() {
    if (frameRequested) return;
    frameRequested = true;
    frameId = requestAnimationFrame(render);
    frameTimer = setTimeout(render, 250);
  }

  /** Draw everything that changed since the last frame; publish the DOM contract's values. */
  function render() {
    cancelAnimationFrame(frameId);
    clearTimeout(frameTimer);
    frameRequested = false;
    if (!model.setup || !map) return;
    renderTracks();
    if (dirty.all || dirty.alerts.size) renderAlerts();
    if (dirty.launches || dirty.all) renderLaunches();
    if (dirty.health || dirty.all) renderHealth();
    if (exercise.on && (dirty.exercise || dirty.all || dirty.launches)) renderExercise();
    renderClock();
    if (dirty.timeline) renderTimeline();
    else moveTimelineCursor();
    dirty.tracks.clear();
    dirty.alerts.clear();
    dirty.all = dirty.launches = dirty.health = dirty.timeline = dirty.exercise = false;
    body.dataset.seq = String(model.seq);
    body.dataset.trackCount = String(drawn.size);
    if (ready) body.dataset.ready = '1';
  }

  // ================================================================== the API
  /** GET a JSON document of the API with the token in the Authorization header. */
  async function getJSON(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${CONFIG.token}`, Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return response.json();
  }

  /** A tooltip's content as text, never HTML: ids and names come from partners (Leaflet takes a string as HTML). */
  function textTip(text) {
    const node = document.createElement('div');
    node.className = 'tip-text';
    node.textContent = text;
    return node;
  }

  /** Say how the link to the server stands. */
  function linkState(text, cls) {
    const node = $('link-state');
    node.textContent = text;
    node.className = cls;
  }

  /** The first picture: draw it whole (and set up the map for it). */
  function firstSnapshot(snap, atMs) {
    drawSetup(snap.setup);
    setupExercise(snap.setup);
    applySnapshot(snap, atMs);
    noteSnapshot(snap);
    ready = true;
    render();
  }

  // ------------------------------------------------------------------ live: snapshot, then the push stream
  const live = { source: null, retry: null };

  /** Fetch the picture now and follow the stream from it (again after a gap in the numbering). */
  async function startLive() {
    linkState('loading', 'link-wait');
    let snap;
    try {
      snap = await getJSON(`${API}/picture`);
    } catch (err) {
      linkState(`no picture (${err.message}) — retrying`, 'link-bad');
      setTimeout(startLive, RETRY_MS);
      return;
    }
    if (!ready) firstSnapshot(snap, null);
    else {
      applySnapshot(snap, null);
      noteSnapshot(snap);
      render();
    }
    openStream();
  }

  /** Open the push stream after the last update applied (EventSource reconnects by itself with Last-Event-ID). */
  function openStream() {
    if (live.source) live.source.close();
    clearTimeout(live.retry);
    const url = `${API}/stream?token=${encodeURIComponent(CONFIG.token)}&after=${model.seq}`;
    const source = new EventSource(url);
    live.source = source;
    source.addEventListener('open', () => linkState('live', 'link-ok'));
    source.addEventListener('updates', (event) => {
      let batch;
      try {
        batch = JSON.parse(event.data);
      } catch (err) {
        return; // a torn message: the next one (or the resync) carries on
      }
      applyBatch(batch);
    });
    source.addEventListener('error', () => {
      if (source !== live.source) return;
      if (source.readyState === EventSource.CLOSED) {
        // refused (or not an event stream): EventSource gives up; open it again after a pause
        linkState('disconnected — retrying', 'link-bad');
        source.close();
        live.retry = setTimeout(openStream, RETRY_MS);
      } else {
        linkState('reconnecting', 'link-wait');
      }
    });
  }

  /** Apply a pushed batch: its updates above the last applied, in order; record the push latency. */
  function applyBatch(batch) {
    if (batch.after > model.seq) {
      // updates were missed (the server lost our place): take the picture again
      live.source.close();
      live.source = null;
      startLive();
      return;
    }
    let applied = 0;
    for (const u of batch.updates) {
      if (u.seq <= model.seq) continue;
      applyUpdate(u);
      model.seq = u.seq;
      applied += 1;
    }
    if (batch.emitted != null) window.mwx.latencies.push(Date.now() / 1000 - batch.emitted);
    window.mwx.applied += applied;
    if (applied) scheduleRender();
  }

  // ------------------------------------------------------------------ replay: the picture at the slider's instant
  const replay = { playing: false, speed: 10, timer: null, inFlight: false, wanted: null, request: 0, startMs: 0, endMs: 0 };

  /** Load the run's full picture (for its span and key moments), draw it, and wire the controls. */
  async function startReplay() {
    linkState('loading', 'link-wait');
    let snap;
    try {
      snap = await getJSON(`${API}/picture`);
    } catch (err) {
      linkState(`no picture (${err.message}) — retrying`, 'link-bad');
      setTimeout(startReplay, RETRY_MS);
      return;
    }
    replay.startMs = ms(snap.setup.start);
    replay.endMs = Math.max(ms(snap.setup.end), replay.startMs);
    const slider = $('replay-slider');
    slider.min = '0';
    slider.max = String(Math.ceil((replay.endMs - replay.startMs) / 1000));
    const at = snap.time != null ? Math.min(Math.max(ms(snap.time), replay.startMs), replay.endMs) : replay.endMs;
    slider.value = String(Math.round((at - replay.startMs) / 1000));
    firstSnapshot(snap, at);
    linkState('loaded', 'link-ok');
    showReplayTime();
    slider.addEventListener('input', () => { showReplayTime(); seek(sliderMs()); });
    slider.addEventListener('change', () => { showReplayTime(); seek(sliderMs()); });
    $('replay-play').addEventListener('click', () => (replay.playing ? pause() : play()));
    const speed = $('replay-speed');
    replay.speed = Number(speed.value) || 1;
    speed.addEventListener('change', () => { replay.speed = Number(speed.value) || 1; renderClock(); });
    $('timeline-svg').addEventListener('click', (event) => {
      const box = event.currentTarget.getBoundingClientRect();
      const f = Math.min(Math.max((event.clientX - box.left - 8) / Math.max(box.width - 16, 1), 0), 1);
      slider.value = String(Math.round((f * (replay.endMs - replay.startMs)) / 1000));
      showReplayTime();
      seek(sliderMs());
    });
    $('timeline-svg').classList.add('seek');
  }

  function sliderMs() {
    return replay.startMs + Number($('replay-slider').value) * 1000;
  }

  function showReplayTime() {
    const t = sliderMs();
    $('replay-time').textContent = `${hms(t)}  T+${num((t - replay.startMs) / 1000)} s`;
  }

  /** Fetch the picture at `t` and redraw completely (one request at a time; the newest wish wins). */
  async function seek(t) {
    replay.wanted = t;
    if (replay.inFlight) return;
    replay.inFlight = true;
    try {
      while (replay.wanted != null) {
        const at = replay.wanted;
        replay.wanted = null;
        const request = ++replay.request;
        let snap;
        try {
          snap = await getJSON(`${API}/picture?at=${encodeURIComponent(new Date(at).toISOString())}`);
        } catch (err) {
          linkState(`no picture (${err.message})`, 'link-bad');
          continue;
        }
        if (request !== replay.request) continue;
        applySnapshot(snap, at);
        linkState('loaded', 'link-ok');
        render();
      }
    } finally {
      replay.inFlight = false;
    }
  }

  /** Play: move the slider on at the chosen speed, fetching the picture as it goes. */
  function play() {
    const slider = $('replay-slider');
    if (Number(slider.value) >= Number(slider.max)) slider.value = '0';
    replay.playing = true;
    const button = $('replay-play');
    button.textContent = '❚❚ Pause';
    button.classList.add('playing');
    replay.timer = setInterval(() => {
      const next = Math.min(Number(slider.value) + (replay.speed * REPLAY_TICK_MS) / 1000, Number(slider.max));
      slider.value = String(next);
      showReplayTime();
      seek(sliderMs());
      if (next >= Number(slider.max)) pause();
    }, REPLAY_TICK_MS);
    renderClock();
  }

  function pause() {
    replay.playing = false;
    clearInterval(replay.timer);
    const button = $('replay-play');
    button.textContent = '▶ Play';
    button.classList.remove('playing');
    renderClock();
  }

  // ================================================================== start
  window.mwx = {
    latencies: [],
    applied: 0, // updates applied from the push stream (duplicates skipped)
    /** The keys of the tracks drawn, sorted. */
    trackKeys: () => [...drawn.keys()].sort(),
    /** Every alert's state: [{owner, alert_id, status, acked_by}] sorted by owner, then id. */
    alertStates: () => [...model.alerts.values()]
      .map((a) => ({ owner: a.owner, alert_id: a.alert_id, status: a.changes[a.changes.length - 1].change.status, acked_by: ackedBy(a) }))
      .sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.alert_id < b.alert_id ? -1 : a.alert_id > b.alert_id ? 1 : 0)),
    /** An exercise's consultation channel as it came: [{msgId, act, sender, text}]. */
    notes: () => [...model.notes.values()].map((n) => ({ msgId: n.msg_id, act: n.act, sender: n.sender, text: n.text })),
    /** The ids of the exercise's injects that reached the cell, as they came. */
    injects: () => [...model.injects.keys()],
  };

  function start() {
    if (typeof L === 'undefined') {
      linkState('map library missing', 'link-bad');
      return;
    }
    initMap();
    loadLand();
    $('alert-list').addEventListener('click', (event) => {
      const button = event.target.closest('.ack-button');
      if (button && !button.disabled) acknowledge(button.getAttribute('data-msg-id'));
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { dirty.timeline = true; scheduleRender(); }, 150);
    });
    if (CONFIG.mode === 'replay') startReplay();
    else startLive();
  }

  start();
})();
