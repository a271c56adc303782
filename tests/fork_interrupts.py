"""A Ctrl-C that lands in the parent while it forks: the moment Python would drop it.

``ctrl_c_at_next_fork()`` arms a fork hook of this test process: the next fork sends the
parent a SIGINT from its ``after_in_parent`` hook, where a ``KeyboardInterrupt`` raised is
printed and dropped unless the code forking holds SIGINT back (``indexer/interrupts.py``).
A real Ctrl-C lands there when the machine is loaded; here it lands there every time.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

_armed: list[bool] = []


def _interrupt_after_fork() -> None:
    if _armed:
        _armed.clear()
        os.kill(os.getpid(), signal.SIGINT)


os.register_at_fork(after_in_parent=_interrupt_after_fork)


@contextmanager
def ctrl_c_at_next_fork() -> Iterator[None]:
    """Send this process a SIGINT from its next fork's hook, if it forks inside the block."""
    _armed.append(True)
    try:
        yield
    finally:
        _armed.clear()
