"""A small stand-in for ``shap.Explanation``, used by :class:`~seqshap.KernelExplainer` when shap
is not installed (with shap installed, ``explainer(X)`` returns a real ``shap.Explanation`` so
that ``shap.plots.*`` accept it).

It keeps shap's layout and indexing: ``values`` is ``(n, M)`` for one output and ``(n, M, k)``
for several (without the ``n`` axis for a single row); indexing is orthogonal, one index per
axis, by position, slice, list or name (``e[:, "age"]``, ``e[0, :, 1]``, ``e[..., "output 1"]``);
an integer index drops its axis. ``error_std`` (alias ``std_errors``) carries the standard
errors with the same shape as ``values``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_AXES = ("instance", "feature", "output")


class ShapLikeExplanation:
    """Parallel arrays ``values``, ``error_std``, ``base_values``, ``data`` with named axes."""

    def __init__(
        self,
        values: np.ndarray,
        *,
        base_values: Any,
        data: Any = None,
        feature_names: Any = None,
        output_names: Any = None,
        error_std: Any = None,
        axes: tuple[str, ...] | None = None,
    ) -> None:
        self.values = np.asarray(values)
        if axes is None:
            axes = _AXES[: self.values.ndim]
        if len(axes) != self.values.ndim or any(a not in _AXES for a in axes):
            raise ValueError(
                f"axes must name the {self.values.ndim} axes of values among {_AXES}; "
                f"received {axes!r}."
            )
        self._axes = tuple(axes)
        self.error_std = None if error_std is None else np.asarray(error_std)
        self.base_values = base_values if np.ndim(base_values) == 0 else np.asarray(base_values)
        self.data = None if data is None else np.asarray(data)
        self.feature_names = feature_names
        self.output_names = output_names

    # ------------------------------------------------------------------ shape
    @property
    def std_errors(self) -> np.ndarray | None:
        """Standard errors of ``values`` (same shape); 0 where values are exact."""
        return self.error_std

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        out = f".values =\n{self.values!r}\n\n.base_values =\n{self.base_values!r}"
        if self.data is not None:
            out += f"\n\n.data =\n{self.data!r}"
        return out

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, item: Any) -> ShapLikeExplanation:
        per_axis = self._per_axis(item)
        values, v_axes = self.values, self._axes
        error_std = self.error_std
        base, b_axes = self.base_values, tuple(a for a in self._axes if a != "feature")
        data, d_axes = self.data, tuple(a for a in self._axes if a != "output")
        feature_names, output_names = self.feature_names, self.output_names
        for name, idx in zip(self._axes, per_axis, strict=True):
            if isinstance(idx, slice) and idx == slice(None):
                continue
            new_values, new_axes = _take(values, v_axes, name, idx)
            if error_std is not None:
                error_std, _ = _take(error_std, v_axes, name, idx)
            values, v_axes = new_values, new_axes
            if np.ndim(base) == len(b_axes) and len(b_axes):
                base, b_axes = _take(np.asarray(base), b_axes, name, idx)
            if data is not None and data.ndim == len(d_axes):
                data, d_axes = _take(data, d_axes, name, idx)
            if name == "feature" and feature_names is not None:
                feature_names = _take_names(feature_names, idx)
            if name == "output" and output_names is not None:
                output_names = _take_names(output_names, idx)
        return ShapLikeExplanation(
            values,
            base_values=base,
            data=data,
            feature_names=feature_names,
            output_names=output_names,
            error_std=error_std,
            axes=v_axes,
        )

    def _per_axis(self, item: Any) -> list[Any]:
        items = list(item) if isinstance(item, tuple) else [item]
        if sum(i is Ellipsis for i in items) > 1:
            raise IndexError("an index can only have a single ellipsis ('...').")
        if Ellipsis in items:
            at = items.index(Ellipsis)
            fill = self.values.ndim - (len(items) - 1)
            items = items[:at] + [slice(None)] * max(fill, 0) + items[at + 1 :]
        if len(items) > self.values.ndim:
            raise IndexError(
                f"too many indices: this explanation has {self.values.ndim} axes "
                f"{self._axes}; received {len(items)} indices."
            )
        items += [slice(None)] * (self.values.ndim - len(items))
        return [self._resolve(axis, idx) for axis, idx in zip(self._axes, items, strict=True)]

    def _resolve(self, axis: str, idx: Any) -> Any:
        if isinstance(idx, np.integer):
            return int(idx)
        if isinstance(idx, str):
            return self._name_index(axis, idx)
        if isinstance(idx, list | tuple | np.ndarray) and any(isinstance(i, str) for i in idx):
            return [self._name_index(axis, i) if isinstance(i, str) else int(i) for i in idx]
        return idx

    def _name_index(self, axis: str, name: str) -> int:
        names = {"feature": self.feature_names, "output": self.output_names}.get(axis)
        if names is None or isinstance(names, str):
            raise IndexError(
                f"cannot index the {axis} axis by name {name!r}: it has no list of names."
            )
        names = [str(n) for n in names]
        if name not in names:
            raise IndexError(f"{axis} {name!r} not found; {axis} names are {names}.")
        return names.index(name)


def _take(arr: np.ndarray, axes: tuple[str, ...], name: str, idx: Any):
    """Index one named axis of ``arr`` (orthogonally); an integer index drops the axis."""
    if name not in axes:
        return arr, axes
    pos = axes.index(name)
    key = [slice(None)] * arr.ndim
    key[pos] = idx
    out = arr[tuple(key)]
    if isinstance(idx, int | np.integer):
        axes = axes[:pos] + axes[pos + 1 :]
    return out, axes


def _take_names(names: Any, idx: Any) -> Any:
    if isinstance(names, str):
        return names
    picked = np.asarray(list(names), dtype=object)[idx]
    return str(picked) if isinstance(idx, int | np.integer) else [str(n) for n in picked]
