"""The built-in replica of the platform: a seeded French corpus served as WordPress would.

What the demo, the tests and the benchmarks crawl, over real HTTP on 127.0.0.1. See
``archive/replica/README.md`` for the markup variants and the fault modes.
"""

from archive.replica.app import ReplicaApp, RequestRecord, make_app
from archive.replica.corpus import (
    DEFAULT_EDITIONS,
    DEFAULT_SEED,
    VARIANTS,
    ArticleEntry,
    Corpus,
    ReplicaArticle,
    ReplicaComment,
)
from archive.replica.faults import ALL_FAULT_POST_IDS, FAULT_NAMES, Faults
from archive.replica.server import RunningReplica, serve_replica
from archive.replica.state import WITHDRAWAL_MODES, ReplicaState

__all__ = [
    "ALL_FAULT_POST_IDS", "DEFAULT_EDITIONS", "DEFAULT_SEED", "FAULT_NAMES", "VARIANTS",
    "WITHDRAWAL_MODES", "ArticleEntry", "Corpus", "Faults", "ReplicaApp", "ReplicaArticle",
    "ReplicaComment", "ReplicaState", "RequestRecord", "RunningReplica", "make_app",
    "serve_replica",
]
