"""The README's Python examples run as written (on tiny models standing in for the user's)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def block(start: str) -> str:
    found = [b for b in BLOCKS if b.lstrip().startswith(start)]
    assert len(found) == 1, f"README has {len(found)} python blocks starting with {start!r}"
    return found[0]


class TinyGRU(torch.nn.Module):
    """A user's model: GRU over (n, T, d) with the (x, h) -> (out, h) convention."""

    def __init__(self, d: int = 3):
        super().__init__()
        self.gru = torch.nn.GRU(d, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x, h=None):
        out, h = self.gru(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 10, 3)).astype(np.float32), rng.normal(size=(3, 10, 3)).astype(
        np.float32
    )


STARTS = (
    "from seqshap import KernelExplainer",
    "from seqshap import SequenceExplainer",
    "from seqshap import explain_many",
    "from seqshap.timeshap import",
    "from seqshap import TextExplainer",
)


def test_every_python_block_is_covered():
    assert len(BLOCKS) == len(STARTS), "a README python block has no test: add one here"
    for start in STARTS:
        block(start)


def test_kernel_explainer_block():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 5))
    model = LogisticRegression().fit(x, x[:, 0] > 0)
    ns = {"model": model, "X_train": x[:60], "X_test": x[60:]}
    exec(block("from seqshap import KernelExplainer"), ns)
    assert ns["shap_values"].shape == (10, 5, 2)
    assert ns["explanation"].efficiency_gap.max() < 1e-8
    assert ns["shap_like"].values.shape == (10, 5, 2)


def test_sequence_and_many_blocks(tmp_path, monkeypatch, sequences):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    x_train, x_test = sequences
    ns = {"model": TinyGRU(), "X_train": x_train, "X_test": x_test, "features": ["a", "b", "c"]}
    ns["seqshap"] = __import__("seqshap")
    exec(block("from seqshap import SequenceExplainer"), ns)
    assert ns["local"].event.efficiency_gap.max() < 1e-6
    assert (tmp_path / "report.html").exists()
    ns["data"] = x_test
    exec(block("from seqshap import explain_many"), ns)
    assert len(ns["run"].summary("feature")) > 0
    import matplotlib.pyplot as plt

    plt.close("all")


def test_facade_block():
    exec(block("from seqshap.timeshap import"), {})


def test_text_block():
    transformers = pytest.importorskip("transformers")
    vocab = "[PAD] [UNK] [CLS] [SEP] [MASK] not a good movie bad".split()
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    torch.manual_seed(0)
    ns = {"hf_model": transformers.BertForSequenceClassification(config).eval(),
          "tokenizer": tokenizer}  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    exec(block("from seqshap import TextExplainer"), ns)
    assert ns["exp"].player_names == ["not", "a", "good", "movie"]
    import matplotlib.pyplot as plt

    plt.close("all")
