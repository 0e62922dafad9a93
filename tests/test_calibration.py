"""The predicted 95 % impact ellipse against Monte Carlo truth: coverage of coast-phase predictions, per class.

A smaller sibling of ``benchmarks/impact_calibration.py`` (whose :func:`evaluate` it runs) for
the SRBM, the IRBM and the lofted ICBM.  Each run has its own true re-entry ballistic
coefficient from the prediction's prior, its own sensor noise and its own track; the true impact
point must lie inside the predicted 95 % ellipse in 90–98 % of the coast-phase predictions of
every class (the assessment issue's band, docs/benchmarks.md).

Effective sample size.  The predictions of one run are not independent: they share the run's β
(for the SRBM and the IRBM the largest term of the ellipse: a low-β run falls outside it from
first to last) and its track's errors, which stay correlated for many minutes (an ICBM run can
spend 1000 s with d² of 6–25).  So what counts is the number of runs, and the predictions per run
(every 20 s, 10 to 146 of them) only average the track errors within a run.  Two things make the
runs go further:

* β is **stratified** (``TAIL_STRATA``: the prior cut into tenths, the tails finer, two runs per
  stratum, the strata weighted by their prior probability): β is no longer a source of scatter
  between runs, and the low-β tail, where coverage drops from 1 to 0, is sampled finely rather
  than by the one or two runs that happen to fall there.  The estimate is of the same coverage.
* the interval is the **stratified run bootstrap** (whole runs resampled within strata).

Measured at commit 73e9229 (registration, the trackers' allowances), seed 0, on the 2-core development
machine shared with a coverage run and a test run (72 + 137 + 101 s there; about 2 min for the file
alone):

| class | runs | predictions | coverage | run bootstrap 95 % |
|---|---:|---:|---:|---|
| SRBM | 32 (16 strata) | 320 | 94.6 % | 93.2–96.0 % |
| IRBM | 32 (16 strata) | 1791 | 94.1 % | 90.4–97.8 % |
| lofted ICBM | 8 (4 strata) | 1168 | 94.9 % | 91.3–98.6 % |

Every class's interval lies inside the band now (at 68196c8, before registration, the IRBM's and the
ICBM's reached 89.1 and 98.5 %: whole stretches of overconfident track covariance in some runs).  The
test holds each class's coverage (the point estimate) in the band; the intervals are in its failure
messages.  A track covariance 2.5 times too large lifts the ICBM
(whose ellipse is its track's) to 100 % (:func:`test_a_track_covariance_2_5_times_too_large_fails_the_band`;
and so does the same scaling made inside ``distribution.predict``), while the SRBM's and the IRBM's
ellipses are mostly β: a ×2.5 track covariance leaves them in the band (95.0 and 95.4 % in 20
runs each).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BAND = (0.90, 0.98)


def _benchmark() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "impact_calibration.py"
    spec = importlib.util.spec_from_file_location("impact_calibration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARK = _benchmark()
#: Runs and strata of β per class (see the module docstring for why these).
RUNS = {
    "SRBM": (32, BENCHMARK.TAIL_STRATA),
    "IRBM": (32, BENCHMARK.TAIL_STRATA),
    "ICBM": (8, 4),  # its track errors, not β, make its scatter: equal strata
}


@pytest.fixture(scope="module")
def calibration() -> dict[str, dict]:
    """``evaluate`` per class, computed when a test first asks for the class (seed 0, one process)."""
    return {}


def _evaluate(calibration: dict[str, dict], cls: str) -> dict:
    if cls not in calibration:
        runs, strata = RUNS[cls]
        calibration[cls] = BENCHMARK.evaluate(cls, runs, seed=0, strata=strata)
    return calibration[cls]


def _figures(r: dict) -> str:
    low, high = r["bootstrap"]
    return (
        f"{r['class']}: {100 * r['rate']:.1f} % of {r['predictions']} predictions in {r['runs']} runs, "
        f"run bootstrap {100 * low:.1f}–{100 * high:.1f} %"
    )


@pytest.mark.slow
@pytest.mark.parametrize("cls", list(RUNS))
def test_coast_predictions_of_each_class_cover_the_truth_90_to_98_percent(calibration, cls: str) -> None:
    r = _evaluate(calibration, cls)
    # Every run kept a track through the coast and every prediction's mean reached the ground.
    assert r["predictions"] >= 10 * r["runs"] and r["no_impact"] == 0, _figures(r)
    assert r["multi_track_runs"] == 0, _figures(r)
    assert BAND[0] <= r["rate"] <= BAND[1], _figures(r)


@pytest.mark.slow
def test_a_track_covariance_2_5_times_too_large_fails_the_band() -> None:
    """Negative control: the real prediction from the ICBM's tracks with their covariance ×2.5.

    The lofted ICBM's ellipse is its track's (β hardly moves a steep re-entry), so the ellipse
    grows by √2.5 and holds the truth nearly always: measured 100 % of 292 predictions in these 2 runs
    (and of 1460 in 10).
    """
    r = BENCHMARK.evaluate("ICBM", 2, seed=0, strata=1, covariance_scale=2.5)
    assert r["predictions"] >= 20 and r["no_impact"] == 0, _figures(r)
    assert not BAND[0] <= r["rate"] <= BAND[1], _figures(r)
    assert r["rate"] > BAND[1], _figures(r)
