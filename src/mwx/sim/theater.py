"""Theaters: the partners, their sensors and their protected areas.

A theater is a YAML file under ``mwx/data/theaters``; ``korea-japan`` is built
in.  Degrees, km and mrad are the file's units; :class:`Radar` exposes SI.
Protected areas (territory and an EEZ approximation per partner) come from
:mod:`mwx.geo.regions`.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Annotated

import msgspec

from mwx.errors import InputError
from mwx.geo import wgs84

_Positive = Annotated[float, msgspec.Meta(gt=0.0)]


class Site(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=360.0)]
    alt_m: float = 0.0


class Partner(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2,8}$")]
    name: str


class Radar(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A ground radar measuring range, azimuth and elevation."""

    id: str
    partner: str
    site: Site
    max_range_km: _Positive
    revisit_s: _Positive
    sigma_range_m: _Positive
    sigma_az_mrad: _Positive
    sigma_el_mrad: _Positive
    min_elevation_deg: Annotated[float, msgspec.Meta(ge=-2.0, le=60.0)] = 0.5

    @property
    def site_ecef(self):
        """Site position, ECEF [m]."""
        return wgs84.geodetic_to_ecef(math.radians(self.site.lat), math.radians(self.site.lon), self.site.alt_m)

    @property
    def noise_sigma(self) -> tuple[float, float, float]:
        """Standard deviations of range [m], azimuth and elevation [rad]."""
        return self.sigma_range_m, self.sigma_az_mrad * 1e-3, self.sigma_el_mrad * 1e-3


class Theater(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    partners: list[Partner]
    radars: list[Radar]
    description: str = ""

    @property
    def partner_ids(self) -> list[str]:
        return [p.id for p in self.partners]


def known_theaters() -> list[str]:
    """Names of the built-in theaters."""
    folder = resources.files("mwx") / "data" / "theaters"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_theater(name: str = "korea-japan") -> Theater:
    """The built-in theater ``name``; :class:`InputError` if there is none."""
    if name not in known_theaters():
        raise InputError(f"unknown theater {name!r} (known: {', '.join(known_theaters())})")
    text = (resources.files("mwx") / "data" / "theaters" / f"{name}.yaml").read_bytes()
    theater = msgspec.yaml.decode(text, type=Theater)
    partners = set(theater.partner_ids)
    for radar in theater.radars:
        if radar.partner not in partners:
            raise InputError(f"radar {radar.id} belongs to unknown partner {radar.partner}", source=f"{name}.yaml")
    return theater
