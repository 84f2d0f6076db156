"""The word-by-word ABI fast path gives exactly eth_abi's bytes and values, for every function and event of
the build whose types are all one word, and defers to eth_abi (and its errors) for anything else. Events with
structs decode through eth_abi, their fields in order or (for the indexer) named; a log of another layout is
refused rather than misread."""

from __future__ import annotations

import random

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils import to_checksum_address
from eth_utils.abi import collapse_if_tuple

from app.chain.abi import AbiRegistry, EventAbi, FunctionAbi, _word_codec, to_json_value
from app.core.config import ROOT

BUILD = ROOT / ".build" / "__local__.json"


@pytest.fixture(scope="module")
def registry() -> AbiRegistry:
    if not BUILD.exists():
        pytest.skip("contracts not compiled (make compile)")
    return AbiRegistry.from_build(BUILD)


def sample(typ: str, rng: random.Random) -> object:
    if typ == "address":
        return to_checksum_address(rng.randbytes(20))
    if typ == "bool":
        return rng.random() < 0.5
    if typ.startswith("bytes"):
        return rng.randbytes(int(typ[5:]))
    bits = int(typ.lstrip("uint") or 256)
    if typ.startswith("u"):
        return rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
    return rng.choice([-(1 << (bits - 1)), -1, 0, (1 << (bits - 1)) - 1, rng.getrandbits(bits - 1)])


def word_functions(registry: AbiRegistry) -> list[FunctionAbi]:
    functions = {id(f): f for contract in registry._functions.values() for f in contract.values()}
    return [f for f in functions.values() if f.input_types and all(_word_codec(t) for t in f.input_types)]


def test_function_encoding_matches_eth_abi(registry: AbiRegistry) -> None:
    rng = random.Random(7)
    functions = word_functions(registry)
    assert len(functions) > 20
    for fn in functions:
        for _ in range(20):
            args = tuple(sample(t, rng) for t in fn.input_types)
            assert fn.encode(args) == fn.selector + abi_encode(fn.input_types, list(args)), fn.name


def test_event_decoding_matches_eth_abi(registry: AbiRegistry) -> None:
    rng = random.Random(11)
    events = [e for e in registry._events.values() if e._word_layout is not None]
    assert len(events) > 20
    for event in events:
        indexed = [i for i in event.inputs if i.get("indexed")]
        plain = [i for i in event.inputs if not i.get("indexed")]
        for _ in range(20):
            values = {i["name"]: sample(i["type"], rng) for i in event.inputs}
            topics = [event.topic] + [abi_encode([i["type"]], [values[i["name"]]]) for i in indexed]
            data = abi_encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
            slow = EventAbi(event.name, event.topic, event.inputs + [{"name": "_", "type": "string"}])
            expected = {i["name"]: to_json_value(abi_decode([i["type"]], abi_encode([i["type"]], [values[i["name"]]]))[0])
                        for i in event.inputs}
            assert event.decode(topics, data) == expected, event.name
            assert slow._word_layout is None  # the general path is the one compared against


@pytest.mark.parametrize("bad", [
    ("0x" + "ab" * 19, 1),  # short address
    ("0x" + "11" * 20, -1),  # negative uint
    ("0x" + "11" * 20, 2**256),  # too large
    ("0x" + "11" * 20, True),  # bool for uint
])
def test_values_the_fast_path_refuses_get_eth_abi_errors(bad: tuple[object, object]) -> None:
    fn = FunctionAbi("f", b"\x12\x34\x56\x78", ["address", "uint256"], [])
    with pytest.raises(EncodingError):
        fn.encode(bad)


def test_a_mixed_case_address_is_encoded_as_eth_abi_does() -> None:
    fn = FunctionAbi("f", b"\x12\x34\x56\x78", ["address"], [])
    for address in ("0x" + "aB" * 20, to_checksum_address("0x" + "ab" * 20), "0x" + "AB" * 20):
        assert fn.encode((address,)) == fn.selector + abi_encode(["address"], [address])


def sample_input(item: dict, rng: random.Random) -> tuple[object, object]:
    """(value to encode, the same value as the indexer reads it: JSON, structs as objects by field)."""
    typ = item["type"]
    if typ.endswith("]"):
        element = {**item, "type": typ[: typ.rindex("[")]}
        pairs = [sample_input(element, rng) for _ in range(rng.randint(0, 3))]
        return [v for v, _ in pairs], [j for _, j in pairs]
    if typ == "tuple":
        pairs = [sample_input(c, rng) for c in item["components"]]
        return tuple(v for v, _ in pairs), {c["name"]: j for c, (_, j) in zip(item["components"], pairs)}
    value = sample(typ, rng)
    return value, to_json_value(value)


def test_events_with_structs_decode_as_eth_abi_in_order_or_by_field(registry: AbiRegistry) -> None:
    rng = random.Random(13)
    events = [e for e in registry._events.values() if e._word_layout is None]
    assert {"CreditApplied", "AmendmentProposed", "DocumentsPresented"} <= {e.name for e in events}
    for event in events:
        indexed = [i for i in event.inputs if i.get("indexed")]
        plain = [i for i in event.inputs if not i.get("indexed")]
        assert all(_word_codec(i["type"]) for i in indexed), event.name  # no hashed (dynamic) topic to sample
        for _ in range(10):
            values = {i["name"]: sample_input(i, rng) for i in event.inputs}
            topics = [event.topic] + [abi_encode([i["type"]], [values[i["name"]][0]]) for i in indexed]
            data = abi_encode([collapse_if_tuple(i) for i in plain], [values[i["name"]][0] for i in plain])
            in_order = {i["name"]: to_json_value(values[i["name"]][0]) for i in event.inputs}
            assert event.decode(topics, data) == in_order, event.name
            assert event.decode(topics, data, named_structs=True) == {n: j for n, (_, j) in values.items()}, event.name


def test_a_log_of_another_layout_is_refused(registry: AbiRegistry) -> None:
    """ERC-20 and ERC-721 `Transfer` share topic-0: an ERC-721 log read with the ERC-20 event is not decoded."""
    transfer = registry.events_of("SettlementToken")[next(
        t for t, e in registry.events_of("SettlementToken").items() if e.name == "Transfer")]
    a, b = (bytes(12) + bytes([n]) * 20 for n in (1, 2))
    with pytest.raises(ValueError):
        transfer.decode([transfer.topic, a, b, (7).to_bytes(32, "big")], b"")  # the token id as a topic
    assert transfer.decode([transfer.topic, a, b], (7).to_bytes(32, "big"))["value"] == 7
