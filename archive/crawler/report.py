"""The run report: what one crawl did, as counts, per-page errors, channels, and a summary line.

While a run is under way its outcomes are also appended to a journal next to the report, so a
run resumed after ``kill -9`` reports the work done before the kill too.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from archive.french import count as _n

COUNT_NAMES = (
    "discovered", "fetched", "not_modified", "not_requested", "new", "changed", "unchanged",
    "withdrawn", "not_article", "withheld", "errors", "skipped_by_robots",
)
"""Every count of a run report, in the order the report lists them."""

STATUS_WORDS = {"running": "en cours", "partial": "collecte partielle",
                "abandoned": "abandonnée", "unreachable": "site injoignable"}
"""How the summary line names a run that did not complete (the JSON keeps the English word)."""


@dataclass
class CrawlReport:
    """What one crawl run did."""

    run_id: int
    seeds: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    resumed: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    disagreements: list[dict[str, str]] = field(default_factory=list)
    revisits: dict[str, Any] = field(default_factory=dict)
    editions: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def archived(self) -> int:
        """Articles seen intact this run (new, changed or unchanged)."""
        return self.counts["new"] + self.counts["changed"] + self.counts["unchanged"]

    @property
    def reachable_sites(self) -> int:
        """How many seed sites answered."""
        return sum(1 for site in self.sites if site.get("reachable"))

    def error(self, url: str, kind: str, detail: str) -> None:
        """Record one page-level problem (the crawl goes on)."""
        self.errors.append({"url": url, "kind": kind, "detail": detail})
        self.counts["errors"] += 1

    def summary(self) -> str:
        """Return the one line printed at the end of a crawl."""
        sites = len(self.sites)
        counts = self.counts
        line = (
            f"{_n(self.archived, 'article archivé', 'articles archivés')} de "
            f"{_n(sites, 'site')} : {_n(counts['new'], 'nouveau', 'nouveaux')}, "
            f"{_n(counts['changed'], 'modifié')}, {_n(counts['unchanged'], 'inchangé')}, "
            f"{_n(counts['withdrawn'], 'retiré')} ; {_n(counts['errors'], 'erreur')}"
        )
        if self.path is not None:
            line += f" (rapport : {self.path})"
        if self.status != "complete":
            line += f" [{STATUS_WORDS.get(self.status, self.status)}]"
        return line

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object."""
        duration = (
            (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
        )
        return {
            "run_id": self.run_id,
            "seeds": self.seeds,
            "status": self.status,
            "resumed": self.resumed,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": duration,
            "counts": {name: self.counts[name] for name in COUNT_NAMES},
            "sites": self.sites,
            "notes": self.notes,
            "cpu_seconds": {name: round(value, 4) for name, value in self.cpu_seconds.items()},
            "errors": self.errors,
            "disagreements": self.disagreements,
            "revisits": self.revisits,
            "editions": self.editions,
        }

    def write(self, path: Path) -> Path:
        """Write the report to PATH atomically and remember where it is."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        os.replace(temporary, path)
        return path


class RunJournal:
    """An append-only record of each URL's outcome during a run (survives ``kill -9``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None

    def load(self, done: Container[str]) -> tuple[Counter[str], list[dict[str, str]], int]:
        """Return the counts, errors and number of URLs recorded before an interruption.

        Only the URLs in DONE (whose outcome the archive committed) count: a line written
        just before a commit that never happened is the outcome of a URL the resumed run
        does again, and counts then."""
        latest: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # the line being written when the process was killed
                    if isinstance(event, dict) and isinstance(event.get("url"), str) \
                            and event["url"] in done:
                        latest[event["url"]] = event
        counts: Counter[str] = Counter()
        errors: list[dict[str, str]] = []
        for event in latest.values():
            counts.update(event.get("counts", []))
            if event.get("error"):
                errors.append(event["error"])
        return counts, errors, len(latest)

    def record(
        self, url: str, counts: Iterable[str], error: dict[str, str] | None = None
    ) -> None:
        """Append the outcome of URL."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        event = {"url": url, "counts": list(counts), "error": error}
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the journal file (a failure to flush it is not reported: it is only an aid
        to resume, and the error that caused it is already on its way)."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError:
                pass

    def remove(self) -> None:
        """Close and delete the journal once the final report is written."""
        self.close()
        self.path.unlink(missing_ok=True)
