"""Documents: content-addressed by SHA-256 under `<data_dir>/documents/<aa>/<hash>`.

The hash (as bytes32) is what instruments put on chain. A document may be downloaded by whoever
uploaded it, and by the parties of an instrument that references it: granted by the indexer
(`app.indexer.worker.share_documents`) and by the letters-of-credit service at presentation, only when
the participant who put the hash on chain may read the document itself (a hash on chain is public).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Forbidden, NotFound
from app.db.models import Document, DocumentUpload

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class DocumentStore:
    def __init__(self, folder: Path, sessions: sessionmaker[Session]) -> None:
        self.folder = folder
        self._sessions = sessions

    def _path(self, sha256_hex: str) -> Path:
        return self.folder / sha256_hex[:2] / sha256_hex

    def put(self, content: bytes, content_type: str, uploader: str) -> tuple[Document, bool]:
        """Store `content` (once) and record `uploader`; returns the document and whether it was new."""
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        key = "0x" + digest
        with self._sessions.begin() as session:
            document = session.get(Document, key)
            created = document is None
            if document is None:
                document = Document(sha256=key, size=len(content), content_type=content_type)
                session.add(document)
            if session.get(DocumentUpload, (key, uploader)) is None:
                session.add(DocumentUpload(sha256=key, participant=uploader))
        return document, created

    def stored(self, sha256: str) -> bool:
        """Whether the gateway holds the document at all (a file check, no database): most hashes that
        instruments carry were never uploaded here, and then there is nothing to share."""
        return len(sha256) == 66 and self._path(sha256[2:]).is_file()

    def share(self, sha256: str, participants: list[str], reader: str | None = None) -> bool:
        """Let `participants` (the parties of an instrument referencing the hash) read a stored document;
        with `reader` (the participant who put the hash on chain), only when `reader` may read it itself.
        True when shared."""
        return _once_more_on_conflict(self._share, sha256, participants, reader)

    def _share(self, sha256: str, participants: list[str], reader: str | None) -> bool:
        with self._sessions.begin() as session:
            gate = session.get(DocumentUpload, (sha256, reader)) if reader else session.get(Document, sha256)
            if gate is None:
                return False
            for participant in set(participants):
                if session.get(DocumentUpload, (sha256, participant)) is None:
                    session.add(DocumentUpload(sha256=sha256, participant=participant))
        return True

    def may_read(self, sha256: str, participant: str) -> bool:
        with self._sessions() as session:
            return session.get(DocumentUpload, (sha256, participant)) is not None

    def metadata(self, sha256: str, participant: str) -> Document:
        with self._sessions() as session:
            document = session.get(Document, sha256)
            if document is None:
                raise NotFound("no such document", {"sha256": sha256}, code="DocumentUnknown")
            allowed = session.scalars(
                select(DocumentUpload.participant).where(DocumentUpload.sha256 == sha256,
                                                         DocumentUpload.participant == participant)
            ).first()
            if allowed is None:
                raise Forbidden("only parties of an instrument referencing this document may read it",
                                {"sha256": sha256}, code="DocumentNotShared")
            return document

    def read(self, sha256: str, participant: str) -> tuple[Document, bytes]:
        document = self.metadata(sha256, participant)
        return document, self._path(sha256[2:]).read_bytes()


def _once_more_on_conflict(share: Any, *args: Any) -> Any:
    """The indexer shares the same documents when it sees the instrument's event, in its own thread or
    process: a grant inserted between our read and our insert is a conflict; the second try sees it."""
    try:
        return share(*args)
    except IntegrityError:
        return share(*args)
