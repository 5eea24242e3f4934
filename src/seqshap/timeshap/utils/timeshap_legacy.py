"""``timeshap.utils.timeshap_legacy``: TimeSHAP's adaptations of shap's legacy data helpers,
kept by name for code that imports them. seqshap's own engine does not use them.

``TimeShapDenseData`` is a plain holder (TimeSHAP subclasses shap's private ``Data``);
``time_shap_match_model_to_data`` recognises ``(scores, h)`` outputs by their type (a tuple, or
a list of scores and a state array) rather than by ``len(output) == 2``, which in TimeSHAP
mistakes two rows of scores for a hidden state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import _describe
from .._utils import as_output_pair

_MODES = ("event", "feature", "pruning", "cell")


class TimeShapDenseData:
    """Background sequences ``data`` with the group (player) names of one TimeSHAP mode.

    ``groups`` (default: one group per name), ``weights`` (default: uniform over the rows of
    ``data``; normalised, the array given is not modified)."""

    def __init__(self, data: Any, mode: str, group_names: list[str], *args: Any) -> None:
        if mode not in _MODES:
            raise ValueError(f"TimeShapDenseData: mode must be one of {_MODES}; received {mode!r}.")
        groups = args[0] if len(args) > 0 and args[0] is not None else None
        self.groups = (
            [np.array([i]) for i in range(len(group_names))] if groups is None else list(groups)
        )
        weights = args[1] if len(args) > 1 and args[1] is not None else np.ones(np.shape(data)[0])
        weights = np.array(weights, dtype=float)
        self.weights = weights / weights.sum()
        self.transposed = False
        self.group_names = group_names
        self.data = data
        self.groups_size = len(self.groups)


def time_shap_match_instance_to_data(instance: Any, data: TimeShapDenseData) -> None:
    """Give a shap ``Instance`` the groups of ``data`` (and display values of one-cell groups)."""
    if not isinstance(data, TimeShapDenseData):
        raise TypeError(f"data must be a TimeShapDenseData; received {_describe(data)}.")
    if getattr(instance, "group_display_values", None) is None:
        instance.group_display_values = [
            instance.x[0, :, group[0]] if len(group) == 1 else "" for group in data.groups
        ]
    if len(instance.group_display_values) != len(data.groups):
        raise ValueError(
            f"instance has {len(instance.group_display_values)} display values for "
            f"{len(data.groups)} groups."
        )
    instance.groups = data.groups


def time_shap_match_model_to_data(model: Any, data: Any) -> tuple[Any, bool]:
    """Call the model (a shap ``Model`` or a callable) on ``data.data`` as TimeSHAP does;
    returns ``(scores, returns_hidden_state)``."""
    fn = getattr(model, "f", model)
    if not callable(fn):
        raise TypeError(
            f"model must be callable or have a callable .f; received {_describe(model)}."
        )
    # TimeSHAP passes ``data.data``: the array of a TimeShapDenseData (a numpy array's buffer
    # when given an array, as in TimeSHAP)
    out = fn(data.data)
    returns_hs = as_output_pair(out)[1] is not None
    if returns_hs:
        out = out[0]
    if hasattr(model, "out_names") and model.out_names is None:
        shape = np.shape(out)
        model.out_names = (
            ["output value"] if len(shape) == 1 else [f"output value {i}" for i in range(shape[0])]
        )
    return out, returns_hs


def time_shap_convert_to_data(
    val: Any, mode: str, pruning_idx: int, varying: tuple[list[int], list[int]] | None = None
) -> Any:
    """The background ``val (n, T, d)`` as a :class:`TimeShapDenseData` with TimeSHAP's group
    names for ``mode``; for ``"cell"``, ``(data, special-group flags)``."""
    if not isinstance(val, np.ndarray):
        if hasattr(val, "group_names") and hasattr(val, "data"):  # already converted
            return val
        raise TypeError(
            f"val must be a numpy array or a TimeShapDenseData; received {_describe(val)}."
        )
    if mode == "event":
        names = [f"Event: {i}" for i in np.arange(val.shape[1], pruning_idx, -1)]
        if pruning_idx > 0:
            names += ["Pruned Events"]
        return TimeShapDenseData(val, mode, names)
    if mode == "feature":
        names = [f"Feat: {i}" for i in np.arange(val.shape[2])]
        if pruning_idx > 0:
            names += ["Pruned Events"]
        return TimeShapDenseData(val, mode, names)
    if mode == "pruning":
        return TimeShapDenseData(val, mode, ["x", "hidden"])
    if mode != "cell":
        raise ValueError(f"mode must be one of {_MODES}; received {mode!r}.")
    if varying is None or len(varying) != 2:
        raise ValueError(f"mode 'cell' needs varying=(events, features); received {varying!r}.")
    events, feats = list(varying[0]), list(varying[1])
    names = [f"({e}, {j})" for e in events for j in feats]
    used = 0
    special: list[str] = []
    pruned: int | bool = False
    if pruning_idx > 0:
        special.append("Pruned Cells")
        used += 1
        pruned = used
    all_other: int | bool = False
    if not (len(events) == val.shape[1] - pruning_idx or len(feats) == val.shape[2]):
        special.append("Other Cells")
        used += 1
        all_other = used
    other_events: int | bool = False
    if len(events) < val.shape[1] - pruning_idx:
        special += list(reversed([f"Other events on feature {j}" for j in feats]))
        used += 1
        other_events = used
    other_feats: int | bool = False
    if len(feats) < val.shape[2]:
        special += list(reversed([f"Other feats on event {e}" for e in events]))
        used += 1
        other_feats = used
    names += list(reversed(special))
    return TimeShapDenseData(val, mode, names), [other_feats, other_events, all_other, pruned]


__all__ = [
    "TimeShapDenseData",
    "time_shap_convert_to_data",
    "time_shap_match_instance_to_data",
    "time_shap_match_model_to_data",
]
