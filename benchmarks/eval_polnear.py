"""Score the offline path (no model) with `extractor eval`'s rules on the PolNeAR development split.

    python benchmarks/eval_polnear.py [--show N] [--pred PRED] [DATA_DIR]

DATA_DIR defaults to ``../shared/data/polnear-dev/`` beside the repository; its brat standoff
(``data/dev/text/*.txt``, ``data/dev/attributions/*.ann``) is read in place, never copied. Prints
the figures `extractor eval --gold DIR --gold-format brat --offline` prints, for both gold
modes (``marked``: quotes between marks; ``all``: reported speech too), and the time taken.
With ``--pred``, scores those predictions (``extractor batch`` lines over the ``.txt`` files)
instead of the offline path (a text they miss scored as all missed). Both go through
`extractor.evaluation.evaluate_files`, as the command does. Skips, saying so, when the corpus
is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

from extractor.cli_eval import render_report
from extractor.evaluation import evaluate_files

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
        report = evaluate_files(
            folder,
            args.pred,
            gold_format="brat",
            brat_quotes=mode,
            offline=args.pred is None,
        )
        took = time.perf_counter() - begin
        what = "offline path" if args.pred is None else str(args.pred)
        console.print(f"\n== gold quotes: {mode}; predictions: {what}", markup=False)
        render_report(report, console, args.show)
        console.print(
            f"time: {took:.2f} s to read the gold, predict (offline) or read the predictions, "
            f"and score ({report.articles} articles)",
            markup=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
