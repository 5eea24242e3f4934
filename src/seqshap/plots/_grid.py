"""A heatmap on the diverging palette, drawn cell by cell so each cell can carry hover text.

Uncertainty: a cell whose 95% interval (value ± 1.96 standard errors) contains zero is hatched
— its sign is not established by the sampling; exact values (standard error 0) never are.
Tick labels are sized to the rows and thinned when rows are too short for them, so they never
overlap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _palette as pal
from ._common import SE_EPS, fmt, tooltip

_MAX_PATCH_CELLS = 1500  # beyond this one QuadMesh is drawn (no per-cell hover)
#: half-width of the interval (in standard errors) that decides hatching
Z95 = 1.96
HATCH = "////"


def uncertain_cells(grid: np.ndarray, std: np.ndarray | None) -> np.ndarray:
    """Boolean mask: cells whose interval ``value ± 1.96·SE`` contains zero (sampled only)."""
    grid = np.asarray(grid, dtype=float)
    if std is None:
        return np.zeros(grid.shape, dtype=bool)
    se = np.nan_to_num(np.asarray(std, dtype=float))
    return (se > SE_EPS) & (np.abs(grid) <= Z95 * se)


def fit_row_labels(ax: Any, labels: list[str], *, max_fontsize: float = 9.0) -> None:
    """Y tick labels at rows 0..n−1, with a font no taller than a row; when rows are shorter
    than a 5-point font, every k-th row is labelled so that labels never overlap."""
    n = len(labels)
    ax.figure.canvas.draw_idle()
    row_pt = ax.get_position().height * ax.figure.get_size_inches()[1] * 72 / max(n, 1)
    size = min(max_fontsize, row_pt / 1.25)
    step = 1
    if size < 5.0:
        size = 5.0
        step = int(np.ceil(1.25 * size / max(row_pt, 1e-9)))
    ticks = np.arange(0, n, step)
    ax.set_yticks(ticks, [labels[t] for t in ticks], fontsize=size)


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
    """Draw ``grid`` (rows top to bottom) centred at zero; returns the colorbar. Cells whose
    95% interval contains zero are hatched (see the module docstring)."""
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
    weak = uncertain_cells(grid, std)
    if grid.size <= _MAX_PATCH_CELLS:
        for r in range(n_rows):
            for c in range(n_cols):
                val = grid[r, c]
                face = cmap(norm(val)) if np.isfinite(val) else (1, 1, 1, 1)
                rect = Rectangle(
                    (c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="white", lw=0.6
                )
                ax.add_artist(rect)  # limits are set below: no per-patch update
                if weak[r, c]:
                    hatch = Rectangle(
                        (c - 0.5, r - 0.5),
                        1,
                        1,
                        fill=False,
                        hatch=HATCH,
                        edgecolor="#555555",
                        lw=0,
                    )
                    ax.add_artist(hatch)
                se = 0.0 if std is None else float(std[r, c])
                note = " (95% interval includes 0)" if weak[r, c] else ""
                tooltip(rect, f"{row_names[r]} · {col_names[c]}: {fmt(val, se)}{note}")
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
        if weak.any():
            ax.pcolor(
                np.arange(n_cols + 1) - 0.5,
                np.arange(n_rows + 1) - 0.5,
                np.ma.masked_where(~weak, np.ones_like(grid)),
                hatch=HATCH,
                alpha=0.0,
                edgecolor="#555555",
                lw=0,
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
