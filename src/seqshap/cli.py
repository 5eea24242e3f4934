"""Command line: ``seqshap demo`` and ``seqshap explain``.

Exit codes: 0 success, 2 usage error (bad arguments, missing or unreadable files, unknown
formats, missing columns, a pickle offered as a model), 1 failure while explaining (the model
fails or returns scores of the wrong shape, a dependency is missing). Errors are one line on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._validation import check_lengths, check_unique_names
from .export import Exporter

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DATA_SUFFIXES = (".csv", ".parquet", ".pq", ".npy", ".npz")
BASELINES = ("mean_event", "median_event", "mode_event", "average_sequence", "zeros")
LEVELS = ("event", "feature", "cell", "window")


class UsageError(Exception):
    """Bad arguments or input files: exit code 2."""


# ------------------------------------------------------------------------------ data loading
def _suggest(name: str, choices: Sequence[str]) -> str:
    lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.6)
    return f" Did you mean {lower[close[0]]!r}?" if close else ""


def _check_file(path: str | os.PathLike, what: str, suffixes: Sequence[str]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise UsageError(
            f"{what} file {str(p)!r} has an unknown extension {p.suffix or '(none)'!r}; "
            f"expected one of {', '.join(suffixes)}."
        )
    if not p.is_file():
        raise UsageError(f"{what} file {str(p)!r} does not exist.")
    return p


def _read_frame(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except ImportError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        raise UsageError(f"could not read {str(path)!r}: {str(exc).splitlines()[0]}") from None


def _read_array(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False), None
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.files)
            key = next((k for k in ("X", "x", "data", "sequences") if k in keys), None)
            if key is None:
                arrays = [k for k in keys if k != "lengths"]
                if len(arrays) != 1:
                    raise UsageError(
                        f"{str(path)!r} holds arrays {keys}; name the sequences 'X' (and "
                        "optionally their lengths 'lengths')."
                    )
                key = arrays[0]
            lengths = npz["lengths"] if "lengths" in keys else None
            return npz[key], lengths
    except UsageError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise UsageError(
                f"{str(path)!r} holds Python objects (pickled); seqshap loads numeric arrays only."
            ) from None
        raise UsageError(f"could not read {str(path)!r}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"could not read {str(path)!r}: {exc}") from None


def load_sequences(
    path: str | os.PathLike,
    *,
    entity_col: str | None = None,
    time_col: str | None = None,
    features: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[Any], list[str] | None]:
    """``(sequences, entity_ids, feature_names)`` from a data file.

    ``.npy``: ``(n, T, d)`` or one ``(T, d)`` sequence. ``.npz``: array ``X`` (``(n, T, d)``)
    and optional ``lengths`` (valid rows first). CSV/parquet: long format, one row per event;
    ``entity_col`` groups rows into sequences (none: the file is one sequence), ``time_col``
    orders them (none: file order), ``features`` selects the columns (default: every numeric
    column other than those two).
    """
    p = _check_file(path, "data", DATA_SUFFIXES)
    if p.suffix.lower() in (".npy", ".npz"):
        if entity_col or time_col:
            raise UsageError("--entity-col/--time-col apply to CSV and parquet data only.")
        arr, lengths = _read_array(p)
        if not np.issubdtype(arr.dtype, np.number):
            raise UsageError(f"{str(p)!r} holds {arr.dtype} values; numeric arrays are needed.")
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise UsageError(
                f"{str(p)!r} holds an array of shape {arr.shape}; expected (n, T, d) sequences "
                "or one (T, d) sequence."
            )
        names = list(features) if features else None
        if names is not None and len(names) != arr.shape[2]:
            raise UsageError(
                f"--features names {len(names)} columns but the array has {arr.shape[2]} features."
            )
        if lengths is not None:
            try:
                lengths = check_lengths(
                    np.asarray(lengths).reshape(-1),
                    n=len(arr),
                    t_max=arr.shape[1],
                    name=f"'lengths' in {str(p)!r}",
                )
            except (TypeError, ValueError) as exc:
                raise UsageError(str(exc)) from None
            seqs = [arr[i, : lengths[i]].astype(float) for i in range(len(arr))]
        else:
            seqs = [a.astype(float) for a in arr]
        return seqs, list(range(len(seqs))), names
    frame = _read_frame(p)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    wanted = [c for c in (entity_col, time_col) if c] + list(features or [])
    missing = [c for c in wanted if c not in columns]
    if missing:
        hints = "".join(_suggest(c, columns) for c in missing)
        raise UsageError(
            f"column(s) {missing} not found in {str(p)!r}; its columns are {columns}.{hints}"
        )
    if features:
        names = list(features)
        bad = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            raise UsageError(f"feature column(s) {bad} are not numeric; encode them as numbers.")
    else:
        skip = {entity_col, time_col}
        names = [c for c in columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
        if not names:
            raise UsageError(
                f"no numeric feature columns in {str(p)!r}; name them with --features."
            )
    if time_col:
        frame = frame.sort_values([c for c in (entity_col, time_col) if c], kind="stable")
    if entity_col:
        groups = [(key, g) for key, g in frame.groupby(entity_col, sort=False)]
    else:
        groups = [(0, frame)]
    seqs = [g[names].to_numpy(dtype=float) for _, g in groups]
    ids = [k.item() if hasattr(k, "item") else k for k, _ in groups]
    return seqs, ids, names


def load_baseline(value: str, features: list[str] | None) -> Any:
    """A baseline name, or a ``.npy``/``.csv`` file holding an event, a sequence or sequences."""
    if value in BASELINES:
        return value
    p = Path(value)
    if p.suffix.lower() not in (".npy", ".csv") and not p.exists():
        raise UsageError(
            f"--baseline must be one of {', '.join(BASELINES)} or a .npy/.csv file; "
            f"received {value!r}.{_suggest(value, BASELINES)}"
        )
    p = _check_file(p, "baseline", (".npy", ".csv"))
    if p.suffix.lower() == ".npy":
        return _read_array(p)[0].astype(float)
    frame = _read_frame(p)
    cols = features if features and set(features) <= set(frame.columns) else list(frame.columns)
    return (
        frame[cols].to_numpy(dtype=float).squeeze(0)
        if len(frame) == 1
        else frame[cols].to_numpy(dtype=float)
    )


def load_cli_model(path: str, *, threads: int | None = None) -> Any:
    """A model file adapted for seqshap (.onnx, TorchScript .pt/.pth, .keras); never unpickled."""
    from .models._load import MODEL_SUFFIXES, PICKLE_SUFFIXES, UnsafeModelFileError, load_model

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise UsageError(
            f"model file {str(p)!r} is a pickle; seqshap never unpickles (it can run arbitrary "
            "code). Export the model to ONNX, TorchScript or .keras."
        )
    _check_file(p, "model", MODEL_SUFFIXES)
    if suffix == ".keras" and not os.environ.get("KERAS_BACKEND"):
        import importlib.util

        if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("torch"):
            os.environ["KERAS_BACKEND"] = "torch"  # CLI process only
    options = {"threads": threads} if suffix == ".onnx" else {}
    try:
        return load_model(p, **options)
    except (UnsafeModelFileError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# ------------------------------------------------------------------------------ writing
# ------------------------------------------------------------------------------ explain
def _declared_width(model: Any) -> int | None:
    """Features per event that the model file declares (ONNX, Keras), or None."""
    session = getattr(model, "session", None)
    if session is not None:
        inputs = {a.name: a for a in session.get_inputs()}
        shape = getattr(inputs.get(getattr(model, "input_name", None)), "shape", None)
        return shape[-1] if shape and isinstance(shape[-1], int) else None
    keras_model = getattr(model, "model", None)
    shape = getattr(next(iter(getattr(keras_model, "inputs", None) or []), None), "shape", None)
    return shape[-1] if shape and isinstance(shape[-1], int) else None


def check_model_width(model: Any, first: np.ndarray, names: list[str] | None, args) -> None:
    """Before the first real call: the model must take the columns chosen from the data."""
    d = first.shape[1]
    cols = list(names) if names else [f"column {i}" for i in range(d)]
    hint = ""
    if Path(args.data).suffix.lower() in (".csv", ".parquet") and not args.entity_col:
        hint = (
            " The file was read as one sequence without --entity-col: if it holds an id or a "
            "time column, pass --entity-col (and --time-col) so they are not taken as features."
        )
    what = f"the data gives {d} feature(s) per event, columns {cols} (from {args.data!r})"
    if Path(args.data).suffix.lower() in (".npy", ".npz"):
        fix = "Save the array with the model's input features, in its order."
    else:
        fix = f"Choose the model's input columns, in its order, with --features.{hint}"
    width = _declared_width(model)
    if width is not None and width != d:
        raise UsageError(f"the model takes {width} feature(s) per event but {what}. {fix}")
    try:  # the raw call: output checks come later, with their own messages
        model.predict(np.ascontiguousarray(first[None, -min(len(first), 2) :]))
    except Exception as exc:  # noqa: BLE001 - the model cannot run on these columns
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise UsageError(
            f"the model fails on the first sequence: {what}; it said: {first_line}. {fix}"
        ) from None


def _parse_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _parse_tol(value: str) -> float | None:
    if value.lower() in ("none", "off", "no"):
        return None
    try:
        tol = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number or 'none'; received {value!r}"
        ) from None
    if not np.isfinite(tol) or tol < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; received {value!r}")
    return tol


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; received {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; received {value!r}")
    return n


def cmd_explain(args: argparse.Namespace) -> int:
    """One sequence: a local explanation (plots of every level, HTML report). Several: a global
    run through :func:`seqshap.runner.explain_many` (shared batches, ``--jobs`` processes,
    progress bar, ``--resume``); its numbers do not depend on ``--jobs``."""
    from .sequence import SequenceExplainer
    from .sequence.inputs import check_sequence

    start = time.perf_counter()
    features = _parse_list(args.features)
    if features is not None:
        try:
            check_unique_names(features, name="--features")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    levels = _parse_list(args.levels) or ["event", "feature"]
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise UsageError(
            f"--levels {unknown} unknown; choose from {', '.join(LEVELS)}."
            f"{_suggest(unknown[0], LEVELS)}"
        )
    if "window" in levels and args.window is None:
        raise UsageError("--levels window needs --window N (events per window).")
    seqs, ids, names = load_sequences(
        args.data, entity_col=args.entity_col, time_col=args.time_col, features=features
    )
    if args.limit is not None:
        seqs, ids = seqs[: args.limit], ids[: args.limit]
    if args.baseline_data:
        base_seqs, _, _ = load_sequences(
            args.baseline_data, entity_col=args.entity_col, time_col=args.time_col, features=names
        )
    else:
        base_seqs = seqs
    baseline = load_baseline(args.baseline, names)
    model = load_cli_model(args.model, threads=1 if args.jobs > 1 else None)
    check_model_width(model, seqs[0], names, args)
    if names is None:
        names = getattr(model, "feature_names", None)
        if names is not None and len(names) != seqs[0].shape[1]:
            names = None
    output: Any = args.output
    if output is not None and output.lstrip("-").isdigit():
        output = int(output)
    try:
        explainer = SequenceExplainer(
            model,
            baseline,
            data=base_seqs,
            feature_names=names,
            method=args.method,
            order=args.order,
            budget=args.budget,
            seed=args.seed,
            link=args.link,
            output=output,
            output_names=_parse_list(args.output_names),
        )
        # a wrong --output / --output-names fails here as a usage error (on a copy of the
        # plan: the explainer itself stays unprepared, so that worker processes can receive it)
        explainer.plan.copy().prepare(check_sequence(seqs[0], name="x"))
    except (ValueError, TypeError) as exc:  # options that do not fit the data or the model
        raise UsageError(str(exc)) from None
    explainer.prepare(seqs[0])  # adapts the model and picks its path (model_info, printed below)
    if not args.baseline_data and args.baseline in BASELINES[:-1] and not args.quiet:
        print(baseline_notice(args.baseline), file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    formats = ["csv"]
    try:
        import pyarrow  # noqa: F401

        formats.append("parquet")
    except ImportError:
        pass
    exporter = Exporter(out, formats=formats, plots=not args.no_plots)
    files = exporter.files
    if len(seqs) == 1:
        local = explainer.explain(
            seqs[0], levels=tuple(levels), pruning_tol=args.tol, window=args.window, entity=ids[0]
        )
        outputs = _write_local(args, local, exporter)
    else:
        outputs = _run_global(args, explainer, seqs, ids, levels, exporter)
    seconds = time.perf_counter() - start
    summary = {
        "model": str(args.model),
        "data": str(args.data),
        "sequences": len(seqs),
        "levels": list(levels),
        "tol": args.tol,
        "baseline": args.baseline,
        "method": args.method,
        "order": args.order,
        "budget": args.budget,
        "seed": args.seed,
        "outputs": outputs,
        "seconds": round(seconds, 2),
        "seqshap": __version__,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    files.append(out / "summary.json")
    if not args.quiet:
        print(
            f"explained {len(seqs)} sequence(s) at {', '.join(levels)} level(s) "
            f"(outputs: {', '.join(outputs)}) in {seconds:.1f} s"
        )
        print(f"model: {explainer.model_info}")
        print(f"wrote {len(files)} files to {out}/:")
        for f in files:
            print(f"  {f.relative_to(out)}")
    return EXIT_OK


def baseline_notice(name: str) -> str:
    """The one-line notice printed when the named baseline comes from the explained data."""
    return (
        f"note: the {name} baseline is computed from the sequences being explained (--data); "
        "pass --baseline-data FILE (e.g. training sequences) for a reference independent of them."
    )


def _write_local(args: argparse.Namespace, local: Any, exporter: Exporter) -> list[str]:
    # one plot file per explained output (the model's classes), the event heatmap shows them all
    exporter.local(local, output=None)
    if exporter.plots:
        exporter.report(local=local, title=f"seqshap: {Path(args.data).name}")
    first = next(iter(local.levels.values()), None)
    return list(first.output_names) if first is not None else []


def _run_global(args, explainer, seqs, ids, levels, exporter: Exporter) -> list[str]:
    from .runner import explain_many

    out = Path(args.out)
    run = explain_many(
        explainer,
        seqs,
        entity_ids=ids,
        levels=tuple(levels),
        pruning_tol=args.tol,
        window=args.window,
        n_jobs=args.jobs,
        out=out / "run" if args.resume else None,
        resume=True,
        progress=not args.quiet,
    )
    # tables carry each sequence's predicted class; one plot per explained output
    exporter.global_(run, output=None)
    return run.output_names


# ------------------------------------------------------------------------------ demo
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    log = None if args.quiet else (lambda line: print(line, flush=True))
    result = run_demo(args.out, tol=args.tol, log=log)
    if not args.quiet:
        print(f"done in {result.seconds:.1f} s; wrote {len(result.files)} files to {result.out}/:")
        for f in result.files:
            print(f"  {f.relative_to(result.out)}")
    return EXIT_OK


# ------------------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seqshap",
        description="Explain sequence models (RNN/LSTM/GRU/Transformer) with Shapley values.",
        epilog="Run 'seqshap demo' for a one-minute tour; 'seqshap COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"seqshap {__version__}")
    parser.add_argument(
        "--debug", dest="debug_all", action="store_true", help="show tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        help="explain a shipped GRU on BasicMotions (offline, < 1 min)",
        description=(
            "Explain the shipped GRU classifier (ONNX, run by onnxruntime) on sktime's "
            "BasicMotions: one test sequence locally (pruning, events, features, cells) and the "
            "40 test sequences globally. Writes CSV and parquet tables, PNG and SVG plots."
        ),
    )
    demo.add_argument(
        "--out", default="seqshap-demo", metavar="DIR", help="output folder (default: %(default)s)"
    )
    demo.add_argument(
        "--tol", type=_parse_tol, default=0.025, help="pruning tolerance (default: %(default)s)"
    )
    demo.add_argument("--quiet", action="store_true", help="print nothing on success")
    demo.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    demo.set_defaults(handler=cmd_demo)

    ex = sub.add_parser(
        "explain",
        help="explain a model file on a data file",
        description=(
            "Explain every sequence of --data with the model in --model and write tidy tables "
            "(explanations, events, features, pruning; CSV and parquet), plots (PNG and SVG) and "
            "summary.json to --out."
        ),
        epilog=(
            "Models: .onnx (onnxruntime; state inputs/outputs are used automatically), "
            "TorchScript .pt/.pth (torch.jit.save; torch.save pickles are refused), .keras. "
            "Data: .npy (n, T, d), .npz (X and optional lengths), or CSV/parquet in long format "
            "(one row per event). Example: seqshap explain --model gru.onnx --data events.csv "
            "--entity-col id --time-col t --features a,b,c --levels event,feature,cell"
        ),
    )
    ex.add_argument(
        "--model",
        required=True,
        metavar="FILE",
        help="model file: .onnx, .pt/.pth (TorchScript), .keras",
    )
    ex.add_argument(
        "--data", required=True, metavar="FILE", help="sequences: .csv, .parquet, .npy, .npz"
    )
    ex.add_argument(
        "--entity-col", metavar="COL", help="long data: column identifying the sequence"
    )
    ex.add_argument("--time-col", metavar="COL", help="long data: column ordering the events")
    ex.add_argument(
        "--features", metavar="A,B,...", help="feature columns (default: all numeric other columns)"
    )
    ex.add_argument(
        "--baseline",
        default="mean_event",
        metavar="NAME|FILE",
        help=f"{', '.join(BASELINES)}, or a .npy/.csv event, sequence or sequences (default: %(default)s)",
    )
    ex.add_argument(
        "--baseline-data",
        metavar="FILE",
        help="data the named baseline is computed from (default: --data)",
    )
    ex.add_argument(
        "--levels",
        default="event,feature",
        metavar="L,...",
        help=f"any of {', '.join(LEVELS)} (default: %(default)s)",
    )
    ex.add_argument(
        "--tol",
        type=_parse_tol,
        default=0.025,
        help="pruning tolerance, or 'none' (default: %(default)s)",
    )
    ex.add_argument(
        "--budget",
        type=_positive_int,
        help="coalitions per level and sequence (default: exact up to 16 players, else 2M+2048)",
    )
    ex.add_argument(
        "--method",
        default="auto",
        choices=("auto", "exact", "kernel", "permutation", "lime"),
        help="estimator (default: %(default)s)",
    )
    ex.add_argument(
        "--order",
        type=int,
        default=3,
        choices=(3, 1),
        help="the kernel estimator's fit: 3 adds third-order terms, 1 is linear KernelSHAP "
        "(default: %(default)s)",
    )
    ex.add_argument(
        "--output", metavar="NAME|INDEX", help="explain only this model output (default: all)"
    )
    ex.add_argument(
        "--output-names",
        metavar="A,B,...",
        help="names of the model's outputs, e.g. class names (default: from the model, else "
        "'output 0', ...); --output may then name one",
    )
    ex.add_argument(
        "--link",
        default="identity",
        choices=("identity", "logit"),
        help="explain raw scores or log-odds (default: %(default)s)",
    )
    ex.add_argument(
        "--window", type=_positive_int, metavar="N", help="events per window for --levels window"
    )
    ex.add_argument(
        "--seed", type=int, default=0, help="seed of the sampling estimators (default: %(default)s)"
    )
    ex.add_argument(
        "--limit", type=_positive_int, metavar="N", help="explain only the first N sequences"
    )
    ex.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="worker processes (default: %(default)s)",
    )
    ex.add_argument(
        "--out", default="seqshap-out", metavar="DIR", help="output folder (default: %(default)s)"
    )
    ex.add_argument("--no-plots", action="store_true", help="write tables only")
    ex.add_argument(
        "--resume",
        action="store_true",
        help="keep finished chunks in DIR/run and resume an interrupted run of the same command",
    )
    ex.add_argument(
        "--quiet", action="store_true", help="no progress bar, print nothing on success"
    )
    ex.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    ex.set_defaults(handler=cmd_explain)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``seqshap`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and argument errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    prog = f"seqshap {args.command}"
    args.debug = args.debug or args.debug_all
    try:
        return args.handler(args)
    except UsageError as exc:
        if args.debug:
            raise
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line unless --debug
        if args.debug:
            raise
        print(f"{prog}: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
