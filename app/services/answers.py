"""The one translation into HTTP answers: which status and which body each write outcome and each error gets.

The chain client returns typed outcomes (`app.chain.types`: not sent, reverted, mined, pending) and never
chooses a status; it stores what `render` makes of each outcome, so a repeated Idempotency-Key replays these
very bytes, also after a restart. The app's exception handlers answer through `exception_answer`, so a revert
met by a read (a service's preflight check) and one met by a write read the same.

Reverts: an explicit table (`REVERT_STATUS`) first, then the naming convention `<Contract><Problem>`
(`_NAME_RULES`); 409 otherwise.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from app.chain.errors import ChainError, ContractReverted, RpcError
from app.chain.types import Mined, NotSent, Outcome, Pending, Reverted, TxOutcome, WriteAnswer
from app.core.errors import ApiError, error_body
from app.services.results import CHANGED, RESULTS

log = logging.getLogger("tradefin.answers")

# `NotSent` codes that are not the node's failure; every other one answers 503 (nothing was sent, repeat later).
NOT_SENT_STATUS: dict[str, int] = {
    # The signer's ETH cannot pay for the gas: the request conflicts with the chain's state (the signer's
    # balance), as an ERC-20 balance too small for a payment does (409 `ERC20InsufficientBalance`); fixed by
    # funding, not by waiting.
    "InsufficientFundsForGas": 409,
    "IdempotencyKeyReused": 422,
    "NoSigningKey": 403,
    # A signed request forwards less gas than its call now needs (the chain moved since it was prepared): fixed by
    # preparing and signing it again.
    "SignedRequestGasTooLow": 409,
}
UNAVAILABLE_STATUS = 503
PENDING_STATUS = 504
# The node failed a read (not a write's outcome): nothing was applied, ask again after this many seconds unless
# its circuit says longer (`NodeNotAnswering.retry_after`).
READ_RETRY_AFTER_SECONDS = 1

# Explicit statuses where the naming convention below would answer otherwise; every other custom error maps by
# its name, so a new instrument's errors need no entry here. tests/unit/test_error_tables.py pins the status of
# every error of the build, and that each name here is one the build still has.
REVERT_STATUS: dict[str, int] = {
    # Authority (one check, `IParticipantRegistry.requireAuthorized`): the caller may not act now.
    "AccessControlUnauthorizedAccount": 403,
    "AccessControlBadConfirmation": 403,
    "ParticipantRegistryParticipantFrozen": 403,
    "ParticipantRegistryKycNotValid": 403,
    "SettlementTokenInactiveParty": 403,
    # Participants: the request names the wrong subject (KYC is for corporates; regulators are never frozen).
    "ParticipantRegistryUnexpectedKind": 422,
    "ParticipantRegistryCannotFreezeRegulator": 422,
    "InvoiceRegistrySameParty": 422,
    "InvoiceRegistryUnsupportedCurrency": 422,
    "InvoiceRegistryTooManyEntries": 422,
    "InvoiceRegistryMissingPaymentHook": 422,
    # Financing and certificates: "Not…" names that describe the chain's state, not the caller.
    "ReceivableFinancingInvoiceNotConfirmed": 409,
    "ReceivableFinancingNotOverdue": 409,
    "ReceivableFinancingNotProgrammeBuyer": 422,
    "PayableCertificatesInvoiceNotConfirmed": 409,
    "PayableCertificatesNoDiscountRequest": 409,
    "PayableCertificatesNoOffer": 409,
    "PayableCertificatesSplitSumMismatch": 422,
    "PayableCertificatesLengthMismatch": 422,
    "PayableCertificatesDiscountExceedsAmount": 422,
    "PaymentRouterQuoteSignerMismatch": 422,
    "PaymentRouterMissingPurposeCode": 422,
    "PaymentRouterQuoteSameCurrency": 422,
    # Letters of credit.
    "LetterOfCreditNotMatured": 409,  # not a permission: the deferred payment is due later
    "LetterOfCreditWaiverNotAllowed": 409,  # the claim lies outside the bank's undertaking
    "LetterOfCreditInvoiceRequired": 422,  # commercial-invoice documents name their registered invoice
    "LetterOfCreditInvoiceDocumentRequired": 422,  # an invoice is named only with a commercial invoice
    # OpenZeppelin and the forwarder.
    "ERC20InsufficientBalance": 409,
    "ERC20InsufficientAllowance": 409,
    "ERC721IncorrectOwner": 403,
    "ERC721InsufficientApproval": 403,
    "ERC2771ForwarderMismatchedValue": 422,
    "ERC2771UntrustfulTarget": 422,
    "InvalidAccountNonce": 409,
    # Solidity's built-in errors (not in any ABI).
    "Error": 409,
    "Panic": 409,
}


# The `<Contract><Problem>` convention, checked in this order.
_NAME_RULES: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"Unknown|Nonexistent|NotFound|DoesNotExist"), 404),
    (re.compile(r"Unauthori[sz]ed|Forbidden|Not[A-Z]|Only[A-Z]|Inactive|Unexpected(Kind|Caller|Party)"), 403),
    (re.compile(r"Invalid|Zero|Empty|TooLong|TooShort|TooLarge|TooSmall|Malformed|OutOfRange"), 422),
)


def revert_status(name: str) -> int:
    """HTTP status of a decoded revert: 409 conflict, 403 forbidden, 404 unknown, 422 invalid."""
    if name in REVERT_STATUS:
        return REVERT_STATUS[name]
    for pattern, status in _NAME_RULES:
        if pattern.search(name):
            return status
    return 409  # AlreadyX, UnexpectedState, Frozen, Expired, Exceeds...: the request conflicts with chain state


def exception_answer(exc: ApiError | ChainError) -> tuple[WriteAnswer, dict[str, str] | None]:
    """The answer and headers of an error raised while serving a request (the app's exception handlers)."""
    if isinstance(exc, ApiError):
        return WriteAnswer(exc.status_code, exc.body()), exc.headers
    if isinstance(exc, ContractReverted):
        return reverted_answer(exc), None
    retry_after = {"Retry-After": str(getattr(exc, "retry_after", READ_RETRY_AFTER_SECONDS))}
    if isinstance(exc, RpcError):
        return render(NotSent(exc.kind.value, exc.message)), retry_after
    return render(NotSent("ChainUnavailable", str(exc))), retry_after  # ChainUnavailable, NodeNotAnswering


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
    """A mined success: its registered result (`app/services/results.py`) and status. An operation without a
    decoder (none of the gateway's routes) answers the receipt's decoded events; a decoder that fails is logged and
    answers them too: the transaction is mined, its answer must not be an error."""
    receipt = outcome.receipt
    kind = RESULTS.get(outcome.operation)
    try:
        status, result = (kind.status, kind.result(receipt)) if kind is not None else (CHANGED, _events(receipt))
    except Exception:
        log.exception("result decoder %s failed for %s", outcome.operation, receipt.tx_hash)
        status, result = CHANGED, _events(receipt)
    return WriteAnswer(status, {"result": result, "tx_hash": receipt.tx_hash, "block_number": receipt.block_number})
