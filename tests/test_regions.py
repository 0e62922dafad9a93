"""Tests for mwx.geo.regions (protected-area geometry of the korea-japan theater)."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pyproj
import pytest
import shapely

from mwx.assess.distribution import ImpactDistribution
from mwx.geo import wgs84
from mwx.geo.regions import (
    ProtectedArea,
    contains,
    load_areas,
    path_crossings,
    world_land_outlines,
)
from mwx.warn.rules import distribution_threats

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


# --------------------------------------------------------------------------- partner boundaries
# Where two partners' 200 nmi buffers overlap (in the shipped data only KR and JP), the zones are
# split along the equidistance line of their territories. These tests check that against
# distances computed here, by brute force with pyproj.Geod, not with the derivation script.

# Geodesic area [km^2] of KR eez u JP eez in the buffer-only file the split was made from (git
# 68196c8, src/mwx/data/regions/korea-japan.geojson): splitting must not lose or add sea.
KR_JP_EEZ_UNION_KM2 = 4_499_739.5
# Sea-of-Japan / East-China-Sea window holding the whole former KR/JP overlap
# (124.70-135.13 E, 29.86-39.85 N), and a wider one for the coasts that can be nearest to it.
OVERLAP_BOX = (124.5, 29.5, 135.5, 40.5)
COAST_BOX = (118.0, 24.0, 146.0, 47.0)
LIANCOURT = (131.867, 37.241)  # Liancourt Rocks (Dokdo / Takeshima), lon, lat deg


def geodesic_km2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


@pytest.fixture(scope="module")
def coasts(areas: tuple[ProtectedArea, ...]) -> dict[str, np.ndarray]:
    """KR and JP territory boundary points (lon, lat deg) <= 0.01 deg (~1 km) apart, near the old overlap.

    Nearest vertex vs nearest edge: <= s^2 / (8 d), i.e. < 10 m at the >= 20 km where it is used.
    """
    out = {}
    for p in ("KR", "JP"):
        xy = shapely.get_coordinates(shapely.segmentize(area(areas, p, "territory").geometry, 0.01))
        x0, y0, x1, y1 = COAST_BOX
        out[p] = xy[(xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)]
    return out


def coast_km(coast: np.ndarray, lon: float, lat: float) -> float:
    """Geodesic distance [km] from (lon, lat) deg to the nearest of the coast points."""
    n = len(coast)
    _, _, s = GEOD.inv(np.full(n, lon), np.full(n, lat), coast[:, 0], coast[:, 1])
    return float(s.min()) / 1e3


@pytest.mark.parametrize(("a", "b"), [("JP", "KR"), ("JP", "US"), ("KR", "US")])
def test_partner_eez_do_not_overlap(areas: tuple[ProtectedArea, ...], a: str, b: str) -> None:
    common = area(areas, a, "eez").geometry.intersection(area(areas, b, "eez").geometry)
    # shared edges are snapped to the 1e-4 deg grid: at most slivers of a grid cell
    assert geodesic_km2(common) < 0.01, (a, b)


# Geodesic transects from a Korean to a Japanese coast that cross the median line: Korea Strait,
# East China Sea, the Sea of Japan / East Sea from its south-west to the north-east tip of the
# former overlap, and past the Liancourt Rocks (Ulleungdo - Oki).
TRANSECTS = {
    "Korea Strait, Busan - Tsushima": ((129.05, 35.07), (129.35, 34.60)),
    "Jeju - Goto Islands": ((126.95, 33.35), (128.65, 32.75)),
    "East China Sea, Jeju - west Kyushu": ((126.4, 33.15), (129.6, 30.9)),
    "East China Sea, south-west end": ((125.5, 32.0), (128.3, 29.6)),
    "Pohang - Oki": ((129.5, 36.0), (133.0, 36.2)),
    "Ulleungdo - Oki": ((130.95, 37.45), (133.15, 36.3)),
    "Ulleungdo - Noto": ((130.95, 37.5), (136.7, 37.45)),
    "middle of the Sea of Japan, 38.3 N": ((128.7, 38.3), (138.3, 38.3)),
    "north-east end, 39.6 N": ((130.9, 39.6), (137.0, 39.6)),
}
SIDE_OFFSET_M = 3_000.0  # test points this far either side of the true median line


@pytest.mark.parametrize("place", list(TRANSECTS))
def test_points_beside_kr_jp_median_line_in_nearer_partners_eez_only(
    areas: tuple[ProtectedArea, ...], coasts: dict[str, np.ndarray], place: str
) -> None:
    (lon_a, lat_a), (lon_b, lat_b) = TRANSECTS[place]
    az, _, length = GEOD.inv(lon_a, lat_a, lon_b, lat_b)

    def at(s: float) -> tuple[float, float, float]:
        """Point s metres along the transect and how much nearer [km] it is to Korea than to Japan."""
        lon, lat, _ = GEOD.fwd(lon_a, lat_a, az, s)
        return lon, lat, coast_km(coasts["JP"], lon, lat) - coast_km(coasts["KR"], lon, lat)

    # the true median point on the transect, by bisection (to ~10 m)
    lo, hi = 0.0, length
    assert at(lo)[2] > 0.0 > at(hi)[2], place
    while hi - lo > 10.0:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if at(mid)[2] > 0.0 else (lo, mid)
    eez = [area(areas, "KR", "eez"), area(areas, "JP", "eez")]
    for offset, expected in ((-SIDE_OFFSET_M, "KR"), (SIDE_OFFSET_M, "JP")):
        lon, lat, kr_nearer_by_km = at(lo + offset)
        nearer = "KR" if kr_nearer_by_km > 0.0 else "JP"
        assert nearer == expected, (place, offset, kr_nearer_by_km)
        inside = {a.partner for a, m in zip(eez, contains(eez, lat, lon)[:, 0], strict=True) if m}
        assert inside == {nearer}, (place, offset, lon, lat, inside)


def test_random_points_never_in_both_kr_and_jp_eez(areas: tuple[ProtectedArea, ...]) -> None:
    # the alert-level claim: one impact point never raises both Korea's and Japan's EEZ alert
    rng = np.random.default_rng(20240611)
    x0, y0, x1, y1 = OVERLAP_BOX
    lon, lat = rng.uniform(x0, x1, 40_000), rng.uniform(y0, y1, 40_000)
    kr, jp = contains([area(areas, "KR", "eez"), area(areas, "JP", "eez")], lat, lon)
    assert not np.any(kr & jp), np.count_nonzero(kr & jp)
    assert kr.sum() > 4_000 and jp.sum() > 4_000  # the window really covers both zones


def test_kr_jp_split_loses_nothing(areas: tuple[ProtectedArea, ...]) -> None:
    kr, jp = area(areas, "KR", "eez").geometry, area(areas, "JP", "eez").geometry
    union_km2 = geodesic_km2(kr.union(jp))
    # the union is the old buffers' union (up to grid snapping along the line: < 1 km^2 of 4.5e6)
    assert union_km2 == pytest.approx(KR_JP_EEZ_UNION_KM2, abs=1.0)
    assert geodesic_km2(kr) + geodesic_km2(jp) == pytest.approx(union_km2, abs=1.0)  # disjoint


@pytest.mark.parametrize(
    ("place", "lon", "lat", "partner"),
    [
        ("Yellow Sea, west of Taean", 124.4, 36.8, "KR"),
        # these five lay in both buffers before the split
        ("south-west of Jeju", 124.9, 32.5, "KR"),
        ("East Sea, north-east of Ulleungdo", 131.5, 39.3, "KR"),
        ("off Pohang", 130.2, 35.9, "KR"),
        ("off Oki", 132.6, 35.9, "JP"),
        ("west of the Danjo Islands", 127.5, 30.5, "JP"),
        ("Sea of Japan, west of Okushiri", 136.5, 42.0, "JP"),
        ("Pacific, east of Sanriku", 144.5, 39.0, "JP"),
    ],
)
def test_points_far_from_the_line_stay_in_their_zone(
    areas: tuple[ProtectedArea, ...], place: str, lon: float, lat: float, partner: str
) -> None:
    inside = {p for p, k in which(areas, lat, lon) if k == "eez"}
    assert inside == {partner}, place


def test_metadata_records_boundary_and_disputed_feature(
    areas: tuple[ProtectedArea, ...], coasts: dict[str, np.ndarray]
) -> None:
    path = resources.files("mwx").joinpath("data", "regions", "korea-japan.geojson")
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert "equidistance" in meta["eez"]
    (kr_jp,) = [b for b in meta["boundaries"] if b["partners"] == ["JP", "KR"]]
    assert kr_jp["offset_km"]["max"] < 1.0  # the line's measured accuracy
    (rocks,) = meta["disputed"]
    assert "Liancourt" in rocks["feature"] and rocks["in_source"] is False
    # independently: no partner territory within 10 km of the rocks, so the line cannot use them
    for p in ("KR", "JP"):
        assert coast_km(coasts[p], *LIANCOURT) > 10.0
        assert not contains([area(areas, p, "territory")], LIANCOURT[1], LIANCOURT[0])[0, 0]


# ------------------------------------------------------------------ alerts on a straddling cloud
T_IMPACT = 1_664_836_000.0  # an arbitrary Unix time [s]


def falling_cloud(lon: float, lat: float, sigma_km: float, n: int = 2_000, seed: int = 5) -> ImpactDistribution:
    """One track's impact distribution: isotropic Gaussian impacts (sigma_km) around (lon, lat) deg.

    The mean path comes down from 100 km, 300 km north of the impact, over open sea.
    """
    rng = np.random.default_rng(seed)
    east_m, north_m = rng.standard_normal((2, n)) * sigma_km * 1e3
    s_lon, s_lat, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), np.degrees(np.arctan2(east_m, north_m)),
                               np.hypot(east_m, north_m))  # fmt: skip
    samples = wgs84.geodetic_to_ecef(np.radians(s_lat), np.radians(s_lon), np.zeros(n))
    p_lon, p_lat, _ = GEOD.fwd(np.full(3, lon), np.full(3, lat), np.zeros(3), [300e3, 150e3, 0.0])
    t = T_IMPACT + np.array([-300.0, -150.0, 0.0])
    pos = wgs84.geodetic_to_ecef(np.radians(p_lat), np.radians(p_lon), np.array([100e3, 60e3, 0.0]))
    states = np.concatenate([pos, np.gradient(pos, t, axis=0)], axis=1)
    return ImpactDistribution(
        time=np.array([T_IMPACT]),
        lat=np.radians([lat]),
        lon=np.radians([lon]),
        cov_en=np.diag([(sigma_km * 1e3) ** 2] * 2)[None],
        time_sigma=np.array([5.0]),
        sample_position=samples[None],
        sample_time=np.full((1, n), T_IMPACT),
        apogee_alt=np.array([100e3]),
        nominal_path=[(t, states)],
    )


def eez_impact_probabilities(areas: tuple[ProtectedArea, ...], dist: ImpactDistribution) -> dict[str, float]:
    (found,) = distribution_threats(areas, dist)
    return {t.area.partner: t.probability for t in found if t.reason == "impact" and t.area.kind == "eez"}


def test_eez_impact_threats_share_one_sample_set(areas: tuple[ProtectedArea, ...]) -> None:
    # a cloud on the KR/JP median line between Ulleungdo and Oki: each sample lands in one zone,
    # so the two partners' EEZ impact probabilities add up to at most 1
    p = eez_impact_probabilities(areas, falling_cloud(132.06, 36.88, sigma_km=10.0))
    assert set(p) == {"KR", "JP"}
    assert p["KR"] + p["JP"] <= 1.0
    assert 0.2 < p["KR"] < 0.8 and 0.2 < p["JP"] < 0.8
    # a tight cloud 15 km on the Japanese side (all of it in the old overlap): only Japan's EEZ
    lon, lat, _ = GEOD.fwd(132.06, 36.88, 118.0, 15e3)
    p = eez_impact_probabilities(areas, falling_cloud(lon, lat, sigma_km=3.0))
    assert set(p) == {"JP"} and p["JP"] > 0.99
