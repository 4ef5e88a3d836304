"""The progress display of ``extractor batch``: a rich bar on stderr, and nothing off a terminal.

A bar over the articles this run does; under it done, failed, cached, articles per second,
tokens in and out; under that the last error (its id and reason on one line). Text from
articles, ids and servers is shown with control characters escaped (`extractor.render.visible`)
and never read as rich markup. When stderr is not a terminal (a pipe, a file, a CI log)
nothing is drawn.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from extractor.batch import BatchSummary
from extractor.batch_lines import ArticleOutcome
from extractor.render import visible

__all__ = ["BatchProgress", "stats"]


def stats(summary: BatchSummary) -> str:
    """The figures shown beside the bar, on one line."""
    u = summary.usage
    return (
        f"done {summary.done:,}  failed {summary.failed:,}  cached {summary.cached:,}  "
        f"{summary.per_second:,.1f}/s  tokens {u.prompt_tokens:,} in {u.completion_tokens:,} out"
    )


class BatchProgress:
    """``with BatchProgress(console) as show:`` pass ``show.start`` / ``show.update`` to a run.

    Three lines: the bar (articles finished of those to do, elapsed, time left), the figures
    (`stats`), and the last error; each cut to the terminal's width.
    """

    def __init__(self, console: Console | None = None) -> None:
        """Draw on `console` (default: stderr) only when it is a terminal."""
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self._progress = Progress(
            TextColumn("batch", markup=False),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            expand=True,
        )
        self._stats = Text(no_wrap=True, overflow="ellipsis")
        self._error = Text(no_wrap=True, overflow="ellipsis", style="red")
        self._live: Live | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        """Start drawing (when enabled)."""
        if self.enabled:
            self._live = Live(
                Group(self._progress, self._stats, self._error),
                console=self.console,
                refresh_per_second=4,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.__enter__()
        return self

    def start(self, summary: BatchSummary) -> None:
        """The work is known: a bar of `summary.todo` articles."""
        if self._live is not None:
            self._task = self._progress.add_task("batch", total=summary.todo)
            self._stats.plain = stats(summary)

    def update(self, outcome: ArticleOutcome, summary: BatchSummary) -> None:
        """One more article finished."""
        if self._live is None or self._task is None:
            return
        self._progress.update(self._task, completed=summary.done + summary.failed)
        self._stats.plain = stats(summary)
        if summary.last_error:
            self._error.plain = "last error: " + visible(summary.last_error, one_line=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop drawing; the last state stays on screen."""
        if self._live is not None:
            self._live.__exit__(kind, value, traceback)
