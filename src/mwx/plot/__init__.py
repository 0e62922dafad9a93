"""Drawing for people: maps (:mod:`mwx.plot.maps`) and the figures' common style (:mod:`mwx.plot.figures`).

Used by the after-action report (:mod:`mwx.exercise.report`) and by ``mwx theater map``
(:mod:`mwx.sim.coverage`).  Matplotlib is imported inside the functions that draw, so importing these
modules costs nothing to code that does not draw.
"""
