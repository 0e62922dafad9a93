/* mwx pages' times: ISO 8601 text to Unix milliseconds, and milliseconds to clock text.  Shared by the
   consoles (console.js) and the exercise pages (exercise.js); loaded before them. */
'use strict';

window.mwxTime = (() => {
  const ISO_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/;

  /** Unix milliseconds of an ISO 8601 time (sub-millisecond digits kept as a fraction); null for null. */
  function ms(iso) {
    if (iso == null) return null;
    const m = ISO_RE.exec(iso);
    if (!m) return Date.parse(iso);
    return Date.parse(m[1] + (m[3] || 'Z')) + (m[2] ? Number('0' + m[2]) * 1000 : 0);
  }

  /** "22:25:13Z" of Unix milliseconds. */
  function hms(t) {
    return t == null || !isFinite(t) ? '—' : new Date(t).toISOString().slice(11, 19) + 'Z';
  }

  return Object.freeze({ ms, hms });
})();
