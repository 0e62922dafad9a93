"""The master scenario events list (MSEL): what happens in an exercise, when, to whom, and what is expected.

An MSEL is YAML (``docs/exercises.md``)::

    name: oct-2022-ttx
    title: An IRBM over Japan, then a salvo
    start: 2022-10-03T22:20:00Z      # STARTEX: exercise time T+0
    duration_min: 40                 # ENDEX at start + 40 min
    theater: korea-japan             # the technical scenario's theater and seed
    seed: 7
    cells: [KR, JP, US]              # player cells (default: the theater's partners)
    objectives: [{id: O1, text: ..., capabilities: [C1]}]
    capabilities:                    # the exercise evaluation guide
      - id: C1
        name: Shared warning
        tasks:
          - {id: C1.1, text: ..., measure: first_shared_track, from: {launch: L1}, target_s: 60}
    modules:
      - id: M1
        name: Move 1 — the IRBM
        injects:
          - {id: I1, at: "00:02:47", kind: launch, to: [white], text: ...,
             launch: {id: L1, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970, range_km: 4500}}
          - {id: I2, at: "00:06:00", kind: question, from: white, to: [JP], text: ..., expected_action: ...}
    players:                         # scripted cells, for headless play
      KR: {acknowledge_s: 20, answer_s: 60}
      JP: {answer_s: null}           # never answers

Times: ``at`` is an offset from ``start`` written ``HH:MM:SS`` or ``MM:SS`` (or a number of seconds); the
technical injects become a :class:`~mwx.sim.scenario.Scenario` (:func:`scenario_of`) whose launch and inject
times are ``start + at``.  Every problem is an :class:`~mwx.errors.InputError` naming the file, the place and
the problem (``mwx exercise check`` prints it on one line and exits 2).

Planners who work in a spreadsheet export the injects with :func:`injects_csv` and read them back with
:func:`with_injects_from_csv`, which checks the result like a file and names a CSV row and column in its errors.
The shipped sample is :func:`sample_path` (``oct-2022-ttx``).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from mwx.errors import InputError
from mwx.sim.scenario import (
    Failure,
    Ghost,
    Launch,
    LinkDown,
    LinkLatency,
    LinkLoss,
    Point,
    Profile,
    Scenario,
    SensorDown,
    SpuriousTrack,
    Withhold,
    encode_scenario,
    load_yaml,
    parse_scenario,
    validation_error,
)
from mwx.sim.scenario import Inject as ScenarioInject
from mwx.sim.theater import known_theaters, load_theater

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
Cell = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
#: Who an inject comes from or goes to: a cell, ``white`` (the facilitator, exercise control), ``media`` (a
#: simulated press or public source), or ``all`` (every cell) in ``to``.
Role = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Offset = str | Annotated[float, msgspec.Meta(ge=0.0)]  # "HH:MM:SS", "MM:SS" or seconds from STARTEX
Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=86400.0)]

WHITE = "white"
MEDIA = "media"
ALL = "all"

#: Injects mwx carries out in the technical simulation.
TechnicalKind = Literal["launch", "sensor_down", "link_down", "link_latency", "link_loss", "withhold", "spurious_track"]
#: Injects that reach the addressed cells' consoles as text; a ``question`` expects an answer.
DiscussionKind = Literal["situation", "question", "media"]
TECHNICAL_KINDS: frozenset[str] = frozenset(TechnicalKind.__args__)  # type: ignore[attr-defined]
DISCUSSION_KINDS: frozenset[str] = frozenset(DiscussionKind.__args__)  # type: ignore[attr-defined]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LaunchSpec(_Strict):
    """A launch (or salvo) of a ``launch`` inject: a scenario launch's keys (:class:`mwx.sim.scenario.Launch`)
    but ``time``, which is the inject's."""

    site: Point
    apogee_km: Annotated[float, msgspec.Meta(gt=0.0)]
    range_km: Annotated[float, msgspec.Meta(gt=0.0)] | None = None
    azimuth_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)] | None = None
    aim: Point | None = None
    id: Id | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    interval_s: Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)] = 0.0
    separating_stages: Annotated[int, msgspec.Meta(ge=0, le=2)] | None = None
    reentry_beta_kg_m2: Annotated[float, msgspec.Meta(ge=500.0, le=100000.0)] | None = None
    stage_beta_kg_m2: Annotated[float, msgspec.Meta(ge=20.0, le=20000.0)] | None = None
    profile: Profile | None = None  # a pull-up or a glide (:class:`mwx.sim.scenario.PullUp`, ``Glide``)
    failure: Failure | None = None  # a motor cut or a break-up: a failed missile (``ThrustTermination``, ``BreakUp``)


class Inject(_Strict):
    """One timed event of the MSEL.

    Technical kinds carry their parameters: ``launch`` (a scenario launch without its ``time``: the inject's
    time is it), ``sensor`` (``sensor_down``), ``a``/``b`` (link injects: the two participants),
    ``latency_s`` / ``probability`` (``link_latency`` / ``link_loss``), ``partner``/``withheld_from``/
    ``kinds`` (``withhold``: ``partner`` sends nothing of ``kinds`` to ``withheld_from``), ``sensor`` and
    ``ghost`` (``spurious_track``: :class:`mwx.sim.scenario.SpuriousTrack`).  ``duration_s`` is the window
    of every technical kind but ``launch``.  Discussion kinds carry ``text`` for their addressees; a
    ``question`` expects an answer.

    ``at`` is the offset from STARTEX as written (:func:`parse_offset`); an MSEL from :func:`parse_msel` has it
    written ``HH:MM:SS`` (:func:`format_offset`), so ``at`` is a string there.
    """

    id: Id
    at: Offset
    kind: TechnicalKind | DiscussionKind
    text: Text | None = None
    source: Role = msgspec.field(default=WHITE, name="from")
    to: list[Role] = msgspec.field(default_factory=lambda: [ALL])
    expected_action: Text | None = None
    # ---- technical parameters
    launch: LaunchSpec | None = None
    duration_s: Seconds | None = None
    sensor: str | None = None
    a: Cell | None = None
    b: Cell | None = None
    latency_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)] | None = None
    probability: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None
    partner: Cell | None = None
    withheld_from: list[Cell] = []
    kinds: list[Literal["track", "event", "alert", "note"]] = msgspec.field(default_factory=lambda: ["track"])
    ghost: Ghost | None = None


class Module(_Strict):
    """A move of the exercise: a named group of injects."""

    id: Id
    name: Text
    injects: list[Inject] = []


#: What a critical task measures, from the system's own timestamps and the players' actions (see
#: :mod:`mwx.ttx.evaluation`).
Measure = Literal[
    "first_detection",  # the cell's (or any) partner first tracks the launch
    "first_shared_track",  # the exchange first carries a track of the launch (the cell's, or any partner's)
    "first_alert",  # the cell's first alert for the launch
    "alert_acknowledged",  # the cell acknowledges a partner's alert change
    "consultation_opened",  # the cell (or any) requests an assessment
    "assessment_shared",  # the cell (or any) shares an assessment
    "assessment_agreed",  # a concurrence or a decision on the consultation
    "launch_confirmed",  # the cell confirms or disputes the launch
    "public_warning",  # the cell issues a public warning
    "all_clear",  # the cell's alerts for the launch have all ended, or it issued an all-clear
    "inject_answered",  # the cell answers the inject ``from.inject``
]


class Reference(_Strict):
    """What a task's time counts from: a launch of the MSEL, an inject's delivery, or STARTEX (neither)."""

    launch: Id | None = None
    inject: Id | None = None


class Task(_Strict):
    """A critical task: ``measure`` done by ``cell`` (None: any cell) within ``target_s`` of ``from``."""

    id: Id
    text: Text
    measure: Measure
    target_s: Annotated[float, msgspec.Meta(gt=0.0, le=86400.0)]
    reference: Reference = msgspec.field(default_factory=Reference, name="from")
    cell: Cell | None = None


class Capability(_Strict):
    """A capability the exercise evaluates, with its critical tasks."""

    id: Id
    name: Text
    tasks: Annotated[list[Task], msgspec.Meta(min_length=1)]


class Objective(_Strict):
    id: Id
    text: Text
    capabilities: list[Id] = []


class ScriptedCell(_Strict):
    """How a scripted cell plays (headless play): each reaction's delay in seconds, ``None`` for never.

    ``acknowledge_s``: after a partner's alert change arrives; ``answer_s``: after a question reaches it;
    ``request_s``: after its first alert of a launch, it requests an assessment from the others;
    ``share_s``: after a request arrives, it shares its assessment; ``concur_s``: after an assessment is
    shared, it concurs; ``confirm_s``: after its first launch report, it confirms the launch;
    ``warn_s``: after its first alert for its own territory, it issues a public warning.
    """

    acknowledge_s: Seconds | None = 15.0
    answer_s: Seconds | None = 60.0
    request_s: Seconds | None = None
    share_s: Seconds | None = 45.0
    concur_s: Seconds | None = 30.0
    confirm_s: Seconds | None = None
    warn_s: Seconds | None = None


class Msel(_Strict):
    """A whole MSEL file."""

    name: Id
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    duration_min: Annotated[float, msgspec.Meta(gt=0.0, le=1440.0)]
    modules: Annotated[list[Module], msgspec.Meta(min_length=1)]
    title: Text | None = None
    theater: str = "korea-japan"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    cells: list[Cell] = []  # [] = the theater's partners
    objectives: list[Objective] = []
    capabilities: list[Capability] = []
    players: dict[Cell, ScriptedCell] = {}

    @property
    def t_start(self) -> float:
        """STARTEX [Unix s]."""
        return self.start.timestamp()

    @property
    def t_end(self) -> float:
        """ENDEX [Unix s]."""
        return self.t_start + self.duration_min * 60.0


class TimedInject(msgspec.Struct, frozen=True):
    """An inject with its module and its time resolved to Unix seconds (:func:`injects_in_order`)."""

    time: float
    module: str
    inject: Inject


# --------------------------------------------------------------------------- offsets


_HMS = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>[0-5]?\d):(?P<s>[0-5]?\d)(?P<frac>\.\d+)?$")
_SECONDS = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")


def parse_offset(value: str | float) -> float:
    """An offset from STARTEX [s], from ``HH:MM:SS``, ``MM:SS`` (minutes and seconds 00–59, optional decimals
    of a second) or a number of seconds (a number or a string of digits); :class:`ValueError` with a
    one-line reason otherwise.

    The decimals are added to the whole seconds, not parsed with them, so that ``parse_offset(format_offset(x))
    == x`` exactly for every offset ``x``.
    """
    if isinstance(value, bool):  # a YAML `yes` is not a time
        raise ValueError(f"{value!r} is not an offset: write HH:MM:SS or MM:SS or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        if _SECONDS.match(text):
            seconds = float(text)
        elif match := _HMS.match(text):
            whole = int(match["h"] or 0) * 3600 + int(match["m"]) * 60 + int(match["s"])
            seconds = whole + (float("0" + match["frac"]) if match["frac"] else 0.0)
        else:
            raise ValueError(
                f"{value!r} is not an offset: write HH:MM:SS or MM:SS (minutes and seconds 00–59) or a number of "
                "seconds"
            )
    if not math.isfinite(seconds) or seconds < 0.0:
        raise ValueError(f"{value!r} is not an offset: it must be a finite number of seconds >= 0")
    return seconds


def format_offset(seconds: float) -> str:
    """``HH:MM:SS`` of an offset [s] (hours may exceed 23); a fraction of a second is appended as decimals
    (``00:02:47.5``), written so that :func:`parse_offset` gives ``seconds`` back exactly."""
    if not math.isfinite(seconds) or seconds < 0.0:
        raise ValueError(f"{seconds!r} is not an offset: it must be a finite number of seconds >= 0")
    whole = math.floor(seconds)
    # Exact (Sterbenz): whole and seconds are within a factor 2 of each other, or whole is 0.
    fraction = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if fraction:
        # The shortest decimals that read back as this fraction, never in exponent form.
        text += format(Decimal(repr(fraction)), "f").removeprefix("0")
    return text


# --------------------------------------------------------------------------- parsing


#: The technical parameters of an inject, in the order the CSV's ``params`` gives them: what, then how long.
PARAMETERS: tuple[str, ...] = (
    "launch",
    "sensor",
    "ghost",
    "a",
    "b",
    "latency_s",
    "probability",
    "partner",
    "withheld_from",
    "kinds",
    "duration_s",
)
#: The technical parameters each kind needs.
NEEDS: dict[str, tuple[str, ...]] = {
    "launch": ("launch",),
    "sensor_down": ("sensor", "duration_s"),
    "link_down": ("a", "b", "duration_s"),
    "link_latency": ("a", "b", "duration_s"),
    "link_loss": ("a", "b", "duration_s"),
    "withhold": ("partner", "withheld_from", "duration_s"),
    "spurious_track": ("sensor", "ghost", "duration_s"),
    "situation": (),
    "question": (),
    "media": (),
}
#: The technical parameters a kind may have besides those it needs (the scenario's defaults otherwise).
MAY: dict[str, tuple[str, ...]] = {
    "link_latency": ("latency_s",),
    "link_loss": ("probability",),
    "withhold": ("kinds",),
}


def _defaults(struct: type[msgspec.Struct]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in msgspec.structs.fields(struct):
        if f.default is not msgspec.NODEFAULT:
            out[f.name] = f.default
        elif f.default_factory is not msgspec.NODEFAULT:
            out[f.name] = f.default_factory()
    return out


_INJECT_DEFAULTS = _defaults(Inject)


def _is_set(inject: Inject, key: str) -> bool:
    """Whether a technical parameter differs from its default (None, [] or ``["track"]``): given in the file."""
    return bool(getattr(inject, key) != _INJECT_DEFAULTS[key])


def _compact(value: Any) -> Any:
    """``value`` as JSON-ready builtins, a struct's fields at their defaults left out (a tagged struct's tag
    kept: it says which struct of a union, e.g. a launch's ``failure``, the rest are)."""
    if isinstance(value, msgspec.Struct):
        defaults = _defaults(type(value))
        config = value.__struct_config__
        tag = {} if config.tag is None or config.tag_field is None else {config.tag_field: config.tag}
        return tag | {
            f.encode_name: _compact(getattr(value, f.name))
            for f in msgspec.structs.fields(value)
            if f.name not in defaults or getattr(value, f.name) != defaults[f.name]
        }
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def technical_parameters(inject: Inject) -> dict[str, Any]:
    """The inject's technical parameters that are set, as builtins with defaults left out (the CSV's ``params``)."""
    return {key: _compact(getattr(inject, key)) for key in PARAMETERS if _is_set(inject, key)}


_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": (*TechnicalKind.__args__, *DiscussionKind.__args__),  # type: ignore[attr-defined]
    "measure": Measure.__args__,  # type: ignore[attr-defined]
}
_ENUM = re.compile(r"^invalid enum value '(?P<value>.*)'$", re.S)


def _with_choices(error: InputError) -> InputError:
    """msgspec's ``invalid enum value 'x'`` for a ``kind`` or a ``measure``, with the closest value allowed."""
    key = error.where.rsplit(".", 1)[-1]
    if key not in _CHOICES or not (match := _ENUM.match(error.problem)):
        return error
    close = difflib.get_close_matches(match["value"], _CHOICES[key], n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"one of {', '.join(_CHOICES[key])}"
    return InputError(f"{error.problem} ({hint})", source=error.source, where=error.where)


def parse_msel(text: str | bytes, source: str = "<string>") -> Msel:
    """Parse and check an MSEL; raise :class:`InputError` on the first problem (``docs/exercises.md``).

    The MSEL returned is normalised: every ``at`` written ``HH:MM:SS`` (:func:`format_offset`) and ``cells``
    filled in with the theater's partners when the file leaves it out, so that what :func:`encode_msel` and
    :func:`injects_csv` write reads back equal.
    """
    raw = load_yaml(text, source)
    if not isinstance(raw, dict):
        raise InputError(
            "an MSEL must be a YAML mapping with at least `name`, `start`, `duration_min` and `modules`", source=source
        )
    try:
        msel = msgspec.convert(raw, Msel)
    except msgspec.ValidationError as err:
        raise _with_choices(validation_error(err, source, root=Msel, data=raw)) from None
    return _checked(msel, source)


def load_msel(path: str | Path) -> Msel:
    """Read and check an MSEL file."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None
    return parse_msel(text, str(path))


def encode_msel(msel: Msel) -> bytes:
    """An MSEL as YAML that :func:`parse_msel` reads back to an equal MSEL (every key, defaults filled in)."""
    return msgspec.yaml.encode(msel)


def _known(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


def _unique(ids: Iterable[tuple[str, str]], what: str, source: str) -> None:
    """Raise on the second of two equal ids; ``ids``: (id, place of the id)."""
    first: dict[str, str] = {}
    for name, place in ids:
        if name in first:
            raise InputError(f"duplicate {what} id {name!r} (also {first[name]})", source=source, where=place)
        first[name] = place


def _checked(msel: Msel, source: str) -> Msel:
    """The checks beyond the schema, in file order, then the scenario's; the MSEL normalised."""
    if msel.theater not in known_theaters():
        raise InputError(
            f"unknown theater {msel.theater!r} (known: {_known(known_theaters())})", source=source, where="theater"
        )
    try:
        msel.start + timedelta(minutes=msel.duration_min)
    except OverflowError:
        raise InputError("too late: ENDEX would fall after the year 9999", source=source, where="start") from None
    partners = load_theater(msel.theater).partner_ids
    for index, cell in enumerate(msel.cells):
        if cell not in partners:
            raise InputError(
                f"{cell!r} is not a partner of theater {msel.theater} (partners: {_known(partners)})",
                source=source,
                where=f"cells[{index}]",
            )
    _unique(((cell, f"cells[{i}]") for i, cell in enumerate(msel.cells)), "cell", source)
    cells = list(msel.cells) or list(partners)
    _unique(((m.id, f"modules[{i}].id") for i, m in enumerate(msel.modules)), "module", source)
    _unique(
        (
            (inject.id, f"modules[{i}].injects[{j}].id")
            for i, module in enumerate(msel.modules)
            for j, inject in enumerate(module.injects)
        ),
        "inject",
        source,
    )
    modules = []
    launches: list[tuple[str, str]] = []  # (launch id, place of the id)
    for i, module in enumerate(msel.modules):
        if not module.injects:
            raise InputError("a module needs at least one inject", source=source, where=f"modules[{i}].injects")
        injects = []
        for j, inject in enumerate(module.injects):
            place = f"modules[{i}].injects[{j}]"
            injects.append(_checked_inject(inject, msel, cells, source, place))
            if inject.kind == "launch" and inject.launch is not None:
                if inject.launch.id is None:
                    launches.append((inject.id, f"{place}.id"))
                else:
                    launches.append((inject.launch.id, f"{place}.launch.id"))
        modules.append(msgspec.structs.replace(module, injects=injects))
    if not launches:
        raise InputError(
            "no `launch` inject: the technical simulation needs at least one launch", source=source, where="modules"
        )
    _unique(launches, "launch", source)
    msel = msgspec.structs.replace(msel, cells=cells, modules=modules)
    _check_evaluation(msel, source)
    for cell in msel.players:
        if cell not in cells:
            raise InputError(
                f"{cell!r} is not a cell of the exercise (cells: {_known(cells)})",
                source=source,
                where=f"players.{cell}",
            )
    _check_scenario(msel, source)
    return msel


def _checked_inject(inject: Inject, msel: Msel, cells: list[str], source: str, place: str) -> Inject:
    try:
        offset = parse_offset(inject.at)
    except ValueError as err:
        raise InputError(str(err), source=source, where=f"{place}.at") from None
    if offset > msel.duration_min * 60.0:
        raise InputError(
            f"{format_offset(offset)} is after ENDEX at {format_offset(msel.duration_min * 60.0)} "
            f"(duration_min {msel.duration_min:g})",
            source=source,
            where=f"{place}.at",
        )
    if inject.source not in (*cells, WHITE, MEDIA):
        raise InputError(
            f"unknown sender {inject.source!r} (a cell: {_known(cells)}; `white` or `media`)",
            source=source,
            where=f"{place}.from",
        )
    if not inject.to:
        raise InputError("name at least one addressee (a cell, `all` or `white`)", source=source, where=f"{place}.to")
    for k, role in enumerate(inject.to):
        if role not in (*cells, ALL, WHITE):
            raise InputError(
                f"unknown addressee {role!r} (a cell: {_known(cells)}; `all` or `white`)",
                source=source,
                where=f"{place}.to[{k}]",
            )
    allowed = NEEDS[inject.kind] + MAY.get(inject.kind, ())
    for key in PARAMETERS:
        if _is_set(inject, key) and key not in allowed:
            raise InputError(f"not a parameter of a `{inject.kind}` inject", source=source, where=f"{place}.{key}")
    for key in NEEDS[inject.kind]:
        if not _is_set(inject, key):
            raise InputError(f"required for a `{inject.kind}` inject", source=source, where=f"{place}.{key}")
    if inject.kind in DISCUSSION_KINDS and inject.text is None:
        raise InputError(f"required for a `{inject.kind}` inject", source=source, where=f"{place}.text")
    return msgspec.structs.replace(inject, at=format_offset(offset))


def _check_evaluation(msel: Msel, source: str) -> None:
    """Objectives, capabilities and their tasks name what the MSEL has."""
    injects = {inject.id: inject for module in msel.modules for inject in module.injects}
    launches = launch_ids(msel)
    capabilities = [c.id for c in msel.capabilities]
    _unique(((o.id, f"objectives[{i}].id") for i, o in enumerate(msel.objectives)), "objective", source)
    for i, objective in enumerate(msel.objectives):
        for k, name in enumerate(objective.capabilities):
            if name not in capabilities:
                raise InputError(
                    f"no capability {name!r} (capabilities: {_known(capabilities)})",
                    source=source,
                    where=f"objectives[{i}].capabilities[{k}]",
                )
    _unique(((c.id, f"capabilities[{i}].id") for i, c in enumerate(msel.capabilities)), "capability", source)
    _unique(
        (
            (task.id, f"capabilities[{i}].tasks[{j}].id")
            for i, capability in enumerate(msel.capabilities)
            for j, task in enumerate(capability.tasks)
        ),
        "task",
        source,
    )
    for i, capability in enumerate(msel.capabilities):
        for j, task in enumerate(capability.tasks):
            place = f"capabilities[{i}].tasks[{j}]"
            ref = task.reference
            if ref.launch is not None and ref.inject is not None:
                raise InputError("give at most one of `launch` and `inject`", source=source, where=f"{place}.from")
            if ref.launch is not None and ref.launch not in launches:
                raise InputError(
                    f"no launch {ref.launch!r} in the MSEL (launches: {_known(launches)})",
                    source=source,
                    where=f"{place}.from.launch",
                )
            if ref.inject is not None and ref.inject not in injects:
                raise InputError(f"no inject {ref.inject!r} in the MSEL", source=source, where=f"{place}.from.inject")
            if task.cell is not None and task.cell not in msel.cells:
                raise InputError(
                    f"{task.cell!r} is not a cell of the exercise (cells: {_known(msel.cells)})",
                    source=source,
                    where=f"{place}.cell",
                )
            if task.measure != "inject_answered":
                continue
            if ref.inject is None:
                raise InputError(
                    "required for measure `inject_answered`: the question to answer",
                    source=source,
                    where=f"{place}.from.inject",
                )
            question = injects[ref.inject]
            if question.kind != "question":
                raise InputError(
                    f"{ref.inject!r} is a `{question.kind}` inject; `inject_answered` needs a `question`",
                    source=source,
                    where=f"{place}.from.inject",
                )
            if task.cell is not None and task.cell not in question.to and ALL not in question.to:
                raise InputError(
                    f"question {ref.inject!r} does not go to {task.cell} (to: {' '.join(question.to)})",
                    source=source,
                    where=f"{place}.cell",
                )


_SCENARIO_PLACE = re.compile(r"^(?P<group>launches|injects)\[(?P<index>\d+)\](?P<rest>.*)$")


def _check_scenario(msel: Msel, source: str) -> None:
    """The scenario's own checks (reachable launches, known sensors, link participants) on the scenario the MSEL
    makes, their places written as the MSEL's: ``launches[0].apogee_km`` becomes
    ``modules[0].injects[1].launch.apogee_km``."""
    scenario, launch_places, inject_places = _scenario(msel)
    try:
        parse_scenario(encode_scenario(scenario), source)
    except InputError as err:
        where = err.where
        if match := _SCENARIO_PLACE.match(where):
            index, rest = int(match["index"]), match["rest"]
            if match["group"] == "launches":
                place, launch = launch_places[index]
                if rest.startswith(".time"):
                    where = f"{place}.at"
                elif rest == ".id" and launch.id is None:
                    where = f"{place}.id"
                else:
                    where = f"{place}.launch{rest}"
            else:
                place = inject_places[index]
                where = f"{place}.at" if rest.startswith(".time") else f"{place}{rest}"
        raise InputError(err.problem, source=source, where=where) from None


# --------------------------------------------------------------------------- what the MSEL makes


def injects_in_order(msel: Msel) -> list[TimedInject]:
    """Every inject with its time (``msel.t_start`` + ``at``) [Unix s], by time, then module order, then position."""
    timed = [
        TimedInject(msel.t_start + parse_offset(inject.at), module.id, inject)
        for module in msel.modules
        for inject in module.injects
    ]
    return sorted(timed, key=lambda t: t.time)  # stable: ties keep module order and position


def _launch_id(inject: Inject) -> str:
    assert inject.launch is not None
    return inject.launch.id or inject.id


def launch_ids(msel: Msel) -> list[str]:
    """The ids of the MSEL's launches (``launch.id``, else the inject's id), in time order."""
    return [_launch_id(t.inject) for t in injects_in_order(msel) if t.inject.kind == "launch"]


def _time(msel: Msel, inject: Inject) -> datetime:
    return (msel.start + timedelta(seconds=parse_offset(inject.at))).astimezone(UTC)


def _scenario(msel: Msel) -> tuple[Scenario, list[tuple[str, LaunchSpec]], list[str]]:
    """The scenario with, for each of its launches and injects, the place of the inject it came from."""
    places = {
        id(inject): f"modules[{i}].injects[{j}]"
        for i, module in enumerate(msel.modules)
        for j, inject in enumerate(module.injects)
    }
    launches: list[Launch] = []
    launch_places: list[tuple[str, LaunchSpec]] = []
    injects: list[ScenarioInject] = []
    inject_places: list[str] = []
    for timed in injects_in_order(msel):
        inject = timed.inject
        if inject.kind in DISCUSSION_KINDS:
            continue
        time = _time(msel, inject)
        if inject.kind == "launch":
            assert inject.launch is not None
            fields = msgspec.structs.asdict(inject.launch)
            launches.append(Launch(**{**fields, "time": time, "id": _launch_id(inject)}))
            launch_places.append((places[id(inject)], inject.launch))
            continue
        injects.append(_scenario_inject(inject, time))
        inject_places.append(places[id(inject)])
    if not launches:
        raise InputError(
            f"MSEL {msel.name!r} has no `launch` inject: the technical simulation needs at least one launch",
            where="modules",
        )
    scenario = Scenario(name=msel.name, launches=launches, theater=msel.theater, seed=msel.seed, injects=injects)
    return scenario, launch_places, inject_places


def _scenario_inject(inject: Inject, time: datetime) -> ScenarioInject:
    duration = inject.duration_s
    assert duration is not None, "a checked MSEL gives every technical inject but a launch its duration_s"
    if inject.kind == "sensor_down":
        assert inject.sensor is not None
        return SensorDown(time=time, duration_s=duration, sensor=inject.sensor)
    if inject.kind == "spurious_track":
        assert inject.sensor is not None and inject.ghost is not None
        return SpuriousTrack(time=time, duration_s=duration, sensor=inject.sensor, ghost=inject.ghost)
    if inject.kind == "withhold":
        assert inject.partner is not None
        return Withhold(
            time=time,
            duration_s=duration,
            partner=inject.partner,
            withheld_from=list(inject.withheld_from),
            kinds=list(inject.kinds),
        )
    assert inject.a is not None and inject.b is not None
    if inject.kind == "link_latency":
        if inject.latency_s is None:
            return LinkLatency(time=time, duration_s=duration, a=inject.a, b=inject.b)
        return LinkLatency(time=time, duration_s=duration, a=inject.a, b=inject.b, latency_s=inject.latency_s)
    if inject.kind == "link_loss":
        if inject.probability is None:
            return LinkLoss(time=time, duration_s=duration, a=inject.a, b=inject.b)
        return LinkLoss(time=time, duration_s=duration, a=inject.a, b=inject.b, probability=inject.probability)
    assert inject.kind == "link_down", inject.kind
    return LinkDown(time=time, duration_s=duration, a=inject.a, b=inject.b)


def scenario_of(msel: Msel) -> Scenario:
    """The technical scenario of a checked MSEL (:func:`parse_msel`): its name, theater and seed; a launch per
    ``launch`` inject and a scenario inject per other technical inject, each at ``start + at`` (UTC), in time
    order.  :class:`InputError` if the MSEL has no launch."""
    return _scenario(msel)[0]


# --------------------------------------------------------------------------- CSV

#: The CSV's columns, in the order :func:`injects_csv` writes them.
CSV_COLUMNS: tuple[str, ...] = (
    "module",
    "module_name",
    "id",
    "at",
    "kind",
    "from",
    "to",
    "text",
    "expected_action",
    "params",
)
#: The column each of an inject's own keys is read from; every other key is one of ``params``.
_COLUMN_OF = {
    "id": "id",
    "at": "at",
    "kind": "kind",
    "from": "from",
    "to": "to",
    "text": "text",
    "expected_action": "expected_action",
}


def injects_csv(msel: Msel) -> str:
    """The MSEL's injects as CSV, one row per inject in module order (columns :data:`CSV_COLUMNS`): ``at`` as
    ``HH:MM:SS``, ``to`` joined with spaces, ``params`` the set technical parameters as compact JSON (empty for a
    discussion inject), an absent ``text`` or ``expected_action`` empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for module in msel.modules:
        for inject in module.injects:
            params = technical_parameters(inject)
            writer.writerow(
                [
                    module.id,
                    module.name,
                    inject.id,
                    format_offset(parse_offset(inject.at)),
                    inject.kind,
                    inject.source,
                    " ".join(inject.to),
                    inject.text or "",
                    inject.expected_action or "",
                    msgspec.json.encode(params).decode() if params else "",
                ]
            )
    return out.getvalue()


class _CsvModule(msgspec.Struct):
    """A module as the CSV gives it: its first row and name, its injects and each one's row."""

    row: int
    name: str
    injects: list[Inject] = []
    rows: list[int] = []


def with_injects_from_csv(msel: Msel, text: str | bytes, source: str = "<string>") -> Msel:
    """``msel`` with its modules and injects replaced by the CSV's (:data:`CSV_COLUMNS`, header first, any column
    order; modules in the order they first appear, injects in row order), checked like an MSEL file.

    Every problem is one :class:`InputError` from ``source`` (the CSV file) naming the row (the header is row 1,
    as in a spreadsheet) and the column: ``row 4, column params: launch.apogee_km: expected `float` > 0.0``.
    For any MSEL that :func:`parse_msel` returned, ``with_injects_from_csv(m, injects_csv(m)) == m``.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise InputError(f"not UTF-8 text: {err.reason} at byte {err.start}", source=source) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as err:
        raise InputError(f"malformed CSV: {err}", source=source, where=f"row {len(records) + 1}") from None
    if not records:
        raise InputError(f"empty: the first row must name the columns ({', '.join(CSV_COLUMNS)})", source=source)
    header = [name.strip() for name in records[0]]
    for name in header:
        if name not in CSV_COLUMNS:
            close = difflib.get_close_matches(name, CSV_COLUMNS, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise InputError(f"unknown column {name!r}{hint}", source=source, where="row 1")
        if header.count(name) > 1:
            raise InputError(f"column {name!r} appears twice", source=source, where="row 1")
    for name in CSV_COLUMNS:
        if name not in header:
            raise InputError(f"column {name!r} is missing", source=source, where="row 1")
    modules: dict[str, _CsvModule] = {}
    for index, record in enumerate(records[1:]):
        row = index + 2
        if not any(cell.strip() for cell in record):
            continue  # a blank line, or a spreadsheet's empty row of commas
        if len(record) != len(header):
            raise InputError(f"{len(record)} fields, the header has {len(header)}", source=source, where=f"row {row}")
        cells = dict(zip(header, record, strict=True))
        inject = _csv_inject(cells, source, row)
        module_id, module_name = cells["module"].strip(), cells["module_name"]
        module = modules.setdefault(module_id, _CsvModule(row, module_name))
        if module_name and module_name != module.name:
            raise InputError(
                f"module {module_id!r} is named {module.name!r} in row {module.row}",
                source=source,
                where=f"row {row}, column module_name",
            )
        module.injects.append(inject)
        module.rows.append(row)
    if not modules:
        raise InputError("no injects: the CSV has only its header", source=source)
    built = []
    for module_id, module in modules.items():
        raw = {"id": module_id, "name": module.name}
        try:
            built.append(msgspec.structs.replace(msgspec.convert(raw, Module), injects=module.injects))
        except msgspec.ValidationError as err:
            error = validation_error(err, source)
            column = "module_name" if error.where == "name" else "module"
            raise InputError(error.problem, source=source, where=f"row {module.row}, column {column}") from None
    rows = [module.rows for module in modules.values()]
    try:
        return _checked(msgspec.structs.replace(msel, modules=built), source)
    except InputError as err:
        raise _csv_error(err, rows, [m.row for m in modules.values()], source) from None


def _csv_inject(cells: dict[str, str], source: str, row: int) -> Inject:
    """One row's inject, from its cells; every problem named by row and column."""
    raw: dict[str, Any] = {"id": cells["id"].strip(), "at": cells["at"].strip(), "kind": cells["kind"].strip()}
    if sender := cells["from"].strip():
        raw["from"] = sender
    if to := cells["to"].strip():
        raw["to"] = re.split(r"[\s,]+", to)
    for key in ("text", "expected_action"):
        if cells[key]:
            raw[key] = cells[key]
    if params := cells["params"].strip():
        try:
            decoded = msgspec.json.decode(params)
        except msgspec.DecodeError as err:
            raise InputError(f"malformed JSON: {err}", source=source, where=f"row {row}, column params") from None
        if not isinstance(decoded, dict):
            raise InputError(
                'a JSON object of technical parameters, e.g. {"sensor":"JP-R1","duration_s":120}',
                source=source,
                where=f"row {row}, column params",
            )
        for key in decoded:
            if key in _COLUMN_OF:
                raise InputError(f"`{key}` has its own column", source=source, where=f"row {row}, column params")
        raw.update(decoded)
    try:
        return msgspec.convert(raw, Inject)
    except msgspec.ValidationError as err:
        error = _with_choices(validation_error(err, source, root=Inject, data=raw))
        problem, where = _csv_place(error.where, error.problem, row)
        raise InputError(problem, source=source, where=where) from None


def _csv_place(inner: str, problem: str, row: int) -> tuple[str, str]:
    """(problem, where) of an inject's place ``inner`` (``launch.apogee_km``, ``to[1]``) in the CSV row ``row``."""
    if not inner:
        return problem, f"row {row}"
    key = re.split(r"[.\[]", inner, maxsplit=1)[0]
    if key in _COLUMN_OF:
        return problem, f"row {row}, column {_COLUMN_OF[key]}"
    return f"{inner}: {problem}", f"row {row}, column params"


_INJECT_PLACE = re.compile(r"modules\[(?P<module>\d+)\]\.injects\[(?P<inject>\d+)\](?:\.[a-z_.]+)?")
_MSEL_PLACE = re.compile(r"^modules\[(?P<module>\d+)\](?:\.injects\[(?P<inject>\d+)\])?(?P<rest>.*)$")


def _csv_error(err: InputError, rows: list[list[int]], module_rows: list[int], source: str) -> InputError:
    """An MSEL check's error on the injects read from the CSV, placed by row and column."""
    match = _MSEL_PLACE.match(err.where)
    if err.where == "modules" or (match and match["inject"] is None and match["rest"] == ".injects"):
        return InputError(err.problem, source=source)
    if match is None:  # a key of the MSEL outside its modules, e.g. a task naming an inject the CSV lacks
        return InputError(f"{err.problem} (in the MSEL the CSV's injects go into)", source=source, where=err.where)
    module, rest = int(match["module"]), match["rest"]
    if match["inject"] is None:
        column = "module_name" if rest == ".name" else "module"
        return InputError(err.problem, source=source, where=f"row {module_rows[module]}, column {column}")
    # Another inject named in the problem (``also modules[0].injects[1].id``) is told by its row too.
    problem = _INJECT_PLACE.sub(lambda m: f"row {rows[int(m['module'])][int(m['inject'])]}", err.problem)
    problem, where = _csv_place(rest.removeprefix("."), problem, rows[module][int(match["inject"])])
    return InputError(problem, source=source, where=where)


# --------------------------------------------------------------------------- the shipped exercises


def known_exercises() -> list[str]:
    """Names of the sample MSELs shipped with mwx (``mwx/data/exercises/NAME.yaml``)."""
    folder = resources.files("mwx") / "data" / "exercises"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def sample_path(name: str = "oct-2022-ttx") -> Path:
    """The file of the shipped sample MSEL ``name``; :class:`InputError` if there is none."""
    if name not in known_exercises():
        raise InputError(f"unknown exercise {name!r} (known: {_known(known_exercises())})")
    return Path(str(resources.files("mwx") / "data" / "exercises" / f"{name}.yaml"))


__all__ = [
    "ALL",
    "CSV_COLUMNS",
    "MEDIA",
    "WHITE",
    "Capability",
    "Ghost",
    "Inject",
    "Launch",
    "LaunchSpec",
    "Module",
    "Msel",
    "Objective",
    "Reference",
    "ScriptedCell",
    "Task",
    "TimedInject",
    "encode_msel",
    "format_offset",
    "injects_csv",
    "injects_in_order",
    "known_exercises",
    "launch_ids",
    "load_msel",
    "parse_msel",
    "parse_offset",
    "sample_path",
    "scenario_of",
    "technical_parameters",
    "with_injects_from_csv",
]
