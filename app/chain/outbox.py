"""The durable side of the chain client: write requests and signed transactions in the database.

Every function here is synchronous and short; the chain client runs them in a worker thread
(`asyncio.to_thread`) so the event loop never waits on a disk flush. Groups of requests are stored in
one database transaction (group commit): one flush for a whole batch of signed transactions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import OutboxTransaction, RequestState, TxState, WriteRequest, utcnow


@dataclass
class StoredAttempt:
    id: int
    tx_hash: str
    raw: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass
class StoredRequest:
    """An unanswered request and its attempts, as found in the database at start-up."""

    id: int
    participant: str
    idempotency_key: str
    fingerprint: str
    operation: str
    context: dict[str, Any]
    to: str
    data: bytes
    attempts: list[StoredAttempt] = field(default_factory=list)


@dataclass(frozen=True)
class RequestRecord:
    fingerprint: str
    state: str
    http_status: int | None
    response: dict[str, Any] | None


class Outbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def find_request(self, participant: str, key: str) -> RequestRecord | None:
        with self._sessions() as session:
            row = session.execute(
                select(WriteRequest.fingerprint, WriteRequest.state, WriteRequest.http_status, WriteRequest.response)
                .where(WriteRequest.participant == participant, WriteRequest.idempotency_key == key)
            ).first()
            return RequestRecord(*row) if row else None

    def store_group(
        self,
        answered: list[tuple[int | None, dict[str, Any]]],
        pending: list[tuple[int | None, dict[str, Any], dict[str, Any]]],
    ) -> list[tuple[int, int]]:
        """In ONE database transaction: store the answers of requests refused before signing, and the
        signed transaction of each pending request (creating the request row unless it exists, as for a
        request re-signed after its nonce went elsewhere). Returns (request id, attempt id) per pending."""
        with self._sessions.begin() as session:
            now = utcnow()
            for request_id, row in answered:
                if request_id is None:
                    session.add(WriteRequest(**row, state=RequestState.DONE, created_at=now, completed_at=now))
                else:
                    session.execute(
                        update(WriteRequest).where(WriteRequest.id == request_id).values(
                            state=RequestState.DONE, http_status=row["http_status"], response=row["response"],
                            completed_at=now)
                    )
            requests = [
                WriteRequest(**req, state=RequestState.PENDING, created_at=now) if request_id is None else None
                for request_id, req, _ in pending
            ]
            session.add_all(r for r in requests if r is not None)
            session.flush()
            request_ids = [r.id if r is not None else p[0] for r, p in zip(requests, pending)]
            attempts = [
                OutboxTransaction(**tx, request_id=request_id, state=TxState.SIGNED, created_at=now)
                for request_id, (_, _, tx) in zip(request_ids, pending)
            ]
            session.add_all(attempts)
            session.flush()
            return [(r, a.id) for r, a in zip(request_ids, attempts)]

    def add_attempt(self, request_id: int | None, tx: dict[str, Any]) -> int:
        with self._sessions.begin() as session:
            row = OutboxTransaction(**tx, request_id=request_id, state=TxState.SIGNED)
            session.add(row)
            session.flush()
            return row.id

    def forget_requests(self, request_ids: list[int]) -> None:
        """Remove requests whose transactions certainly never reached the node, so their keys may be
        retried: the attempts are marked superseded (never rebroadcast) and the requests deleted."""
        if not request_ids:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(OutboxTransaction)
                .where(OutboxTransaction.request_id.in_(request_ids))
                .values(state=TxState.SUPERSEDED, request_id=None)
            )
            session.execute(delete(WriteRequest).where(WriteRequest.id.in_(request_ids)))

    def supersede(self, attempt_ids: list[int]) -> None:
        if not attempt_ids:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(OutboxTransaction).where(OutboxTransaction.id.in_(attempt_ids)).values(state=TxState.SUPERSEDED)
            )

    def complete(self, results: list[dict[str, Any]]) -> None:
        """Store answers: each result has request_id (or None for a gap filler), attempt_id,
        block_number, status, http_status, response."""
        if not results:
            return
        with self._sessions.begin() as session:
            now = utcnow()
            for r in results:
                session.execute(
                    update(OutboxTransaction)
                    .where(OutboxTransaction.id == r["attempt_id"])
                    .values(state=TxState.MINED, block_number=r["block_number"], status=r["status"])
                )
                if r["request_id"] is None:
                    continue
                session.execute(
                    update(OutboxTransaction)
                    .where(OutboxTransaction.request_id == r["request_id"], OutboxTransaction.id != r["attempt_id"])
                    .values(state=TxState.SUPERSEDED)
                )
                session.execute(
                    update(WriteRequest)
                    .where(WriteRequest.id == r["request_id"])
                    .values(state=RequestState.DONE, http_status=r["http_status"], response=r["response"],
                            completed_at=now)
                )

    def answer(self, request_id: int, http_status: int, response: dict[str, Any]) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(WriteRequest)
                .where(WriteRequest.id == request_id)
                .values(state=RequestState.DONE, http_status=http_status, response=response, completed_at=utcnow())
            )

    def load_open(self) -> tuple[list[StoredRequest], list[tuple[str, StoredAttempt]]]:
        """Unanswered requests with their signed attempts, and open gap fillers (signer, attempt)."""
        with self._sessions() as session:
            requests = {
                r.id: StoredRequest(r.id, r.participant, r.idempotency_key, r.fingerprint, r.operation,
                                    r.context or {}, "", b"")
                for r in session.scalars(select(WriteRequest).where(WriteRequest.state == RequestState.PENDING))
            }
            fillers: list[tuple[str, StoredAttempt]] = []
            rows = session.scalars(
                select(OutboxTransaction)
                .where(OutboxTransaction.state == TxState.SIGNED)
                .order_by(OutboxTransaction.signer, OutboxTransaction.nonce, OutboxTransaction.id)
            )
            for tx in rows:
                attempt = StoredAttempt(tx.id, tx.tx_hash, tx.raw, tx.nonce, tx.gas, tx.max_fee_per_gas,
                                        tx.max_priority_fee_per_gas)
                if tx.request_id is None:
                    fillers.append((tx.signer, attempt))
                elif tx.request_id in requests:
                    req = requests[tx.request_id]
                    req.to, req.data = tx.to, tx.data
                    req.attempts.append(attempt)
            return [r for r in requests.values() if r.attempts], fillers

    def stale_pending_without_attempts(self) -> list[int]:
        """Pending requests with no open attempt (cannot happen unless a process died mid-repair)."""
        with self._sessions() as session:
            open_ids = set(
                session.scalars(select(OutboxTransaction.request_id).where(OutboxTransaction.state == TxState.SIGNED))
            )
            pending = session.scalars(select(WriteRequest.id).where(WriteRequest.state == RequestState.PENDING))
            return [i for i in pending if i not in open_ids]
