"""The demo's own archive for the evidence tests: the replica's stories crawled over loopback,
edited, withdrawn and brought back between passes by ``run_demo`` itself, then indexed.

The same code builds what a newcomer sees with ``python -m archive demo`` and what the tests
check (Datasette's habit), so the tests hold real WARC captures, versions and events.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from archive.commands.demo import DEMO_CHANGES, DemoChanges, run_demo
from archive.config import load_settings
from archive.replica import Corpus
from archive.store import Archive

DEMO_ARTICLES = 20


@dataclass(frozen=True)
class DemoArchive:
    """A data directory built by the demo, with the changes it made."""

    data_dir: Path
    corpus: Corpus
    changes: DemoChanges
    ids: dict[int, int]

    def article_id(self, post_id: int) -> int:
        """Return the archive id of the replica's post POST_ID."""
        return self.ids[post_id]


def free_ports(count: int) -> int:
    """Return the first of COUNT consecutive ports free on 127.0.0.1."""
    for start in range(21000, 60000, 89):
        probes: list[socket.socket] = []
        try:
            for port in range(start, start + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free port range on 127.0.0.1")


def build_demo_archive(data_dir: Path, articles: int = DEMO_ARTICLES) -> DemoArchive:
    """Run the demo without serving into DATA_DIR; return what it built."""
    settings = load_settings(environ={}, data_dir=data_dir)
    run_demo(settings, port=0, articles=articles, replica_port=free_ports(3), serve=False)
    corpus = Corpus(size=articles, stories=True)
    ids: dict[int, int] = {}
    with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
        for i in range(articles):
            found = archive.reads.get_article_by_url(corpus.article(i).canonical_url)
            assert found is not None, f"the demo did not archive post {i + 1}"
            ids[i + 1] = found.id
    return DemoArchive(data_dir, corpus, DEMO_CHANGES.within(articles), ids)
