"""What every service shares: the gateway's parts, the caller, and the write helper.

A service checks what the gateway can check cheaply (the caller's kind, that a currency exists), builds
the contract call, and hands it to the chain client with the caller's Idempotency-Key. The contract
remains the authority: whatever the gateway lets through, a revert is decoded and mapped to HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak
from sqlalchemy.orm import Session, sessionmaker

from app.chain.abi import AbiRegistry, Deployment
from app.chain.client import ChainClient
from app.chain.signer import KeystoreDirectory
from app.chain.types import ContractCall, WriteAnswer
from app.core.config import Settings
from app.core.enums import ParticipantKind
from app.core.errors import ApiError, Forbidden, Invalid, NotFound

log = logging.getLogger("tradefin.services")


@dataclass
class Gateway:
    """The gateway's long-lived parts, built once in the app's lifespan."""

    settings: Settings
    sessions: sessionmaker[Session]
    abi: AbiRegistry
    deployment: Deployment
    chain: ChainClient
    keystores: KeystoreDirectory
    _kinds: dict[str, ParticipantKind] = field(default_factory=dict)
    # Signed requests prepared by this process, by digest (`app.services.signed_requests.remember_prepared`)
    prepared_here: dict[str, Any] = field(default_factory=dict)

    def contract(self, name: str) -> str:
        try:
            return self.deployment.address(name)
        except KeyError:
            raise NotFound(f"{name} is not deployed on chain {self.deployment.chain_id}", code="NotDeployed") from None

    def call(self, name: str, function: str, *args: Any, operation: str, **context: Any) -> ContractCall:
        """A write to the deployed contract `name`."""
        to = self.contract(name)
        fn = self.abi.function(self.deployment.contract_type(name), function)
        return ContractCall(to, fn.encode(args), operation, context)

    async def read(self, name: str, function: str, *args: Any) -> tuple[Any, ...]:
        to = self.contract(name)
        return await self.chain.read(to, self.abi.function(self.deployment.contract_type(name), function), *args)

    def token_name(self, currency: str) -> str:
        name = f"SettlementToken{currency}"
        if name not in self.deployment.addresses:
            raise Invalid(f"no settlement token for {currency}", {"currency": currency,
                          "supported": self.currencies()}, code="UnsupportedCurrency")
        return name

    def currencies(self) -> list[str]:
        return sorted(n.removeprefix("SettlementToken") for n in self.deployment.addresses
                      if n.startswith("SettlementToken"))

    async def kind_of(self, address: str) -> ParticipantKind:
        """A participant's kind (cached once known: a registration is never undone)."""
        kind = self._kinds.get(address)
        if kind is None:
            (value,) = await self.read("ParticipantRegistry", "kindOf", address)
            kind = ParticipantKind(value)
            if kind is not ParticipantKind["None"]:
                self._kinds[address] = kind
        return kind


@dataclass(frozen=True)
class Caller:
    """The authenticated participant: a caller acts only as itself."""

    address: str
    key_id: str


@dataclass(frozen=True)
class WriteContext:
    """A write request's caller, Idempotency-Key and route, for the chain client; `reply` is the HTTP response being
    built, whose headers the route's answer adds to (`Idempotent-Replayed`, app/api/routes/_write.py)."""

    caller: Caller
    idempotency_key: str
    route: str
    reply: Any = field(default=None, compare=False, repr=False)
    # `POST <route>:prepare`: answer the request to sign instead of sending (`body`: the request's, kept with it)
    prepare: bool = False
    body: bytes = field(default=b"", compare=False, repr=False)
    path: str = ""  # the write route's path as requested (without `:prepare`)
    # A participant's signed request on its way through its route (`app.services.signed_requests.Submission`)
    signed: Any = field(default=None, compare=False, repr=False)

    def fingerprint(self, payload: dict[str, Any]) -> str:
        canonical = json.dumps({"route": self.route, "body": payload}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


async def submit(gateway: Gateway, ctx: WriteContext, call: ContractCall, payload: dict[str, Any]) -> WriteAnswer:
    """Send the route's write: signed by the gateway for a custodial participant, relayed for a participant's own
    signed request, or (`:prepare`) not at all: the request to sign is answered instead."""
    if ctx.prepare or ctx.signed is not None:
        from app.services import signed_requests  # it builds on this module

        if ctx.prepare:
            return await signed_requests.prepare(gateway, ctx, call, payload)  # raises `Prepared`, or a refusal
        return await signed_requests.relay(gateway, ctx, call, payload)
    return await gateway.chain.execute(ctx.caller.address, ctx.idempotency_key, ctx.fingerprint(payload), call)


async def require_kind(gateway: Gateway, caller: Caller, *kinds: ParticipantKind) -> ParticipantKind:
    kind = await gateway.kind_of(caller.address)
    if kind not in kinds:
        raise Forbidden(
            f"this needs a participant of kind {' or '.join(k.name for k in kinds)}",
            {"caller": caller.address, "kind": kind.name}, code="CallerKindNotAllowed",
        )
    return kind


ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def is_party(caller: Caller, *parties: Any) -> bool:
    """`caller` is one of `parties` (addresses as the chain answers them; the zero address is nobody, so
    nobody is a party of something that does not exist)."""
    me = caller.address.lower()
    return any(str(p).lower() == me for p in parties if p and str(p).lower() != ZERO_ADDRESS)


async def refuse(gateway: Gateway, ctx: WriteContext, refusal: ApiError, payload: dict[str, Any]) -> None:
    """Raise `refusal` (a caller that is not the party a step needs), unless this very request was already made:
    a request stored under the caller's Idempotency-Key with this request's fingerprint (route and `payload`, the
    body the step submits). Then the step goes on and the chain client answers it from its store: the repeat of a
    step that itself ended the caller's part (a certificate transferred or discounted, an invoice assigned) still
    answers what the step answered. A key stored for another request does not let a stranger through (it would
    otherwise reach the contract, whose answers name states and parties): it is refused like any stranger."""
    record = await asyncio.to_thread(gateway.chain.outbox.find_request, ctx.caller.address, ctx.idempotency_key)
    if record is None or record.fingerprint != ctx.fingerprint(payload):
        raise refusal


async def follow_up(what: str, step: Awaitable[Any]) -> None:
    """Run `step`, a follow-up of a write whose transaction is mined (sharing documents with the instrument's
    parties): its failure (the node not answering a read then, the database busy) must never turn the mined success
    into an error, which a client would take for "nothing applied" and repeat under a new key. It is logged; the
    indexer does the same work for every instrument it indexes, and a replay of the key runs it again."""
    try:
        await step
    except Exception:  # whatever failed, the transaction is mined: its answer stands
        log.warning("follow-up of a mined write failed (%s); the answer stands, the indexer catches up", what,
                    exc_info=True)


def bytes32_of(text: str) -> bytes:
    """A reference or reason as bytes32: a 0x-prefixed 32-byte hex as is, any other text hashed."""
    if text.startswith("0x") and len(text) == 66:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return keccak(text=text)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def ascii_code(value: str) -> str:
    """A `bytesN` code from an event (0x-hex) back to its ASCII letters."""
    return bytes.fromhex(value[2:]).rstrip(b"\0").decode("ascii", "replace")
