"""The Whoosh schema of the search index: which article fields are indexed, and how.

The index stores only what a result list shows; the body is indexed (positions and character
offsets, for phrases and fast highlighting) but its text stays in SQLite. Title and body are
indexed twice: stemmed (``title``, ``body``) and as written, case and accents folded
(``title_exact``, ``body_exact``, positions only) for exact phrases and forms. Positions and
offsets are stored in the compact format of ``indexer.postings_format``. Pairs of
consecutive frequent words are indexed as one term for both (``*_pairs``; ids only for the
stemmed pairs, positions too for the exact ones).
"""

from __future__ import annotations

from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence

from indexer.analysis import (
    exact_analyzer,
    exact_word_pair_analyzer,
    french_analyzer,
    spelling_analyzer,
    word_pair_analyzer,
)
from indexer.postings_format import CompactPositions, compact_format

# Bump when a field, an analyzer or the posting layout changes: an index built with another
# version is rebuilt in full by the next `python -m archive index` instead of being updated in
# place. 7: the index's own posting blocks (indexer/posting_blocks.py) instead of Whoosh's.
# 8: the index's own term dictionary (indexer/term_dictionary.py) instead of Whoosh's hash table.
SCHEMA_VERSION = 8

TITLE_BOOST = 2.0
# The word-pair field of each phrase field: a two-word phrase is one term there.
PAIR_FIELDS = {"title": "title_pairs", "body": "body_pairs",
               "title_exact": "title_exact_pairs", "body_exact": "body_exact_pairs"}
# The exact-form field of each stemmed text field: quoted phrases, prefixes and proximity are
# searched there, and a plain word's exact form adds to the score of its stemmed match.
EXACT_FIELDS = {"title": "title_exact", "body": "body_exact", "earlier": "earlier_exact"}
# Where a query of the current text looks in the superseded versions' text.
EARLIER_FIELDS = {"title": "earlier", "body": "earlier", "title_exact": "earlier_exact",
                  "body_exact": "earlier_exact"}


def build_schema(pair_words: frozenset[str] | None = None,
                 exact_pair_words: frozenset[str] | None = None) -> Schema:
    """Return the schema of a new index build, pairing PAIR_WORDS in phrases (None: all).

    EXACT_PAIR_WORDS are the exact-form words paired for quotations (None: all).
    """
    french = french_analyzer()
    exact = exact_analyzer()
    schema = Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=TEXT(analyzer=french, stored=True, field_boost=TITLE_BOOST, phrase=True,
                   chars=True),
        body=TEXT(analyzer=french, stored=False, phrase=True, chars=True),
        title_exact=TEXT(analyzer=exact, stored=False, field_boost=TITLE_BOOST, phrase=True),
        body_exact=TEXT(analyzer=exact, stored=False, phrase=True),
        author=TEXT(analyzer=french_analyzer(stem=False), stored=True),
        author_key=ID(stored=True, sortable=True),
        published=DATETIME(stored=True, sortable=True),
        edition=ID(stored=True, sortable=True),
        categories=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
        withdrawn=BOOLEAN(stored=True),
        # Columns for the « statut » filter and the « modifié N fois » badge.
        status=ID(stored=False, sortable=True),
        versions=NUMERIC(int, bits=32, signed=False, stored=True, sortable=True),
        # The superseded versions' text (titles and bodies), for « versions antérieures ».
        earlier=TEXT(analyzer=french, stored=False, phrase=True),
        earlier_exact=TEXT(analyzer=exact, stored=False, phrase=True),
        spell=TEXT(analyzer=spelling_analyzer(), stored=False, phrase=False),
        title_pairs=_word_pairs(pair_words),
        body_pairs=_word_pairs(pair_words),
        title_exact_pairs=_word_pairs(exact_pair_words, exact=True),
        body_exact_pairs=_word_pairs(exact_pair_words, exact=True),
    )
    # Positions and character offsets in the index's own compact format (varints, read
    # with numpy: indexer/postings_format.py) instead of Whoosh's per-posting pickles.
    for _, field in schema.items():
        field.format = compact_format(field.format)
    return schema


def _word_pairs(words: frozenset[str] | None, exact: bool = False) -> FieldType:
    # Only which documents hold a pair: phrases are scored with their words' BM25, as Whoosh
    # scores them, so the pair field needs no frequencies or positions. It is "scorable" only
    # because Whoosh's writer looks for a field's length column at every posting, and without
    # one that is a file-system stat each time.
    # The exact pairs keep their positions: a quotation of common words is checked on them.
    if exact:
        return FieldType(CompactPositions(), exact_word_pair_analyzer(words), scorable=True,
                         stored=False)
    return FieldType(Existence(), word_pair_analyzer(words), scorable=True, stored=False)
