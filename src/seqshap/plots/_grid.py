"""A heatmap on the diverging palette, drawn cell by cell so each cell can carry hover text."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _palette as pal
from ._common import SE_EPS, fmt, tooltip

_MAX_PATCH_CELLS = 1500  # beyond this one QuadMesh is drawn (no per-cell hover)


def draw_grid(
    ax: Any,
    grid: np.ndarray,
    *,
    row_names: list[str],
    col_names: list[str],
    std: np.ndarray | None = None,
    annotate: bool = True,
    colorbar_label: str = "attribution",
) -> Any:
    """Draw ``grid`` (rows top to bottom) centred at zero; returns the colorbar."""
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    grid = np.asarray(grid, dtype=float)
    n_rows, n_cols = grid.shape
    norm = pal.symmetric_norm(grid)
    cmap = pal.diverging_cmap()
    fontsize = 8 if n_cols < 8 else 6
    # label only rows tall enough for the text: one line for the value, two with "±SE"
    row_pt = ax.get_position().height * ax.figure.get_size_inches()[1] * 72 / max(n_rows, 1)
    annotate = annotate and row_pt >= 1.25 * fontsize
    with_se = row_pt >= 2.5 * fontsize
    if grid.size <= _MAX_PATCH_CELLS:
        for r in range(n_rows):
            for c in range(n_cols):
                val = grid[r, c]
                face = cmap(norm(val)) if np.isfinite(val) else (1, 1, 1, 1)
                rect = Rectangle(
                    (c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="white", lw=0.6
                )
                ax.add_patch(rect)
                se = 0.0 if std is None else float(std[r, c])
                tooltip(rect, f"{row_names[r]} · {col_names[c]}: {fmt(val, se)}")
                if annotate and np.isfinite(val):
                    ax.text(
                        c,
                        r,
                        f"{val:.3g}" if se <= SE_EPS or not with_se else f"{val:.3g}\n±{se:.2g}",
                        ha="center",
                        va="center",
                        fontsize=fontsize,
                        color=pal.text_color_on(face),
                    )
    else:
        ax.pcolormesh(
            np.arange(n_cols + 1) - 0.5,
            np.arange(n_rows + 1) - 0.5,
            grid,
            cmap=cmap,
            norm=norm,
            rasterized=True,
        )
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = ax.figure.colorbar(sm, ax=ax, pad=0.02, aspect=30, shrink=0.9)
    cb.set_label(colorbar_label)
    cb.outline.set_visible(False)
    return cb
