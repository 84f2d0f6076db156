"""Deploy-once and demo-world helpers for a long-lived chain (`make run`, `ape run deploy`, `ape run bootstrap`).

Unlike the test fixtures, which deploy a fresh world on a fresh chain, these functions find what a chain
already holds and only add what is missing, so that running them again changes nothing:

* `ensure_platform` reuses the deployment recorded for the chain id (`.data/deployments/<chain_id>.json`)
  when every recorded contract still has code and the record's build fingerprint matches the contracts
  compiled now; when no deployment is recorded or its contracts are gone (a new chain) it deploys everything
  with `scripts._common.deploy_platform` and records the addresses with the build fingerprint. A chain that
  holds a deployment of another build raises `StaleDeployment` (naming what changed): its contracts are not
  the ones this code speaks to, and only the caller may decide to start afresh (`make reset`) or deploy again.
* `bootstrap_demo` registers the demo world with `scripts._common.bootstrap_world` and funds each demo bank
  and corporate with `INITIAL_BALANCE` of every currency, minting only to those that hold none.

The build fingerprint is, per contract type of the platform, the keccak of its creation bytecode in the
compiled artefacts (constructor and runtime code) without the compiler's metadata trailer: a change of
code is a new build, an edited comment is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

import scripts._common as common
from app.core.enums import ParticipantKind
from scripts._common import (
    CURRENCIES,
    DEMO_WORLD,
    INITIAL_BALANCE,
    INSTRUMENT_CONTRACTS,
    ONE_YEAR,
    Platform,
    bootstrap_world,
    deploy_platform,
    load_deployment,
    record_deployment,
    text_hash,
)

# Every contract `deploy_platform` deploys and records, by recorded name.
PLATFORM_CONTRACTS = ("Forwarder", "ParticipantRegistry", *(f"SettlementToken{code}" for code in CURRENCIES),
                      *INSTRUMENT_CONTRACTS)
KYC_VALIDITY = 5 * ONE_YEAR
# The command that starts afresh: a new chain, deployment and gateway database (tools/platform.py `reset`).
RESET_COMMAND = "make reset && make run"


class StaleDeployment(Exception):
    """The chain holds a deployment recorded from another build of the contracts than the one compiled now."""

    def __init__(self, chain_id: int, changes: list[str], record_path: Path):
        self.chain_id, self.changes, self.record_path = chain_id, changes, record_path
        super().__init__(f"the deployment recorded for chain {chain_id} ({record_path}) does not match the "
                         f"contracts compiled now: {'; '.join(changes)}")


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


def code_fingerprint(creation_code: bytes) -> str:
    """keccak of a contract's creation bytecode without the compiler's CBOR metadata trailer (the last
    `length + 2` bytes of the runtime code, which the creation code ends with)."""
    code = bytes(creation_code)
    if len(code) >= 2:
        length = int.from_bytes(code[-2:], "big")
        if 0 < length <= len(code) - 2 and code[-2 - length] & 0xF0 == 0xA0:  # a CBOR map of a few entries
            code = code[:-2 - length]
    return "0x" + keccak(code).hex()


def build_fingerprint(project: Any, names: Any = PLATFORM_CONTRACTS) -> dict[str, str]:
    """Contract type → `code_fingerprint` of its compiled creation code, for every type of `names`. A type the
    build lacks (a failed compile) stops here: a fingerprint of fewer contracts would let a deployment of less
    pass as current."""
    fingerprint: dict[str, str] = {}
    for type_name in sorted({contract_type_name(n) for n in names}):
        if not hasattr(project, type_name):
            raise RuntimeError(f"the build has no contract type {type_name}: compile the contracts again")
        code = getattr(project, type_name).contract_type.get_deployment_bytecode()
        if code:
            fingerprint[type_name] = code_fingerprint(code)
    return fingerprint


def build_changes(record: dict[str, Any], current: dict[str, str]) -> list[str]:
    """What differs between a recorded deployment and the build `current` (`build_fingerprint` of the
    project): empty when the record was deployed from this build."""
    recorded_names = set(record.get("contracts", {}))
    changes = [f"{name}: not in the recorded deployment" for name in PLATFORM_CONTRACTS
               if name not in recorded_names]
    changes += [f"{name}: no longer a contract of the project" for name in sorted(recorded_names)
                if contract_type_name(name) not in current]
    recorded_build = record.get("build")
    if not isinstance(recorded_build, dict):
        return changes + ["the record has no build fingerprint: it was deployed before builds were fingerprinted"]
    changed = sorted(t for t, h in current.items() if t in recorded_build and recorded_build[t] != h
                     and any(contract_type_name(n) == t for n in recorded_names))
    if changed:
        changes.append(f"code changed since the deployment: {', '.join(changed)}")
    return changes


def record_platform(project: Any, platform: Platform, start_block: int) -> Path:
    """Record `platform` (`scripts._common.record_deployment`) with the build fingerprint of its types."""
    path = record_deployment(platform, start_block)
    record = json.loads(path.read_text())
    record["build"] = build_fingerprint(project, platform.contracts)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def attach_recorded(project: Any, chain: Any) -> tuple[Platform | None, str]:
    """The recorded platform of this chain if it is all still there, else None and why not (no record, or
    its contracts are not on this chain: a new chain). Raises `StaleDeployment` when the recorded contracts
    are there but were built from other code than the contracts compiled now."""
    record = load_deployment(chain.chain_id)
    if record is None:
        return None, "no deployment recorded for this chain"
    for name, address in record["contracts"].items():
        if not chain.provider.get_code(address):
            return None, f"recorded {name} at {address} has no code on this chain"
    changes = build_changes(record, build_fingerprint(project, {*PLATFORM_CONTRACTS, *record["contracts"]}))
    if changes:
        raise StaleDeployment(chain.chain_id, changes, common.DEPLOYMENTS_DIR / f"{chain.chain_id}.json")
    platform = Platform(chain_id=chain.chain_id)
    for name, address in record["contracts"].items():
        platform.contracts[name] = getattr(project, contract_type_name(name)).at(address)
    return platform, f"deployment recorded at block {record.get('start_block', 0)} is in place"


def ensure_platform(project: Any, chain: Any, operator: Any, redeploy: bool = False) -> PlatformState:
    """Reuse this chain's recorded deployment, or deploy and record a new one (`redeploy`: always). Raises
    `StaleDeployment` (unless `redeploy`) when the chain holds a deployment of another build."""
    if not redeploy:
        platform, reason = attach_recorded(project, chain)
        if platform is not None:
            start_block = (load_deployment(chain.chain_id) or {}).get("start_block", 0)
            return PlatformState(platform, deployed=False, reason=reason, start_block=start_block)
    else:
        reason = "redeploy requested"
    start_block = chain.blocks.head.number + 1
    platform = deploy_platform(project, operator, chain.chain_id)
    record_platform(project, platform, start_block)
    return PlatformState(platform, deployed=True, reason=reason, start_block=start_block)


def demo_roles(roles: dict[str, Any]) -> dict[str, Any]:
    """The demo world's accounts (DESIGN §1) out of a role → account map."""
    return {p.role: roles[p.role] for p in DEMO_WORLD}


def bootstrap_demo(platform: Platform, roles: dict[str, Any], chain: Any) -> BootstrapReport:
    """Register and KYC the demo world, and fund each demo bank and corporate; idempotent."""
    registry = platform["ParticipantRegistry"]
    report = BootstrapReport()
    for p in DEMO_WORLD[1:]:
        if registry.kindOf(roles[p.role].address) == ParticipantKind["None"]:
            report.registered.append(p.role)
    for p in DEMO_WORLD:
        if p.kind == ParticipantKind.Corporate and not registry.isActive(roles[p.role].address):
            report.kyc_attested.append(p.role)
    if report.registered or report.kyc_attested:
        bootstrap_world(platform, roles, chain.pending_timestamp + KYC_VALIDITY)

    bank_for = {"CN": roles["bank_cn"], "US": roles["bank_us"]}
    for code in CURRENCIES:
        token = platform[f"SettlementToken{code}"]
        for p in DEMO_WORLD:
            if p.kind not in (ParticipantKind.Bank, ParticipantKind.Corporate):
                continue
            account = roles[p.role]
            if token.balanceOf(account.address) > 0:
                continue
            bank = account if p.kind == ParticipantKind.Bank else bank_for.get(p.jurisdiction, roles["bank_cn"])
            token.mint(account.address, INITIAL_BALANCE, text_hash(f"demo-funding:{p.role}:{code}"), sender=bank)
            report.funded.append(f"{p.role} {code}")
    return report
