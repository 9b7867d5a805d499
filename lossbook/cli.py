"""The ``lossbook`` command: the loss table, the format of a data set, and a training run, from a shell.

    lossbook table [--text] [--conversions]
    lossbook formats DATA [--split S]
    lossbook train --data stsb --loss CoSENTLoss --steps 100 --out runs/cosent [--tiny | --model NAME_OR_PATH] ...

``DATA`` is a named data set (``stsb``, ``nli``, ... see ``lossbook.DATASETS``), optionally with a
split (``stsb:validation``), or the path of a CSV or JSONL file. ``train`` prints the plan (time and
memory of one measured step), evaluates before and after, trains, and writes ``history.json``,
``metrics.json``, the trained model (``model/``, with its model card ``model/README.md``) and two plots
into ``--out``.

Every expected error (an unknown loss or data set, data in the wrong format) is one line on stderr
and exit code 2; set ``LOSSBOOK_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lossbook.run_data import Data, SetupError, eval_data_for, load_data
from lossbook.run_setup import (
    Evaluation,
    build_loss,
    choose_evaluation,
    loss_class,
    parse_dims,
    refuse_unbuildable,
    refuse_wrong_format,
)

__all__ = ["CliError", "main"]


class CliError(SetupError):
    """An error the user can fix; printed as one line, exit code 2 (as every ``SetupError`` is)."""


# -- commands --------------------------------------------------------------------------------------
def cmd_table(args) -> int:
    from lossbook.table import render_table

    print(render_table(markdown=not args.text, with_conversions=args.conversions))
    return 0


def cmd_formats(args) -> int:
    from lossbook.checks import check
    from lossbook.detect import FormatError, detect_format
    from lossbook.table import losses_for

    data = load_data(args.data, args.split, rows=args.rows)
    try:
        detection = detect_format(data.dataset)
    except FormatError as error:
        raise CliError(f"{data.label}: {error}") from None
    print(detection.explain())
    report = check(data.dataset, detection.format)
    print("Checks: " + ("no problems found." if report.ok else f"{len(report.findings)} finding(s)"))
    for finding in report.findings:
        print(f"  - {finding}")
    options = losses_for(detection.format, via_conversion=True)
    direct = [o for o in options if o.direct]
    print(
        "Losses for this format (* = commonly used): "
        + (", ".join(o.loss.__name__ + ("*" if o.commonly_used else "") for o in direct) or "none directly")
    )
    converted = [o for o in options if not o.direct]
    if converted:
        print("After conversion (lossbook.convert):")
        for option in converted:
            model = " (needs a model)" if any(c.needs_model for c in option.converters) else ""
            print(f"  {option.loss.__name__:<45} via {' -> '.join(c.name for c in option.converters)}{model}")
    return 0


def cmd_train(args) -> int:
    cls = loss_class(args.loss)  # fail fast: before any data or model is loaded
    out = Path(args.out)
    if (out / "history.json").exists() and not args.overwrite:
        raise CliError(f"{out} already holds a run (history.json); pick another --out or pass --overwrite.")
    data = load_data(args.data, rows=args.rows)
    refuse_unbuildable(cls, args.matryoshka_dims)
    refuse_wrong_format(cls, data)
    evaluation = choose_evaluation(
        data, eval_data_for(data, args.eval_data), rows=args.eval_rows, seed=args.seed, required=bool(args.eval_data)
    )

    from lossbook.model import load_model, tiny_model
    from lossbook.planner import plan
    from lossbook.train import TrainingError, train

    try:
        model = (
            tiny_model(seed=args.seed, device=args.device)
            if args.tiny
            else load_model(args.model, device=args.device, max_seq_length=args.max_seq_length)
        )
    except (OSError, ValueError) as error:
        raise CliError(f"Cannot load the model {args.model or 'all-MiniLM-L6-v2'}: {error}") from None
    print(f"Model: {model!r}")
    loss = build_loss(cls, model, data.dataset, matryoshka_dims=args.matryoshka_dims)
    if evaluation and args.matryoshka_dims:  # each trained dim, and the full size
        evaluation.dims = sorted(set(loss.matryoshka_dims) | {model.embedding_dim}, reverse=True)
    print(f"Loss: {_loss_title(loss)}" + (f", dims {list(loss.matryoshka_dims)}" if args.matryoshka_dims else ""))

    estimate = None
    try:  # a few real steps of this very run (same sampler, precision, fast mode); the model is put back
        estimate = plan(
            model,
            loss,
            data.dataset,
            batch_size=args.batch_size,
            steps=args.steps,
            max_seq_length=args.max_seq_length,
            device=args.device,
            lr=args.lr,
            seed=args.seed,
            freeze_encoder=args.freeze_encoder,
        )
        print(f"Plan: {estimate}")
    except (RuntimeError, ValueError) as error:  # e.g. out of memory: training would fail the same way, and say so
        print(f"Plan: could not measure a step ({type(error).__name__}: {' '.join(str(error).split())[:200]})")

    try:
        history = train(
            model,
            loss,
            data.dataset,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            max_seq_length=args.max_seq_length,
            device=args.device,
            seed=args.seed,
            evaluator=evaluation,
            eval_every=args.eval_every,
            freeze_encoder=args.freeze_encoder,
            progress=not args.no_progress,
        )
    except TrainingError as error:
        if error.history is not None:
            error.history.save(out / "history.json")
        raise CliError(str(error)) from None
    history.label = f"{_loss_title(loss)} on {data.label}"
    print(f"Trained: {history}")
    if estimate is not None and len(history.steps) > 1:
        print(f"Time: {estimate.against(history.seconds_per_step)}")
    else:
        print(f"Time: {history.seconds_per_step:.2f} s per step")

    out.mkdir(parents=True, exist_ok=True)
    files = [
        history.save(out / "history.json"),
        model.save(out / "model", overwrite=args.overwrite),
        plot_loss(history, out / "loss.png"),
    ]
    metrics = _metrics_record(args, data, evaluation, history)
    metrics["estimated_seconds_per_step"] = estimate.seconds_per_step if estimate is not None else None
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    files.append(out / "metrics.json")
    if metrics["after"] is not None:
        _print_before_after(metrics, evaluation.dims)
        files.append(plot_before_after(metrics, evaluation.dims, out / "metrics.png"))
    print("Wrote: " + ", ".join(str(path) for path in files))
    return 0


def _loss_title(loss) -> str:
    inner = getattr(loss, "loss", None)
    return f"{type(loss).__name__}({type(inner).__name__})" if inner is not None else type(loss).__name__


def _metrics_record(args, data: Data, evaluation: Evaluation | None, history) -> dict:
    record = {
        "loss": history.loss_name,
        "base_loss": loss_class(args.loss).__name__,
        "matryoshka_dims": args.matryoshka_dims,
        "data": data.label,
        "steps": len(history.steps),
        "stopped": history.stopped,
        "seconds_per_step": history.seconds_per_step,
        "device": history.device,
        "eval_data": evaluation.data.label if evaluation else None,
        "eval_rows": len(evaluation.data.dataset) if evaluation else None,
        "primary": evaluation.primary if evaluation else None,
        "before": None,
        "after": None,
    }
    if evaluation and history.evaluations:
        strip = lambda entry: {k: v for k, v in entry.items() if k != "step"}  # noqa: E731
        first, last = history.evaluations[0], history.evaluations[-1]
        record["before"] = strip(first)
        if last["step"] > first["step"]:  # no "after" when training stopped before its first step
            record["after"], record["after_step"] = strip(last), last["step"]
    return record


def _print_before_after(metrics: dict, dims: list[int] | None) -> None:
    before, after, primary = metrics["before"], metrics["after"], metrics["primary"]
    keys = [primary] + ([f"{primary}@{d}" for d in dims] if dims else [])
    for key in keys:
        if key in before and key in after:
            print(f"{key:>16}: {before[key]:.4f} -> {after[key]:.4f} ({after[key] - before[key]:+.4f})")


# -- plots (lossbook.plots; a shell gets the Agg backend) -------------------------------------------
def _pyplot():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # a shell has no display; leave a notebook's backend alone
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=100)
    _pyplot().close(figure)
    return path


def plot_loss(history, path: Path) -> Path:
    _pyplot()
    from lossbook.plots import loss_curves

    return _save(loss_curves(history, title=f"Training loss: {history.name}"), path)


def plot_before_after(metrics: dict, dims: list[int] | None, path: Path) -> Path:
    """The primary metric after training against the model before (a dashed line); with dims, a curve each."""
    _pyplot()
    from lossbook.plots import loss_comparison_bars, matryoshka_curves

    primary, title = metrics["primary"], f"{metrics['eval_data']}: before and after training"
    if dims:
        curves = {when: {d: metrics[when][f"{primary}@{d}"] for d in dims} for when in ("before", "after")}
        return _save(matryoshka_curves(curves, metric=primary, title=title), path)
    figure = loss_comparison_bars(
        {metrics["loss"]: metrics["after"][primary]},
        metric=primary,
        baseline=metrics["before"][primary],
        baseline_label="before training",
        title=title,
    )
    return _save(figure, path)


# -- argument parsing ------------------------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _dims(text: str) -> list[int]:
    try:
        return parse_dims(text)
    except SetupError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lossbook", description="The loss functions that fine-tune sentence-embedding models."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    table = commands.add_parser("table", help="print the loss table (data format -> losses)")
    table.add_argument("--text", action="store_true", help="plain text instead of markdown")
    table.add_argument("--conversions", action="store_true", help="add the losses reachable after converting the data")
    table.set_defaults(run=cmd_table)

    formats = commands.add_parser("formats", help="detect a data set's format, check it, list the losses for it")
    formats.add_argument(
        "data", metavar="DATA", help="a named data set (stsb, nli, ...; NAME:SPLIT works) or a CSV/JSONL file"
    )
    formats.add_argument("--split", help="split of a named data set (default: train)")
    formats.add_argument(
        "--rows", type=_positive, default=None, help="only the first N rows (from the Hub: only those are downloaded)"
    )
    formats.set_defaults(run=cmd_formats)

    train = commands.add_parser("train", help="plan, evaluate, train, evaluate again, and save the run")
    train.add_argument(
        "--data", required=True, help="training data: a named data set (NAME or NAME:SPLIT) or a CSV/JSONL file"
    )
    train.add_argument("--loss", required=True, help="loss class name, e.g. CoSENTLoss, MultipleNegativesRankingLoss")
    train.add_argument("--out", required=True, help="folder for history.json, metrics.json, model/ and the plots")
    train.add_argument("--steps", type=int, default=100)
    train.add_argument(
        "--rows",
        type=_positive,
        default=None,
        help="train on the first N rows (from the Hub: only those are downloaded)",
    )
    which = train.add_mutually_exclusive_group()
    which.add_argument("--model", help="a model folder or Hub id (default: all-MiniLM-L6-v2)")
    which.add_argument("--tiny", action="store_true", help="a tiny random model (seconds; for trying the pipeline)")
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--lr", type=float, default=2e-5)
    train.add_argument("--max-seq-length", type=int, default=None, help="truncate texts (default: the model's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1, ...")
    train.add_argument(
        "--eval-data", help="NAME[:SPLIT] or a file, or 'none' (default: the data set's validation or test split)"
    )
    train.add_argument("--eval-rows", type=int, default=None, help="evaluate on at most this many rows (default: all)")
    train.add_argument("--eval-every", type=int, default=None, help="also evaluate every N steps")
    train.add_argument("--freeze-encoder", action="store_true", help="fast CPU mode: train only a dense head")
    train.add_argument(
        "--matryoshka-dims", type=_dims, default=None, help="wrap the loss in MatryoshkaLoss, e.g. 384,256,128,64"
    )
    train.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``lossbook`` command; returns the exit code (2 for any error the user can fix)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse's own errors (and --help) end here
        return int(exit_.code or 0)
    for name in ("steps", "batch_size", "eval_rows", "eval_every"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            print(f"lossbook: error: --{name.replace('_', '-')} must be at least 1, got {value}.", file=sys.stderr)
            return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("lossbook: interrupted.", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the command line shows one line, not a traceback
        if os.environ.get("LOSSBOOK_DEBUG"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, SetupError):
            message = f"{type(error).__name__}: {message} (set LOSSBOOK_DEBUG=1 for the traceback)"
        print(f"lossbook: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
