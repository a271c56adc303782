"""Compiled kernels: the few loops over index bytes that numpy can only do in many passes.

numpy answers a loop over posting bytes, positions or word codes with a pass over the whole
array per step (gather, compare, cumulative sum, repeat, compress: about 2 ns an element each,
``docs/whoosh.md``), and a decoding of varints or a merge of two sorted lists takes ten or
fifteen of them. ``kernel`` compiles such a loop once to machine code with numba, so it reads
each byte once. Kernels are plain Python functions over numpy arrays and numbers, written in
the subset numba compiles (``nopython`` mode); they release the GIL while they run, so the
threads of a web worker run them side by side.

Rules every kernel keeps (``tests/test_compiled.py`` checks the wrapper's side):

- **Hostile bytes never reach outside an array.** Index files are ours, but a disk, a copy or
  a stranger's edit may damage them: a kernel checks every index it derives from the data
  against the array's length and says so through its result (a count below zero, a flag),
  and its Python caller raises the module's exception (``CorruptPostings``, ``ValueError``).
  Compiled code does not check bounds by itself: a read past an array is a crash, not an
  exception.
- **The same answers as the numpy code it replaces**, kept as its reference in the tests.
- **Compiled on first use and cached on disk.** numba is imported and a kernel compiled the
  first time it is called (a command that never searches does not pay numba's import, 0.1-0.2
  s); the machine code is cached beside the module (``__pycache__``, or numba's user cache
  where that is read-only) and loaded in milliseconds by the next process. ``warm_up`` calls
  every registered kernel on a tiny input, so that a web worker compiles or loads them before
  its first request (``SearchService.prepare``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")

_compile_lock = threading.Lock()
_warm_ups: list[Callable[[], object]] = []


class Kernel(Generic[P, R]):
    """A function compiled by numba the first time it is called (``kernel``)."""

    def __init__(self, function: Callable[P, R]) -> None:
        self.python = function
        self._compiled: Callable[P, R] | None = None
        functools.update_wrapper(self, function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        compiled = self._compiled
        if compiled is None:
            compiled = self.compile()
        return compiled(*args, **kwargs)

    def compile(self) -> Callable[P, R]:
        """Compile the kernel (or load it from numba's cache) unless done, and return it."""
        with _compile_lock:
            if self._compiled is None:
                import numba  # imported here: a command that never searches does not pay it

                try:
                    compiled = cast("Callable[P, R]", numba.njit(
                        self.python, cache=True, nogil=True, boundscheck=False,
                        error_model="numpy"))
                except RuntimeError:
                    # No cache directory to write (the source's and the user's both read
                    # only): compiled in every process instead.
                    compiled = cast("Callable[P, R]", numba.njit(
                        self.python, cache=False, nogil=True, boundscheck=False,
                        error_model="numpy"))
                self._compiled = compiled
            return self._compiled

    @property
    def compiled(self) -> bool:
        """Whether the kernel has been compiled (or loaded) in this process."""
        return self._compiled is not None


def kernel(function: Callable[P, R]) -> Kernel[P, R]:
    """Decorate FUNCTION (numba's ``nopython`` subset) to run compiled, from its first call.

    The compiled function releases the GIL and does not check bounds: the kernel itself must
    (this module's docstring).
    """
    return Kernel(function)


def warms_up(example: Callable[[], object]) -> Callable[[], object]:
    """Register EXAMPLE, a function calling kernels on tiny inputs, for ``warm_up``."""
    _warm_ups.append(example)
    return example


def warm_up() -> int:
    """Call every registered example, so that their kernels are compiled or loaded now; return
    how many examples ran."""
    for example in list(_warm_ups):
        example()
    return len(_warm_ups)


def registered() -> list[Callable[[], object]]:
    """The examples ``warm_up`` runs (for the tests)."""
    return list(_warm_ups)
