"""Copies benchmark: build the MinHash/LSH copies index, time lookups, check its estimates.

    python bench/copies.py --articles 10000 [--workdir DIR] [--lookups 1000] [--json]
                           [--from-archive PATH/archive.sqlite3]

An archive of replica articles (``archive.replica``) is written (or copied), plus near copies
of 2% of them (another URL, another title, about one word in twenty replaced, a sentence added, the
paragraphs sometimes reordered). Then:
1. the full build of ``copies.sqlite3`` (``indexer.copies.update_copies(full=True)``);
2. the lookup an article page makes (``CopyFinder.copies_of``), for LOOKUPS random articles;
3. the estimate against exact shingle overlap: for every planted copy and as many random
   pairs, the Jaccard of the exact shingle sets against the MinHash estimate, and how many
   planted copies the lookup finds (recall) and how many unrelated articles it reports.
Goals at 100,000 articles: build <= 120 s on 2 cores, lookup p95 <= 5 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COPY_SHARE = 0.02
GOAL_BUILD_SECONDS = 120.0
GOAL_LOOKUP_MS = 5.0


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000, help="corpus size")
    parser.add_argument("--lookups", type=int, default=1000, help="article pages to time")
    parser.add_argument("--workdir", help="keep the archive and copies index here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--from-archive", help="start from a copy of this archive.sqlite3 "
                        "(e.g. one bench/search.py wrote) instead of writing replica articles")
    options = parser.parse_args()
    workdir = Path(options.workdir) if options.workdir else Path(
        tempfile.mkdtemp(prefix="bench-copies-"))
    try:
        source = Path(options.from_archive) if options.from_archive else None
        report = run(options.articles, options.lookups, workdir, source)
    finally:
        if not options.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _copy_of(body: str, rng: random.Random) -> str:
    """A near copy: about one word in twenty replaced, a sentence added, maybe reordered."""
    paragraphs = body.split("\n\n")
    if len(paragraphs) > 2 and rng.random() < 0.3:
        paragraphs[0], paragraphs[1] = paragraphs[1], paragraphs[0]
    words = "\n\n".join(paragraphs).split(" ")
    for i in range(len(words)):
        if rng.random() < 0.05:
            words[i] = rng.choice(["aussi", "encore", "vraiment", "hier", "ici", "donc"])
    return " ".join(words) + "\n\nTexte repris et partagé par un lecteur."


def _fill(database: Path, articles: int) -> None:
    """Write ARTICLES replica articles into the archive at DATABASE."""
    from archive.models import Article
    from archive.replica.corpus import Corpus
    from archive.store import Archive

    corpus = Corpus(size=articles)
    seen = datetime.now(UTC)
    with Archive.open(database) as archive:
        for chunk in range(0, articles, 1000):
            with archive.transaction():
                for i in range(chunk, min(articles, chunk + 1000)):
                    r = corpus.article(i)
                    archive.articles.save_article(
                        Article(url=r.canonical_url, title=r.title, body=r.body,
                                author=r.author, published=r.published, edition=r.edition,
                                canonical_url=r.canonical_url),
                        capture_id=None, seen_at=seen)


def _plant(database: Path, rng: random.Random) -> list[tuple[int, int]]:
    """Save a near copy of COPY_SHARE of the archive's articles; return (original, copy) ids."""
    from archive.models import Article
    from archive.store import Archive

    seen = datetime.now(UTC)
    pairs: list[tuple[int, int]] = []
    with Archive.open(database) as archive:
        total = archive.reads.stats().articles
        chosen = sorted(rng.sample(range(1, total + 1), max(1, int(total * COPY_SHARE))))
        originals = archive.reads.articles(chosen)
        with archive.transaction():
            for n, article_id in enumerate(chosen):
                original = originals.get(article_id)
                if original is None or not original.body:
                    continue
                url = original.url.rstrip("/") + f"-repris-{n}/"
                copy_id = archive.articles.save_article(
                    Article(url=url, title=f"Repris : {original.title}",
                            body=_copy_of(original.body, rng), author="Un lecteur",
                            published=original.published, edition=original.edition,
                            canonical_url=url),
                    capture_id=None, seen_at=seen).article_id
                pairs.append((article_id, copy_id))
    return pairs


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the signing workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _exact_jaccard(a: str, b: str) -> float:
    from indexer.copies import shingles

    sa, sb = set(shingles(a).tolist()), set(shingles(b).tolist())
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def run(articles: int, lookups: int, workdir: Path,
        source: Path | None = None) -> dict[str, Any]:
    """Return the measured figures for ARTICLES articles."""
    import os

    from archive.store import Archive
    from indexer.copies import THRESHOLD, CopyFinder, similarity, update_copies

    rng = random.Random(12)
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "archive.sqlite3"
    index_dir = workdir / "index"
    pairs_file = workdir / "copies-pairs.json"
    if database.exists() and pairs_file.exists():
        _log("reusing the archive of the work directory")
        pairs = [tuple(p) for p in json.loads(pairs_file.read_text(encoding="utf-8"))]
    else:
        database.unlink(missing_ok=True)
        if source is not None:
            _log(f"copying {source}")
            shutil.copyfile(source, database)
        else:
            _log(f"writing {articles:,} replica articles")
            _fill(database, articles)
        _log("planting near copies")
        pairs = _plant(database, rng)
        pairs_file.write_text(json.dumps(pairs), encoding="utf-8")
    shutil.rmtree(index_dir, ignore_errors=True)
    _log("building the copies index")
    cpu_before = _cpu_seconds()
    build = update_copies(database, index_dir, full=True)
    build_cpu = _cpu_seconds() - cpu_before
    size_mb = (index_dir / "copies.sqlite3").stat().st_size / 2**20

    with Archive.open(database, readonly=True) as archive:
        total = archive.reads.stats().articles
        finder = CopyFinder(index_dir)
        try:
            _log(f"timing {lookups} lookups")
            all_ids = [a for a, _ in pairs] + list(range(1, total + 1))
            sample = rng.sample(all_ids, min(lookups, len(all_ids)))
            for article_id in sample[:50]:
                finder.copies_of(article_id)
            timings = []
            for article_id in sample:
                started = time.perf_counter()
                finder.copies_of(article_id)
                timings.append((time.perf_counter() - started) * 1000)
            _log("checking estimates against exact shingle overlap")
            found = 0
            errors: list[float] = []
            exact_planted: list[float] = []
            for original, copy in pairs:
                group = {c.article_id for c in finder.copies_of(original)}
                found += copy in group
            checked = pairs[:300]
            texts = archive.reads.articles([i for pair in checked for i in pair])
            random_pairs = [(rng.randrange(1, total + 1), rng.randrange(1, total + 1))
                            for _ in range(len(checked))]
            texts.update(archive.reads.articles([i for pair in random_pairs for i in pair]))
            signatures = {i: finder.signature_of(i) for i in texts}
            false_alarms = 0
            for a, b in checked + random_pairs:
                if a == b or signatures.get(a) is None or signatures.get(b) is None:
                    continue
                exact = _exact_jaccard(f"{texts[a].title}\n{texts[a].body}",
                                       f"{texts[b].title}\n{texts[b].body}")
                estimate = similarity(signatures[a], signatures[b])
                errors.append(abs(exact - estimate))
                if (a, b) in checked:
                    exact_planted.append(exact)
                elif estimate >= THRESHOLD > exact:
                    false_alarms += 1
            unrelated = 0
            planted = {frozenset(p) for p in pairs}
            for article_id in sample[:300]:
                group = [c.article_id for c in finder.copies_of(article_id)]
                unrelated += sum(1 for other in group if other != article_id
                                 and frozenset((article_id, other)) not in planted)
        finally:
            finder.close()
    ordered = sorted(timings)
    return {
        "articles": total, "planted_copies": len(pairs), "cores": os.cpu_count(),
        "load": os.getloadavg()[0],
        "build_seconds": round(build.seconds, 1), "signed": build.signed,
        "build_cpu_seconds": round(build_cpu, 1),
        "size_mb": round(size_mb, 1),
        "lookup_ms": {"p50": round(statistics.median(ordered), 2),
                      "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
                      "max": round(ordered[-1], 2)},
        "recall": round(found / len(pairs), 3) if pairs else None,
        "planted_exact_jaccard_median": round(statistics.median(exact_planted), 3)
        if exact_planted else None,
        "estimate_abs_error": {"mean": round(statistics.fmean(errors), 3),
                               "p95": round(sorted(errors)[int(0.95 * (len(errors) - 1))], 3)}
        if errors else None,
        "random_pairs_over_threshold": false_alarms,
        "unrelated_reported": unrelated,
    }


def _print_table(report: dict[str, Any]) -> None:
    build_ok = report["build_seconds"] <= GOAL_BUILD_SECONDS
    at_scale = report["articles"] >= 100_000
    lookup_ok = report["lookup_ms"]["p95"] <= GOAL_LOOKUP_MS
    rows = [
        ("articles (planted copies)", f"{report['articles']:,} ({report['planted_copies']:,})"),
        ("cores / load average", f"{report['cores']} / {report['load']:.1f}"),
        ("full build", f"{report['build_seconds']} s (goal at 100,000 articles: <= "
                       f"{GOAL_BUILD_SECONDS:.0f} s"
                       + (f": {'ok' if build_ok else 'MISSED'})" if at_scale else ")")),
        ("full build CPU, all processes", f"{report['build_cpu_seconds']} s"),
        ("copies.sqlite3", f"{report['size_mb']} MB"),
        ("lookup p50 / p95 / max", "{p50} / {p95} / {max} ms".format(**report["lookup_ms"])
         + f" (goal p95 <= {GOAL_LOOKUP_MS} ms: {'ok' if lookup_ok else 'MISSED'})"),
        ("planted copies found (recall)", str(report["recall"])),
        ("exact Jaccard of planted copies (median)", str(report["planted_exact_jaccard_median"])),
        ("|estimate - exact| mean / p95", "{mean} / {p95}".format(**report["estimate_abs_error"])
         if report["estimate_abs_error"] else "-"),
        ("random pairs estimated over threshold", str(report["random_pairs_over_threshold"])),
        ("unrelated articles reported (300 lookups)", str(report["unrelated_reported"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
