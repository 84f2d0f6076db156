"""The one translation of write outcomes into answers: which HTTP status and which body each outcome gets.

The chain client returns typed outcomes (`app.chain.types`: not sent, reverted, mined, pending) and never
chooses a status; it stores what `render` makes of each outcome, so a repeated Idempotency-Key replays these
very bytes, also after a restart.
"""

from __future__ import annotations

import logging
from typing import Any

from app.chain.errors import ContractReverted, revert_status
from app.chain.types import RESULT_DECODERS, Mined, NotSent, Outcome, Pending, Reverted, TxOutcome, WriteAnswer
from app.core.errors import error_body

log = logging.getLogger("tradefin.answers")

# `NotSent` codes that are not the node's failure; every other one answers 503 (nothing was sent, repeat later).
NOT_SENT_STATUS: dict[str, int] = {
    # The signer's ETH cannot pay for the gas: the request conflicts with the chain's state (the signer's
    # balance), as an ERC-20 balance too small for a payment does (409 `ERC20InsufficientBalance`); fixed by
    # funding, not by waiting.
    "InsufficientFundsForGas": 409,
    "IdempotencyKeyReused": 422,
    "NoSigningKey": 403,
}
UNAVAILABLE_STATUS = 503
PENDING_STATUS = 504


def render(outcome: Outcome) -> WriteAnswer:
    """The answer (status, body) of a write's outcome, as stored for replays."""
    if isinstance(outcome, Mined):
        return _mined(outcome)
    if isinstance(outcome, Reverted):
        answer = reverted_answer(outcome.error)
        if outcome.tx_hash is not None:
            answer.body["error"]["details"].update({"tx_hash": outcome.tx_hash, "block_number": outcome.block_number})
        return answer
    if isinstance(outcome, NotSent):
        status = NOT_SENT_STATUS.get(outcome.code, UNAVAILABLE_STATUS)
        details = outcome.details
        if outcome.node is not None and status == UNAVAILABLE_STATUS and "node" not in details:
            details = {**details, "node": outcome.node}
        return WriteAnswer(status, error_body(outcome.code, outcome.message, details))
    if isinstance(outcome, Pending):
        return WriteAnswer(PENDING_STATUS, error_body(
            "TransactionPending", "the transaction is stored and sent but not mined yet; repeat the request with the "
            "same Idempotency-Key to get its result", {"tx_hash": outcome.tx_hash, "nonce": outcome.nonce}))
    raise TypeError(f"not a write outcome: {outcome!r}")


def reverted_answer(error: ContractReverted) -> WriteAnswer:
    return WriteAnswer(revert_status(error.name), error_body(error.name, error.message, dict(error.arguments)))


def _events(receipt: TxOutcome) -> dict[str, Any]:
    return {"events": [e.__dict__ for e in receipt.events]}


def _mined(outcome: Mined) -> WriteAnswer:
    receipt = outcome.receipt
    decoder = RESULT_DECODERS.get(outcome.operation)
    try:
        http_status, result = decoder(receipt) if decoder else (200, _events(receipt))
    except Exception:
        log.exception("result decoder %s failed for %s", outcome.operation, receipt.tx_hash)
        http_status, result = 200, _events(receipt)
    return WriteAnswer(http_status, {"result": result, "tx_hash": receipt.tx_hash, "block_number": receipt.block_number})
