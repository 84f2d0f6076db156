"""Who is in the demo world: its participants, their roles and the order of their test accounts.

Data only, read by `make run`'s gateway start (`app/runner.py`: one keystore and API key per role), by the Ape
deployment (`scripts/_common.py` registers `DEMO_WORLD` and `EXTRA_CORPORATES`), and by `scripts/demo.py`
(which registers `SUPPLIERS` through the API on its first run). The account of a role is the test mnemonic's
account `m/44'/60'/0'/0/<i>`, `i` being the role's place in `TEST_ROLES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.enums import ParticipantKind


@dataclass(frozen=True)
class DemoParticipant:
    role: str
    kind: ParticipantKind
    jurisdiction: str
    legal_id: str


# The demo world of DESIGN §1, registered by `make run` (and by the deployment of every test world).
DEMO_WORLD: tuple[DemoParticipant, ...] = (
    DemoParticipant("operator", ParticipantKind.Operator, "SG", "LEI-OPERATOR-TRADEFIN"),
    DemoParticipant("regulator", ParticipantKind.Regulator, "CN", "CN-REGULATOR-SAFE"),
    DemoParticipant("bank_cn", ParticipantKind.Bank, "CN", "LEI-BANK-CN-0001"),
    DemoParticipant("bank_us", ParticipantKind.Bank, "US", "LEI-BANK-US-0001"),
    DemoParticipant("exporter", ParticipantKind.Corporate, "CN", "USCC-91310000EXPORTER"),
    DemoParticipant("importer", ParticipantKind.Corporate, "US", "LEI-IMPORTER-US-0001"),
    DemoParticipant("attester", ParticipantKind.Attester, "CN", "CN-CUSTOMS-SHANGHAI"),
)
# Attesters of the demo world that are customs authorities (`CUSTOMS_ROLE`: may replace another attester's
# customs declaration).
CUSTOMS_AUTHORITIES = ("attester",)

# The tier suppliers (role → jurisdiction): `make run` gives them keys but does not register them;
# `scripts/demo.py` registers and KYCs them through the API when the chain lacks them.
SUPPLIERS: dict[str, str] = {"supplier1": "CN", "supplier2": "CN", "supplier3": "VN"}
# Further corporates of the test and benchmark world (registered and KYC'd like the exporter): the suppliers and
# a second exporter.
EXTRA_CORPORATES: dict[str, str] = SUPPLIERS | {"exporter2": "DE"}

# The test and benchmark world, in test-account order: the demo world, the extra corporates, and an `outsider`
# who is never registered.
TEST_ROLES: tuple[str, ...] = (*(p.role for p in DEMO_WORLD), *EXTRA_CORPORATES, "outsider")
# The gateway's relayer of signed requests (ERC-2771) in the test and demo world: the test account after the roles
# (`derive_private_keys(RELAYER_ROLES)["relayer"]`). It is no participant: it only pays the gas of what it relays.
RELAYER = "relayer"
RELAYER_ROLES: tuple[str, ...] = (*TEST_ROLES, RELAYER)
