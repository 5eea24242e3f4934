"""Run the peers' own test suites against seqshap's façades, imports rewritten, in a temp dir.

    python scripts/peer_suites.py --shap PATH/shap.git --timeshap PATH/timeshap.git \
        --lime PATH/lime.git [--arem-notebook] [--keep]

Each PATH is a git directory (a clone or a bare mirror) of shap/shap, feedzai/timeshap and
marcotcr/lime. Their test files are exported with ``git archive`` into a temporary directory
(never into this repository), ``shap.KernelExplainer`` / ``timeshap`` / ``lime.lime_text`` are
rewritten to ``seqshap.KernelExplainer`` / ``seqshap.timeshap`` / ``seqshap.lime``, and pytest
prints the pass counts. Tests that need a download (shap's a1a and 20 newsgroups data) fail
without internet; for lime's text tests a small offline two-class corpus stands in for
20 newsgroups (written into the temp dir's conftest), for lime and seqshap alike.
``--arem-notebook`` also runs TimeSHAP's ``notebooks/AReM/AReM.ipynb`` cell by cell (code
extracted, imports rewritten, matplotlib's Agg backend; needs torch) and counts the cells that
run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

FAKE_20NEWS = """
import numpy as np
import sklearn.datasets
from sklearn.utils import Bunch

SHARED = "the of and to in is that it for on with as was be this are by".split()
CLASS = [
    "god atheism evidence belief religion argument reason science morality atheist".split(),
    "jesus christ church faith bible prayer christian lord gospel holy".split(),
]


def fake_20newsgroups(subset="train", categories=None, **kwargs):
    rng = np.random.default_rng(0 if subset == "train" else 1)
    data, target = [], []
    for i in range(300):
        label = i % 2
        words = list(rng.choice(SHARED, 25)) + list(rng.choice(CLASS[label], 8))
        words += list(rng.choice(CLASS[1 - label], 2))
        rng.shuffle(words)
        data.append(" ".join(words))
        target.append(label)
    return Bunch(data=data, target=np.array(target), target_names=["atheism", "christian"])


sklearn.datasets.fetch_20newsgroups = fake_20newsgroups
"""


def export(git_dir: str, ref: str, paths: list[str], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", git_dir, "archive", ref, *paths], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "x", "-C", str(dest)], input=archive, check=True)


def rewrite(path: Path, rules: list[tuple[str, str]]) -> None:
    text = path.read_text()
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text, flags=re.M)
    path.write_text(text)


def pytest(cwd: Path, target: str, extra_path: str = "") -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), str(cwd), extra_path) if p)
    (cwd / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    print(f"\n=== {cwd.name}: python -m pytest {target}", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "pytest", target, "-q", "-rfE", "--import-mode=importlib"],
        cwd=cwd,
        env=env,
    ).returncode


NOTEBOOK_RUNNER = r"""
import json, os, re, sys, time
import matplotlib
matplotlib.use("Agg")
cells = [c for c in json.load(open(sys.argv[1]))["cells"] if c["cell_type"] == "code"]
os.chdir(os.path.dirname(os.path.abspath(sys.argv[1])))
ns, ok = {"__name__": "__main__"}, 0
for i, cell in enumerate(cells):
    src = "".join(cell["source"])
    src = re.sub(r"^(\s*)from timeshap", r"\1from seqshap.timeshap", src, flags=re.M)
    src = re.sub(r"^(\s*)import timeshap\s*$", r"\1import seqshap.timeshap as timeshap", src,
                 flags=re.M)
    start = time.time()
    try:
        exec(compile(src, f"cell{i}", "exec"), ns)
        ok, status = ok + 1, "ok"
    except Exception as exc:
        status = f"FAIL {type(exc).__name__}: {str(exc)[:160]}"
    print(f"cell {i:2d} {time.time() - start:7.1f}s {status}", flush=True)
print(f"{ok} of {len(cells)} cells ran")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shap", help="git dir of shap/shap (tag v0.51.0 is used)")
    parser.add_argument("--shap-ref", default="v0.51.0")
    parser.add_argument("--timeshap", help="git dir of feedzai/timeshap")
    parser.add_argument("--lime", help="git dir of marcotcr/lime")
    parser.add_argument("--arem-notebook", action="store_true", help="run TimeSHAP's AReM tutorial")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="seqshap-peers-"))
    try:
        if args.shap:
            work = root / "shap"
            export(args.shap, args.shap_ref, ["tests/explainers/test_kernel.py",
                   "tests/explainers/common.py", "tests/conftest.py"], work)  # fmt: skip
            for init in ("tests/__init__.py", "tests/explainers/__init__.py"):
                (work / init).touch()
            rewrite(
                work / "tests/explainers/test_kernel.py",
                [
                    (r"(?<![\w.])shap\.explainers\.KernelExplainer", "seqshap.KernelExplainer"),
                    (r"(?<![\w.])shap\.KernelExplainer", "seqshap.KernelExplainer"),
                    (r"^import shap$", "import shap\nimport seqshap"),
                ],
            )
            pytest(work, "tests/explainers/test_kernel.py")
        if args.timeshap:
            work = root / "timeshap"
            export(args.timeshap, "HEAD", ["tests"], work)
            for path in work.rglob("*.py"):
                rewrite(
                    path,
                    [
                        (r"^(\s*)from timeshap", r"\1from seqshap.timeshap"),
                        (r"^(\s*)import timeshap\s*$", r"\1import seqshap.timeshap as timeshap"),
                        (r"'timeshap\.", "'seqshap.timeshap."),
                    ],
                )
            pytest(work, "tests")
            if args.arem_notebook:
                export(args.timeshap, "HEAD", ["notebooks/AReM"], work)
                runner = work / "run_notebook.py"
                runner.write_text(NOTEBOOK_RUNNER)
                env = dict(os.environ, PYTHONPATH=str(SRC))
                print("\n=== timeshap: notebooks/AReM/AReM.ipynb", flush=True)
                subprocess.run(
                    [sys.executable, str(runner), str(work / "notebooks/AReM/AReM.ipynb")],
                    env=env,
                    check=False,
                )
        if args.lime:
            work = root / "lime"
            export(args.lime, "HEAD", ["lime/tests/test_lime_text.py"], work)
            test = work / "test_lime_text.py"  # out of a folder named lime (the real package)
            (work / "lime/tests/test_lime_text.py").rename(test)
            subprocess.run(["rm", "-rf", str(work / "lime")], check=True)
            rewrite(
                test,
                [(r"^from lime\.lime_text import LimeTextExplainer",
                  "from seqshap.lime import LimeTextExplainer")],
            )  # fmt: skip
            (work / "conftest.py").write_text(FAKE_20NEWS)
            pytest(work, "test_lime_text.py")
    finally:
        if args.keep:
            print(f"\nkept {root}")
        else:
            subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    main()
