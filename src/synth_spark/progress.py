"""Progress for long runs, on standard error: a line per step with the time since the start, and,
while Spark works, what it is doing. On a terminal that is a live display (one bar per running Spark
stage: tasks done of all, elapsed, time left); elsewhere (CI, a log, spark-submit) a plain line at
least every ``heartbeat`` seconds, so a long stage never looks like a hang."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stage:
    """A Spark stage as its status tracker reports it."""

    id: int
    tasks: int
    done: int


#: what Spark runs now; None where nothing can be asked (a Spark Connect client has no tracker)
StagePoll = Callable[[], list[Stage]]

#: two tables are written at once, each reporting from its own thread: one write per whole line,
#: under a lock, so their lines never run into each other
_LINE_LOCK = threading.Lock()
#: the displays running in this process: a command stops them before it prints its result
_WATCHING: list[Progress] = []


@dataclass
class Progress:
    """One line per step with the time since the start, so long runs show where they are."""

    quiet: bool = False
    started: float = field(default_factory=time.monotonic)
    #: the longest a watched run stays silent when standard error is not a terminal
    heartbeat: float = 10.0
    _doing: list[str] = field(default_factory=list, repr=False)
    _current: str = field(default="", repr=False)
    _last_line: float = field(default=0.0, repr=False)
    _watch: _Watch | None = field(default=None, repr=False)

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        line = f"[{time.monotonic() - self.started:7.1f}s] {message}"
        with _LINE_LOCK:
            self._last_line = time.monotonic()
            watch = self._watch
            if watch is not None and watch.bars is not None:
                watch.bars.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
            if not message.startswith(" "):
                self._current = message

    @contextmanager
    def doing(self, what: str) -> Iterator[None]:
        """Name the work under way (the live display labels Spark's stages with it)."""
        self._doing.append(what)
        try:
            yield
        finally:
            self._doing.remove(what)

    def label(self) -> str:
        return ", ".join(self._doing) or self._current

    def watch(self, poll: StagePoll | None) -> None:
        """Show what Spark does until :func:`stop_watching` (or :meth:`close`)."""
        if self.quiet or self._watch is not None:
            return
        self._last_line = time.monotonic()
        self._watch = _Watch(self, poll, live=sys.stderr.isatty())
        _WATCHING.append(self)

    def close(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
            if self in _WATCHING:
                _WATCHING.remove(self)


def stop_watching() -> None:
    """Stop every live display: a command's result goes on a terminal of its own."""
    for progress in list(_WATCHING):
        progress.close()


class _Watch:
    """A thread that asks Spark what runs, to draw it (a terminal) or say it every heartbeat (elsewhere)."""

    def __init__(self, progress: Progress, poll: StagePoll | None, live: bool) -> None:
        self.progress, self.poll = progress, poll
        self.bars = _live_bars() if live else None
        self.tasks: dict[int, int] = {}  # a stage's id -> its row in the live display
        self.first_seen: dict[int, float] = {}
        self.stopped = threading.Event()
        if self.bars is not None:
            self.bars.start()
        self.thread = threading.Thread(target=self._run, name="synth-spark-progress", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        every = 0.25 if self.bars is not None else 1.0
        while not self.stopped.wait(every):
            try:
                stages = self.poll() if self.poll is not None else []
            except Exception:  # noqa: BLE001 - a session being stopped: nothing more to show
                stages = []
            now = time.monotonic()
            for s in stages:
                self.first_seen.setdefault(s.id, now)
            if self.bars is not None:
                self._draw(stages)
            elif now - self.progress._last_line >= self.progress.heartbeat:
                self.progress(f"  ... {self._said(stages, now)}")

    def _draw(self, stages: list[Stage]) -> None:
        running = {s.id for s in stages}
        for sid in [sid for sid in self.tasks if sid not in running]:
            self.bars.remove_task(self.tasks.pop(sid))
        for s in stages:
            if s.id not in self.tasks:
                self.tasks[s.id] = self.bars.add_task(
                    f"{self.progress.label()} (stage {s.id})", total=s.tasks
                )
            self.bars.update(self.tasks[s.id], completed=s.done, total=s.tasks)

    def _said(self, stages: list[Stage], now: float) -> str:
        """A heartbeat's words: the work, Spark's tasks done of all and the time they still need."""
        what = self.progress.label() or "working"
        if not stages:
            return f"{what}: still at work"
        done, tasks = sum(s.done for s in stages), sum(s.tasks for s in stages)
        left = [
            (s.tasks - s.done) * (now - self.first_seen[s.id]) / s.done
            for s in stages
            if s.done and s.tasks > s.done
        ]
        eta = f", about {max(left):.0f}s left" if left else ""
        plural = "s" if len(stages) > 1 else ""
        return f"{what}: {done} of {tasks} Spark tasks done in {len(stages)} stage{plural}{eta}"

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        if self.bars is not None:
            self.bars.stop()


def _live_bars():
    # rich only where a terminal shows it: a log or a pipe never pays its import
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress as Bars,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Bars(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tasks"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
