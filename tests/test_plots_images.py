"""Image comparison of every plot against the committed baselines (with a tolerance).

Baselines: ``python tests/baseline_images/generate.py`` (look at them before committing).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.testing.compare import compare_images  # noqa: E402

BASELINES = Path(__file__).resolve().parent / "baseline_images"
sys.path.insert(0, str(BASELINES))
import cases  # noqa: E402

from seqshap import plots as sp  # noqa: E402

#: RMS over 0–255 grey levels; anti-aliasing/freetype differences stay well below it, while a
#: changed bar, label or colour does not (see test_tolerance_catches_a_changed_plot).
TOL = 6.0


@pytest.fixture(autouse=True)
def _agg():
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    plt.close("all")
    matplotlib.use(before)


def _render(draw, path: Path) -> None:
    import matplotlib.pyplot as plt

    with plt.rc_context(cases.RC):
        ax = draw()
        ax.figure.savefig(path)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_matches_baseline(name, tmp_path):
    expected = BASELINES / f"{name}.png"
    assert expected.exists(), f"missing baseline; run python {BASELINES / 'generate.py'}"
    actual = tmp_path / f"{name}.png"
    _render(cases.CASES[name], actual)
    result = compare_images(str(expected), str(actual), tol=TOL, in_decorator=True)
    assert result is None, result


def test_tolerance_catches_a_changed_plot(tmp_path):
    """The comparison is not vacuous: flipping one value's sign fails it."""
    exp = cases.local_feature()
    exp.values = exp.values.copy()
    exp.values[0, 3, 0] = -exp.values[0, 3, 0]  # hour: -0.22 -> +0.22
    actual = tmp_path / "bar_local.png"
    _render(lambda: sp.bar(exp), actual)
    result = compare_images(
        str(BASELINES / "bar_local.png"), str(actual), tol=TOL, in_decorator=True
    )
    assert result is not None and result["rms"] > TOL


def test_baselines_are_not_blank():
    from PIL import Image

    for name in cases.CASES:
        arr = np.asarray(Image.open(BASELINES / f"{name}.png").convert("L"), dtype=float)
        assert arr.std() > 5, name
