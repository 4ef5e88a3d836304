"""The progress display of ``extractor batch``: a rich bar on stderr, and nothing off a terminal.

One bar over the articles this run does, with done, failed, cached, articles per second, tokens
in and out, and the last error (its id and reason on one line). Text from articles, ids and
servers is shown with control characters escaped (`extractor.render.visible`) and never read as
rich markup. When stderr is not a terminal (a pipe, a file, a CI log) nothing is drawn.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from extractor.batch import BatchSummary
from extractor.batch_lines import ArticleOutcome
from extractor.render import visible

__all__ = ["BatchProgress", "stats"]

_ERROR_CHARS = 120


def stats(summary: BatchSummary) -> str:
    """The figures shown beside the bar, on one line."""
    u = summary.usage
    return (
        f"done {summary.done:,}  failed {summary.failed:,}  cached {summary.cached:,}  "
        f"{summary.per_second:,.1f}/s  tokens {u.prompt_tokens:,} in {u.completion_tokens:,} out"
    )


class BatchProgress:
    """``with BatchProgress(console) as show:`` pass ``show.start`` / ``show.update`` to a run."""

    def __init__(self, console: Console | None = None) -> None:
        """Draw on `console` (default: stderr) only when it is a terminal."""
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        """Start drawing (when enabled)."""
        if self.enabled:
            self._progress = Progress(
                TextColumn("batch", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[stats]}", markup=False),
                TextColumn("{task.fields[error]}", markup=False),
                console=self.console,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.__enter__()
        return self

    def start(self, summary: BatchSummary) -> None:
        """The work is known: a bar of `summary.todo` articles."""
        if self._progress is not None:
            self._task = self._progress.add_task(
                "batch", total=summary.todo, stats=stats(summary), error=""
            )

    def update(self, outcome: ArticleOutcome, summary: BatchSummary) -> None:
        """One more article finished."""
        if self._progress is None or self._task is None:
            return
        error = ""
        if summary.last_error:
            error = "last error: " + visible(summary.last_error, one_line=True)[:_ERROR_CHARS]
        self._progress.update(
            self._task,
            completed=summary.done + summary.failed,
            stats=stats(summary),
            error=error,
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop drawing; the bar's last state stays on screen."""
        if self._progress is not None:
            self._progress.__exit__(kind, value, traceback)
