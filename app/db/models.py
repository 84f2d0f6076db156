"""Gateway tables: API keys, the idempotent request log, the transaction outbox, documents.

The outbox is what makes writes exactly-once: a `WriteRequest` row per (participant, Idempotency-Key),
and one `OutboxTransaction` row per signed transaction (several when a stuck transaction was replaced
by a fee-bumped one at the same nonce). Rows are committed BEFORE the transaction is broadcast.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CustodialKey(Base):
    """A key the gateway created and holds for a participant the operator onboarded (or a further wallet it
    linked) without an address, recorded under the operator's Idempotency-Key so that a repeated request reuses
    it. The key itself is only in the encrypted keystore (`<data_dir>/keystores/<address>.json`)."""

    __tablename__ = "custodial_keys"
    __table_args__ = (UniqueConstraint("requested_by", "idempotency_key", name="uq_custodial_key_request"),)

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(42))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """An API key of one participant. Only a salted SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    participant: Mapped[str] = mapped_column(String(42), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_by: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RequestState:
    PENDING = "pending"  # signed and stored; waiting for its receipt
    DONE = "done"  # answered; `http_status` and `response` hold the answer to replay


class WriteRequest(Base):
    """One write request, keyed by (participant, Idempotency-Key); holds the answer to replay."""

    __tablename__ = "write_requests"
    __table_args__ = (UniqueConstraint("participant", "idempotency_key", name="uq_write_request_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant: Mapped[str] = mapped_column(String(42))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(80))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=RequestState.PENDING)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CustodyRelease(Base):
    """A participant moved from custody to its own key (`app.services.custody`): its custodial address, the wallet
    of its own key its identity, balances and API keys moved to, who released it and when, and the SHA-256 of the
    keystore file that was then overwritten and removed."""

    __tablename__ = "custody_releases"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42))
    released_by: Mapped[str] = mapped_column(String(42))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    keystore_sha256: Mapped[str] = mapped_column(String(64))
    api_keys_repointed: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PreparedRequest(Base):
    """A write a participant that keeps its own key asked to sign (`POST <route>:prepare`): the request as the route
    received it, and the forwarder nonce and deadline of the EIP-712 `ForwardRequest` the gateway answered, found
    by its digest when the signed request comes back (`POST /v1/signed-requests`). A nonce stays reserved for its
    participant until its deadline; nothing here is a secret (the signature is not kept)."""

    __tablename__ = "prepared_requests"
    __table_args__ = (Index("ix_prepared_participant_nonce", "participant", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(66), unique=True)
    participant: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(400))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Relayed and not executed, or refused: its nonce is no longer held (the row stays: its key's answer replays)
    released: Mapped[bool] = mapped_column(default=False)


class TxState:
    SIGNED = "signed"  # stored before broadcast; may or may not have reached the node
    MINED = "mined"  # this attempt's receipt was seen
    SUPERSEDED = "superseded"  # another attempt at the same nonce was mined, or the nonce went elsewhere


class OutboxTransaction(Base):
    """One signed transaction (an attempt). `raw` is exactly what was (or will be) broadcast."""

    __tablename__ = "outbox_transactions"
    __table_args__ = (Index("ix_outbox_open", "state", "signer", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("write_requests.id"), nullable=True, index=True)
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    to: Mapped[str] = mapped_column(String(42))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    gas: Mapped[int] = mapped_column(BigInteger)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=TxState.SIGNED)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Document(Base):
    """A document stored content-addressed under the data folder, by its SHA-256. What it is declared to be is
    each reader's own (`DocumentUpload.content_type`)."""

    __tablename__ = "documents"

    sha256: Mapped[str] = mapped_column(String(66), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentUpload(Base):
    """Who may read a document (`app.services.document_access`, its only writer): its uploaders and the readers
    it was granted to, each with the content type it is answered as: an uploader's own declaration, a grantee's
    namer's. `created_at`: when this reader could first read it."""

    __tablename__ = "document_uploads"

    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), primary_key=True)
    participant: Mapped[str] = mapped_column(String(42), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
