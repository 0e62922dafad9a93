"""Launch event reports (``events.json``) as short plain-text statements, in a defence ministry's style.

One block per event, for example::

    Japan, event JP-T0001
    At about 07:22 on 4 October 2022 (local time, UTC+9; 22:22 UTC on 3 October), North Korea launched
    one ballistic missile from near Mupyong-ni towards the east. It flew about 4,600 km at a maximum
    altitude of about 970 km, passed over Japan (Aomori Prefecture) and fell into the Pacific Ocean ...

Local time is that of the country of the place nearest the launch point
(:func:`mwx.geo.places.time_zone_at`), with the zone's history (Pyongyang was
UTC+8:30 from August 2015 to May 2018). Places, seas and land come from
:mod:`mwx.geo.places` and are approximate; EEZ membership is the event's own
``inside_eez_of`` (itself from the EEZ approximation of :mod:`mwx.geo.regions`).

Every optional field may be missing or null; a present field of the wrong
type raises ``ValueError`` (the command line turns that into exit code 2).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pyproj import Geod

from mwx.geo import places

__all__ = ["PARTNER_ORDER", "format_event", "format_events", "round_report_km"]

PARTNER_ORDER = ("KR", "JP", "US", "fused")
# in running text ("passed over the Republic of Korea") and as a heading
_PARTNER_TEXT = {"JP": "Japan", "KR": "the Republic of Korea", "US": "the United States"}
_PARTNER_HEADING = {"JP": "Japan", "KR": "Republic of Korea", "US": "United States", "fused": "Fused (all partners)"}
_COUNTRY_TEXT = {"KP": "North Korea", "KR": "the Republic of Korea", "JP": "Japan", "CN": "China", "RU": "Russia"}
_CLASS_TEXT = {
    "SRBM": "short-range ballistic missile",
    "MRBM": "medium-range ballistic missile",
    "IRBM": "intermediate-range ballistic missile",
    "ICBM": "intercontinental ballistic missile",
}
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# month names spelt out here rather than strftime("%B"), which follows the locale
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# an overflight is named after a prefecture point of the partner within this distance,
# else after any place of the partner within _OVERFLIGHT_NEAR_KM ("near Gangneung")
_PREFECTURE_KM = 200.0
_OVERFLIGHT_NEAR_KM = 100.0
WRAP = 100  # columns of the printed text
STAGE_NOTE = 0.05  # a report says it may follow a spent stage from this probability (events.json stage_probability)
_UNIT_SPACE = re.compile(r"(\d) (km|m|s|%|minutes?|UTC)\b")
_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- field access
def _num(event: Mapping[str, Any], key: str) -> float | None:
    """A finite number field, None when missing or null; ValueError for anything else."""
    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _time(event: Mapping[str, Any], key: str) -> datetime | None:
    """An ISO 8601 time field as an aware UTC datetime (a time without zone is taken as UTC)."""
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected an ISO 8601 time, got {value!r}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key}: not an ISO 8601 time: {value!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _point(value: Any, key: str) -> tuple[float, float] | None:
    """(lat, lon) degrees of a ``{"lat": .., "lon": ..}`` field, None when missing or null."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected {{'lat': .., 'lon': ..}}, got {value!r}")
    lat, lon = _num(value, "lat"), _num(value, "lon")
    if lat is None or lon is None:
        return None
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"{key}.lat: {lat} is not a latitude")
    return lat, lon


def _codes(event: Mapping[str, Any], key: str) -> list[str]:
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key}: expected a list of partner codes, got {value!r}")
    return value


# --------------------------------------------------------------------------- words
def round_report_km(km: float) -> int:
    """Range or apogee rounded as a report says it [km]: to 10 under 1000, 50 under 3000, else 100."""
    step = 10 if km < 1000.0 else 50 if km < 3000.0 else 100
    return math.floor(km / step + 0.5) * step


def _about_km(km: float) -> str:
    return f"about {round_report_km(km):,} km"


def _partner(code: str) -> str:
    return _PARTNER_TEXT.get(code, code)


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def _offset(delta: timedelta | None) -> str:
    """UTC offset as "UTC+9" or "UTC+8:30"."""
    minutes = round((delta or timedelta()).total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def _date(when: datetime, year: bool = True) -> str:
    return f"{when.day} {_MONTHS[when.month - 1]}" + (f" {when.year}" if year else "")


def _when(launch: datetime, launch_point: tuple[float, float] | None) -> str:
    """ "At about 07:22 on 4 October 2022 (local time, UTC+9; 22:22 UTC on 3 October)".

    Truncated to the minute, as the ministries do ("at about 07:22" for 07:22:47).
    """
    utc = f"{launch:%H:%M} UTC on {_date(launch, year=False)}"
    if launch_point is None:
        return f"At about {utc} {launch.year}"
    local = launch.astimezone(places.time_zone_at(*launch_point))
    return (
        f"At about {local:%H:%M} on {_date(local)} (local time, {_offset(local.utcoffset())}; "
        f"{utc}{'' if local.year == launch.year else f' {launch.year}'})"
    )


# --------------------------------------------------------------------------- sentences
def _launch_sentence(event: Mapping[str, Any]) -> str:
    launch = _time(event, "launch_time")
    site = _point(event.get("launch_point"), "launch_point")
    impact = _point(event.get("impact_point"), "impact_point")
    n = _num(event, "number_of_objects")
    what = (
        "one ballistic missile" if n is None or n <= 1 else f"one ballistic missile ({_count(int(n))} objects tracked)"
    )
    where = ""
    country = None
    if site is not None:
        spot = places.describe(*site)
        where = f" from {spot}" if spot.startswith("near") else f" from a point {spot}"
        place = places.nearest(*site).place()
        country = place.country if place else None
    towards = ""
    if site is not None and impact is not None:
        azimuth, _, dist = _GEOD.inv(site[1], site[0], impact[1], impact[0])
        if dist > 0.0:
            towards = f" towards the {places.compass_word(azimuth % 360.0, points=8)}"
    # Attributing the launch to a state is the ministries' wording for North Korea; elsewhere
    # the nearest place's country only says where, so the sentence stays passive.
    if country == "KP":
        body = f"North Korea launched {what}{where}{towards}."
    else:
        spot_country = f" ({_COUNTRY_TEXT.get(country, country)})" if country else ""
        body = f"{what} was launched{where}{spot_country}{towards}."
    if launch is None:
        return body[0].upper() + body[1:]
    return f"{_when(launch, site)}, {body}"


def _overflight_point(item: Mapping[str, Any]) -> tuple[float, float] | None:
    # the crossing point may be given flat or under a key; take whichever the run wrote
    for key in (None, "point", "entry", "entry_point"):
        value = item if key is None else item.get(key)
        if isinstance(value, Mapping) and "lat" in value and "lon" in value:
            return _point(value, f"overflights[].{key or 'lat/lon'}")
    return None


def _overflight_name(partner: str, lat: float, lon: float) -> str | None:
    """The prefecture (or "near <place>") under a crossing point in ``partner``'s land, if the gazetteer knows."""
    if partner not in {p.country for p in places.load_places()}:
        return None
    found = places.nearest(lat, lon, kinds=("prefecture",), country=partner)
    place = found.place()
    if place is not None and float(found.distance_km) <= _PREFECTURE_KM:
        return place.name
    found = places.nearest(lat, lon, country=partner)
    place = found.place()
    if place is not None and float(found.distance_km) <= _OVERFLIGHT_NEAR_KM:
        return f"near {place.name}"
    return None


def _overflights(event: Mapping[str, Any]) -> str | None:
    """ "passed over Japan (Aomori Prefecture)" for every partner whose territory the path crosses."""
    partners = list(_codes(event, "over_territory_of"))
    names: dict[str, list[str]] = {}
    items = event.get("overflights")
    if items is not None and not isinstance(items, list):
        raise ValueError(f"overflights: expected a list, got {items!r}")
    for i, item in enumerate(items or []):
        if not isinstance(item, Mapping):
            raise ValueError(f"overflights[{i}]: expected an object, got {item!r}")
        partner = item.get("partner")
        if not isinstance(partner, str):
            continue
        if partner not in partners:
            partners.append(partner)
        point = _overflight_point(item)
        name = _overflight_name(partner, *point) if point else None
        if name and name not in names.setdefault(partner, []):
            names[partner].append(name)
    if not partners:
        return None
    parts = [_partner(p) + (f" ({_join(names[p])})" if names.get(p) else "") for p in partners]
    return "passed over " + _join(parts)


def _impact_area_note(event: Mapping[str, Any]) -> str:
    """ " (estimated probability of the impact: 93 % inside Japan's EEZ)" from an optional ``impact_area``.

    ``impact_area`` is an object or a list of objects with a ``probability`` (0 to 1) and optionally
    the ``partner`` and ``kind`` ("eez" or "territory") it refers to; entries without one are skipped.
    """
    area = event.get("impact_area")
    entries = area if isinstance(area, list) else [area] if isinstance(area, Mapping) else []
    notes = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        p = _num(entry, "probability")
        if p is None:
            continue
        who = entry.get("partner")
        kind = entry.get("kind") or "eez"
        what = "EEZ" if kind == "eez" else str(kind)
        label = f"{_possessive(_partner(who))} {what}" if isinstance(who, str) else f"the {what}"
        notes.append(f"{p * 100:.0f} % inside {label}")
    return f" (estimated probability of the impact: {_join(notes)})" if notes else ""


def _impact(event: Mapping[str, Any]) -> str | None:
    """ "fell into the Pacific Ocean about 2,800 km east of Cape Nosappu, outside Japan's EEZ ..."."""
    point = _point(event.get("impact_point"), "impact_point")
    if point is None:
        return None
    sea = places.sea_at(*point)
    if places.on_land(*point):
        text = f"fell on land {places.describe(*point)}"
    else:
        text = f"fell into {sea or 'the sea'} {places.describe(*point, coastal=True)}"
    inside = _codes(event, "inside_eez_of")
    partner = event.get("partner")
    if inside:
        eez = f"inside {_join([_possessive(_partner(p)) for p in inside])} EEZ"
    elif partner in _PARTNER_TEXT:
        # a partner's report speaks for its own zone first, as the ministries do
        eez = f"outside {_possessive(_partner(partner))} EEZ and any other partner's"
    else:
        eez = "outside any partner's EEZ"
    return f"{text}, {eez}{_impact_area_note(event)}"


def _flight_sentence(event: Mapping[str, Any]) -> str | None:
    range_km, apogee_km = _num(event, "range_km"), _num(event, "apogee_km")
    clauses = []
    if range_km is not None and apogee_km is not None:
        clauses.append(f"flew {_about_km(range_km)} at a maximum altitude of {_about_km(apogee_km)}")
    elif range_km is not None:
        clauses.append(f"flew {_about_km(range_km)}")
    elif apogee_km is not None:
        clauses.append(f"reached a maximum altitude of {_about_km(apogee_km)}")
    for clause in (_overflights(event), _impact(event)):
        if clause:
            clauses.append(clause)
    if not clauses:
        return None
    # the impact clause carries its own commas, so the list is joined with "and" before it
    return "It " + (", ".join(clauses[:-1]) + " and " + clauses[-1] if len(clauses) > 1 else clauses[0]) + "."


def _class_sentence(event: Mapping[str, Any]) -> str | None:
    cls = event.get("class")
    lofted = event.get("lofted")
    if cls is not None and not isinstance(cls, str):
        raise ValueError(f"class: expected a string, got {cls!r}")
    if lofted is not None and not isinstance(lofted, bool):
        raise ValueError(f"lofted: expected true or false, got {lofted!r}")
    equivalent = _num(event, "equivalent_range_km")
    if cls is None and not lofted:
        return None
    what = "a ballistic missile"
    if cls is not None:
        # every class acronym starts with a vowel sound (es, em, eye), hence "an"
        what = f"an {cls} ({_CLASS_TEXT[cls]})" if cls in _CLASS_TEXT else f"a {cls}"
    text = f"It is assessed as {what}"
    if lofted:
        text += " flown on a lofted trajectory"
        if equivalent is not None:
            text += f"; on a standard trajectory it would fly {_about_km(equivalent)}"
    return text + "."


def _detail_sentences(event: Mapping[str, Any]) -> list[str]:
    out = []
    flight_s = _num(event, "flight_time_s")
    if flight_s is not None:
        minutes = round(flight_s / 60.0)
        out.append(
            "The flight lasted less than a minute."
            if minutes < 1
            else f"The flight lasted about {minutes} minute{'s' if minutes != 1 else ''}."
        )
    ellipse = event.get("impact_ellipse_95")
    if isinstance(ellipse, Mapping):
        a, b = _num(ellipse, "semi_major_km"), _num(ellipse, "semi_minor_km")
        orientation = _num(ellipse, "orientation_deg")
        if a is not None and b is not None:
            text = f"The 95 % impact ellipse has semi-axes of {_small_km(a)} and {_small_km(b)}"
            if orientation is not None:
                text += f", the major axis at {orientation % 180.0:.0f}° from north"
            stage = _num(event, "stage_probability")
            if stage is not None and stage >= STAGE_NOTE:
                # The ellipse holds both falls (mwx.assess.drag): say why it is wide, and which is likelier.
                text += (
                    f"; the tracked object may be the spent stage rather than the warhead (chance {stage:.0%}), "
                    "and the ellipse holds either's fall"
                )
            out.append(text + ".")
    elif ellipse is not None:
        raise ValueError(f"impact_ellipse_95: expected an object, got {ellipse!r}")
    launch, warning = _time(event, "launch_time"), _time(event, "first_warning")
    if warning is not None:
        after = f", {(warning - launch).total_seconds():.0f} s after launch" if launch is not None else ""
        out.append(f"The first alert for this event was raised at {warning:%H:%M:%S} UTC{after}.")
    elif "first_warning" in event:
        out.append("No alert was raised for this event.")
    return out


def _small_km(km: float) -> str:
    """An ellipse semi-axis: whole km from 10 km, one decimal from 1 km, else metres to 10 m."""
    if km >= 9.95:  # would print as "10.0 km"
        return f"{km:,.0f} km"
    metres = round(km * 100.0) * 10  # to 10 m
    if metres >= 1000:
        return f"{km:.1f} km"
    return f"{metres} m" if metres > 0 else "under 10 m"


# --------------------------------------------------------------------------- public
def _heading(event: Mapping[str, Any]) -> str:
    partner = event.get("partner")
    if not isinstance(partner, str):
        raise ValueError(f"partner: expected a partner code, got {partner!r}")
    event_id = event.get("event_id")
    heading = _PARTNER_HEADING.get(partner, partner)
    if event_id is not None:
        heading += f", event {event_id}"
    final = event.get("final")
    if final is not None and not isinstance(final, bool):
        raise ValueError(f"final: expected true or false, got {final!r}")
    return heading + (" (provisional)" if final is False else "")


def format_event(event: Mapping[str, Any]) -> str:
    """One event of ``events.json`` as a heading line and a wrapped paragraph (no trailing newline).

    Raises ValueError naming the field when a present field has the wrong type.
    """
    if not isinstance(event, Mapping):
        raise ValueError(f"expected an event object, got {type(event).__name__}")
    sentences = [_launch_sentence(event)]
    sentences += [s for s in (_flight_sentence(event), _class_sentence(event)) if s]
    sentences += _detail_sentences(event)
    # no hyphen breaks ("north-north-east", "Mupyong-ni" stay whole) and a number keeps its unit
    # on its line: the space between them is a stand-in character while wrapping
    text = _UNIT_SPACE.sub("\\1\x00\\2", " ".join(sentences))
    body = textwrap.fill(text, width=WRAP, break_on_hyphens=False, break_long_words=False).replace("\x00", " ")
    return f"{_heading(event)}\n{body}"


def _sort_key(event: Mapping[str, Any]) -> tuple:
    if not isinstance(event, Mapping):
        raise ValueError(f"expected an event object, got {type(event).__name__}")
    launch = _time(event, "launch_time")
    partner = event.get("partner")
    rank = PARTNER_ORDER.index(partner) if partner in PARTNER_ORDER else len(PARTNER_ORDER)
    # events without a launch time go last; then partners KR, JP, US, fused, then any other by code
    return (launch is None, launch or datetime.min.replace(tzinfo=UTC), rank, str(partner), str(event.get("event_id")))


def format_events(events: Iterable[Mapping[str, Any]]) -> str:
    """Every event, ordered by launch time then partner (KR, JP, US, fused), blocks separated by a blank line.

    Raises ValueError starting ``events[i]: `` (the index in the given order) for a malformed event.
    """
    blocks = []
    for i, event in enumerate(events):
        try:
            blocks.append((_sort_key(event), format_event(event)))
        except (ValueError, TypeError, AttributeError) as err:
            raise ValueError(f"events[{i}]: {err}") from None
    blocks.sort(key=lambda b: b[0])
    return "\n\n".join(text for _, text in blocks)
