"""Who may read a stored document: the one place that writes read grants (`document_uploads`).

A participant reads a document it uploaded, or one granted to it as a reader of an instrument whose hash was
put on chain by a participant who could already read the document: the instrument's **namer** of that hash.
The readers are chosen per instrument kind, by the role each party plays (`READER_ROLES`), never the whole
party list: who merely follows an instrument (a customs attester of an invoice, the buyer of a financing) is
a party, and reads nothing through it.

| instrument | hash | namer | readers (`READER_ROLES`) |
|---|---|---|---|
| invoice | `documentHash` | the registering seller (an assignee names nothing) | sellers, buyer, lien financier |
| financing | its invoice's document; `termsHash` | the invoice's namer; the approving bank | seller, bank |
| certificate (each piece of a tree) | its invoice's document | the invoice's namer | holders, issuer, discount bank |
| presentation under a credit | each presented document | the beneficiary, who presents | the credit's parties |

A hash is public once on chain, so naming a document one cannot read grants nobody anything; and who later
becomes a reader (a certificate's holder, an invoice's assignee, a discounting bank) changes nothing about who
named it. Grants are never taken back (not by a reorganisation either). A participant that may not read a
document is answered exactly as for a document that does not exist.

Each reader has its own **content type** for a document, fixed when it could first read it: what it declared
uploading it, or for a grantee what its namer's row says. Nobody learns what another uploader of the same bytes
declared.

Writers, all here, in both processes: `record_upload` (the uploader), `grant` (the gateway's services, as
soon as their transaction is mined, so the readers need not wait for the indexer) and `grant_indexed` (the
indexer, for every instrument changed in the blocks it indexed, from the namers its handlers record in the
instrument's `details.document_namers`, hash → namer, and its parties' roles). Both name readers through
`named`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from app.db.models import Document, DocumentUpload

_CHUNK = 500  # values per IN (...) clause

# The party roles (`idx_instrument_parties.role`; the gateway's services name the same) that read the documents
# an instrument of each kind names. A kind not here names nothing to anybody (a payment, a letter of credit).
READER_ROLES: dict[str, frozenset[str]] = {
    "invoice": frozenset({"seller", "buyer", "financier"}),
    "financing": frozenset({"seller", "bank"}),
    "certificate": frozenset({"holder", "former_holder", "issuer", "parent_holder", "discount_bank"}),
    "presentation": frozenset({"applicant", "beneficiary", "issuing_bank", "advising_bank", "confirming_bank"}),
}

Named = dict[str, tuple[str, frozenset[str]]]  # hash → (namer, readers)


def named(kind: str, namers: Mapping[str, str], parties: Iterable[tuple[str, str]]) -> Named:
    """What an instrument of `kind` names, per document hash: who put the hash on chain (`namers`, hash →
    namer) and who may read the document once its namer may: the instrument's `parties` (role, participant)
    in a reader role of the kind."""
    roles = READER_ROLES.get(kind, frozenset())
    readers = frozenset(participant for role, participant in parties if role in roles)
    return {sha256: (namer, readers) for sha256, namer in namers.items() if sha256 and namer}


def may_read(conn: Connection, sha256: str, participant: str) -> bool:
    return conn.execute(select(DocumentUpload.participant).where(
        DocumentUpload.sha256 == sha256, DocumentUpload.participant == participant)).first() is not None


def record_upload(conn: Connection, sha256: str, size: int, content_type: str, uploader: str) -> bool:
    """The uploader of `sha256` reads it, as the `content_type` it declared; records the document when it is
    new. True when the uploader could not read it before (whether or not someone else stored the same bytes
    earlier); otherwise nothing changes, its content type neither."""
    _insert_missing(conn, Document.__table__, [{"sha256": sha256, "size": size,
                                                "created_at": datetime.now(UTC)}])
    if may_read(conn, sha256, uploader):
        return False
    _insert_missing(conn, DocumentUpload.__table__, _rows({(sha256, uploader): content_type}))
    return True


def grant(conn: Connection, kind: str, namers: Mapping[str, str], parties: Iterable[tuple[str, str]]) -> int:
    """Grants for one instrument of `kind` a gateway service just put on chain (`named`). Answers how many
    grants were added."""
    return _grant(conn, [(sha256, namer, readers) for sha256, (namer, readers) in
                         named(kind, namers, parties).items()])


def grant_indexed(conn: Connection, instruments: Iterable[Mapping[str, Any]]) -> int:
    """Grants for the instruments the indexer changed in a range (their rows as it wrote them; called once the
    range's instruments and parties are written, in the same transaction). Answers how many grants were added."""
    from app.db.index_models import InstrumentParty

    changed: dict[str, tuple[str, dict[str, str]]] = {}
    for row in instruments:
        namers = (row.get("details") or {}).get("document_namers")
        if row["kind"] in READER_ROLES and isinstance(namers, dict) and namers:
            changed[row["uid"]] = (row["kind"], namers)
    # Only a document somebody reads grants anything: the parties are read for the instruments naming one.
    types = _reader_types(conn, {sha256 for _, namers in changed.values() for sha256 in namers})
    stored = {sha256 for sha256, _ in types}
    changed = {uid: (kind, namers) for uid, (kind, namers) in changed.items() if not stored.isdisjoint(namers)}
    parties: dict[str, list[tuple[str, str]]] = {uid: [] for uid in changed}
    for chunk in _chunks(sorted(changed)):
        for uid, role, participant in conn.execute(
                select(InstrumentParty.instrument, InstrumentParty.role, InstrumentParty.participant)
                .where(InstrumentParty.instrument.in_(chunk))):
            parties[uid].append((role, participant))
    return _grant(conn, [(sha256, namer, readers) for uid, (kind, namers) in sorted(changed.items())
                         for sha256, (namer, readers) in named(kind, namers, parties[uid]).items()], types)


def _reader_types(conn: Connection, hashes: Iterable[str]) -> dict[tuple[str, str], str]:
    """(hash, reader) → its content type, for every reader of these hashes (a hash nobody reads is not stored)."""
    types: dict[tuple[str, str], str] = {}
    for chunk in _chunks(sorted(hashes)):
        types |= {(h, p): t for h, p, t in conn.execute(
            select(DocumentUpload.sha256, DocumentUpload.participant, DocumentUpload.content_type)
            .where(DocumentUpload.sha256.in_(chunk)))}
    return types


def _grant(conn: Connection, grants: list[tuple[str, str, frozenset[str]]],
           types: dict[tuple[str, str], str] | None = None) -> int:
    """Let the readers of each (hash, namer, readers) read the document when its namer may, as the namer's
    content type (`types`: `_reader_types` of the grants' hashes, when already read). A grant may let a namer read a
    document another instrument names: the grants are repeated until none follows (in memory; one insert). Answers
    how many grants were added."""
    if not grants:
        return 0
    if types is None:
        types = _reader_types(conn, {sha256 for sha256, _, _ in grants})
    added: dict[tuple[str, str], str] = {}
    while True:
        new = {(sha256, reader): types[sha256, namer] for sha256, namer, readers in grants
               if (sha256, namer) in types for reader in readers if (sha256, reader) not in types}
        if not new:
            break
        types |= new
        added |= new
    _insert_missing(conn, DocumentUpload.__table__, _rows(added))
    return len(added)


def _rows(readers: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [{"sha256": h, "participant": p, "content_type": t, "created_at": now}
            for (h, p), t in sorted(readers.items())]


def _insert_missing(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`, leaving those already there (another process may insert the same grant meanwhile)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    elif conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
    else:  # pragma: no cover - the gateway runs on SQLite or PostgreSQL
        conn.execute(insert(table), rows)
        return
    conn.execute(upsert(table).on_conflict_do_nothing(), rows)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]
