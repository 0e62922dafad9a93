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

The events are :class:`mwx.records.LaunchEvent` records, decoded (and so checked, field by field)
when ``events.json`` is read (:func:`mwx.records.read`: a field of the wrong type or range, or a
missing one, is a :class:`~mwx.errors.RecordError` naming the file and the field, exit code 2 on the
command line).  A null ``first_warning`` says no alert was raised; an ``impact_area`` without a
partner adds no probability.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable
from datetime import datetime, timedelta

from pyproj import Geod

from mwx.geo import places
from mwx.records import LaunchEvent, Point

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


def _latlon(point: Point) -> tuple[float, float]:
    return point.lat, point.lon


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


def _when(launch: datetime, launch_point: tuple[float, float]) -> str:
    """ "At about 07:22 on 4 October 2022 (local time, UTC+9; 22:22 UTC on 3 October)".

    Truncated to the minute, as the ministries do ("at about 07:22" for 07:22:47).
    """
    utc = f"{launch:%H:%M} UTC on {_date(launch, year=False)}"
    local = launch.astimezone(places.time_zone_at(*launch_point))
    return (
        f"At about {local:%H:%M} on {_date(local)} (local time, {_offset(local.utcoffset())}; "
        f"{utc}{'' if local.year == launch.year else f' {launch.year}'})"
    )


# --------------------------------------------------------------------------- sentences
def _launch_sentence(event: LaunchEvent) -> str:
    site, impact = _latlon(event.launch_point), _latlon(event.impact_point)
    n = event.number_of_objects
    what = "one ballistic missile" if n <= 1 else f"one ballistic missile ({_count(n)} objects tracked)"
    spot = places.describe(*site)
    where = f" from {spot}" if spot.startswith("near") else f" from a point {spot}"
    place = places.nearest(*site).place()
    country = place.country if place else None
    towards = ""
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
    return f"{_when(event.launch_time, site)}, {body}"


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


def _overflights(event: LaunchEvent) -> str | None:
    """ "passed over Japan (Aomori Prefecture)" for every partner whose territory the path crosses."""
    partners = list(event.over_territory_of)
    names: dict[str, list[str]] = {}
    for item in event.overflights:
        if item.partner not in partners:
            partners.append(item.partner)
        name = _overflight_name(item.partner, item.lat, item.lon)
        if name and name not in names.setdefault(item.partner, []):
            names[item.partner].append(name)
    if not partners:
        return None
    parts = [_partner(p) + (f" ({_join(names[p])})" if names.get(p) else "") for p in partners]
    return "passed over " + _join(parts)


def _impact_area_note(event: LaunchEvent) -> str:
    """ " (estimated probability of the impact: 93 % inside Japan's EEZ)" from ``impact_area`` (none without a
    partner: the impact falls in no partner's area)."""
    area = event.impact_area
    if area.partner is None:
        return ""
    what = "EEZ" if (area.kind or "eez") == "eez" else str(area.kind)
    label = f"{_possessive(_partner(area.partner))} {what}"
    return f" (estimated probability of the impact: {area.probability * 100:.0f} % inside {label})"


def _impact(event: LaunchEvent) -> str:
    """ "fell into the Pacific Ocean about 2,800 km east of Cape Nosappu, outside Japan's EEZ ..."."""
    point = _latlon(event.impact_point)
    sea = places.sea_at(*point)
    if places.on_land(*point):
        text = f"fell on land {places.describe(*point)}"
    else:
        text = f"fell into {sea or 'the sea'} {places.describe(*point, coastal=True)}"
    inside = event.inside_eez_of
    if inside:
        eez = f"inside {_join([_possessive(_partner(p)) for p in inside])} EEZ"
    elif event.partner in _PARTNER_TEXT:
        # a partner's report speaks for its own zone first, as the ministries do
        eez = f"outside {_possessive(_partner(event.partner))} EEZ and any other partner's"
    else:
        eez = "outside any partner's EEZ"
    return f"{text}, {eez}{_impact_area_note(event)}"


def _flight_sentence(event: LaunchEvent) -> str:
    clauses = [f"flew {_about_km(event.range_km)} at a maximum altitude of {_about_km(event.apogee_km)}"]
    overflights = _overflights(event)
    if overflights:
        clauses.append(overflights)
    clauses.append(_impact(event))
    # the impact clause carries its own commas, so the list is joined with "and" before it
    return "It " + ", ".join(clauses[:-1]) + " and " + clauses[-1] + "."


def _class_sentence(event: LaunchEvent) -> str:
    cls = event.missile_class
    # every class acronym starts with a vowel sound (es, em, eye), hence "an"
    text = f"It is assessed as an {cls} ({_CLASS_TEXT[cls]})"
    if event.lofted:
        text += " flown on a lofted trajectory"
        text += f"; on a standard trajectory it would fly {_about_km(event.equivalent_range_km)}"
    return text + "."


def _failure_sentence(event: LaunchEvent) -> str | None:
    """ "It is assessed to have broken up about 155 s after launch; 3 pieces were tracked, ..." (None: not failed)."""
    failure = event.failure
    if event.outcome != "failed" or failure is None:
        return None
    after = (failure.time - event.launch_time).total_seconds()
    if failure.kind == "thrust_termination":
        return (
            f"It is assessed to have failed: its motor stopped early, about {after:.0f} s after launch, "
            "and it fell short of where its boost was heading."
        )
    text = f"It is assessed to have broken up about {after:.0f} s after launch"
    if failure.fragments:
        text += f"; {_count(failure.fragments)} piece{'s were' if failure.fragments != 1 else ' was'} tracked"
    if failure.fragment_impacts:
        text += ", falling " + _join([places.describe(*_latlon(i.impact_point)) for i in failure.fragment_impacts])
    return text + "."


def _detail_sentences(event: LaunchEvent) -> list[str]:
    out = []
    minutes = round(event.flight_time_s / 60.0)
    out.append(
        "The flight lasted less than a minute."
        if minutes < 1
        else f"The flight lasted about {minutes} minute{'s' if minutes != 1 else ''}."
    )
    ellipse = event.impact_ellipse_95
    text = (
        f"The 95 % impact ellipse has semi-axes of {_small_km(ellipse.semi_major_km)} and "
        f"{_small_km(ellipse.semi_minor_km)}, the major axis at {ellipse.orientation_deg % 180.0:.0f}° from north"
    )
    stage = event.stage_probability
    if stage >= STAGE_NOTE:
        # The ellipse holds both falls (mwx.assess.drag): say why it is wide, and which is likelier.
        text += (
            f"; the tracked object may be the spent stage rather than the warhead (chance {stage:.0%}), "
            "and the ellipse holds either's fall"
        )
    out.append(text + ".")
    warning = event.first_warning
    if warning is not None:
        after = (warning - event.launch_time).total_seconds()
        out.append(f"The first alert for this event was raised at {warning:%H:%M:%S} UTC, {after:.0f} s after launch.")
    else:
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
def _heading(event: LaunchEvent) -> str:
    heading = f"{_PARTNER_HEADING.get(event.partner, event.partner)}, event {event.event_id}"
    return heading + ("" if event.final else " (provisional)")


def format_event(event: LaunchEvent) -> str:
    """One event of ``events.json`` as a heading line and a wrapped paragraph (no trailing newline)."""
    failed = _failure_sentence(event)
    sentences = [_launch_sentence(event), _flight_sentence(event), _class_sentence(event)]
    sentences += [failed] if failed else []
    sentences += _detail_sentences(event)
    # no hyphen breaks ("north-north-east", "Mupyong-ni" stay whole) and a number keeps its unit
    # on its line: the space between them is a stand-in character while wrapping
    text = _UNIT_SPACE.sub("\\1\x00\\2", " ".join(sentences))
    body = textwrap.fill(text, width=WRAP, break_on_hyphens=False, break_long_words=False).replace("\x00", " ")
    return f"{_heading(event)}\n{body}"


def _sort_key(event: LaunchEvent) -> tuple:
    rank = PARTNER_ORDER.index(event.partner) if event.partner in PARTNER_ORDER else len(PARTNER_ORDER)
    # partners KR, JP, US, fused, then any other by code
    return (event.launch_time, rank, event.partner, event.event_id)


def format_events(events: Iterable[LaunchEvent]) -> str:
    """Every event, ordered by launch time then partner (KR, JP, US, fused), blocks separated by a blank line."""
    return "\n\n".join(format_event(e) for e in sorted(events, key=_sort_key))
