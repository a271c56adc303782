"""Benchmark « mots associés »: what the associated words add to a results page.

    python bench/associated.py --articles 100000 [--reuse DIR] [--target 10000] [--json]

Builds (or reuses, with ``--reuse DIR``: a data directory holding ``archive.sqlite3`` and
``index/``) replica articles indexed with a full build, opens one ``SearchService`` with its
result cache off, and
1. reads the per-generation word table once (``indexer.associated.load_word_table``): seconds
   and memory, paid by each worker on its first results page of a generation;
2. picks words whose searches match about TARGET articles, and times each search as the
   results page runs it (10 hits with snippets, facets), without and with the associated
   words, alternating, REPEAT times each.
Goal: at 100,000 articles the associated words add at most 50 ms (median over the queries)
to a search matching 10,000 articles.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

GOAL_MS = 50.0
MAX_CANDIDATES = 4000


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    options = _arguments()
    workdir: Path | None = None
    if options.reuse:
        data_dir = Path(options.reuse)
    else:
        from web import build_data_dir

        workdir = Path(tempfile.mkdtemp(prefix="bench-associated-"))
        data_dir = workdir
        build_data_dir(data_dir, options.articles)
    try:
        report = measure(data_dir, options.target, options.queries, options.repeat)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_table(report)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000, help="corpus size to build")
    parser.add_argument("--reuse", help="a data directory already built (archive and index)")
    parser.add_argument("--target", type=int, default=10_000,
                        help="matches wanted per query (±25 %%)")
    parser.add_argument("--queries", type=int, default=8, help="queries timed")
    parser.add_argument("--repeat", type=int, default=5, help="timings per query and mode")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser.parse_args()


def measure(data_dir: Path, target: int, queries: int, repeat: int) -> dict[str, Any]:
    """Return the word table's cost and each query's time without and with associated words."""
    import psutil

    from indexer.associated import load_word_table
    from indexer.search import SearchService

    service = SearchService.over_archive(data_dir / "index", data_dir / "archive.sqlite3",
                                         cache_size=0)
    with service:
        searcher, generation = service._generations.acquire()
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        table = load_word_table(searcher, generation.columns.doc_count_all,
                                generation.doc_count)
        load_seconds = time.perf_counter() - started
        rss_after = psutil.Process().memory_info().rss
        generation.word_table = table
        chosen = _queries(service, table.words, generation.doc_count, target, queries)
        rows = []
        for word, total in chosen:
            plain, associated = [], []
            for _ in range(repeat):
                plain.append(_timed(service, word, False))
                associated.append(_timed(service, word, True))
            found = service.search(word, associated=True).associated
            rows.append({
                "query": word, "matches": total,
                "without_ms": round(statistics.median(plain), 1),
                "with_ms": round(statistics.median(associated), 1),
                "added_ms": round(statistics.median(associated) - statistics.median(plain), 1),
                "words": [w.word for w in found[:6]],
            })
    added = [row["added_ms"] for row in rows]
    return {
        "articles": generation.doc_count,
        "table_words": len(table.words),
        "table_entries": int(len(table.codes)),
        "table_mb": round(table.nbytes / 2**20, 1),
        "table_load_s": round(load_seconds, 2),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "target": target,
        "queries": rows,
        "added_median_ms": round(statistics.median(added), 1) if added else None,
        "added_max_ms": max(added) if added else None,
        "goal_ms": GOAL_MS,
        "met": bool(added) and statistics.median(added) <= GOAL_MS,
    }


def _timed(service: Any, word: str, associated: bool) -> float:
    started = time.perf_counter()
    service.search(word, associated=associated)
    return (time.perf_counter() - started) * 1000.0


def _queries(service: Any, words: list[str], doc_count: int, target: int,
             wanted: int) -> list[tuple[str, int]]:
    """Return up to WANTED words whose searches match TARGET articles (±25 %)."""
    low, high = 0.75 * target, 1.25 * target
    chosen: list[tuple[str, int]] = []
    tried = 0
    # The word table holds each word's frequency in titles and leads: a word found there in
    # a share of documents near the target's is likely to match about as many in full text.
    share = target / max(doc_count, 1)
    _, generation = service._generations.acquire()
    table = generation.word_table
    order = sorted(range(len(words)),
                   key=lambda i: abs(table.frequencies[i] / max(doc_count, 1) - share / 2))
    for i in order:
        if len(chosen) >= wanted or tried >= MAX_CANDIDATES:
            break
        tried += 1
        total = service.search(words[i], page_size=1).total
        if low <= total <= high:
            chosen.append((words[i], total))
    return chosen


def print_table(report: dict[str, Any]) -> None:
    """Print the report as a table."""
    print(f"articles {report['articles']:,}; word table: {report['table_words']:,} words, "
          f"{report['table_entries']:,} entries, {report['table_mb']} MB, read in "
          f"{report['table_load_s']} s once per generation (RSS +{report['rss_growth_mb']} MB)")
    print(f"{'query':<18} {'matches':>8} {'without ms':>11} {'with ms':>9} {'added ms':>9}  "
          "top associated words")
    for row in report["queries"]:
        print(f"{row['query']:<18} {row['matches']:>8,} {row['without_ms']:>11} "
              f"{row['with_ms']:>9} {row['added_ms']:>9}  {', '.join(row['words'])}")
    verdict = "met" if report["met"] else "NOT met"
    print(f"added: median {report['added_median_ms']} ms, max {report['added_max_ms']} ms "
          f"(goal ≤ {report['goal_ms']} ms at ~{report['target']:,} matches): {verdict}")


if __name__ == "__main__":
    main()
