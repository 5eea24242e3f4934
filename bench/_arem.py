"""AReM for benchmarks: the TimeSHAP tutorial's data, preprocessing and model.

Reads the folder ``$SEQSHAP_AREM_DIR``, or by default ``../shared/data/arem`` relative to the
repository root (never copied into the repository; the tests use the same rule), and
reproduces the tutorial: 5 activities x 15 recordings of 480 x 6 RSS features; the 479-row
``sitting/dataset8.csv`` dropped as the tutorial does; 4 recording ids held out for test
(drawn with a local ``RandomState(seed)``, so the split is reproducible but not the
tutorial's, which depended on directory order); "cycling vs the rest"; features clipped at
mean +- 3 std and z-scored with training statistics; a 2-layer GRU(32) -> Linear -> Sigmoid
trained with Adam (lr 0.01) for 8 full-batch epochs from a local torch seed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


def arem_dir() -> Path:
    """``$SEQSHAP_AREM_DIR`` if set, else ``../shared/data/arem`` beside the repository."""
    env = os.environ.get("SEQSHAP_AREM_DIR")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arem"


AREM_DIR = arem_dir()
RAW_FEATURES = ["avg_rss12", "var_rss12", "avg_rss13", "var_rss13", "avg_rss23", "var_rss23"]
MODEL_FEATURES = [f"p_{f}_normalized" for f in RAW_FEATURES]
PLOT_FEATS = {
    "p_avg_rss12_normalized": "Mean Chest <-> Right Ankle",
    "p_var_rss12_normalized": "STD Chest <-> Right Ankle",
    "p_avg_rss13_normalized": "Mean Chest <-> Left Ankle",
    "p_var_rss13_normalized": "STD Chest <-> Left Ankle",
    "p_avg_rss23_normalized": "Mean Right Ankle <-> Left Ankle",
    "p_var_rss23_normalized": "STD Right Ankle <-> Left Ankle",
}
ACTIVITIES = ["cycling", "lying", "sitting", "standing", "walking"]


@dataclass
class AReM:
    """Everything the tutorial builds before calling TimeSHAP."""

    d_train: pd.DataFrame  # long format: timestamp, raw and p_*_normalized features, ids
    d_test: pd.DataFrame
    x_train: np.ndarray  # (n, 480, 6) float32, normalized features
    y_train: np.ndarray  # (n,)
    x_test: np.ndarray
    y_test: np.ndarray
    test_ids: list[str]  # all_id per test sequence, in x_test order
    average_event: pd.DataFrame  # median of the normalized training rows (calc_avg_event)
    model: object  # trained torch module: forward(x, h=None) -> (scores, h)


def load_arem(directory: Path | str = AREM_DIR) -> pd.DataFrame:
    """All recordings in long format (the tutorial's ``all_data``)."""
    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(
            f"AReM data not found at {directory}; set SEQSHAP_AREM_DIR to its folder."
        )
    frames = []
    for activity in ACTIVITIES:
        for path in sorted((directory / activity).glob("dataset*.csv")):
            frame = pd.read_csv(path, comment="#", header=None)
            frame.columns = ["timestamp", *RAW_FEATURES]
            if len(frame) != 480:  # sitting/dataset8.csv: 479 rows, dropped by the tutorial
                continue
            csv_id = re.findall(r"\d+", path.name)[0]
            frame["id"] = csv_id
            frame["all_id"] = f"{activity}_{csv_id}"
            frame["activity"] = activity
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _normalize(df: pd.DataFrame, stats: dict[str, tuple[float, float]]) -> pd.DataFrame:
    df = df.copy()
    for field, (mean, std) in stats.items():
        clipped = df[field].clip(mean - 3 * std, mean + 3 * std)
        df[field] = clipped
        df[f"p_{field}_normalized"] = (clipped - mean) / std if std > 1e-5 else clipped * 0
    return df


def _to_3d(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ids = list(dict.fromkeys(df["all_id"]))
    xs, ys = [], []
    for name in ids:
        seq = df[df["all_id"] == name].sort_values("timestamp")
        xs.append(seq[MODEL_FEATURES].to_numpy(dtype=np.float32))
        ys.append(float(seq["activity"].iloc[0] == "cycling"))
    return np.stack(xs), np.asarray(ys, dtype=np.float32), ids


def make_model(input_size: int = 6, hidden_dim: int = 32, seed: int = 42):
    """The tutorial's ExplainedRNN, initialised from a local torch seed."""
    import torch
    from torch import nn

    class ExplainedRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.recurrent_block = nn.GRU(input_size, hidden_dim, batch_first=True, num_layers=2)
            self.classifier_block = nn.Linear(hidden_dim, 1)
            self.output_activation_func = nn.Sigmoid()

        def forward(self, x, hidden_states=None):
            if hidden_states is None:
                _, hidden = self.recurrent_block(x)
            else:
                _, hidden = self.recurrent_block(x, hidden_states)
            y = self.output_activation_func(self.classifier_block(hidden[-1]))
            return y, hidden

    with torch.random.fork_rng():  # leave the global torch RNG as it was
        torch.manual_seed(seed)
        return ExplainedRNN()


def train(model, x: np.ndarray, y: np.ndarray, epochs: int = 8, lr: float = 0.01):
    import torch
    from torch import nn

    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y[:, None])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCELoss()
    model.train()
    for _ in range(epochs):
        pred, _ = model(xt)
        loss = loss_fn(pred, yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


def prepare(seed: int = 42, n_test_ids: int = 4) -> AReM:
    """The tutorial's split, normalisation, baseline and trained model."""
    all_data = load_arem()
    ids = sorted(all_data["id"].unique(), key=int)
    test_ids = np.random.RandomState(seed).choice(ids, size=n_test_ids, replace=False)
    train_raw = all_data[~all_data["id"].isin(test_ids)]
    test_raw = all_data[all_data["id"].isin(test_ids)]
    stats = {f: (float(train_raw[f].mean()), float(train_raw[f].std())) for f in RAW_FEATURES}
    d_train = _normalize(train_raw, stats)
    d_test = _normalize(test_raw, stats)
    x_train, y_train, _ = _to_3d(d_train)
    x_test, y_test, test_names = _to_3d(d_test)
    average_event = pd.DataFrame(
        [np.median(d_train[MODEL_FEATURES].to_numpy(), axis=0)], columns=MODEL_FEATURES
    )
    model = train(make_model(seed=seed), x_train, y_train)
    return AReM(
        d_train=d_train,
        d_test=d_test,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        test_ids=test_names,
        average_event=average_event,
        model=model,
    )


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    data = prepare()
    with torch.no_grad():
        p, _ = data.model(torch.from_numpy(data.x_test))
    acc = float(((p[:, 0].numpy() > 0.5) == (data.y_test > 0.5)).mean())
    print(f"train {data.x_train.shape}, test {data.x_test.shape}, test accuracy {acc:.3f}")
