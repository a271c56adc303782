"""The Tantivy side of ``bench/search.py --compare tantivy``: the same corpus, the same work.

Tantivy (tantivy-py 0.27, installed only for the benchmark: ``pip install -e '.[bench]'``) is
the reference of an embedded engine near its limit. It indexes the archive's articles with a
French chain as close as tantivy-py allows to ours (simple tokenizer, lowercase, ASCII
folding, our French stop words, Snowball French; accents folded before stemming as ours
does), and a second, unstemmed chain for the exact forms (``title_exact``/``body_exact``, as
our schema has). Every query does what our result page does: the total, the top 10 by BM25
with the title boosted x2 (relevance) or by date (newest first), the top 100 authors and the
counts per month over every match, and 10 highlighted snippets (title and body).

A plain word is asked as ours asks it: its stem in title (x2) or body, plus its typed form in
the exact-form fields (title x2, body) adding to the score; quoted words are a phrase of the
exact-form fields; a prefix (``gen*``) is the exact-form fields' words starting with its
letters, lowercased and accents folded, as ours: a regular expression query (``gen.*``), which
Tantivy scores as a constant a field (title x2, body) where ours scores each word's BM25F.

The snippets mark the words the query asked, as ours do: Tantivy's snippet generator marks a
query's terms of one field, so the snippets of a query of the exact-form fields (quoted words,
a proximity, a prefix) are made on those fields, from the stored title and body; a regular
expression lists no terms, so a prefix's are the words of the page's own title and body that
start with its letters (Tantivy's exact-form analyzer: the same words its regular expression
matches there).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import tantivy

_FRENCH = "fr_stem"
_EXACT = "fr_exact"
_HEAP_BYTES = 256_000_000
_SNIPPET_CHARS = 200
TOP_AUTHORS = 100
# The kinds asked of the exact-form fields alone (``TantivySearch.query``).
_EXACT_KINDS = frozenset({"phrase", "exact_phrase", "common_quote", "proximity", "prefix"})


def _analyzers() -> tuple[Any, Any]:
    from indexer.analysis import FRENCH_STOP_WORDS, fold_accents

    stop_words = sorted({fold_accents(word) for word in FRENCH_STOP_WORDS})
    stemmed = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
               .filter(tantivy.Filter.remove_long(40))
               .filter(tantivy.Filter.lowercase())
               .filter(tantivy.Filter.ascii_fold())
               .filter(tantivy.Filter.custom_stopword(stop_words))
               .filter(tantivy.Filter.stemmer("french"))
               .build())
    exact = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
             .filter(tantivy.Filter.remove_long(40))
             .filter(tantivy.Filter.lowercase())
             .filter(tantivy.Filter.ascii_fold())
             .build())
    return stemmed, exact


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", stored=True, tokenizer_name=_FRENCH)
    builder.add_text_field("body", stored=True, tokenizer_name=_FRENCH)
    builder.add_text_field("title_exact", tokenizer_name=_EXACT)
    builder.add_text_field("body_exact", tokenizer_name=_EXACT)
    builder.add_text_field("author_key", fast=True, tokenizer_name="raw")
    builder.add_date_field("published", indexed=True, fast=True)
    builder.add_unsigned_field("month", fast=True)
    return builder.build()


def _open(path: Path, create: bool) -> Any:
    if create:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(path), reuse=False)
    else:
        index = tantivy.Index.open(str(path))
    stemmed, exact = _analyzers()
    index.register_tokenizer(_FRENCH, stemmed)
    index.register_tokenizer(_EXACT, exact)
    return index


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _documents(database: Path) -> Iterator[Any]:
    from archive.store import Archive

    with Archive.open(database, readonly=True) as archive:
        for article in archive.reads.iter_articles():
            document = tantivy.Document()
            document.add_unsigned("id", article.id)
            for name, text in (("title", article.title), ("body", article.body)):
                document.add_text(name, text)
                document.add_text(f"{name}_exact", text)
            if article.author_key:
                document.add_text("author_key", article.author_key)
            if article.published:
                document.add_date("published", _moment(article.published))
                document.add_unsigned("month", article.published.year * 12
                                      + article.published.month - 1)
            yield document


def build(database: Path, path: Path) -> float:
    """Index every article of the archive at DATABASE into a new Tantivy index; seconds."""
    started = time.perf_counter()
    index = _open(path, create=True)
    writer = index.writer(heap_size=_HEAP_BYTES)
    for document in _documents(database):
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - started


class TantivySearch:
    """One warm searcher over the benchmark's Tantivy index, doing a result page's work."""

    def __init__(self, path: Path) -> None:
        self.index = _open(path, create=False)
        self.index.reload()
        self.searcher = self.index.searcher()
        self.schema = self.index.schema
        self.exact = _analyzers()[1]

    def query(self, query: dict[str, Any]) -> Any:
        """Return the Tantivy query of one benchmark query (its text and filters)."""
        words = query["words"]
        must = tantivy.Occur.Must
        if query["kind"] == "prefix":
            main = self._prefix(words[0])
        elif query["kind"] in ("phrase", "exact_phrase", "common_quote", "proximity"):
            text = query["text"]  # "a b c", or "a b"~5 for proximity: Tantivy's syntax too
            main = self.index.parse_query(text, ["title_exact", "body_exact"],
                                          field_boosts={"title_exact": 2.0})
        else:
            main = self.index.parse_query(
                " ".join(words), ["title", "body", "title_exact", "body_exact"],
                field_boosts={"title": 2.0, "title_exact": 2.0}, conjunction_by_default=True)
        parts = [(must, main)]
        if query.get("author_key"):
            parts.append((must, tantivy.Query.term_query(self.schema, "author_key",
                                                         query["author_key"])))
        if query.get("since"):
            parts.append((must, tantivy.Query.range_query(
                self.schema, "published", tantivy.FieldType.Date,
                _moment(date.fromisoformat(query["since"])),
                _moment(date.fromisoformat(query["until"])))))
        return parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)

    def _prefix(self, letters: str) -> Any:
        """The exact-form fields' words starting with LETTERS (title x2, body)."""
        from indexer.analysis import fold_accents

        pattern = re.escape(fold_accents(letters.rstrip("*").lower())) + ".*"
        title = tantivy.Query.regex_query(self.schema, "title_exact", pattern)
        body = tantivy.Query.regex_query(self.schema, "body_exact", pattern)
        should = tantivy.Occur.Should
        return tantivy.Query.boolean_query([(should, tantivy.Query.boost_query(title, 2.0)),
                                            (should, body)])

    def search(self, query: dict[str, Any]) -> int:
        """Run one query with the work a result page needs; return the total."""
        return self.page(query)[0]

    def page(self, query: dict[str, Any]) -> tuple[int, list[str]]:
        """Run one query with the work a result page needs; return the total and the page's
        snippets (each hit's title, then its body, as HTML)."""
        wanted = self.query(query)
        if query.get("sort") == "date":
            found = self.searcher.search(wanted, limit=10, count=True,
                                         order_by_field="published",
                                         order=tantivy.Order.Desc)
        else:
            found = self.searcher.search(wanted, limit=10, count=True)
        self.searcher.aggregate(wanted, {
            "authors": {"terms": {"field": "author_key", "size": TOP_AUTHORS}},
            "months": {"terms": {"field": "month", "size": 1000}},
        })
        documents = [self.searcher.doc(address) for _, address in found.hits]
        return int(found.count or 0), self._snippets(query, wanted, documents)

    def _snippets(self, query: dict[str, Any], wanted: Any, documents: list[Any]) -> list[str]:
        """The highlighted title and body of each of DOCUMENTS, the words WANTED asks marked
        (the exact-form fields' for a query of them)."""
        exact = query["kind"] in _EXACT_KINDS
        if query["kind"] == "prefix":
            wanted = self._page_words(query["words"][0], documents)
        marked: list[list[str]] = [[] for _ in documents]
        for name in ("title", "body"):
            field = f"{name}_exact" if exact else name
            snippets = tantivy.SnippetGenerator.create(self.searcher, wanted, self.schema,
                                                       field)
            snippets.set_max_num_chars(_SNIPPET_CHARS)
            for i, document in enumerate(documents):
                if exact:  # the exact-form fields are not stored: their text is the stored one
                    copy = tantivy.Document()
                    for text in document[name]:
                        copy.add_text(field, text)
                    document = copy
                marked[i].append(snippets.snippet_from_doc(document).to_html())
        return [html for pair in marked for html in pair]

    def _page_words(self, letters: str, documents: list[Any]) -> Any:
        """The query marking a prefix of LETTERS in DOCUMENTS: each exact-form field's words
        of theirs starting with the letters (what the prefix's regular expression matched)."""
        from indexer.analysis import fold_accents

        start = fold_accents(letters.rstrip("*").lower())
        should = tantivy.Occur.Should
        parts = []
        for name in ("title", "body"):
            words = {word for document in documents for text in document[name]
                     for word in self.exact.analyze(text) if word.startswith(start)}
            if words:
                parts.append((should, tantivy.Query.term_set_query(
                    self.schema, f"{name}_exact", sorted(words))))
        return tantivy.Query.boolean_query(parts) if parts else tantivy.Query.empty_query()


def time_queries(path: Path, queries: list[dict[str, Any]],
                 kinds: tuple[str, ...]) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Time each query once on a warm Tantivy searcher: milliseconds and totals per kind."""
    engine = TantivySearch(path)
    for query in queries[:: max(1, len(queries) // 40)]:
        engine.search(query)
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    totals: dict[str, list[int]] = {kind: [] for kind in kinds}
    for query in queries:
        started = time.perf_counter()
        total = engine.search(query)
        timings[query["kind"]].append((time.perf_counter() - started) * 1000)
        totals[query["kind"]].append(total)
    return timings, totals


def version() -> str:
    """Return the installed tantivy-py version."""
    from importlib.metadata import version as installed

    return installed("tantivy")
