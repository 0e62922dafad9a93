"""The figures' common style: fixed fonts and colours, and output that is the same bytes for the same data.

Every figure mwx draws is made with :func:`figure` (a matplotlib ``Figure`` on the Agg canvas, no pyplot,
no global state, safe from any thread) and written with :func:`png_bytes` or :func:`svg_text`: no
software name, no date, a fixed SVG id salt; so a report or a map of the same run is byte-identical
whoever draws it and whenever (CI can diff them, exercise archives reproduce).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FUSED_COLOUR",
    "OTHER_COLOUR",
    "PARTNER_COLOURS",
    "STYLE",
    "TRUTH_COLOUR",
    "figure",
    "partner_colour",
    "png_bytes",
    "svg_text",
]

#: Partner colours, distinct from each other and from the truth (black) and the fused picture (orange);
#: told apart by people with the common colour-vision deficiencies too (blue, vermilion, purple).
PARTNER_COLOURS: dict[str, str] = {"KR": "#3b6fb6", "JP": "#b5452f", "US": "#6a4c93"}
#: The fused picture's colour.
FUSED_COLOUR = "#e07b00"
#: What really flew.
TRUTH_COLOUR = "#111111"
#: A partner without a colour of its own and no spare left.
OTHER_COLOUR = "#777777"
_SPARE_COLOURS = ("#2a9d8f", "#8d6e00", "#c2185b", "#455a64")

#: Matplotlib settings of every figure, independent of the user's matplotlibrc.
STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "path.simplify": True,
    "axes.unicode_minus": True,
    "svg.hashsalt": "mwx",
    "svg.fonttype": "path",
}


def partner_colour(partner: str, others: list[str] | None = None) -> str:
    """The colour of ``partner`` (``fused`` included); a partner without one takes a spare colour by its
    place in ``others`` (the partners without one, in a fixed order), else grey."""
    if partner == "fused":
        return FUSED_COLOUR
    if partner in PARTNER_COLOURS:
        return PARTNER_COLOURS[partner]
    if others and partner in others:
        return _SPARE_COLOURS[others.index(partner) % len(_SPARE_COLOURS)]
    return OTHER_COLOUR


@contextmanager
def figure(width_in: float, height_in: float, dpi: float = 100.0) -> Iterator[Figure]:
    """A new figure of ``width_in`` × ``height_in`` inches in :data:`STYLE`; draw and save inside the block."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # the stubs list the keys as literals
        fig = Figure(figsize=(width_in, height_in), dpi=dpi)
        FigureCanvasAgg(fig)
        yield fig


def png_bytes(fig: Figure, dpi: float | None = None) -> bytes:
    """The figure as PNG, without the 'Software' text chunk or any time: same figure, same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is not None else fig.dpi, metadata={"Software": None})
    return buf.getvalue()


def svg_text(fig: Figure) -> str:
    """The figure as an SVG document, without creator or date (ids salted by :data:`STYLE`)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    return buf.getvalue()
