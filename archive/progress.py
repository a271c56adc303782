"""A one-line progress bar on stderr for long commands, shown only on a terminal."""

from __future__ import annotations

import sys


class ProgressLine:
    """Call with (done, known) as work advances; ``close()`` ends the line."""

    def __init__(self, label: str, width: int = 30) -> None:
        self.label = label
        self.width = width
        self.shown = False

    def __call__(self, done: int, known: int) -> None:
        filled = self.width * min(done, known) // known if known else 0
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{known}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        """End the progress line, if one was drawn."""
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def terminal_progress(label: str) -> ProgressLine | None:
    """Return a progress line when stderr is a terminal, else None (logs stay clean)."""
    return ProgressLine(label) if sys.stderr.isatty() else None
