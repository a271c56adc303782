"""The per-host turn-taking that keeps the crawler polite.

One request at a time per host, the next one starting no sooner than ``delay`` seconds after
the previous one ENDED (so the server never sees two requests closer than the delay), and a
host can be told to wait longer (``Retry-After``, backoff). The global concurrency cap is the
size of the crawler's worker pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """The time the scheduler reads and how it waits (injected by tests)."""

    def now(self) -> float:
        """Return the current time in seconds (any origin, never going back)."""

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        """Wait on CONDITION (held) until notified or SECONDS have passed."""


class MonotonicClock:
    """The real clock: ``time.monotonic`` and the condition's own timed wait."""

    def now(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        """Wait on CONDITION until notified or SECONDS have passed."""
        condition.wait(timeout=seconds)


@dataclass
class _HostTurn:
    delay: float
    busy: bool = False
    next_start: float = 0.0
    last_end: float | None = None


class HostScheduler:
    """Hands out turns to request a host, honouring its delay and any pause imposed on it."""

    def __init__(
        self,
        default_delay: float,
        *,
        clock: Clock | None = None,
        max_wait: float = 600.0,
    ) -> None:
        self.default_delay = default_delay
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._max_wait = max_wait
        self._hosts: dict[str, _HostTurn] = {}
        self._changed = threading.Condition()

    def set_delay(self, host: str, delay: float | None) -> float:
        """Use DELAY for HOST if larger than the default (robots.txt Crawl-delay); return it."""
        effective = max(self.default_delay, delay or 0.0)
        with self._changed:
            turn = self._turn(host)
            turn.delay = effective
            if turn.last_end is not None:
                # The request that taught us the delay (robots.txt) is already spaced by it.
                turn.next_start = max(turn.next_start, turn.last_end + effective)
        return effective

    def delay_of(self, host: str) -> float:
        """Return the delay applied between two requests to HOST."""
        with self._changed:
            return self._turn(host).delay

    def pause(self, host: str, seconds: float) -> None:
        """Let no request start on HOST for SECONDS from now (Retry-After, backoff)."""
        with self._changed:
            turn = self._turn(host)
            turn.next_start = max(turn.next_start, self._clock.now() + seconds)
            self._changed.notify_all()

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        """Wait for HOST's turn, hold it for one request, then start its delay."""
        self._acquire(host)
        try:
            yield
        finally:
            self._release(host)

    def _turn(self, host: str) -> _HostTurn:
        turn = self._hosts.get(host)
        if turn is None:
            turn = self._hosts[host] = _HostTurn(delay=self.default_delay)
        return turn

    def _acquire(self, host: str) -> None:
        with self._changed:
            turn = self._turn(host)
            while True:
                wait = turn.next_start - self._clock.now()
                if not turn.busy and wait <= 0:
                    turn.busy = True
                    return
                # Bounded wait: a notify can be missed only if the clock jumps; recheck anyway.
                self._clock.wait(self._changed, min(max(wait, 0.01), self._max_wait))

    def _release(self, host: str) -> None:
        with self._changed:
            turn = self._turn(host)
            turn.busy = False
            turn.last_end = self._clock.now()
            turn.next_start = max(turn.next_start, turn.last_end + turn.delay)
            self._changed.notify_all()
