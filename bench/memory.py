"""Where a search worker's memory goes, over an index and archive already built (read only).

    python bench/memory.py DATA [--queries FILE] [--kinds prefix,common] [--base DIR]

DATA holds ``index/`` and ``archive.sqlite3`` (as ``bench/search.py --workdir`` leaves them);
FILE (default DATA/queries.json) is the query set ``bench/search.py`` writes there. One warm
``SearchService`` (result cache off) runs every fifth query to warm up, then each query once,
as ``bench/search.py``'s worker does; printed: p50/p95 ms, the mean CPU ms (user and
system: steadier than wall time on a busy machine) and the median total per kind, the
resident memory (RSS and USS) after the first query and after all, split into file-backed
and anonymous pages (``/proc/self/smaps_rollup``), the heap glibc keeps free (``mallinfo2``),
and what the index generation holds (columns, field lengths, the postings cache, the term
entries kept per segment). Nothing is written into DATA.

``--base DIR`` imports ``indexer`` from another checkout (the same query set before a change).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# bench/search.py's query kinds, percentile and page-like search: both report alike
from search import KINDS, _percentile
from search import _whoosh_search as _search


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--kinds", default="")
    parser.add_argument("--base", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.base or Path(__file__).resolve().parent.parent))
    import psutil

    from indexer.search import SearchService

    queries: list[dict[str, Any]] = json.loads(
        (args.queries or args.data / "queries.json").read_text(encoding="utf-8"))
    if args.kinds:
        queries = [q for q in queries if q["kind"] in args.kinds.split(",")]
    process = psutil.Process()
    service = SearchService.over_archive(args.data / "index", args.data / "archive.sqlite3",
                                         check_seconds=3600, cache_size=0)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    totals: dict[str, list[int]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        _search(service, queries[0])
        first = process.memory_full_info()
        for query in queries[:: max(1, len(queries) // 40)]:
            _search(service, query)
        for query in queries:
            started, used = time.perf_counter(), time.process_time()
            result = _search(service, query)
            timings[query["kind"]].append((time.perf_counter() - started) * 1000)
            cpu[query["kind"]].append((time.process_time() - used) * 1000)
            totals[query["kind"]].append(result.total)
        last = process.memory_full_info()
        print(f"load average {os.getloadavg()[0]:.2f}; {len(queries)} queries")
        print(f"{'kind':16}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms':>9}{'median total':>14}")
        for kind in KINDS:
            if timings[kind]:
                print(f"{kind:16}{_percentile(timings[kind], 50):9.1f}"
                      f"{_percentile(timings[kind], 95):9.1f}"
                      f"{statistics.mean(cpu[kind]):9.1f}"
                      f"{statistics.median(totals[kind]):14.0f}")
        for label, memory in (("after the first query", first), ("after the queries", last)):
            print(f"RSS {memory.rss / 2**20:.1f} MB, USS {memory.uss / 2**20:.1f} MB {label}")
        _breakdown(service)
    finally:
        service.close()


def _breakdown(service: Any) -> None:
    rollup = Path("/proc/self/smaps_rollup")
    if rollup.exists():
        fields = {line.split(":")[0]: int(line.split()[1]) for line in
                  rollup.read_text().splitlines()[1:] if line.split()[-1] == "kB"}
        print(f"resident: anonymous {fields['Anonymous'] / 1024:.1f} MB, file-backed "
              f"{(fields['Rss'] - fields['Anonymous']) / 1024:.1f} MB")
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        print(f"glibc: heap {info.arena / 2**20:.1f} MB of which free {info.fordblks / 2**20:.1f}"
              f" MB; mmap'd blocks {info.hblkhd / 2**20:.1f} MB")
    except (OSError, AttributeError):
        pass
    reader = service._generations._local.reader
    generation = reader.generation
    columns = generation.columns
    print(f"columns {columns.nbytes / 2**20:.1f} MB "
          f"(categories {columns.in_category.nbytes / 2**20:.1f} MB)")
    lengths = sum(sum(a.nbytes for a in value) if isinstance(value, tuple) else value.nbytes
                  for value in generation.field_lengths.values())
    print(f"field lengths {lengths / 2**20:.1f} MB ({len(generation.field_lengths)} fields)")
    print(f"postings cache {generation.postings._size / 2**20:.1f} MB "
          f"({len(generation.postings)} lists, budget {generation.postings.max_bytes / 2**20:.0f}"
          " MB)")
    infos = sum(len(getattr(leaf._terms, "_archive_term_infos", {}))
                for leaf, _ in reader.searcher.reader().leaf_readers())
    print(f"term entries kept by the segment readers: {infos}")


if __name__ == "__main__":
    main()
