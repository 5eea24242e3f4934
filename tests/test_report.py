"""The HTML report: one self-contained file, every user string escaped, inline SVG with hover
values, sortable tables, all inputs (sequence results, Explanations, text) accepted."""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "baseline_images"))
import cases  # noqa: E402

from seqshap import report  # noqa: E402

HOSTILE_TITLE = cases.HOSTILE_TITLE
HOSTILE_ENTITY = cases.HOSTILE_ENTITY
sequence_results = cases.sequence_results


@pytest.fixture(autouse=True, scope="module")
def _agg():
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    matplotlib.use(before)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    loc, glob = sequence_results()
    path = tmp_path_factory.mktemp("report") / "report.html"
    text = report(
        local={"sequence <b>0</b>": loc, "text": cases.tokens()},
        global_=glob,
        path=path,
        title=HOSTILE_TITLE,
        pruning_tols=[0.01, 0.025, 0.05],
    )
    return text, path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


def test_writes_the_returned_text(built):
    text, path = built
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")


def test_self_contained_no_network(built):
    text, _ = built
    tags = _parse(text).tags
    for tag, attrs in tags:
        for key, val in attrs.items():
            if key in {"src", "href", "action", "poster", "srcset"} and val:
                assert val.startswith(("#", "data:")), (tag, key, val)
    assert "@import" not in text and "url(http" not in text
    assert [t for t, _ in tags if t in {"link", "iframe", "object", "embed", "base"}] == []
    scripts = [a for t, a in tags if t == "script"]
    assert scripts == [{}]  # exactly one, inline
    csp = next(
        a["content"]
        for t, a in tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp
    body = re.search(r"<script>(.*?)</script>", text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp  # the CSP admits this script and nothing else


def test_every_user_string_is_escaped(built):
    text, _ = built
    p = _parse(text)
    assert all(not any(k.startswith("on") for k in a) for _, a in p.tags), (
        "inline handler in markup"
    )
    assert [t for t, _ in p.tags].count("img") == 0
    assert text.count("<script") == 1
    shown = "".join(p.text)
    for s in (
        cases.HOSTILE,
        HOSTILE_TITLE,
        "<script>alert(1)</script>",
        "sequence <b>0</b>",
        HOSTILE_ENTITY,
    ):
        assert s in shown, s
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_inline_svgs_parse_and_carry_hover_values(built):
    text, _ = built
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    assert len(svgs) >= 9
    n_titles = 0
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("class") == "plot"
        n_titles += sum(1 for el in root.iter() if el.tag.endswith("title"))
        assert "xlink" not in svg and "ns0:" not in svg
    assert n_titles > 50
    assert "<title>amount" in text  # a bar's hover text names the player and its value


def test_ids_unique_across_plots(built):
    text, _ = built
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_local_and_global_parts_present(built):
    text, _ = built
    for needle in (
        "Pruning",
        "Event level",
        "Feature level",
        "Cell level",
        "Token level",
        "Pruning statistics",
        "Global event attributions",
        "Global feature attributions",
        "model output f(x)",
        "base value E[f]",
    ):
        assert needle in text, needle
    assert text.count('<table class="sortable">') >= 7


def test_plain_explanations_and_png_images(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    text = report(
        local=[cases.local_feature(), cases.local_event(), cases.local_cell()],
        global_=cases.many_feature(),
        image_format="png",
    )
    assert plt.get_fignums() == before  # every figure the report drew is closed
    assert text.count('<img class="plot"') >= 6
    assert 'src="data:image/png;base64,' in text
    assert "Global report" in text


def test_output_selects_one_output():
    text = report(local=cases.local_event(), output="class B")
    assert "class B" in text and "f(x) · class A" not in text


def test_multi_instance_local_is_capped(tmp_path):
    text = report(local=cases.many_feature(), max_instances=2)
    assert text.count("Local report") == 2


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({}, ValueError, r"report\(local=|local=explainer.explain"),
        ({"local": cases.local_feature(), "image_format": "gif"}, ValueError, "image_format"),
        ({"local": object()}, TypeError, "LocalExplanation"),
        ({"global_": object()}, TypeError, "GlobalRun"),
        ({"local": cases.local_feature(), "max_display": 0}, ValueError, "max_display"),
    ],
)
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        report(**kwargs)


def test_wrong_slot_hints(tmp_path):
    loc, glob = sequence_results()
    with pytest.raises(TypeError, match=r"report\(global_=result\)"):
        report(local=glob)
    with pytest.raises(TypeError, match=r"report\(local=result\)"):
        report(global_=loc)
    with pytest.raises(ValueError, match="directory"):
        report(local=loc, path=tmp_path)
