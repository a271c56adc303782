"""A search worker gives back to the system the memory its large searches freed.

glibc keeps freed memory in its heap; ``indexer.memory`` trims the heap when the process has
grown (``docs/operations.md``, the million-article section, has the figures).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from indexer import memory
from indexer.memory import MemoryReturn, resident_bytes

linux_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or memory._glibc() is None
    or resident_bytes() is None, reason="glibc's malloc_trim and /proc/self/statm needed")


def test_the_heap_is_trimmed_only_after_the_process_grew_past_the_budget() -> None:
    sizes = iter([100, 110, 150, 120, 125, 200, 130])
    trims: list[int] = []
    returned = MemoryReturn(every=2, growth=30, resident=lambda: next(sizes),
                            trim=lambda: trims.append(1))
    # Resident 100 at the start; checked at every second search.
    assert [returned.after_search() for _ in range(8)] == [False, False, False, True,
                                                           False, False, False, True]
    # 110 (grew 10: kept), 150 (grew 50: trimmed, 120 after), 125 (grew 5: kept),
    # 200 (grew 80: trimmed, 130 after).
    assert len(trims) == 2
    assert next(sizes, None) is None


def test_nothing_is_trimmed_where_the_resident_size_is_unknown() -> None:
    trims: list[int] = []
    returned = MemoryReturn(every=1, growth=0, resident=lambda: None,
                            trim=lambda: trims.append(1))
    assert not any(returned.after_search() for _ in range(3))
    assert not trims


# Run in a fresh interpreter: a long-lived process (pytest) has free heap to reuse already.
_FRAGMENTED_HEAP = """
from indexer.memory import MemoryReturn, resident_bytes
before = resident_bytes()
# 32 MB of blocks below glibc's mmap threshold (so from the heap), the last one kept: the
# heap's top stays in use, so glibc gives nothing back by itself when the rest is freed.
blocks = [b"x" * (64 * 1024) for _ in range(512)]
kept = blocks[-1]
del blocks
grown = resident_bytes()
returned = MemoryReturn(every=1, growth=16 * 2**20)
returned._after_trim = before
trimmed = returned.after_search()
print(before, grown, resident_bytes(), trimmed, kept[:1].decode())
"""


@linux_glibc
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    done = subprocess.run([sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True,
                          text=True, timeout=60, check=True)
    before, grown, after, trimmed, kept = done.stdout.split()
    assert int(grown) - int(before) > 16 * 2**20, "the freed blocks stay resident"
    assert trimmed == "True" and kept == "x"
    assert int(grown) - int(after) > 16 * 2**20


# Run in a fresh interpreter: four threads alive at once, each allocating with malloc, then
# glibc's own account of its arenas (``malloc_info``: one ``<heap>`` element an arena).
_THREADS_ARENAS = """
import ctypes, sys, tempfile, threading
from indexer.memory import cap_arenas
capped = cap_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(5)

def allocate():
    libc.malloc(4096)
    together.wait(timeout=30)  # every thread holds its arena until all have allocated
    together.wait(timeout=30)  # ... and until the arenas are counted

threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
together.wait(timeout=30)
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    out = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, out)
    libc.fclose(out)
    arenas = open(report.name).read().count("<heap nr=")
together.wait(timeout=30)
for thread in threads:
    thread.join(timeout=30)
print(capped, arenas)
"""


def arenas_of_four_threads(cap: int) -> tuple[str, int]:
    """Return whether CAP was applied and how many arenas four threads then allocated from."""
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith("MALLOC_") and not name.startswith("GLIBC_TUNABLES")}
    done = subprocess.run([sys.executable, "-c", _THREADS_ARENAS, str(cap)], env=environ,
                          capture_output=True, text=True, timeout=60, check=True)
    capped, arenas = done.stdout.split()
    return capped, int(arenas)


@linux_glibc
def test_threads_share_no_more_arenas_than_the_cap() -> None:
    assert arenas_of_four_threads(1) == ("True", 1)
    assert arenas_of_four_threads(2) == ("True", 2)


@linux_glibc
def test_without_a_cap_each_thread_allocates_from_an_arena_of_its_own() -> None:
    # The main thread's arena and one for each of the four threads: glibc's default allows
    # eight a core, so the cap above is what made them share.
    assert arenas_of_four_threads(0) == ("False", 5)
