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

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from eth_utils import keccak, to_checksum_address
from gateway_world import ROOT, free_port, node_rpc
from web3 import Web3
from web3.logs import DISCARD

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import CURRENCIES, INITIAL_BALANCE, build_platform

ROLES = ("operator", "regulator", "bank_cn", "bank_us", "exporter", "importer", "attester",
         "supplier1", "supplier2", "supplier3")
PARTICIPANTS = {  # role → (kind, jurisdiction)
    "regulator": (ParticipantKind.Regulator, "CN"),
    "bank_cn": (ParticipantKind.Bank, "CN"), "bank_us": (ParticipantKind.Bank, "US"),
    "exporter": (ParticipantKind.Corporate, "CN"), "importer": (ParticipantKind.Corporate, "US"),
    "attester": (ParticipantKind.Attester, "CN"),
    "supplier1": (ParticipantKind.Corporate, "CN"), "supplier2": (ParticipantKind.Corporate, "CN"),
    "supplier3": (ParticipantKind.Corporate, "VN"),
}




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
    def start(cls, data_dir: Path, accounts: int = 10, extra_args: tuple[str, ...] = ()) -> IndexerChain:
        port = free_port()
        process = subprocess.Popen(
            [str(ROOT / "tools/bin/anvil"), "--port", str(port), "--hardfork", "cancun", "--accounts", str(accounts),
             "--silent", *extra_args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # web3 validates every transaction against the chain id: asked once, not once per call.
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 60},
                                    cache_allowed_requests=True, cacheable_requests={"eth_chainId"}))
        deadline = time.monotonic() + 30
        while True:
            try:
                if w3.eth.block_number >= 0:
                    break
            except OSError:  # not listening yet (requests' connection errors are OSErrors)
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise RuntimeError("anvil did not start")
                time.sleep(0.05)
        world = cls(data_dir, port, process, w3)
        world.roles = dict(zip(ROLES, w3.eth.accounts))
        world._deploy()
        return world

    def __enter__(self) -> Self:
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

    def deploy(self, name: str, *args: Any) -> Any:
        """`scripts._common.Deployer`: deploy the build's contract `name` from the operator."""
        ct = self._types[name]
        factory = self.w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
        tx = factory.constructor(*args).transact({"from": self.roles["operator"]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.005)
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=ct["abi"])

    def transact(self, contract: Any, function: str, *args: Any) -> None:
        """`scripts._common.Deployer`: call `function` as the operator."""
        self.send("operator", getattr(contract.functions, function)(*args))

    def _deploy(self) -> None:
        """The platform as `scripts._common.build_platform` builds it, then the participants of `PARTICIPANTS`,
        KYC'd by their jurisdiction's bank, and funded."""
        self._types = self._build()
        self.start_block = self.w3.eth.block_number
        self.contracts.update(build_platform(self, self.roles["operator"], self.w3.eth.chain_id).contracts)
        registry = self.contracts["ParticipantRegistry"]
        expiry = self.now() + 5 * 365 * 24 * 3600
        for role, (kind, jurisdiction) in PARTICIPANTS.items():
            self.send("operator", registry.functions.registerParticipant(
                self.roles[role], kind, jurisdiction.encode(), keccak(text=f"id:{role}")))
            if kind == ParticipantKind.Corporate:
                bank = "bank_us" if jurisdiction == "US" else "bank_cn"
                self.send(bank, registry.functions.attestKyc(self.roles[role], KycStatus.Approved, expiry,
                                                             keccak(text=f"kyc:{role}")))
        self.send("operator", registry.functions.grantRole(registry.functions.CUSTOMS_ROLE().call(),
                                                           self.roles["attester"]))
        for code in CURRENCIES:
            for role, (kind, _) in PARTICIPANTS.items():
                if kind in (ParticipantKind.Corporate, ParticipantKind.Bank):
                    self.send("bank_cn", self.token(code).functions.mint(self.roles[role], INITIAL_BALANCE,
                                                                          keccak(text=f"dep:{role}:{code}")))
        self._record_deployment()

    def _record_deployment(self) -> None:
        """`data_dir/deployments/<chain id>.json`, where the indexer and the gateway find the contracts."""
        deployments = self.data_dir / "deployments"
        deployments.mkdir(parents=True, exist_ok=True)
        (deployments / f"{self.w3.eth.chain_id}.json").write_text(json.dumps({
            "chain_id": self.w3.eth.chain_id, "start_block": self.start_block,
            "contracts": {n: c.address for n, c in self.contracts.items()}}))

    @contextlib.contextmanager
    def fresh(self, data_dir: Path) -> Iterator[Self]:
        """This chain as it was deployed, for one test: an `evm_snapshot` now, reverted on exit, and `data_dir`
        (with the deployment record) for the test's databases. A module deploys once instead of per test."""
        kept, self.data_dir = self.data_dir, data_dir
        self._record_deployment()
        snapshot = self.rpc("evm_snapshot", [])
        try:
            yield self
        finally:
            self.data_dir = kept
            if not self.rpc("evm_revert", [snapshot]):
                raise RuntimeError(f"evm_revert({snapshot}) failed: the next test would not start afresh")

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

    def finance(self, seller: str, bank: str, invoice_id: int, currency: str, advance: int) -> int:
        """`seller` applies to `bank` for financing of its confirmed invoice, and the bank approves `advance`:
        the lien is taken for the bank and the advance paid to the seller. Returns the financing id."""
        financing = self.contracts["ReceivableFinancing"]
        receipt = self.send(seller, financing.functions.applyForFinancing(invoice_id, self.roles[bank], advance))
        (applied,) = financing.events.FinancingApplied().process_receipt(receipt, errors=DISCARD)
        financing_id = applied["args"]["financingId"]
        self.send(bank, self.token(currency).functions.approve(financing.address, 2**255))
        self.send(bank, financing.functions.approve(financing_id, advance, 800, self.now() + 60 * 24 * 3600,
                                                    keccak(text=f"terms:{financing_id}")))
        return financing_id

    def issue_certificate(self, buyer: str, seller: str, invoice_id: int, amount: int, days: int = 60) -> int:
        """The buyer offers a certificate against its confirmed invoice and the seller accepts it. Returns the
        root certificate's id."""
        certificates = self.contracts["PayableCertificates"]
        self.send(buyer, certificates.functions.offer(invoice_id, amount, self.now() + days * 24 * 3600))
        receipt = self.send(seller, certificates.functions.acceptOffer(invoice_id))
        (issued,) = certificates.events.CertificateIssued().process_receipt(receipt, errors=DISCARD)
        return issued["args"]["certificateId"]

    def relay(self, signer: str, relayer: str, call: Any) -> Any:
        """`call` signed by `signer` as an ERC-2771 forward request and submitted by `relayer` through the
        Forwarder (the target contracts read the signer as the caller)."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        from app.runner import derive_private_keys

        forwarder = self.contracts["Forwarder"]
        key = derive_private_keys(ROLES)[signer]
        request = {"from": self.roles[signer], "to": call.address, "value": 0, "gas": 1_000_000,
                   "nonce": forwarder.functions.nonces(self.roles[signer]).call(), "deadline": self.now() + 3600,
                   "data": bytes.fromhex(call._encode_transaction_data()[2:])}
        typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                            {"name": "chainId", "type": "uint256"},
                                            {"name": "verifyingContract", "type": "address"}],
                           "ForwardRequest": [{"name": n, "type": t} for n, t in (
                               ("from", "address"), ("to", "address"), ("value", "uint256"), ("gas", "uint256"),
                               ("nonce", "uint256"), ("deadline", "uint48"), ("data", "bytes"))]},
                 "primaryType": "ForwardRequest",
                 "domain": {"name": "tradefin", "version": "1", "chainId": self.w3.eth.chain_id,
                            "verifyingContract": forwarder.address},
                 "message": request}
        signature = Account.sign_message(encode_typed_data(full_message=typed), key).signature
        data = (request["from"], request["to"], 0, request["gas"], request["deadline"], request["data"], signature)
        return self.send(relayer, forwarder.functions.execute(data))

    def rpc(self, method: str, params: list[Any]) -> Any:
        return node_rpc(self.rpc_url, method, params)

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
