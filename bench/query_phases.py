"""Where a search's time goes, per query kind: the steps of ``SearchService.search`` timed apart.

    python bench/query_phases.py DIR [--kinds common,rare] [--profile KIND] [--runs 3]

DIR is a workdir of ``bench/search.py`` (its ``archive.sqlite3``, ``index`` and the
``queries.json`` its run sampled). One warm ``SearchService`` runs every query as the
benchmark's worker does (result cache off, each query once per run, the same warm-up, the
collector tuned as in a web worker), and each step's CPU time (``time.process_time``: what
the process itself spent, less swayed by other work on the machine than wall time) is added
up per query: parsing, matching every
document, filters, facets, settling the typed forms of the page (``_settled_page``), ordering the
top, and the page of hits (stored fields, the bodies read from SQLite, body snippets and
marked titles), and suggestions. Prints p50 / p95 / mean ms per step and kind, the median of
RUNS runs; ``--profile KIND`` adds a cProfile of that kind (which overstates steps made of
many small Python calls).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

STEPS = ("total", "parse", "match", "filter", "facets", "settle", "top", "hits",
         "hits.sqlite", "hits.snippets", "hits.titles", "suggest")


def main() -> None:
    options = _arguments()
    import indexer.search as search
    import indexer.snippets as snippets
    import indexer.texts as texts
    from archive.web.worker import tune_collector

    spent: dict[str, float] = defaultdict(float)

    def timed(owner: Any, name: str, step: str) -> None:
        inner: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[step] += time.process_time() - started

        setattr(owner, name, wrapper)

    timed(search, "parse_query", "parse")
    timed(search.SearchService, "_match", "match")
    timed(search, "_filtered", "filter")
    timed(search.SearchService, "_facets", "facets")
    timed(search, "_settled_page", "settle")
    timed(search, "_top", "top")
    timed(search.SearchService, "_hits", "hits")
    timed(search, "_suggestion", "suggest")
    timed(texts.ArchiveTexts, "__call__", "hits.sqlite")
    timed(snippets.Highlighter, "body_snippets", "hits.snippets")
    timed(snippets.Highlighter, "titles_html", "hits.titles")

    data = Path(options.dir)
    queries = json.loads((data / "queries.json").read_text(encoding="utf-8"))
    kinds = options.kinds.split(",") if options.kinds else None
    service = search.SearchService.over_archive(data / "index", data / "archive.sqlite3",
                                                check_seconds=3600, cache_size=0)
    tune_collector()  # as bench/search.py's worker and a web worker

    def run(query: dict[str, Any]) -> None:
        service.search(
            query["text"], author=query.get("author"),
            since=date.fromisoformat(query["since"]) if query.get("since") else None,
            until=date.fromisoformat(query["until"]) if query.get("until") else None,
            sort=query.get("sort", "relevance"), page_size=10)

    service.prepare()  # as a web worker's warm-up (archive.web.worker.warm_up)
    for query in queries[:: max(1, len(queries) // 40)]:  # the worker's warm-up
        run(query)
    profile = cProfile.Profile() if options.profile else None
    runs: list[dict[str, dict[str, list[float]]]] = []
    try:
        for number in range(options.runs):
            steps: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
            for query in queries:
                if kinds and query["kind"] not in kinds:
                    continue
                spent.clear()
                profiled = profile is not None and number == 0 \
                    and query["kind"] == options.profile
                if profiled:
                    assert profile is not None
                    profile.enable()
                started = time.process_time()
                run(query)
                spent["total"] = time.process_time() - started
                if profiled:
                    assert profile is not None
                    profile.disable()
                for step in STEPS:
                    steps[query["kind"]][step].append(spent.get(step, 0.0) * 1000)
            runs.append(steps)
    finally:
        service.close()
    _print(runs)
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _print(runs: list[dict[str, dict[str, list[float]]]]) -> None:
    print("CPU ms per query, median of", len(runs), "runs")
    print(f"{'kind':22}" + "".join(f"{step[:13]:>14}" for step in STEPS))
    for kind in runs[0]:
        for label, figure in (("p50", lambda v: _percentile(v, 50)),
                              ("p95", lambda v: _percentile(v, 95)),
                              ("mean", statistics.fmean)):
            cells = [statistics.median(figure(run[kind][step]) for run in runs)
                     for step in STEPS]
            print(f"{kind + ' ' + label:22}" + "".join(f"{cell:14.2f}" for cell in cells))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", help="a workdir of bench/search.py (archive, index, queries)")
    parser.add_argument("--kinds", help="comma-separated kinds (default: all)")
    parser.add_argument("--profile", help="also print a cProfile of this kind")
    parser.add_argument("--runs", type=int, default=3, help="runs of the query set")
    return parser.parse_args()


if __name__ == "__main__":
    main()
