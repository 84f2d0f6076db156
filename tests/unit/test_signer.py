"""The gateway's own EIP-1559 signing gives exactly eth-account's bytes, and never shows the key."""

from eth_account import Account

from app.chain.signer import Signer, require_coincurve


def test_signer_bytes_equal_eth_account():
    account = Account.create()
    tx = {"type": 2, "chainId": 31337, "nonce": 7, "to": "0x" + "11" * 20, "value": 0, "data": b"\x01" * 68,
          "gas": 100_000, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9}
    ours = Signer(account).sign(tx)
    theirs = account.sign_transaction(tx)
    assert ours.raw == bytes(theirs.raw_transaction)
    assert ours.tx_hash == "0x" + bytes(theirs.hash).hex()


def test_signer_repr_shows_only_the_address():
    account = Account.create()
    text = repr(Signer(account)) + str(Signer(account))
    assert account.address in text
    assert account.key.hex()[2:] not in text and bytes(account.key).hex() not in text


def test_coincurve_backend_is_active():
    assert require_coincurve() == "CoinCurveECCBackend"


def test_rlp_matches_pyrlp() -> None:
    import random

    import rlp

    from app.chain.signer import rlp_encode

    rng = random.Random(3)
    samples = [0, 1, 0x7F, 0x80, 0xFF, 2**64, 2**256 - 1, b"", b"\x00", b"\x7f", b"\x80", b"x" * 55, b"y" * 56,
               b"z" * 1024, [], [b""], [0, [1, [2]]], [b"a" * 60] * 3]
    samples += [[rng.getrandbits(rng.choice([8, 64, 256])), rng.randbytes(rng.randrange(0, 300)), []] for _ in range(200)]
    for item in samples:
        assert rlp_encode(item) == rlp.encode(item), item
