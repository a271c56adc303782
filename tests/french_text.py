"""The English words no French text of the product may hold, for the language tests."""

from __future__ import annotations

import re

ENGLISH = re.compile(
    r"\b(usage|show|shows|this|exit|commands?|default|required|error|invalid|missing|"
    r"no such|did you mean|try|value|is|not|the|and|of|to|with|for|from|file|directory|"
    r"text|integer|float|range|path|found|cannot|could|must|run|after|before|"
    r"worker|booting|listening|starting|shutting|handling|master|exiting|using|running|"
    r"press|quit|warning|development|server|request|connection|refused|reset|failed|"
    r"unable|expecting|while|line|column)\b",
    re.IGNORECASE,
)
"""English words no line the product writes for people may hold (option names and paths aside)."""

TECHNICAL = re.compile(r"détail technique : .*")
"""A library's own text, kept for experts after a French lead, to the end of its line."""


def english_words(text: str) -> list[str]:
    """Return the English words of TEXT, leaving out options, paths, URLs, dotted names (a
    module, a host), choice lists and the technical details after « détail technique : »."""
    prose = TECHNICAL.sub(" ", text)
    prose = re.sub(r"--[\w-]+|\S*[/\\]\S*|\[[\w|]+\]|'[\w-]+'|\w+(?:\.\w+)+", " ", prose)
    return ENGLISH.findall(prose)
