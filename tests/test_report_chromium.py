"""The report in a real browser: headless Chromium (Debian's ``chromium``) opens it offline with
no console message, every plot rendered, and hostile names shown as text with nothing executed.
Skipped only when no chromium is installed (CI: ``apt-get install -y chromium``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "baseline_images"))
_spec = importlib.util.spec_from_file_location(
    "check_report_chromium", ROOT / "scripts" / "check_report_chromium.py"
)
chk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chk)

pytestmark = pytest.mark.skipif(
    chk.find_chromium() is None, reason="chromium not installed (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    import cases
    import matplotlib

    from seqshap import report

    before = matplotlib.get_backend()
    matplotlib.use("Agg")
    try:
        loc, glob = cases.sequence_results()
        path = tmp_path_factory.mktemp("chromium") / "report.html"
        report(
            local={"sequence": loc, "text": cases.tokens()},
            global_=glob,
            path=path,
            title=cases.HOSTILE_TITLE,
        )
    finally:
        matplotlib.use(before)
    hostile = (
        cases.HOSTILE,
        cases.HOSTILE_TITLE,
        cases.HOSTILE_ENTITY,
        "<script>alert(1)</script>",
    )
    return path, hostile


def test_report_opens_cleanly_in_chromium(report_file, tmp_path):
    from PIL import Image

    path, hostile = report_file
    shot = tmp_path / "report.png"
    problems = chk.check_report(path, hostile=hostile, screenshot=shot, timeout=90)
    assert problems == []
    with Image.open(shot) as im:
        arr = np.asarray(im.convert("L"), dtype=float)
    assert arr.std() > 10  # a rendered page, not a blank one


def test_checker_catches_a_broken_report(tmp_path):
    """The browser check can fail: markup that runs code, logs errors and lacks plots."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        "<img src=x onerror=\"document.title='pwned'\">"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    problems = "\n".join(
        chk.check_report(bad, hostile=("<img src=x onerror=alert(1)>",), timeout=90)
    )
    assert "inline event handler" in problems
    assert "console" in problems and "Uncaught" in problems
    assert "plots rendered" in problems
    assert "not shown as text" in problems
