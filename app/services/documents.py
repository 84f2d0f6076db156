"""Documents: content-addressed by SHA-256 under `<data_dir>/documents/<aa>/<hash>`.

The hash (as bytes32) is what instruments put on chain. Who may read a document is decided in one place,
`app.services.document_access` (its uploader; the readers of an instrument whose hash was put on chain by a
participant who could already read it). A participant that may not read a document is answered as for one
that does not exist (404 `DocumentUnknown`), and an upload answers the same whether or not someone else
stored the same bytes before (201 when the caller could not read them before, 200 when it could). The content
type a reader is answered (upload, metadata, download) is its own: what it declared, or what the namer that
granted it the document declared; never another uploader's.

An upload is streamed to a private temporary file in the documents folder while it is hashed, and stops as
soon as it passes `MAX_DOCUMENT_BYTES` (also when the body is chunked, without Content-Length): 413
`DocumentTooLarge`, and the partial file is removed. Files are 0600, folders 0700 (`app.core.files`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import ApiError, NotFound
from app.core.files import PRIVATE_DIR, PRIVATE_FILE, private_dir, tighten
from app.db.models import Document, DocumentUpload
from app.services import document_access

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class DocumentTooLarge(ApiError):
    status_code = 413
    code = "DocumentTooLarge"


def too_large(declared: int | None = None) -> DocumentTooLarge:
    details = {"max_bytes": MAX_DOCUMENT_BYTES} | ({"content_length": declared} if declared is not None else {})
    return DocumentTooLarge(f"the document is larger than the {MAX_DOCUMENT_BYTES} bytes a document may have; "
                            "nothing was stored", details, headers={"Connection": "close"})


@dataclass(frozen=True)
class DocumentView:
    """A document as one reader sees it: `content_type` is that reader's (`DocumentUpload.content_type`),
    `created_at` when it could first read the document."""

    sha256: str
    size: int
    content_type: str
    created_at: datetime


class Incoming:
    """A document being received: written to a private temporary file while hashed, never past the limit."""

    def __init__(self, folder: Path) -> None:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")  # mode 0600
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_DOCUMENT_BYTES:
            raise too_large()
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return "0x" + self._hash.hexdigest()

    def finish(self) -> None:
        """Flush and fsync (in a worker thread: it waits for the disk)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class DocumentStore:
    def __init__(self, folder: Path, sessions: sessionmaker[Session]) -> None:
        self.folder = private_dir(folder)
        self._sessions = sessions
        self._tighten_stored()

    def _tighten_stored(self) -> None:
        """Documents stored by an earlier version were world-readable: narrow them (once; cheap when done)."""
        for sub in os.scandir(self.folder):
            if sub.is_dir(follow_symlinks=False):
                tighten(Path(sub.path), PRIVATE_DIR)
                for entry in os.scandir(sub.path):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mode & 0o077:
                        os.chmod(entry.path, PRIVATE_FILE)
            elif sub.name.startswith(".upload-"):  # left by a process that died mid-upload
                Path(sub.path).unlink(missing_ok=True)

    def _path(self, sha256_hex: str) -> Path:
        return self.folder / sha256_hex[:2] / sha256_hex

    def receive(self) -> Incoming:
        return Incoming(self.folder)

    def keep(self, incoming: Incoming, content_type: str, uploader: str) -> tuple[DocumentView, bool]:
        """Store a received document (once) and let `uploader` read it. Answers the document as the uploader
        sees it and whether the uploader could not read it before: the same answer whether or not someone
        else stored these bytes earlier."""
        incoming.finish()
        digest = incoming.sha256
        path = self._path(digest[2:])
        try:
            if not path.exists():
                private_dir(path.parent)
                os.replace(incoming.path, path)
        finally:
            incoming.discard()  # the copy of bytes already stored; nothing once moved
        with self._sessions.begin() as session:
            created = document_access.record_upload(session.connection(), digest, incoming.size, content_type,
                                                    uploader)
        return self.metadata(digest, uploader), created

    def stored(self, sha256: str) -> bool:
        """Whether the gateway holds the document at all (a file check, no database): most hashes that
        instruments carry were never uploaded here, and then there is nothing to grant."""
        return len(sha256) == 66 and self._path(sha256[2:]).is_file()

    def grant(self, kind: str, namers: Mapping[str, str], parties: Iterable[tuple[str, str]]) -> int:
        """`document_access.grant` for a service that just put an instrument of `kind` on chain: the hashes it
        names (hash → namer) and its parties as (role, participant). Answers how many grants were added."""
        namers = {sha256: namer for sha256, namer in namers.items() if self.stored(sha256)}
        if not namers:
            return 0
        with self._sessions.begin() as session:
            return document_access.grant(session.connection(), kind, namers, parties)

    def may_read(self, sha256: str, participant: str) -> bool:
        with self._sessions() as session:
            return document_access.may_read(session.connection(), sha256, participant)

    def metadata(self, sha256: str, participant: str) -> DocumentView:
        """The document as `participant` sees it; 404 `DocumentUnknown` alike when it does not exist and when
        `participant` may not read it."""
        with self._sessions() as session:
            row = session.execute(
                select(Document.size, DocumentUpload.content_type, DocumentUpload.created_at)
                .join(DocumentUpload, DocumentUpload.sha256 == Document.sha256)
                .where(Document.sha256 == sha256, DocumentUpload.participant == participant)).first()
        if row is None:
            raise NotFound("no document with this SHA-256 that you may read: its uploader and the parties of an "
                           "instrument referencing it may", {"sha256": sha256}, code="DocumentUnknown")
        return DocumentView(sha256, row.size, row.content_type, row.created_at)

    def read(self, sha256: str, participant: str) -> tuple[DocumentView, bytes]:
        document = self.metadata(sha256, participant)
        return document, self._path(sha256[2:]).read_bytes()
