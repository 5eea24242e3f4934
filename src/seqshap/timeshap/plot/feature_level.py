"""``timeshap.plot.feature_level`` (import path kept for drop-in use)."""

from .._plots import plot_feat_barplot, plot_global_feat

__all__ = ["plot_feat_barplot", "plot_global_feat"]
