"""The search service: the one function behind the CLI, the web pages and the JSON API.

``SearchService.search`` parses the reader's query (``indexer.query``), finds every matching
document with its score (``indexer.matches``), applies the author, date, edition and category
filters (each also negatable) and computes the facets on the generation's column arrays
(``indexer.columns``), orders by relevance or date (either way), optionally finds the words
most associated with the matches (``indexer.associated``), and builds the page of hits with
highlighted snippets (``indexer.snippets``) whose text comes from SQLite. Finished results are
cached per index generation.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import QueryParserError
from whoosh.query import QueryError
from whoosh.searching import Searcher

from archive.errors import IndexUnavailable, InvalidInput
from indexer import compiled
from indexer.analysis import FRENCH_STOP_WORDS, stem_french
from indexer.associated import WordTable, associated_words
from indexer.columns import NO_DAY, Columns, day_number, month_parts, months_parts
from indexer.copies import Copy, CopyFinder
from indexer.documents import version_document
from indexer.generations import Generation, Generations
from indexer.matches import EMPTY, MatchEngine, Matches, match_all, prefix_words
from indexer.memory import MemoryReturn
from indexer.query import earlier_query, make_parser, parse_query
from indexer.results import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    NO_FACETS,
    SORTS,
    STATUSES,
    AssociatedWord,
    AuthorFacet,
    Facets,
    Hit,
    IndexInfo,
    SearchRequest,
    SearchResult,
    plain_date,
)
from indexer.schema import EXACT_FIELDS
from indexer.snippets import Highlighter, marked_paragraphs, plain_snippet
from indexer.texts import ArchiveTexts, ArticleText, ArticleTexts, EarlierTexts
from indexer.whoosh_format import (
    UnexpectedLayout,
    read_term_directories,
    report_fallback,
    stored_fields,
)

# Authors counted in a result's facets: a page shows the first ten and the rest behind
# « voir plus »; past this many, the author filter of the form reaches the others.
TOP_AUTHORS = 100
ASSOCIATED_WORDS = 12
FOLD_WALK = 4  # with copies folded, how many pages deep the matches are walked at most
SUGGEST_BELOW = 3
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_OPERATOR_WORDS = frozenset({"OU", "OR", "ET", "AND", "SAUF", "NOT", "ANDNOT"})
# The errors of the query language itself (a query Whoosh cannot run as written): the reader
# gets a French message. Anything else is a fault of ours and reaches the caller and the log.
QUERY_ERRORS = (QueryError, QueryParserError)
_CANNOT_RUN = "Votre recherche n'a pas pu être exécutée : essayez des mots plus simples."


_NO_TEXT = ArticleText("", 0)


class SearchService:
    """Searches the live index; safe to share between the threads of one process."""

    def __init__(self, index_dir: Path, texts: ArticleTexts, *,
                 check_seconds: float = 2.0, cache_size: int = 256,
                 earlier_texts: EarlierTexts | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._texts = texts
        self._earlier_texts = earlier_texts
        self._owned: ArchiveTexts | None = None
        self._generations = Generations(self.index_dir, check_seconds, cache_size)
        self._local = threading.local()
        self._finders: list[CopyFinder] = []
        self._finders_lock = threading.Lock()
        # Large searches' freed memory given back to the system (``indexer.memory``).
        self._memory = MemoryReturn()

    @classmethod
    def over_archive(cls, index_dir: Path, database_path: Path, *, check_seconds: float = 2.0,
                     cache_size: int = 256) -> SearchService:
        """Return a service reading texts from the archive at DATABASE_PATH (closed with it)."""
        texts = ArchiveTexts(database_path)
        service = cls(index_dir, texts, check_seconds=check_seconds, cache_size=cache_size,
                      earlier_texts=texts.earlier)
        service._owned = texts
        return service

    # ------------------------------------------------------------------ public API
    def search(self, query: str, *, author: str | None = None, since: date | None = None,
               until: date | None = None, edition: str | None = None,
               sort: str = "relevance", page: int = 1, page_size: int = 10,
               category: str | None = None, not_authors: Sequence[str] = (),
               not_editions: Sequence[str] = (), not_categories: Sequence[str] = (),
               associated: bool = False, wait_for_words: bool = True,
               status: str | None = None, earlier: bool = False,
               fold: bool = False) -> SearchResult:
        """Return one page of the articles matching QUERY and the filters.

        Authors are compared by ``archive.authors.author_key`` (else by their letters and
        digits alone), editions by code, categories without regard to case; an unknown value
        to keep matches nothing, one to leave out (``not_*``) leaves everything. ASSOCIATED
        adds the words most over-represented in the matches (``SearchResult.associated``); the
        first such search of an index generation starts reading its word table (seconds on a
        large index): WAIT_FOR_WORDS=False answers at once without the words meanwhile (and
        that result is not cached). STATUS keeps only edited (``changed``), ``withdrawn`` or
        ``unchanged`` articles. EARLIER also finds articles whose superseded versions match;
        each hit then says which of its earlier versions match (``Hit.earlier_versions``).
        FOLD leaves out the copies of a text whose first publication known is also a match
        (``Hit.copies`` counts them); the total still counts every match.
        """
        started = time.perf_counter()
        _check_arguments(sort, page, page_size, since, until)
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"statut inconnu {status!r} : choisissez parmi "
                               f"{', '.join(STATUSES)}")
        searcher, generation = self._generations.acquire()
        text = query if isinstance(query, str) else ""
        request = SearchRequest(text, author, since, until, edition, sort, page, page_size,
                                category=category, not_authors=tuple(not_authors),
                                not_editions=tuple(not_editions),
                                not_categories=tuple(not_categories), associated=associated,
                                status=status, earlier=bool(earlier), fold=bool(fold))
        cached: SearchResult | None = generation.cache.get(request)
        if cached is not None:
            return replace(cached, took_ms=_ms_since(started))
        # Read before searching: a table that becomes ready during the search was not used,
        # and a result without its words must not stay in the cache.
        words_ready = generation.word_table is not None
        result = replace(self._search(searcher, generation, request, wait_for_words),
                         request=request)
        if not associated or words_ready or wait_for_words:
            generation.cache.put(request, result)
        self._memory.after_search()
        return replace(result, took_ms=_ms_since(started))

    def month_totals(self, query: str) -> list[tuple[int, int, int]]:
        """Return (year, month, matches) for every month with an article matching QUERY."""
        return list(self.search(query, page_size=1).facets.months)

    def highlight(self, query: str, title: str, body: str) -> tuple[str, list[str]]:
        """Return TITLE and BODY's paragraphs as HTML with every form QUERY matches marked."""
        searcher, _ = self._generations.acquire()
        parsed = parse_query(query if isinstance(query, str) else "", self._parser(searcher))
        terms: list[str] = []
        if parsed.query is not None:
            marked = _positive_terms(parsed.query, searcher)
            terms = marked.body + marked.title
        analyzer = searcher.schema["body"].analyzer
        marked_title = marked_paragraphs(analyzer, title, terms)
        return (marked_title[0] if marked_title else "",
                marked_paragraphs(analyzer, body, terms))

    def more_like(self, article_id: int, limit: int = 5) -> list[Hit]:
        """Return up to LIMIT articles most like ARTICLE_ID (never the article itself)."""
        searcher, generation = self._generations.acquire()
        docnum = searcher.document_number(id=str(article_id))
        if docnum is None:
            return []
        stored = _stored_fields(searcher, [docnum])[docnum]
        bodies = self._bodies([article_id])
        text = f"{stored.get('title', '')}\n{bodies.get(article_id, '')}"
        terms = searcher.key_terms_from_text("body", text, numterms=12)
        if not terms:
            return []
        top_weight = max(weight for _, weight in terms) or 1.0
        query = wq.Or([wq.Term("body", term, boost=weight / top_weight)
                       for term, weight in terms])
        matches = self._match(query, searcher, generation)
        matches = matches.where(matches.docs != docnum)
        order = _top(matches.scores, generation.columns.day[matches.docs], matches.docs,
                     "relevance", limit)
        page = matches.docs[order]
        return self._hits(searcher, generation, page, matches.scores[order], None,
                          with_snippets=False)

    def prepare(self) -> None:
        """Open the live generation for this thread and read what its first searches need
        from every segment at once: the term dictionary's directories, and the compiled
        kernels (a web worker's warm-up). Raises IndexUnavailable when there is no index."""
        compiled.warm_up()
        searcher, _ = self._generations.acquire()
        try:
            read_term_directories(searcher)
        except UnexpectedLayout:
            pass  # an index the fast paths cannot read: its searches say so (report_fallback)

    def info(self) -> IndexInfo:
        """Describe the live index; raises IndexUnavailable when there is none."""
        _, generation = self._generations.acquire()
        return IndexInfo(build=generation.build.name, generation=generation.number,
                         doc_count=generation.doc_count, change_seq=generation.change_seq,
                         words_ready=generation.word_table is not None)

    def close(self) -> None:
        """Close every searcher this service opened (and the archive reader it owns)."""
        self._generations.close()
        if self._owned is not None:
            self._owned.close()
        with self._finders_lock:
            finders, self._finders = self._finders, []
        for finder in finders:
            finder.close()

    def __enter__(self) -> SearchService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the search
    def _search(self, searcher: Searcher, generation: Generation,
                request: SearchRequest, wait_for_words: bool = True) -> SearchResult:
        text, sort, page, page_size = request.text, request.sort, request.page, request.page_size
        earlier, fold = request.earlier, request.fold
        columns = generation.columns
        # How many matches decide the page: settled (``_settled``) for their final scores.
        settle_limit = page * page_size * (FOLD_WALK if fold else 1)
        parsed = parse_query(text, self._parser(searcher))
        if parsed.query is None and not parsed.is_empty:
            return SearchResult(parsed.text, 0, page, page_size, sort, [], NO_FACETS, None, 0.0,
                                parsed.message)
        if parsed.query is None:
            matches = match_all(columns.live)
            if sort == "relevance":
                sort = "date"
        else:
            wanted = parsed.query
            if earlier and "earlier" in searcher.schema:
                wanted = wq.Or([wanted, earlier_query(wanted)])
            try:
                matches = self._match(wanted, searcher, generation, settle_later=True,
                                      settle_first=_settle_first(settle_limit, sort),
                                      page=settle_limit if _best_page_only(request) else None)
            except QUERY_ERRORS:
                return SearchResult(parsed.text, 0, page, page_size, sort, [], NO_FACETS, None,
                                    0.0, _CANNOT_RUN)
        matches = _filtered(matches, columns, request)
        total = len(matches)
        facets = self._facets(searcher, generation, matches.docs)
        words: list[AssociatedWord] = []
        if request.associated and total:
            body_terms = (_positive_terms(parsed.query, searcher).body
                          if parsed.query is not None else [])
            words = self._associated(searcher, generation, matches.docs, body_terms,
                                     wait_for_words)
        days = columns.day[matches.docs]
        matches, among = _settled_page(matches, days, sort, min(len(matches), settle_limit))
        folded: dict[int, int] = {}
        if fold:
            order, folded = self._folded(searcher, matches, days, sort, page, page_size)
        else:
            order = _page_order(matches, days, sort, page * page_size, among)
            order = order[(page - 1) * page_size:]
        hits = self._hits(searcher, generation, matches.docs[order],
                          matches.scores[order] if parsed.query is not None else None,
                          parsed.query, earlier=earlier)
        if folded:
            hits = [replace(hit, copies=folded.get(hit.id, 0)) for hit in hits]
        suggestion = None
        if total < SUGGEST_BELOW and parsed.query is not None:
            suggestion = _suggestion(parsed.text, searcher)
        return SearchResult(parsed.text, total, page, page_size, sort, hits, facets,
                            suggestion, 0.0, parsed.message, associated=words)

    def _associated(self, searcher: Searcher, generation: Generation, docs: np.ndarray,
                    query_terms: list[str], wait: bool) -> list[AssociatedWord]:
        table: WordTable | None = generation.words(wait)
        if table is None:
            return []
        analyzer = searcher.schema["body"].analyzer
        known = generation.analysed_words

        def analysed(word: str) -> str:
            # Analysing a word (Snowball's stemmer) costs tens of microseconds, and a page
            # compares a dozen or more: each word of the table is analysed once a generation
            # (at most every word of the table is kept).
            found = known.get(word)
            if found is None:
                tokens = [t.text for t in analyzer(word)]
                found = known[word] = tokens[0] if len(tokens) == 1 else word
            return found

        return associated_words(table, docs, limit=ASSOCIATED_WORDS,
                                leave_out=frozenset(query_terms), same_word=analysed,
                                live=generation.columns.live)


    def _folded(self, searcher: Searcher, matches: Matches, days: np.ndarray, sort: str,
                page: int, page_size: int) -> tuple[np.ndarray, dict[int, int]]:
        """Return the positions of one page of MATCHES with copies folded, and the counts.

        A match is left out when the first publication known of its text (``indexer.copies``)
        is also among the matches; that one's count of folded copies goes up. The matches
        are walked in order, at most ``FOLD_WALK`` pages deep.
        """
        finder = self._copy_finder()
        wanted = page * page_size
        reach = min(len(matches), wanted * FOLD_WALK)
        order = _top(matches.scores, days, matches.docs, sort, reach)
        if finder is None:
            return order[(page - 1) * page_size:wanted], {}
        docs = matches.docs  # ascending: a document is looked up with a binary search
        kept: list[int] = []
        folded: dict[int, int] = {}
        for position in order.tolist():
            article_id = _int(searcher.stored_fields(int(matches.docs[position])).get("id"))
            earliest = finder.earliest_of(article_id) if article_id is not None else None
            if earliest is not None and earliest != article_id:
                docnum = searcher.document_number(id=str(earliest))
                at = int(np.searchsorted(docs, docnum)) if docnum is not None else len(docs)
                if at < len(docs) and int(docs[at]) == docnum:
                    folded[earliest] = folded.get(earliest, 0) + 1
                    continue
            kept.append(position)
            if len(kept) >= wanted:
                break
        return np.asarray(kept[(page - 1) * page_size:], dtype=np.int64), folded

    def _copy_finder(self) -> CopyFinder | None:
        """Return this thread's reader of the copies index, None when there is none yet."""
        finder: CopyFinder | None = getattr(self._local, "copies", None)
        # A new copies file (a published release switched in) is opened at once; the one it
        # replaces is closed only at the next switch, as a caller may still be using it.
        identity = CopyFinder.identity(self.index_dir)
        if finder is not None and identity != finder.file:
            retired: CopyFinder | None = getattr(self._local, "retired_copies", None)
            if retired is not None:
                with self._finders_lock:
                    if retired in self._finders:
                        self._finders.remove(retired)
                retired.close()
            self._local.retired_copies = finder
            finder = self._local.copies = None
        if finder is None:
            try:
                finder = CopyFinder(self.index_dir)
            except IndexUnavailable:
                return None
            self._local.copies = finder
            with self._finders_lock:
                self._finders.append(finder)
        return finder

    def copies_of(self, article_id: int) -> list[Copy]:
        """Return ARTICLE_ID and the articles sharing most of its text, earliest first.

        Empty when it has no copy (or no copies index exists yet); the first is marked
        ``earliest``: the first publication known of the text.
        """
        finder = self._copy_finder()
        return [] if finder is None else finder.copies_of(article_id)

    def _match(self, query: wq.Query, searcher: Searcher, generation: Generation,
               settle_later: bool = False, settle_first: int | None = None,
               page: int | None = None) -> Matches:
        """The live matches of QUERY (``MatchEngine.match``; PAGE: the best-scored page alone
        needs its scores)."""
        columns = generation.columns
        live = columns.live
        matches = MatchEngine(searcher, generation.field_lengths, generation.postings).match(
            query, settle_later=settle_later, settle_first=settle_first, page=page,
            live=live)
        if len(matches) and not live.all():
            keep = live[matches.docs]
            if not keep.all():  # a page scored among live documents keeps its exact scores
                matches = matches.where(keep)
        return matches

    def _parser(self, searcher: Searcher) -> Any:
        parser = getattr(self._local, "parser", None)
        if parser is None or parser.schema is not searcher.schema:
            parser = self._local.parser = make_parser(searcher.schema)
        return parser

    # ------------------------------------------------------------------ facets and hits
    def _facets(self, searcher: Searcher, generation: Generation, docs: np.ndarray) -> Facets:
        if not len(docs):
            return NO_FACETS
        columns = generation.columns
        counted = columns.facet_counts(docs)
        counts = counted.authors
        top = np.flatnonzero(counts)
        top = top[np.lexsort((top, -counts[top]))][:TOP_AUTHORS]
        author_facets = [AuthorFacet(columns.authors.values[code],
                                     self._author_name(searcher, generation, code), count)
                         for code, count in zip(top.tolist(), counts[top].tolist(), strict=True)]
        counts = counted.editions
        edition_facets: list[tuple[str, int]] = []
        for code in np.lexsort((np.arange(len(counts)), -counts)).tolist():
            if counts[code]:
                edition_facets.append((columns.editions.values[code], int(counts[code])))
        category_facets: list[tuple[str, int]] = []
        counts = counted.categories
        for code in np.lexsort((np.arange(len(counts)), -counts)).tolist():
            if counts[code]:
                category_facets.append((columns.category_names[code], int(counts[code])))
        if len(docs) <= _FEW_MATCHES:
            month_facets, year_facets = _few_month_facets(columns.month[docs].tolist())
        else:
            month_facets, year_facets = _month_facets(counted.first_month, counted.months)
        return Facets(author_facets, year_facets, month_facets, edition_facets,
                      category_facets)

    def _author_name(self, searcher: Searcher, generation: Generation, code: int) -> str:
        name = generation.author_names.get(code)
        if name is None:
            docnum = int(generation.columns.first_doc_of_author[code])
            stored = _stored_fields(searcher, [docnum])[docnum] if docnum >= 0 else {}
            name = stored.get("author") or generation.columns.authors.values[code]
            generation.author_names[code] = name
        return name

    def _hits(self, searcher: Searcher, generation: Generation, docs: np.ndarray,
              scores: np.ndarray | None, query: wq.Query | None, *,
              with_snippets: bool = True, earlier: bool = False) -> list[Hit]:
        docnums = [int(d) for d in docs]
        if not docnums:
            return []
        stored = _stored_fields(searcher, docnums)
        matched_versions: dict[int, tuple[int, ...]] = {}
        if earlier and query is not None:
            edited = [_int(stored[d].get("id")) for d in docnums
                      if generation.columns.versions[d] > 1]
            matched_versions = self._earlier_matches(
                searcher, query, [i for i in edited if i is not None])
        ids = {d: _int(stored[d].get("id")) for d in docnums}
        texts = self._texts([i for i in ids.values() if i is not None])
        bodies = {d: texts.get(ids[d] or 0, _NO_TEXT).body for d in docnums}
        indexed_seq = generation.change_seq
        changed = {d for d in docnums if indexed_seq is None or ids[d] not in texts
                   or texts[ids[d] or 0].change_seq > indexed_seq}
        wanted = _positive_terms(query, searcher) if query is not None else _Marked()
        highlighter = Highlighter(searcher.schema["body"].analyzer, wanted.forms,
                                  generation.postings)
        body_terms, title_terms = wanted.body, wanted.title
        if with_snippets and body_terms:
            snippets = highlighter.body_snippets(searcher, "body", body_terms, bodies, changed)
        else:
            snippets = {d: plain_snippet(bodies[d]) for d in docnums}
        titles = highlighter.titles_html(
            searcher, title_terms, {d: stored[d].get("title") or "" for d in docnums})
        hits = []
        for i, docnum in enumerate(docnums):
            fields = stored[docnum]
            title = fields.get("title") or ""
            hits.append(Hit(
                id=ids[docnum] or 0,
                url=fields.get("url") or "",
                title=title,
                author=fields.get("author") or None,
                author_key=fields.get("author_key") or None,
                published=_as_date(fields.get("published")),
                edition=fields.get("edition") or None,
                withdrawn=bool(fields.get("withdrawn")),
                versions=max(1, int(generation.columns.versions[docnum])),
                earlier_versions=matched_versions.get(ids[docnum] or 0, ()),
                snippet=snippets.get(docnum, ""),
                title_html=titles[docnum],
                score=float(scores[i]) if scores is not None else None,
            ))
        return hits

    def _earlier_matches(self, searcher: Searcher, query: wq.Query,
                         article_ids: list[int]) -> dict[int, tuple[int, ...]]:
        """Return, per article, the numbers of its superseded versions that QUERY matches.

        The superseded versions of the page's edited articles are indexed in memory with the
        live schema, and QUERY runs on them through the same match engine: words, phrases and
        exact forms decide version by version.
        """
        if self._earlier_texts is None or not article_ids:
            return {}
        documents = [version_document(f"{article_id}:{version.number}", version.title,
                                      version.body)
                     for article_id, versions in self._earlier_texts(article_ids).items()
                     for version in versions]
        if not documents:
            return {}
        ram = RamStorage().create_index(searcher.schema)
        with ram.writer() as writer:
            for document in documents:
                writer.add_document(**document)
        found: dict[int, list[int]] = {}
        with ram.searcher() as versions:
            for docnum in MatchEngine(versions, {}).match(query).docs.tolist():
                article, _, number = str(versions.stored_fields(docnum)["id"]).partition(":")
                found.setdefault(int(article), []).append(int(number))
        return {article: tuple(sorted(numbers)) for article, numbers in found.items()}

    def _bodies(self, article_ids: list[int]) -> dict[int, str]:
        """Return the body text of each article from the injected reader."""
        return {i: text.body for i, text in self._texts(article_ids).items()}


# ---------------------------------------------------------------------- helpers
def _stored_fields(searcher: Searcher, docnums: list[int]) -> dict[int, dict[str, Any]]:
    """Return the stored fields of each of DOCNUMS, as ``searcher.stored_fields`` gives them
    (read by ``whoosh_format.stored_fields``; by Whoosh's reader where the index is laid out
    otherwise)."""
    leaves = searcher.reader().leaf_readers()
    bases = [base for _, base in leaves]
    found: dict[int, dict[str, Any]] = {}
    try:
        for docnum in docnums:
            leaf, base = leaves[max(0, bisect_right(bases, docnum) - 1)]
            found[docnum] = stored_fields(leaf, docnum - base)
    except UnexpectedLayout as exc:
        report_fallback(searcher, "stored fields", exc)
        return {docnum: searcher.stored_fields(docnum) for docnum in docnums}
    return found


def _check_arguments(sort: str, page: int, page_size: int, since: date | None,
                     until: date | None) -> None:
    if sort not in SORTS:
        raise InvalidInput(f"tri inconnu {sort!r} : choisissez parmi {', '.join(SORTS)}")
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"la page {page!r} est hors limites : de 1 à {MAX_PAGE}")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"la taille de page {page_size!r} est hors limites : de 1 à "
                           f"{MAX_PAGE_SIZE}")
    for name, value in (("since", since), ("until", until)):
        if value is not None and not isinstance(value, date):
            raise InvalidInput(f"{name} doit être une date (AAAA-MM-JJ), pas {value!r}")
    if since is not None and until is not None and plain_date(since) > plain_date(until):
        raise InvalidInput(f"la date de début ({since.isoformat()}) est postérieure à la date "
                           f"de fin ({until.isoformat()})")


def _status_mask(columns: Columns, docs: np.ndarray, status: str) -> np.ndarray:
    """Which of DOCS have STATUS: ``changed`` (more than one version), ``withdrawn``, or
    ``unchanged`` (neither)."""
    withdrawn = columns.withdrawn[docs]
    if status == "withdrawn":
        return np.asarray(withdrawn, dtype=bool)
    if status == "changed":
        return np.asarray(columns.versions[docs] > 1)
    return np.asarray(~withdrawn & (columns.versions[docs] <= 1))


def _author_mask(columns: Columns, docs: np.ndarray,
                 request: SearchRequest) -> np.ndarray | None:
    """Which of DOCS the author filters keep (forgiving spellings); None: no such author."""
    keep = np.ones(len(docs), dtype=bool)
    if request.author is not None and request.author.strip():
        codes = columns.authors_named(request.author)
        if not codes:
            return None
        authors = columns.author[docs]
        keep &= authors == codes[0] if len(codes) == 1 else np.isin(authors, codes)
    for name in request.not_authors:
        keep &= ~np.isin(columns.author[docs], columns.authors_named(name))
    return keep


def _filtered(matches: Matches, columns: Columns, request: SearchRequest) -> Matches:
    """Apply the author, date, edition, category and status filters with the column arrays."""
    if not len(matches):
        return matches
    since, until = request.since, request.until
    keep = np.ones(len(matches), dtype=bool)
    if request.status is not None:
        keep &= _status_mask(columns, matches.docs, request.status)
    authors = _author_mask(columns, matches.docs, request)
    if authors is None:
        return EMPTY
    keep &= authors
    wanted_edition, unwanted_editions = request.edition, request.not_editions
    if wanted_edition is not None and wanted_edition.strip():
        code = columns.editions.index.get(_edition_key(wanted_edition))
        if code is None:
            return EMPTY
        keep &= columns.edition[matches.docs] == code
    for name in unwanted_editions:
        code = columns.editions.index.get(_edition_key(name))
        if code is not None:
            keep &= columns.edition[matches.docs] != code
    if request.category is not None and request.category.strip():
        code = columns.categories.index.get(_category_key(request.category))
        if code is None:
            return EMPTY
        keep &= columns.in_category[code, matches.docs]
    for name in request.not_categories:
        code = columns.categories.index.get(_category_key(name))
        if code is not None:
            keep &= ~columns.in_category[code, matches.docs]
    if since is not None or until is not None:
        days = columns.day[matches.docs]
        keep &= days != NO_DAY
        if since is not None:
            keep &= days >= day_number(plain_date(since))
        if until is not None:
            keep &= days <= day_number(plain_date(until))
    return matches if keep.all() else matches.where(keep)


# Up to this many matches, months and years are counted in plain Python
# (``_few_month_facets``): the dozen numpy calls of ``_month_facets`` cost more than a loop over
# them (docs/whoosh.md, "A query's fixed cost").
_FEW_MATCHES = 100


def _few_month_facets(months: list[int],
                      ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Return what ``_month_facets`` returns, counting the MONTHS (``Columns.month`` values of
    the matches, NO_DAY for an unknown date) one by one."""
    counts: dict[int, int] = {}
    for month in months:
        if month != NO_DAY:
            counts[month] = counts.get(month, 0) + 1
    month_facets: list[tuple[int, int, int]] = []
    year_facets: list[tuple[int, int]] = []
    for month, count in sorted(counts.items()):
        year, month_of_year = month_parts(month)
        month_facets.append((year, month_of_year, count))
        if year_facets and year_facets[-1][0] == year:
            year_facets[-1] = (year, year_facets[-1][1] + count)
        else:
            year_facets.append((year, count))
    return month_facets, year_facets


def _month_facets(first: int, counts: np.ndarray,
                  ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Return (year, month, count) of every month with a count and (year, count) of every
    year, in order, from COUNTS per month starting at month FIRST (``Columns.month`` values).

    Counted with numpy to the end: a search over a decade lists some 130 months, one Python
    step each before.
    """
    present = np.flatnonzero(counts)
    if not len(present):
        return [], []
    year, month = months_parts(first + present)
    count = counts[present]
    starts = np.flatnonzero(np.diff(year, prepend=year[0] - 1))  # each year's first month
    return (list(zip(year.tolist(), month.tolist(), count.tolist(), strict=True)),
            list(zip(year[starts].tolist(), np.add.reduceat(count, starts).tolist(),
                     strict=True)))


def _edition_key(edition: str) -> str:
    return edition.strip().lower()


def _category_key(category: str) -> str:
    return " ".join(category.split()).lower()


# Settling typed forms: the matches with the highest ceilings settled first, at least this many
# times the page; and the margin kept for rounding when a ceiling is compared with a score.
_SETTLE_FIRST = 4
_SETTLE_MARGIN = 1e-9
_SETTLE_SLACK = 1e-6
# Matches still reaching the floor beyond this many times the last round are settled in a
# further round of that many, the highest ceilings first.
_SETTLE_ROUND = 4


def _best_page_only(request: SearchRequest) -> bool:
    """Whether REQUEST shows its best-scored matches among all it matches: by relevance,
    without a filter, earlier versions or folded copies (``MatchEngine.match``'s PAGE)."""
    return (request.sort == "relevance" and not request.earlier and not request.fold
            and request.author is None and request.since is None and request.until is None
            and request.edition is None and request.category is None
            and request.status is None and not request.not_authors
            and not request.not_editions and not request.not_categories)


def _settle_first(limit: int, sort: str) -> int:
    """How many matches ``_settled`` settles in any case to decide the first LIMIT in SORT
    order: by relevance the highest ceilings first, by date the page's days (LIMIT at least)."""
    return max(_SETTLE_FIRST * limit, 40) if sort == "relevance" else limit


def _settled(matches: Matches, days: np.ndarray, sort: str, limit: int) -> Matches:
    """Return MATCHES with final scores wherever they decide the first LIMIT in SORT order.

    Scores still lacking typed forms (``Matches.ceiling``) are settled for the matches with
    the highest ceilings; every match whose ceiling still reaches the LIMIT-th final score
    is settled too, so the others cannot enter the page. By date, the matches of the days
    the page reaches are settled (scores break ties of a day).
    """
    return _settled_page(matches, days, sort, limit)[0]


def _settled_page(matches: Matches, days: np.ndarray, sort: str,
                  limit: int) -> tuple[Matches, np.ndarray | None]:
    """Return ``_settled``'s matches, and the positions (ascending) among which their first
    LIMIT by relevance lie when settling found them (None: anywhere).

    Every match outside them has a ceiling below the LIMIT-th final score found, so it
    scores below the LIMIT best without a tie: ordering those few for the page gives the
    same page as ordering every match (``_page_order``).
    """
    if matches.ceiling is None or not len(matches) or limit <= 0 \
            or (sort == "relevance" and limit <= matches.exact_first):
        return matches, None
    count = len(matches)
    if sort != "relevance":
        days64 = _day_keys(days, sort)
        if count > limit:
            threshold = np.partition(days64, count - limit)[count - limit]
            return matches.settled(np.flatnonzero(days64 >= threshold)), None
        return matches.settled(np.arange(count)), None
    first = min(count, _settle_first(limit, sort))
    if first >= count:
        return matches.settled(np.arange(count)), None
    # One copy of the scores for the whole page: each match's arithmetic is one comparison,
    # and only the few near the page's floor are tested exactly and settled.
    ceiling = matches.ceiling
    positions = np.sort(np.argpartition(ceiling, count - first)[count - first:])
    settled, final = matches.final_scores(positions)
    scores = matches.scores.copy()
    scores[settled] = final
    size, before = first, None
    while True:
        floor = np.partition(scores[positions], len(positions) - limit)[len(positions) - limit]
        # Every ceiling the exact test below lets reach the floor is within a few margins of
        # it: ``_SETTLE_SLACK`` (far more than those) keeps them all and few others.
        near = np.flatnonzero(ceiling >= floor - (abs(floor) + 1.0) * _SETTLE_SLACK)
        upper = ceiling[near]
        done = np.searchsorted(settled, near)  # both ascending: the settled among NEAR
        done = settled[np.minimum(done, max(len(settled) - 1, 0))] == near if len(settled) \
            else np.zeros(len(near), dtype=bool)
        reach = (upper + (np.abs(upper) + 1.0) * _SETTLE_MARGIN >= floor) \
            & (upper != scores[near]) & ~done
        waiting = near[reach]
        size *= _SETTLE_ROUND
        if len(waiting) <= size or (before is not None and len(waiting) * 2 > before):
            break
        # Many still reach the floor: the highest ceilings among them first, in a round four
        # times the last, raise it (as ``MatchEngine._probed_pay`` probed it), while a round
        # (after the first) halves those reaching it: else each round's documents are one
        # more read of the same blocks (typed forms of common words).
        before = len(waiting)
        chosen = np.sort(waiting[np.argpartition(ceiling[waiting], len(waiting) - size)
                                 [len(waiting) - size:]])
        got, final = matches.final_scores(chosen)
        scores[got] = final
        settled = np.union1d(settled, got)
        positions = np.union1d(positions, chosen)
    more, final = matches.final_scores(waiting)
    scores[more] = final
    # The ceilings not updated still bound the final scores: the matches are as settled.
    # The LIMIT best are among NEAR: every other match's ceiling (and so its score, final or
    # not) is below the floor, which LIMIT of the first settled reach (their ceilings too).
    return Matches(matches.docs, scores, ceiling, matches.settle), near


def _page_order(matches: Matches, days: np.ndarray, sort: str, limit: int,
                among: np.ndarray | None = None) -> np.ndarray:
    """Return the positions of the first LIMIT MATCHES in SORT order (``_top``); when their
    scores are known to be among the exact ones (``Matches.exact_first``), from those alone:
    the others' scores are all 0, and a million equal values slow ``np.partition`` some
    fifteenfold. AMONG (positions, ascending: ``_settled_page``) holds the first LIMIT by
    relevance when given: they are ordered from those alone (a common word's 400,000
    matches at a million articles cost ``np.partition`` 4-10 ms)."""
    if among is not None and sort == "relevance":
        chosen: np.ndarray = among[_top(matches.scores[among], days[among],
                                        matches.docs[among], sort, limit)]
        return chosen
    if sort == "relevance" and matches.ceiling is not None and 0 < limit <= matches.exact_first:
        exact = np.flatnonzero(matches.ceiling == matches.scores)
        order: np.ndarray = exact[_top(matches.scores[exact], days[exact],
                                       matches.docs[exact], sort, limit)]
        return order
    return _top(matches.scores, days, matches.docs, sort, limit)


def _day_keys(days: np.ndarray, sort: str) -> np.ndarray:
    """Days as int64 keys, larger first in SORT's order (oldest: negated, NO_DAY still last)."""
    days64 = days.astype(np.int64)
    if sort == "oldest":
        days64 = np.where(days64 == NO_DAY, NO_DAY, -days64)
    return days64


def _top(scores: np.ndarray, days: np.ndarray, docs: np.ndarray, sort: str,
         limit: int) -> np.ndarray:
    """Return the positions of the first LIMIT matches in order (newest first for "date")."""
    count = int(docs.shape[0])
    if count == 0 or limit <= 0:
        return np.zeros(0, dtype=np.int64)
    days64 = _day_keys(days, sort)
    if sort == "oldest":
        # Oldest first: the same order on negated days (an unknown day, NO_DAY, comes last).
        sort = "date"
    primary = days64 if sort == "date" else scores
    candidates = np.arange(count)
    if count > 4 * limit:
        threshold = np.partition(primary, count - limit)[count - limit]
        candidates = np.flatnonzero(primary >= threshold)
    if sort == "date":
        keys = (docs[candidates], -scores[candidates], -days64[candidates])
    else:
        keys = (docs[candidates], -days64[candidates], -scores[candidates])
    return candidates[np.lexsort(keys)][:limit]


@dataclass
class _Marked:
    """The words a page of hits shows marked: stems per field, and forms quoted words need."""

    body: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    forms: dict[str, set[str]] = field(default_factory=dict)
    any_form: set[str] = field(default_factory=set)

    def add(self, field_name: str, stem: str, form: str | None = None) -> None:
        target = self.body if field_name == "body" else self.title
        target.append(stem)
        if form is None:
            self.any_form.add(stem)
            self.forms.pop(stem, None)
        elif stem not in self.any_form:
            self.forms.setdefault(stem, set()).add(form)


_MARKED_PREFIX_WORDS = 50


def _positive_terms(query: wq.Query, searcher: Searcher) -> _Marked:
    """Return the body and title words a result should show marked (never excluded ones).

    Words of the exact-form fields are marked through their stems' offsets, only where the
    text has the form itself: a quoted ``"gouvernement"`` does not mark « gouvernés ».
    """
    marked = _Marked()
    exact_words_of: list[tuple[str, str]] = []

    def walk(node: wq.Query) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
        elif isinstance(node, wq.Term | wq.Phrase | wq.Prefix):
            for name, word, exact in _leaf_words(node, searcher):
                if exact:
                    exact_words_of.append((name, word))
                else:
                    marked.add(name, word)
        else:
            for child in node.children():
                walk(child)

    walk(query)
    for name, word in exact_words_of:
        if word.endswith("'") or word in FRENCH_STOP_WORDS:
            continue  # articles and stop words are not in the stemmed field's offsets
        marked.add(name, stem_french(word), word)
    return marked


def _leaf_words(node: wq.Query, searcher: Searcher) -> list[tuple[str, str, bool]]:
    """Return (title or body, word, is an exact form) for a term, phrase or prefix node."""
    name = node.fieldname
    if name in ("body", "title"):
        exact = False
    elif name in _STEMMED_OF:
        exact, name = True, _STEMMED_OF[name]
    else:
        return []
    if isinstance(node, wq.Prefix):
        words = prefix_words(searcher, node.fieldname, node.text, _MARKED_PREFIX_WORDS)
        return [(name, _text(word), exact) for word in words]
    if isinstance(node, wq.Term):
        return [(name, node.text, exact)] if isinstance(node.text, str) else []
    return [(name, word, exact) for word in node.words if isinstance(word, str)]


# The exact-form fields of the live text: a word found in either is known to the archive.
_EXACT_TEXT_FIELDS = (EXACT_FIELDS["title"], EXACT_FIELDS["body"])

# The exact-form fields whose words are marked in results, and the field they mark.
_STEMMED_OF = {EXACT_FIELDS["title"]: "title", EXACT_FIELDS["body"]: "body"}


def _text(word: str | bytes) -> str:
    return word.decode("utf-8") if isinstance(word, bytes) else word


def _suggestion(text: str, searcher: Searcher) -> str | None:
    """Return TEXT with unknown words replaced by the closest indexed ones, or None."""
    reader = searcher.reader()
    if "spell" not in searcher.schema:
        return None
    corrector = searcher.corrector("spell")
    changed = False

    analyzer = searcher.schema["spell"].analyzer
    exact = searcher.schema[EXACT_FIELDS["body"]].analyzer

    def fix(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group()
        if word in _OPERATOR_WORDS or len(word) < 3:
            return word
        lowered = word.lower()
        tokens = [t.text for t in analyzer(lowered)]
        # Only plain words are corrected: an elided or hyphenated word is left as typed.
        if tokens != [lowered] or ("spell", lowered) in reader:
            return word
        # The spelling field holds titles and leads only: a word found anywhere in the texts
        # is not a typo, and correcting it would cost a scan of the vocabulary (a tenth of a
        # second and more on a large index) to propose another word.
        if any((field, token.text) in reader for field in _EXACT_TEXT_FIELDS
               for token in exact(lowered)):
            return word
        found = []
        # A shared prefix keeps the corrector fast (prefix 0 takes seconds on a large
        # vocabulary); the first letter is also tried with the accents readers leave out.
        for variant in _first_letter_variants(lowered):
            found = corrector.suggest(variant, limit=1, maxdist=2, prefix=2)
            if found:
                break
        if not found or found[0] == lowered:
            return word
        changed = True
        return str(found[0])

    try:
        suggested = _WORD.sub(fix, text)
    except Exception:  # noqa: BLE001 - a suggestion is a nicety, never a failure
        return None
    return suggested if changed else None


_ACCENTED_INITIALS = {"e": "éèê", "a": "àâ", "o": "ô", "i": "î", "u": "û", "c": "ç"}


def _first_letter_variants(word: str) -> list[str]:
    """Return WORD, then WORD with its first letter accented the usual French ways."""
    return [word] + [f"{accented}{word[1:]}" for accented in _ACCENTED_INITIALS.get(word[0], "")]


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
