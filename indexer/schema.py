"""The Whoosh schema of the search index: which article fields are indexed, and how.

The index stores only what a result list shows; the body is indexed (positions and character
offsets, for phrases and fast highlighting) but its text stays in SQLite.
"""

from __future__ import annotations

from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from indexer.analysis import french_analyzer, spelling_analyzer

# Bump when a field or an analyzer changes: an index built with another version is rebuilt
# in full by the next `python -m archive index` instead of being updated in place.
SCHEMA_VERSION = 1

TITLE_BOOST = 2.0


def build_schema() -> Schema:
    """Return the schema of a new index build."""
    french = french_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=TEXT(analyzer=french, stored=True, field_boost=TITLE_BOOST, phrase=True,
                   chars=True),
        body=TEXT(analyzer=french, stored=False, phrase=True, chars=True),
        author=TEXT(analyzer=french_analyzer(stem=False), stored=True),
        author_key=ID(stored=True, sortable=True),
        published=DATETIME(stored=True, sortable=True),
        edition=ID(stored=True, sortable=True),
        categories=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
        withdrawn=BOOLEAN(stored=True),
        spell=TEXT(analyzer=spelling_analyzer(), stored=False, phrase=False),
    )
