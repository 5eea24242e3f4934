"""Link functions: attributions are additive in link space.

``identity``: g(p) = p.  ``logit``: g(p) = log(p / (1 - p)), for probabilities; values then
explain log-odds, as in shap's KernelExplainer(link="logit").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_EPS = 1e-12


def identity(p: np.ndarray) -> np.ndarray:
    return np.asarray(p, dtype=float)


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities. Values outside [0, 1] are an error (never clipped into
    range); exactly 0 or 1 (a saturated sigmoid in float32) give ±27.6, the log-odds of
    1e-12 and 1 − 1e-12, instead of infinities."""
    p = np.asarray(p, dtype=float)
    outside = (p < 0.0) | (p > 1.0)
    if outside.any():
        raise ValueError(
            "link='logit' explains log-odds of probabilities, but the model's (expected) "
            f"outputs include {int(outside.sum())} value(s) outside [0, 1], from "
            f"{float(np.nanmin(p)):.6g} to {float(np.nanmax(p)):.6g}. Use link='identity' for "
            "scores or logits, or make the model return probabilities (sigmoid/softmax)."
        )
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"identity": identity, "logit": logit}


def get_link(link: str | Callable[[np.ndarray], np.ndarray]) -> tuple[str, Callable]:
    """Return ``(name, function)`` for a link given by name (or a shap-style link object)."""
    if isinstance(link, str):
        if link not in LINKS:
            raise ValueError(
                f"link must be one of {sorted(LINKS)}; received {link!r}. "
                "Use 'identity' for raw outputs or 'logit' for probabilities."
            )
        return link, LINKS[link]
    # shap's IdentityLink / LogitLink objects carry their name in str()
    name = str(link).lower()
    for key in LINKS:
        if key in name:
            return key, LINKS[key]
    raise ValueError(
        f"link must be 'identity' or 'logit'; received {link!r} of type {type(link).__name__}."
    )
