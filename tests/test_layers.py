"""Layers point down only (DESIGN.md): the import graph of ``src/seqshap``, read from the source
(imports inside functions included), has no edge from a lower layer to a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "seqshap"

#: package prefixes above the value-function layers: explainers, runner, façades, plots, report
ABOVE_GAMES = (
    "seqshap.sequence",
    "seqshap.text",
    "seqshap.kernel_explainer",
    "seqshap.runner",
    "seqshap.timeshap",
    "seqshap.lime",
    "seqshap.plots",
    "seqshap._report",
    "seqshap.report",
    "seqshap.metrics",
    "seqshap.cli",
    "seqshap.demo",
)

RULES = [
    # (importer prefix, forbidden prefixes, why)
    ("seqshap.sequence", ("seqshap.runner",), "the runner is a loop over plans, above them"),
    ("seqshap.games", ABOVE_GAMES, "games hold value functions only"),
    ("seqshap.estimators", ABOVE_GAMES, "estimators know no sequences"),
    ("seqshap.models", ABOVE_GAMES + ("seqshap.games", "seqshap.estimators"), "models are lowest"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (``from x import y`` gives ``x`` and
    ``x.y``, since ``y`` may be a submodule)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    return {
        _module_name(p): {m for m in _imports(p) if m.startswith("seqshap")}
        for p in sorted(SRC.rglob("*.py"))
    }


def _violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for importer, imported in graph.items():
        for prefix, forbidden, why in RULES:
            if importer != prefix and not importer.startswith(prefix + "."):
                continue
            for mod in sorted(imported):
                if any(
                    mod == f or mod.startswith(f if f.endswith(".") else f + ".") for f in forbidden
                ):
                    bad.append(f"{importer} imports {mod} ({why})")
    return bad


def test_graph_is_read():
    graph = _graph()
    assert "seqshap.sequence.explainer" in graph
    assert "seqshap.sequence.plan" in graph["seqshap.sequence.explainer"]
    assert "seqshap.models._prefix" in graph["seqshap.games.recurrent"]


def test_layers_point_down_only():
    assert _violations(_graph()) == []


@pytest.mark.parametrize(
    "importer,imported",
    [
        ("seqshap.sequence.explainer", "seqshap.runner"),
        ("seqshap.games.recurrent", "seqshap.sequence.pruning"),
        ("seqshap.models._batching", "seqshap.runner._work"),
        ("seqshap.estimators.kernel", "seqshap.plots"),
    ],
)
def test_the_check_catches_an_upward_import(importer, imported):
    graph = {importer: {imported}}
    assert len(_violations(graph)) == 1
