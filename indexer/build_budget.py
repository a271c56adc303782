"""How many megabytes of postings a full rebuild's writer buffers before it starts a new segment.

A full rebuild's writers (``indexer.rebuild``) each start a new segment when their buffered
postings pass a limit. Every segment costs every query a dictionary lookup and a read floor per
term, and the worker a reader (docs/operations.md, "What changes at 10 million articles"): at a
million articles a fixed 1 GB limit made 37 segments. So unless the operator sets the limit
(``ARCHIVE_INDEX_BUILD_MB``), it follows the memory the machine has free when the build starts:
half of it shared by the writers, each peaking at about ``PEAK_PER_BUFFERED`` times its buffer,
within ``[SMALLEST_MB, LARGEST_MB]``.

Without ``/proc/meminfo`` (not Linux), the limit is ``FALLBACK_MB``, the value used before.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FALLBACK_MB", "available_bytes", "writer_limit_mb"]

# A writer's resident memory peaked at 1.6-1.9 times its buffered postings (1.6 GB at 100,000
# articles, 1.9 GB at a million, for 1,024 MB): 2 leaves a margin.
PEAK_PER_BUFFERED = 2.0
# The share of the free memory the writers may take together; the rest stays for the file
# cache (the archive being read) and the machine's other work.
MEMORY_SHARE = 0.5
SMALLEST_MB = 256
LARGEST_MB = 8192
FALLBACK_MB = 1024

_MEMINFO = Path("/proc/meminfo")


def available_bytes(meminfo: Path = _MEMINFO) -> int | None:
    """Return the memory the kernel says is available (MemAvailable), None if it does not say."""
    try:
        text = meminfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == "MemAvailable":
            parts = rest.split()
            if parts and parts[0].isdigit():
                unit = parts[1].lower() if len(parts) > 1 else "kb"
                return int(parts[0]) * (1024 if unit == "kb" else 1)
            return None
    return None


def writer_limit_mb(writers: int, available: int | None) -> int:
    """Return each of WRITERS writers' buffer limit in MB, given AVAILABLE bytes of free memory.

    None (unknown) gives ``FALLBACK_MB``; otherwise ``MEMORY_SHARE`` of AVAILABLE split between
    the writers, divided by their peak ratio, bounded by ``SMALLEST_MB`` and ``LARGEST_MB``.
    """
    if available is None:
        return FALLBACK_MB
    share = available * MEMORY_SHARE / max(1, writers) / PEAK_PER_BUFFERED
    return int(min(LARGEST_MB, max(SMALLEST_MB, share // 2**20)))
