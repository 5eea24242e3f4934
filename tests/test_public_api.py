"""The public surface: __all__ is complete and importing seqshap stays light."""

from __future__ import annotations

import inspect
import subprocess
import sys

import seqshap


def test_all_lists_every_public_class_and_function():
    public = {
        name
        for name, obj in vars(seqshap).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", "").startswith("seqshap")
    }
    assert public <= set(seqshap.__all__), public - set(seqshap.__all__)
    for name in seqshap.__all__:
        assert hasattr(seqshap, name), name


def test_import_does_not_load_frameworks():
    code = (
        "import sys, seqshap; heavy = {'torch', 'keras', 'onnxruntime', 'transformers', 'sktime', "
        "'dask', 'shap', 'sklearn', 'tensorflow'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
