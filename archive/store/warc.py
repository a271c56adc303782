"""Raw captures as standard WARC records (gzip per record), written to size-rotated files.

Each capture becomes one ``response`` record whose gzip member can be read alone by seeking
to its offset, so the archive's ``captures`` table only keeps (file, offset, length). The
parser gets decoded bodies, so the transfer headers that would mislead a replay tool
(``Content-Encoding``, ``Transfer-Encoding``, a stale ``Content-Length``) are kept under
pywb's ``X-Archive-Orig-`` prefix and restored when read back.

A writer never appends to a file it did not create: a record half-written by a killed
process stays at the end of its own file, where it cannot hide the records after it.
"""

from __future__ import annotations

import http
import io
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archive.errors import StoreError
from archive.french import os_reason
from archive.models import Capture

WARC_PREFIX = "notrecontinent"
DEFAULT_MAX_BYTES = 100_000_000
ORIGINAL_HEADER_PREFIX = "X-Archive-Orig-"
_RENAMED_HEADERS = {"content-encoding", "transfer-encoding"}
_FILE_NAME = re.compile(rf"^{WARC_PREFIX}-\d{{14}}-(\d+)\.warc\.gz$")
_GZIP_LEVEL = 6


@dataclass(frozen=True)
class WarcLocation:
    """Where one record lives: file name (under the WARC directory), offset and length."""

    file: str
    offset: int
    length: int
    payload_digest: str


@dataclass(frozen=True)
class WarcResponse:
    """The HTTP part of a response record as it was captured."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def _warc_bytes(record_writer: WARCWriter, buffer: io.BytesIO, record: object) -> bytes:
    buffer.seek(0)
    buffer.truncate()
    record_writer.write_record(record)
    return buffer.getvalue()


def _stored_headers(capture: Capture) -> list[tuple[str, str]]:
    headers = []
    for name, value in capture.headers:
        lowered = name.lower()
        misleading = lowered in _RENAMED_HEADERS or (
            lowered == "content-length" and value.strip() != str(len(capture.body)))
        headers.append((ORIGINAL_HEADER_PREFIX + name if misleading else name, value))
    return headers


def _restored_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    prefix = ORIGINAL_HEADER_PREFIX.lower()
    return tuple(
        (name[len(prefix):] if name.lower().startswith(prefix) else name, value)
        for name, value in headers)


class WarcWriter:
    """Append capture records to WARC files under one directory, rotating them by size."""

    def __init__(self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._file: BinaryIO | None = None
        self._name = ""
        self._size = 0
        self._buffer = io.BytesIO()
        self._records = WARCWriter(self._buffer, gzip=False)

    def write(self, capture: Capture) -> WarcLocation:
        """Write CAPTURE as one gzipped ``response`` record and return where it is."""
        if self._file is None or self._size >= self.max_bytes:
            self._rotate()
        assert self._file is not None
        status_line = f"{capture.status} {_reason(capture.status)}"
        http_headers = StatusAndHeaders(status_line, _stored_headers(capture),
                                        protocol="HTTP/1.1")
        record = self._records.create_warc_record(
            capture.final_url or capture.url, "response",
            payload=io.BytesIO(capture.body), length=len(capture.body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": datetime_to_iso_date(_utc(capture.fetched_at))})
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        member = _gzip_member(_warc_bytes(self._records, self._buffer, record))
        offset = self._size
        self._append(member, offset)
        return WarcLocation(self._name, offset, len(member), digest)

    def close(self) -> None:
        """Close the current file (the next write starts a new one)."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:
                raise StoreError(
                    f"impossible de finir d'écrire {self.directory / self._name} "
                    f"({os_reason(exc)}) ; "
                    "libérez de l'espace disque et relancez la collecte", path=str(self.directory)
                ) from exc

    def _append(self, member: bytes, offset: int) -> None:
        assert self._file is not None
        try:
            self._file.write(member)
            self._file.flush()
        except OSError as exc:
            try:
                self._file.truncate(offset)
            except OSError:
                pass
            raise StoreError(
                f"impossible d'écrire la capture dans {self.directory / self._name} "
                f"({os_reason(exc)}) ; libérez de l'espace disque et relancez la collecte",
                path=str(self.directory)
            ) from exc
        self._size = offset + len(member)

    def _rotate(self) -> None:
        self.close()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            serial = _next_serial(self.directory)
            while True:
                stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
                name = f"{WARC_PREFIX}-{stamp}-{serial:05d}.warc.gz"
                try:
                    self._file = open(self.directory / name, "xb")  # noqa: SIM115 - kept open
                    break
                except FileExistsError:
                    serial += 1
        except OSError as exc:
            raise StoreError(
                f"impossible de créer un fichier WARC dans {self.directory} ({os_reason(exc)}) ; "
                "vérifiez que le répertoire est accessible en écriture",
                path=str(self.directory)) from exc
        self._name = name
        self._size = 0
        info = self._records.create_warcinfo_record(name, {
            "software": "notrecontinent-archive",
            "format": "WARC File Format 1.0",
            "description": "Raw captures of the Notre Continent platform",
        })
        self._append(_gzip_member(_warc_bytes(self._records, self._buffer, info)), 0)


def read_response(path: Path, offset: int, length: int) -> WarcResponse:
    """Read the response record at OFFSET in the WARC file at PATH."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except OSError as exc:
        raise StoreError(
            f"impossible de lire la capture en {path}:{offset} ({os_reason(exc)}) ; le fichier "
            "WARC manque ou est illisible, restaurez-le depuis une sauvegarde",
            path=str(path)) from exc
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response" or record.http_headers is None:
                break
            status = int(record.http_headers.get_statuscode())
            headers = _restored_headers(record.http_headers.headers)
            return WarcResponse(status, headers, record.raw_stream.read())
    except Exception as exc:  # warcio raises several unrelated types on damaged data
        raise StoreError(
            f"la capture en {path}:{offset} est endommagée ({_printable(exc)}) ; relancez "
            "`python -m archive crawl` pour récupérer la page à nouveau", path=str(path)) from exc
    raise StoreError(
        f"aucun enregistrement de réponse en {path}:{offset} ; la table des captures et les "
        "fichiers WARC ne concordent pas, restaurez-les depuis la même sauvegarde", path=str(path))


def _printable(exc: Exception) -> str:
    """Describe EXC in one printable line: damaged data must not reach a terminal raw."""
    text = "".join(c if c.isprintable() and c.isascii() else "?" for c in str(exc))
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def read_record(path: Path, offset: int, length: int) -> bytes:
    """Return the record at OFFSET in the WARC file at PATH as stored: one gzip member."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except OSError as exc:
        raise StoreError(
            f"impossible de lire la capture en {path}:{offset} ({os_reason(exc)}) ; le fichier "
            "WARC manque ou est illisible, restaurez-le depuis une sauvegarde",
            path=str(path)) from exc
    if len(data) != length:
        raise StoreError(
            f"le fichier WARC {path} s'arrête avant l'enregistrement en {offset} ; restaurez-le "
            "depuis une sauvegarde", path=str(path))
    return data


def _next_serial(directory: Path) -> int:
    serials = [int(m.group(1)) for p in directory.iterdir() if (m := _FILE_NAME.match(p.name))]
    return max(serials, default=0) + 1


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
