"""metrics.json → fusion: the fused state against each partner's at the partner's own reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mwx.exercise.evaluation import fusion_gain
from mwx.exercise.run import run_scenario
from mwx.sim.scenario import parse_scenario

SMALL = (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_text()


@pytest.fixture(scope="module")
def result():
    return run_scenario(parse_scenario(SMALL))


def test_the_fused_state_beats_every_partner_where_two_hold_the_object(result) -> None:
    gain = fusion_gain(result)
    assert set(gain.per_partner) == {"KR", "JP", "US"}
    for partner, figures in gain.per_partner.items():
        assert figures.reports > 100, partner
        assert figures.fused_rmse_m is not None and figures.partner_rmse_m is not None
        assert figures.fused_rmse_m < figures.partner_rmse_m, partner
    # Consistent or conservative, not optimistic: the χ²(6) median is 5.35, and the 95 % regions hold the
    # truth at least 90 % of the time.  (A two-sided test, on synthetic tracks whose errors are known, is
    # tests/test_fusion.py::test_partners_reporting_the_split_are_fused_consistently.)
    assert gain.fused_nees_median is not None and 0.0 < gain.fused_nees_median < 6.5
    assert gain.fused_region_95_coverage is not None and 0.9 <= gain.fused_region_95_coverage <= 1.0


def test_the_comparison_sees_a_fused_picture_that_is_off(result) -> None:
    # The same pairs with every fused position pushed 1 km east-ish: now every partner beats it.
    shifted = [(t, p, x, fx + np.array([1e3, 0, 0, 0, 0, 0]), fp) for t, p, x, fx, fp in result.fusion_pairs]
    original, result.fusion_pairs = result.fusion_pairs, shifted
    try:
        gain = fusion_gain(result)
    finally:
        result.fusion_pairs = original
    assert all(f.fused_rmse_m > f.partner_rmse_m for f in gain.per_partner.values())
    assert gain.fused_nees_median > 100.0 and gain.fused_region_95_coverage < 0.1
