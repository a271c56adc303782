"""Search benchmark: build, update and query the index on replica articles, against SQLite FTS5.

    python bench/search.py --articles 10000 [--queries 100] [--json] [--workdir DIR]
        [--compare tantivy]
    python bench/search.py --articles 10000 100000 1000000 --workdir DIR   (how figures grow)

Steps, all in one run on the same corpus (``archive.replica`` articles written into a real
archive, no HTTP):
1. the full index build (``indexer.update.update_index(full=True)``, without the copies
   index, which bench/copies.py measures): docs/s and size on disk;
2. the same articles into SQLite FTS5 (``unicode61 remove_diacritics 2``, bm25 with the title
   weighted 2, ``snippet()``);
3. 100 new articles (after those archived, also with ``--reuse-archive``): seconds from the
   start of the incremental update until a warm ``SearchService`` finds them; ``--updates N``
   repeats it N times (each run 100 more) and prints every run, the runs that merge small
   segments included (``indexer.update._segments_to_fold``);
4. warm query latency per kind, in a separate worker process holding one ``SearchService``
   (result cache off, each query run once, the garbage collector tuned as in a web worker:
   ``archive.web.worker.tune_collector``), every query with facets and 10 snippets; the same
   queries on FTS5 with the same work (total, top authors, counts by month, 10 snippets);
5. the worker's memory (RSS and USS) after its queries;
6. with ``--compare tantivy`` (``pip install -e '.[bench]'`` installs tantivy-py), the same
   corpus in Tantivy with the same French chain and the same queries doing the same work
   (``bench/tantivy_side.py``): its build seconds, index size and latencies in the same
   table, with the ratio ours / Tantivy per kind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

KINDS = ("common", "rare", "two_words", "phrase", "exact_phrase", "common_quote", "proximity",
         "prefix", "author_filter", "date_sorted", "four_words")
_WORD = re.compile(r"[^\W\d_]{4,}")
_LETTERS = re.compile(r"[^\W\d_]+")
# A word as a quotation copied from an article holds it: with its elided article or pronoun
# (« l’Intérieur », « qu’il », « aujourd’hui »), the apostrophe kept.
_WRITTEN = re.compile(r"(?:[^\W\d_]+['’])*[^\W\d_]+")
_FTS_SNIPPET_TOKENS = 24
_PHRASE_KINDS = ("phrase", "exact_phrase", "common_quote")
_QUOTATION_WORDS = 4
# Words in at least this share of the sampled articles make the quotes of common words.
_COMMON_QUOTE_SHARE = 0.2
_PROXIMITY = 5


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    options = _arguments()
    if options.worker:
        _worker(Path(options.worker), Path(options.query_file), options.queries)
        return
    reports = []
    for articles in options.articles:
        workdir = Path(options.workdir) if options.workdir else Path(tempfile.mkdtemp(
            prefix="bench-search-"))
        if options.workdir and len(options.articles) > 1:
            workdir = workdir / str(articles)  # one corpus per size
        try:
            reports.append(_run(articles, options.queries, workdir, options.reuse,
                                options.reuse_archive, compare=options.compare,
                                updates=options.updates, fts5=not options.without_fts5))
        finally:
            if not options.workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        if not options.json:
            _print_table(reports[-1])
    if options.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    elif len(reports) > 1:
        _print_growth(reports)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[10_000],
                        help="corpus size; several sizes run one after the other and end "
                        "with a table of how each figure grows")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--workdir", help="keep the archive, index and FTS5 database here")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the archive, index and FTS5 database of --workdir")
    parser.add_argument("--reuse-archive", action="store_true",
                        help="keep the archive and FTS5 database of --workdir (e.g. copied "
                        "there), rebuild the index only; skips the 100-article update")
    parser.add_argument("--updates", type=int, default=1,
                        help="incremental runs of 100 new articles to time, one after the other")
    parser.add_argument("--without-fts5", action="store_true",
                        help="leave SQLite FTS5 out (at a million articles its build alone "
                        "takes tens of minutes); its columns then read '-'")
    parser.add_argument("--compare", choices=["tantivy"],
                        help="also build and query the corpus with Tantivy (tantivy-py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--query-file", help=argparse.SUPPRESS)
    return parser.parse_args()


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- the corpus
def _article(corpus: Any, i: int) -> Any:
    from archive.models import Article

    r = corpus.article(i)
    return Article(url=r.canonical_url, title=r.title, body=r.body, author=r.author,
                   published=r.published, edition=r.edition, categories=r.categories,
                   canonical_url=r.canonical_url)


def _fill_archive(database: Path, start: int, stop: int, size: int) -> None:
    from archive.replica.corpus import Corpus
    from archive.store import Archive

    corpus = Corpus(size=size)
    seen = datetime.now(UTC)
    with Archive.open(database) as archive:
        for chunk in range(start, stop, 1000):
            with archive.transaction():
                for i in range(chunk, min(stop, chunk + 1000)):
                    archive.articles.save_article(_article(corpus, i), capture_id=None,
                                                  seen_at=seen)


def _time_update(database: Path, index_dir: Path) -> tuple[float, float]:
    """Seconds from 100 new articles saved to the running service finding them, and to the end
    of the index run (later when the run then merges small segments).

    The new articles follow those already archived (a reused archive grows by 100 at each
    run: replica articles the archive does not hold yet), and the service was opened before,
    as a web worker's is. The service searches for them when the run reports its last batch
    committed, from the run's own progress call: no polling.
    """
    from archive.store import Archive
    from indexer.search import SearchService
    from indexer.update import update_index

    with Archive.open(database) as archive:
        present = archive.reads.stats().articles
    _log(f"incremental update of 100 new articles (after {present:,})")
    service = SearchService.over_archive(index_dir, database, check_seconds=0, cache_size=0)
    found_after: list[float] = []

    def committed(done: int, total: int) -> None:
        if done >= total and not found_after:
            found = service.search("", since=date(1900, 1, 1)).total
            found_after.append(time.perf_counter() - started)
            if found != present + 100:
                _log(f"after the update the service sees {found} articles, not {present + 100}")

    try:
        service.search("test")
        _fill_archive(database, present, present + 100, present + 100)
        started = time.perf_counter()
        update_index(database, index_dir, copies=False, progress=committed)
        finished = time.perf_counter() - started
        if not found_after:
            raise RuntimeError("the index run never reported its last batch")
        return found_after[0], finished
    finally:
        service.close()


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _segment_count(index_dir: Path) -> int:
    """How many segments the live build has (each costs every query a read per term)."""
    from indexer.location import open_current

    ix = open_current(index_dir)
    try:
        with ix.reader() as reader:
            return sum(1 for _ in reader.leaf_readers())
    finally:
        ix.close()


# ---------------------------------------------------------------------- FTS5
def _build_fts(database: Path, fts_path: Path) -> float:
    from archive.store import Archive

    started = time.perf_counter()
    fts_path.unlink(missing_ok=True)
    db = sqlite3.connect(fts_path)
    try:
        db.executescript("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE docs (id INTEGER PRIMARY KEY, url TEXT, title TEXT, author TEXT,
                               author_key TEXT, published TEXT, body TEXT);
            CREATE INDEX docs_author ON docs (author_key);
            CREATE INDEX docs_published ON docs (published);
            CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', content_rowid='id',
                                                tokenize='unicode61 remove_diacritics 2');
        """)
        with Archive.open(database, readonly=True) as archive, db:
            rows = ((a.id, a.url, a.title, a.author, a.author_key,
                     a.published.isoformat() if a.published else None, a.body)
                    for a in archive.reads.iter_articles())
            db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("INSERT INTO fts (rowid, title, body) SELECT id, title, body FROM docs")
        db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    return time.perf_counter() - started


def _fts_expression(query: dict[str, Any]) -> str:
    words = query["words"]
    if query["kind"] in _PHRASE_KINDS:
        return '"' + " ".join(words) + '"'
    if query["kind"] == "proximity":
        return "NEAR(" + " ".join(f'"{w}"' for w in words) + f", {_PROXIMITY})"
    if query["kind"] == "prefix":
        return f'"{words[0]}"*'
    return " ".join(f'"{w}"' for w in words)


def _fts_search(db: sqlite3.Connection, query: dict[str, Any]) -> int:
    """Run one query on FTS5 with the work a result page needs; return the total."""
    where = ["fts MATCH ?"]
    params: list[Any] = [_fts_expression(query)]
    if query.get("author_key"):
        where.append("d.author_key = ?")
        params.append(query["author_key"])
    if query.get("since"):
        where.append("d.published BETWEEN ? AND ?")
        params += [query["since"], query["until"]]
    condition = " AND ".join(where)
    base = f"FROM fts JOIN docs d ON d.id = fts.rowid WHERE {condition}"
    order = "d.published DESC" if query.get("sort") == "date" else "bm25(fts, 2.0, 1.0)"
    top = [row[0] for row in db.execute(f"SELECT d.id {base} ORDER BY {order} LIMIT 10",
                                        params)]
    db.execute(f"SELECT d.author_key, count(*) AS n {base} GROUP BY 1 ORDER BY n DESC LIMIT 10",
               params).fetchall()
    months = db.execute(f"SELECT substr(d.published, 1, 7), count(*) {base} GROUP BY 1",
                        params).fetchall()
    if top:
        marks = ",".join("?" * len(top))
        db.execute(
            f"SELECT rowid, title, snippet(fts, 1, '<mark>', '</mark>', '…', "
            f"{_FTS_SNIPPET_TOKENS}) FROM fts WHERE fts MATCH ? AND rowid IN ({marks})",
            [params[0], *top]).fetchall()
    return sum(n for _, n in months)


def _time_fts(fts_path: Path, queries: list[dict[str, Any]]) -> dict[str, list[float]]:
    db = sqlite3.connect(f"file:{fts_path}?mode=ro", uri=True)
    try:
        for query in queries[:: max(1, len(queries) // 50)]:
            _fts_search(db, query)
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for query in queries:
            started = time.perf_counter()
            _fts_search(db, query)
            timings[query["kind"]].append((time.perf_counter() - started) * 1000)
    finally:
        db.close()
    return timings


# ---------------------------------------------------------------------- queries
def _sample_queries(database: Path, index_dir: Path, per_kind: int,
                    articles: int) -> list[dict[str, Any]]:
    """Pick queries from the corpus by document frequency band (deterministic)."""
    from archive.store import Archive
    from indexer.analysis import FRENCH_STOP_WORDS
    from indexer.location import open_current

    rng = random.Random(7)
    with Archive.open(database, readonly=True) as archive:
        ids = sorted(rng.sample(range(1, articles + 1), min(articles, 400)))
        sample = list(archive.reads.articles(ids).values())
        authors = sorted(archive.reads.authors(), key=lambda a: (-a.count, a.key))
    ix = open_current(index_dir)
    with ix.searcher() as searcher:
        analyzer = searcher.schema["body"].analyzer
        total = searcher.doc_count()
        df_cache: dict[str, float] = {}

        def df(word: str) -> float:
            if word not in df_cache:
                stems = [t.text for t in analyzer(word)]
                df_cache[word] = (searcher.doc_frequency("body", stems[0]) / total
                                  if len(stems) == 1 else -1.0)
            return df_cache[word]

        def words_of(article: Any) -> list[str]:
            return [w for w in _WORD.findall(article.body) if w.lower() not in FRENCH_STOP_WORDS]

        vocabulary = Counter(w for a in sample for w in set(words_of(a)))
        in_articles = Counter(w for a in sample
                              for w in {x.lower() for x in re.findall(r"[^\W\d_]+", a.body)})
        frequent = {w for w, n in in_articles.items() if n >= _COMMON_QUOTE_SHARE * len(sample)}
        candidates = sorted(vocabulary)
        common = [w for w in candidates if 0.2 <= df(w) <= 0.6]
        rare = [w for w in candidates if 0 < df(w) < 0.001] or \
            [w for w in candidates if 0 < df(w) <= 3 / total]
        mid = [w for w in candidates if 0.01 <= df(w) <= 0.2]
        queries: list[dict[str, Any]] = []

        def add(kind: str, words: list[str], **extra: Any) -> None:
            queries.append({"kind": kind, "words": words, **extra})

        for _ in range(per_kind):
            add("common", [rng.choice(common)])
            add("rare", [rng.choice(rare)])
            article = rng.choice(sample)
            own = [w for w in set(words_of(article)) if 0.005 <= df(w) <= 0.3]
            own.sort()
            add("two_words", rng.sample(own, 2) if len(own) >= 2 else [rng.choice(mid)] * 2)
            add("four_words", rng.sample(own, 4) if len(own) >= 4 else rng.sample(mid, 4))
            add("phrase", _phrase(rng, sample, df))
            add("exact_phrase", _quotation(rng, sample))
            add("common_quote", _common_quotation(rng, sample, frequent))
            add("proximity", _near_words(rng, sample))
            add("prefix", [_prefix(rng, sample)])
            author = authors[rng.randrange(min(5, len(authors)))]
            add("author_filter", [rng.choice(mid)], author=author.name, author_key=author.key)
            year = rng.randrange(2015, 2026)
            add("date_sorted", [rng.choice(mid)], since=f"{year}-01-01", until=f"{year}-12-31",
                sort="date")
    ix.close()
    for query in queries:
        words = query["words"]
        if query["kind"] in _PHRASE_KINDS:
            query["text"] = '"' + " ".join(words) + '"'
        elif query["kind"] == "proximity":
            query["text"] = '"' + " ".join(words) + f'"~{_PROXIMITY}'
        elif query["kind"] == "prefix":
            query["text"] = words[0] + "*"
        else:
            query["text"] = " ".join(words)
    return queries


def _phrase(rng: random.Random, sample: list[Any], df: Any) -> list[str]:
    for _ in range(200):
        article = rng.choice(sample)
        tokens = re.findall(r"[^\W\d_]+|\S", article.body)
        i = rng.randrange(max(1, len(tokens) - 1))
        pair = tokens[i:i + 2]
        if len(pair) == 2 and all(_WORD.fullmatch(w) and df(w) > 0 for w in pair):
            return pair
    return [w for w in _WORD.findall(sample[0].body)][:2]


def _quotation(rng: random.Random, sample: list[Any]) -> list[str]:
    """Four words as they follow each other in an article, small words included (a quote),
    as written there (``_as_written``)."""
    for _ in range(200):
        article = rng.choice(sample)
        words = list(_LETTERS.finditer(article.body))
        if len(words) > _QUOTATION_WORDS:
            i = rng.randrange(len(words) - _QUOTATION_WORDS)
            return _as_written(article.body, words[i:i + _QUOTATION_WORDS])
    return _LETTERS.findall(sample[0].body)[:_QUOTATION_WORDS]


def _common_quotation(rng: random.Random, sample: list[Any], frequent: set[str]) -> list[str]:
    """Two to four words as they follow each other in an article, every one of them common.

    The hard case of exact phrases: small words (« de la », « il y a ») and words found in
    a good share of the articles, whose positions are in most documents.
    """
    length = rng.randrange(2, 5)
    for _ in range(500):
        article = rng.choice(sample)
        words = list(_LETTERS.finditer(article.body))
        if len(words) <= length:
            continue
        i = rng.randrange(len(words) - length)
        quote = words[i:i + length]
        if all(w.group().lower() in frequent for w in quote):
            return _as_written(article.body, quote)
    return ["de", "la"]


def _as_written(body: str, words: list[re.Match[str]]) -> list[str]:
    """The words WORDS of BODY (following each other) as a quotation copied from it holds
    them: an elided article or pronoun joined to its word by its apostrophe (« l’Intérieur »,
    « qu’il »), the whole of a word of which one end is quoted. Every engine reads the
    apostrophe as ours does or as a space: the same quotation to all, as a reader types it."""
    start, end = words[0].start(), words[-1].end()
    for written in _WRITTEN.finditer(body):
        if written.start() <= start < written.end():
            start = written.start()
        if written.start() < end <= written.end():
            end = written.end()
            break
    return _WRITTEN.findall(body, start, end)


def _near_words(rng: random.Random, sample: list[Any]) -> list[str]:
    """Two words of four letters or more at most _PROXIMITY words apart in an article."""
    for _ in range(200):
        article = rng.choice(sample)
        words = _WORD.findall(article.body)
        if len(words) > _PROXIMITY + 1:
            i = rng.randrange(len(words) - _PROXIMITY - 1)
            j = i + rng.randrange(1, _PROXIMITY + 1)
            if words[i].lower() != words[j].lower():
                return [words[j], words[i]] if rng.random() < 0.5 else [words[i], words[j]]
    return _WORD.findall(sample[0].body)[:2]


def _prefix(rng: random.Random, sample: list[Any]) -> str:
    """The first three to five letters of a word of six letters or more in an article."""
    for _ in range(200):
        words = [w for w in _WORD.findall(rng.choice(sample).body) if len(w) >= 6]
        if words:
            return rng.choice(words)[:rng.randrange(3, 6)].lower()
    return "pres"


# ---------------------------------------------------------------------- the worker
def _worker(data: Path, query_file: Path, per_kind: int) -> None:
    """Hold one warm SearchService, time every query once, print timings and memory."""
    import psutil

    from archive.web.worker import tune_collector
    from indexer.search import SearchService

    queries = json.loads(query_file.read_text(encoding="utf-8"))
    service = SearchService.over_archive(data / "index", data / "archive.sqlite3",
                                         check_seconds=3600, cache_size=0)
    # The searches are timed as a web worker answers them: with its collector's thresholds
    # (Python's defaults ran a full collection every two hundred searches or so, a pause of
    # up to hundreds of milliseconds at a million articles that no served search pays).
    tune_collector()
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    totals: dict[str, list[int]] = {kind: [] for kind in KINDS}
    try:
        service.prepare()  # as a web worker's warm-up (archive.web.worker.warm_up)
        warm = queries[:: max(1, len(queries) // 40)]
        for query in warm:
            _whoosh_search(service, query)
        for query in queries:
            started = time.perf_counter()
            result = _whoosh_search(service, query)
            timings[query["kind"]].append((time.perf_counter() - started) * 1000)
            totals[query["kind"]].append(result.total)
        memory = psutil.Process().memory_full_info()
    finally:
        service.close()
    print(json.dumps({"timings": timings, "totals": totals,
                      "rss_mb": memory.rss / 2**20, "uss_mb": memory.uss / 2**20}))


def _whoosh_search(service: Any, query: dict[str, Any]) -> Any:
    return service.search(
        query["text"], author=query.get("author"),
        since=date.fromisoformat(query["since"]) if query.get("since") else None,
        until=date.fromisoformat(query["until"]) if query.get("until") else None,
        sort=query.get("sort", "relevance"), page_size=10)


def _run_worker(data: Path, queries: list[dict[str, Any]], per_kind: int) -> dict[str, Any]:
    query_file = data / "queries.json"
    query_file.write_text(json.dumps(queries), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(data), "--query-file", str(query_file),
         "--queries", str(per_kind)],
        capture_output=True, text=True, check=False, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# ---------------------------------------------------------------------- the run
def _run(articles: int, per_kind: int, workdir: Path, reuse: bool,
         reuse_archive: bool = False, compare: str | None = None,
         updates: int = 1, fts5: bool = True) -> dict[str, Any]:
    from indexer.location import current_build
    from indexer.update import update_index

    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "archive.sqlite3"
    index_dir = workdir / "index"
    fts_path = workdir / "fts5.sqlite3"
    if not reuse:
        saved_fts = None
        if reuse_archive:
            saved = workdir / "build.json"
            saved_fts = json.loads(saved.read_text(encoding="utf-8"))["fts_seconds"] \
                if saved.exists() and fts_path.exists() else None
        else:
            for path in (database, fts_path):
                path.unlink(missing_ok=True)
        shutil.rmtree(index_dir, ignore_errors=True)
        if not reuse_archive:
            _log(f"writing {articles:,} replica articles into the archive")
            _fill_archive(database, 0, articles, articles + 100)
        _log("full index build")
        report = update_index(database, index_dir, full=True, copies=False)
        build_seconds = report.seconds
        _log(f"built in {build_seconds:.1f} s; FTS5 build")
        fts_seconds = saved_fts if saved_fts is not None or not fts5 \
            else _build_fts(database, fts_path)
        (workdir / "build.json").write_text(json.dumps(
            {"build_seconds": build_seconds, "fts_seconds": fts_seconds}), encoding="utf-8")
    else:
        saved = json.loads((workdir / "build.json").read_text(encoding="utf-8"))
        build_seconds, fts_seconds = saved["build_seconds"], saved["fts_seconds"]
        if fts5 and not fts_path.exists():
            raise SystemExit(f"{fts_path} is missing (built --without-fts5?): add "
                             "--without-fts5, or run without --reuse")
    index_mb = _dir_mb(current_build(index_dir) or index_dir)
    segments = _segment_count(index_dir)

    _log("sampling queries")
    queries = _sample_queries(database, index_dir, per_kind, articles)
    _log("timing Whoosh queries in a worker process")
    worker = _run_worker(workdir, queries, per_kind)
    if fts5:
        _log("timing FTS5 queries")
        fts = _time_fts(fts_path, queries)
    else:
        fts = {kind: [] for kind in KINDS}
    tantivy = _tantivy(database, workdir, queries, reuse) if compare == "tantivy" else None

    update_seconds = None
    update_runs: list[tuple[float, float]] = []
    if not reuse:
        update_runs = [_time_update(database, index_dir) for _ in range(max(1, updates))]
        update_seconds = statistics.median(found for found, _ in update_runs)

    kinds = {}
    for kind in KINDS:
        whoosh = worker["timings"][kind]
        fts_times = fts[kind]
        kinds[kind] = {
            "p50_ms": round(_percentile(whoosh, 50), 2),
            "p95_ms": round(_percentile(whoosh, 95), 2),
            "fts5_p50_ms": round(_percentile(fts_times, 50), 2) if fts_times else None,
            "fts5_p95_ms": round(_percentile(fts_times, 95), 2) if fts_times else None,
            "median_total": statistics.median(worker["totals"][kind]),
        }
        if tantivy is not None:
            tantivy_times = tantivy["timings"][kind]
            kinds[kind].update({
                "tantivy_p50_ms": round(_percentile(tantivy_times, 50), 2),
                "tantivy_p95_ms": round(_percentile(tantivy_times, 95), 2),
                "tantivy_median_total": statistics.median(tantivy["totals"][kind]),
            })
    return {
        "articles": articles,
        "build_docs_per_s": round(articles / build_seconds, 1),
        "build_s": round(build_seconds, 1),
        "fts5_build_s": _rounded(fts_seconds) if fts5 else None,
        "index_mb": round(index_mb, 1),
        "segments": segments,
        "update_100_s": round(update_seconds, 2) if update_seconds is not None else None,
        "update_100_runs_s": [round(found, 2) for found, _ in update_runs],
        "update_100_run_ends_s": [round(end, 2) for _, end in update_runs],
        "worker_rss_mb": round(worker["rss_mb"], 1),
        "worker_uss_mb": round(worker["uss_mb"], 1),
        "queries_per_kind": per_kind,
        "queries": kinds,
        "fts5_mb": round(fts_path.stat().st_size / 2**20, 1) if fts5 else None,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "tantivy": None if tantivy is None else {
            "build_s": round(tantivy["build_s"], 1), "index_mb": round(tantivy["index_mb"], 1),
            "version": tantivy["version"]},
    }


def _tantivy(database: Path, workdir: Path, queries: list[dict[str, Any]],
             reuse: bool) -> dict[str, Any]:
    """Build (or with REUSE, reopen) the Tantivy index of the corpus and time the queries."""
    try:
        import tantivy_side
    except ImportError as exc:
        raise SystemExit(f"--compare tantivy needs tantivy-py: pip install -e '.[bench]' "
                         f"({exc})") from None
    path = workdir / "tantivy"
    saved = workdir / "tantivy.json"
    if reuse and saved.exists() and path.exists():
        build_s = json.loads(saved.read_text(encoding="utf-8"))["build_seconds"]
    else:
        _log("Tantivy build")
        build_s = tantivy_side.build(database, path)
        saved.write_text(json.dumps({"build_seconds": build_s}), encoding="utf-8")
    _log("timing Tantivy queries")
    timings, totals = tantivy_side.time_queries(path, queries, KINDS)
    return {"build_s": build_s, "index_mb": _dir_mb(path), "timings": timings,
            "totals": totals, "version": tantivy_side.version()}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _figure(value: float | None, width: int, places: int = 1) -> str:
    """VALUE right-aligned in WIDTH characters, '-' where there is none (an engine left out)."""
    if value is None or value != value:  # None, or NaN: no timings
        return f"{'-':>{width}}"
    return f"{value:>{width}.{places}f}"


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _print_table(report: dict[str, Any]) -> None:
    if report.get("tantivy"):
        _print_comparison(report)
        return
    print(f"articles {report['articles']:,}: build {report['build_s']} s "
          f"({report['build_docs_per_s']} docs/s; FTS5 {report['fts5_build_s'] or '-'} s), "
          f"index {report['index_mb']} MB in {report['segments']} segments, "
          f"100 new articles searchable: {_updates(report)}, "
          f"worker RSS {report['worker_rss_mb']} MB (USS {report['worker_uss_mb']} MB)")
    print(f"{'kind':<14}{'p50 ms':>9}{'p95 ms':>9}{'FTS5 p50':>10}{'FTS5 p95':>10}"
          f"{'p95 ratio':>11}{'hits':>8}")
    for kind, row in report["queries"].items():
        ratio = row["p95_ms"] / row["fts5_p95_ms"] if row["fts5_p95_ms"] else float("nan")
        print(f"{kind:<14}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
              f"{_figure(row['fts5_p50_ms'], 10, 2)}{_figure(row['fts5_p95_ms'], 10, 2)}"
              f"{_figure(ratio, 10)}x{row['median_total']:>8}")


def _print_growth(reports: list[dict[str, Any]]) -> None:
    """Print how build time, size, update time, memory and p95 grow with the corpus."""
    print("how the figures grow (p95 ms per kind)")
    kinds = list(reports[0]["queries"])
    print(f"{'articles':>10}{'build s':>9}{'index MB':>10}{'100 new s':>11}{'RSS MB':>8}"
          + "".join(f"{kind[:12]:>13}" for kind in kinds))
    for report in reports:
        update = report["update_100_s"]
        print(f"{report['articles']:>10,}{report['build_s']:>9}{report['index_mb']:>10}"
              f"{update if update is not None else '-':>11}{report['worker_rss_mb']:>8}"
              + "".join(f"{report['queries'][kind]['p95_ms']:>13.1f}" for kind in kinds))


def _updates(report: dict[str, Any]) -> str:
    """The update figure: seconds until 100 new articles were found, each run if several."""
    if report["update_100_s"] is None:
        return "not measured (reused index)"
    runs, ends = report["update_100_runs_s"], report["update_100_run_ends_s"]
    if len(runs) == 1:
        merged = f" (the run ended after {ends[0]} s)" if ends[0] > runs[0] + 1 else ""
        return f"{runs[0]} s{merged}"
    return (f"median {report['update_100_s']} s, max {max(runs)} s over {len(runs)} runs "
            f"({', '.join(str(r) for r in runs)}; the runs ended after "
            f"{', '.join(str(e) for e in ends)} s)")


def _print_comparison(report: dict[str, Any]) -> None:
    """One table: ours, FTS5 and Tantivy side by side, and ours / Tantivy per kind."""
    tantivy = report["tantivy"]
    update = _updates(report)
    print(f"articles {report['articles']:,}, {report['queries_per_kind']} queries per kind; "
          f"100 new articles searchable: {update}; worker RSS "
          f"{report['worker_rss_mb']} MB (USS {report['worker_uss_mb']} MB); load average "
          f"{report['load_average']} (1, 5, 15 min, after the queries)")
    print(f"{'':<14}{'ours':>10}{'FTS5':>10}{'Tantivy':>10}")
    print(f"{'build s':<14}{report['build_s']:>10.1f}{_figure(report['fts5_build_s'], 10)}"
          f"{tantivy['build_s']:>10.1f}")
    print(f"{'index MB':<14}{report['index_mb']:>10.1f}{_figure(report['fts5_mb'], 10)}"
          f"{tantivy['index_mb']:>10.1f}")
    print(f"{'segments':<14}{report['segments']:>10}")
    print(f"\n{'':<14}{'ours':>16}{'FTS5':>16}{'Tantivy ' + tantivy['version']:>16}"
          f"{'ours / Tantivy':>16}{'hits':>8}{'Tantivy hits':>14}")
    print(f"{'ms':<14}" + f"{'p50':>8}{'p95':>8}" * 4)
    for kind, row in report["queries"].items():
        p50 = row["p50_ms"] / row["tantivy_p50_ms"] if row["tantivy_p50_ms"] else float("nan")
        p95 = row["p95_ms"] / row["tantivy_p95_ms"] if row["tantivy_p95_ms"] else float("nan")
        print(f"{kind:<14}{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}"
              f"{_figure(row['fts5_p50_ms'], 8)}{_figure(row['fts5_p95_ms'], 8)}"
              f"{row['tantivy_p50_ms']:>8.1f}{row['tantivy_p95_ms']:>8.1f}"
              f"{p50:>7.1f}x{p95:>7.1f}x{row['median_total']:>8}"
              f"{row['tantivy_median_total']:>14}")


if __name__ == "__main__":
    main()
