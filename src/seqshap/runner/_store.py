"""Crash-safe chunk store: one parquet file per finished chunk, written atomically.

Layout of an output directory::

    _run.json               what the run computes (its fingerprint) and its seed entropy
    part-000000.parquet     rows of chunk 0, with the chunk's entity ids, errors and timings
    part-000001.parquet     in the file's key-value metadata (key ``seqshap``)

A part is written to a temporary file in the same directory, flushed to disk (``fsync``) and
renamed over its final name with ``os.replace`` (atomic on POSIX and Windows), so a run killed
at any instant leaves only whole parts; leftover temporary files are removed on the next start.
A chunk is finished exactly when its part exists. Nothing here unpickles: parquet and JSON only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .._optional import import_optional
from ..sequence._work import ChunkResult
from ..sequence.global_run import _META_KEY, _PART, part_name, read_meta, read_parts  # noqa: F401 (the reader of this format)

RUN_FILE = "_run.json"
_TMP = re.compile(r"^\.part-\d{6,}\.parquet\.tmp-\d+$")
FORMAT = "seqshap.runner"
FORMAT_VERSION = 1


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class ChunkStore:
    """Parts of one run in ``path``.

    ``fingerprint`` (JSON-able) describes what the run computes; resuming with another
    fingerprint is refused. ``resume=False`` removes the parts of a previous run first
    (only files this store writes are touched).
    """

    def __init__(
        self, path: str | os.PathLike, fingerprint: dict[str, Any], *, resume: bool, entropy: int
    ) -> None:
        self.pq = import_optional("pyarrow.parquet", "writing results to parquet (out=...)")
        self.pa = import_optional("pyarrow", "writing results to parquet (out=...)")
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"out must be a directory path; {str(self.path)!r} is a file.")
        self.path.mkdir(parents=True, exist_ok=True)
        for entry in os.listdir(self.path):
            if _TMP.match(entry):
                (self.path / entry).unlink()
        run_file = self.path / RUN_FILE
        if run_file.exists() and not resume:
            for index in self.finished_indices():
                (self.path / part_name(index)).unlink()
            run_file.unlink()
        if run_file.exists():
            doc = json.loads(run_file.read_text())
            if doc.get("format") != FORMAT:
                raise ValueError(
                    f"{str(self.path)!r} holds no seqshap run ({RUN_FILE} unreadable)."
                )
            old = doc.get("fingerprint", {})
            diff = sorted(
                k for k in set(old) | set(fingerprint) if old.get(k) != fingerprint.get(k)
            )
            if diff:
                raise ValueError(
                    f"out={str(self.path)!r} holds a run with other settings ({', '.join(diff)}: "
                    f"{[old.get(k) for k in diff]} there, {[fingerprint.get(k) for k in diff]} "
                    "now). Resume with the same settings, give a new out path, or pass "
                    "resume=False to discard it."
                )
            self.entropy = int(doc["entropy"])
        else:
            if self.finished_indices():
                raise ValueError(
                    f"out={str(self.path)!r} holds parts but no {RUN_FILE}; give an empty or new "
                    "directory."
                )
            doc = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "fingerprint": fingerprint,
                "entropy": int(entropy),
            }
            _write_atomic(run_file, lambda p: p.write_text(json.dumps(doc, indent=1)))
            self.entropy = int(entropy)

    # ------------------------------------------------------------------ parts
    def finished_indices(self) -> list[int]:
        return sorted(int(m.group(1)) for e in os.listdir(self.path) if (m := _PART.match(e)))

    def chunk_meta(self, index: int) -> dict[str, Any]:
        schema = self.pq.read_schema(self.path / part_name(index))
        return json.loads(schema.metadata[_META_KEY])

    def write(self, result: ChunkResult) -> None:
        table = self.pa.Table.from_pandas(result.frame, preserve_index=False)
        meta = {
            "chunk": result.index,
            "entities": result.entities,
            "errors": result.errors,
            "stats": result.stats,
        }
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
        )
        _write_atomic(self.path / part_name(result.index), lambda p: self.pq.write_table(table, p))

    # ------------------------------------------------------------------ reading
    def iter_frames(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        for index in self.finished_indices():
            table = self.pq.read_table(self.path / part_name(index), columns=columns)
            yield table.to_pandas()
