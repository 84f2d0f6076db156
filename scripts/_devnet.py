"""Deploy-once and demo-world helpers for a long-lived chain (`make run`, `ape run deploy`, `ape run bootstrap`).

Unlike the test fixtures, which deploy a fresh world on a fresh chain, these functions find what a chain
already holds and only add what is missing, so that running them again changes nothing:

* `ensure_platform` reuses the deployment recorded for the chain id (`.data/deployments/<chain_id>.json`)
  when every recorded contract still has code and no instrument the project now has is missing from it;
  otherwise it deploys everything with `scripts._common.deploy_platform` and records the addresses.
* `bootstrap_demo` registers the demo world with `scripts._common.bootstrap_world` and funds each demo bank
  and corporate with `INITIAL_BALANCE` of every currency, minting only to those that hold none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scripts._common import (
    CURRENCIES,
    DEMO_WORLD,
    INITIAL_BALANCE,
    KIND_BANK,
    KIND_CORPORATE,
    ONE_YEAR,
    Platform,
    bootstrap_world,
    deploy_platform,
    load_deployment,
    record_deployment,
    text_hash,
)

# Instrument contracts that `deploy_instruments` deploys when the project has them (recorded under these names).
INSTRUMENT_CONTRACTS = ("InvoiceRegistry", "LetterOfCredit", "PaymentRouter", "PayableCertificates")
KYC_VALIDITY = 5 * ONE_YEAR


@dataclass
class PlatformState:
    """What `ensure_platform` found or did."""

    platform: Platform
    deployed: bool
    reason: str
    start_block: int


@dataclass
class BootstrapReport:
    """What `bootstrap_demo` changed (empty lists when the world was already in place)."""

    registered: list[str] = field(default_factory=list)
    kyc_attested: list[str] = field(default_factory=list)
    funded: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.registered or self.kyc_attested or self.funded)


def contract_type_name(recorded_name: str) -> str:
    """`SettlementTokenUSD` → `SettlementToken`; other recorded names are their contract type."""
    for code in CURRENCIES:
        if recorded_name == f"SettlementToken{code}":
            return "SettlementToken"
    return recorded_name


def attach_recorded(project: Any, chain: Any) -> tuple[Platform | None, str]:
    """The recorded platform of this chain if it is all still there, else None and why not."""
    record = load_deployment(chain.chain_id)
    if record is None:
        return None, "no deployment recorded for this chain"
    platform = Platform(chain_id=chain.chain_id)
    for name, address in record["contracts"].items():
        if not chain.provider.get_code(address):
            return None, f"recorded {name} at {address} has no code on this chain"
        type_name = contract_type_name(name)
        if not hasattr(project, type_name):
            return None, f"recorded {name} is no longer a contract of the project"
        platform.contracts[name] = getattr(project, type_name).at(address)
    missing = [n for n in INSTRUMENT_CONTRACTS if hasattr(project, n) and n not in platform.contracts]
    if missing:
        return None, f"the project now has {', '.join(missing)}, not in the recorded deployment"
    return platform, f"deployment recorded at block {record.get('start_block', 0)} is in place"


def ensure_platform(project: Any, chain: Any, operator: Any, redeploy: bool = False) -> PlatformState:
    """Reuse this chain's recorded deployment, or deploy and record a new one."""
    if not redeploy:
        platform, reason = attach_recorded(project, chain)
        if platform is not None:
            start_block = (load_deployment(chain.chain_id) or {}).get("start_block", 0)
            return PlatformState(platform, deployed=False, reason=reason, start_block=start_block)
    else:
        reason = "redeploy requested"
    start_block = chain.blocks.head.number + 1
    platform = deploy_platform(project, operator, chain.chain_id)
    record_deployment(platform, start_block)
    return PlatformState(platform, deployed=True, reason=reason, start_block=start_block)


def demo_roles(roles: dict[str, Any]) -> dict[str, Any]:
    """The demo world's accounts (DESIGN §1) out of a role → account map."""
    return {p.role: roles[p.role] for p in DEMO_WORLD}


def bootstrap_demo(platform: Platform, roles: dict[str, Any], chain: Any) -> BootstrapReport:
    """Register and KYC the demo world, and fund each demo bank and corporate; idempotent."""
    registry = platform["ParticipantRegistry"]
    report = BootstrapReport()
    for p in DEMO_WORLD[1:]:
        if registry.kindOf(roles[p.role].address) == 0:
            report.registered.append(p.role)
    for p in DEMO_WORLD:
        if p.kind == KIND_CORPORATE and not registry.isActive(roles[p.role].address):
            report.kyc_attested.append(p.role)
    if report.registered or report.kyc_attested:
        bootstrap_world(platform, roles, chain.pending_timestamp + KYC_VALIDITY)

    bank_for = {"CN": roles["bank_cn"], "US": roles["bank_us"]}
    for code in CURRENCIES:
        token = platform[f"SettlementToken{code}"]
        for p in DEMO_WORLD:
            if p.kind not in (KIND_BANK, KIND_CORPORATE):
                continue
            account = roles[p.role]
            if token.balanceOf(account.address) > 0:
                continue
            bank = account if p.kind == KIND_BANK else bank_for.get(p.jurisdiction, roles["bank_cn"])
            token.mint(account.address, INITIAL_BALANCE, text_hash(f"demo-funding:{p.role}:{code}"), sender=bank)
            report.funded.append(f"{p.role} {code}")
    return report
