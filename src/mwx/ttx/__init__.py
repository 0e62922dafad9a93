"""Tabletop exercises (TTX): a master scenario events list, player cells that consult and decide, evaluation
against critical tasks, and an after-action report with an improvement plan.

One module per concept:

* :mod:`~mwx.ttx.msel` — the MSEL file (YAML, CSV import/export): timed injects in modules, the cells, the
  exercise evaluation guides, the scripted players; its technical injects become a scenario.
* :mod:`~mwx.ttx.log` — what happened, as typed records: injects delivered, every player's and the
  facilitator's action, the system's own marks; the journal's entries and ``exercise.json``.
* :mod:`~mwx.ttx.journal` — the append-only journal an exercise resumes from.
* :mod:`~mwx.ttx.players` — scripted cells for headless play.
* :mod:`~mwx.ttx.control` — the exercise's control: injects at their times, actions carried out over the
  exchange, the facilitator's clock.
* :mod:`~mwx.ttx.evaluation` — measures from the system's timestamps, proposed P/S/M/U ratings.
* :mod:`~mwx.ttx.report` — the after-action report / improvement plan (HTML, Markdown, CSV).
* :mod:`~mwx.ttx.desk` — the pages' requests, as typed records, and what the facilitator and evaluators see.
* :mod:`~mwx.ttx.session` — the run with its control: served to the roles, or headless.
* :mod:`~mwx.ttx.app` — the facilitator's, the cells' and the evaluators' pages and API.
* :mod:`~mwx.ttx.commands` — ``mwx exercise check|start|resume|csv|import|report``.
"""
