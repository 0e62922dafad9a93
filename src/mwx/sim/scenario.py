"""Scenario files: what to fly, where, when and with which seed.

A scenario is YAML (see ``docs/scenario.md``)::

    name: oct-2022-overflight
    theater: korea-japan        # default when absent
    seed: 7
    launches:
      - id: L1                  # optional, default L1, L2, ...
        time: 2022-10-03T22:22:00Z
        site: {lat: 40.61, lon: 126.43}
        azimuth_deg: 80         # or aim: {lat: .., lon: ..}
        apogee_km: 970
        range_km: 4500          # optional with aim (then the distance to it)
        count: 1                # optional salvo size
        interval_s: 0           # optional spacing within a salvo

Degrees and km live only here, at the edge; :func:`flight_briefs` turns each
launch into SI :class:`~mwx.sim.flight.FlightBrief` objects.  Every problem is an
:class:`~mwx.errors.InputError` naming the file, the place and the problem.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from mwx.errors import InputError, UnreachableFlight
from mwx.geo import wgs84
from mwx.sim.flight import (
    REENTRY_BETA,
    FlightBrief,
    burn_time_for_speed,
    check_reachable,
    kepler_burnout,
    kepler_flight_time,
)
from mwx.sim.lift import MAX_LIFT_APOGEE, from_scenario
from mwx.sim.theater import InfraredSatellite, Radar, Theater, load_theater, with_changes

Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=360.0)]


class Point(msgspec.Struct, forbid_unknown_fields=True):
    """A geodetic point [deg]; ``alt_m`` is the ellipsoidal height [m]."""

    lat: Latitude
    lon: Longitude
    alt_m: Annotated[float, msgspec.Meta(ge=-500.0, le=9000.0)] = 0.0


class PullUp(msgspec.Struct, tag="pullup", tag_field="kind", forbid_unknown_fields=True, kw_only=True):
    """A depressed flight that pulls up in the upper atmosphere (the KN-23 family): on the way down, below
    ``start_alt_km``, the body flies with aerodynamic lift of ``lift_to_drag`` times its drag, in the vertical
    plane of its velocity, never more than ``load_factor_g`` standard gravities, which flattens the descent and
    stretches the range; below ``dive_alt_km`` it stops lifting and dives.  The flight is solved so that, with
    the pull-up, it reaches the scenario's apogee and range (see :mod:`mwx.sim.lift`)."""

    start_alt_km: Annotated[float, msgspec.Meta(ge=10.0, le=100.0)] = 45.0
    load_factor_g: Annotated[float, msgspec.Meta(gt=0.0, le=10.0)] = 2.0
    lift_to_drag: Annotated[float, msgspec.Meta(gt=0.0, le=5.0)] = 1.5
    dive_alt_km: Annotated[float, msgspec.Meta(ge=0.0, le=60.0)] = 15.0


class Glide(msgspec.Struct, tag="glide", tag_field="kind", forbid_unknown_fields=True, kw_only=True):
    """A boost-glide flight (Hwasong-8, Hwasong-16B): at burnout a glide vehicle of ballistic coefficient
    ``beta_kg_m2`` is released and flies a lifting trajectory with ``lift_to_drag``, never more than
    ``load_factor_g`` standard gravities, banking to turn its heading by ``turn_deg`` (positive: to the right)
    over the glide; the flight is solved so that it reaches the scenario's apogee (the boost's) and range (see
    :mod:`mwx.sim.lift`)."""

    lift_to_drag: Annotated[float, msgspec.Meta(gt=0.0, le=5.0)] = 2.5
    load_factor_g: Annotated[float, msgspec.Meta(gt=0.0, le=10.0)] = 3.0
    beta_kg_m2: Annotated[float, msgspec.Meta(ge=500.0, le=100000.0)] = 10000.0
    turn_deg: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)] = 0.0


Profile = PullUp | Glide


class ThrustTermination(msgspec.Struct, tag="thrust_termination", tag_field="kind", forbid_unknown_fields=True):
    """The motor stops ``at_s`` seconds after launch, before its planned burnout; the missile coasts on,
    short of its aim (see :mod:`mwx.sim.failure`)."""

    at_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)]


class BreakUp(msgspec.Struct, tag="breakup", tag_field="kind", forbid_unknown_fields=True, kw_only=True):
    """The warhead-bearing body breaks into ``fragments`` pieces ``at_s`` seconds after launch, each pushed
    apart by up to ``spread_mps`` and falling with its own drag; only ``visible`` of them are large enough for
    a radar to see (see :mod:`mwx.sim.failure`)."""

    at_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)]
    fragments: Annotated[int, msgspec.Meta(ge=2, le=50)] = 6
    visible: Annotated[int, msgspec.Meta(ge=0, le=50)] = 3
    spread_mps: Annotated[float, msgspec.Meta(gt=0.0, le=500.0)] = 30.0


Failure = ThrustTermination | BreakUp


class Launch(msgspec.Struct, forbid_unknown_fields=True):
    """One launch (or salvo) as written in the file."""

    time: Annotated[datetime, msgspec.Meta(tz=True)]
    site: Point
    apogee_km: Annotated[float, msgspec.Meta(gt=0.0)]
    range_km: Annotated[float, msgspec.Meta(gt=0.0)] | None = None
    azimuth_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)] | None = None
    aim: Point | None = None
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    interval_s: Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)] = 0.0
    #: Spent stages that separate and fly on as objects of their own; None:
    #: by the burn time (see :func:`mwx.sim.truth.default_stages`).
    separating_stages: Annotated[int, msgspec.Meta(ge=0, le=2)] | None = None
    #: Ballistic coefficients [kg/m²] of the re-entry body and of each spent stage; None: the medians of
    #: the assessment's priors (:data:`mwx.sim.flight.REENTRY_BETA`, :data:`mwx.sim.truth.STAGE_BETA`).
    reentry_beta_kg_m2: Annotated[float, msgspec.Meta(ge=500.0, le=100000.0)] | None = None
    stage_beta_kg_m2: Annotated[float, msgspec.Meta(ge=20.0, le=20000.0)] | None = None
    #: How it flies after boost when not a clean ballistic arc; None: ballistic.
    profile: Profile | None = None
    #: How it fails, if it does; None: it flies as briefed.
    failure: Failure | None = None


class _Window(msgspec.Struct, forbid_unknown_fields=True):
    """What every inject has: when it starts (timestamp with timezone) and how long it lasts [s]."""

    time: Annotated[datetime, msgspec.Meta(tz=True)]
    duration_s: Annotated[float, msgspec.Meta(gt=0.0, le=86400.0)]

    @property
    def start(self) -> float:
        return self.time.timestamp()

    @property
    def end(self) -> float:
        return self.start + self.duration_s


class SensorDown(_Window, tag="sensor_down", tag_field="kind", kw_only=True):
    """A sensor reports nothing from ``time`` for ``duration_s`` seconds (outage, maintenance)."""

    sensor: str


class _LinkInject(_Window, kw_only=True):
    """Common keys of the link injects: the two participants (either order) and the window."""

    a: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
    b: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]

    def covers(self, sender: str, recipient: str, t: float) -> bool:
        """True for a message between ``a`` and ``b`` (either way) sent at ``t`` inside the window."""
        return {sender, recipient} == {self.a, self.b} and self.start <= t < self.end


class LinkDown(_LinkInject, tag="link_down", tag_field="kind"):
    """Nothing passes between ``a`` and ``b`` for ``duration_s``; what was sent meanwhile arrives when it ends."""


class LinkLatency(_LinkInject, tag="link_latency", tag_field="kind"):
    """Messages between ``a`` and ``b`` sent in the window arrive ``latency_s`` seconds late."""

    latency_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)] = 1.0


class LinkLoss(_LinkInject, tag="link_loss", tag_field="kind"):
    """Each message between ``a`` and ``b`` sent in the window is lost with ``probability`` (seeded draws)."""

    probability: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.1


class Withhold(_Window, tag="withhold", tag_field="kind", kw_only=True):
    """``partner`` sends none of its messages of ``kinds`` to ``withheld_from`` in the window (a release
    decision, not a fault: nothing withheld is sent later)."""

    partner: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
    withheld_from: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]], msgspec.Meta(min_length=1)]
    kinds: Annotated[list[Literal["track", "event", "alert", "note"]], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["track"]
    )

    def covers(self, sender: str, recipient: str, kind: str, t: float) -> bool:
        """True for a message of ``kind`` from ``partner`` to one of ``withheld_from`` sent at ``t`` in the window."""
        return (
            sender == self.partner
            and recipient in self.withheld_from
            and kind in self.kinds
            and (self.start <= t < self.end)
        )


class Ghost(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A false object's start (a spurious track): at ``lat``/``lon`` [deg] and ``alt_km``, flying ``speed_mps``
    along ``heading_deg`` (from north) climbing at ``climb_deg``, then coasting ballistically; its radar
    cross-section ``rcs_m2``."""

    lat: Latitude
    lon: Longitude
    alt_km: Annotated[float, msgspec.Meta(ge=1.0, le=2000.0)] = 150.0
    speed_mps: Annotated[float, msgspec.Meta(ge=100.0, le=7000.0)] = 2500.0
    heading_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)] = 90.0
    climb_deg: Annotated[float, msgspec.Meta(ge=-80.0, le=80.0)] = 0.0
    rcs_m2: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] = 0.1


class SpuriousTrack(_Window, tag="spurious_track", tag_field="kind", kw_only=True):
    """Radar ``sensor`` alone sees a false object (a ghost: anomalous propagation, a mis-correlated return) for
    ``duration_s`` from ``time``: the trackers and the exchange treat it like any object; the evaluation counts
    its reports as false alarms."""

    sensor: str
    ghost: Ghost


Inject = SensorDown | LinkDown | LinkLatency | LinkLoss | Withhold | SpuriousTrack
LinkInject = LinkDown | LinkLatency | LinkLoss


def link_injects(scenario: Scenario) -> list[LinkInject]:
    """The scenario's injects on the exchange's links (what the bus carries out)."""
    return [i for i in scenario.injects if isinstance(i, LinkDown | LinkLatency | LinkLoss)]


def withholds(scenario: Scenario) -> list[Withhold]:
    """The scenario's time-bound withholdings (what the senders' release policies carry out)."""
    return [i for i in scenario.injects if isinstance(i, Withhold)]


class Scenario(msgspec.Struct, forbid_unknown_fields=True):
    """A whole scenario file."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    launches: Annotated[list[Launch], msgspec.Meta(min_length=1)]
    theater: str = "korea-japan"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: Per-sensor changes to the theater, in the theater file's units: ``{KR-R1: {revisit_s: 5}}``.
    sensor_overrides: dict[str, dict[str, Any]] = {}
    extra_radars: list[Radar] = []
    extra_infrared: list[InfraredSatellite] = []
    injects: list[Inject] = []


@dataclass(frozen=True)
class Missile:
    """One missile of the scenario, ready to fly: ``launch_time`` in Unix seconds."""

    id: str
    launch_index: int
    launch_time: float
    brief: FlightBrief
    separating_stages: int | None = None
    #: Ballistic coefficient of its spent stages [kg/m²]; None: :data:`mwx.sim.truth.STAGE_BETA`.
    stage_beta: float | None = None
    #: How it flies after boost (None: ballistic) and how it fails (None: it does not), as in the file.
    profile: Profile | None = None
    failure: Failure | None = None


_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<where>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]*)`")
_MISSING = re.compile(r"Object missing required field `(?P<key>[^`]*)`")


def _where(path: str) -> str:
    return path[1:] if path.startswith(".") else path


def validation_error(
    err: msgspec.ValidationError, source: str, prefix: str = "", *, root: Any = None, data: Any = None
) -> InputError:
    """Turn msgspec's message into ``place: problem`` with the place written as in the file.

    ``prefix`` is the place of the value that was converted, when it is not the whole file.
    ``root`` and ``data``: the type converted to and the value converted; with them an unknown key
    is told the known key it most resembles (``unknown key (did you mean `azimuth_deg`?)``).
    """
    match = _AT.match(str(err))
    assert match is not None
    problem, inner = match["problem"], _where(match["where"] or "")
    where = inner
    if prefix:
        where = f"{prefix}.{where}" if where and not where.startswith("[") else f"{prefix}{where}"
    if unknown := _UNKNOWN.match(problem):
        key = unknown["key"]
        close = difflib.get_close_matches(key, known_keys(root, data, inner), n=1) if root is not None else []
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        return InputError(f"unknown key{hint}", source=source, where=f"{where}.{key}" if where else key)
    if missing := _MISSING.match(problem):
        key = missing["key"]
        return InputError("required key is missing", source=source, where=f"{where}.{key}" if where else key)
    return InputError(problem[0].lower() + problem[1:], source=source, where=where)


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def known_keys(root: Any, data: Any, place: str) -> list[str]:
    """The keys of the mapping at ``place`` (``launches[0].site``, as msgspec names it) in ``data`` converted to
    ``root``: the fields of the struct found there (of a tagged union's member by its tag), or [] when unknown."""
    node: Any = msgspec.inspect.type_info(root)
    value = data
    for key, index in _STEP.findall("." + place if place and not place.startswith("[") else place):
        node = _struct_of(node, value)
        if key and isinstance(node, msgspec.inspect.StructType):
            node = next((f.type for f in node.fields if f.encode_name == key), None)
        elif key and isinstance(node, msgspec.inspect.DictType):
            node = node.value_type
        elif index and isinstance(node, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
            node = node.item_type
        else:
            return []
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        else:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
    node = _struct_of(node, value)
    if not isinstance(node, msgspec.inspect.StructType):
        return []
    return [f.encode_name for f in node.fields] + ([node.tag_field] if node.tag_field else [])


def _struct_of(node: Any, value: Any) -> Any:
    """``node`` without its metadata; of a union, the struct ``value`` is (by its tag), or the only struct."""
    while isinstance(node, msgspec.inspect.Metadata):
        node = node.type
    if not isinstance(node, msgspec.inspect.UnionType):
        return node
    structs = [t for t in node.types if isinstance(t, msgspec.inspect.StructType)]
    if len(structs) == 1:
        return structs[0]
    tagged = [t for t in structs if isinstance(value, dict) and t.tag_field and value.get(t.tag_field) == t.tag]
    return tagged[0] if len(tagged) == 1 else None


def load_yaml(text: str | bytes, source: str) -> Any:
    """YAML text as Python values; an :class:`InputError` naming the line and column of what is not YAML (a
    timestamp YAML recognises but no calendar has, ``2022-10-33``, and nesting too deep for the parser too)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"malformed YAML: {reason}", source=source, where=place) from None
    except (ValueError, OverflowError) as err:
        raise InputError(f"malformed YAML: {err}", source=source) from None
    except RecursionError:
        raise InputError("malformed YAML: nested too deeply", source=source) from None


def parse_scenario(text: str | bytes, source: str = "<string>") -> Scenario:
    """Parse and check a scenario; raise :class:`InputError` on the first problem."""
    raw = load_yaml(text, source)
    if not isinstance(raw, dict):
        raise InputError("a scenario must be a YAML mapping with at least `name` and `launches`", source=source)
    try:
        scenario = msgspec.convert(raw, Scenario)
    except msgspec.ValidationError as err:
        raise validation_error(err, source, root=Scenario, data=raw) from None
    _check_launches(scenario, source)
    _check_sensors(scenario, source)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None
    return parse_scenario(text, str(path))


def theater_of(scenario: Scenario, source: str = "<scenario>") -> Theater:
    """The scenario's theater with its sensor overrides and extra sensors applied."""
    return with_changes(
        load_theater(scenario.theater),
        scenario.sensor_overrides,
        scenario.extra_radars,
        scenario.extra_infrared,
        source,
    )


#: The scenario as run, written into every run folder (normalised: every key, defaults filled in).
RUN_SCENARIO_FILE = "scenario.yaml"


def encode_scenario(scenario: Scenario) -> bytes:
    """A scenario as YAML that :func:`parse_scenario` reads back to an equal scenario."""
    return msgspec.yaml.encode(scenario)


def run_theater(folder: Path, fallback: str) -> Theater | None:
    """The theater a run folder's run had, sensor overrides and extra sensors included, from its ``scenario.yaml``;
    without one (a folder written before it was kept), the built-in theater ``fallback`` as shipped; None if
    that is not a built-in theater.  A ``scenario.yaml`` that is not a scenario is an :class:`InputError`."""
    path = folder / RUN_SCENARIO_FILE
    if path.is_file():
        return theater_of(parse_scenario(path.read_bytes(), str(path)), str(path))
    try:
        return load_theater(fallback)
    except InputError:
        return None


def _check_sensors(scenario: Scenario, source: str) -> None:
    theater = theater_of(scenario, source)
    ids = {s.id for s in theater.sensors}
    participants = {*theater.partner_ids, "fused"}  # the exchange observer is a participant of the links
    radars = {s.id for s in theater.sensors if isinstance(s, Radar)}
    for index, inject in enumerate(scenario.injects):
        if isinstance(inject, SensorDown | SpuriousTrack):
            if inject.sensor not in ids:
                raise InputError(
                    f"no sensor {inject.sensor!r} in the theater", source=source, where=f"injects[{index}].sensor"
                )
            if isinstance(inject, SpuriousTrack) and inject.sensor not in radars:
                raise InputError(
                    f"{inject.sensor!r} is not a radar (a spurious track is a radar's)",
                    source=source,
                    where=f"injects[{index}].sensor",
                )
            continue
        if isinstance(inject, Withhold):
            for place, name in [("partner", inject.partner)] + [
                (f"withheld_from[{k}]", p) for k, p in enumerate(inject.withheld_from)
            ]:
                if name not in participants:
                    raise InputError(
                        f"no participant {name!r} (known: {', '.join(sorted(participants))})",
                        source=source,
                        where=f"injects[{index}].{place}",
                    )
            if inject.partner in inject.withheld_from:
                raise InputError(
                    "a partner cannot withhold from itself", source=source, where=f"injects[{index}].withheld_from"
                )
            continue
        for end in ("a", "b"):
            name = getattr(inject, end)
            if name not in participants:
                raise InputError(
                    f"no participant {name!r} (known: {', '.join(sorted(participants))})",
                    source=source,
                    where=f"injects[{index}].{end}",
                )
        if inject.a == inject.b:
            raise InputError("a link joins two different participants", source=source, where=f"injects[{index}].b")


def _check_launches(scenario: Scenario, source: str) -> None:
    from mwx.sim.theater import known_theaters

    if scenario.theater not in known_theaters():
        raise InputError(
            f"unknown theater {scenario.theater!r} (known: {', '.join(known_theaters())})",
            source=source,
            where="theater",
        )
    seen: set[str] = set()
    for index, launch in enumerate(scenario.launches):
        place = f"launches[{index}]"
        if (launch.azimuth_deg is None) == (launch.aim is None):
            raise InputError("give exactly one of `azimuth_deg` and `aim`", source=source, where=place)
        if launch.azimuth_deg is not None and launch.range_km is None:
            raise InputError("required with `azimuth_deg`", source=source, where=f"{place}.range_km")
        if launch.aim is None:
            assert launch.range_km is not None
            distance = launch.range_km * 1e3  # checked as given: a range round the Earth would wrap to another
        else:
            _, distance = _brief(launch).azimuth_and_range
            if launch.range_km is not None and abs(distance / 1e3 - launch.range_km) > 0.01 * launch.range_km:
                raise InputError(
                    f"{launch.range_km:g} km disagrees with the {distance / 1e3:.0f} km to `aim`; leave it out or "
                    "fix it",
                    source=source,
                    where=f"{place}.range_km",
                )
        try:
            check_reachable(launch.apogee_km * 1e3, distance)
        except UnreachableFlight as err:
            key = "range_km" if err.where == "range_km" and launch.range_km is not None else "apogee_km"
            raise InputError(err.problem, source=source, where=f"{place}.{key}") from None
        if launch.profile is not None:
            _check_profile(launch, source, place)
        if launch.failure is not None:
            _check_failure(launch.failure, launch.apogee_km * 1e3, distance, source, f"{place}.failure")
        launch_id = launch.id or f"L{index + 1}"
        if launch_id in seen:
            raise InputError(f"duplicate launch id {launch_id!r}", source=source, where=f"{place}.id")
        seen.add(launch_id)


def _check_profile(launch: Launch, source: str, place: str) -> None:
    """Sense checks of the ``profile`` of the launch at ``place`` (``launches[i]``): a lifting flight stays low
    enough for the air to shape it (:data:`~mwx.sim.lift.MAX_LIFT_APOGEE`), a pull-up's dive comes after its start
    and below its apogee, and a glide vehicle's β is its profile's alone."""
    profile = launch.profile
    name = "a pull-up" if isinstance(profile, PullUp) else "a boost-glide"
    if launch.apogee_km * 1e3 > MAX_LIFT_APOGEE:
        raise InputError(
            f"{name} needs `apogee_km` of at most {MAX_LIFT_APOGEE / 1e3:.0f}, where the lift can shape the flight; "
            f"{launch.apogee_km:g} is above it",
            source=source,
            where=f"{place}.profile",
        )
    if isinstance(profile, PullUp):
        if profile.dive_alt_km >= profile.start_alt_km:
            raise InputError(
                f"{profile.dive_alt_km:g} km must be below `start_alt_km` ({profile.start_alt_km:g} km): the dive "
                "ends the pull-up",
                source=source,
                where=f"{place}.profile.dive_alt_km",
            )
        if profile.dive_alt_km >= launch.apogee_km:
            raise InputError(
                f"{profile.dive_alt_km:g} km must be below `apogee_km` ({launch.apogee_km:g} km), or the flight never "
                "pulls up",
                source=source,
                where=f"{place}.profile.dive_alt_km",
            )
    elif launch.reentry_beta_kg_m2 is not None:
        raise InputError(
            "not used with a boost-glide: the glide vehicle's ballistic coefficient is `profile.beta_kg_m2`",
            source=source,
            where=f"{place}.reentry_beta_kg_m2",
        )


def _check_failure(failure: Failure, apogee: float, range_m: float, source: str, place: str) -> None:
    """Sense checks of a launch's ``failure`` at ``place`` against its apogee and range [m], with the estimates
    available without solving the flight: the burn time of :func:`~mwx.sim.flight.burn_time_for_speed` at the
    drag-free Kepler burnout speed (what the solved flight burns for) and the drag-free Kepler flight time
    (:func:`~mwx.sim.flight.kepler_flight_time`, shorter than any flown one)."""
    angle = range_m / wgs84.A
    if isinstance(failure, ThrustTermination):
        speed, _ = kepler_burnout(wgs84.A, wgs84.A + apogee, angle)
        burn = burn_time_for_speed(speed)
        if failure.at_s >= burn:
            raise InputError(
                f"{failure.at_s:g} s is not before the planned burnout, {burn:.1f} s after launch for this apogee "
                "and range",
                source=source,
                where=f"{place}.at_s",
            )
        return
    if failure.visible > failure.fragments:
        raise InputError(
            f"{failure.visible} is more than the {failure.fragments} fragments: `visible` must not exceed `fragments`",
            source=source,
            where=f"{place}.visible",
        )
    end = kepler_flight_time(wgs84.A, wgs84.A + apogee, angle)
    if failure.at_s >= end:
        raise InputError(
            f"{failure.at_s:g} s is not before the end of the flight, about {end:.0f} s after launch for this "
            "apogee and range (drag-free estimate)",
            source=source,
            where=f"{place}.at_s",
        )


def _brief(launch: Launch) -> FlightBrief:
    site_lat, site_lon = math.radians(launch.site.lat), math.radians(launch.site.lon)
    apogee = launch.apogee_km * 1e3
    beta = REENTRY_BETA if launch.reentry_beta_kg_m2 is None else launch.reentry_beta_kg_m2
    profile = from_scenario(launch.profile)
    if launch.aim is not None:
        aim_lat, aim_lon = math.radians(launch.aim.lat), math.radians(launch.aim.lon)
        return FlightBrief(site_lat, site_lon, aim_lat, aim_lon, apogee, launch.site.alt_m, beta, profile)
    assert launch.azimuth_deg is not None and launch.range_km is not None
    return FlightBrief.along_azimuth(
        site_lat,
        site_lon,
        math.radians(launch.azimuth_deg),
        launch.range_km * 1e3,
        apogee,
        launch.site.alt_m,
        beta,
        profile,
    )


def missiles(scenario: Scenario) -> list[Missile]:
    """Every missile of the scenario in launch order; salvo members get ids ``L1``, ``L1.2``, ..."""
    out = []
    for index, launch in enumerate(scenario.launches):
        base = launch.id or f"L{index + 1}"
        brief = _brief(launch)
        for k in range(launch.count):
            missile_id = base if k == 0 else f"{base}.{k + 1}"
            out.append(
                Missile(
                    missile_id,
                    index,
                    launch.time.timestamp() + k * launch.interval_s,
                    brief,
                    launch.separating_stages,
                    launch.stage_beta_kg_m2,
                    launch.profile,
                    launch.failure,
                )
            )
    out.sort(key=lambda m: (m.launch_time, m.id))
    return out
