"""Values passed between the chain client's parts: calls, jobs, attempts, outcomes, answers.

A write ends in one of four typed outcomes: `NotSent` (nothing reached the chain: the Idempotency-Key may be
repeated), `Reverted` (refused by a contract, at preflight or mined), `Mined` (its receipt, for the result
decoder) or `Pending` (stored and sent, not mined in time). The chain layer never chooses an HTTP status: the
gateway gives the client a renderer (`Render`) that turns an outcome into the `WriteAnswer` stored for replays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.chain.abi import DecodedEvent
from app.chain.errors import ContractReverted


@dataclass(frozen=True)
class ContractCall:
    """A contract write, ready to sign: target, calldata, and how to read its result.

    `operation` names what the gateway decodes a mined result with (`app/services/results.py`); `context` is
    stored with the request so the result can be decoded after a restart too.
    """

    to: str
    data: bytes
    operation: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteAnswer:
    """The answer of a write exactly as stored and replayed (a repeated key answers these very bytes). The
    chain client stores it as it was rendered (`Render`) and never reads its status."""

    http_status: int
    body: dict[str, Any]
    replayed: bool = False


class TxOutcome:
    """A mined transaction of a request: the input to its result decoder.

    Events are decoded on demand, and only those asked for (`event`, `events_named`): a result decoder
    reads one or two of a receipt's logs, and ABI decoding is a large share of a write's CPU."""

    __slots__ = ("_decode", "_events", "_logs", "_topics_of", "block_number", "context", "gas_used", "status", "tx_hash")

    def __init__(self, tx_hash: str, block_number: int, status: int, gas_used: int, logs: list[dict[str, Any]],
                 context: dict[str, Any], decode: Callable[[dict[str, Any]], DecodedEvent | None],
                 topics_of: Callable[[str], set[str]]) -> None:
        self.tx_hash = tx_hash
        self.block_number = block_number
        self.status = status
        self.gas_used = gas_used
        self.context = context
        self._logs = logs
        self._decode = decode
        self._events: list[DecodedEvent] | None = None
        self._topics_of = topics_of  # event name → its topic-0 values (lower-case hex)

    @property
    def events(self) -> list[DecodedEvent]:
        """Every decodable event of the receipt, in log order."""
        if self._events is None:
            self._events = [e for e in map(self._decode, self._logs) if e is not None]
        return self._events

    def events_named(self, name: str) -> list[DecodedEvent]:
        if self._events is not None:
            return [e for e in self._events if e.name == name]
        topics = self._topics_of(name)
        logs = [log for log in self._logs if log.get("topics") and log["topics"][0].lower() in topics]
        return [e for e in map(self._decode, logs) if e is not None and e.name == name]

    def event(self, name: str) -> DecodedEvent:
        for e in self.events_named(name):
            return e
        raise LookupError(f"no {name} event in {self.tx_hash}")


@dataclass(frozen=True)
class NotSent:
    """Nothing of the request reached the chain (refused before signing, or a send the node never received):
    the same Idempotency-Key may be repeated. `code` names why in the platform's words (`ChainUnavailable`,
    `InsufficientFundsForGas`, `IdempotencyKeyReused`, ...); `node` is the node's state when that is the cause."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    node: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reverted:
    """A contract refused the call: at preflight (nothing sent, no `tx_hash`) or in its mined block."""

    error: ContractReverted
    tx_hash: str | None = None
    block_number: int | None = None


@dataclass(frozen=True)
class Mined:
    """The transaction was mined and succeeded: its receipt, read by the operation's result decoder."""

    operation: str
    receipt: TxOutcome


@dataclass(frozen=True)
class Pending:
    """Stored and sent, not mined within the client's wait: the same key answers its result later."""

    tx_hash: str
    nonce: int


Outcome = NotSent | Reverted | Mined | Pending
# The gateway's one translation of outcomes into stored answers (app/services/answers.py).
Render = Callable[[Outcome], WriteAnswer]


@dataclass(frozen=True)
class RelayedCall:
    """The participant's own call inside a relayed job, and the gas its signed request forwards to it (fixed by the
    signature: the lane refuses the job when the call now needs more)."""

    participant: str
    call: ContractCall
    forward_gas: int


@dataclass
class Attempt:
    """One signed transaction of a job (several after fee-bumped replacements)."""

    id: int | None
    tx_hash: str
    raw: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(eq=False)
class WriteJob:
    """One write request travelling through a signer's lane and the receipt tracker.

    A gap filler (a zero-value transfer to self that fills a nonce nobody else can use) is a job with
    no `future` and no request.

    A relayed job (a participant's signed request, ERC-2771) is signed and sent by a relayer (`signer`) for the
    `participant` whose request it is (its Idempotency-Key's owner); `call` is the forwarder's `execute`, `inner`
    the participant's own call, which the lane preflights as the participant.
    """

    signer: str
    idempotency_key: str
    fingerprint: str
    call: ContractCall
    future: asyncio.Future[WriteAnswer] | None
    request_id: int | None = None
    gas: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    sent_at: float = field(default_factory=time.monotonic)
    recovery_stage: int = 0
    nonce_gone_seen: int = 0
    fee_bumps: int = 0  # fee-bumped replacements signed for it (capped by `fee_bump_limit`)
    alerted: bool = False  # the "stuck, no further bumps" alert was logged
    nonce_resyncs: int = 0  # times re-signed after the node said "nonce too high"
    participant: str | None = None  # a relayed job: whose request it is (else the signer's own)
    inner: RelayedCall | None = None  # a relayed job: the participant's call inside the forwarder's
    mined_status: int | None = None  # the receipt's status, once mined

    @property
    def principal(self) -> str:
        """Whose request this is: the participant of a relayed job, else the signer."""
        return self.participant or self.signer

    def preflight_as(self, sender: str) -> tuple[str, ContractCall]:
        """The call to preflight and as whom: a relayed job's inner call as its participant (the forwarder's own
        checks are the gateway's before the job is made), else the job's call as `sender`."""
        if self.inner is not None:
            return self.inner.participant, self.inner.call
        return sender, self.call

    @property
    def nonce(self) -> int | None:
        return self.attempts[-1].nonce if self.attempts else None

    @property
    def latest(self) -> Attempt:
        return self.attempts[-1]

    @property
    def is_filler(self) -> bool:
        return self.future is None
