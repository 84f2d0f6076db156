"""`app.core.forward_requests.digest` encodes the EIP-712 `ForwardRequest` directly: it must give the bytes the
generic EIP-712 encoder (eth-account's `encode_typed_data`, what wallets and the client sign) gives for the same
typed data, for any request, and a signature over it must recover to its signer."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import forward_requests as fr

addresses = st.binary(min_size=20, max_size=20).map(lambda b: fr.to_checksum_address("0x" + b.hex()))
requests = st.builds(fr.ForwardRequest, sender=addresses, to=addresses, gas=st.integers(0, 2**256 - 1),
                     nonce=st.integers(0, 2**256 - 1), deadline=st.integers(0, 2**48 - 1),
                     data=st.binary(max_size=600), value=st.integers(0, 2**256 - 1))


@settings(max_examples=200, deadline=None)
@given(request=requests, chain_id=st.integers(1, 2**64), forwarder=addresses)
def test_the_direct_digest_is_the_generic_eip712_encoders(request, chain_id, forwarder):
    generic = _hash_eip191_message(encode_typed_data(full_message=fr.typed_data(request, chain_id, forwarder)))
    assert fr.digest(request, chain_id, forwarder) == generic


def test_a_request_signed_as_typed_data_recovers_to_its_signer_from_the_direct_digest():
    signer = Account.create()
    request = fr.ForwardRequest(signer.address, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 300_000, 7,
                                1_900_000_000, bytes.fromhex("a9059cbb" + "00" * 64))
    forwarder = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    signed = Account.sign_typed_data(signer.key, full_message=fr.typed_data(request, 31337, forwarder))
    assert Account._recover_hash(fr.digest(request, 31337, forwarder), signature=signed.signature) == signer.address


def test_a_field_out_of_its_solidity_range_is_not_a_forward_request():
    """A deadline is a uint48 and the other numbers uint256: past that (or negative) the message is malformed (the
    gateway answers `SignedRequestMalformed`), never encoded into some other digest or a server error."""
    signer = Account.create()
    base = fr.ForwardRequest(signer.address, signer.address, 1, 0, 1, b"").message()
    for field, value in (("deadline", 2**48), ("gas", 2**256), ("nonce", str(2**256)), ("value", -1)):
        try:
            fr.ForwardRequest.from_message(base | {field: value})
        except ValueError:
            continue
        raise AssertionError(f"{field} = {value} was accepted")
    assert fr.ForwardRequest.from_message(base | {"deadline": 2**48 - 1}).deadline == 2**48 - 1
