"""A body's ballistic coefficient from its loss of energy in the air, and the impact mixture it weighs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.assess import distribution, drag
from mwx.assess.impact import fly_to_ground
from mwx.geo import wgs84
from mwx.track import dynamics


def _state(lat_deg: float, lon_deg: float, height_m: float, speed: float, gamma_deg: float, azimuth_deg: float):
    """ECEF state at a geodetic point, moving at ``speed`` [m/s], flight-path angle and azimuth [deg]."""
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    r = wgs84.geodetic_to_ecef(np.array(lat), np.array(lon), np.array(height_m))
    g, a = math.radians(gamma_deg), math.radians(azimuth_deg)
    enu = np.array([math.cos(g) * math.sin(a), math.cos(g) * math.cos(a), math.sin(g)])
    return np.concatenate([r, wgs84.enu_basis(np.array([lat]), np.array([lon]))[0].T @ enu * speed])


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-60, 60), st.floats(-180, 180), st.floats(150e3, 1500e3), st.floats(2000, 7000), st.floats(-30, 60),
    st.floats(0, 360),
)  # fmt: skip
def test_jacobi_energy_is_conserved_in_flight_without_drag(lat, lon, height, speed, gamma, azimuth) -> None:
    """J2 gravity and the rotating frame: C changes by less than 1e-8 of v² over five minutes of flight."""
    x = _state(lat, lon, height, speed, gamma, azimuth)
    later = dynamics.propagate(x[None], 300.0, max_step=1.0)[0]
    c0, c1 = drag.jacobi_energy(x), drag.jacobi_energy(later)
    assert abs(c1 - c0) < 1e-8 * speed**2 + 1e-3, (c0, c1)


@settings(max_examples=30, deadline=None)
@given(st.floats(-60, 60), st.floats(-180, 180), st.floats(0, 2000e3), st.floats(100, 7000), st.floats(-90, 90))
def test_energy_gradient_is_the_derivative_of_the_energy(lat, lon, height, speed, gamma) -> None:
    x = _state(lat, lon, height, speed, gamma, 40.0)
    grad = drag.energy_gradient(x)
    for i, h in enumerate([1.0] * 3 + [1e-3] * 3):
        step = np.zeros(6)
        step[i] = h
        numeric = (drag.jacobi_energy(x + step) - drag.jacobi_energy(x - step)) / (2 * h)
        assert math.isclose(grad[i], numeric, rel_tol=1e-5, abs_tol=1e-4), (i, grad[i], numeric)


def test_drag_takes_energy_at_half_rho_v_cubed_over_beta() -> None:
    """Flown through the air with β, the energy lost equals W/β (W from the flown states) to 1 %."""
    x = _state(39.0, 131.0, 70e3, 3000.0, -30.0, 90.0)
    t = np.arange(0.0, 30.0, 0.5)
    states = np.array([dynamics.propagate(x[None], dt, max_step=0.05, beta=1500.0)[0] for dt in t])
    loss = drag.jacobi_energy(states[0]) - drag.jacobi_energy(states[-1])
    work = drag.drag_work(t, states)[-1]
    assert loss > 1e5
    assert math.isclose(loss, work / 1500.0, rel_tol=0.01), (loss, work / 1500.0)


def _fall(beta: float, sigma_v: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A coasting body's states from 150 km down to about 20 km every 2 s, with noise of the stated σ."""
    x0 = _state(39.0, 131.0, 150e3, 4000.0, -35.0, 90.0)
    t = np.arange(0.0, 400.0, 2.0)
    xs = np.array([dynamics.propagate(x0[None], dt, max_step=0.5, beta=beta)[0] for dt in t])
    keep = wgs84.ellipsoidal_height(xs[:, :3]) > 20e3
    t, xs = t[keep], xs[keep]
    p = np.tile(np.diag([100.0**2] * 3 + [sigma_v**2] * 3), (len(t), 1, 1))
    noisy = xs + rng.normal(0.0, 1.0, xs.shape) * np.array([100.0] * 3 + [sigma_v] * 3)
    return t, noisy, p


def test_the_air_tells_a_spent_stage_from_a_reentry_body() -> None:
    """Same prior (a missile that drops its stage at burnout), two bodies: the evidence picks each."""
    rng = np.random.default_rng(7)
    prior = drag.prior(6000.0)
    assert [c.weight for c in prior] == [0.7, 0.3]
    for beta in (600.0, 8000.0):
        t, x, p = _fall(beta, 20.0, rng)
        after = drag.usable(drag.posterior(prior, drag.evidence(t, x, p)))
        # All the weight on the right component, its β within 30 % of the truth.
        assert len(after) == 1, after
        assert abs(math.log(after[0].beta / beta)) < 0.3, after


def test_no_evidence_above_the_air_keeps_the_prior() -> None:
    x = _state(39.0, 131.0, 400e3, 4000.0, 10.0, 90.0)
    t = np.arange(0.0, 60.0, 5.0)
    xs = np.array([dynamics.propagate(x[None], dt)[0] for dt in t])
    p = np.tile(np.eye(6), (len(t), 1, 1))
    assert drag.evidence(t, xs, p) is None
    assert drag.posterior(drag.prior(3000.0), None) == drag.prior(3000.0)
    # A short-range missile's stage hint is too small to predict with.
    assert len(drag.usable(drag.prior(500.0))) == 1


def test_a_mixture_of_one_is_the_plain_prediction() -> None:
    x = _state(39.0, 131.0, 200e3, 3000.0, -10.0, 90.0)
    p = np.diag([300.0**2] * 3 + [5.0**2] * 3)
    one = distribution.predict_mixture(
        x[None], p[None], np.array([0.0]), np.random.default_rng(2), drag.REENTRY_BODY, samples=500
    )
    plain = distribution.predict(x[None], p[None], np.array([0.0]), np.random.default_rng(2), samples=500)
    np.testing.assert_array_equal(one.sample_position, plain.sample_position)


def test_the_95_percent_ellipse_of_a_body_or_stage_holds_either() -> None:
    """Truths drawn half as bodies and half as stages (each with its own β spread), flown with the full
    model: the mixture's ellipse holds at least 88 % of each kind (200 draws each; it is centred on the
    likelier body and reaches the other's fall), where a single-β ellipse holds under half the stages."""
    x = _state(39.0, 131.0, 300e3, 4500.0, -5.0, 90.0)
    p = np.diag([300.0**2] * 3 + [3.0**2] * 3)
    rng = np.random.default_rng(11)
    mixture = (drag.Component(0.5, 8000.0, 0.3), drag.Component(0.5, 600.0, 0.5))
    d = distribution.predict_mixture(x[None], p[None], np.array([0.0]), np.random.default_rng(1), mixture, samples=4000)
    single = distribution.predict(x[None], p[None], np.array([0.0]), np.random.default_rng(1), samples=4000)
    for beta, sigma in ((8000.0, 0.3), (600.0, 0.5)):
        truths = rng.multivariate_normal(x, p, 200)
        betas = beta * np.exp(sigma * rng.standard_normal(200))
        hit, _, _ = fly_to_ground(truths, np.zeros(200), beta=betas)
        lat, lon, _ = wgs84.ecef_to_geodetic(hit[:, :3])
        inside = np.array([bool(d.inside_95(np.array([a]), np.array([o]))[0]) for a, o in zip(lat, lon, strict=True)])
        assert inside.mean() >= 0.88, (beta, inside.mean())
        if beta < 1000.0:
            alone = np.array(
                [bool(single.inside_95(np.array([a]), np.array([o]))[0]) for a, o in zip(lat, lon, strict=True)]
            )
            assert alone.mean() < 0.5, alone.mean()


FLIGHT = """\
name: stage
seed: 3
launches:
  - {id: M, time: 2023-03-16T00:00:00Z, site: {lat: 39.2, lon: 125.67}, azimuth_deg: 80, apogee_km: 1300,
     range_km: 6500, separating_stages: 1}
"""


def test_a_report_says_which_body_it_follows_once_the_air_tells() -> None:
    """A 6500 km missile and its stage, dropped at burnout: in space each track's report carries the prior
    stage share (three in ten for a missile of its class) and an ellipse that holds its own object's
    impact; low in the air the report knows which body it follows.  (With the re-entry body's β alone
    the stage's ellipse missed its impact.)"""
    from mwx.assess.events import History, assess_track
    from mwx.sim.scenario import parse_scenario
    from mwx.sim.truth import fly

    launch = fly(parse_scenario(FLIGHT))[0]
    body, stage = launch.objects[0], next(o for o in launch.objects if o.kind == "stage")
    rng = np.random.default_rng(4)
    for obj, is_stage in ((body, False), (stage, True)):
        t = np.arange(body.burnout + 40.0, obj.t[-1], 2.0)
        truth = obj.states_at(t)
        p = np.diag([150.0**2] * 3 + [4.0**2] * 3)
        x = truth + rng.multivariate_normal(np.zeros(6), p, len(t))
        history = History(obj.id, t, x, np.tile(p, (len(t), 1, 1)), float(t[0]), np.zeros(len(t), bool))
        heights = wgs84.ellipsoidal_height(truth[:, :3])
        lat, lon, _ = wgs84.ecef_to_geodetic(obj.ecef[-1, :3])
        share = drag.prior(6500.0)[drag.STAGE].weight  # the prior of a missile of its class
        for until, want in ((t[np.argmax(heights)], share), (t[heights > 15e3][-1], float(is_stage))):
            report = assess_track(history, (), np.random.default_rng(1), until=float(until))
            assert report is not None
            assert abs(report["stage_probability"] - want) < 0.02, (obj.id, until, report["stage_probability"])
            e = report["impact_ellipse_95"]
            d = distribution._east_north(
                np.radians(report["impact_point"]["lat"]), np.radians(report["impact_point"]["lon"]), lat, lon
            )
            a, b, theta = e["semi_major_km"] * 1e3, e["semi_minor_km"] * 1e3, math.radians(e["orientation_deg"])
            along = d[0] * math.sin(theta) + d[1] * math.cos(theta)
            across = d[0] * math.cos(theta) - d[1] * math.sin(theta)
            assert (along / a) ** 2 + (across / b) ** 2 <= 1.0, (obj.id, until, along, across, a, b)


def test_thrust_shows_in_the_energy_and_coasting_does_not() -> None:
    """Five seconds apart: coasting (in the air) shows as coasting, a motor's 20 m/s² along the velocity
    does not, and states too loose to see a motor do not show coasting either."""
    x = _state(39.5, 128.0, 30e3, 1500.0, 45.0, 100.0)
    p = np.diag([50.0**2] * 3 + [5.0**2] * 3)
    coasting = dynamics.propagate(x[None], 5.0, max_step=0.1, beta=8000.0)[0]
    assert drag.shows_coasting(0.0, x, p, 5.0, coasting, p)
    pushed = x.copy()
    for _ in range(50):  # 0.1 s steps with 20 m/s² of thrust along the velocity
        pushed = dynamics.propagate(pushed[None], 0.1, max_step=0.1)[0]
        pushed[3:6] += 2.0 * pushed[3:6] / np.linalg.norm(pushed[3:6])
    assert not drag.shows_coasting(0.0, x, p, 5.0, pushed, p)
    loose = np.diag([5e3**2] * 3 + [300.0**2] * 3)  # an infrared-initiated state: km, hundreds of m/s
    assert not drag.shows_coasting(0.0, x, loose, 5.0, coasting, loose)


ICBM = """\
name: first-stage
seed: 5
launches:
  - {id: M, time: 2023-07-12T01:00:00Z, site: {lat: 39.03, lon: 125.75}, azimuth_deg: 80, apogee_km: 1300,
     range_km: 10000, separating_stages: 2}
"""


def test_a_first_stage_seen_without_its_upper_stage_is_reported_as_a_stage() -> None:
    """A radar holds an ICBM through its first stage's burn, then only the first stage, which coasts like a
    300 km missile while the upper stage burns on out of view (as a Korean radar sees one).  The report of
    the coasting track says spent stage from the start (the booster's track showed thrust after it was
    dropped), its ellipse holds the stage's impact at every update, and its launch point is the boost fit
    of the booster's track.  (Before: the re-entry body's β alone put the stage's impact hundreds of
    ellipse radii away, and a back-trace of the stage's arc put the launch point kilometres off.)"""
    from mwx.assess.events import History, launch_events
    from mwx.sim.scenario import parse_scenario
    from mwx.sim.truth import fly

    launch = fly(parse_scenario(ICBM))[0]
    body = launch.objects[0]
    first = min((o for o in launch.objects if o.kind == "stage"), key=lambda o: o.t[0])
    rng = np.random.default_rng(8)
    p = np.diag([60.0**2] * 3 + [8.0**2] * 3)

    def history(track_id: str, t: np.ndarray, truth: np.ndarray, boosting: np.ndarray) -> History:
        x = truth + rng.multivariate_normal(np.zeros(6), p, len(t))
        return History(track_id, t, x, np.tile(p, (len(t), 1, 1)), float(t[0]), boosting)

    t0 = body.t[0]
    booster_t = np.arange(t0 + 20.0, first.t[0] + 50.0, 1.0)  # through the separation, upper stage burning
    stage_t = np.arange(first.t[0] + 3.0, first.t[-1] - 2.0, 2.0)
    stage_t = stage_t[wgs84.ellipsoidal_height(first.states_at(stage_t)[:, :3]) > 8e3]
    booster = history("B", booster_t, body.states_at(booster_t), body.burning(booster_t))
    stage = history("S", stage_t, first.states_at(stage_t), np.zeros(len(stage_t), bool))
    [event] = launch_events([booster, stage], (), seed=1, end_time=float(first.t[-1]), partner="KR", samples=1000)
    assert event.event_id == "S" and event.track_ids == ["B", "S"], event.track_ids
    assert event.stage_probability >= 0.9, event.stage_probability
    assert event.launch_method == "boost"
    site_lat, site_lon = np.degrees(launch.trajectory.site[:2])
    fall_lat, fall_lon, _ = wgs84.ecef_to_geodetic(first.ecef[-1, :3])
    for report in [*event.updates, event]:
        assert report.stage_probability >= 0.9, report
        d = distribution._east_north(
            np.radians(report.impact_point.lat), np.radians(report.impact_point.lon), fall_lat, fall_lon
        )
        e = report.impact_ellipse_95
        a, b, theta = e.semi_major_km * 1e3, e.semi_minor_km * 1e3, math.radians(e.orientation_deg)
        along = d[0] * math.sin(theta) + d[1] * math.cos(theta)
        across = d[0] * math.cos(theta) - d[1] * math.sin(theta)
        assert (along / a) ** 2 + (across / b) ** 2 <= 1.0, (report.estimated_at, along, across, a, b)
        launch_miss = distribution._east_north(
            np.radians(report.launch_point.lat), np.radians(report.launch_point.lon),
            np.radians(site_lat), np.radians(site_lon),
        )  # fmt: skip
        assert float(np.hypot(*launch_miss)) < 1.5e3, (report.estimated_at, launch_miss)
    assert len(event.updates) >= 5


def test_a_burning_missile_never_shows_coasting_against_a_loose_first_state() -> None:
    """An infrared-initiated track of a burning ICBM: its first state's velocity is hundreds of m/s off
    (σ 1.3 km/s), and the tracker's mode calls a few states ten seconds later coasting.  Against the loose
    state the energy cannot show coasting, and against good states it shows the motor: no state is judged
    coasting, so no impact is predicted from the boost.  (Before, an energy compared with the loose state
    alone passed for a coast and the report put a 10 000 km flight's impact 100 km from the site.)"""
    from scipy.optimize import brentq

    from mwx.assess.events import History, assess_track, inertial_speed
    from mwx.sim.scenario import parse_scenario
    from mwx.sim.truth import fly

    body = fly(parse_scenario(ICBM))[0].objects[0]
    t = np.arange(body.t[0] + 50.0, body.t[0] + 110.0, 1.0)
    x = body.states_at(t)
    assert body.burning(t).all()
    p = np.tile(np.diag([60.0**2] * 3 + [8.0**2] * 3), (len(t), 1, 1))
    # Its speed as far off as makes its orbital energy that of the missile twenty seconds on.
    energy = 0.5 * inertial_speed(x) ** 2 - wgs84.GM / np.linalg.norm(x[:, :3], axis=1)
    x[0, 3:6] *= brentq(lambda s: 0.5 * inertial_speed(x[0] * [1, 1, 1, s, s, s]) ** 2 - wgs84.GM / np.linalg.norm(
        x[0, :3]) - energy[20], 1.0, 3.0)  # fmt: skip
    p[0] = np.diag([3e3**2] * 3 + [1300.0**2] * 3)
    flags = np.ones(len(t), bool)
    flags[15:26] = False  # the mode flickers
    coasting, thrusting = drag.coasting_and_thrusting(t, x, p)
    assert not coasting.any()
    assert thrusting[t >= t[0] + 31.0].all()  # once the loose state is more than 30 s behind
    assert assess_track(History("T", t, x, p, float(t[0]), flags), (), np.random.default_rng(1)) is None
