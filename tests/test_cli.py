"""The command line end to end (demo, an exported ONNX GRU) and its one-line errors."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from seqshap.cli import load_sequences, main

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("pyarrow")


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _export(module, args, path, input_names, output_names, dynamic_axes):
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        torch.onnx.export(
            module, args, str(path), dynamo=False, opset_version=17,
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def gru(tmp_path_factory):
    """A torch GRU exported to ONNX with its state, and the torch module itself."""
    torch = _torch()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(3, 6, batch_first=True)
            self.head = torch.nn.Linear(6, 2)

        def forward(self, x, h):
            out, h = self.rnn(x, h)
            return torch.softmax(self.head(out[:, -1]), -1), h

    torch.manual_seed(0)
    net = Net().eval()
    path = tmp_path_factory.mktemp("model") / "gru.onnx"
    _export(
        net, (torch.randn(2, 5, 3), torch.zeros(1, 2, 6)), path, ["x", "h0"], ["probs", "hn"],
        {"x": {0: "n", 1: "t"}, "h0": {1: "n"}, "probs": {0: "n"}, "hn": {1: "n"}},
    )  # fmt: skip
    return path, net


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory):
    """Long-format events of 5 entities with 6-9 events each, rows shuffled."""
    rng = np.random.default_rng(1)
    rows = []
    for e, length in enumerate([6, 9, 7, 8, 6]):
        for t in range(length):
            rows.append(
                {
                    "id": f"u{e}",
                    "t": t,
                    "a": rng.normal(),
                    "b": rng.normal(),
                    "c": rng.normal(),
                    "note": "x",
                }
            )
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    path = tmp_path_factory.mktemp("data") / "events.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_help_for_every_subcommand(capsys):
    for argv in (["--help"], ["demo", "--help"], ["explain", "--help"]):
        assert main(argv) == 0
    out = capsys.readouterr().out
    for flag in ("--model", "--data", "--entity-col", "--time-col", "--features", "--baseline",
                 "--levels", "--tol", "--budget", "--jobs", "--out"):  # fmt: skip
        assert flag in out
    proc = subprocess.run(
        [sys.executable, "-m", "seqshap.cli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.startswith("seqshap ")


def test_explain_long_csv_end_to_end(gru, long_csv, tmp_path, capsys):
    path, net = gru
    data, frame = long_csv
    out = tmp_path / "out"
    code = main(["explain", "--model", str(path), "--data", str(data), "--entity-col", "id",
                 "--time-col", "t", "--features", "a,b,c", "--levels", "event,feature",
                 "--tol", "0.01", "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0 and capsys.readouterr().out == ""
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["entity"]) == {f"u{e}" for e in range(5)}
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "features.csv"),
        pd.read_parquet(out / "features.parquet"),
        check_dtype=False,
    )
    # efficiency against the torch module itself: per entity and output, the feature values
    # sum to f(x) - f(mean event baseline)
    torch = _torch()
    feats = pd.read_csv(out / "features.csv")
    mean_event = frame[["a", "b", "c"]].to_numpy().mean(0)
    for ent, g in frame.sort_values(["id", "t"]).groupby("id"):
        x = g[["a", "b", "c"]].to_numpy()
        with torch.no_grad():
            fx = net(torch.tensor(x[None], dtype=torch.float32), None)[0].double().numpy()[0]
            fb = net(
                torch.tensor(np.tile(mean_event, (len(x), 1))[None], dtype=torch.float32), None
            )[0]
        sums = feats[feats["entity"] == ent].groupby("output", sort=False)["value"].sum().to_numpy()
        np.testing.assert_allclose(sums, fx - fb.double().numpy()[0], atol=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sequences"] == 5 and summary["levels"] == ["event", "feature"]
    for o in ("output-0", "output-1"):  # one plot per output of the two-class model
        assert (out / f"events_{o}.png").is_file() and (out / f"features_{o}.svg").is_file()


def test_explain_npy_single_sequence_local_plots_and_jobs(gru, tmp_path, capsys):
    path, _ = gru
    x = np.random.default_rng(2).normal(size=(1, 7, 3))
    np.save(tmp_path / "one.npy", x)
    out = tmp_path / "one"
    code = main(["explain", "--model", str(path), "--data", str(tmp_path / "one.npy"),
                 "--levels", "event,feature,cell", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "explained 1 sequence(s)" in printed and str(out) in printed
    assert "model: prefix-state path (graph state inputs/outputs)" in printed
    for name in ("events.png", "features_output-0.svg", "features_output-1.svg",
                 "cells_output-1.png", "pruning_output-0.svg", "explanations.parquet",
                 "report.html"):  # fmt: skip
        assert (out / name).is_file(), name
    # --jobs 2 gives the same numbers as one process (fixed work units and seeds)
    many = np.random.default_rng(3).normal(size=(10, 6, 3))
    np.savez(tmp_path / "many.npz", X=many, lengths=np.array([6, 5, 6, 4, 6, 6, 3, 6, 6, 5]))
    frames = []
    for jobs in ("1", "2"):
        o = tmp_path / f"jobs{jobs}"
        argv = ["explain", "--model", str(path), "--data", str(tmp_path / "many.npz"),
                "--jobs", jobs, "--no-plots", "--quiet", "--out", str(o), "--resume"]  # fmt: skip
        assert main(argv) == 0
        frames.append(pd.read_csv(o / "explanations.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert any((tmp_path / "jobs2" / "run").iterdir())
    assert main(argv) == 0  # again: resumed from the finished parts, same table
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "jobs2" / "explanations.csv"), frames[1])
    lengths = pd.read_csv(tmp_path / "jobs1" / "pruning.csv")["length"].tolist()
    assert lengths == [6, 5, 6, 4, 6, 6, 3, 6, 6, 5]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["explain", "--model", "{model}", "--data", "{tmp}/missing.csv"], 2, "does not exist"),
        (["explain", "--model", "{tmp}/missing.onnx", "--data", "{data}"], 2, "does not exist"),
        (["explain", "--model", "{model}", "--data", "{tmp}/data.xlsx"], 2, "unknown extension"),
        (["explain", "--model", "{tmp}/model.h5", "--data", "{data}"], 2, "unknown extension"),
        (
            ["explain", "--model", "{model}", "--data", "{data}", "--entity-col", "ID"],
            2,
            "Did you mean 'id'",
        ),
        (
            ["explain", "--model", "{model}", "--data", "{data}", "--features", "a,b,z"],
            2,
            "not found",
        ),
        (
            ["explain", "--model", "{model}", "--data", "{data}", "--levels", "evnt"],
            2,
            "Did you mean 'event'",
        ),
        (["explain", "--model", "{model}", "--data", "{data}", "--tol", "-1"], 2, "must be >= 0"),
        (
            ["explain", "--model", "{model}", "--data", "{data}", "--features", "a,a,b"],
            2,
            "--features must not repeat a name; received 'a' (2 times)",
        ),
        (["explain", "--model", "{model}"], 2, "required"),
        (
            ["explain", "--model", "{model}", "--data", "{data}", "--baseline", "meen_event"],
            2,
            "mean_event",
        ),
    ],
)
def test_usage_errors_are_one_line_exit_2(gru, long_csv, tmp_path, capsys, argv, code, message):
    fill = {"model": str(gru[0]), "data": str(long_csv[0]), "tmp": str(tmp_path)}
    (tmp_path / "data.xlsx").write_text("x")
    (tmp_path / "model.h5").write_text("x")
    argv = [a.format(**fill) for a in argv]
    if (
        "--entity-col" not in argv
        and "--data" in argv
        and argv[argv.index("--data") + 1].endswith(".csv")
    ):
        argv += ["--features", "a,b,c"] if "--features" not in argv else []
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("seqshap") and message in err[-1]
    assert "Traceback" not in "\n".join(err)


class _Boom:
    """Unpickling this object would create a marker file: the test proves nothing is unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickles_refused_without_unpickling(long_csv, tmp_path, capsys):
    marker = tmp_path / "unpickled"
    for name in ("model.pkl", "model.joblib", "model.pt"):
        (tmp_path / name).write_bytes(pickle.dumps(_Boom(str(marker))))
        code = main(["explain", "--model", str(tmp_path / name), "--data", str(long_csv[0]),
                     "--features", "a,b,c"])  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert code == 2 and "never unpickles" in err and len(err.splitlines()) == 1
    assert not marker.exists()


def test_model_with_wrong_output_shape_fails_with_exit_1(tmp_path, capsys):
    torch = _torch()

    class Bad(torch.nn.Module):
        def forward(self, x):
            return x[:, :, :, None] * 2.0  # (n, T, d, 1): not scores

    path = _export(Bad(), (torch.randn(2, 4, 3),), tmp_path / "bad.onnx", ["x"], ["y"],
                   {"x": {0: "n", 1: "t"}, "y": {0: "n", 1: "t"}})  # fmt: skip
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(2, 4, 3)))
    code = main(["explain", "--model", str(path), "--data", str(tmp_path / "x.npy"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "ValueError" in err[0]
    with pytest.raises(ValueError):
        main(
            [
                "explain",
                "--model",
                str(path),
                "--data",
                str(tmp_path / "x.npy"),
                "--quiet",
                "--debug",
            ]
        )


def test_load_sequences_formats(long_csv, tmp_path):
    _, frame = long_csv
    frame.to_parquet(tmp_path / "events.parquet")
    seqs, ids, names = load_sequences(tmp_path / "events.parquet", entity_col="id", time_col="t")
    assert names == ["a", "b", "c"]  # numeric columns other than id and t; "note" is text
    assert [len(s) for s in seqs] == [6, 9, 7, 8, 6] and ids == [f"u{e}" for e in range(5)]
    u1 = frame[frame["id"] == "u1"].sort_values("t")[["a", "b", "c"]].to_numpy()
    np.testing.assert_array_equal(seqs[1], u1)
    np.savez(tmp_path / "bad.npz", A=np.zeros((2, 3, 1)), B=np.zeros(3))
    with pytest.raises(Exception, match="name the sequences 'X'"):
        load_sequences(tmp_path / "bad.npz")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(Exception, match="pickled"):
        load_sequences(tmp_path / "obj.npy")


def test_resume_with_another_model_is_refused(gru, tmp_path, capsys):
    """--resume with another --model stops before computing anything, naming what changed."""
    import onnx
    from onnx import numpy_helper

    path, _ = gru
    graph = onnx.load(str(path))
    init = graph.graph.initializer[0]
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 1.5, init.name))
    other = tmp_path / "other.onnx"
    onnx.save(graph, str(other))
    np.save(tmp_path / "x.npy", np.random.default_rng(4).normal(size=(4, 5, 3)))
    argv = ["explain", "--data", str(tmp_path / "x.npy"), "--levels", "event", "--no-plots",
            "--quiet", "--out", str(tmp_path / "o"), "--resume"]  # fmt: skip
    assert main([*argv, "--model", str(path)]) == 0
    parts = sorted((tmp_path / "o" / "run").glob("part-*"))
    capsys.readouterr()
    assert main([*argv, "--model", str(other)]) == 1
    err = capsys.readouterr().err
    assert "another model" in err and "onnx model bytes" in err and "--resume" in err
    assert sorted((tmp_path / "o" / "run").glob("part-*")) == parts


def test_model_width_is_checked_against_the_chosen_columns(gru, tmp_path, capsys):
    """A long CSV read without --entity-col: the id/time columns would become features."""
    path, _ = gru
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"t": np.arange(6), "a": rng.normal(size=6), "b": rng.normal(size=6),
                          "c": rng.normal(size=6)})  # fmt: skip
    frame.to_csv(tmp_path / "long.csv", index=False)
    code = main(["explain", "--model", str(path), "--data", str(tmp_path / "long.csv"),
                 "--no-plots", "--quiet", "--out", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "the data gives 4 feature(s) per event, columns ['t', 'a', 'b', 'c']" in err[0]
    assert "--entity-col" in err[0] and "--features" in err[0]
    assert not (tmp_path / "o" / "explanations.csv").exists()
    np.save(tmp_path / "x4.npy", rng.normal(size=(2, 5, 4)))
    assert main(["explain", "--model", str(path), "--data", str(tmp_path / "x4.npy")]) == 2
    assert "4 feature(s) per event" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_torchscript_model_whose_width_is_not_declared(tmp_path, capsys):
    torch = _torch()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(3, 1)

        def forward(self, x):
            return torch.sigmoid(self.head(x[:, -1]))

    torch.jit.script(Net()).save(str(tmp_path / "net.pt"))
    np.save(tmp_path / "x4.npy", np.random.default_rng(0).normal(size=(2, 5, 4)))
    code = main(["explain", "--model", str(tmp_path / "net.pt"), "--data",
                 str(tmp_path / "x4.npy"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "the model fails on the first sequence" in err[0]
    assert "columns ['column 0', 'column 1', 'column 2', 'column 3']" in err[0]


def test_fractional_lengths_are_a_clear_error(gru, tmp_path, capsys):
    np.savez(tmp_path / "x.npz", X=np.zeros((2, 5, 3)), lengths=np.array([2.5, 3.0]))
    code = main(["explain", "--model", str(gru[0]), "--data", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "must be whole numbers of events; received 2.5 at index 0" in err


def test_csv_outputs_neutralise_formula_ids(gru, tmp_path, capsys):
    path, _ = gru
    rng = np.random.default_rng(6)
    ids = ["=cmd|' /C calc'!A0", "+1+2", "@SUM(A1)", "-2+3", "plain"]
    frame = pd.DataFrame([{"id": e, "t": t, "a": rng.normal(), "b": rng.normal(),
                           "c": rng.normal()} for e in ids for t in range(4)])  # fmt: skip
    frame.to_csv(tmp_path / "ev.csv", index=False)
    out = tmp_path / "o"
    assert main(["explain", "--model", str(path), "--data", str(tmp_path / "ev.csv"),
                 "--entity-col", "id", "--time-col", "t", "--levels", "event", "--no-plots",
                 "--quiet", "--out", str(out)]) == 0  # fmt: skip
    written = pd.read_csv(out / "events.csv", dtype={"entity": str})
    assert set(written["entity"]) == {"'" + e for e in ids[:4]} | {"plain"}
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in written["entity"])
    assert set(pd.read_parquet(out / "events.parquet")["entity"]) == set(ids)  # verbatim


def test_broken_model_files_are_named(tmp_path, capsys):
    torch = _torch()
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 3)))

    # a torch.save archive (of a whole module) dressed up with a TorchScript archive's entries
    torch.save(torch.nn.Linear(3, 1), tmp_path / "fake.pt")
    import zipfile

    with zipfile.ZipFile(tmp_path / "fake.pt", "a") as zf:
        root = zf.namelist()[0].split("/")[0]
        zf.writestr(f"{root}/code/__torch__.py", "def forward(self, x):\n    return x\n")
        zf.writestr(f"{root}/constants.pkl", b"\x80\x02).")
    (tmp_path / "bad.keras").write_text("not a zip")
    for name, message in [
        ("fake.pt", "not a TorchScript archive (its data.pkl holds torch.nn.modules.linear"),
        ("bad.keras", "'" + str(tmp_path / "bad.keras") + "' is not a Keras archive"),
    ]:
        code = main(["explain", "--model", str(tmp_path / name), "--data",
                     str(tmp_path / "x.npy"), "--quiet"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and message in err and "File not found" not in err, err


def test_output_names_name_tables_plots_and_output(gru, long_csv, tmp_path, capsys):
    path, _ = gru
    data, _ = long_csv
    base = ["explain", "--model", str(path), "--data", str(data), "--entity-col", "id",
            "--time-col", "t", "--features", "a,b,c", "--levels", "feature", "--tol", "none",
            "--limit", "2"]  # fmt: skip
    out = tmp_path / "named"
    code = main([*base, "--output-names", "cycling,walking", "--out", str(out)])
    assert code == 0
    feats = pd.read_csv(out / "features.csv")
    assert set(feats["output"]) == {"cycling", "walking"}
    # every row names its sequence's predicted class: the output with the larger f(x)
    for _, g in feats.groupby("entity"):
        fx = g.drop_duplicates("output").set_index("output")["model_output"]
        assert (g["predicted"] == fx.idxmax()).all()
    assert (out / "features_cycling.png").is_file() and (out / "features_walking.png").is_file()
    one = tmp_path / "one"
    code = main([*base, "--output-names", "cycling,walking", "--output", "walking",
                 "--out", str(one), "--quiet"])  # fmt: skip
    assert code == 0 and set(pd.read_csv(one / "features.csv")["output"]) == {"walking"}
    capsys.readouterr()
    code = main([*base, "--output-names", "a,b,c", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert code == 2 and "output_names has 3 names but the model returns 2 output(s)" in err
    code = main([*base, "--output", "cycling", "--out", str(tmp_path / "bad2")])
    err = capsys.readouterr().err
    assert code == 2 and "output 'cycling' not found" in err


def test_baseline_from_explained_data_is_noticed_once(gru, long_csv, tmp_path, capsys):
    from seqshap.cli import baseline_notice

    path, _ = gru
    data, _ = long_csv
    base = ["explain", "--model", str(path), "--data", str(data), "--entity-col", "id",
            "--time-col", "t", "--features", "a,b,c", "--levels", "feature", "--tol", "none",
            "--limit", "2", "--no-plots"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert err.count(baseline_notice("mean_event")) == 1
    assert "--baseline-data FILE" in baseline_notice("mean_event")
    assert len(baseline_notice("mean_event").splitlines()) == 1
    argv = [*base, "--baseline-data", str(data), "--out", str(tmp_path / "b")]
    assert main(argv) == 0 and "note:" not in capsys.readouterr().err
    argv = [*base, "--baseline", "zeros", "--out", str(tmp_path / "c")]
    assert main(argv) == 0 and "note:" not in capsys.readouterr().err
