"""The package's one longitude wrap (mwx.geo.lon.wrap_lon) and one geodesic ellipse (mwx.geo.ellipse).

Properties, checked with hypothesis: a wrapped longitude is in its window, names the same meridian and
does not move when wrapped again; every point of an ellipse lies at the ellipse's own distance from the
centre in its own direction, measured independently here with pyproj's inverse geodesic and the polar
equation of an ellipse (r(φ) for a point at parametric angle φ is hypot(a cos φ, b sin φ), at the angle
atan2(b sin φ, a cos φ) clockwise from the major axis).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from mwx.geo.ellipse import geodesic_ellipse
from mwx.geo.lon import wrap_lon

GEOD = Geod(ellps="WGS84")

longitudes = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
centers = st.floats(min_value=-720.0, max_value=720.0, allow_nan=False)


def turns_apart(a: float, b: float) -> float:
    """How far (a - b) is from a whole number of turns [deg]."""
    d = (a - b) / 360.0
    return abs(d - round(d)) * 360.0


# ------------------------------------------------------------------------------------------ wrap_lon
@given(longitudes, centers)
def test_wrap_lon_is_in_the_window_and_the_same_meridian(lon: float, center: float) -> None:
    out = wrap_lon(lon, center)
    assert isinstance(out, float)
    assert center - 180.0 <= out < center + 180.0
    assert turns_apart(out, lon) < 1e-9


@given(longitudes, centers)
def test_wrap_lon_twice_is_once(lon: float, center: float) -> None:
    once = wrap_lon(lon, center)
    assert wrap_lon(once, center) == pytest.approx(once, abs=1e-9)


@given(st.lists(longitudes, min_size=1, max_size=20), centers)
def test_wrap_lon_of_an_array_is_elementwise(lons: list[float], center: float) -> None:
    out = wrap_lon(np.array(lons), center)
    assert isinstance(out, np.ndarray) and out.shape == (len(lons),)
    assert out.tolist() == [wrap_lon(x, center) for x in lons]


def test_wrap_lon_examples() -> None:
    assert wrap_lon(190.0) == -170.0
    assert wrap_lon(180.0) == -180.0  # the window is half-open: [-180, 180)
    assert wrap_lon(-180.0) == -180.0
    assert wrap_lon(-170.0, center=180.0) == 190.0
    # Just west of -180: the naive (x + 180) % 360 - 180 rounds to +180, outside the window.
    assert wrap_lon(math.nextafter(-180.0, -math.inf)) == -180.0
    assert wrap_lon([350.0, 10.0], center=0.0).tolist() == [-10.0, 10.0]
    assert math.isnan(wrap_lon(math.nan))


# ------------------------------------------------------------------------------------ geodesic ellipse
@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(min_value=-85.0, max_value=85.0),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    a_km=st.floats(min_value=0.01, max_value=2000.0),
    ratio=st.floats(min_value=0.0, max_value=1.0),
    orientation=st.floats(min_value=-360.0, max_value=360.0),
    n=st.integers(min_value=3, max_value=90),
)
def test_every_point_at_its_distance_in_its_direction(
    lat: float, lon: float, a_km: float, ratio: float, orientation: float, n: int
) -> None:
    b_km = a_km * ratio
    plat, plon = geodesic_ellipse(lat, lon, a_km, b_km, orientation, n)
    assert plat.shape == plon.shape == (n,)
    assert np.all((plon >= lon - 180.0) & (plon < lon + 180.0))  # continuous around the centre
    phi = 2.0 * np.pi * np.arange(n) / n
    along, across = a_km * np.cos(phi), b_km * np.sin(phi)
    want_km = np.hypot(along, across)
    want_az = orientation + np.degrees(np.arctan2(across, along))
    az, _, dist_m = GEOD.inv(np.full(n, lon), np.full(n, lat), plon, plat)
    assert np.asarray(dist_m) / 1e3 == pytest.approx(want_km, rel=1e-7, abs=1e-6)
    far = want_km > 1e-3  # a point at the centre has no direction
    for got, want in zip(np.asarray(az)[far], want_az[far], strict=True):
        assert turns_apart(float(got), float(want)) < 1e-5


@given(
    lat=st.floats(min_value=-60.0, max_value=60.0),
    a_km=st.floats(min_value=1.0, max_value=500.0),
    n=st.integers(min_value=3, max_value=60),
)
def test_closed_and_circumscribed(lat: float, a_km: float, n: int) -> None:
    lat_c, lon_c = geodesic_ellipse(lat, 179.0, a_km, a_km / 2.0, 30.0, n, closed=True)
    assert lat_c.shape == (n + 1,) and lat_c[0] == lat_c[-1] and lon_c[0] == lon_c[-1]
    # Across the antimeridian the outline stays continuous around 179°, past 180 where it must.
    assert np.all(np.abs(lon_c - 179.0) < 90.0)
    plat, plon = geodesic_ellipse(lat, 179.0, a_km, a_km, 0.0, n, circumscribed=True)
    _, _, dist_m = GEOD.inv(np.full(n, 179.0), np.full(n, lat), plon, plat)
    # A circle's circumscribed n-gon: every vertex at radius / cos(π/n).
    assert np.asarray(dist_m) / 1e3 == pytest.approx(np.full(n, a_km / math.cos(math.pi / n)), rel=1e-7)


def test_ellipse_orientation() -> None:
    # Major axis due east: the outline spans 2 a east-west and 2 b north-south.
    lat, lon = geodesic_ellipse(0.0, 10.0, 30.0, 10.0, 90.0, 72)
    ew_km = GEOD.inv(lon.min(), 0.0, lon.max(), 0.0)[2] / 1000.0
    ns_km = GEOD.inv(10.0, lat.min(), 10.0, lat.max())[2] / 1000.0
    assert ew_km == pytest.approx(60.0, rel=1e-6)
    assert ns_km == pytest.approx(20.0, rel=1e-6)


@pytest.mark.parametrize("bad", [(-1.0, 1.0), (1.0, math.nan), (math.inf, 1.0)])
def test_bad_axes_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="must be finite"):
        geodesic_ellipse(0.0, 0.0, bad[0], bad[1], 0.0)
    with pytest.raises(ValueError, match="at least 3"):
        geodesic_ellipse(0.0, 0.0, 1.0, 1.0, 0.0, n=2)
