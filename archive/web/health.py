"""``/healthz``: the index generation, the article count and the last crawl; 503 when the index
or the archive cannot be opened, or when the index was not built from this archive as it is
(restored from an older backup), so a load balancer takes the host out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from archive.errors import REPAIR_INDEX_COMMAND, ArchiveError, IndexUnreadable
from archive.web.searching import services
from indexer.agreement import index_disagreement

bp = Blueprint("health", __name__)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """Return the state of the index and of the archive as JSON (200 healthy, 503 not)."""
    svc = services()
    report: dict[str, Any] = {"status": "ok"}
    try:
        info = svc.search().info()
        report["index"] = {
            "build": info.build, "generation": info.generation,
            "documents": info.doc_count, "change_seq": info.change_seq,
        }
        if info.build == svc.damaged_build:
            raise IndexUnreadable(
                f"la construction {info.build} de l'index de recherche n'a pas pu être lue ; "
                f"reconstruisez-la avec `{REPAIR_INDEX_COMMAND}`", path=str(svc.settings.index_dir))
        disagreement = index_disagreement(svc.archive().reads, svc.settings.index_dir)
        if disagreement is not None:
            raise IndexUnreadable(disagreement, path=str(svc.settings.index_dir))
        stats = svc.stats()
    except ArchiveError as exc:
        unavailable = jsonify({"status": "unavailable", "error": type(exc).__name__,
                               "message": exc.message})
        unavailable.headers["Cache-Control"] = "no-store"
        return unavailable, 503
    release = svc.release()
    if release is not None:
        report["release"] = release
    run = stats.last_run
    report["archive"] = {
        "articles": stats.articles,
        "withdrawn": stats.withdrawn,
        "hidden": stats.hidden,
        "authors": stats.authors,
        "first_published": _iso(stats.first_published),
        "last_published": _iso(stats.last_published),
    }
    report["last_crawl"] = None if run is None else {
        "id": run.id, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
        "status": run.status, "errors": len(run.errors),
    }
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 200
