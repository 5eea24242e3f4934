"""TextExplainer: tiny BERT from a config (vocabulary written here), keyword scorers, pipelines."""

from __future__ import annotations

import re

import numpy as np
import pytest

from seqshap.estimators.owen import owen_values
from seqshap.testing import brute_force_shapley
from seqshap.text import RegexTokenizer, TextExplainer, text_hierarchy, tokenize

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

VOCAB = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the a movie film plot acting actors was were is not very "
    "good great bad terrible boring fun and but run ##ning ##s . , !"
).split()


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.BertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)})


@pytest.fixture(scope="module")
def bert():
    torch.set_num_threads(1)
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=24,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
        initializer_range=0.3,  # random weights with visible effects
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    model.eval()
    return model


def keyword_scorer(texts: list[str]) -> np.ndarray:
    """Planted effects: good/great +, bad/terrible −, 'not' flips the next word's weight."""
    weights = {"good": 2.0, "great": 1.5, "bad": -2.0, "terrible": -2.5}
    out = []
    for text in texts:
        words = re.findall(r"[^\s.,!?]+", text.lower())
        score = 0.0
        for i, w in enumerate(words):
            v = weights.get(w, 0.0)
            score += -v if i > 0 and words[i - 1] == "not" else v
        out.append([-score, score])
    return np.array(out)


SENTENCE = "The movie was not running good."


def test_exact_token_values_equal_brute_force(bert, tokenizer):
    ex = TextExplainer(bert, tokenizer, output="logits", method="exact")
    exp = ex.explain(SENTENCE)
    game = ex.game(SENTENCE)
    assert exp.exact and exp.level == "token"
    # the full stop is not a player (punctuation stays in every masked text)
    assert exp.player_names == ["The", "movie", "was", "not", "run", "ning", "good"]
    assert exp.output_names == ["negative", "positive"]
    reference = brute_force_shapley(game)
    assert np.abs(reference).max() > 1e-3  # the model is not flat
    np.testing.assert_allclose(exp.values[0], reference, atol=1e-6)
    np.testing.assert_allclose(exp.values[0].sum(0), exp.outputs[0] - exp.base_values[0], atol=1e-6)


def test_outputs_and_base_are_the_model_on_full_and_masked_ids(bert, tokenizer):
    ex = TextExplainer(bert, tokenizer, output="logits")
    exp = ex.explain(SENTENCE)
    ids = tokenizer(SENTENCE, return_tensors="pt")["input_ids"]
    masked = ids.clone()
    masked[0, 1:-2] = tokenizer.mask_token_id  # [CLS], "." and [SEP] stay: never players
    with torch.no_grad():
        full = bert(input_ids=ids).logits.numpy()[0]
        empty = bert(input_ids=masked).logits.numpy()[0]
    np.testing.assert_allclose(exp.outputs[0], full, atol=1e-5)
    np.testing.assert_allclose(exp.base_values[0], empty, atol=1e-5)


@pytest.mark.parametrize("masking", ["mask", "pad", "delete"])
def test_efficiency_for_every_masking(bert, tokenizer, masking):
    ex = TextExplainer(bert, tokenizer, masking=masking, level="word", output="logits")
    exp = ex.explain(SENTENCE)
    assert exp.player_names == ["The", "movie", "was", "not", "running", "good"]
    assert exp.efficiency_gap.max() < 1e-6


def test_masked_ids_per_masking(bert, tokenizer):
    mask, pad = tokenizer.mask_token_id, tokenizer.pad_token_id
    z = np.array([[True, False, True, False, False, False, False, True]])
    ids = tokenizer(SENTENCE)["input_ids"]
    games = {
        m: TextExplainer(bert, tokenizer, masking=m, keep_punctuation=True).game(SENTENCE)
        for m in ("mask", "pad", "delete")
    }
    keep = games["mask"].present(z)[0]
    np.testing.assert_array_equal(
        games["mask"].masked_ids(keep[None])[0], np.where(keep, ids, mask)
    )
    np.testing.assert_array_equal(games["pad"].masked_ids(keep[None])[0], np.where(keep, ids, pad))
    deleted = games["delete"].masked_ids(keep[None])[0]
    np.testing.assert_array_equal(deleted, np.array(ids)[keep])  # [CLS] The was . [SEP]


def test_special_tokens_are_never_players(bert, tokenizer):
    tok = tokenize(SENTENCE, tokenizer)
    ex = TextExplainer(bert, tokenizer)
    groups = ex.groups(tok)
    positions = np.concatenate(groups)
    assert not tok.special[positions].any()
    assert tok.special[[0, -1]].all()  # [CLS], [SEP]
    assert tok.tokens[-2] == "." and len(tok) - 2 not in positions  # punctuation: no player
    assert len(groups) == len(tok) - 3
    with_punct = TextExplainer(bert, tokenizer, keep_punctuation=True).groups(tok)
    assert len(with_punct) == len(tok) - 2


def test_train_mode_is_restored(bert, tokenizer):
    bert.train()
    try:
        TextExplainer(bert, tokenizer, budget=64, method="kernel", seed=0).explain("good film")
        assert bert.training
    finally:
        bert.eval()


def test_batch_size_does_not_change_values(bert, tokenizer):
    a = TextExplainer(bert, tokenizer, output="logits", batch_size=1).explain("the plot was bad")
    b = TextExplainer(bert, tokenizer, output="logits", batch_size=512).explain("the plot was bad")
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    assert a.n_model_rows[0] == b.n_model_rows[0]


def test_sentence_players_and_owen_hierarchy(bert, tokenizer):
    text = "The movie was good, the acting was bad. A boring plot!"
    ex = TextExplainer(bert, tokenizer, output="logits", keep_punctuation=True)
    sentences = ex.explain(text, level="sentence")
    assert sentences.player_names == ["The movie was good, the acting was bad.", "A boring plot!"]
    hierarchy = ex.hierarchy(text)
    # two sentence blocks; the first splits at the comma into two phrases
    # (phrases of 5 players are halved: at most 4 children per node)
    assert hierarchy == [[[[0, 1, 2], [3, 4]], [[5, 6, 7], [8, 9]]], [10, 11, 12, 13]]
    exp = ex.explain(text, method="owen")
    assert exp.method == "owen" and exp.meta["hierarchy"] == hierarchy
    assert exp.efficiency_gap.max() < 1e-6
    # Owen values are the Shapley values of the blocks at the top: sentence sums agree
    sums = [exp.values[0, :10].sum(0), exp.values[0, 10:].sum(0)]
    np.testing.assert_allclose(np.array(sums), sentences.values[0], atol=1e-6)


def test_owen_on_a_long_text_is_affordable(bert, tokenizer):
    text = " ".join(["the movie was good, the plot was bad."] * 2)
    ex = TextExplainer(bert, tokenizer, output="logits", method="owen", keep_punctuation=True)
    exp = ex.explain(text)
    assert exp.n_players == 20 and exp.exact  # exact Owen values, not 2^20 evaluations
    assert exp.n_evaluations[0] < 2 * 20 + 2048
    assert exp.efficiency_gap.max() < 1e-6


def test_planted_keywords_rank_first_with_negation():
    text = "the plot was not good and the acting was terrible but the music was great"
    # masked words become "UNK" so 'not' only ever negates the word right after it:
    # v(S) = 2·good·(1 − 2·not) − 2.5·terrible + 1.5·great, hence Shapley values
    # not = −2, good = 0 (its +2 and the −4 interaction's half cancel), terrible = −2.5, great = 1.5.
    ex = TextExplainer(keyword_scorer, masking="UNK", class_names=["negative", "positive"])
    exact = ex.explain(text, method="exact", budget=2**16)
    expected = np.zeros(exact.n_players)
    for word, value in (("not", -2.0), ("terrible", -2.5), ("great", 1.5)):
        expected[exact.player_names.index(word)] = value
    np.testing.assert_allclose(exact.output("positive")[0], expected, atol=1e-9)
    planted = {"not", "terrible", "great"}
    for method in ("kernel", "permutation", "owen", "lime"):
        exp = ex.explain(text, method=method, budget=1500, seed=0)
        pos = exp.output("positive")[0]
        top = {exp.player_names[j] for j in np.argsort(-np.abs(pos))[:3]}
        assert top == planted, method
        if method != "lime":  # LIME is a surrogate: no efficiency
            assert exp.efficiency_gap.max() < 1e-9, method


def test_deletion_lets_negation_reach_across_removed_words():
    # with deletion (the default for string models) "not ... terrible" can become "not terrible":
    # the words in between get a share of that interaction; values still add up.
    text = "not good and terrible"
    exp = TextExplainer(keyword_scorer).explain(text, method="exact")
    pos = exp.output(1)[0]
    assert exp.meta["masking"] == "delete"
    assert pos[exp.player_names.index("and")] != 0.0
    assert exp.efficiency_gap.max() < 1e-12


def test_string_model_with_mask_text():
    seen = []

    def f(texts):
        seen.extend(texts)
        return keyword_scorer(texts)

    ex = TextExplainer(f, "whitespace", masking="...")
    ex.explain("not good", method="exact")
    assert set(seen) >= {"not good", "... good", "not ...", "... ..."}


def test_pipeline_input_matches_the_model(bert, tokenizer):
    pipe = transformers.pipeline("text-classification", model=bert, tokenizer=tokenizer)
    from_pipe = TextExplainer(pipe).explain("the film was great")
    from_model = TextExplainer(bert, tokenizer).explain("the film was great")  # probabilities
    assert from_pipe.output_names == ["negative", "positive"]
    assert from_pipe.player_names == ["the", "film", "was", "great"]
    np.testing.assert_allclose(from_pipe.values, from_model.values, atol=1e-5)
    np.testing.assert_allclose(from_pipe.outputs, from_model.outputs, atol=1e-5)


def test_several_texts_give_one_explanation_each(bert, tokenizer):
    out = TextExplainer(bert, tokenizer).explain(["good film", "the plot was boring"])
    assert [e.n_players for e in out] == [2, 4]
    assert out[1].meta["text"] == "the plot was boring"
    assert out[1].meta["player_spans"][3] == [[13, 19]]


def test_bad_input_is_named(bert, tokenizer):
    ex = TextExplainer(bert, tokenizer)
    with pytest.raises(ValueError, match="empty"):
        ex.explain("   ")
    with pytest.raises(TypeError, match="must be a string"):
        ex.explain(["good", 3])
    with pytest.raises(TypeError, match="string or a list"):
        ex.explain(42)
    with pytest.raises(ValueError, match="level"):
        ex.explain("good", level="paragraph")
    with pytest.raises(ValueError, match="method"):
        TextExplainer(bert, tokenizer, method="shapley")
    with pytest.raises(TypeError, match="tokenizer"):
        TextExplainer(bert)
    with pytest.raises(ValueError, match="token-id model"):
        TextExplainer(bert, tokenizer, masking="...")


def test_long_text_is_truncated_with_a_warning(bert, tokenizer):
    text = " ".join(["the movie was good"] * 10)  # 40 tokens, the model reads 24 positions
    ex = TextExplainer(bert, tokenizer, method="owen")
    with pytest.warns(UserWarning, match="accepts at most 24"):
        exp = ex.explain(text)
    assert exp.n_players == 22 and exp.meta["truncated"]
    assert exp.meta["text"] == " ".join(["the movie was good"] * 5) + " the movie"


def test_regex_tokenizer_and_truncation_for_string_models():
    tok = RegexTokenizer(split_expression=r"\W+")
    assert tokenize("It's good, not bad!", tok).tokens == ["It", "s", "good", "not", "bad"]
    ex = TextExplainer(keyword_scorer, max_length=3)
    with pytest.warns(UserWarning, match="at most 3"):
        exp = ex.explain("good good bad bad")
    assert exp.player_names == ["good", "good", "bad"]


def test_text_hierarchy_caps_branching(tokenizer):
    tok = tokenize("the movie was good and the plot was not boring at all", RegexTokenizer())
    groups = [np.array([i]) for i in range(len(tok))]
    tree = text_hierarchy(tok, groups, max_children=3)

    def widths(node):
        return [] if isinstance(node, int) else [len(node)] + [w for c in node for w in widths(c)]

    assert max(widths(tree)) <= 3

    def leaves(node):
        return [node] if isinstance(node, int) else [x for c in node for x in leaves(c)]

    assert leaves(tree) == list(range(len(tok)))
    from seqshap.games import FunctionGame

    game = FunctionGame(lambda z: z.sum(1, keepdims=True).astype(float) ** 2, len(tok))
    est = owen_values(game, tree, 10**6, np.random.default_rng(0))
    np.testing.assert_allclose(est.values[:, 0], est.values[0, 0])  # symmetric game: equal shares


def test_recurrent_token_id_model_uses_prefix_states(tokenizer):
    torch.manual_seed(1)
    emb = torch.nn.Embedding(len(VOCAB), 8)
    gru = torch.nn.GRU(8, 16, batch_first=True)
    head = torch.nn.Linear(16, 2)

    def step(x, h=None):  # TimeSHAP's form over token ids (n, t, 1)
        with torch.no_grad():
            ids = torch.as_tensor(np.asarray(x)[:, :, 0], dtype=torch.long)
            out, h = gru(emb(ids), h)
            return head(out[:, -1]).numpy(), h

    def plain(ids):
        return step(np.asarray(ids)[:, :, None])[0]

    text = "the movie was not good but the acting was great"
    fast = TextExplainer(step, tokenizer, model_input="ids", recurrent=True, method="exact")
    slow = TextExplainer(plain, tokenizer, model_input="ids", method="exact")
    a, b = fast.explain(text), slow.explain(text)
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    np.testing.assert_allclose(a.base_values, b.base_values, atol=1e-6)
    game = fast.game(text)
    game(np.eye(game.n_players, dtype=bool))
    game.n_steps = 0
    from seqshap.estimators import exact_shapley

    exact_shapley(game)
    rows, length = 2**game.n_players, game.n_players + 2
    assert game.n_steps < 0.5 * rows * length  # shared prefixes: far fewer recurrent steps
    with pytest.raises(ValueError, match="recurrent=True"):
        TextExplainer(step, tokenizer, model_input="ids", recurrent=True, masking="delete")
