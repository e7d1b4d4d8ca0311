"""What a command tells its user once it is done, in one of two forms: lines for a person, or, with
``--json``, one JSON document on standard output for a program (rows, checksums, verdicts, paths),
and nothing else there. Progress and notes go to standard error either way."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """``code``: the exit code; ``lines``: the summary a person reads; ``document``: the same facts
    for a program, each value JSON can hold."""

    code: int
    lines: list[str] = field(default_factory=list)
    document: dict = field(default_factory=dict)

    def show(self, as_json: bool = False) -> int:
        if as_json:
            sys.stdout.write(
                json.dumps({**self.document, "exit_code": self.code}, indent=2, default=str) + "\n"
            )
        else:
            for line in self.lines:
                print(line)
        sys.stdout.flush()
        return self.code
