"""Participants' signing keys: encrypted keystores (eth-account keyfile format) under the data folder.

Each keystore is `<data_dir>/keystores/<checksum address>.json`, encrypted with the passphrase from the
environment. Keys are unlocked once at start-up and held only in `Signer` objects, whose repr shows
the address alone; no key is ever logged, returned or written to the database.

Signing uses libsecp256k1 through coincurve. `require_coincurve()` refuses to start without eth-keys'
coincurve backend, and `Signer.sign` goes one step further: it RLP-encodes the EIP-1559 transaction itself
and signs its hash with coincurve directly (about 0.2 ms), skipping eth-account's dict validation
(about 1.5 ms per transaction measured here). The bytes are identical to eth-account's (RFC 6979
deterministic signatures); tests/unit/test_signer.py checks it.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import coincurve
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from app.core.files import private_dir


def require_coincurve() -> str:
    """The active eth-keys backend's name; raises unless it is coincurve."""
    from eth_keys.backends import CoinCurveECCBackend, get_backend

    backend = get_backend()
    if not isinstance(backend, CoinCurveECCBackend):
        raise RuntimeError(  # noqa: TRY004 - the installed backend is set-up, not an argument of the wrong type
            f"eth-keys is using {type(backend).__name__}; install coincurve (pinned in requirements.lock) "
            "for signing at gateway speed"
        )
    return type(backend).__name__


def rlp_encode(item: int | bytes | list[Any]) -> bytes:
    """RLP of non-negative ints, byte strings and lists of them (the yellow paper, appendix B); pyrlp's
    general encoder costs several times more per transaction. tests/unit/test_signer.py checks it against
    pyrlp."""
    if isinstance(item, list):
        payload = b"".join(rlp_encode(i) for i in item)
        return _rlp_length(len(payload), 0xC0) + payload
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP encodes non-negative integers only")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _rlp_length(len(item), 0x80) + item


def _rlp_length(length: int, offset: int) -> bytes:
    if length <= 55:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: str


class Signer:
    """One participant's unlocked key. Signs EIP-1559 transactions; never reveals the key."""

    __slots__ = ("_key", "address")

    def __init__(self, account: LocalAccount) -> None:
        self.address: str = account.address
        self._key = coincurve.PrivateKey(bytes(account.key))

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def sign(self, tx: dict[str, Any]) -> SignedTx:
        """Sign an EIP-1559 (type 2) transaction given as eth-account's dict (no access list)."""
        if tx.get("type", 2) != 2 or tx.get("accessList"):
            raise ValueError("only type-2 transactions without an access list are signed here")
        to = tx["to"]
        fields = [
            tx["chainId"], tx["nonce"], tx["maxPriorityFeePerGas"], tx["maxFeePerGas"], tx["gas"],
            bytes.fromhex(to[2:]) if isinstance(to, str) else bytes(to), tx.get("value", 0),
            bytes(tx.get("data", b"")), [],
        ]
        signature = self._key.sign_recoverable(keccak(b"\x02" + rlp_encode(fields)), hasher=None)
        r, s, y_parity = signature[:32], signature[32:64], signature[64]
        raw = b"\x02" + rlp_encode(fields + [y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big")])
        return SignedTx(raw, "0x" + keccak(raw).hex())


    def sign_typed_data(self, typed_data: dict[str, Any]) -> bytes:
        """65-byte (r, s, v) EIP-712 signature of `typed_data` (e.g. a bank's FX quote); v is 27 or 28."""
        from eth_account.messages import _hash_eip191_message, encode_typed_data

        digest = _hash_eip191_message(encode_typed_data(full_message=typed_data))
        signature = self._key.sign_recoverable(digest, hasher=None)
        return signature[:64] + bytes([signature[64] + 27])


class KeystoreDirectory:
    """The keystore folder: create keystores, list them, unlock them all."""

    def __init__(self, folder: Path, passphrase: str, scrypt_n: int = 2**18) -> None:
        self.folder = private_dir(folder) if folder.exists() else folder  # 0700 (app.core.files)
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n

    def path_for(self, address: str) -> Path:
        return self.folder / f"{to_checksum_address(address)}.json"

    def addresses(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(to_checksum_address(p.stem) for p in self.folder.glob("0x*.json"))

    def create(self, private_key: bytes | str) -> str:
        """Encrypt `private_key` into a keystore (no-op when one exists); returns its address."""
        account = Account.from_key(private_key)
        path = self.path_for(account.address)
        if path.exists():
            return account.address
        private_dir(self.folder)  # 0700, and so is a data folder created on the way
        keyfile = Account.encrypt(account.key, self._passphrase, kdf="scrypt", iterations=self._scrypt_n)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keyfile, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return account.address

    def generate_signer(self) -> Signer:
        """A new random key, stored encrypted (and fsynced) before it is returned, ready to sign."""
        account = Account.create()
        self.create(account.key)
        return Signer(account)

    def unlock(self, address: str) -> Signer:
        keyfile = json.loads(self.path_for(address).read_text())
        return Signer(Account.from_key(Account.decrypt(keyfile, self._passphrase)))

    def unlock_all(self) -> dict[str, Signer]:
        addresses = self.addresses()
        with ThreadPoolExecutor(max_workers=4) as pool:
            signers = list(pool.map(self.unlock, addresses))
        return {s.address: s for s in signers}
