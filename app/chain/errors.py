"""Chain errors: node error strings → typed kinds (one table), and reverts → HTTP status (one table).

Node errors follow safe-eth-py's approach: the node's message is matched against one table of known
fragments, so callers branch on `NodeErrorKind`, never on strings. Custom errors are decoded by
selector from every ABI of the build (`AbiRegistry.decode_error`) and mapped to an HTTP status by
`revert_status`: an explicit table first, then the naming convention `<Contract><Problem>`.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any


class ChainError(Exception):
    """Base of every error raised by the chain client."""


class ChainUnavailable(ChainError):
    """The node cannot be reached or did not answer.

    `delivered` is False when the request certainly never reached the node (connection refused),
    None when it may have (timeout or broken connection after sending).
    """

    def __init__(self, message: str, delivered: bool | None = False) -> None:
        super().__init__(message)
        self.delivered = delivered


class NodeErrorKind(str, Enum):
    NONCE_TOO_LOW = "NonceTooLow"
    NONCE_TOO_HIGH = "NonceTooHigh"
    ALREADY_KNOWN = "AlreadyKnown"
    REPLACEMENT_UNDERPRICED = "ReplacementUnderpriced"
    INSUFFICIENT_FUNDS = "InsufficientFundsForGas"
    FEE_TOO_LOW = "FeeTooLow"
    GAS_LIMIT = "GasLimitExceeded"
    INTRINSIC_GAS = "IntrinsicGasTooLow"
    REVERTED = "ExecutionReverted"
    UNKNOWN = "NodeError"


# Lower-case fragments of node messages (geth, Anvil, Nethermind, Besu, Erigon) → kind. First match wins.
NODE_ERRORS: tuple[tuple[str, NodeErrorKind], ...] = (
    ("nonce too low", NodeErrorKind.NONCE_TOO_LOW),
    ("nonce has already been used", NodeErrorKind.NONCE_TOO_LOW),
    ("oldnonce", NodeErrorKind.NONCE_TOO_LOW),
    ("nonce too high", NodeErrorKind.NONCE_TOO_HIGH),
    ("already imported", NodeErrorKind.ALREADY_KNOWN),
    ("already known", NodeErrorKind.ALREADY_KNOWN),
    ("known transaction", NodeErrorKind.ALREADY_KNOWN),
    ("alreadyknown", NodeErrorKind.ALREADY_KNOWN),
    ("replacement transaction underpriced", NodeErrorKind.REPLACEMENT_UNDERPRICED),
    ("replacement underpriced", NodeErrorKind.REPLACEMENT_UNDERPRICED),
    ("insufficient funds", NodeErrorKind.INSUFFICIENT_FUNDS),
    ("max fee per gas less than block base fee", NodeErrorKind.FEE_TOO_LOW),
    ("fee cap less than block base fee", NodeErrorKind.FEE_TOO_LOW),
    ("transaction underpriced", NodeErrorKind.FEE_TOO_LOW),
    ("exceeds block gas limit", NodeErrorKind.GAS_LIMIT),
    ("intrinsic gas too low", NodeErrorKind.INTRINSIC_GAS),
    ("execution reverted", NodeErrorKind.REVERTED),
    ("revert", NodeErrorKind.REVERTED),
)


def classify_node_error(message: str) -> NodeErrorKind:
    lowered = message.lower()
    for fragment, kind in NODE_ERRORS:
        if fragment in lowered:
            return kind
    return NodeErrorKind.UNKNOWN


_HEX = re.compile(r"0x[0-9a-fA-F]*")
# invalid request, method not found, invalid params, method not supported (EIP-1474)
_REQUEST_FAULTS = (-32600, -32601, -32602, -32004)


class RpcError(ChainError):
    """A JSON-RPC error object answered by the node."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.kind = classify_node_error(message)

    @classmethod
    def from_json(cls, error: dict[str, Any]) -> "RpcError":
        return cls(int(error.get("code", -32603)), str(error.get("message", "")), error.get("data"))

    @property
    def transient(self) -> bool:
        """Neither a revert, nor an error nodes give for a transaction's own fault, nor a request the node
        cannot serve at all: a failure of the moment (e.g. Anvil's BlockOutOfRangeError under
        --prune-history, when a block is sealed between resolving "latest" and running a call)."""
        return (self.kind is NodeErrorKind.UNKNOWN and self.code not in _REQUEST_FAULTS
                and self.revert_data is None)

    @property
    def revert_data(self) -> bytes | None:
        """The revert payload (selector + arguments) when the node returned one."""
        data = self.data
        if isinstance(data, dict):
            data = data.get("data") or data.get("result")
        if isinstance(data, str) and _HEX.fullmatch(data):
            return bytes.fromhex(data[2:])
        if self.kind is NodeErrorKind.REVERTED:
            match = re.search(r"0x[0-9a-fA-F]{8,}", self.message)
            if match:
                return bytes.fromhex(match.group(0)[2:])
            return b""
        return None


class ContractReverted(ChainError):
    """A call reverted; `name` and `arguments` are the decoded custom error (or `Error`/`Panic`)."""

    def __init__(self, name: str, args: dict[str, Any], data: bytes, contract: str | None = None) -> None:
        super().__init__(f"{name}({args})")
        self.name = name
        self.arguments = args  # not `args`: BaseException.args is a tuple
        self.data = data
        self.contract = contract

    @property
    def http_status(self) -> int:
        return revert_status(self.name)


class TransactionFailed(ChainError):
    """The node refused a transaction for a reason that re-signing cannot repair (e.g. no gas money)."""

    def __init__(self, kind: NodeErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# Explicit statuses for the errors of the contracts and OpenZeppelin; names not listed fall back to the
# naming convention below, so a new instrument's errors map without touching this file.
REVERT_STATUS: dict[str, int] = {
    "AccessControlUnauthorizedAccount": 403,
    "AccessControlBadConfirmation": 403,
    "ParticipantRegistryInvalidParticipant": 422,
    "ParticipantRegistryInvalidJurisdiction": 422,
    "ParticipantRegistryAlreadyRegistered": 409,
    "ParticipantRegistryUnknownParticipant": 404,
    "ParticipantRegistryInactiveParticipant": 403,
    "ParticipantRegistryUnexpectedKind": 403,
    "ParticipantRegistryInvalidKycExpiry": 422,
    "ParticipantRegistryNotKycBank": 403,
    "ParticipantRegistryInvalidKycStatus": 422,
    "ParticipantRegistryFreezeUnchanged": 409,
    "SettlementTokenInactiveParty": 403,
    "SettlementTokenNotBank": 403,
    "SettlementTokenNotRegulator": 403,
    "SettlementTokenZeroAmount": 422,
    "InvoiceRegistrySameParty": 422,
    "InvoiceRegistryUnsupportedCurrency": 422,
    "InvoiceRegistryTooManyEntries": 422,
    "PaymentRouterQuoteSignerMismatch": 422,
    # Financing and certificates: "Not…" names that describe the chain's state, not the caller.
    "ReceivableFinancingInvoiceNotConfirmed": 409,
    "ReceivableFinancingNotOverdue": 409,
    "ReceivableFinancingNotProgrammeBuyer": 422,
    "ReceivableFinancingRequestAboveFace": 422,
    "PayableCertificatesInvoiceNotConfirmed": 409,
    "PayableCertificatesNoDiscountRequest": 409,
    "PayableCertificatesSplitSumMismatch": 422,
    "PayableCertificatesLengthMismatch": 422,
    "PayableCertificatesDiscountExceedsAmount": 422,
    "PaymentRouterMissingPurposeCode": 422,
    "PaymentRouterQuoteSameCurrency": 422,
    "LetterOfCreditNotMatured": 409,  # not a permission: the deferred payment is due later
    "LetterOfCreditWaiverNotAllowed": 409,  # the claim lies outside the bank's undertaking
    "ERC20InsufficientBalance": 409,
    "ERC20InsufficientAllowance": 409,
    "ERC20InvalidSender": 422,
    "ERC20InvalidReceiver": 422,
    "ERC721NonexistentToken": 404,
    "ERC721IncorrectOwner": 403,
    "ERC721InsufficientApproval": 403,
    "EnforcedPause": 409,
    "ReentrancyGuardReentrantCall": 409,
    "ECDSAInvalidSignature": 422,
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
