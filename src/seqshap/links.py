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
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1.0 - _EPS)
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
