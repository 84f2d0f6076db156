"""Deployment and demo-world helpers shared by the Ape scripts and the tests.

One place knows the deployment order and how the demo world (`app/demo_world.py`: who is in it) is registered,
so `ape run deploy`, `make run`, the test fixtures and the benchmarks all build the same platform:

    Forwarder → ParticipantRegistry → SettlementToken (USD, CNY, EUR) → InvoiceRegistry →
    ReceivableFinancing → LetterOfCredit → PaymentRouter → PayableCertificates

then every instrument contract is registered as an `Instrument` participant (it spends allowances, the
letters of credit escrow margins), the tokens are accepted for invoices, and the three lien instruments are
registered with the invoice registry.

Addresses are recorded per chain id under `.data/deployments/<chain_id>.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eth_utils import keccak

from app.core.enums import KycStatus, ParticipantKind
from app.demo_world import CUSTOMS_AUTHORITIES, DEMO_WORLD, EXTRA_CORPORATES, TEST_ROLES

ROOT = Path(__file__).resolve().parent.parent
# `.data/` unless TRADEFIN_DATA_DIR points elsewhere (the devnet tests use a temporary folder).
DATA_DIR = Path(os.environ.get("TRADEFIN_DATA_DIR") or ROOT / ".data")
DEPLOYMENTS_DIR = DATA_DIR / "deployments"

# ISO 4217 code → minor-unit exponent (DESIGN §2).
CURRENCIES: dict[str, int] = {"USD": 2, "CNY": 2, "EUR": 2}

# Seconds after an invoice's due date before it counts as `Defaulted` (InvoiceRegistry, fixed at deployment).
INVOICE_GRACE_PERIOD = 7 * 24 * 3600
# Seconds after a certificate tree's maturity before it reads `Defaulted` (PayableCertificates).
CERTIFICATE_GRACE_PERIOD = 30 * 24 * 3600
# The instrument contracts, in deployment order; each is registered as an `Instrument` participant.
INSTRUMENT_CONTRACTS = ("InvoiceRegistry", "ReceivableFinancing", "LetterOfCredit", "PaymentRouter",
                        "PayableCertificates")
# The instruments that take invoice liens (each implements IInvoicePaymentHook).
LIEN_INSTRUMENTS = ("ReceivableFinancing", "LetterOfCredit", "PayableCertificates")
ONE_YEAR = 365 * 24 * 3600


def jurisdiction(code: str) -> bytes:
    """ISO 3166-1 alpha-2 code as the contracts' `bytes2`."""
    return code.encode("ascii")


def currency_code(code: str) -> bytes:
    """ISO 4217 code as the contracts' `bytes3`."""
    return code.encode("ascii")


def purpose_code(code: str) -> bytes:
    """ISO 20022 purpose code (four letters, e.g. GDDS) as the contracts' `bytes4`."""
    return code.encode("ascii").ljust(4, b"\0")[:4]


def identity_hash(legal_id: str, salt: str = "tradefin-demo") -> bytes:
    """keccak256 of a legal identifier (LEI or unified social credit code) and a salt."""
    return keccak(text=f"{legal_id}|{salt}")


def text_hash(text: str) -> bytes:
    """keccak256 of a text: evidence files, references and reason codes in the demo."""
    return keccak(text=text)


@dataclass
class Platform:
    """The deployed contracts of one chain, by name."""

    chain_id: int
    contracts: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.contracts[name]

    def addresses(self) -> dict[str, str]:
        return {name: str(c.address) for name, c in self.contracts.items()}


class Deployer(Protocol):
    """Deploys and calls as the operator: Ape's accounts (`ApeDeployer`) or plain web3 (the indexer's tests,
    which run without Ape). The contract objects it returns need an `address`."""

    def deploy(self, name: str, *args: Any) -> Any: ...

    def transact(self, contract: Any, function: str, *args: Any) -> None: ...


@dataclass(frozen=True)
class ApeDeployer:
    project: Any
    operator: Any

    def deploy(self, name: str, *args: Any) -> Any:
        return self.operator.deploy(getattr(self.project, name), *args)

    def transact(self, contract: Any, function: str, *args: Any) -> None:
        getattr(contract, function)(*args, sender=self.operator)


def deploy_platform(project: Any, operator: Any, chain_id: int) -> Platform:
    """Deploy every tradefin contract from `operator` (an Ape account), in dependency order, and wire them."""
    return build_platform(ApeDeployer(project, operator), operator.address, chain_id)


def build_platform(deployer: Deployer, operator: str, chain_id: int) -> Platform:
    """The one deployment recipe: every tradefin contract in dependency order, wired together (the instrument
    contracts registered as `Instrument` participants, the tokens accepted for invoices, the lien-taking
    instruments allowed to take liens)."""
    platform = Platform(chain_id=chain_id)
    contracts = platform.contracts
    forwarder = contracts["Forwarder"] = deployer.deploy("Forwarder")
    operator_jurisdiction = jurisdiction(DEMO_WORLD[0].jurisdiction)
    registry = contracts["ParticipantRegistry"] = deployer.deploy(
        "ParticipantRegistry", operator, operator_jurisdiction, identity_hash(DEMO_WORLD[0].legal_id),
        forwarder.address)
    for code, decimals in CURRENCIES.items():
        contracts[f"SettlementToken{code}"] = deployer.deploy(
            "SettlementToken", f"tradefin {code} deposit", currency_code(code), decimals, registry.address,
            forwarder.address)
    invoices = contracts["InvoiceRegistry"] = deployer.deploy(
        "InvoiceRegistry", registry.address, INVOICE_GRACE_PERIOD, forwarder.address)
    contracts["ReceivableFinancing"] = deployer.deploy(
        "ReceivableFinancing", registry.address, invoices.address, forwarder.address)
    contracts["LetterOfCredit"] = deployer.deploy(
        "LetterOfCredit", registry.address, invoices.address, forwarder.address)
    contracts["PaymentRouter"] = deployer.deploy("PaymentRouter", registry.address, forwarder.address)
    contracts["PayableCertificates"] = deployer.deploy(
        "PayableCertificates", registry.address, invoices.address, CERTIFICATE_GRACE_PERIOD, forwarder.address)

    for name in INSTRUMENT_CONTRACTS:
        address = contracts[name].address
        deployer.transact(registry, "registerParticipant", address, ParticipantKind.Instrument, operator_jurisdiction,
                          keccak(text=f"instrument:{name}:{address}"))
    for code in CURRENCIES:
        deployer.transact(invoices, "setCurrency", contracts[f"SettlementToken{code}"].address, True)
    for name in LIEN_INSTRUMENTS:
        deployer.transact(invoices, "setInstrument", contracts[name].address, True)
    return platform


def bootstrap_world(platform: Platform, accounts_by_role: dict[str, Any], kyc_expiry: int) -> None:
    """Register the demo world's participants, KYC its corporates, and fund them.

    `accounts_by_role` maps each `DEMO_WORLD` role (and optionally more corporates) to an account;
    the operator is already registered by the registry's constructor.
    """
    registry = platform["ParticipantRegistry"]
    operator = accounts_by_role["operator"]
    for p in DEMO_WORLD[1:]:
        account = accounts_by_role[p.role]
        if registry.kindOf(account.address) == ParticipantKind["None"]:
            registry.registerParticipant(
                account.address, p.kind, jurisdiction(p.jurisdiction), identity_hash(p.legal_id), sender=operator
            )
    customs_role = registry.CUSTOMS_ROLE()
    for role in CUSTOMS_AUTHORITIES:
        if not registry.hasRole(customs_role, accounts_by_role[role].address):
            registry.grantRole(customs_role, accounts_by_role[role].address, sender=operator)
    bank_for = {"CN": accounts_by_role["bank_cn"], "US": accounts_by_role["bank_us"]}
    for p in DEMO_WORLD:
        if p.kind != ParticipantKind.Corporate:
            continue
        account = accounts_by_role[p.role]
        if not registry.isActive(account.address):
            bank = bank_for.get(p.jurisdiction, accounts_by_role["bank_cn"])
            registry.attestKyc(
                account.address, KycStatus.Approved, kyc_expiry, text_hash(f"kyc-file:{p.legal_id}"), sender=bank
            )


INITIAL_BALANCE = 10_000_000_00  # minor units, per currency, per bank and corporate


def accounts_by_role(accounts: Any) -> dict[str, Any]:
    """Ape test accounts named by role (`outsider` is never registered)."""
    return {name: accounts[i] for i, name in enumerate(TEST_ROLES)}


def deploy_test_world(project: Any, chain: Any, roles: dict[str, Any]) -> Platform:
    """Every contract deployed, the demo world and extra corporates registered and KYC'd, and every
    bank and corporate funded with `INITIAL_BALANCE` of each currency."""
    operator = roles["operator"]
    platform = deploy_platform(project, operator, chain.chain_id)
    kyc_expiry = chain.pending_timestamp + 5 * ONE_YEAR
    bootstrap_world(platform, roles, kyc_expiry)
    registry = platform["ParticipantRegistry"]
    for name, code in EXTRA_CORPORATES.items():
        account = roles[name]
        registry.registerParticipant(
            account.address, ParticipantKind.Corporate, jurisdiction(code), identity_hash(f"USCC-{name}"),
            sender=operator,
        )
        registry.attestKyc(account.address, KycStatus.Approved, kyc_expiry, text_hash(f"kyc:{name}"),
                           sender=roles["bank_cn"])
    for code in CURRENCIES:
        token = platform[f"SettlementToken{code}"]
        for name in ("bank_cn", "bank_us"):
            token.mint(roles[name].address, INITIAL_BALANCE, text_hash(f"reserve:{name}:{code}"), sender=roles[name])
        for name in ("exporter", "importer", *EXTRA_CORPORATES):
            token.mint(roles[name].address, INITIAL_BALANCE, text_hash(f"deposit:{name}:{code}"),
                       sender=roles["bank_cn"])
    return platform


def record_deployment(platform: Platform, start_block: int) -> Path:
    """Write the addresses of `platform` to `.data/deployments/<chain_id>.json`."""
    DEPLOYMENTS_DIR.mkdir(parents=True, exist_ok=True)
    path = DEPLOYMENTS_DIR / f"{platform.chain_id}.json"
    path.write_text(json.dumps({"chain_id": platform.chain_id, "start_block": start_block,
                                "contracts": platform.addresses()}, indent=2) + "\n")
    return path


def load_deployment(chain_id: int) -> dict[str, Any] | None:
    """The recorded deployment of `chain_id`, or None."""
    path = DEPLOYMENTS_DIR / f"{chain_id}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())
