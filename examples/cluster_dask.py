"""Extract every article of a folder on a Dask cluster, one JSON line per article.

    pip install -e ".[cluster]"
    python examples/cluster_dask.py FOLDER --out results.jsonl [--scheduler ADDRESS]

Without --scheduler it starts a local cluster (--workers processes, --threads each) and stops it
at the end; with --scheduler tcp://HOST:8786 it uses a running one (`dask scheduler` on one
machine, `dask worker tcp://HOST:8786 --nthreads 16` on each of the others). The lines are
those of `extractor batch`: results in --out, failures in results.errors.jsonl; run it again
with the same --out and it skips the articles already done (and those that failed: add
--retry-failed to redo only those).

The model comes from the environment (OPENAI_API_KEY, or OPENAI_BASE_URL for a local server;
EXTRACTOR_MODEL, EXTRACTOR_REQUESTS_PER_MINUTE, EXTRACTOR_TOKENS_PER_MINUTE, ...), read here and
sent to every worker; the requests- and tokens-per-minute limits hold for the whole cluster.
With no model configured it runs the offline quote path: each article's direct quotes with
speakers, no key, no request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from extractor import ConfigurationError, ExtractorError, InputError
from extractor.batch_inputs import read_inputs
from extractor.render import visible
from extractor.settings import load_settings


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a folder of article files (searched deeply)")
    parser.add_argument("--out", type=Path, required=True, help="the output file (JSON lines)")
    parser.add_argument("--scheduler", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--workers", type=int, default=2, help="local cluster: worker processes")
    parser.add_argument("--threads", type=int, default=4, help="local cluster: articles at once")
    parser.add_argument("--glob", default="*.txt", help="which files of the folder (*.txt)")
    parser.add_argument("--offline", action="store_true", help="the offline quote path anyway")
    parser.add_argument(
        "--retry-failed", action="store_true", help="redo only the articles in the errors file"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example. Exit 0: every article is in --out; 1: some failed (in the errors file);
    2: bad input or options; 3: a failure every article would share (wrong key, unknown model)."""
    args = parse(argv)
    try:
        from distributed import Client, LocalCluster

        from extractor.cluster import errors_path, has_model, run_on_cluster
    except ImportError:
        print('error: Dask is not installed; pip install -e ".[cluster]"', file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        items = read_inputs([args.folder], glob=args.glob)
        offline = args.offline or not has_model(settings)
        if offline:
            print("note: no model configured (or --offline): direct quotes with speakers only")
        with ExitStack() as stack:
            if args.scheduler:
                client = stack.enter_context(Client(args.scheduler))
            else:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=args.workers,
                        threads_per_worker=args.threads,
                        dashboard_address=":0",
                    )
                )
                client = stack.enter_context(Client(cluster))
            summary = run_on_cluster(
                client,
                items,
                args.out,
                settings=settings,
                offline=offline,
                retry_failed=args.retry_failed,
            )
    except (InputError, ConfigurationError) as error:
        print(f"error: {visible(str(error), one_line=True)}", file=sys.stderr)
        return 2
    except ExtractorError as error:
        print(f"error: {visible(str(error), one_line=True)}", file=sys.stderr)
        return 3
    for line in summary.batch.lines(args.out, errors_path(args.out)):
        print(line)
    workers = ", ".join(f"{n} on {w}" for w, n in sorted(summary.articles_per_worker.items()))
    print(f"cluster: articles {workers or 'none'}; rate limiter: {summary.limiter or 'none'}")
    return 1 if summary.batch.still_failing else 0


if __name__ == "__main__":
    sys.exit(main())
