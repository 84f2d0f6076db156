"""The order in which a participant's signed requests reach its relayer's lane: its forwarder nonces, one after the
other (OpenZeppelin's forwarder executes a request only at its signer's current nonce). A request whose predecessor
is still on its way waits for it, a little (`ORDER_WAIT_SECONDS`)."""

from __future__ import annotations

import asyncio
import time

from app.core.errors import Conflict

# The key of a relayed request's forwarder nonce in its call's context (stored with the request): `recover` picks
# the order up where a previous run left it.
FORWARD_NONCE = "forward_nonce"

# How long a signed request waits for the one before it (its participant's previous nonce) to be relayed, when
# both come at once.
ORDER_WAIT_SECONDS = 10.0


class NonceOrder:
    """Forwarder nonces handed to the lanes, per participant: `turn` before a signed request is handed over,
    `undo` when it was not sent after all."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._moved = asyncio.Condition()

    def restore(self, participant: str, nonce: int) -> None:
        """A request with forwarder `nonce` was handed over by a previous run (recovered, still outstanding)."""
        self._next[participant] = max(self._next.get(participant, 0), nonce + 1)

    def next(self, participant: str, onchain: int) -> int:
        """The participant's next forwarder nonce not yet handed to a lane (`onchain`: its next one on chain)."""
        return max(onchain, self._next.get(participant, onchain))

    async def turn(self, participant: str, nonce: int, onchain: int) -> None:
        async with self._moved:
            deadline = time.monotonic() + ORDER_WAIT_SECONDS
            while (expected := max(onchain, self._next.get(participant, onchain))) < nonce:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Conflict(f"this request has forwarder nonce {nonce}; the participant's next is {expected}: "
                                   "submit the request signed for that one first; nothing was sent",
                                   {"nonce": nonce, "expected_nonce": expected}, code="SignedRequestOutOfOrder")
                try:
                    await asyncio.wait_for(self._moved.wait(), left)
                except TimeoutError:
                    continue
            if nonce < expected:
                raise Conflict(f"a request with forwarder nonce {nonce} of this participant was relayed already; "
                               "nothing was sent", {"nonce": nonce, "expected_nonce": expected},
                               code="SignedRequestNonceUsed")
            self._next[participant] = nonce + 1
            self._moved.notify_all()

    async def undo(self, participant: str, nonce: int) -> None:
        """`nonce` was not sent after all (refused before its transaction was signed): it is the next again."""
        async with self._moved:
            if self._next.get(participant) == nonce + 1:
                self._next[participant] = nonce
                self._moved.notify_all()
