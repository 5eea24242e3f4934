"""The one data gate: conversion and validation with messages that name the argument.

Every public entry point sends user data through these helpers; nothing else in the package
validates user input. Messages say what was received and what to do.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)}"
    return f"{type(x).__name__}"


def check_array(
    x: Any,
    *,
    name: str,
    ndim: int | Sequence[int] | None = None,
    allow_nan: bool = False,
    min_rows: int | None = None,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a float64 array and check its dimensions and values.

    Accepts numpy arrays, pandas objects, nested lists and scipy.sparse matrices (densified).
    Never returns a view that the caller could mutate into the user's data when ``copy`` is set.
    """
    if x is None:
        raise ValueError(f"{name} is required; received None.")
    if hasattr(x, "toarray") and hasattr(x, "nnz"):  # scipy.sparse
        x = x.toarray()
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):  # pandas
        x = x.to_numpy()
    try:
        arr = np.array(x, dtype=float, copy=copy) if copy else np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be numeric (array-like of numbers); received {_describe(x)} that "
            f"cannot be converted to floats ({exc}). Encode categorical values as numbers first."
        ) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{name} must be {want}; received an array of shape {arr.shape} "
                f"({arr.ndim}-D). Reshape it, e.g. x[None] for a single instance."
            )
    if min_rows is not None and (arr.ndim == 0 or arr.shape[0] < min_rows):
        raise ValueError(
            f"{name} must have at least {min_rows} row(s); received shape {arr.shape}."
        )
    if not allow_nan and arr.size and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name} contains NaN or infinite values ({len(bad)} cell(s), first at index "
            f"{first}). Impute or drop them before explaining."
        )
    return arr


def check_int(value: Any, *, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; received {value!r} ({type(value).__name__}).")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; received {value}.")
    return value


def check_budget(budget: Any, *, name: str = "budget") -> int:
    """A budget counts value-function evaluations (coalitions); at least 2 (empty and full)."""
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer number of evaluations; received {budget!r} "
            f"({type(budget).__name__})."
        )
    if budget < 2:
        raise ValueError(
            f"{name} must be at least 2 (the empty and the full coalition); received {budget}. "
            "Give more evaluations, e.g. 2 * n_players + 2048."
        )
    return int(budget)


def check_tol(tol: Any, *, name: str = "tol", allow_none: bool = True) -> float | None:
    if tol is None and allow_none:
        return None
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol):
        raise TypeError(f"{name} must be a finite number; received {tol!r}.")
    if tol < 0:
        raise ValueError(f"{name} must be >= 0; received {tol}.")
    return float(tol)


def check_random_state(seed: Any, *, name: str = "seed") -> np.random.Generator:
    """A local Generator from an int, None, SeedSequence or Generator (global state untouched)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name} must be a non-negative int, None or a numpy.random.Generator; received {seed!r}."
    )


def check_model_output(out: Any, *, n_rows: int, name: str = "model") -> np.ndarray:
    """Coerce a model's output to ``(n_rows, k)`` float64 and check it."""
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must return numbers; it returned {_describe(out)}. Wrap it so it returns a "
            "numpy array of scores."
        ) from None
    if arr.ndim == 0:
        raise_scalar_output(out, n_rows=n_rows, name=name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise ValueError(
            f"{name} must return one row of scores per input row, shape ({n_rows},) or "
            f"({n_rows}, k); it returned shape {arr.shape}. If it returns one score per time "
            "step, select the step to explain (e.g. output[:, -1])."
        )
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} returned NaN or infinite values for {int((~np.isfinite(arr)).any(1).sum())} "
            f"of {n_rows} rows. Check the model on the baseline/background inputs."
        )
    return arr


def check_names(names: Any, *, n: int, name: str, default_prefix: str) -> list[str]:
    if names is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    names = [str(v) for v in names]
    if len(names) != n:
        raise ValueError(f"{name} must have {n} entries; received {len(names)}.")
    return names


# ---------------------------------------------------------------------- names and columns
def check_unique_names(names: Sequence[Any], *, name: str) -> list[str]:
    """``names`` as strings, refusing repeats (two players, or one column fed twice)."""
    names = [str(v) for v in names]
    counts = {v: c for v, c in Counter(names).items() if c > 1}
    if counts:
        listed = ", ".join(f"{v!r} ({c} times)" for v, c in counts.items())
        raise ValueError(
            f"{name} must not repeat a name; received {listed}. Give each feature (column) once."
        )
    return names


def is_frame(x: Any) -> bool:
    """A pandas DataFrame (or anything with DataFrame-like columns and selection)."""
    return hasattr(x, "columns") and hasattr(x, "loc") and getattr(x, "ndim", 2) == 2


def frame_names(x: Any) -> list[str] | None:
    """Column names of a DataFrame or index labels of a Series (an event), as strings; None
    for other input and for unnamed labels (the default 0, 1, …, d−1)."""
    if is_frame(x):
        labels, what = list(x.columns), "the DataFrame's columns"
    elif hasattr(x, "index") and hasattr(x, "to_numpy") and getattr(x, "ndim", 0) == 1:
        labels, what = list(x.index), "the Series' index"
    else:
        return None
    if labels == list(range(len(labels))):
        return None
    return check_unique_names(labels, name=what)


def select_columns(x: Any, names: Sequence[str], *, name: str) -> Any:
    """A DataFrame's columns ``names``, matched by name (never by position); other input as is.

    The columns are matched as strings; extra columns are left out. Missing ones are an error
    that names them, so a frame with columns in another order gives the same values as one in
    the expected order. Unnamed labels (the default 0, 1, …) are taken by position.
    """
    if frame_names(x) is None:  # not pandas, or unnamed labels 0..d-1: by position
        return x
    if is_frame(x):
        labels, what = list(x.columns), "DataFrame"
    else:  # a Series with named labels: one row
        labels, what = list(x.index), "Series"
    by_name = {str(c): c for c in labels}
    if len(by_name) != len(labels):
        check_unique_names(labels, name=f"{name}'s labels")
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ValueError(
            f"{name} is a {what} without the column(s) {missing} the explainer was set up "
            f"with (feature_names {list(names)}); it has {list(by_name)}. Columns are matched "
            "by name: rename them, or pass a numpy array in the expected order."
        )
    keys = [by_name[n] for n in names]
    return x[keys] if what == "DataFrame" else x.loc[keys]


# ---------------------------------------------------------------------- model outputs
def raise_scalar_output(out: Any, *, n_rows: int, name: str = "model") -> None:
    """A model that returns one number for a batch of rows (e.g. ``x.sum()``, not per row)."""
    rows = f"{n_rows} input row(s)" if n_rows >= 0 else "a batch of input rows"
    n = "n" if n_rows < 0 else n_rows
    raise ValueError(
        f"{name} returned a single number ({_describe(out)}: {out!r}) for {rows}; it must "
        f"return one score per row, shape ({n},) or ({n}, k): reduce over every axis but the "
        "first (rows), e.g. x.sum(axis=1) for a matrix or x.sum(axis=(1, 2)) for sequences, "
        "not x.sum()."
    )


_KINDS = {"f": "float", "i": "integer", "u": "integer", "b": "boolean", "c": "complex"}


def output_signature(out: Any, arr: np.ndarray) -> tuple[int, str]:
    """``(width, kind)`` of a model's output: its number of columns and the kind of its own
    dtype (float, integer, boolean; float32 and float64 are both float, as adapters may return
    either)."""
    dtype = getattr(out, "dtype", None)
    if dtype is None:
        return int(arr.shape[1]), "float"  # lists and Python numbers: converted to float64
    name = str(dtype).replace("torch.", "")
    try:
        kind = _KINDS.get(np.dtype(name).kind, name)
    except TypeError:  # e.g. torch.bfloat16
        kind = "float" if "float" in name else name
    return int(arr.shape[1]), kind


def check_output_stable(
    previous: tuple[int, str] | None, current: tuple[int, str], *, name: str = "model"
) -> tuple[int, str]:
    """The same output width and dtype on every call (the first call sets them)."""
    if previous is not None and previous != current:
        raise ValueError(
            f"{name} returned {current[0]} output(s) per row of dtype {current[1]} on this call "
            f"but {previous[0]} of dtype {previous[1]} on an earlier one; its outputs must keep "
            "one width and dtype on every call (scores of the same outputs, in the same order, "
            "whatever the batch size)."
        )
    return current


def check_lengths(lengths: Any, *, n: int, t_max: int, name: str = "lengths") -> np.ndarray:
    """``n`` sequence lengths in ``[1, t_max]`` as int64; whole numbers only (2.0 is 2; 2.5, a
    bool or a string is an error naming the first bad entry)."""
    arr = np.asarray(lengths)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(
            f"{name} must be {n} integer(s), one per sequence; received {_describe(lengths)}."
        )
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be whole numbers of events; received values of dtype {arr.dtype} "
            f"(first: {arr.reshape(-1)[0].item()!r})."
        )
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if len(bad):
            i = int(bad[0])
            raise ValueError(
                f"{name} must be whole numbers of events; received {float(arr[i])!r} at index {i}"
                f"{f' and {len(bad) - 1} more' if len(bad) > 1 else ''}. A length counts "
                "the valid rows of a padded sequence."
            )
    if (arr < 1).any() or (arr > t_max).any():
        raise ValueError(
            f"{name} must lie in [1, {t_max}] (the padded length); received values from "
            f"{arr.min():g} to {arr.max():g}. Drop empty sequences before explaining."
        )
    return arr.astype(np.int64)


# ---------------------------------------------------------------------- argument constraints
# Argument checks declared as data (scikit-learn's ``_parameter_constraints`` spirit): an
# explainer lists ``{argument: constraint}`` once and :func:`validate` applies it, so that each
# check and its message are written once, here.


class Constraint:
    """Checks one argument: ``constraint(value, name)`` returns the converted value or raises
    ``TypeError``/``ValueError`` naming ``name``, what was received and what is expected."""

    def __call__(self, value: Any, name: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class Integer(Constraint):
    """An integer (not a bool), at least ``minimum``; ``none=True`` also accepts None."""

    def __init__(self, minimum: int | None = None, *, none: bool = False) -> None:
        self.minimum, self.none = minimum, none

    def __call__(self, value: Any, name: str) -> int | None:
        if value is None and self.none:
            return None
        return check_int(value, name=name, minimum=self.minimum)


class Tolerance(Constraint):
    """A finite number >= 0; ``none=True`` (default) also accepts None."""

    def __init__(self, *, none: bool = True) -> None:
        self.none = none

    def __call__(self, value: Any, name: str) -> float | None:
        return check_tol(value, name=name, allow_none=self.none)


class OneOf(Constraint):
    """One of ``options`` (compared by identity for None and bools, else by equality)."""

    def __init__(self, *options: Any, error: type[Exception] = ValueError) -> None:
        self.options, self.error = options, error

    def __call__(self, value: Any, name: str) -> Any:
        for opt in self.options:
            same = (
                value is opt
                if (opt is None or isinstance(opt, bool))
                else (not isinstance(value, bool) and value is not None and value == opt)
            )
            if same:
                return opt
        if all(o is None or isinstance(o, bool) for o in self.options):
            listed = ", ".join(repr(o) for o in self.options[:-1]) + f" or {self.options[-1]!r}"
            raise self.error(f"{name} must be {listed}; received {value!r}.")
        raise self.error(f"{name} must be one of {list(self.options)}; received {value!r}.")


class Flag(Constraint):
    """True or False (numpy bools included)."""

    def __call__(self, value: Any, name: str) -> bool:
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{name} must be True or False; received {value!r}.")
        return bool(value)


class Budget(Constraint):
    """Coalition evaluations: an int >= 2, ``"auto"`` or None (the default rule)."""

    def __call__(self, value: Any, name: str) -> int | str | None:
        if value is None or (isinstance(value, str) and value == "auto"):
            return value
        if isinstance(value, str):
            raise ValueError(
                f"{name} must be an integer number of evaluations, None or 'auto'; received "
                f"{value!r}."
            )
        return check_budget(value, name=name)


class Seed(Constraint):
    """A seed for a local generator (checked by :func:`check_random_state`, kept as given)."""

    def __call__(self, value: Any, name: str) -> Any:
        check_random_state(value, name=name)
        return value


def validate(params: dict[str, Any], constraints: dict[str, Constraint]) -> dict[str, Any]:
    """``params`` checked and converted by their declared ``constraints`` (every key of
    ``params`` must have one); returns the converted values in a new dict."""
    return {name: constraints[name](value, name) for name, value in params.items()}


def check_output_names(names: Any) -> list[str] | None:
    """``output_names=``: None or a sequence of distinct labels (turned into strings)."""
    if names is None:
        return None
    if isinstance(names, str | bytes) or not isinstance(names, Sequence | np.ndarray):
        raise TypeError(
            "output_names must be a list of names, one per model output (e.g. ['walking', "
            f"'running']); received {type(names).__name__}."
        )
    out = [str(n) for n in names]
    if len(set(out)) != len(out):
        dup = sorted({n for n in out if out.count(n) > 1})
        raise ValueError(f"output_names must be distinct; {dup} repeat(s) in {out}.")
    return out
