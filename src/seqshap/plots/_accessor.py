"""``explanation.plot.<kind>(...)``: the plot functions bound to one Explanation."""

from __future__ import annotations

from typing import Any


class PlotAccessor:
    """Bound plot functions: ``exp.plot.bar()``, ``exp.plot.waterfall(instance=2)``, ...

    ``exp.plot()`` draws the natural default: a waterfall for one instance, a beeswarm for many,
    highlighted text for tokens, a heatmap for cells.
    """

    _KINDS = (
        "bar",
        "waterfall",
        "force",
        "beeswarm",
        "scatter",
        "decision",
        "heatmap",
        "event_heatmap",
        "cell_heatmap",
        "feature_bar",
        "global_event",
        "global_feature",
        "text",
        "text_html",
    )

    def __init__(self, explanation: Any) -> None:
        self._exp = explanation

    def __call__(self, **kwargs: Any) -> Any:
        exp = self._exp
        if exp.level == "token":
            return self.text(**kwargs)
        if exp.level == "cell":
            return self.cell_heatmap(**kwargs)
        if exp.n_instances == 1:
            return self.waterfall(**kwargs)
        return self.beeswarm(**kwargs)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._KINDS))

    def __repr__(self) -> str:
        return f"<PlotAccessor kinds: {', '.join(self._KINDS)}>"

    def bar(self, **kwargs: Any) -> Any:
        from . import bar

        return bar(self._exp, **kwargs)

    def waterfall(self, **kwargs: Any) -> Any:
        from . import waterfall

        return waterfall(self._exp, **kwargs)

    def force(self, **kwargs: Any) -> Any:
        from . import force

        return force(self._exp, **kwargs)

    def beeswarm(self, **kwargs: Any) -> Any:
        from . import beeswarm

        return beeswarm(self._exp, **kwargs)

    summary = beeswarm

    def scatter(self, player: int | str, **kwargs: Any) -> Any:
        from . import scatter

        return scatter(self._exp, player, **kwargs)

    dependence = scatter

    def decision(self, **kwargs: Any) -> Any:
        from . import decision

        return decision(self._exp, **kwargs)

    def heatmap(self, **kwargs: Any) -> Any:
        from . import heatmap

        return heatmap(self._exp, **kwargs)

    def event_heatmap(self, **kwargs: Any) -> Any:
        from . import event_heatmap

        return event_heatmap(self._exp, **kwargs)

    def cell_heatmap(self, **kwargs: Any) -> Any:
        from . import cell_heatmap

        return cell_heatmap(self._exp, **kwargs)

    def feature_bar(self, **kwargs: Any) -> Any:
        from . import feature_bar

        return feature_bar(self._exp, **kwargs)

    def global_event(self, **kwargs: Any) -> Any:
        from . import global_event_plot

        return global_event_plot(self._exp, **kwargs)

    def global_feature(self, **kwargs: Any) -> Any:
        from . import global_feature_plot

        return global_feature_plot(self._exp, **kwargs)

    def text(self, **kwargs: Any) -> Any:
        from . import text_plot

        return text_plot(self._exp, **kwargs)

    def text_html(self, **kwargs: Any) -> str:
        from . import text_html

        return text_html(self._exp, **kwargs)
