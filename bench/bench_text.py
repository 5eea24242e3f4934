"""Token attributions of 100 short sentences: seqshap's TextExplainer vs shap's Partition explainer.

Model: a 2-layer BERT-sized classifier (hidden 768, 12 heads, intermediate 3072) with RANDOM
weights built from a config (no weights can be downloaded here), 2 labels, explained in logit
space, on the CPU. Vocabulary and sentences are generated below (some words are split into
sub-tokens, e.g. "bor ##ing").

Compared (every method explains both logits; agreement is on the "positive" logit):

* shap ``Explainer(f, shap.maskers.Text(tokenizer))`` → Partition explainer (Owen values over
  shap's binary token tree), default ``max_evals=500``; once with shap's default
  ``collapse_mask_token="auto"`` (runs of masked tokens become one ``[MASK]``: a different
  game) and once with ``collapse_mask_token=False`` (the same masking game as seqshap);
* seqshap ``TextExplainer(model, tokenizer, output="logits")`` with ``method="owen"`` (exact
  Owen values over sub-token → word → phrase → sentence) on all sentences, and
  ``method="exact"`` (exact Shapley values: the reference) on the first ``--n-exact``.

Agreement: Spearman rank correlation between two methods' token values, per sentence
(sentences whose values are all equal are skipped), median and mean over sentences.

Run:  python bench/bench_text.py            (100 sentences; ~15 min on 2 busy cores)
      python bench/bench_text.py --n 10     (a quick look)
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

SUBJECTS = [
    "the movie",
    "this film",
    "the plot",
    "the acting",
    "the story",
    "the music",
    "the cast",
    "the ending",
]
VERBS = ["was", "is", "seemed", "felt"]
ADVERBS = ["", "very", "really", "not", "never", "quite", "not very"]
ADJECTIVES = [
    "good",
    "bad",
    "great",
    "boring",
    "terrible",
    "fun",
    "dull",
    "moving",
    "slow",
    "brilliant",
]
TAILS = ["", "and fun", "but slow", ", sadly", "overall", "at times", "to me", "but not bad"]
WARM_UP = "The movie was good."
SPLIT = {"boring": ["bor", "##ing"], "moving": ["mov", "##ing"], "brilliant": ["brill", "##iant"]}


def make_sentences(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        parts = [
            rng.choice(SUBJECTS),
            rng.choice(VERBS),
            rng.choice(ADVERBS),
            rng.choice(ADJECTIVES),
            rng.choice(TAILS),
        ]
        text = " ".join(p for p in parts if p).replace(" ,", ",") + "."
        out.append(text[0].upper() + text[1:])
    return out


def make_vocab() -> list[str]:
    words = set()
    for group in (SUBJECTS, VERBS, ADVERBS, ADJECTIVES, TAILS):
        for phrase in group:
            words.update(phrase.replace(",", " ").split())
    for word, pieces in SPLIT.items():
        words.discard(word)
        words.update(pieces)
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + sorted(words)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return np.nan
    return float(spearmanr(a, b).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100, help="number of sentences")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument(
        "--n-exact", type=int, default=20, help="sentences that also get exact Shapley values"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="timed runs per method (the fastest is reported)"
    )
    parser.add_argument(
        "--no-collapse", action="store_true", help="also run shap with collapse_mask_token=False"
    )
    parser.add_argument(
        "--init-range",
        type=float,
        default=0.02,
        help="std of the random weights (BERT's default 0.02)",
    )
    args = parser.parse_args()

    import shap
    import torch
    import transformers

    from seqshap.text import TextExplainer

    torch.set_num_threads(args.threads)
    vocab = make_vocab()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocab.txt"
        path.write_text("\n".join(vocab) + "\n")
        tokenizer = transformers.BertTokenizer(vocab=str(path))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=768,
        num_hidden_layers=2,
        num_attention_heads=12,
        intermediate_size=3072,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
        initializer_range=args.init_range,
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config).eval()
    sentences = make_sentences(args.n)
    lengths = [len(tokenizer(s)["input_ids"]) - 2 for s in sentences]
    print(
        f"{len(sentences)} sentences, {min(lengths)}-{max(lengths)} tokens (mean {np.mean(lengths):.1f}); "
        f"2-layer BERT (hidden 768), random weights (std {args.init_range}), CPU, "
        f"{args.threads} torch threads"
    )

    rows = {"n": 0}

    def f(texts) -> np.ndarray:
        enc = tokenizer(list(texts), padding=True, return_tensors="pt")
        rows["n"] += len(texts)
        with torch.no_grad():
            return model(**enc).logits.numpy()

    results: dict[str, dict] = {}

    def run_shap(name: str, collapse) -> None:
        masker = shap.maskers.Text(tokenizer, collapse_mask_token=collapse)
        explainer = shap.Explainer(f, masker, output_names=["negative", "positive"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer([WARM_UP], silent=True)  # untimed: first-call overheads
            times = []
            for _ in range(args.repeat):
                rows["n"] = 0
                start = time.perf_counter()
                values = [explainer([s], silent=True).values[0][1:-1, 1] for s in sentences]
                times.append(time.perf_counter() - start)
        results[name] = {"time": min(times), "rows": rows["n"], "values": values}
        progress(name)

    def progress(name: str) -> None:
        res = results[name]
        print(f"  done: {name}: {res['time']:.1f} s, {res['rows']} model rows", flush=True)

    def run_seqshap(
        name: str, method: str, budget: int | None = None, n: int | None = None
    ) -> None:
        explainer = TextExplainer(
            model, tokenizer, output="logits", method=method, budget=budget, seed=0, batch_size=128
        )
        explainer.explain(WARM_UP)  # untimed, as for shap
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            exps = explainer.explain(sentences[:n])
            times.append(time.perf_counter() - start)
        results[name] = {
            "time": min(times),
            "rows": int(sum(int(e.n_model_rows[0]) for e in exps)),
            "values": [e.values[0, :, 1] for e in exps],
        }
        progress(name)

    n_exact = min(args.n_exact, len(sentences))
    exact_name = f"seqshap exact (first {n_exact})"
    run_shap("shap Partition (default)", "auto")
    run_seqshap("seqshap owen", "owen")
    if args.no_collapse:
        run_shap("shap Partition (no collapse)", False)
    if n_exact:
        run_seqshap(exact_name, "exact", 2**14, n=n_exact)

    shap_ref = results["shap Partition (default)"]["values"]
    for name, res in results.items():
        for a, b in zip(res["values"], shap_ref):
            if len(a) != len(b):
                raise RuntimeError(f"{name}: token count differs from shap's; alignment failed")

    def agreement(name: str, ref: str, n: int | None = None) -> str:
        pairs = list(zip(results[name]["values"], results[ref]["values"]))[:n]
        rho = np.array([spearman(a, b) for a, b in pairs])
        return f"{np.nanmedian(rho):.3f} / {np.nanmean(rho):.3f}"

    header = (
        f"{'method':32s} {'wall s':>8s} {'model rows':>11s} {'rows/sentence':>14s} "
        f"{'rho vs shap: med / mean':>24s} {'rho vs exact: med / mean':>25s}"
    )
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        ex = agreement(name, exact_name, n_exact) if n_exact else "-"
        per = res["rows"] / len(res["values"])
        shp = agreement(name, "shap Partition (default)")
        print(f"{name:32s} {res['time']:8.1f} {res['rows']:11d} {per:14.1f} {shp:>24s} {ex:>25s}")
    print(
        f"wall s: fastest of {args.repeat} runs (busy shared machine). rho: Spearman rank correlation of the positive logit's token values per sentence "
        f"(median / mean over sentences); 'vs exact': the first {n_exact} sentences."
    )


if __name__ == "__main__":
    main()
