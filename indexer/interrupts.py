"""Fork worker processes without losing a Ctrl-C that arrives meanwhile.

Python turns SIGINT into ``KeyboardInterrupt`` in whatever Python code runs next. Right after
``os.fork()`` that is the fork hooks (``os.register_at_fork``: logging's, threading's, the
index lock's), and an exception raised in a fork hook is printed and dropped: a Ctrl-C that
reached the parent, or a freshly forked writer, during those moments was lost, and the
interrupted build went on to the end (exit code 0). On a loaded machine the moments are long
enough for the whole process group's Ctrl-C to land in them.

So SIGINT is blocked while forking (``interrupts_held``): one that comes meanwhile waits in
the kernel and is raised as the block ends, in the parent's own code. A forked process starts
with SIGINT blocked too and lets it through (``allow_interrupts``) once it is inside the code
that handles ``KeyboardInterrupt``.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["allow_interrupts", "interrupts_held"]


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Block SIGINT in this thread for the block; a Ctrl-C meanwhile is raised as it ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        # Unblocking delivers a pending SIGINT at once: KeyboardInterrupt is raised here.
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def allow_interrupts() -> None:
    """Let SIGINT through in a process forked inside ``interrupts_held``."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
