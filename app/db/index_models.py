"""Tables of the read side: what the indexer writes from chain events and the query routes read.

Two kinds of tables, which matters for chain reorganisations (see `app.indexer.worker`):

* **append-only** rows carry the `block_number` they came from (raw events, transfers, large-value
  reports, links of events to instruments, alerts, indexed ranges); a rollback deletes those above the
  common ancestor;
* **state** rows (participants, identities and their KYC attestations, balances, currencies, instruments
  and their parties, liens, frozen instruments) are mutated by the handlers through
  `app.indexer.store.Store`, which journals each row's previous value in `index_undo` while the range is
  still within the reorg window; a rollback replays the journal backwards.

Amounts are integers in minor units (`BigInteger`: at most 2**63 - 1 minor units per row, far beyond any
balance a 2-decimal currency reaches). Instrument ids are uint256 on chain and stored as decimal text.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.enums import KycStatus
from app.db.models import Base

ADDRESS = String(42)
NO_KYC = KycStatus["None"].name  # a participant's KYC standing before any attestation
HASH = String(66)


class IndexCheckpoint(Base):
    """The last block whose events are all in the database, and its hash (one row, `name='main'`)."""

    __tablename__ = "index_checkpoint"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(HASH, nullable=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=0)


class IndexVersion(Base):
    """Which version of the handlers wrote the index (`app.indexer.handlers.INDEX_VERSION`; one row)."""

    __tablename__ = "index_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class IndexBlock(Base):
    """Hashes of indexed blocks (those with events and every range's last block), to detect reorgs."""

    __tablename__ = "index_blocks"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[str] = mapped_column(HASH)
    parent_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class IndexRange(Base):
    """One applied block range (one database transaction). `journaled`: its state changes are in
    `index_undo`, so it can be rolled back; ranges deeper than the reorg window are not journaled."""

    __tablename__ = "index_ranges"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # first block of the range
    to_block: Mapped[int] = mapped_column(BigInteger)
    events: Mapped[int] = mapped_column(Integer)
    journaled: Mapped[bool] = mapped_column(Boolean)


class IndexUndo(Base):
    """The value a state row had before the range starting at `block_number` changed it (None: absent)."""

    __tablename__ = "index_undo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(64))
    key: Mapped[list] = mapped_column(JSON)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ChainEvent(Base):
    """Every log of every deployed contract, decoded by ABI (`args` as JSON), once per (tx_hash, log_index)."""

    __tablename__ = "chain_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_chain_event"),
        Index("ix_chain_events_block", "block_number", "log_index"),
        Index("ix_chain_events_name", "contract", "event"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(ADDRESS)
    contract: Mapped[str | None] = mapped_column(String(64), nullable=True)  # deployed name
    event: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: not decodable by any ABI
    # The transaction's sender; for a request relayed through the ERC-2771 forwarder, the request's signer.
    actor: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    args: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    topics: Mapped[list | None] = mapped_column(JSON, nullable=True)  # kept only when undecoded
    data: Mapped[str | None] = mapped_column(String, nullable=True)


class InstrumentEvent(Base):
    """Which events belong to which instrument's audit trail (`instrument` is `<kind>:<id>`)."""

    __tablename__ = "instrument_events"
    __table_args__ = (Index("ix_instrument_events_block", "block_number"),)

    instrument: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)


class Participant(Base):
    """One wallet of a participant. KYC and freezes belong to the legal identity (`identity_hash`): every
    wallet of an identity carries the same values. `kyc_status` is `Approved` while some bank's approval
    gives the identity a validity (`kyc_expiry`, the latest approved expiry; time decides whether it has
    passed), else the outcome of the identity's latest KYC event (`Rejected`, `Revoked`, `None`);
    `kyc_bank` is the bank whose approval carries the validity (else the bank of that latest event)."""

    __tablename__ = "idx_participants"
    __table_args__ = (Index("ix_participants_identity", "identity_hash"),)

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    identity_hash: Mapped[str] = mapped_column(HASH)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    freeze_reason: Mapped[str | None] = mapped_column(HASH, nullable=True)
    frozen_by: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    frozen_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kyc_status: Mapped[str] = mapped_column(String(16), default=NO_KYC)
    kyc_expiry: Mapped[int] = mapped_column(BigInteger, default=0)
    kyc_bank: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    registered_block: Mapped[int] = mapped_column(BigInteger)


class Identity(Base):
    """A legal identity (`identityHash`) and its wallets, in registration order (the first registered, the
    others linked by the operator), with the identity's KYC standing: `kyc_valid_until` as the registry
    last announced it (`KycValidityChanged`), the banks that attested it (`idx_kyc_attestations`), the
    latest KYC event's outcome and bank, and the regulator's revocation if any."""

    __tablename__ = "idx_identities"

    identity_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    wallets: Mapped[list] = mapped_column(JSON)  # addresses, registration order
    links: Mapped[list] = mapped_column(JSON)  # [{wallet, existing, block_number, timestamp}] (WalletLinked)
    kyc_banks: Mapped[list] = mapped_column(JSON)  # banks with an attestation, first attestation order
    kyc_valid_until: Mapped[int] = mapped_column(BigInteger, default=0)
    kyc_status: Mapped[str] = mapped_column(String(16), default=NO_KYC)  # as on each wallet's row
    kyc_bank: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    last_kyc_status: Mapped[str] = mapped_column(String(16), default=NO_KYC)  # latest attestation or revocation
    last_kyc_bank: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)  # the regulator's latest revocation
    revoke_reason: Mapped[str | None] = mapped_column(HASH, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class KycAttestation(Base):
    """One bank's own KYC attestation of an identity (a bank changes only its own; the regulator's
    revocation turns every one to `Revoked`). `account` is the wallet the bank named."""

    __tablename__ = "idx_kyc_attestations"

    identity_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    bank: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    account: Mapped[str] = mapped_column(ADDRESS)
    status: Mapped[str] = mapped_column(String(16))
    expiry: Mapped[int] = mapped_column(BigInteger)
    evidence_hash: Mapped[str | None] = mapped_column(HASH, nullable=True)
    attested_at: Mapped[int] = mapped_column(BigInteger)
    attested_block: Mapped[int] = mapped_column(BigInteger)
    revoked_by: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)  # the regulator, when revoked by it


class Currency(Base):
    """A settlement token: its ISO 4217 code and current large-value threshold."""

    __tablename__ = "idx_currencies"

    token: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    large_value_threshold: Mapped[int] = mapped_column(BigInteger, default=0)


class Balance(Base):
    __tablename__ = "idx_balances"

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class Transfer(Base):
    """A token movement between two participants (mints and burns have a zero party), with its purpose
    code, reference and both jurisdictions (as registered when it happened)."""

    __tablename__ = "idx_transfers"
    __table_args__ = (
        Index("ix_transfers_from_time", "from_address", "timestamp"),
        Index("ix_transfers_to_time", "to_address", "timestamp"),
        Index("ix_transfers_day", "day", "currency"),
        Index("ix_transfers_block", "block_number"),
    )

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[str] = mapped_column(String(10))  # UTC date, YYYY-MM-DD
    tx_hash: Mapped[str] = mapped_column(HASH)
    token: Mapped[str] = mapped_column(ADDRESS)
    currency: Mapped[str] = mapped_column(String(3))
    from_address: Mapped[str] = mapped_column(ADDRESS)
    to_address: Mapped[str] = mapped_column(ADDRESS)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # transfer | mint | burn
    purpose_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    reference: Mapped[str | None] = mapped_column(HASH, nullable=True)
    from_jurisdiction: Mapped[str | None] = mapped_column(String(2), nullable=True)
    to_jurisdiction: Mapped[str | None] = mapped_column(String(2), nullable=True)
    cross_border: Mapped[bool] = mapped_column(Boolean, default=False)
    large_value: Mapped[bool] = mapped_column(Boolean, default=False)


class LargeValueReport(Base):
    __tablename__ = "idx_large_value_reports"
    __table_args__ = (Index("ix_large_value_block", "block_number"),)

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
    currency: Mapped[str] = mapped_column(String(3))
    from_address: Mapped[str] = mapped_column(ADDRESS)
    to_address: Mapped[str] = mapped_column(ADDRESS)
    amount: Mapped[int] = mapped_column(BigInteger)
    threshold: Mapped[int] = mapped_column(BigInteger)
    purpose_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    reference: Mapped[str | None] = mapped_column(HASH, nullable=True)


class Instrument(Base):
    """Any instrument (invoice, financing, letter of credit, presentation, certificate...): the columns
    every query filters on, and the kind-specific fields in `details`."""

    __tablename__ = "idx_instruments"
    __table_args__ = (
        Index("ix_instruments_kind_created", "kind", "created_at", "uid"),
        Index("ix_instruments_kind_state", "kind", "state", "created_at"),
        Index("ix_instruments_kind_amount", "kind", "amount", "uid"),
        Index("ix_instruments_kind_due", "kind", "due_at", "uid"),
        Index("ix_instruments_document", "document_hash"),
    )

    uid: Mapped[str] = mapped_column(String(100), primary_key=True)  # <kind>:<id>
    kind: Mapped[str] = mapped_column(String(32))
    instrument_id: Mapped[str] = mapped_column(String(80))
    contract: Mapped[str] = mapped_column(ADDRESS)
    state: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    document_hash: Mapped[str | None] = mapped_column(HASH, nullable=True)
    # due date / expiry / maturity / examination deadline: from when time changes the state (`app.core.states`)
    due_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_block: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict] = mapped_column(JSON)


class InstrumentParty(Base):
    """Who may see an instrument, and in which role (seller, buyer, financier, ...)."""

    __tablename__ = "idx_instrument_parties"
    __table_args__ = (Index("ix_parties_participant", "participant", "kind", "created_at", "instrument"),)

    instrument: Mapped[str] = mapped_column(String(100), primary_key=True)
    participant: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    role: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)


class Lien(Base):
    """A lien on an invoice: taken by an instrument for a financier, released later (or still held)."""

    __tablename__ = "idx_liens"
    __table_args__ = (Index("ix_liens_invoice", "invoice_id"),)

    taken_event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(80))
    instrument: Mapped[str] = mapped_column(ADDRESS)
    financier: Mapped[str] = mapped_column(ADDRESS)
    seller: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # face amount of the invoice
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    taken_block: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[int] = mapped_column(BigInteger)
    released_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    released_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FrozenInstrument(Base):
    __tablename__ = "idx_frozen_instruments"

    contract: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    instrument_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    frozen: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(HASH)
    regulator: Mapped[str] = mapped_column(ADDRESS)
    changed_at: Mapped[int] = mapped_column(BigInteger)
    changed_block: Mapped[int] = mapped_column(BigInteger)


class ContractParameter(Base):
    """A contract-wide setting learnt from events (e.g. the invoice registry's grace period)."""

    __tablename__ = "idx_contract_parameters"

    contract: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Alert(Base):
    """An alert raised by a supervision rule, with the events that make it (`evidence`: event ids)."""

    __tablename__ = "idx_alerts"
    __table_args__ = (
        UniqueConstraint("rule", "subject", "trigger_event_id", name="uq_alert_trigger"),
        Index("ix_alerts_rule_time", "rule", "timestamp"),
        Index("ix_alerts_block", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(ADDRESS)
    counterparty: Mapped[str | None] = mapped_column(ADDRESS, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    trigger_event_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[list] = mapped_column(JSON)
    measures: Mapped[dict] = mapped_column(JSON)


STATE_TABLES = {t.__tablename__: t.__table__ for t in
                (Participant, Identity, KycAttestation, Currency, Balance, Instrument, InstrumentParty, Lien,
                 FrozenInstrument, ContractParameter)}
APPEND_TABLES = {t.__tablename__: t.__table__ for t in
                 (ChainEvent, InstrumentEvent, Transfer, LargeValueReport, Alert, IndexRange, IndexBlock)}
