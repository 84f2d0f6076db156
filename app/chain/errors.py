"""Chain errors: node error strings → typed kinds (one table), and reverts decoded in the platform's words.

Node errors follow safe-eth-py's approach: the node's message is matched against one table of known
fragments, so callers branch on `NodeErrorKind`, never on strings. Custom errors are decoded by
selector from every ABI of the build (`AbiRegistry.decode_error`); which HTTP status a revert answers is the
gateway's choice (`app/services/answers.py`), not the chain layer's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
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


class NodeNotAnswering(ChainUnavailable):
    """The node did not answer the last requests in time, so the gateway stops asking it for a while (an open
    circuit, `app/chain/rpc.py`): nothing was sent. `retry_after` is whole seconds until the next probe."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, delivered=False)
        self.retry_after = retry_after


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
    ("enough funds", NodeErrorKind.INSUFFICIENT_FUNDS),  # Hardhat/EDR: "Sender doesn't have enough funds to send tx"
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
# Failures of the moment whatever their code: Anvil 1.x answers a call on a block its pruned history just dropped
# (sealed between resolving "latest" and running the call) with -32602 "BlockOutOfRangeError" as well as -32603.
_MOMENTARY = ("blockoutofrange",)


class RpcError(ChainError):
    """A JSON-RPC error object answered by the node."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.kind = classify_node_error(message)

    @classmethod
    def from_json(cls, error: dict[str, Any]) -> RpcError:
        return cls(int(error.get("code", -32603)), str(error.get("message", "")), error.get("data"))

    @property
    def transient(self) -> bool:
        """Neither a revert, nor an error nodes give for a transaction's own fault, nor a request the node
        cannot serve at all: a failure of the moment (e.g. Anvil's BlockOutOfRangeError under
        --prune-history, when a block is sealed between resolving "latest" and running a call)."""
        if self.kind is not NodeErrorKind.UNKNOWN or self.revert_data is not None:
            return False
        return self.code not in _REQUEST_FAULTS or any(f in self.message.lower() for f in _MOMENTARY)

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
    """A call reverted; `name` and `arguments` are the decoded custom error (or `Error`/`Panic`), `notice`
    what the error means in the contract's own words (its NatSpec, arguments filled in)."""

    def __init__(self, name: str, args: dict[str, Any], data: bytes, contract: str | None = None,
                 notice: str = "") -> None:
        super().__init__(f"{name}({args})")
        self.name = name
        self.arguments = args  # not `args`: BaseException.args is a tuple
        self.data = data
        self.contract = contract
        self.notice = notice

    @property
    def message(self) -> str:
        """`<Contract> refused: <what happened>`, or `<Contract> reverted with <Name>` without a notice. Times
        read as UTC dates (`TIME_ARGUMENTS`), not Unix seconds."""
        where = f"{self.contract} " if self.contract else ""
        states = state_sentence(self.arguments)
        if states:
            return f"{where}refused: {states}" if where else states
        if self.notice:
            notice = in_domain_words(self.notice, self.arguments)
            return f"{where}refused: {notice}" if where else notice
        return f"{where}reverted with {self.name}"


# Arguments of custom errors that are times (Unix seconds of the chain): a message says them as UTC dates.
TIME_ARGUMENTS = frozenset({
    "now_", "today", "dueDate", "maturity", "maturityDate", "defaultsAt", "expiry", "expiryDate",
    "latestShipmentDate", "shipmentDate", "examinationDeadline",
})


# The `<Contract>Unexpected…State(id, current, expectedStates)` errors, as Governor's: the id arguments that name
# what is in the wrong state, in the platform's words. The NatSpec of these errors explains the bitmap to
# developers; a user is told the states by name.
STATE_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("presentationId", "presentation"), ("lcId", "credit"), ("invoiceId", "invoice"),
    ("financingId", "financing"), ("programmeId", "programme"), ("certificateId", "certificate"),
)


def state_sentence(arguments: dict[str, Any]) -> str:
    """`invoice 7 is Confirmed; this step needs it to be Registered` for an unexpected-state error, else ``."""
    current, expected = arguments.get("current"), arguments.get("expectedStates")
    if not isinstance(current, str) or not isinstance(expected, list):
        return ""
    named = [f"{word} {arguments[key]}" for key, word in STATE_SUBJECTS if key in arguments]
    subject = " under ".join(named) or "it"
    names = [str(state) for state in expected] or ["none"]
    needed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
    return f"{subject} is {current}; this step needs it to be {needed}"


def utc_time(seconds: int) -> str:
    """`2026-12-03 14:05:00 UTC` (a day's start reads as the day alone: `2026-12-03 00:00 UTC`)."""
    moment = datetime.fromtimestamp(seconds, UTC)
    if moment.hour == moment.minute == moment.second == 0:
        return moment.strftime("%Y-%m-%d 00:00 UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def in_domain_words(notice: str, arguments: dict[str, Any]) -> str:
    """`notice` with every time argument's Unix seconds written as a UTC date."""
    for name, value in arguments.items():
        if name in TIME_ARGUMENTS and isinstance(value, int) and 0 < value < 2**40:
            notice = re.sub(rf"(?<![0-9A-Za-z]){value}(?![0-9])", utc_time(value), notice)
    return notice


# What the errors of OpenZeppelin that reach the gateway's callers mean, in the platform's words (their own
# NatSpec is written for developers). Back-quoted names are the error's arguments (`ErrorAbi.describe`).
ERROR_NOTICES: dict[str, str] = {
    "AccessControlUnauthorizedAccount": "`account` may not do this: it lacks `neededRole`, or its membership of "
                                        "the platform was revoked.",
    "ERC20InsufficientBalance": "`sender` holds `balance`, less than the `needed` amount.",
    "ERC20InsufficientAllowance": "`spender` may move `allowance` of the payer's money, less than the `needed` "
                                  "amount: the payer approves it first (POST /v1/approvals).",
    "ERC721NonexistentToken": "No invoice `tokenId`.",
    "ERC721IncorrectOwner": "`sender` does not own invoice `tokenId` (its owner is `owner`).",
    "ERC721InsufficientApproval": "`operator` may not move invoice `tokenId`.",
    "ReentrancyGuardReentrantCall": "A call re-entered the contract before the previous one finished.",
}
