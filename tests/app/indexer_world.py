"""A fresh Anvil of its own with the tradefin world deployed through web3 (Anvil's unlocked dev
accounts), for the indexer tests and `bench/indexer.py`.

The indexer tests rewind their chain (evm_snapshot / evm_revert) to make reorganisations, so they never
share a chain with a running gateway. Roles and deployment order follow `scripts._common`.

    with IndexerChain.start(tmp_path) as world:
        world.pay("exporter", "importer", "USD", 1234, "GDDS")
        indexer = world.indexer()           # its own SQLite database under tmp_path
        indexer.sync()
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from gateway_world import ROOT, free_port

ROLES = ("operator", "regulator", "bank_cn", "bank_us", "exporter", "importer", "attester",
         "supplier1", "supplier2", "supplier3")
PARTICIPANTS = {  # role → (kind, jurisdiction)
    "regulator": (3, "CN"), "bank_cn": (2, "CN"), "bank_us": (2, "US"), "exporter": (1, "CN"),
    "importer": (1, "US"), "attester": (4, "CN"), "supplier1": (1, "CN"), "supplier2": (1, "CN"),
    "supplier3": (1, "VN"),
}
CURRENCIES = ("USD", "CNY", "EUR")
INITIAL_BALANCE = 10_000_000_00
GRACE_PERIOD = 7 * 24 * 3600


def purpose(code: str) -> bytes:
    return code.encode().ljust(4, b"\0")[:4]


@dataclass
class IndexerChain:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    w3: Web3
    roles: dict[str, str] = field(default_factory=dict)
    contracts: dict[str, Any] = field(default_factory=dict)
    start_block: int = 0

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, data_dir: Path, accounts: int = 10, extra_args: tuple[str, ...] = ()) -> "IndexerChain":
        port = free_port()
        process = subprocess.Popen(
            [str(ROOT / "tools/bin/anvil"), "--port", str(port), "--hardfork", "cancun", "--accounts", str(accounts),
             "--silent", *extra_args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 60}))
        deadline = time.monotonic() + 30
        while True:
            try:
                w3.eth.block_number
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise RuntimeError("anvil did not start")
                time.sleep(0.05)
        world = cls(data_dir, port, process, w3)
        world.roles = dict(zip(ROLES, w3.eth.accounts))
        world._deploy()
        return world

    def __enter__(self) -> "IndexerChain":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    # Deployment --------------------------------------------------------------------------------------

    def _build(self) -> dict[str, Any]:
        return json.loads((ROOT / ".build" / "__local__.json").read_text())["contractTypes"]

    def _deploy_contract(self, types: dict[str, Any], name: str, *args: Any) -> Any:
        ct = types[name]
        factory = self.w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
        tx = factory.constructor(*args).transact({"from": self.roles["operator"]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.005)
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=ct["abi"])

    def _deploy(self) -> None:
        types = self._build()
        self.start_block = self.w3.eth.block_number
        op = self.roles["operator"]
        registry = self._deploy_contract(types, "ParticipantRegistry", op, b"SG", keccak(text="operator"))
        self.contracts["ParticipantRegistry"] = registry
        for code in CURRENCIES:
            self.contracts[f"SettlementToken{code}"] = self._deploy_contract(
                types, "SettlementToken", f"tradefin {code} deposit", code.encode(), 2, registry.address)
        invoices = self._deploy_contract(types, "InvoiceRegistry", registry.address, GRACE_PERIOD)
        self.contracts["InvoiceRegistry"] = invoices
        for code in CURRENCIES:
            self.send("operator", invoices.functions.setCurrency(self.token(code).address, True))
        if "ReceivableFinancing" in types:
            financing = self._deploy_contract(types, "ReceivableFinancing", registry.address, invoices.address)
            self.contracts["ReceivableFinancing"] = financing
            self.send("operator", invoices.functions.setInstrument(financing.address, True))
        if "PayableCertificates" in types:
            certificates = self._deploy_contract(types, "PayableCertificates", registry.address, invoices.address,
                                                 30 * 24 * 3600)
            self.contracts["PayableCertificates"] = certificates
            self.send("operator", invoices.functions.setInstrument(certificates.address, True))
        if "LetterOfCredit" in types:
            letters = self._deploy_contract(types, "LetterOfCredit", registry.address, invoices.address)
            self.contracts["LetterOfCredit"] = letters
            self.send("operator", registry.functions.registerParticipant(letters.address, 6, b"SG",
                                                                         keccak(text="instrument:lc")))
            self.send("operator", invoices.functions.setInstrument(letters.address, True))
        expiry = self.now() + 5 * 365 * 24 * 3600
        for role, (kind, jurisdiction) in PARTICIPANTS.items():
            self.send("operator", registry.functions.registerParticipant(
                self.roles[role], kind, jurisdiction.encode(), keccak(text=f"id:{role}")))
            if kind == 1:
                bank = "bank_us" if jurisdiction == "US" else "bank_cn"
                self.send(bank, registry.functions.attestKyc(self.roles[role], 1, expiry, keccak(text=f"kyc:{role}")))
        for code in CURRENCIES:
            for role, (kind, _) in PARTICIPANTS.items():
                if kind in (1, 2):
                    self.send("bank_cn", self.token(code).functions.mint(self.roles[role], INITIAL_BALANCE,
                                                                          keccak(text=f"dep:{role}:{code}")))
        deployments = self.data_dir / "deployments"
        deployments.mkdir(parents=True, exist_ok=True)
        (deployments / f"{self.w3.eth.chain_id}.json").write_text(json.dumps({
            "chain_id": self.w3.eth.chain_id, "start_block": self.start_block,
            "contracts": {n: c.address for n, c in self.contracts.items()}}))

    # Actions -----------------------------------------------------------------------------------------

    def token(self, code: str) -> Any:
        return self.contracts[f"SettlementToken{code}"]

    def send(self, role: str, call: Any, **tx: Any) -> Any:
        tx_hash = call.transact({"from": self.roles[role], **tx})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.005)
        assert receipt["status"] == 1, f"reverted: {call.fn_name}"
        return receipt

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def mine_at(self, timestamp: int) -> None:
        """The next block gets `timestamp` (each following block one second later)."""
        self.rpc("evm_setNextBlockTimestamp", [timestamp])

    def pay(self, sender: str, receiver: str, currency: str, amount: int, code: str = "GDDS", ref: str = "") -> Any:
        return self.send(sender, self.token(currency).functions.transferWithPurpose(
            self.roles[receiver], amount, purpose(code), keccak(text=ref or f"{sender}-{receiver}-{amount}")))

    def register_invoice(self, seller: str, buyer: str, currency: str, amount: int, number: str,
                         document: bytes | None = None) -> int:
        invoices = self.contracts["InvoiceRegistry"]
        receipt = self.send(seller, invoices.functions.register(
            self.roles[buyer], self.token(currency).address, number.encode().ljust(32, b"\0"), amount,
            self.now(), self.now() + 90 * 24 * 3600, document or keccak(text=f"doc:{number}")))
        (event,) = invoices.events.InvoiceRegistered().process_receipt(receipt, errors=DISCARD)
        return event["args"]["invoiceId"]

    def rpc(self, method: str, params: list[Any]) -> Any:
        answer = httpx.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                            timeout=60).json()
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["result"]

    def address(self, role: str) -> str:
        return to_checksum_address(self.roles[role])

    # The indexer ------------------------------------------------------------------------------------

    def env(self, database: str = "index.sqlite3") -> dict[str, str]:
        return {"TRADEFIN_ENVIRONMENT": "development", "TRADEFIN_RPC_URL": self.rpc_url,
                "TRADEFIN_CHAIN_ID": str(self.w3.eth.chain_id), "TRADEFIN_DATA_DIR": str(self.data_dir),
                "TRADEFIN_DATABASE_URL": f"sqlite:///{self.data_dir / database}"}

    def indexer(self, database: str = "index.sqlite3", **overrides: Any):  # type: ignore[no-untyped-def]
        from app.core.config import Settings
        from app.indexer.config import IndexerSettings
        from app.indexer.worker import build_indexer

        env = self.env(database)
        settings = Settings(rpc_url=env["TRADEFIN_RPC_URL"], chain_id=int(env["TRADEFIN_CHAIN_ID"]),
                            data_dir=self.data_dir, database_url=env["TRADEFIN_DATABASE_URL"])
        return build_indexer(settings, IndexerSettings(**overrides))


def subprocess_env(world: IndexerChain, **extra: str) -> dict[str, str]:
    return {**os.environ, **world.env(), **extra}
