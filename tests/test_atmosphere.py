"""Tests of mwx.geo.atmosphere against the U.S. Standard Atmosphere 1976 tables.

Reference values are the standard's (NOAA-S/T 76-1562): table 4 for the layer
bases, which are at round *geopotential* altitudes and so are tested at the
matching geometric altitude Z = r0·H/(r0 - H), and Table I (geometric altitude)
for the rest.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.geo import atmosphere as atm

R0 = atm.R0


def geometric(h_geopotential_m: float) -> float:
    """Geometric altitude [m] of a geopotential altitude [m'] (inverse of eq. 18)."""
    return R0 * h_geopotential_m / (R0 - h_geopotential_m)


# Table 4 / Table I at the layer bases (geopotential km): T_M [K], P [Pa], ρ [kg/m³].
LAYER_BASES = [
    (0.0, 288.150, 101325.0, 1.2250),
    (11.0, 216.650, 22632.0, 0.36392),
    (20.0, 216.650, 5474.9, 0.088035),
    (32.0, 228.650, 868.02, 0.013225),
    (47.0, 270.650, 110.91, 1.4275e-3),
    (51.0, 270.650, 66.939, 8.6160e-4),
    (71.0, 214.650, 3.9564, 6.4211e-5),
]

# Table I at round geometric altitudes (km): T [K], P [Pa], ρ [kg/m³], Cs [m/s].
TABLE_I = [
    (0.0, 288.150, 1.01325e5, 1.2250, 340.29),
    (11.0, 216.774, 2.2700e4, 3.6480e-1, 295.15),
    (20.0, 216.650, 5.5293e3, 8.8910e-2, 295.07),
    (50.0, 270.650, 7.9779e1, 1.0269e-3, 329.80),
    (86.0, 186.870, 3.7338e-1, 6.958e-6, 274.10),
]

# Table I above 86 km: kinetic temperature [K] (the standard's closed form, exact).
THERMOSPHERE_T = [
    (100.0, 195.08),
    (110.0, 240.00),
    (120.0, 360.00),
    (150.0, 634.39),
    (200.0, 854.56),
    (300.0, 976.01),
    (500.0, 999.24),
]

# Table I densities *between* the interpolation nodes: the log-linear fit is
# documented to be within a few per cent there.
BETWEEN_NODES_RHO = [
    (105.0, 2.325e-7),
    (170.0, 7.815e-10),
    (190.0, 3.581e-10),
    (350.0, 7.014e-12),
    (450.0, 1.184e-12),
]

LAYER_BOUNDARIES_M = [geometric(1000.0 * h) for h in (11, 20, 32, 47, 51, 71)]
UPPER_NODES_M = list(atm._Z_HI)

altitudes = st.floats(min_value=-10_000.0, max_value=1_100_000.0, allow_nan=False)


def rel(a: float, b: float) -> float:
    return abs(a / b - 1.0)


@pytest.mark.parametrize(("h_km", "t_ref", "p_ref", "rho_ref"), LAYER_BASES)
def test_layer_bases_match_table_4(h_km: float, t_ref: float, p_ref: float, rho_ref: float) -> None:
    z = geometric(1000.0 * h_km)
    assert rel(atm.temperature(z), t_ref) < 1e-6  # below 80 km T = T_M exactly
    assert rel(atm.pressure(z), p_ref) < 1e-4
    assert rel(atm.density(z), rho_ref) < 1e-4


@pytest.mark.parametrize(("z_km", "t_ref", "p_ref", "rho_ref", "cs_ref"), TABLE_I)
def test_round_geometric_altitudes_match_table_i(
    z_km: float, t_ref: float, p_ref: float, rho_ref: float, cs_ref: float
) -> None:
    z = 1000.0 * z_km
    assert rel(atm.temperature(z), t_ref) < 1e-4
    assert rel(atm.pressure(z), p_ref) < 1e-4
    assert rel(atm.density(z), rho_ref) < 1e-3  # 0.1 %; printed to 4-5 digits
    assert rel(atm.density_scalar(z), rho_ref) < 1e-3
    assert rel(atm.speed_of_sound(z), cs_ref) < 1e-4


def test_sea_level_is_exact() -> None:
    assert atm.temperature(0.0) == 288.15
    assert atm.pressure(0.0) == 101325.0
    # ρ0 = P0·M0/(R*·T0) = 1.224999 kg/m³, printed as 1.2250.
    assert atm.density(0.0) == pytest.approx(101325.0 * atm.M0 / (atm.R_STAR * 288.15), rel=1e-15)


def test_geopotential_altitude_of_86_km_is_the_standards_84_852_km() -> None:
    assert atm.geopotential_altitude(86_000.0) == pytest.approx(84_852.0, abs=0.1)
    assert isinstance(atm.geopotential_altitude(1.0), float)


@pytest.mark.parametrize(("z_km", "t_ref"), THERMOSPHERE_T)
def test_thermosphere_temperature_matches_table_i(z_km: float, t_ref: float) -> None:
    assert rel(atm.temperature(1000.0 * z_km), t_ref) < 1e-4


@pytest.mark.parametrize(("z_km", "rho_ref"), BETWEEN_NODES_RHO)
def test_upper_density_between_nodes_within_documented_error(z_km: float, rho_ref: float) -> None:
    assert rel(atm.density(1000.0 * z_km), rho_ref) < 0.05


# Node 0 is the lower model's computed 86 km value, tested separately below.
@pytest.mark.parametrize("k", range(1, len(atm._Z_HI)))
def test_upper_nodes_reproduce_table_i(k: int) -> None:
    z = atm._Z_HI[k]
    assert rel(atm.density(z), atm._RHO_TABLE[k]) < 1e-12
    assert rel(atm.pressure(z), atm._P_TABLE[k]) < 1e-12


def test_86_km_node_agrees_with_printed_table() -> None:
    # The computed join value stands in for the printed one; they must agree.
    assert rel(atm._RHO_TOP, 6.958e-6) < 1e-4
    assert rel(atm._P_TOP, 0.37338) < 1e-4


@pytest.mark.parametrize("z", LAYER_BOUNDARIES_M + [atm.Z_TOP, 80_000.0] + UPPER_NODES_M[1:-1])
def test_continuity_at_boundaries(z: float) -> None:
    # One millimetre either side: the step must be what the gradient explains
    # (< 1e-6 relative), not a jump between two formulas.
    below, above = z - 1e-3, z + 1e-3
    for f in (atm.density, atm.pressure):
        assert rel(f(below), f(above)) < 1e-6, f.__name__
    # Temperature joins to the standard's own printed precision: its rounded
    # constants give 239.9997 K for the 91-110 km ellipse at 110 km against
    # exactly 240 K for the next layer, and 186.8672 K for T_M·M/M0 at 86 km
    # against T7 = 186.8673 K.
    for f in (atm.temperature, atm.speed_of_sound):
        assert rel(f(below), f(above)) < 2e-6, f.__name__
    assert rel(atm.density_scalar(below), atm.density_scalar(above)) < 1e-6


def test_below_sea_level_extrapolates_first_layer_and_clamps_at_minus_5_km() -> None:
    z = -5000.0
    h = R0 * z / (R0 + z)
    t = 288.15 - 0.0065 * h
    assert atm.temperature(z) == pytest.approx(t, rel=1e-12)
    # Table I at -5 km: 320.676 K and 1.9311 kg/m³.
    assert atm.temperature(z) == pytest.approx(320.676, abs=1e-3)
    assert atm.density(z) == pytest.approx(1.9311, rel=1e-4)
    for f in (atm.density, atm.pressure, atm.temperature, atm.speed_of_sound):
        assert f(-50_000.0) == f(z)
    assert atm.density_scalar(-50_000.0) == atm.density(z)


def test_above_1000_km_density_and_pressure_are_zero() -> None:
    assert atm.density(1_000_000.0) == pytest.approx(3.561e-15, rel=1e-12)
    assert atm.density(1_000_000.5) == 0.0
    assert atm.density_scalar(1_000_000.5) == 0.0
    assert atm.pressure(2e6) == 0.0
    assert 999.0 < atm.temperature(2e6) <= 1000.0
    assert math.isfinite(atm.speed_of_sound(2e6))


def test_scalar_in_float_out_array_in_array_out() -> None:
    assert isinstance(atm.density(1000.0), float)
    assert isinstance(atm.density(np.float64(1000.0)), float)
    zs = np.array([[0.0, 1e4], [1e5, 2e6]])
    for f in (atm.density, atm.pressure, atm.temperature, atm.speed_of_sound):
        out = f(zs)
        assert isinstance(out, np.ndarray) and out.shape == zs.shape
        for idx in np.ndindex(zs.shape):
            assert out[idx] == f(float(zs[idx])), f.__name__


def test_density_scalar_returns_plain_float() -> None:
    for z in (-6000.0, 0.0, 50_000.0, 86_000.0, 300_000.0, 2e6):
        assert type(atm.density_scalar(z)) is float


@settings(max_examples=300, deadline=None)
@given(altitudes)
def test_scalar_and_vector_density_agree(z: float) -> None:
    vec, sca = atm.density(z), atm.density_scalar(z)
    if vec == 0.0:
        assert sca == 0.0
    else:
        assert rel(sca, vec) < 1e-12


@settings(max_examples=300, deadline=None)
@given(altitudes, altitudes)
def test_density_is_monotone_decreasing(z1: float, z2: float) -> None:
    lo, hi = min(z1, z2), max(z1, z2)
    rho_lo, rho_hi = atm.density(lo), atm.density(hi)
    # Rounding may tie two formulas at a layer base to a few ulp; beyond that
    # density must not increase, and it must strictly fall over 1 m in range.
    assert rho_hi <= rho_lo * (1.0 + 1e-13)
    if lo >= atm.Z_MIN and hi <= atm.Z_MAX and hi - lo > 1.0:
        assert rho_hi < rho_lo


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-10_000.0, max_value=1_000_000.0, allow_nan=False))
def test_positive_and_finite_up_to_1000_km(z: float) -> None:
    for f in (atm.density, atm.pressure, atm.temperature, atm.speed_of_sound):
        v = f(z)
        assert math.isfinite(v) and v > 0.0, f.__name__
    assert atm.density_scalar(z) > 0.0


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-5_000.0, max_value=79_999.0, allow_nan=False))
def test_ideal_gas_law_below_86_km(z: float) -> None:
    # ρ = P·M0/(R*·T_M) (eq. 42) ties the three outputs together.
    rho = atm.pressure(z) * atm.M0 / (atm.R_STAR * atm.molecular_temperature(z))
    assert rel(atm.density(z), rho) < 1e-12


def test_vector_call_over_full_range() -> None:
    zs = np.linspace(-10_000.0, 1_200_000.0, 5001)
    rho = atm.density(zs)
    assert np.all(np.diff(rho) <= 0.0)
    assert np.all(rho[zs <= atm.Z_MAX] > 0.0) and np.all(rho[zs > atm.Z_MAX] == 0.0)
    scalar = np.array([atm.density_scalar(float(z)) for z in zs])
    np.testing.assert_allclose(scalar, rho, rtol=1e-12, atol=0.0)
