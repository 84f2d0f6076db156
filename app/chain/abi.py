"""ABIs from Ape's build output and addresses from the deployment file.

`.build/__local__.json` holds `contractTypes → <Name> → abi`; the deployment file written by
`scripts._common.record_deployment` holds `contracts → <DeployedName> → address` (e.g.
`SettlementTokenUSD` is a deployment of the `SettlementToken` type).

`AbiRegistry` encodes calls with precomputed selectors (eth_abi, no web3 contract objects on the hot
path) and custom errors by selector across every ABI in the build; `ContractEvents` decodes logs by the
emitting contract and topic (ERC-20 and ERC-721 `Transfer` share a topic, not a layout). Calls and
events whose types are all one 32-byte word (address, bool, intN, uintN, bytesN) are encoded and decoded
word by word, several times faster than eth_abi's general coder; anything else, and any value the fast
path does not recognise, goes through eth_abi, so its validation and errors are unchanged
(tests/unit/test_abi.py checks both paths give the same bytes and values). `ContractEvents` is the one log
decoder of the gateway: the chain client reads receipts with it and the indexer every log it stores.

A decoded custom error speaks the domain: an enum argument answers its member's name (`"Financed"`, not
`3`), an `expectedStates` bitmap the names of the states it accepts, a role the role's name
(`"BANK_ROLE"`), and the error's NatSpec `@notice` (from the build's `userdoc`) becomes its message, with
each back-quoted argument replaced by its value (`Vocabulary`: enum members from `app.core.enums`, roles from
the build's sources).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from app.chain.errors import ERROR_NOTICES
from app.core.enums import SOLIDITY_ENUMS

# What decoding bytes of another layout raises (eth_abi, the one-word decoders, an enum value out of range).
UNDECODABLE = (DecodingError, ValueError, TypeError, OverflowError, LookupError)


def _types(inputs: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(i) for i in inputs]


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_types(item.get('inputs', [])))})"


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    """EIP-55 checksum, cached: the same few thousand addresses come back in every log and call."""
    return to_checksum_address(address)


def to_json_value(value: Any) -> Any:
    """ABI-decoded values as JSON: bytes → 0x-hex, tuples → lists, addresses checksummed."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return checksum(value)
    return value


_WORD_TYPE = re.compile(r"^(address|bool|u?int(\d*)|bytes(\d+))$")


def _word_codec(typ: str) -> tuple[Any, Any] | None:
    """(encode, decode) of a type held in one 32-byte word, or None. `encode` raises on any value it
    does not recognise, and the caller then defers to eth_abi; `decode` answers the value as JSON
    (`to_json_value`: fixed bytes as 0x-hex, addresses checksummed)."""
    match = _WORD_TYPE.match(typ)
    if match is None:
        return None
    if typ == "address":
        return _encode_address, _decode_address
    if typ == "bool":
        return _encode_bool, _decode_bool
    if match.group(3):
        size = int(match.group(3))
        if not 1 <= size <= 32:
            return None
        return (lambda v, n=size: _encode_fixed_bytes(v, n)), (lambda w, n=size: "0x" + w[:n].hex())
    bits = int(match.group(2) or 256)
    if typ.startswith("u"):
        return (lambda v, b=bits: _encode_uint(v, b)), _decode_uint
    return (lambda v, b=bits: _encode_int(v, b)), _decode_int


def _encode_address(value: Any) -> bytes:
    if type(value) is not str or len(value) != 42 or value[:2] != "0x":
        raise TypeError
    body = value[2:]
    if body != body.lower() and body != body.upper() and checksum(value) != value:
        raise ValueError  # a mistyped checksum: eth_abi reports it
    return b"\0" * 12 + bytes.fromhex(body)


def _decode_address(word: bytes) -> str:
    return checksum("0x" + word[12:].hex())


def _encode_bool(value: Any) -> bytes:
    if type(value) is not bool:
        raise TypeError
    return (b"\0" * 31) + (b"\1" if value else b"\0")


def _decode_bool(word: bytes) -> bool:
    if word[:31] != b"\0" * 31 or word[31] > 1:
        raise ValueError("not a bool")
    return word[31] == 1


def _encode_fixed_bytes(value: Any, size: int) -> bytes:
    if type(value) is not bytes or len(value) != size:
        raise TypeError
    return value + b"\0" * (32 - size)


def _encode_uint(value: Any, bits: int) -> bytes:
    if type(value) is not int or not 0 <= value < 1 << bits:
        raise TypeError
    return value.to_bytes(32, "big")


def _decode_uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _encode_int(value: Any, bits: int) -> bytes:
    if type(value) is not int or not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise TypeError
    return value.to_bytes(32, "big", signed=True)


def _decode_int(word: bytes) -> int:
    return int.from_bytes(word, "big", signed=True)


def _word_codecs(types: list[str]) -> list[tuple[Any, Any]] | None:
    codecs = [_word_codec(t) for t in types]
    return None if any(c is None for c in codecs) else codecs  # type: ignore[return-value]


@dataclass(frozen=True)
class FunctionAbi:
    name: str
    selector: bytes
    input_types: list[str]
    output_types: list[str]

    @cached_property
    def _input_codecs(self) -> list[tuple[Any, Any]] | None:
        return _word_codecs(self.input_types)

    def encode(self, args: tuple[Any, ...]) -> bytes:
        codecs = self._input_codecs
        if codecs is not None and len(args) == len(codecs):
            try:
                return self.selector + b"".join(encode(value) for (encode, _), value in zip(codecs, args))
            except (TypeError, ValueError):
                pass  # eth_abi validates it and says why
        return self.selector + abi_encode(self.input_types, list(args))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.output_types, data))


def _named(item: dict[str, Any], value: Any) -> Any:
    """A decoded struct (a list, after `to_json_value`) as an object keyed by its ABI components, recursively;
    an array of structs as a list of such objects. Other values as they are."""
    components = item.get("components")
    if not components or not isinstance(value, list):
        return value
    if item["type"].endswith("]"):
        element = {**item, "type": item["type"][: item["type"].rindex("[")]}
        return [_named(element, v) for v in value]
    return {c["name"]: _named(c, v) for c, v in zip(components, value)}


@dataclass(frozen=True)
class EventAbi:
    name: str
    topic: bytes
    inputs: list[dict[str, Any]]

    @cached_property
    def _word_layout(self) -> list[tuple[str, bool, Any]] | None:
        """(name, indexed, decode) per input when every input is one word, in declaration order."""
        layout = []
        for item in self.inputs:
            codec = _word_codec(collapse_if_tuple(item))
            if codec is None:
                return None
            layout.append((item["name"], bool(item.get("indexed")), codec[1]))
        return layout

    @cached_property
    def _counts(self) -> tuple[int, int]:
        """(indexed inputs, inputs in data)."""
        indexed = sum(1 for i in self.inputs if i.get("indexed"))
        return indexed, len(self.inputs) - indexed

    def decode(self, topics: list[bytes], data: bytes, named_structs: bool = False) -> dict[str, Any]:
        """The event's arguments by name, as JSON values (`to_json_value`); structs as lists of their fields in
        order, or with `named_structs` as objects keyed by field name. Raises when the log's layout is not
        this event's (another number of topics, data of another length)."""
        indexed_count, plain_count = self._counts
        if len(topics) - 1 != indexed_count:
            raise ValueError(f"{self.name}: {len(topics) - 1} indexed topics, the event has {indexed_count}")
        layout = self._word_layout
        if layout is not None:
            if len(data) != 32 * plain_count:
                raise ValueError(f"{self.name}: {len(data)} bytes of data, the event has {plain_count} words")
            indexed = iter(topics[1:])
            words = iter([data[n : n + 32] for n in range(0, len(data), 32)])
            return {name: decode(next(indexed) if is_indexed else next(words)) for name, is_indexed, decode in layout}
        indexed_items = [i for i in self.inputs if i.get("indexed")]
        plain = [i for i in self.inputs if not i.get("indexed")]
        values: dict[str, Any] = {}
        for item, topic in zip(indexed_items, topics[1:]):
            typ = collapse_if_tuple(item)
            dynamic = typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")
            values[item["name"]] = topic if dynamic else abi_decode([typ], topic)[0]
        for item, value in zip(plain, abi_decode(_types(plain), data)):
            values[item["name"]] = value
        if named_structs:
            return {i["name"]: _named(i, to_json_value(values[i["name"]])) for i in self.inputs}
        return {i["name"]: to_json_value(values[i["name"]]) for i in self.inputs}


# Each enum's members by the enum's name, as an ABI's `internalType` ends (`enum IInvoiceLiens.InvoiceState`).
_ENUM_MEMBERS = {enum.__name__: tuple(m.name for m in enum) for enum in SOLIDITY_ENUMS.values()}
_ROLE = re.compile(r"\bkeccak256\(\"(\w+_ROLE)\"\)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_QUOTED = re.compile(r"`([^`]*)`")
# How an id argument reads in a message when its name does not say it (`lcId` 7 → "credit 7").
_ID_WORDS = {"lcId": "credit", "rootId": "certificate tree", "instrumentId": "instrument", "tokenId": "invoice"}


def _words(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: " " + m.group(1).lower(), camel)


@dataclass(frozen=True)
class Vocabulary:
    """The domain names of values the ABI only types: enum members (by enum name, from `app.core.enums`) and role
    hashes."""

    enums: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_ENUM_MEMBERS))
    roles: dict[bytes, str] = field(default_factory=dict)

    @classmethod
    def from_sources(cls, sources: dict[str, Any]) -> Vocabulary:
        roles: dict[bytes, str] = {b"\0" * 32: "DEFAULT_ADMIN_ROLE"}
        for source in sources.values():
            text = _COMMENTS.sub("", (source or {}).get("content") or "")
            for match in _ROLE.finditer(text):
                roles[keccak(text=match.group(1))] = match.group(1)
        return cls(dict(_ENUM_MEMBERS), roles)

    def enum_of(self, item: dict[str, Any]) -> tuple[str, ...] | None:
        internal = item.get("internalType") or ""
        if not internal.startswith("enum "):
            return None
        return self.enums.get(internal.rsplit(".", 1)[-1].removeprefix("enum "))

    def value(self, item: dict[str, Any], value: Any, members: tuple[str, ...] | None) -> Any:
        """`value` of ABI input `item` in domain words; `members`: the enum of the error's state argument."""
        enum = self.enum_of(item)
        if enum is not None and isinstance(value, int):
            return enum[value] if value < len(enum) else value
        if item.get("type") == "bytes32" and isinstance(value, bytes):
            if item.get("name") == "expectedStates" and members is not None:
                bits = int.from_bytes(value, "big")
                return [m for n, m in enumerate(members) if bits >> n & 1]
            if item.get("name", "").lower().endswith("role") and value in self.roles:
                return self.roles[value]
        return to_json_value(value)


@dataclass(frozen=True)
class ErrorAbi:
    name: str
    selector: bytes
    inputs: list[dict[str, Any]]
    notice: str = ""
    vocabulary: Vocabulary = field(default_factory=Vocabulary, compare=False, repr=False)

    def decode(self, data: bytes) -> dict[str, Any]:
        decoded = abi_decode(_types(self.inputs), data)
        members = next((e for e in map(self.vocabulary.enum_of, self.inputs) if e is not None), None)
        return {(i["name"] or f"arg{n}"): self.vocabulary.value(i, v, members)
                for n, (i, v) in enumerate(zip(self.inputs, decoded))}

    def describe(self, args: dict[str, Any], names: dict[str, str] | None = None) -> str:
        """The NatSpec notice with each back-quoted argument name replaced by its value (a deployed contract
        by its name); other back-quoted words lose their quotes. Empty when the error has no notice."""
        names = names or {}

        def word(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in args:
                return key
            value = args[key]
            if isinstance(value, list):
                return " or ".join(map(str, value)) or "none"
            if isinstance(value, str) and value in names:
                return f"{names[value]} ({value})"
            if key.endswith("Id") and len(key) > 2:  # `invoiceId` → "invoice 42", unless the text named it
                noun = _ID_WORDS.get(key, _words(key[:-2]))
                before = match.string[: match.start()].split()[-1:]
                if not before or before[0].strip("([{'\"").lower() not in (noun.split()[-1], "id"):
                    return f"{noun} {value}"
            return str(value)

        return _QUOTED.sub(word, self.notice)


@dataclass(frozen=True)
class DecodedEvent:
    contract: str | None
    address: str
    name: str
    args: dict[str, Any]
    log_index: int


@dataclass(frozen=True)
class DecodedError:
    name: str
    args: dict[str, Any]
    notice: str = ""  # the error's NatSpec notice, its arguments filled in (see `ErrorAbi.describe`)


# Built-in Solidity errors: Error(string) and Panic(uint256).
_ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
_PANIC = function_signature_to_4byte_selector("Panic(uint256)")


@dataclass
class AbiRegistry:
    """Every ABI of the build, by contract type, plus the event/error indexes across all of them."""

    abis: dict[str, list[dict[str, Any]]]
    _functions: dict[str, dict[str, FunctionAbi]] = field(default_factory=dict)
    _events: dict[bytes, EventAbi] = field(default_factory=dict)  # names ↔ topics only: decode with `ContractEvents`
    _events_by_type: dict[str, dict[bytes, EventAbi]] = field(default_factory=dict)
    _topics_by_name: dict[str, set[str]] = field(default_factory=dict)
    _errors: dict[bytes, ErrorAbi] = field(default_factory=dict)
    # Notices of errors by signature (the contracts' NatSpec `@notice`, then `ERROR_NOTICES` for the errors of
    # OpenZeppelin, which documents them for developers only), and the domain's vocabulary.
    error_docs: dict[str, str] = field(default_factory=dict)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)

    def __post_init__(self) -> None:
        for contract, abi in self.abis.items():
            functions: dict[str, FunctionAbi] = {}
            events: dict[bytes, EventAbi] = {}
            for item in abi:
                kind = item.get("type")
                if kind == "function":
                    sig = _signature(item)
                    functions[item["name"]] = FunctionAbi(
                        item["name"],
                        function_signature_to_4byte_selector(sig),
                        _types(item.get("inputs", [])),
                        _types(item.get("outputs", [])),
                    )
                elif kind == "event" and not item.get("anonymous"):
                    topic = keccak(text=_signature(item))
                    events[topic] = EventAbi(item["name"], topic, item["inputs"])
                    self._events.setdefault(topic, events[topic])
                elif kind == "error":
                    signature = _signature(item)
                    selector = function_signature_to_4byte_selector(signature)
                    notice = self.error_docs.get(signature) or ERROR_NOTICES.get(item["name"], "")
                    self._errors.setdefault(selector, ErrorAbi(item["name"], selector, item.get("inputs", []),
                                                               notice, self.vocabulary))
            self._functions[contract] = functions
            self._events_by_type[contract] = events

    @classmethod
    def from_build(cls, build_file: Path) -> AbiRegistry:
        build = json.loads(build_file.read_text())
        types = build.get("contractTypes", {})
        docs: dict[str, str] = {}
        for ct in types.values():
            for signature, entries in ((ct.get("userdoc") or {}).get("errors") or {}).items():
                text = next((e["notice"] for e in entries if isinstance(e, dict) and e.get("notice")), None)
                if text:
                    docs.setdefault(signature, " ".join(text.split()))
        return cls({name: ct.get("abi", []) for name, ct in types.items()}, error_docs=docs,
                   vocabulary=Vocabulary.from_sources(build.get("sources") or {}))

    def error(self, name: str) -> ErrorAbi | None:
        """The custom error called `name` in any ABI of the build."""
        return next((e for e in self._errors.values() if e.name == name), None)

    def error_names(self) -> set[str]:
        return {e.name for e in self._errors.values()}

    def function(self, contract_type: str, name: str) -> FunctionAbi:
        return self._functions[contract_type][name]

    def topics_named(self, name: str) -> set[str]:
        """The topic-0 values (0x-hex, lower case) of every event called `name` in any ABI."""
        cached = self._topics_by_name.get(name)
        if cached is None:
            cached = {"0x" + topic.hex() for topic, event in self._events.items() if event.name == name}
            self._topics_by_name[name] = cached
        return cached

    def events_of(self, contract_type: str) -> dict[bytes, EventAbi]:
        """The events of one contract type's ABI by topic-0 (inherited ones included: the ABI lists them)."""
        return self._events_by_type.get(contract_type, {})

    def decode_error(self, data: bytes, contract_names: dict[str, str] | None = None) -> DecodedError | None:
        """The custom error (or `Error`/`Panic`) `data` encodes; `contract_names` (address → deployed name)
        names the platform's contracts in the message."""
        if len(data) < 4:
            return None
        selector, body = data[:4], data[4:]
        if selector == _ERROR_STRING:
            return DecodedError("Error", {"message": abi_decode(["string"], body)[0]})
        if selector == _PANIC:
            return DecodedError("Panic", {"code": abi_decode(["uint256"], body)[0]})
        error = self._errors.get(selector)
        if error is None:
            return None
        try:
            args = error.decode(body)
        except UNDECODABLE:
            return None
        return DecodedError(error.name, args, error.describe(args, contract_names))


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return bytes.fromhex(value.removeprefix("0x"))


def _to_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class ContractEvents:
    """The one log decoder: events keyed by (the contract that emitted the log, topic-0).

    ERC-20 and ERC-721 `Transfer` and `Approval` share their topic-0 but not their layout (an invoice's token
    id is an indexed topic, a settlement token's amount is data), so a topic alone cannot say how to decode a
    log: the emitting contract's deployed type does. A log of an address outside the deployment, or whose
    layout does not match its contract's event, is not decoded. The chain client (receipts, `decode_log`) and
    the indexer (every log, `decode`) both decode through this; the indexer asks for `named_structs` (struct
    arguments as objects keyed by field, as its rows keep them), the chain client's result decoders read
    struct fields in order.
    """

    def __init__(self, abi: AbiRegistry, deployment: Deployment, named_structs: bool = False) -> None:
        self.names = deployment.names_by_address()  # checksummed address → deployed name
        self.types = {address: deployment.contract_type(name) for address, name in self.names.items()}
        self.named_structs = named_structs
        self._by_type = {t: abi.events_of(t) for t in set(self.types.values())}
        # (address, topic-0) → event: one dictionary look-up per log
        self._events = {(address, topic): event for address, t in self.types.items()
                        for topic, event in self._by_type[t].items()}

    def event(self, address: str, topic: bytes) -> EventAbi | None:
        """The event `address` (checksummed) emits under `topic`, by its contract's ABI."""
        return self._events.get((address, topic))

    def decode(self, address: str, topics: list[bytes], data: bytes) -> tuple[str, dict[str, Any]] | None:
        """(event name, arguments) of a log of `address` (checksummed), or None (see above)."""
        event = self._events.get((address, topics[0])) if topics else None
        if event is None:
            return None
        try:
            return event.name, event.decode(topics, data, self.named_structs)
        except UNDECODABLE:  # the contract's event, another layout: not ours to decode
            return None

    def decode_log(self, log: dict[str, Any]) -> DecodedEvent | None:
        """A receipt's log (JSON-RPC shape) as a `DecodedEvent`, or None (see above)."""
        address = checksum(log["address"])
        decoded = self.decode(address, [_to_bytes(t) for t in log.get("topics", [])], _to_bytes(log.get("data", "0x")))
        if decoded is None:
            return None
        return DecodedEvent(self.names.get(address), address, decoded[0], decoded[1], _to_int(log.get("logIndex", 0)))


@dataclass(frozen=True)
class Deployment:
    """Addresses of one chain's deployment, by deployed name, and the contract type of each."""

    chain_id: int
    start_block: int
    addresses: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Deployment:
        raw = json.loads(path.read_text())
        return cls(
            int(raw["chain_id"]),
            int(raw.get("start_block", 0)),
            {name: to_checksum_address(addr) for name, addr in raw["contracts"].items()},
        )

    def address(self, name: str) -> str:
        return self.addresses[name]

    def names_by_address(self) -> dict[str, str]:
        return {addr: name for name, addr in self.addresses.items()}

    def contract_type(self, name: str) -> str:
        """`SettlementTokenUSD` → `SettlementToken`; other names are their own type."""
        return "SettlementToken" if name.startswith("SettlementToken") else name
