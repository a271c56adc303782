"""A citation as reference managers import it: BibTeX, RIS and Highwire ``citation_*`` tags.

Zotero, Mendeley and Citavi read the ``citation_*`` meta tags of a page (Highwire Press
names, the ones Google Scholar documents) and import ``.bib`` and ``.ris`` files.
"""

from __future__ import annotations

import re

from archive.web.citation import SITE, Citation
from archive.web.links import web_link

BIBTEX_ESCAPES = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
    "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}",
})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _line(text: str | None) -> str:
    """Return TEXT on one line: platform text may hold newlines or control characters."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def _bibtex(text: str | None) -> str:
    """Return TEXT on one line with BibTeX's special characters escaped."""
    return _line(text).translate(BIBTEX_ESCAPES)


def bibtex_key(citation: Citation) -> str:
    """Return a BibTeX key naming the article and the version: ``notrecontinent15v2``."""
    return f"notrecontinent{citation.article_id}v{citation.version}"


def bibtex(citation: Citation) -> str:
    """Return CITATION as one BibTeX ``@online`` entry (biblatex fields)."""
    fields = [
        ("author", f"{{{_bibtex(citation.author)}}}" if citation.author else None),
        ("title", _bibtex(citation.title)),
        ("date", citation.published.isoformat() if citation.published else None),
        ("organization", _bibtex(citation.site)),
        ("url", _line(citation.archived_url)),
        ("urldate", citation.captured_at.date().isoformat() if citation.captured_at else None),
        ("version", str(citation.version)),
        ("note", _bibtex(
            f"Version {citation.version} sur {citation.version_count}, SHA-256 "
            f"{citation.content_hash}. URL originale : {citation.original_url}"
            + (f". Retiré de la plateforme le {citation.withdrawn_at.date().isoformat()}"
               if citation.withdrawn_at else ""))),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@online{{{bibtex_key(citation)},\n{body}\n}}\n"


def ris(citation: Citation) -> str:
    """Return CITATION as one RIS record (type ELEC), CRLF line ends as the format wants."""
    tags: list[tuple[str, str | None]] = [
        ("TY", "ELEC"),
        ("AU", citation.author),
        ("TI", citation.title),
        ("PY", str(citation.published.year) if citation.published else None),
        ("DA", citation.published.strftime("%Y/%m/%d") if citation.published else None),
        ("T2", citation.site),
        ("PB", SITE),
        ("UR", citation.archived_url),
        ("Y2", citation.captured_at.strftime("%Y/%m/%d") if citation.captured_at else None),
        ("ET", f"Version {citation.version} sur {citation.version_count}"),
        ("N1", f"SHA-256 {citation.content_hash}. URL originale : {citation.original_url}"),
        ("LA", "fr"),
    ]
    lines = [f"{tag}  - {_line(value)}" for tag, value in tags if value]
    return "\r\n".join([*lines, "ER  - ", ""])


def highwire(citation: Citation) -> list[tuple[str, str]]:
    """Return the (name, content) pairs of the ``citation_*`` meta tags of CITATION."""
    tags = [("citation_title", _line(citation.title))]
    if citation.author:
        tags.append(("citation_author", _line(citation.author)))
    if citation.published:
        tags.append(("citation_publication_date", citation.published.strftime("%Y/%m/%d")))
        tags.append(("citation_date", citation.published.strftime("%Y/%m/%d")))
    if citation.modified:
        tags.append(("citation_online_date", citation.modified.strftime("%Y/%m/%d")))
    tags += [
        ("citation_journal_title", citation.site),
        ("citation_publisher", SITE),
        ("citation_language", "fr"),
        ("citation_public_url", citation.archived_url),
    ]
    original = web_link(citation.original_url)
    if original:  # only an http(s) address is offered as a link
        tags.append(("citation_abstract_html_url", original))
    tags.append(("citation_fulltext_html_url", citation.archived_url))
    return tags
