"""What a resumed run must share with the run it continues, beyond the options.

- The model: a digest of its weights or serialised graph (``models._digest``) and its outputs
  on a fixed probe (the background's first row repeated over ``probe_length`` events, then
  three copies with fixed standard normal noise added). A run resumed with another model stops
  with an error naming what differs.
- The data: each chunk's part records a digest of its input (positions, entity ids, shapes and
  float64 values of the gated sequences, and the reasons of the bad ones). A finished chunk
  whose input no longer matches is recomputed, so a resumed run always ends with the table of a
  clean run over the data given now; parts beyond the end of a shorter input are removed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ..models import PrefixCache
from ..models._digest import weights_digest
from ..sequence.baselines import background_for

#: relative and absolute tolerance on the probe outputs (thread counts and BLAS builds round
#: differently; another model differs by far more)
PROBE_RTOL, PROBE_ATOL = 1e-5, 1e-7
PROBE_SEED = 20261128


def probe_input(background: Any, length: int, n_features: int) -> np.ndarray:
    """``(4, length, d)``: the background's first row, then three noisy copies of it."""
    if background.data.shape[1] > 1:  # baseline sequences: no longer than they are
        length = min(int(length), background.data.shape[1])
    bg = background_for(background, int(length), int(n_features))
    base = np.asarray(bg.data[0], dtype=float)
    noise = np.random.default_rng(PROBE_SEED).standard_normal((3, *base.shape))
    return np.concatenate([base[None], base[None] + noise], axis=0)


def model_fingerprint(model: Any, background: Any, length: int, n_features: int) -> dict:
    """The model part of a run's fingerprint (JSON-able)."""
    inner = model.base if isinstance(model, PrefixCache) else model
    digest = weights_digest(inner)
    outputs = np.asarray(inner(probe_input(background, length, n_features)), dtype=float)
    return {
        "type": type(inner).__name__,
        "weights": None if digest is None else {"kind": digest[0], "sha256": digest[1]},
        "probe_length": int(length),
        "probe_outputs": outputs.tolist(),
    }


def model_differences(old: dict, new: dict) -> list[str]:
    """What differs between two model fingerprints, in words (empty when they agree)."""
    found = []
    if old.get("type") != new.get("type"):
        found.append(f"model type ({old.get('type')} there, {new.get('type')} now)")
    if old.get("weights") != new.get("weights"):
        kind = (new.get("weights") or old.get("weights") or {}).get("kind", "weights")
        found.append(f"model {kind} (sha256 differs)")
    a = np.asarray(old.get("probe_outputs"), dtype=float)
    b = np.asarray(new.get("probe_outputs"), dtype=float)
    if a.shape != b.shape:
        found.append(f"model output shape on the probe ({a.shape} there, {b.shape} now)")
    elif not np.allclose(a, b, rtol=PROBE_RTOL, atol=PROBE_ATOL, equal_nan=True):
        gap = float(np.nanmax(np.abs(a - b)))
        found.append(f"model outputs on a fixed probe (differ by up to {gap:.3g})")
    return found


def chunk_digest(chunk: Any) -> str:
    """sha256 of a chunk's input: what its part was computed from."""
    h = hashlib.sha256()
    for position, entity, seq in chunk.items:
        arr = np.ascontiguousarray(seq, dtype=np.float64)
        h.update(f"ok|{position}|{entity}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    for position, entity, reason in chunk.bad:
        h.update(f"bad|{position}|{entity}|{reason}|".encode())
    return h.hexdigest()
