"""What the index holds: bytes per field and per kind of data, from a built index's own files.

    python bench/index_contents.py INDEX_DIR [--sample 400] [--json]

For each indexed field: terms (and how many have their postings inlined in their entry), the
term dictionary's share of the ``.trm`` file (keys and term infos, inlined postings included,
with the dictionary's own structure: its blocks' lengths and directory, or Whoosh's hash table),
the bytes of posting blocks in ``.pst``, and how those bytes split between document numbers with
weights and per-posting values (positions, and character offsets where the field keeps them).
The split is measured on a sample of terms drawn in proportion to their bytes (a term's
directory and packed numbers against its values; for fields with character offsets, its
values re-encoded with positions only), so the shares are estimates; the totals are exact.
Then the per-document files (stored fields, field lengths, sortable columns) and any other
file of the build (the associated-words table). Sizes are MB (2**20 bytes).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_MB = 2**20


def main() -> None:
    """Print the table of what the index at INDEX_DIR holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", help="an index folder (with its current symlink)")
    parser.add_argument("--sample", type=int, default=400, help="terms sampled per field")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args()
    from archive.errors import ArchiveError

    try:
        report = contents(Path(options.index_dir), options.sample)
    except ArchiveError as exc:  # e.g. a build folder given instead of the index folder
        raise SystemExit(f"index_contents: {exc}") from None
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


def contents(index_dir: Path, sample: int) -> dict[str, Any]:
    """Return what the live build of INDEX_DIR holds (see the module's docstring)."""
    from indexer.location import current_build, open_current

    build = current_build(index_dir) or index_dir
    ix = open_current(index_dir)
    rng = random.Random(5)
    fields: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    with ix.searcher() as searcher:
        documents = searcher.doc_count_all()
        for leaf, _ in searcher.reader().leaf_readers():
            extents = _dictionary(leaf, fields)
            for name, field in ix.schema.items():
                if field.indexed:
                    fields[name]["format"] = type(field.format).__name__
                    _sample_blocks(leaf, field, extents[name], fields[name], rng, sample)
    ix.close()
    return {"build": str(build), "documents": documents,
            "total_mb": round(sum(_files(build).values()) / _MB, 1),
            "fields": {name: _field_row(row) for name, row in fields.items() if "format" in row},
            "files_mb": {k: round(v / _MB, 1) for k, v in sorted(_files(build).items(),
                                                                  key=lambda kv: -kv[1])}}


# What Whoosh's hash-table term file spends on a term besides its key and value: the
# record's two lengths (8 bytes), its position in the ordered index (4) and two hash slots (24).
_HASH_TABLE_BYTES = 36


def _dictionary(leaf: Any, fields: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Count the term entries of a segment per field; return the block extents per field.

    The dictionary's bytes per field: in the index's term dictionary, its blocks and its
    section of the directory; in Whoosh's hash-table term file (an index written before it),
    each term's key (field number and term), its info (which holds the postings of a short
    list, inlined) and ``_HASH_TABLE_BYTES``.
    """
    from whoosh.codec.whoosh3 import W3TermInfo

    terms = leaf._terms
    extents: dict[str, list[Any]] = defaultdict(list)
    dictionary = getattr(terms, "_dictionary", None)
    if dictionary is not None:
        items = ((name, value) for name, _, value in dictionary.items())
        for name, size in dictionary.field_sizes().items():
            fields[name]["dictionary"] += size
    else:
        items = ((terms._keydecoder(key)[0], value) for key, value in terms._tindex.items())
        for key, value in terms._tindex.items():
            fields[terms._keydecoder(key)[0]]["dictionary"] += (
                len(key) + len(value) + _HASH_TABLE_BYTES)
    for name, value in items:
        row = fields[name]
        row["terms"] += 1
        info = W3TermInfo.from_bytes(value)
        if info.is_inlined():
            row["inlined_terms"] += 1
            continue
        length = info.extent()[1]
        length = length[0] if isinstance(length, tuple) else length
        row["blocks"] += length
        extents[name].append((length, info))
    return extents


def _sample_blocks(leaf: Any, field: Any, extents: list[Any], row: dict[str, Any],
                   rng: random.Random, sample: int) -> None:
    """Measure the share of ids and weights (and of positions) in terms drawn by their bytes.

    Drawn in proportion to their bytes, a plain mean of the terms' shares is the field's
    byte-weighted share. A term's postings are its directory and packed numbers (ids,
    weights, value sizes) then its values (``indexer.posting_blocks``); for a field with
    character offsets, its values are re-encoded with positions only.
    """
    from indexer.posting_blocks import VALUES_AT, read_directory
    from indexer.postings_format import CompactCharacters, CompactPositions
    from indexer.whoosh_format import _read_whole

    total = sum(length for length, _ in extents)
    picks = sorted(rng.uniform(0, total) for _ in range(min(sample, len(extents))))
    cumulative, pick, chosen = 0, 0, []
    for length, info in extents:
        cumulative += length
        while pick < len(picks) and picks[pick] <= cumulative:
            chosen.append(info)
            pick += 1
    characters = isinstance(field.format, CompactCharacters)
    positions_format = CompactPositions() if characters else None
    for info in chosen:
        raw = _read_whole(leaf._terms._postfile, (0, *_extent_of(info), None))
        directory = read_directory(raw, len(raw))
        values_at = int(directory[VALUES_AT, 0])
        whole = len(raw)
        if not whole:
            continue
        row["sampled"] += 1
        row["share_ids"] += values_at / whole
        if positions_format is not None:
            # The values joined decode as one value whose deltas are the values' own, so
            # its positions alone take as many bytes as the values' positions.
            occurrences = field.format.decode_characters(raw[values_at:])
            positions = len(positions_format.encode([p for p, _, _ in occurrences]))
            row["share_positions"] += (values_at + positions) / whole


def _extent_of(info: Any) -> tuple[int, int]:
    offset, length = info.extent()
    return offset, length[0] if isinstance(length, tuple) else length


def _field_row(row: dict[str, Any]) -> dict[str, Any]:
    sampled = row.get("sampled", 0) or 1
    postings = row.get("blocks", 0)
    ids = postings * row.get("share_ids", sampled) / sampled
    characters = "share_positions" in row
    positions = postings * row["share_positions"] / sampled if characters else postings
    return {
        "format": row["format"],
        "terms": int(row.get("terms", 0)),
        "inlined_terms": int(row.get("inlined_terms", 0)),
        "dictionary_mb": round(row.get("dictionary", 0) / _MB, 1),
        "postings_mb": round(postings / _MB, 1),
        "ids_weights_mb": round(ids / _MB, 1),
        "positions_mb": round(max(0.0, min(positions, postings) - ids) / _MB, 1),
        "characters_mb": round(max(0.0, postings - positions) / _MB, 1) if characters else 0.0,
    }


def _files(build: Path) -> dict[str, float]:
    """Bytes of the build's files by kind (a compound segment is one ``.seg`` file)."""
    files: dict[str, float] = defaultdict(float)
    for path in build.iterdir():
        if not path.is_file():
            continue
        name = path.name
        if name.endswith(".col"):
            kind = name.split(".", 1)[1].rsplit(".", 1)[0]
            kind = "field lengths" if kind.endswith("_len") else (
                "stored fields" if kind == "_stored" else f"column {kind}")
        elif name.endswith((".trm", ".pst", ".seg", ".words.npz")):
            kind = {".trm": "term dictionaries (.trm)", ".pst": "postings (.pst)",
                    ".seg": "compound segments (.seg)", ".npz": "associated words (.words.npz)",
                    }[name[name.rindex("."):]]
        else:
            kind = "other"
        files[kind] += path.stat().st_size
    return files


def print_table(report: dict[str, Any]) -> None:
    """Print REPORT as two tables: fields, then files."""
    print(f"{report['build']}: {report['documents']:,} documents, {report['total_mb']} MB")
    print(f"{'field':<15}{'format':<12}{'terms':>10}{'inlined':>10}{'dict MB':>9}{'post MB':>9}"
          f"{'ids+w MB':>10}{'pos MB':>8}{'chars MB':>10}")
    for name, row in sorted(report["fields"].items(), key=lambda kv: -kv[1]["postings_mb"]):
        print(f"{name:<15}{row['format']:<12}{row['terms']:>10,}{row['inlined_terms']:>10,}"
              f"{row['dictionary_mb']:>9}"
              f"{row['postings_mb']:>9}{row['ids_weights_mb']:>10}{row['positions_mb']:>8}"
              f"{row['characters_mb']:>10}")
    print(f"{'file kind':<40}{'MB':>8}")
    for kind, size in report["files_mb"].items():
        print(f"{kind:<40}{size:>8}")


if __name__ == "__main__":
    main()
