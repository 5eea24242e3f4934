"""The one diverging palette: blue (negative) ↔ light grey (zero) ↔ vermillion (positive).

Okabe–Ito blue ``#0072B2`` and vermillion ``#D55E00`` stay distinct under the common colour-vision
deficiencies (deuteranopia, protanopia, tritanopia) and in greyscale the two ends differ in
lightness from the centre, so sign and size both read without hue. Every plot centres the
palette at zero with a symmetric range (``symmetric_norm``); nothing is registered globally.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

POSITIVE = "#D55E00"
NEGATIVE = "#0072B2"
NEUTRAL = "#F2F2F2"
POSITIVE_DARK = "#8C3D00"
NEGATIVE_DARK = "#004B75"
MUTED = "#666666"
#: Sequential map for feature values (colour-blind safe, perceptually uniform).
SEQUENTIAL = "viridis"


@lru_cache(maxsize=1)
def diverging_cmap() -> Any:
    """Colormap for attributions; use with :func:`symmetric_norm` so white sits at zero."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(
        "seqshap_diverging", [NEGATIVE_DARK, NEGATIVE, NEUTRAL, POSITIVE, POSITIVE_DARK], N=256
    )


def symmetric_norm(values: Any) -> Any:
    """``Normalize(-m, m)`` with ``m = max |values|`` (1 when all are zero or empty)."""
    from matplotlib.colors import Normalize

    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    m = float(np.max(np.abs(arr))) if arr.size else 0.0
    if m == 0.0:
        m = 1.0
    return Normalize(vmin=-m, vmax=m)


def sign_colors(values: Any) -> list[str]:
    """POSITIVE for values >= 0, NEGATIVE otherwise."""
    return [POSITIVE if v >= 0 else NEGATIVE for v in np.asarray(values, dtype=float).ravel()]


def value_color(value: float, norm: Any) -> tuple[float, float, float, float]:
    """RGBA of ``value`` on the diverging palette under ``norm``."""
    return diverging_cmap()(norm(value))


def text_color_on(rgba: Any) -> str:
    """Black or white, whichever reads better on the background ``rgba`` (WCAG luminance)."""
    r, g, b = (
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in np.asarray(rgba)[:3]
    )
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


def hex_color(rgba: Any) -> str:
    """``#rrggbb`` of an RGBA tuple."""
    r, g, b = (int(round(255 * float(c))) for c in np.asarray(rgba)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
