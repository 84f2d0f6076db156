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
