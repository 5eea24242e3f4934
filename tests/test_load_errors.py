"""Saved files that cannot be read back give a seqshap error naming the file, never a raw
JSONDecodeError, BadZipFile or reshape error."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from seqshap import Explanation, KernelExplainer, SavedFileError


def _explanation() -> Explanation:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 3, 1))
    outputs = values.sum(1) + 0.5
    return Explanation(
        values=values,
        std_errors=np.zeros_like(values),
        base_values=np.full((2, 1), 0.5),
        outputs=outputs,
        player_names=["a", "b", "c"],
    )


@pytest.fixture(params=[".json", ".npz"])
def saved(request, tmp_path):
    path = _explanation().save(tmp_path / f"exp{request.param}")
    assert np.allclose(Explanation.load(path).values, _explanation().values, rtol=0, atol=0)
    return path


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.6, 0.95])
def test_truncated_file_names_the_file(saved, keep):
    raw = saved.read_bytes()
    saved.write_bytes(raw[: int(keep * len(raw))])
    with pytest.raises(SavedFileError, match=rf"{saved.name}' cannot be read as a saved") as info:
        Explanation.load(saved)
    assert info.value.path == saved
    assert "truncated or modified" in str(info.value)


def test_changed_bytes_in_npz_name_the_file(tmp_path):
    path = _explanation().save(tmp_path / "exp.npz")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("values.npy")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF  # inside the compressed values: CRC fails
    path.write_bytes(bytes(raw))
    with pytest.raises(SavedFileError, match="exp.npz"):
        Explanation.load(path)


def test_tampered_json_fields_name_the_file(tmp_path):
    path = _explanation().save(tmp_path / "exp.json")
    doc = json.loads(path.read_text())
    for change, cause in [
        ({"shape": [5, 7, 1]}, "ValueError"),  # reshape fails
        ({"player_names": None}, "TypeError"),
        ({"shape": None}, "TypeError"),
    ]:
        path.write_text(json.dumps({**doc, **change}))
        with pytest.raises(SavedFileError, match=rf"exp.json' .*{cause}"):
            Explanation.load(path)
    bad = {k: v for k, v in doc.items() if k != "level"}
    path.write_text(json.dumps(bad))
    with pytest.raises(SavedFileError, match=r"KeyError: 'level'"):
        Explanation.load(path)
    path.write_text("[1, 2, 3]")
    with pytest.raises(SavedFileError, match="is not a saved seqshap Explanation"):
        Explanation.load(path)


def test_kernel_explainer_load_names_the_file(tmp_path):
    model = lambda z: z @ np.array([1.0, -2.0])  # noqa: E731
    path = KernelExplainer(model, np.zeros((2, 2))).save(tmp_path / "k.npz")
    assert KernelExplainer.load(path, model).n_features == 2
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SavedFileError, match=r"k.npz' cannot be read as a saved KernelExplainer"):
        KernelExplainer.load(path, model)
    np.savez(path, settings=np.array(json.dumps({"format": "seqshap.KernelExplainer"})),
             data=np.zeros((2, 2)), weights=np.full(2, 0.5))  # fmt: skip
    with pytest.raises(SavedFileError, match="KeyError: 'feature_names'"):
        KernelExplainer.load(path, model)
