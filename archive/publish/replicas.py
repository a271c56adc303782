"""One web host's publish directory, local or ``host:path`` over ssh, and what ``publish`` does
to it: look, receive a release with ``rsync --link-dest``, check it, switch, prune.

Every step on the web host is a short POSIX ``sh`` script run by ``sh -c`` here or through
``ssh`` there, so a local path and a remote one take exactly the same steps (the tests use local
paths). Only ``rsync`` and ``sh`` with GNU ``mv -T`` are needed on the web host.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from archive.errors import InvalidInput, PublishFailed, PublishToolMissing
from archive.french import os_reason
from archive.publish.layout import CURRENT, INCOMING, MANIFEST, MARKER, RELEASE_PATTERN, RELEASES

SHELL_SECONDS = 120.0
RSYNC_IO_TIMEOUT = 120
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=15")

# Prints the state of DEST, creating it first with INIT=1: a line `state=...`, then for a
# publish directory `current=<release>`, one `release=<name>` per release.
_LOOK = f"""
dest=$1; init=$2
if [ ! -e "$dest" ] || {{ [ -d "$dest" ] && [ -z "$(ls -A "$dest")" ]; }}; then
  if [ "$init" != 1 ]; then
    if [ -e "$dest" ]; then echo state=empty; else echo state=absent; fi
    exit 0
  fi
  mkdir -p "$dest/{RELEASES}" && : > "$dest/{MARKER}" || exit 3
fi
if [ ! -d "$dest" ] || [ ! -f "$dest/{MARKER}" ]; then echo state=foreign; exit 0; fi
mkdir -p "$dest/{RELEASES}" || exit 3
echo state=replica
if [ -L "$dest/{CURRENT}" ]; then echo "current=$(basename "$(readlink "$dest/{CURRENT}")")"; fi
for release in "$dest/{RELEASES}"/*; do
  if [ -d "$release" ]; then echo "release=$(basename "$release")"; fi
done
"""

# Puts the received release in place and makes it current with one rename(2).
_SWITCH = f"""
set -e
cd "$1"; name=$2
test -f {MARKER}
test -f "{RELEASES}/{INCOMING}/{MANIFEST}"
test ! -e "{RELEASES}/$name"
mv "{RELEASES}/{INCOMING}" "{RELEASES}/$name"
ln -s "{RELEASES}/$name" ".{CURRENT}.$$"
mv -T ".{CURRENT}.$$" {CURRENT}
"""

_DISCARD = f"""
cd "$1" && test -f {MARKER} && rm -rf "{RELEASES}/{INCOMING}"
"""

_PRUNE = f"""
set -e
cd "$1"; shift
test -f {MARKER}
cd {RELEASES}
for name in "$@"; do rm -rf -- "$name"; done
"""


@dataclass(frozen=True)
class Destination:
    """Where a web host's publish directory is: a local path, or HOST:PATH over ssh."""

    text: str
    host: str | None
    path: str

    def rsync_path(self, *parts: str) -> str:
        """Return the rsync argument naming PARTS under the publish directory."""
        path = "/".join([self.path.rstrip("/") or "/", *parts])
        return f"{self.host}:{path}" if self.host else path


def parse_destination(text: str) -> Destination:
    """Read DEST as rsync does: ``host:path`` when a colon comes before any slash."""
    head, colon, tail = text.partition(":")
    if text.startswith("rsync://") or "::" in text:
        raise InvalidInput(f"{text} : les démons rsync ne sont pas pris en charge ; donnez un "
                           "chemin local ou hôte:chemin (ssh)")
    if colon and "/" not in head:
        if not head or not tail:
            raise InvalidInput(f"{text} : donnez hôte:chemin, par exemple "
                               "web1:/srv/archive/publish")
        return Destination(text=text, host=head, path=tail)
    if not text.strip():
        raise InvalidInput("destination vide : donnez un chemin local ou hôte:chemin")
    return Destination(text=text, host=None, path=text)


@dataclass
class ReplicaState:
    """What ``look`` found in a publish directory."""

    current: str | None = None
    releases: list[str] = field(default_factory=list)


def check_tools(destinations: Sequence[Destination], ssh_command: str) -> None:
    """Raise PublishToolMissing when rsync, or ssh for a remote destination, is missing here."""
    if shutil.which("rsync") is None:
        raise PublishToolMissing("rsync est introuvable sur cette machine : installez-le "
                                 "(paquet Debian rsync) ; rien n'a été publié")
    if any(d.host for d in destinations):
        program = shlex.split(ssh_command)[0] if shlex.split(ssh_command) else ""
        if not program or shutil.which(program) is None:
            raise PublishToolMissing(f"{program or 'ssh'} est introuvable sur cette machine, "
                                     "or une destination est hôte:chemin : installez "
                                     "openssh-client ; rien n'a été publié")


class Replica:
    """The steps ``publish`` takes on one destination."""

    def __init__(self, destination: Destination, ssh_command: str = "ssh") -> None:
        self.destination = destination
        self.ssh = [*shlex.split(ssh_command), *SSH_OPTIONS]

    @property
    def name(self) -> str:
        """The destination as the user gave it."""
        return self.destination.text

    def look(self, *, init: bool) -> ReplicaState:
        """Return the releases of the publish directory (creating it with INIT); raise
        InvalidInput when DEST is something else, PublishFailed when it cannot be reached."""
        done = self._shell(_LOOK, self.destination.path, "1" if init else "0")
        if done.returncode != 0:
            raise self._failure("inspection", done)
        lines = dict.fromkeys(done.stdout.splitlines())
        state = ReplicaState()
        kind = ""
        for line in lines:
            key, _, value = line.partition("=")
            if key == "state":
                kind = value
            elif key == "current" and RELEASE_PATTERN.match(value):
                state.current = value
            elif key == "release" and RELEASE_PATTERN.match(value):
                state.releases.append(value)
        if kind in ("absent", "empty"):
            raise InvalidInput(f"{self.name} n'est pas encore un répertoire de publication "
                               f"({'vide' if kind == 'empty' else 'absent'}) : relancez avec "
                               "--init pour le créer")
        if kind != "replica":
            raise InvalidInput(f"{self.name} n'est pas un répertoire de publication (il n'a "
                               f"pas de fichier {MARKER}) : rien n'y a été écrit ; vérifiez "
                               "le chemin")
        return state

    def receive(self, staging: str, link_dest: Sequence[str]) -> None:
        """Copy the staged release to ``releases/.incoming``, hard-linking every file that is
        unchanged in LINK_DEST (earlier releases of this host)."""
        links = [f"--link-dest=../{name}" for name in link_dest[:20]]
        done = self._rsync(["--delete", *links, f"{staging.rstrip('/')}/",
                            self.destination.rsync_path(RELEASES, INCOMING) + "/"])
        if done.returncode != 0:
            raise self._failure("transfert", done)

    def check(self, staging: str) -> None:
        """Raise PublishFailed unless ``releases/.incoming`` now holds exactly the staged
        release: every file there, same size and time, nothing more (an rsync dry run)."""
        done = self._rsync(["--delete", "--dry-run", "--itemize-changes",
                            f"{staging.rstrip('/')}/",
                            self.destination.rsync_path(RELEASES, INCOMING) + "/"])
        if done.returncode != 0:
            raise self._failure("vérification", done)
        differences = [line for line in done.stdout.splitlines() if line.strip()]
        if differences:
            raise PublishFailed(
                f"{self.name} : la version reçue diffère de la source ({len(differences)} "
                f"fichier(s), par exemple {differences[0]!r}) ; elle n'a pas été mise en ligne")

    def switch(self, name: str) -> None:
        """Make the received release NAME the one served (one rename of ``current``)."""
        done = self._shell(_SWITCH, self.destination.path, name)
        if done.returncode != 0:
            raise self._failure("bascule", done)

    def discard(self) -> None:
        """Remove a half-received release (best effort: the host may be unreachable)."""
        self._shell(_DISCARD, self.destination.path)

    def prune(self, names: Sequence[str]) -> None:
        """Delete the releases NAMES (never the current one: the caller chose them)."""
        if not names:
            return
        for release in names:
            if not RELEASE_PATTERN.match(release):
                raise InvalidInput(f"{release!r} n'est pas un nom de version")
        done = self._shell(_PRUNE, self.destination.path, *names)
        if done.returncode != 0:
            raise self._failure("nettoyage", done)

    def _shell(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        if self.destination.host is None:
            command = ["sh", "-c", script, "sh", *args]
        else:
            remote = " ".join(shlex.quote(part) for part in ("sh", "-c", script, "sh", *args))
            command = [*self.ssh, self.destination.host, remote]
        return _run(command, SHELL_SECONDS)

    def _rsync(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        # Nanosecond times: a snapshot or manifest written in the same second as the previous
        # release's, with the same size, must not pass for it (rsync compares whole seconds).
        command = ["rsync", "-a", "--modify-window=-1", f"--timeout={RSYNC_IO_TIMEOUT}"]
        if self.destination.host is not None:
            command += ["-e", shlex.join(self.ssh)]
        return _run([*command, *args], None)

    def _failure(self, step: str, done: subprocess.CompletedProcess[str]) -> PublishFailed:
        """Return the error for STEP failing as DONE says, in words an operator can act on."""
        said = " ".join(done.stderr.split())[-300:] or f"code {done.returncode}"
        if "No space left on device" in done.stderr:
            return PublishFailed(f"{self.name} : plus de place sur son disque ({step}) ; "
                                 "libérez de la place (ou baissez --keep) et relancez")
        if self.destination.host is not None and done.returncode == 255:
            return PublishFailed(f"{self.name} : hôte injoignable par ssh ({said})")
        if "command not found" in done.stderr or done.returncode == 127:
            return PublishFailed(f"{self.name} : rsync ou sh manque sur l'hôte ({said})")
        if "Permission denied" in done.stderr:
            return PublishFailed(f"{self.name} : droits insuffisants ({step} : {said})")
        return PublishFailed(f"{self.name} : échec du {step} ({said})")


def _run(command: list[str], timeout: float | None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, 124, "", f"délai dépassé ({exc.timeout} s)")
    except OSError as exc:
        return subprocess.CompletedProcess(command, 127, "", f"{command[0]}: {os_reason(exc)}")
