"""Crash-safe chunk store: one parquet file per finished chunk, written atomically.

Layout of an output directory::

    _run.json               what the run computes (its fingerprint) and its seed entropy
    part-000000.parquet     rows of chunk 0, with the chunk's entity ids, errors and timings
    part-000001.parquet     in the file's key-value metadata (key ``seqshap``)

A part is written to a temporary file in the same directory, flushed to disk (``fsync``) and
renamed over its final name with ``os.replace`` (atomic on POSIX and Windows), so a run killed
at any instant leaves only whole parts; leftover temporary files are removed on the next start.
A chunk is finished exactly when its part exists. Nothing here unpickles: parquet and JSON only.

Resuming (see ``_fingerprint``): ``_run.json`` also records the model's fingerprint (weights
digest, outputs on a fixed probe) and every part the digest of its chunk's input. Parts are
written with page checksums and read back whole on resume; one that cannot be read (cut short,
bytes changed, metadata missing) is renamed ``part-NNNNNN.parquet.corrupt[-k]``, named in a
warning and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
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
FORMAT_VERSION = 2  # 2: model fingerprint in _run.json, input digest in every part


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


def _rows_digest(table: Any) -> str:
    """sha256 of a part's rows as pandas reads them (column names, dtypes and values)."""
    frame = table.to_pandas()
    h = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _meta_digest(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


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
            doc = self._read_run_file(run_file)
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
            self.doc = doc
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
            self.doc = doc
        #: parts found unreadable and moved aside: (index, new path, reason)
        self.corrupt: list[tuple[int, Path, str]] = []
        self._metas: dict[int, dict[str, Any]] = {}
        for index in self.finished_indices():
            self._verify(index)

    def _read_run_file(self, run_file: Path) -> dict[str, Any]:
        hint = "give a new out path, or pass resume=False (CLI: a new --out) to start afresh."
        try:
            doc = json.loads(run_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{str(run_file)!r} is unreadable ({exc}); {hint}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"{str(run_file)!r} describes no seqshap run; {hint}")
        if doc.get("version") != FORMAT_VERSION or not isinstance(doc.get("entropy"), int):
            raise ValueError(
                f"{str(run_file)!r} was written by another version of seqshap (format "
                f"{doc.get('version')!r}, this one writes {FORMAT_VERSION}), without the model "
                f"and data fingerprints a safe resume needs; {hint}"
            )
        return doc

    def _verify(self, index: int) -> None:
        """Read part ``index`` whole (with page checksums); move it aside when that fails."""
        path = self.path / part_name(index)
        try:
            table = self.pq.read_table(path, page_checksum_verification=True)
            meta = json.loads(table.schema.metadata[_META_KEY])
            if not isinstance(meta, dict) or not isinstance(meta.get("input_sha256"), str):
                raise ValueError("its metadata names no input digest")
            if meta.get("sha256") != _meta_digest(meta):
                raise ValueError("its metadata does not match its checksum")
            if meta.get("chunk") != index:
                raise ValueError(f"its metadata says chunk {meta.get('chunk')!r}")
            if meta.get("rows_sha256") != _rows_digest(table):
                raise ValueError("its rows do not match their checksum")
        except Exception as exc:  # noqa: BLE001 - any failure to read means: recompute it
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            aside = path.with_name(f"{path.name}.corrupt")
            k = 0
            while aside.exists():
                k += 1
                aside = path.with_name(f"{path.name}.corrupt-{k}")
            os.replace(path, aside)
            _fsync_dir(self.path)
            self.corrupt.append((index, aside, reason))
            warnings.warn(
                f"part {str(path)!r} is unreadable ({reason}); moved it to {aside.name!r}, its "
                f"chunk {index} is recomputed.",
                RuntimeWarning,
                stacklevel=4,
            )
            return
        self._metas[index] = meta

    # ------------------------------------------------------------------ model
    @property
    def model_probe_length(self) -> int | None:
        """The probe length of the model fingerprint stored with the run (None: none yet)."""
        model = self.doc.get("model")
        return None if model is None else int(model["probe_length"])

    def check_model(self, fingerprint: dict[str, Any]) -> None:
        """Record the model's fingerprint, or refuse another model than the stored one."""
        from ._fingerprint import model_differences

        old = self.doc.get("model")
        if old is None:
            if self.finished_indices():
                raise ValueError(
                    f"out={str(self.path)!r} holds parts but {RUN_FILE} records no model; give "
                    "a new out path, or pass resume=False to start afresh."
                )
            self.doc = {**self.doc, "model": fingerprint}
            doc = self.doc
            _write_atomic(self.path / RUN_FILE, lambda p: p.write_text(json.dumps(doc, indent=1)))
            return
        found = model_differences(old, fingerprint)
        if found:
            raise ValueError(
                f"out={str(self.path)!r} holds a run computed with another model: "
                f"{'; '.join(found)}. Resume with the model of that run, or start afresh with a "
                "new out path or resume=False (CLI: a new --out, or drop --resume)."
            )

    # ------------------------------------------------------------------ parts
    def finished_indices(self) -> list[int]:
        return sorted(int(m.group(1)) for e in os.listdir(self.path) if (m := _PART.match(e)))

    def chunk_meta(self, index: int) -> dict[str, Any]:
        if index in self._metas:
            return self._metas[index]
        schema = self.pq.read_schema(self.path / part_name(index))
        return json.loads(schema.metadata[_META_KEY])

    def write(self, result: ChunkResult, input_sha256: str) -> None:
        table = self.pa.Table.from_pandas(result.frame, preserve_index=False)
        meta = {
            "chunk": result.index,
            "entities": result.entities,
            "errors": result.errors,
            "stats": result.stats,
            "input_sha256": input_sha256,
            "rows_sha256": _rows_digest(table),
        }
        meta["sha256"] = _meta_digest(meta)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
        )
        _write_atomic(
            self.path / part_name(result.index),
            lambda p: self.pq.write_table(table, p, write_page_checksum=True),
        )
        self._metas[result.index] = meta

    def discard(self, index: int) -> None:
        """Remove the part of chunk ``index`` (stale: its input changed)."""
        (self.path / part_name(index)).unlink(missing_ok=True)
        self._metas.pop(index, None)
        _fsync_dir(self.path)

    def remove_beyond(self, last_index: int) -> list[int]:
        """Remove parts of chunks after ``last_index`` (left by a longer input); their indices."""
        gone = [i for i in self.finished_indices() if i > last_index]
        for index in gone:
            (self.path / part_name(index)).unlink()
            self._metas.pop(index, None)
        if gone:
            _fsync_dir(self.path)
        return gone

    # ------------------------------------------------------------------ reading
    def iter_frames(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        for index in self.finished_indices():
            table = self.pq.read_table(self.path / part_name(index), columns=columns)
            yield table.to_pandas()
