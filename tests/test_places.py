"""Tests for mwx.geo.places (gazetteer, nearest place, descriptions, time zones, seas).

The oracle is pyproj's WGS-84 geodesic applied by brute force to the raw JSON
file (read here without mwx), so the module's search, filters and wording are
checked against an independent computation.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from mwx.geo import places

GEOD = Geod(ellps="WGS84")
COMPASS = (
    "north", "north-north-east", "north-east", "east-north-east", "east", "east-south-east", "south-east",
    "south-south-east", "south", "south-south-west", "south-west", "west-south-west", "west", "west-north-west",
    "north-west", "north-north-west",
)  # fmt: skip
DESCRIBED = re.compile(r"about (?P<km>[\d,]+) km (?P<word>[a-z-]+) of (?P<name>.+)")

# points over the theater: the Korean peninsula, Japan and the seas around them
LAT = st.floats(20.0, 55.0, allow_nan=False)
LON = st.floats(115.0, 160.0, allow_nan=False)


def raw() -> dict:
    text = (resources.files("mwx") / "data" / "places" / "korea-japan.json").read_text(encoding="utf-8")
    return json.loads(text)


FEATURES = raw()["features"]


def distances_km(lat: float, lon: float, features: list[dict]) -> np.ndarray:
    n = len(features)
    _, _, s = GEOD.inv(
        np.array([f["lon"] for f in features]), np.array([f["lat"] for f in features]), np.full(n, lon), np.full(n, lat)
    )
    return np.asarray(s) / 1e3


def step_for(km: float) -> int:
    """Rounding step the reports promise: 10 km under 300 km, 50 under 1000, else 100."""
    return 10 if km < 300 else 50 if km < 1000 else 100


# --------------------------------------------------------------------------- the data file
def test_gazetteer_shape_and_coverage() -> None:
    data = raw()
    assert "approximate public coordinates" in data["note"]
    assert 80 <= len(FEATURES) <= 150
    assert data["time_zones"] == {
        "KP": "Asia/Pyongyang",
        "KR": "Asia/Seoul",
        "JP": "Asia/Tokyo",
        "CN": "Asia/Shanghai",
        "RU": "Asia/Vladivostok",
    }
    for f in FEATURES:
        assert f["kind"] in places.KINDS, f
        assert f["country"] in data["time_zones"], f
        # the theater: 20-55 N, 115-160 E (every place named in the brief lies inside)
        assert 20.0 <= f["lat"] <= 55.0 and 115.0 <= f["lon"] <= 160.0, f
    names = {f["name"] for f in FEATURES}
    for needed in (
        "Okushiri Island", "Rishiri Island", "Rebun Island", "Cape Erimo", "Cape Soya", "Cape Shiretoko",
        "Cape Nosappu", "Oshima Peninsula", "Aomori Prefecture", "Akita Prefecture", "Yamagata Prefecture",
        "Niigata Prefecture", "Toyama Prefecture", "Ishikawa Prefecture", "Fukui Prefecture", "Kyoto Prefecture",
        "Hyogo Prefecture", "Tottori Prefecture", "Shimane Prefecture", "Yamaguchi Prefecture",
        "Fukuoka Prefecture", "Saga Prefecture", "Nagasaki Prefecture", "Iwate Prefecture", "Miyagi Prefecture",
        "Fukushima Prefecture", "Ibaraki Prefecture", "Chiba Prefecture", "Kochi Prefecture",
        "Kagoshima Prefecture", "Okinawa Prefecture", "Sado Island", "Oki Islands", "Noto Peninsula", "Tsushima",
        "Goto Islands", "Tanegashima", "Yakushima", "Amami Oshima", "Okinawa Island", "Ishigaki Island",
        "Miyako Island", "Hachijojima", "Chichijima", "Ulleungdo", "Jeju Island", "Busan", "Pohang", "Gangneung",
        "Sokcho", "Incheon", "Baengnyeong Island", "Mokpo", "Seoul", "Pyongyang", "Sunan", "Mupyong-ni", "Sinpo",
        "Tongchang-ri (Sohae)", "Kusong", "Hamhung", "Wonsan", "Kaechon", "Kanggye", "Hwangju", "Sukchon",
        "Kimchaek", "Chongjin", "Nampo", "Vladivostok", "Nakhodka", "Dalian", "Dandong", "Qingdao",
    ):  # fmt: skip
        assert needed in names, needed
    # no two features share coordinates, so "nearest of its own coordinates" is well defined
    assert len({(f["lat"], f["lon"]) for f in FEATURES}) == len(FEATURES)


def test_every_zone_loads() -> None:
    for zone in places.time_zones().values():
        ZoneInfo(zone)


def test_well_known_coordinates() -> None:
    """A few places checked against independent, well-known values (to the file's ~0.05° accuracy)."""
    by_name = {f["name"]: f for f in FEATURES}
    # Pyongyang 39.02 N 125.75 E; Seoul 37.57 N 126.98 E; Cape Erimo 41.92 N 143.25 E; Cape Soya 45.52 N 141.94 E
    for name, lat, lon in (
        ("Pyongyang", 39.02, 125.75),
        ("Seoul", 37.57, 126.98),
        ("Cape Erimo", 41.92, 143.25),
        ("Cape Soya", 45.52, 141.94),
    ):
        assert abs(by_name[name]["lat"] - lat) <= 0.05 and abs(by_name[name]["lon"] - lon) <= 0.05, name


# --------------------------------------------------------------------------- nearest
@given(st.sampled_from(range(len(FEATURES))))
def test_nearest_of_own_coordinates_is_itself(k: int) -> None:
    f = FEATURES[k]
    found = places.nearest(f["lat"], f["lon"])
    assert int(found.index) == k
    assert found.place().name == f["name"]
    assert float(found.distance_km) < 1e-6


@settings(max_examples=200)
@given(LAT, LON)
def test_nearest_is_the_brute_force_minimum(lat: float, lon: float) -> None:
    d = distances_km(lat, lon, FEATURES)
    found = places.nearest(lat, lon)
    assert float(found.distance_km) == pytest.approx(d.min(), abs=1e-6)
    assert d[int(found.index)] == pytest.approx(d.min(), abs=1e-6)


@given(LAT, LON)
def test_filters(lat: float, lon: float) -> None:
    found = places.nearest(lat, lon, kinds=("cape", "island"), country="JP")
    place = found.place()
    assert place.kind in ("cape", "island") and place.country == "JP"
    pool = [f for f in FEATURES if f["kind"] in ("cape", "island") and f["country"] == "JP"]
    assert float(found.distance_km) == pytest.approx(distances_km(lat, lon, pool).min(), abs=1e-6)
    coastal = places.nearest(lat, lon, coastal=True).place()
    assert coastal.coastal
    assert places.nearest(lat, lon, country="XX").place() is None


@settings(max_examples=50)
@given(st.lists(st.tuples(LAT, LON), min_size=1, max_size=30))
def test_vectorised_equals_scalar(points: list[tuple[float, float]]) -> None:
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    many = places.nearest(lat, lon, coastal=True)
    assert many.index.shape == lat.shape
    for i, (la, lo) in enumerate(points):
        one = places.nearest(la, lo, coastal=True)
        assert one.index.shape == ()
        assert int(one.index) == int(many.index[i])
        assert float(one.distance_km) == float(many.distance_km[i])
        assert float(one.azimuth_deg) == float(many.azimuth_deg[i])
    # a 2-D query keeps its shape
    grid = places.nearest(lat[None, :], lon[:, None])
    assert grid.index.shape == (len(points), len(points))


def test_non_finite_points_have_no_place() -> None:
    found = places.nearest([np.nan, 39.0], [125.0, np.inf])
    assert list(found.index) == [-1, -1]
    assert np.isnan(found.distance_km).all()
    with pytest.raises(ValueError):
        places.describe(float("nan"), 125.0)


def test_longitude_wraps() -> None:
    a = places.nearest(41.2, 179.9)
    b = places.nearest(41.2, 179.9 - 360.0)
    assert int(a.index) == int(b.index)
    assert float(a.distance_km) == pytest.approx(float(b.distance_km), abs=1e-6)


# --------------------------------------------------------------------------- describe
@settings(max_examples=300)
@given(LAT, LON)
def test_describe_distance_and_direction(lat: float, lon: float) -> None:
    text = places.describe(lat, lon)
    d_all = distances_km(lat, lon, FEATURES)
    if text.startswith("near "):
        name = text.removeprefix("near ")
        same = [f for f in FEATURES if f["name"] == name]
        assert same, text
        assert distances_km(lat, lon, same).min() < 30.0
        assert d_all.min() < 30.0
        return
    m = DESCRIBED.fullmatch(text)
    assert m, text
    same = [f for f in FEATURES if f["name"] == m["name"]]
    assert same, text
    d = distances_km(lat, lon, same)
    f = same[int(np.argmin(d))]
    d = float(d.min())
    # the named place is the nearest of all, and at least the "near" threshold away
    assert d == pytest.approx(d_all.min(), abs=1e-6)
    assert d >= 30.0
    stated = int(m["km"].replace(",", ""))
    assert abs(stated - d) <= step_for(d) / 2 + 1e-6, (text, d)
    # the word names the 22.5° sector that holds the geodesic azimuth from the place to the point
    azimuth = GEOD.inv(f["lon"], f["lat"], lon, lat)[0] % 360.0
    centre = COMPASS.index(m["word"]) * 22.5
    off = (azimuth - centre + 180.0) % 360.0 - 180.0
    assert abs(off) <= 11.25 + 1e-6, (text, azimuth)


def test_describe_examples() -> None:
    # Mupyong-ni itself, and a point 5 km from it
    assert places.describe(40.61, 126.43) == "near Mupyong-ni"
    lon, lat, _ = GEOD.fwd(126.43, 40.61, 200.0, 5e3)
    assert places.describe(lat, lon) == "near Mupyong-ni"
    # 100 km due west of Okushiri Island (42.15 N 139.47 E) in the Sea of Japan: the next nearest place,
    # Oshima-Oshima (41.51 N 139.37 E), is about 115 km away; the Korean and Russian coasts are 450+ km
    lon, lat, _ = GEOD.fwd(139.47, 42.15, 270.0, 100e3)
    assert places.describe(lat, lon, coastal=True) == "about 100 km west of Okushiri Island"


@pytest.mark.parametrize(
    ("azimuth", "points", "word"),
    [
        (0.0, 16, "north"),
        (359.0, 16, "north"),
        (11.0, 16, "north"),
        (12.0, 16, "north-north-east"),
        (22.5, 16, "north-north-east"),
        (90.0, 16, "east"),
        (202.5, 16, "south-south-west"),
        (-90.0, 16, "west"),
        (300.0, 16, "west-north-west"),
        (22.0, 8, "north"),
        (23.0, 8, "north-east"),
        (71.0, 8, "east"),
        (315.0, 8, "north-west"),
    ],
)
def test_compass_word(azimuth: float, points: int, word: str) -> None:
    assert places.compass_word(azimuth, points) == word


@pytest.mark.parametrize(
    ("km", "said"),
    [(24.0, 20), (25.0, 30), (294.9, 290), (295.0, 300), (305.0, 300), (324.0, 300), (325.0, 350),
     (999.0, 1000), (1049.0, 1000), (1050.0, 1100), (2834.0, 2800)],
)  # fmt: skip
def test_round_km(km: float, said: int) -> None:
    assert places.round_km(km) == said


# --------------------------------------------------------------------------- time zones and seas
@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (39.03, 125.75, "Asia/Pyongyang"),  # Pyongyang
        (40.61, 126.43, "Asia/Pyongyang"),  # Mupyong-ni
        (37.57, 126.98, "Asia/Seoul"),  # Seoul
        (33.38, 126.55, "Asia/Seoul"),  # Jeju
        (35.68, 139.77, "Asia/Tokyo"),  # Tokyo
        (43.06, 141.35, "Asia/Tokyo"),  # Sapporo
        (43.12, 131.89, "Asia/Vladivostok"),  # Vladivostok
        (38.91, 121.60, "Asia/Shanghai"),  # Dalian
    ],
)
def test_time_zone_at(lat: float, lon: float, zone: str) -> None:
    assert places.time_zone_at(lat, lon) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("lat", "lon", "sea"),
    [
        (40.9, 138.9, "the Sea of Japan (East Sea)"),  # 28 Nov 2017 ICBM impact area
        (38.5, 133.0, "the Sea of Japan (East Sea)"),
        (37.5, 131.5, "the Sea of Japan (East Sea)"),
        (41.2, 179.9, "the Pacific Ocean"),
        (41.2, -179.9, "the Pacific Ocean"),
        (38.0, 145.0, "the Pacific Ocean"),
        (33.0, 136.0, "the Pacific Ocean"),
        (36.0, 124.0, "the Yellow Sea"),
        (30.0, 127.0, "the East China Sea"),
        (47.0, 147.0, "the Sea of Okhotsk"),
        (39.03, 125.75, None),  # Pyongyang: land
        (36.2, 138.25, None),  # central Honshu: land
    ],
)
def test_sea_at(lat: float, lon: float, sea: str | None) -> None:
    assert places.sea_at(lat, lon) == sea


def test_unknown_theater() -> None:
    from mwx.errors import InputError

    with pytest.raises(InputError):
        places.load_places("atlantis")
    with pytest.raises(InputError):
        places.load_places("../regions/korea-japan")
