"""Tests for mwx.geo.regions (protected-area geometry of the korea-japan theater)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from mwx.geo.regions import (
    ProtectedArea,
    contains,
    load_areas,
    path_crossings,
    world_land_outlines,
)

GEOD = pyproj.Geod(ellps="WGS84")
EEZ_KM = 370.4  # 200 nautical miles
# error budget of the shipped eez boundary: territory simplification (~0.5 km),
# eez simplification (~1 km), buffer chord sag (~0.5 km), projection (<1 km)
EEZ_TOL_KM = 2.5

PARTNERS = ("JP", "KR", "US")


@pytest.fixture(scope="module")
def areas() -> tuple[ProtectedArea, ...]:
    return load_areas("korea-japan")


def area(areas: tuple[ProtectedArea, ...], partner: str, kind: str) -> ProtectedArea:
    (found,) = [a for a in areas if a.partner == partner and a.kind == kind]
    return found


def which(areas: tuple[ProtectedArea, ...], lat: float, lon: float) -> set[tuple[str, str]]:
    mask = contains(areas, lat, lon)[:, 0]
    return {(a.partner, a.kind) for a, m in zip(areas, mask, strict=True) if m}


def min_distance_km(geom: shapely.Geometry, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Geodesic distance (km) from each point to the nearest vertex of geom.

    geom is densified to <= 0.05 deg edges first, so the nearest vertex is within
    a few metres of the nearest edge at the ~370 km distances of interest.
    """
    verts = shapely.get_coordinates(shapely.segmentize(geom, 0.05))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    out = np.empty(lat.size)
    for i, (la, lo) in enumerate(zip(lat, lon, strict=True)):
        n = len(verts)
        _, _, s = GEOD.inv(np.full(n, lo), np.full(n, la), verts[:, 0], verts[:, 1])
        out[i] = s.min() / 1e3
    return out


# --------------------------------------------------------------------------- places
TERRITORY_CASES = [
    ("Tokyo", 35.6895, 139.6917, "JP"),
    ("Aomori", 40.82, 140.74, "JP"),
    ("Sapporo", 43.0621, 141.3544, "JP"),
    ("Naha, Okinawa", 26.2124, 127.6809, "JP"),
    ("Seoul", 37.5665, 126.9780, "KR"),
    ("Busan", 35.1796, 129.0756, "KR"),
    ("Jeju", 33.4996, 126.5312, "KR"),
    ("Guam (Hagatna)", 13.4443, 144.7937, "US"),
    ("Honolulu", 21.3069, -157.8583, "US"),
    ("Anchorage", 61.2181, -149.9003, "US"),
    ("Adak, Aleutians", 51.9, -176.6, "US"),
]


@pytest.mark.parametrize(("place", "lat", "lon", "partner"), TERRITORY_CASES)
def test_place_in_partner_territory(
    areas: tuple[ProtectedArea, ...], place: str, lat: float, lon: float, partner: str
) -> None:
    inside = which(areas, lat, lon)
    assert (partner, "territory") in inside, place
    assert (partner, "eez") in inside, place  # eez includes the territory
    others = {p for p, k in inside if k == "territory"} - {partner}
    assert not others, f"{place} also in territory of {others}"


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("Pyongyang", 39.0392, 125.7625),
        ("Vladivostok", 43.1155, 131.8855),
        ("Beijing", 39.9042, 116.4074),
    ],
)
def test_foreign_cities_in_no_area(areas: tuple[ProtectedArea, ...], place: str, lat: float, lon: float) -> None:
    # foreign land is cut out of the eez approximation, so not even an eez covers them
    assert which(areas, lat, lon) == set(), place


def test_sea_of_japan_point_in_jp_eez_not_territory(
    areas: tuple[ProtectedArea, ...],
) -> None:
    lat, lon = 40.0, 138.7  # west of Oga peninsula / Akita coast
    jp_land = area(areas, "JP", "territory").geometry
    d = min_distance_km(jp_land, lat, lon)[0]
    assert 70.0 < d < 150.0, d  # really ~100 km off Honshu
    assert which(areas, lat, lon) == {("JP", "eez")}


def test_far_pacific_point_in_no_eez(areas: tuple[ProtectedArea, ...]) -> None:
    lon, lat, _ = GEOD.fwd(140.74, 40.82, 90.0, 3_200_000.0)  # 3200 km east of Aomori
    assert which(areas, float(lat), float(lon)) == set()


def test_point_just_beyond_200nmi_not_in_jp_eez(
    areas: tuple[ProtectedArea, ...],
) -> None:
    lat, lon = 39.0, 146.6  # Pacific, east of Sanriku coast
    jp_land = area(areas, "JP", "territory").geometry
    d = min_distance_km(jp_land, lat, lon)[0]
    assert EEZ_KM + 10.0 < d < 450.0, d  # beyond 200 nmi of every Japanese island
    assert ("JP", "eez") not in which(areas, lat, lon)
    # and a point on the same line well within 200 nmi is inside
    assert ("JP", "eez") in which(areas, 39.0, 144.5)


# --------------------------------------------------------------------------- eez distance
def _boundary_points(geom: shapely.Geometry) -> np.ndarray:
    rings = shapely.get_exterior_ring(shapely.get_parts(geom))
    return shapely.get_coordinates(shapely.segmentize(rings, 0.25))


def test_jp_eez_boundary_is_200nmi_from_territory(
    areas: tuple[ProtectedArea, ...],
) -> None:
    land = area(areas, "JP", "territory").geometry
    pts = _boundary_points(area(areas, "JP", "eez").geometry)
    # open Pacific east of Honshu: no foreign land within 200 nmi there, so the
    # boundary must be the pure buffer edge
    sel = (pts[:, 0] > 141.5) & (pts[:, 1] < 41.0)
    assert sel.sum() > 30
    d = min_distance_km(land, pts[sel, 1], pts[sel, 0])
    np.testing.assert_allclose(d, EEZ_KM, atol=EEZ_TOL_KM)


@pytest.mark.parametrize("partner", ["JP", "KR"])
def test_eez_never_beyond_200nmi(areas: tuple[ProtectedArea, ...], partner: str) -> None:
    # elsewhere the boundary may be closer (foreign coastlines), never farther
    land = area(areas, partner, "territory").geometry
    pts = _boundary_points(area(areas, partner, "eez").geometry)[::3]
    d = min_distance_km(land, pts[:, 1], pts[:, 0])
    assert d.max() < EEZ_KM + EEZ_TOL_KM
    assert d.max() > EEZ_KM - EEZ_TOL_KM  # and the buffer edge is reached somewhere


# --------------------------------------------------------------------------- antimeridian
def test_antimeridian(areas: tuple[ProtectedArea, ...]) -> None:
    assert ("US", "territory") in which(areas, 51.9, -176.6)  # Adak
    assert ("US", "territory") in which(areas, 51.9, 183.4)  # same place, lon unwrapped
    assert ("US", "eez") in which(areas, 52.0, 179.5)
    # on and either side of the seam near the western Aleutians
    for lon in (179.99, 180.0, -180.0, -179.99, 540.0):
        assert ("US", "eez") in which(areas, 52.0, lon), lon
    # nothing is stored outside [-180, 180]
    for a in areas:
        minx, _, maxx, _ = a.geometry.bounds
        assert minx >= -180.0 and maxx <= 180.0


def test_us_eez_reaches_across_antimeridian(areas: tuple[ProtectedArea, ...]) -> None:
    # Amchitka (179.2E) and Adak (176.6W) buffers both straddle 180: the eez
    # must have pieces touching the seam from both sides
    eez = area(areas, "US", "eez").geometry
    touching_east = [p for p in shapely.get_parts(eez) if p.bounds[2] == 180.0]
    touching_west = [p for p in shapely.get_parts(eez) if p.bounds[0] == -180.0]
    assert touching_east and touching_west


# --------------------------------------------------------------------------- structure
def test_structure(areas: tuple[ProtectedArea, ...]) -> None:
    assert {(a.partner, a.kind) for a in areas} == {(p, k) for p in PARTNERS for k in ("territory", "eez")}
    assert len(areas) == 6
    for a in areas:
        assert a.geometry.is_valid, a.name
        assert not a.geometry.is_empty, a.name
        assert a.name
    for p in PARTNERS:
        terr = area(areas, p, "territory").geometry
        eez = area(areas, p, "eez").geometry
        assert eez.contains(terr), p
        assert eez.area > 2 * terr.area, p


def test_load_areas_cached_and_unknown_theater() -> None:
    assert load_areas() is load_areas("korea-japan")
    with pytest.raises(ValueError, match="narnia"):
        load_areas("narnia")
    with pytest.raises(ValueError, match=r"\.\./x"):
        load_areas("../x")


def test_contains_shapes(areas: tuple[ProtectedArea, ...]) -> None:
    assert contains(areas, 35.0, 139.0).shape == (6, 1)
    lat = np.array([[35.6895, 0.0], [np.nan, 61.2181]])
    lon = np.array([[139.6917, 0.0], [139.0, -149.9003]])
    m = contains(areas, lat, lon)
    assert m.shape == (6, 4) and m.dtype == bool
    assert m[:, 1].sum() == 0 and m[:, 2].sum() == 0  # Gulf of Guinea, NaN
    assert contains([], [1.0], [2.0]).shape == (0, 1)


# --------------------------------------------------------------------------- paths
def test_path_crossings_east_across_northern_honshu(
    areas: tuple[ProtectedArea, ...],
) -> None:
    t = np.arange(0.0, 1000.0 + 1e-9, 10.0)
    lon = 134.0 + 16.0 * t / 1000.0  # 134E -> 150E at 40.3N
    lat = np.full_like(t, 40.3)
    jp = [area(areas, "JP", "territory"), area(areas, "JP", "eez")]
    hits = path_crossings(jp, t, lat, lon)
    terr = [(t0, t1) for a, t0, t1 in hits if a.kind == "territory"]
    eez = [(t0, t1) for a, t0, t1 in hits if a.kind == "eez"]
    assert len(terr) == 1 and len(eez) == 1
    (te, tx), (ee, ex) = terr[0], eez[0]
    assert 0.0 < ee < te < tx < ex < 1000.0
    assert hits[0][0].kind == "eez"  # time order: the eez is entered first
    # the coasts at 40.3N are near 140.0E (Noshiro) and 141.8E (Kuji)
    assert 139.8 < 134.0 + 16.0 * te / 1000.0 < 140.2
    assert 141.6 < 134.0 + 16.0 * tx / 1000.0 < 142.0
    # refined times lie on the boundary: just outside before entry, inside after
    g = jp[0].geometry
    x = 134.0 + 16.0 * np.array([te - 0.01, te + 0.01, tx - 0.01, tx + 0.01]) / 1000.0
    assert list(shapely.intersects_xy(g, x, np.full(4, 40.3))) == [
        False,
        True,
        True,
        False,
    ]


def test_path_crossings_start_inside_and_antimeridian(
    areas: tuple[ProtectedArea, ...],
) -> None:
    us = [area(areas, "US", "territory"), area(areas, "US", "eez")]
    # west-bound from Adak across the antimeridian and on into the open sea
    t = np.linspace(0.0, 600.0, 61)
    lon = -176.6 - 20.0 * t / 600.0  # wraps past -180 to 163.4E
    lat = np.full_like(t, 51.9)
    hits = path_crossings(us, t, lat, lon)
    eez = [(t0, t1) for a, t0, t1 in hits if a.kind == "eez"]
    terr = [(t0, t1) for a, t0, t1 in hits if a.kind == "territory"]
    # starts on Adak; the eez is one continuous stretch through the seam (the
    # Aleutians run to Attu at 173E, so the eez ends near 168E)
    assert terr and terr[0][0] == 0.0
    assert len(eez) == 1 and eez[0][0] == 0.0
    exit_lon = -176.6 - 20.0 * eez[0][1] / 600.0 + 360.0
    assert 165.0 < exit_lon < 170.0


def test_path_crossings_validation(areas: tuple[ProtectedArea, ...]) -> None:
    with pytest.raises(ValueError):
        path_crossings(areas, [0.0, 1.0], [35.0], [139.0, 139.1])
    with pytest.raises(ValueError):
        path_crossings(areas, [1.0, 0.0], [35.0, 35.0], [139.0, 139.1])
    assert path_crossings(areas, [], [], []) == []


# --------------------------------------------------------------------------- map
def test_world_land_outlines() -> None:
    rings = world_land_outlines()
    assert len(rings) > 50
    total = 0
    for r in rings:
        assert r.ndim == 2 and r.shape[1] == 2 and r.shape[0] >= 4
        assert np.array_equal(r[0], r[-1])
        assert r[:, 0].min() >= -180.0 and r[:, 0].max() <= 180.0
        assert r[:, 1].min() >= -90.0 and r[:, 1].max() <= 90.0
        total += len(r)
    assert total > 2000
    # a land map must show Honshu: some ring passes near Tokyo
    near_tokyo = [r for r in rings if np.any(np.hypot(r[:, 0] - 139.7, r[:, 1] - 35.6) < 1.0)]
    assert near_tokyo
