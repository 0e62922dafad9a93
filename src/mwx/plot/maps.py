"""Map drawing: windows in continuous longitude, coastlines and protected areas, ellipses, tick labels.

Maps are equirectangular (x = longitude, y = latitude, degrees) with the display aspect true at the
window's mid-latitude (:func:`aspect`).  A window is a :class:`MapExtent` whose longitudes are
*continuous* around its centre: a flight across the antimeridian is drawn from 170° to 190° rather than
cut in two, so every longitude drawn goes through :func:`mwx.geo.lon.wrap_lon` with the window's centre
(or :func:`continuous_lon` for a path).  Outlines stored in [-180, 180] are drawn on every 360° sheet that
meets the window (:func:`sheets`) without their seams along ±180° (:func:`without_cuts`).

The background (:func:`background`: world land, protected areas) is decoration: a map without it is
still worth having, so a missing region module or data file leaves it out rather than failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo.lon import wrap_lon

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "LAND_COLOURS",
    "SEA_COLOUR",
    "MapExtent",
    "aspect",
    "background",
    "circular_mean_deg",
    "continuous_lon",
    "draw_background",
    "extent_of",
    "fill_box",
    "lat_label",
    "lon_label",
    "rings",
    "set_map_axes",
    "sheets",
    "without_cuts",
]

FloatArray = NDArray[np.float64]

#: Land fill and coastline colours.
LAND_COLOURS = ("#e6e1d6", "#b8b0a0")
#: The sea (the axes' background).
SEA_COLOUR = "#eef4fa"


@dataclass(frozen=True)
class MapExtent:
    """A map window in degrees; longitudes continuous around ``center_lon`` (they may pass ±180)."""

    center_lon: float
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float

    @property
    def lon_span(self) -> float:
        return self.lon_max - self.lon_min

    @property
    def lat_span(self) -> float:
        return self.lat_max - self.lat_min


def continuous_lon(lon_deg: ArrayLike, center: float) -> FloatArray:
    """A path's longitudes [deg] without 360° jumps, as a whole placed near ``center``.

    Unwrapping keeps a flight that crosses the antimeridian one continuous line (170° to 190° instead of
    170° then -170°); shifting its mean by whole turns keeps it on the same sheet as the other paths.
    """
    lon = np.unwrap(np.asarray(lon_deg, float), period=360.0)
    if lon.size == 0:
        return lon
    mean = float(lon.mean())
    return lon + (wrap_lon(mean, center) - mean)


def circular_mean_deg(lon_deg: ArrayLike) -> float:
    """The mean direction of longitudes [deg], well defined across the antimeridian (0 for none)."""
    rad = np.radians(np.asarray(lon_deg, float).ravel())
    if rad.size == 0:
        return 0.0
    return float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))


def extent_of(
    lons: Sequence[ArrayLike],
    lats: Sequence[ArrayLike],
    *,
    min_lon_span: float = 8.0,
    min_lat_span: float = 6.0,
    pad_share: float = 0.15,
    min_pad: float = 2.0,
) -> MapExtent | None:
    """The window holding every path (``lons[k]``, ``lats[k]`` [deg]) plus a margin; None if there are none.

    The window is centred on the circular mean longitude, so paths across the antimeridian get a
    narrow window around 180° rather than one spanning the world; each path is kept continuous
    (:func:`continuous_lon`).  Margin: ``pad_share`` of the span but at least ``min_pad`` degrees, and
    at least ``min_lon_span`` × ``min_lat_span`` degrees shown.
    """
    pairs = [(np.asarray(x, float).ravel(), np.asarray(y, float).ravel()) for x, y in zip(lons, lats, strict=True)]
    pairs = [(x[np.isfinite(x) & np.isfinite(y)], y[np.isfinite(x) & np.isfinite(y)]) for x, y in pairs]
    pairs = [(x, y) for x, y in pairs if x.size]
    if not pairs:
        return None
    center = circular_mean_deg(np.concatenate([x for x, _ in pairs]))
    cont = np.concatenate([continuous_lon(x, center) for x, _ in pairs])
    lat_all = np.concatenate([y for _, y in pairs])
    lon_lo, lon_hi = float(cont.min()), float(cont.max())
    lat_lo, lat_hi = float(lat_all.min()), float(lat_all.max())
    lon_pad = max(min_pad, pad_share * (lon_hi - lon_lo), (min_lon_span - (lon_hi - lon_lo)) / 2.0)
    lat_pad = max(min_pad, pad_share * (lat_hi - lat_lo), (min_lat_span - (lat_hi - lat_lo)) / 2.0)
    return MapExtent(
        center_lon=center,
        lon_min=lon_lo - lon_pad,
        lon_max=lon_hi + lon_pad,
        lat_min=max(-90.0, lat_lo - lat_pad),
        lat_max=min(90.0, lat_hi + lat_pad),
    )


def aspect(extent: MapExtent) -> float:
    """Display aspect (y unit / x unit) of an equirectangular map true at the window's mid-latitude."""
    mid_lat = math.radians(0.5 * (extent.lat_min + extent.lat_max))
    return 1.0 / max(math.cos(mid_lat), 0.1)


def fill_box(extent: MapExtent, height_over_width: float) -> MapExtent:
    """``extent`` widened in longitude or latitude to the shape of an axes box (height / width).

    Widening (never cropping) keeps everything in view while a fixed-size figure is filled by map
    rather than by blank margins; a window pushed past a pole slides back inside [-90, 90].
    """
    lon_span, lat_span = extent.lon_span, extent.lat_span
    k = aspect(extent)
    if lat_span * k / lon_span < height_over_width:
        grow = height_over_width * lon_span / k - lat_span
        lat_lo, lat_hi = extent.lat_min - grow / 2.0, extent.lat_max + grow / 2.0
        if lat_lo < -90.0:
            lat_lo, lat_hi = -90.0, min(90.0, lat_hi + (-90.0 - lat_lo))
        if lat_hi > 90.0:
            lat_lo, lat_hi = max(-90.0, lat_lo - (lat_hi - 90.0)), 90.0
        return MapExtent(extent.center_lon, extent.lon_min, extent.lon_max, lat_lo, lat_hi)
    grow = lat_span * k / height_over_width - lon_span
    return MapExtent(
        extent.center_lon, extent.lon_min - grow / 2.0, extent.lon_max + grow / 2.0, extent.lat_min, extent.lat_max
    )


def rings(geometry: Any) -> Iterator[FloatArray]:
    """Coordinate arrays (n, 2) of lon, lat of every ring or line of a shapely geometry."""
    kind = getattr(geometry, "geom_type", "")
    if kind == "Polygon":
        yield np.asarray(geometry.exterior.coords, float)[:, :2]
        for interior in geometry.interiors:
            yield np.asarray(interior.coords, float)[:, :2]
    elif kind in ("LineString", "LinearRing"):
        yield np.asarray(geometry.coords, float)[:, :2]
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from rings(part)


def background() -> tuple[list[FloatArray], list[Any]]:
    """World land outlines (rings (n, 2) lon, lat) and the protected areas, if :mod:`mwx.geo.regions` is there.

    Decoration: a missing or broken region module (or its data) gives empty lists, not an error.
    """
    try:
        from mwx.geo import regions  # optional: see above

        land = [np.asarray(r, float) for r in regions.world_land_outlines()]
        areas = list(regions.load_areas())
    except Exception:
        return [], []
    return land, areas


def sheets(ring: FloatArray, extent: MapExtent) -> Iterator[FloatArray]:
    """Copies of a [-180, 180] ring shifted by -360, 0, +360° that meet the window.

    Outlines are split at ±180°, so drawing each at the three offsets covers any window in continuous
    longitudes without drawing lines across the map.
    """
    if ring.size == 0:
        return
    lo, hi = float(ring[:, 0].min()), float(ring[:, 0].max())
    lat_lo, lat_hi = float(ring[:, 1].min()), float(ring[:, 1].max())
    if lat_hi < extent.lat_min or lat_lo > extent.lat_max:
        return
    for offset in (-360.0, 0.0, 360.0):
        if hi + offset >= extent.lon_min and lo + offset <= extent.lon_max:
            shifted = ring.copy()
            shifted[:, 0] += offset
            yield shifted


def without_cuts(ring: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Lon, lat of a ring's outline with the edges along the ±180° cut left out (NaN lifts the pen).

    Region data split at the antimeridian close their pieces along ±180°; drawn, that seam would show as a
    meridian line through the Aleutians or Chukotka.
    """
    lon, lat = ring[:, 0], ring[:, 1]
    on_cut = np.isclose(np.abs(wrap_lon(lon)), 180.0, atol=1e-6) | np.isclose(np.abs(lon), 180.0, atol=1e-6)
    seam = on_cut[:-1] & on_cut[1:]
    if not seam.any():
        return lon, lat
    breaks = np.flatnonzero(seam) + 1
    return np.insert(lon, breaks, np.nan), np.insert(lat, breaks, np.nan)


def lon_label(value: float, _pos: Any = None) -> str:
    """Tick label of a continuous longitude: 190 → 170°W."""
    lon = wrap_lon(float(value))
    if abs(lon) < 1e-9 or abs(abs(lon) - 180.0) < 1e-9:
        return f"{abs(lon):.0f}°"
    return f"{abs(lon):.0f}°{'E' if lon > 0 else 'W'}"


def lat_label(value: float, _pos: Any = None) -> str:
    """Tick label of a latitude: -10 → 10°S."""
    if abs(value) < 1e-9:
        return "0°"
    return f"{abs(value):.0f}°{'N' if value > 0 else 'S'}"


def draw_background(
    ax: Axes,
    extent: MapExtent,
    land: Sequence[FloatArray],
    areas: Sequence[Any],
    colour_of: Callable[[str], str],
) -> dict[str, Artist]:
    """Draw land and protected areas (territory lightly filled, EEZ dotted, in the partner's colour).

    ``areas`` are :class:`mwx.geo.regions.ProtectedArea` (``partner``, ``kind``, ``geometry``).  Returns
    legend handles by key (``land``, ``territory``, ``eez``) for what was drawn in the window.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: dict[str, Artist] = {}
    for ring in land:
        for sheet in sheets(ring, extent):
            ax.fill(sheet[:, 0], sheet[:, 1], facecolor=LAND_COLOURS[0], edgecolor="none", zorder=1)
            ax.plot(*without_cuts(sheet), color=LAND_COLOURS[1], linewidth=0.4, zorder=1)
            handles["land"] = Patch(facecolor=LAND_COLOURS[0], edgecolor=LAND_COLOURS[1], label="land")
    for area in areas:
        colour = colour_of(str(area.partner))
        for ring in rings(area.geometry):
            for sheet in sheets(ring, extent):
                outline = without_cuts(sheet)
                if area.kind == "territory":
                    ax.fill(sheet[:, 0], sheet[:, 1], facecolor=colour, alpha=0.12, edgecolor="none", zorder=2)
                    ax.plot(*outline, color=colour, linewidth=0.4, alpha=0.8, zorder=2)
                    handles["territory"] = Patch(
                        facecolor="#999999", alpha=0.35, edgecolor="#777777", label="partner territory"
                    )
                else:
                    ax.plot(*outline, color=colour, linewidth=0.6, alpha=0.5, linestyle=(0, (1, 2)), zorder=2)
                    handles["eez"] = Line2D(
                        [], [], color="#777777", linestyle=(0, (1, 2)), linewidth=0.8, label="EEZ (200 nmi approx.)"
                    )
    return handles


def set_map_axes(ax: Axes, extent: MapExtent, *, grid: bool = True) -> None:
    """Window, equirectangular aspect, degree tick labels (170°W, 10°S) and a light grid."""
    from matplotlib.ticker import FuncFormatter

    ax.set_facecolor(SEA_COLOUR)
    ax.set_xlim(extent.lon_min, extent.lon_max)
    ax.set_ylim(extent.lat_min, extent.lat_max)
    ax.set_aspect(aspect(extent), adjustable="box")
    ax.xaxis.set_major_formatter(FuncFormatter(lon_label))
    ax.yaxis.set_major_formatter(FuncFormatter(lat_label))
    if grid:
        ax.grid(True, color="#ffffff", linewidth=0.6, zorder=0)
        ax.set_axisbelow(True)
