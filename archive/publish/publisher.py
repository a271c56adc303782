"""``publish``: stage one release, send it to every web host, then switch them all.

Three phases, so the web hosts disagree for as short a time as possible and a failing host
never serves half a release:

1. look at every destination (each must be a publish directory; ``init`` creates one);
2. stage the release once (``archive.publish.release``), then send it to each host's
   ``releases/.incoming`` with ``rsync --link-dest`` against its earlier releases and check it;
3. switch every host that received it whole (one ``rename(2)`` each), then prune its releases
   superseded for longer than the grace period beyond the last KEEP.

A host that fails at any step keeps serving its previous release; the others are published and
the run ends with ``PublishFailed`` (exit 9) naming each failure.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.config import Settings
from archive.errors import ArchiveError, InvalidInput, PublishFailed, PublishLocked, StoreError
from archive.french import agree, count, decimal, os_reason
from archive.holderlock import HolderLock
from archive.publish.layout import release_name, release_order, release_time
from archive.publish.release import Manifest, stage_release
from archive.publish.replicas import Replica, ReplicaState, check_tools, parse_destination

PUBLISH_DIR = "publish"
STAGING = "staging"
LOCK_FILE = ".lock"
DEFAULT_KEEP = 3
DEFAULT_GRACE_SECONDS = 3600.0


class PublishLock(HolderLock):
    """One publish of a data directory at a time."""

    def cannot_create(self, reason: str) -> ArchiveError:
        """Return the error for a lock file that cannot be created."""
        return StoreError(f"impossible de créer le verrou de publication {self.path} "
                          f"({reason}) : vérifiez les droits du répertoire de données",
                          path=str(self.path))

    def held_by(self, holder: str) -> ArchiveError:
        """Return the error for a publish already running."""
        return PublishLocked(f"une autre publication est en cours ({holder}) : rien n'a été "
                             "fait ; relancez plus tard", path=str(self.path))


@dataclass
class ReplicaOutcome:
    """What happened on one web host."""

    destination: str
    published: bool = False
    error: str | None = None
    pruned: list[str] = field(default_factory=list)
    prune_error: str | None = None
    send_seconds: float = 0.0


@dataclass
class PublishReport:
    """The outcome of one ``publish`` run."""

    manifest: Manifest
    replicas: list[ReplicaOutcome]
    stage_seconds: float
    switch_seconds: float
    seconds: float

    @property
    def failures(self) -> list[ReplicaOutcome]:
        """The hosts still serving their previous release."""
        return [r for r in self.replicas if not r.published]

    def lines(self) -> list[str]:
        """Return one French line per host, then the summary line."""
        out = []
        for r in self.replicas:
            if r.published:
                gone = count(len(r.pruned), "ancienne version supprimée",
                             "anciennes versions supprimées")
                pruned = f", {gone}" if r.pruned else ""
                note = f" (nettoyage impossible : {r.prune_error})" if r.prune_error else ""
                out.append(f"{r.destination} : en ligne ({decimal(r.send_seconds)} s d'envoi"
                           f"{pruned}){note}")
            else:
                out.append(f"{r.destination} : ÉCHEC, garde sa version précédente ({r.error})")
        m = self.manifest
        done = len(self.replicas) - len(self.failures)
        out.append(f"publication {m.name} : {done} {agree(done, 'hôte')} sur "
                   f"{len(self.replicas)} à jour (index {m.build}, "
                   f"{count(m.articles, 'article')}, {count(m.files, 'fichier')}, "
                   f"{decimal(m.bytes / 1e6)} Mo ; préparation {decimal(self.stage_seconds)} s, "
                   f"bascule {self.switch_seconds * 1000:.0f} ms, "
                   f"total {decimal(self.seconds)} s)")
        return out


def publish(settings: Settings, destinations: Sequence[str], *, init: bool = False,
            keep: int = DEFAULT_KEEP, grace_seconds: float = DEFAULT_GRACE_SECONDS,
            ssh_command: str = "ssh",
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PublishReport:
    """Publish the data directory of SETTINGS to DESTINATIONS (see the module docstring).

    Raises InvalidInput (nothing sent anywhere) when a destination is not a publish directory,
    PublishToolMissing without rsync (or ssh), PublishLocked when another publish runs, and
    PublishFailed after publishing the others when some host failed.
    """
    started = time.monotonic()
    if not destinations:
        raise InvalidInput("aucune destination : donnez au moins un répertoire de publication")
    if keep < 1:
        raise InvalidInput("--keep doit garder au moins la version en ligne (1)")
    parsed = [parse_destination(text) for text in destinations]
    check_tools(parsed, ssh_command)
    replicas = [Replica(d, ssh_command) for d in parsed]
    root = settings.data_dir / PUBLISH_DIR
    with PublishLock(root / LOCK_FILE):
        outcomes = {r.name: ReplicaOutcome(r.name) for r in replicas}
        states: dict[str, ReplicaState] = {}
        for replica in replicas:
            try:
                states[replica.name] = replica.look(init=init)
            except PublishFailed as exc:
                outcomes[replica.name].error = exc.message
        if not states:
            raise PublishFailed("aucun hôte joignable, rien n'a été publié : " + " ; ".join(
                o.error or "" for o in outcomes.values()))
        now = clock()
        name = _unique_name(now, states.values())
        staging = root / STAGING / name
        shutil.rmtree(root / STAGING, ignore_errors=True)
        try:
            manifest = _stage(settings, staging, name, now)
            stage_seconds = time.monotonic() - started
            received = [r for r in replicas if r.name in states
                        and _send(r, states[r.name], str(staging), outcomes[r.name])]
        finally:
            shutil.rmtree(root / STAGING, ignore_errors=True)
        switch_started = time.monotonic()
        for replica in received:
            try:
                replica.switch(name)
                outcomes[replica.name].published = True
            except PublishFailed as exc:
                outcomes[replica.name].error = exc.message
                replica.discard()
        switch_seconds = time.monotonic() - switch_started
        for replica in received:
            if outcomes[replica.name].published:
                _prune(replica, states[replica.name], name, keep, grace_seconds, clock(),
                       outcomes[replica.name])
    report = PublishReport(manifest, [outcomes[r.name] for r in replicas], stage_seconds,
                           switch_seconds, time.monotonic() - started)
    return report


def _stage(settings: Settings, staging: Path, name: str, now: datetime) -> Manifest:
    try:
        return stage_release(settings, staging, name, now=now)
    except OSError as exc:
        raise PublishFailed(f"préparation de la version impossible dans {staging} "
                            f"({os_reason(exc)}) : vérifiez la place libre du répertoire "
                            "de données ; rien n'a été publié") from exc


def _send(replica: Replica, state: ReplicaState, staging: str, outcome: ReplicaOutcome) -> bool:
    """Send and check the release on REPLICA; return whether it arrived whole."""
    started = time.monotonic()
    link_dest = sorted(state.releases, key=release_order, reverse=True)
    if state.current in link_dest:
        link_dest.remove(state.current)
        link_dest.insert(0, state.current)
    try:
        replica.receive(staging, link_dest)
        replica.check(staging)
    except PublishFailed as exc:
        outcome.error = exc.message
        replica.discard()
        return False
    finally:
        outcome.send_seconds = time.monotonic() - started
    return True


def _prune(replica: Replica, state: ReplicaState, name: str, keep: int, grace_seconds: float,
           now: datetime, outcome: ReplicaOutcome) -> None:
    """Delete REPLICA's releases beyond the newest KEEP that were superseded more than
    GRACE_SECONDS ago (a release is superseded when the next one was made)."""
    ordered = sorted({*state.releases, name}, key=release_order)
    doomed = []
    for older, newer in zip(ordered[:-keep], ordered[1:], strict=False):
        superseded = release_time(newer)
        if superseded is not None and now - superseded >= timedelta(seconds=grace_seconds):
            doomed.append(older)
    try:
        replica.prune(doomed)
        outcome.pruned = doomed
    except ArchiveError as exc:
        outcome.prune_error = exc.message


def _unique_name(now: datetime, states: Iterable[ReplicaState]) -> str:
    """Return a release name for NOW that no destination holds yet."""
    taken: set[str] = set()
    for state in states:
        taken.update(state.releases)
    n = 1
    while release_name(now, n) in taken:
        n += 1
    return release_name(now, n)
