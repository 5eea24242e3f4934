"""CSV files that are safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is run
as a formula by Excel, LibreOffice and Google Sheets (CSV injection: an entity id
``=cmd|' /C calc'!A0`` from the input data would reach the user's desktop). Text cells of
CSV outputs get a leading ``'`` (shown as text, the usual neutralisation); numbers are left as
they are. Parquet outputs keep the values verbatim.

The TimeSHAP façade's CSV files are left verbatim: they are TimeSHAP-compatible caches that the
façade (and TimeSHAP) read back, where a changed id would no longer match its sequence.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    spreadsheet_safe(frame).to_csv(path, index=False)
