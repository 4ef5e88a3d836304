"""Score the offline path (no model) with `extractor eval`'s rules on the PolNeAR development split.

    python benchmarks/eval_polnear.py [--show N] [--pred PRED] [DATA_DIR]

DATA_DIR defaults to ``../shared/data/polnear-dev/`` beside the repository; its brat standoff
(``data/dev/text/*.txt``, ``data/dev/attributions/*.ann``) is read in place, never copied. Prints
the figures `extractor eval --gold DIR --gold-format brat --offline` prints, for both gold
modes (``marked``: quotes between marks; ``all``: reported speech too), and the time taken.
With ``--pred``, scores those predictions (``extractor batch`` lines over the ``.txt`` files)
instead of the offline path. Skips, saying so, when the corpus is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

from extractor.brat import read_brat
from extractor.cli_eval import offline_predictions, render_report
from extractor.evaluation import evaluate
from extractor.gold import pair_predictions, read_predictions

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "polnear-dev"


def main() -> int:
    """Run the measurement, or say why it is skipped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0, help="list up to N misses and false hits")
    parser.add_argument("--pred", type=Path, help="predictions to score instead of offline")
    args = parser.parse_args()
    folder = args.data / "data" / "dev"
    if not (folder / "text").is_dir():
        print(f"skipped: PolNeAR development split not found at {args.data}")
        return 0
    console = Console(width=120)
    for mode in ("marked", "all"):
        begin = time.perf_counter()
        gold = read_brat(folder, mode)
        read = time.perf_counter()
        if args.pred is None:
            predictions = offline_predictions(gold)
        else:
            paired, _ = pair_predictions(gold, read_predictions(args.pred))
            predictions = {k: p.result for k, p in paired.items() if p.result is not None}
        predicted = time.perf_counter()
        report = evaluate(gold, predictions)
        scored = time.perf_counter()
        what = "offline path" if args.pred is None else str(args.pred)
        console.print(f"\n== gold quotes: {mode}; predictions: {what}", markup=False)
        render_report(report, console, args.show)
        console.print(
            f"time: reading the gold {read - begin:.2f} s, predicting {predicted - read:.2f} s, "
            f"scoring {scored - predicted:.2f} s ({len(gold)} articles)",
            markup=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
