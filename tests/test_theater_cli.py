"""`mwx theater list/show/map` and the coverage geometry behind the map (mwx.sim.coverage).

The CLI runs in-process (mwx.cli.main + capsys).  Expected coverage distances come
from a spherical-Earth model written out here, independently of the WGS-84 code
under test, and are compared with a tolerance that covers the ellipsoid.
"""

from __future__ import annotations

import math
import re
import struct
from importlib import resources

import numpy as np
import pytest
import yaml
from pyproj import Geod

from mwx.cli import main
from mwx.geo import wgs84
from mwx.sim import coverage
from mwx.sim.theater import GeostationaryOrbit, InfraredSatellite, Radar, Site, load_theater

GEOD = Geod(ellps="WGS84")
R_EARTH = 6371.0e3  # mean radius of the spherical model [m]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def built_in_file() -> dict:
    """The built-in theater file, read as plain YAML (not through mwx.sim.theater)."""
    text = (resources.files("mwx") / "data" / "theaters" / "korea-japan.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def make_radar(**changes) -> Radar:
    """A radar on the equator at sea level looking north, ±45°, with round numbers."""
    fields = {
        "id": "T-R1",
        "partner": "KR",
        "site": Site(lat=0.0, lon=0.0, alt_m=0.0),
        "revisit_s": 1.0,
        "ref_range_km": 1500.0,
        "max_range_km": 2000.0,
        "sigma_range_m": 10.0,
        "sigma_az_mrad": 1.0,
        "sigma_el_mrad": 1.0,
        "boresight_deg": 0.0,
        "sector_deg": 90.0,
        "min_elevation_deg": 1.0,
        "max_elevation_deg": 80.0,
    }
    return Radar(**(fields | changes))


def spherical_reach_m(radar: Radar, alt_m: float, rcs_m2: float = 1.0, min_pd: float = 0.5) -> float:
    """Farthest ground distance [m] of covered targets at ``alt_m`` on a sphere of radius R_EARTH.

    Limits: the minimum elevation (which also keeps the line of sight above the
    horizon), the instrumented range and the range at which the Swerling 1 Pd
    falls to ``min_pd``.
    """
    r0, rh = R_EARTH + radar.site.alt_m, R_EARTH + alt_m
    e = math.radians(radar.min_elevation_deg)
    theta_elevation = math.acos(r0 * math.cos(e) / rh) - e
    snr_needed = math.log(radar.pfa) / math.log(min_pd) - 1.0
    snr_ref = 10.0 ** (radar.ref_snr_db / 10.0)
    r_pd = radar.ref_range_km * 1e3 * (snr_ref * rcs_m2 / radar.ref_rcs_m2 / snr_needed) ** 0.25
    slant = min(radar.max_range_km * 1e3, r_pd)
    theta_range = math.acos(min(1.0, (r0 * r0 + rh * rh - slant * slant) / (2.0 * r0 * rh)))
    return R_EARTH * min(theta_elevation, theta_range)


def ground_distance_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    n = np.size(lat)
    _, _, d = GEOD.inv(np.full(n, lon0), np.full(n, lat0), np.asarray(lon), np.asarray(lat))
    return np.asarray(d)


# ----------------------------------------------------------------------------- CLI: show, list


def test_show_lists_the_partners_and_every_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    data = built_in_file()
    sensor_ids = [r["id"] for r in data["radars"]] + [s["id"] for s in data.get("infrared", [])]
    assert len(sensor_ids) >= 9

    assert main(["theater", "show", "korea-japan"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    for sensor_id in sensor_ids:
        rows = [line for line in lines if line.split()[:1] == [sensor_id]]
        assert len(rows) >= 1, f"no row for sensor {sensor_id}"
    for partner in data["partners"]:
        assert any(line.split()[:1] == [partner["id"]] and partner["name"] in line for line in lines), partner
    assert "notional" in out.lower()
    # Radar rows carry their site and range; the site is printed as in the file.
    kr1 = next(r for r in data["radars"] if r["id"] == "KR-R1")
    row = next(line for line in lines if line.startswith("  KR-R1 ") and "°N" in line)
    assert f"{kr1['site']['lat']:.2f}°N {kr1['site']['lon']:.2f}°E" in row
    assert f"{kr1['max_range_km']:g} km" in row


def test_show_gives_protected_areas_with_plausible_areas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theater", "show"]) == 0  # korea-japan by default
    out = capsys.readouterr().out
    areas = {}
    for line in out.split("Protected areas", 1)[1].splitlines()[2:]:
        m = re.match(r"\s+([A-Z]{2,8})\s+(territory|eez)\s+([\d,]+)\s+(.+)$", line)
        if m:
            areas[(m[1], m[2])] = float(m[3].replace(",", ""))
    assert {p for p, _ in areas} == {"KR", "JP", "US"}
    # Land areas of the two countries (about 100 000 and 378 000 km²): coarse coastlines, so 10 %.
    assert areas[("KR", "territory")] == pytest.approx(100_000, rel=0.1)
    assert areas[("JP", "territory")] == pytest.approx(378_000, rel=0.1)
    for partner in ("KR", "JP", "US"):
        assert areas[(partner, "eez")] > areas[(partner, "territory")]


def test_list_names_the_built_in_theaters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theater", "list"]) == 0
    out = capsys.readouterr().out
    assert out.split()[0] == "korea-japan"


@pytest.mark.parametrize("command", [["show"], ["map", "--out", "{tmp}/x.png"]])
def test_unknown_theater_is_one_line_and_exit_2(
    command: list[str], tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["theater", command[0], "atlantis", *[c.format(tmp=tmp_path) for c in command[1:]]]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "unknown theater 'atlantis'" in err and "korea-japan" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("option", "value", "where"),
    [("--altitudes", "100,abc", "--altitudes"), ("--altitudes", "0", "--altitudes"), ("--rcs", "-1", "--rcs")],
)
def test_bad_map_options_are_one_line_and_exit_2(
    option: str, value: str, where: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["theater", "map", "--out", str(tmp_path / "x.png"), option, value]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(f"mwx: {where}: ")


def test_help_of_each_theater_command(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["theater"], ["theater", "list"], ["theater", "show"], ["theater", "map"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: mwx theater" in capsys.readouterr().out


# ----------------------------------------------------------------------------- CLI: map


def test_map_writes_a_png(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "coverage.png"
    assert main(["theater", "map", "korea-japan", "--out", str(out), "--altitudes", "100,1000"]) == 0
    assert str(out) in capsys.readouterr().out
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 800 <= width <= 3000 and 600 <= height <= 3000
    assert len(data) > 50_000  # land, coverage and labels, not a blank canvas
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND"

    import matplotlib.image

    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (height, width)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 50  # many colours drawn


# ----------------------------------------------------------------------------- coverage geometry


@pytest.mark.parametrize("alt_km", [100.0, 500.0, 1000.0])
def test_radar_reach_matches_horizon_and_range_limits(alt_km: float) -> None:
    radar = make_radar()
    alt = alt_km * 1e3
    fp = coverage.radar_footprint(radar, alt)
    assert fp.covered.all()
    far = ground_distance_m(radar.site.lat, radar.site.lon, fp.far_lat, fp.far_lon)
    expected = spherical_reach_m(radar, alt)
    # Never beyond the limits, and as far as they allow (sphere vs ellipsoid: 1.5 %).
    assert far.max() <= expected * 1.015
    assert far.min() >= expected * 0.985
    # Exactly: no covered target beyond the instrumented range, none below the minimum elevation.
    xyz = wgs84.geodetic_to_ecef(np.radians(fp.far_lat), np.radians(fp.far_lon), alt)
    slant = np.linalg.norm(xyz - radar.site_ecef, axis=1)
    assert slant.max() <= radar.max_range_km * 1e3 * (1.0 + 1e-9)
    _, el, _ = wgs84.enu_to_aer(wgs84.ecef_to_enu(xyz, 0.0, 0.0, 0.0))
    assert np.degrees(el).min() >= radar.min_elevation_deg - 1e-6


def test_which_limit_binds_for_the_built_in_kr_radar() -> None:
    radar = load_theater().sensor("KR-R1")
    assert isinstance(radar, Radar)
    # 100 km: the horizon (minimum elevation) binds, well inside the 1300 km instrumented range.
    fp = coverage.radar_footprint(radar, 100e3)
    far = ground_distance_m(radar.site.lat, radar.site.lon, fp.far_lat, fp.far_lon)
    r0, rh, e = R_EARTH + radar.site.alt_m, R_EARTH + 100e3, math.radians(radar.min_elevation_deg)
    horizon = R_EARTH * (math.acos(r0 * math.cos(e) / rh) - e)
    assert far.max() == pytest.approx(horizon, rel=0.015)
    assert far.max() < 0.9 * radar.max_range_km * 1e3
    # 500 km: the instrumented range binds (slant range = max_range_km at the far edge).
    fp = coverage.radar_footprint(radar, 500e3)
    assert np.nanmax(fp.far_range_m) == pytest.approx(radar.max_range_km * 1e3, rel=1e-6)
    assert np.nanmin(fp.far_range_m) == pytest.approx(radar.max_range_km * 1e3, rel=1e-6)


def test_detection_probability_limits_a_short_range_radar() -> None:
    radar = make_radar(ref_range_km=300.0, max_range_km=3000.0)
    snr_needed = math.log(radar.pfa) / math.log(0.5) - 1.0
    r_pd = 300e3 * (10.0 ** (radar.ref_snr_db / 10.0) / snr_needed) ** 0.25
    assert coverage.detection_range_m(radar) == pytest.approx(r_pd, rel=1e-12)
    fp = coverage.radar_footprint(radar, 300e3)
    assert np.nanmax(fp.far_range_m) == pytest.approx(r_pd, rel=1e-6)
    pd = coverage.radar_detection_probability(radar, fp.far_lat, fp.far_lon, 300e3)
    assert pd == pytest.approx(np.full(pd.shape, 0.5), abs=1e-4)
    # Ten times the cross-section: 10^(1/4) times the range (where the horizon allows).
    assert coverage.detection_range_m(radar, rcs_m2=10.0) == pytest.approx(r_pd * 10.0**0.25, rel=1e-12)


def test_coverage_mask_agrees_with_the_footprint_edge() -> None:
    radar = make_radar()
    alt = 500e3
    fp = coverage.radar_footprint(radar, alt)
    az = np.degrees(fp.az_rad)
    far = ground_distance_m(0.0, 0.0, fp.far_lat, fp.far_lon)
    for factor, expected in ((0.99, True), (1.01, False)):
        lon, lat, _ = GEOD.fwd(np.zeros(az.size), np.zeros(az.size), az, far * factor)
        assert (coverage.radar_coverage_mask(radar, lat, lon, alt) == expected).all()


def test_a_point_behind_the_sector_is_not_covered() -> None:
    radar = make_radar(boresight_deg=30.0, sector_deg=120.0)
    lons, lats, _ = GEOD.fwd([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [30.0, 210.0, 85.0, 95.0], [500e3] * 4)
    covered = coverage.radar_coverage_mask(radar, lats, lons, 500e3)
    # Boresight: covered; behind: not; just inside and just outside the sector edge at 90°.
    assert covered.tolist() == [True, False, True, False]
    fp = coverage.radar_footprint(radar, 500e3)
    poly = fp.polygon()
    assert poly.contains(_point(lons[0], lats[0]))
    assert not poly.contains(_point(lons[1], lats[1]))
    # The rays span the sector and nothing more.
    offsets = (np.degrees(fp.az_rad) - 30.0 + 180.0) % 360.0 - 180.0
    assert offsets.min() == pytest.approx(-60.0, abs=1e-6) and offsets.max() == pytest.approx(60.0, abs=1e-6)


def test_full_circle_ship_radar_covers_all_round_but_not_overhead() -> None:
    radar = make_radar(sector_deg=360.0, platform="ship", site=Site(lat=39.5, lon=134.5, alt_m=25.0))
    fp = coverage.radar_footprint(radar, 1000e3)
    assert fp.full_circle and fp.covered.all()
    poly = fp.polygon()
    lons, lats, _ = GEOD.fwd([134.5] * 4, [39.5] * 4, [0.0, 90.0, 180.0, 270.0], [500e3] * 4)
    assert all(poly.contains(_point(x, y)) for x, y in zip(lons, lats, strict=True))
    # Straight above the ship the elevation exceeds max_elevation_deg: a hole.
    assert not poly.contains(_point(134.5, 39.5))
    assert not coverage.radar_coverage_mask(radar, 39.5, 134.5, 1000e3)


def test_target_below_the_radar_horizon_is_not_covered() -> None:
    radar = make_radar()
    # 1500 km north at 100 km altitude: beyond the spherical reach of about 1000 km.
    assert spherical_reach_m(radar, 100e3) < 1200e3
    lon, lat, _ = GEOD.fwd(0.0, 0.0, 0.0, 1500e3)
    assert not coverage.radar_coverage_mask(radar, lat, lon, 100e3)
    assert coverage.radar_coverage_mask(radar, lat, lon, 600e3)  # higher up it is in view


def test_infrared_footprint_is_the_limb_of_the_sphere() -> None:
    sat = InfraredSatellite(
        id="T-IR1", partner="US", orbit=GeostationaryOrbit(lon_deg=130.0), frame_s=2.0, sigma_urad=30.0
    )
    alt = 100e3
    lon, lat = coverage.infrared_footprint(sat, 0.0, alt)
    radius = float(np.linalg.norm(sat.position(0.0)[0]))
    # Tangent to the Earth from the satellite, then on to the target shell.
    limb = math.acos(R_EARTH / radius) + math.acos(R_EARTH / (R_EARTH + alt))
    reach = ground_distance_m(0.0, 130.0, lat, lon)
    assert reach == pytest.approx(np.full(reach.shape, R_EARTH * limb), rel=0.015)
    assert coverage.infrared_visible_mask(sat, 0.0, 37.0, 130.0, alt)
    assert not coverage.infrared_visible_mask(sat, 0.0, 37.0, 130.0 + 180.0, alt)
    assert not coverage.infrared_visible_mask(sat, 0.0, 37.0, 130.0, 5e3)  # under the 10 km cloud tops
    assert coverage.infrared_footprint(sat, 0.0, 5e3)[0].size == 0


def _point(lon: float, lat: float):
    from shapely.geometry import Point

    return Point(float(lon), float(lat))
