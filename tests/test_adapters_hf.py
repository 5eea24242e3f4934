"""Hugging Face adapter: a tiny BERT built from a config and a vocabulary written here."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
torch.set_num_threads(1)

from seqshap.models import HFPipelineModel, HFTextModel, adapt  # noqa: E402

WORDS = "good great fine bad awful poor the movie was very not".split()
TEXTS = ["the movie was good", "the movie was awful", "very very bad", "not great", "fine"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    vocab = tmp_path_factory.mktemp("bert") / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tok = transformers.BertTokenizerFast(vocab_file=str(vocab))
    config = transformers.BertConfig(
        vocab_size=5 + len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32, num_labels=3,
        id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2},
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    return model, tok


def _reference(model, tok, texts):
    enc = tok(texts, padding=True, return_tensors="pt")
    was = model.training
    model.eval()
    with torch.no_grad():
        logits = model(**enc).logits
    model.train(was)
    return logits.double().numpy()


def test_model_with_tokenizer(tiny):
    model, tok = tiny
    model.train()
    before = [m.training for m in model.modules()]
    adapted = adapt(model, tokenizer=tok)
    assert isinstance(adapted, HFTextModel)
    assert adapted.output_names == ["neg", "neu", "pos"]
    probs = adapted(TEXTS)
    logits = _reference(model, tok, TEXTS)
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    np.testing.assert_allclose(
        adapt(model, tokenizer=tok, output="logits")(TEXTS), logits, atol=1e-5
    )
    # padding does not change a text's score: batches of one give the same numbers
    np.testing.assert_allclose(adapt(model, tokenizer=tok, batch_size=1)(TEXTS), probs, atol=1e-5)
    assert [m.training for m in model.modules()] == before


def test_token_id_input_matches_text_input(tiny):
    model, tok = tiny
    adapted = adapt(model, tokenizer=tok)
    ids = tok(TEXTS, padding=True, return_tensors="np")["input_ids"]
    np.testing.assert_allclose(adapted(ids), adapted(TEXTS), atol=1e-6)


def test_pipeline(tiny):
    model, tok = tiny
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    adapted = adapt(pipe)
    assert isinstance(adapted, HFPipelineModel)
    np.testing.assert_allclose(adapted(TEXTS), adapt(model, tokenizer=tok)(TEXTS), atol=1e-5)


def test_errors(tiny):
    model, tok = tiny
    with pytest.raises(TypeError, match="tokenizer is required"):
        adapt(model)
    with pytest.raises(TypeError, match="strings"):
        adapt(model, tokenizer=tok)(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="output must be one of"):
        adapt(model, tokenizer=tok, output="odds")
