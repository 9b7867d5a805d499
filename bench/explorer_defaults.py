"""The loss explorer's default run, as a learner makes it: per data set, the time, before -> after and the seed spread.

    python bench/explorer_defaults.py                 # every case below, on the data source the environment gives
    python bench/explorer_defaults.py --only stsb nli # some of them

Each case drives ``lossbook.widgets.LossExplorer`` exactly as its buttons do (choose the data set, convert
where the case says, select the loss, Train with the defaults it puts in the sliders), times the press of
Train (evaluation included), and prints the yardstick before, after (mean over the seeds), the spread
between seeds and whether the change beats it. Also the comparison of three losses on STS-B and a
Matryoshka run against its plain control. Data: LOSSBOOK_DATA (the mirror) when set, else the bundled sets.
"""

from __future__ import annotations

import argparse
import os
import time

import _common  # noqa: F401  (the environment: offline, no progress bars)
from _common import header, print_rows

from lossbook.model import load_model
from lossbook.widgets import LossExplorer

# name -> (data set, loss, conversion that opens the loss or None, modifier)
CASES = {
    "stsb": ("stsb", "CoSENTLoss", None, "none"),
    "paws": ("paws", "ContrastiveLoss", None, "none"),
    "banking77": ("banking77", "BatchHardTripletLoss", None, "none"),
    "qa-pairs": ("qa-pairs", "MultipleNegativesRankingLoss", None, "none"),
    "nli": ("nli", "MultipleNegativesRankingLoss", "MultipleNegativesRankingLoss", "none"),
    "sentences": ("sentences", "ContrastiveTensionLossInBatchNegatives", None, "none"),
    "stsb-matryoshka": ("stsb", "CoSENTLoss", None, "Matryoshka"),
}


def run_case(app: LossExplorer, name: str) -> list[str]:
    data_name, loss_name, conversion, modifier = CASES[name]
    app.choose_dataset(data_name)
    if conversion:
        app.apply_conversion(conversion)
    app.modifier.value = modifier
    app.select_loss(loss_name)
    start = time.perf_counter()
    app.run_training()
    seconds = time.perf_counter() - start
    main = next(iter(app.runs.values()))
    row = [
        name,
        loss_name + (f" + {modifier}" if modifier != "none" else ""),
        f"{seconds:.1f}",
        f"{main.before:.4f}",
        f"{main.mean_after:.4f}",
        f"{main.spread:.4f}",
        f"yes, {main.direction}" if main.moved else "no",
        app.outcome.kind if app.outcome else "-",
        main.settings.describe(),
    ]
    if modifier != "none":
        curves = app.results["curves"]
        smallest = min(curves["base"].dims)
        row.append(
            "at dim {}: ".format(smallest)
            + ", ".join(f"{label} {grid.result(dim=smallest).score:.4f}" for label, grid in curves.items())
        )
    return row


def compare_case(app: LossExplorer, names: list[str]) -> None:
    app.choose_dataset("stsb")
    start = time.perf_counter()
    results = app.compare_losses(names)
    seconds = time.perf_counter() - start
    print(f"\ncompare {', '.join(names)} on stsb: {seconds:.1f} s")
    for label, result in results.items():
        print(f"  {label}: {result.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=list(CASES) + ["compare"], help="run only these cases")
    args = parser.parse_args()
    header("lossbook: the loss explorer's default runs")
    source = f"the mirror {os.environ['LOSSBOOK_DATA']}" if os.environ.get("LOSSBOOK_DATA") else "bundled data only"
    print(f"data: {source}")
    app = LossExplorer(model=load_model())
    rows = []
    for name in args.only or list(CASES):
        if name == "compare":
            continue
        rows.append(run_case(app, name))
        print(" | ".join(rows[-1]), flush=True)
    head = ["case", "loss", "seconds", "before", "after", "spread", "beats spread", "picture", "budget"]
    print()
    print_rows([r[: len(head)] for r in rows], head)
    if not args.only or "compare" in args.only:
        compare_case(app, ["CoSENTLoss", "AnglELoss", "CosineSimilarityLoss"])


if __name__ == "__main__":
    main()
