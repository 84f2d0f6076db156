"""The order in which a participant's signed requests reach its relayer's lane: its forwarder nonces, one after the
other (OpenZeppelin's forwarder executes a request only at its signer's current nonce). A request whose predecessor
is still on its way waits for it, a little (`ORDER_WAIT_SECONDS`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from app.core.errors import Conflict

# The key of a relayed request's forwarder nonce in its call's context (stored with the request): `recover` picks
# the order up where a previous run left it.
FORWARD_NONCE = "forward_nonce"

# How long a signed request waits for the one before it (its participant's previous nonce) to be relayed, when
# both come at once.
ORDER_WAIT_SECONDS = 10.0


@dataclass
class _Order:
    """One participant's forwarder nonces: the next after those handed over, and how many of those are still
    outstanding (handed to a lane, not yet finished)."""

    next: int = 0
    outstanding: int = 0
    moved: asyncio.Condition = field(default_factory=asyncio.Condition)


class NonceOrder:
    """Forwarder nonces handed to the lanes, per participant: `turn` before a signed request is handed over,
    `finished` when its transaction is final (executed, reverted as a whole, or never sent). A request that did not
    execute gives its nonce back
    (the ones after it, already handed over, fail on chain and give theirs back too), so the order never runs ahead
    of what the chain will execute."""

    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}

    def _order(self, participant: str) -> _Order:
        order = self._orders.get(participant)
        if order is None:
            order = self._orders[participant] = _Order()
        return order

    def restore(self, participant: str, nonce: int) -> None:
        """A request with forwarder `nonce` was handed over by a previous run (recovered, still outstanding)."""
        order = self._order(participant)
        order.next = max(order.next, nonce + 1)
        order.outstanding += 1

    def next(self, participant: str, onchain: int) -> int:
        """The participant's next forwarder nonce not yet handed to a lane (`onchain`: its next one on chain)."""
        order = self._orders.get(participant)
        return onchain if order is None else max(onchain, order.next)

    async def turn(self, participant: str, nonce: int, onchain: int) -> None:
        order = self._order(participant)
        async with order.moved:
            deadline = time.monotonic() + ORDER_WAIT_SECONDS
            while (expected := self.next(participant, onchain)) < nonce:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Conflict(f"this request has forwarder nonce {nonce}; the participant's next is {expected}: "
                                   "submit the request signed for that one first; nothing was sent",
                                   {"nonce": nonce, "expected_nonce": expected}, code="SignedRequestOutOfOrder")
                try:
                    await asyncio.wait_for(order.moved.wait(), left)
                except TimeoutError:
                    continue
            if nonce < expected:
                raise Conflict(f"a request with forwarder nonce {nonce} of this participant was relayed already; "
                               "nothing was sent", {"nonce": nonce, "expected_nonce": expected},
                               code="SignedRequestNonceUsed")
            order.next = nonce + 1
            order.outstanding += 1
            order.moved.notify_all()

    def finished(self, participant: str, nonce: int | None, executed: bool) -> None:
        """A handed-over request is final; `executed`: its forwarder call succeeded (else its nonce is free)."""
        order = self._orders.get(participant)
        if order is None:
            return
        order.outstanding = max(0, order.outstanding - 1)
        if not executed and nonce is not None:
            order.next = min(order.next, nonce)
        if order.outstanding == 0 and order.next == 0:
            self._orders.pop(participant, None)
        asyncio.get_running_loop().create_task(self._wake(order))

    @staticmethod
    async def _wake(order: _Order) -> None:
        async with order.moved:
            order.moved.notify_all()
