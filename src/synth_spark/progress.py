"""Progress lines for long runs, on standard error, each with the time since the start."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

#: two tables are written at once, each reporting from its own thread: one write per whole line,
#: under a lock, so their lines never run into each other
_LINE_LOCK = threading.Lock()


@dataclass
class Progress:
    """One line per step with the time since the start, so long runs show where they are."""

    quiet: bool = False
    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        if not self.quiet:
            line = f"[{time.monotonic() - self.started:7.1f}s] {message}\n"
            with _LINE_LOCK:
                sys.stderr.write(line)
                sys.stderr.flush()
