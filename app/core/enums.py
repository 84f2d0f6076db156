"""The contracts' enums, once: the one Python definition of every enum of `contracts/interfaces/*.sol`, and of
the discrepancy codes of `ILetterOfCredit` (bit constants of `LetterOfCredit`).

The gateway (services, schemas, the ABI module, the indexer) and the Ape scripts read these; nothing else holds
a table of members. A member is named exactly as in Solidity and numbered in the Solidity order, so
`FinancingState(4).name == "Active"` is the contract's word, and code that needs a state's name writes
`FinancingState(value).name` (or `name_of(FinancingState, value)` for a value a newer contract might answer).

Most enums have a member called `None`, a Python keyword: the enums are declared with the functional API so
that the member keeps its Solidity name. Read it as `InvoiceState["None"]` (or `InvoiceState(0)`); every other
member reads as an attribute (`ParticipantKind.Bank`).

The discrepancy codes are a bitmask in a uint8 (`uint8 public constant DISCREPANCY_LATE_SHIPMENT = 1 << 0`, ...):
`Discrepancy` is an IntFlag whose members are the constants' names without the `DISCREPANCY_` prefix
(`Discrepancy.LATE_SHIPMENT`), the names the gateway's API and the bank scripts use.

`tests/tools/test_enums_match_solidity.py` compares every enum here with the compiled contracts' AST (names,
order, values) and fails when a Solidity enum or discrepancy code is not mirrored here.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "DISCREPANCY_PREFIX",
    "SOLIDITY_ENUMS",
    "Availability",
    "CertificateState",
    "CertificateStatus",
    "CreditState",
    "Discrepancy",
    "DocumentType",
    "FinancingState",
    "InvoiceState",
    "KycStatus",
    "ParticipantKind",
    "PresentationState",
    "ProgrammeState",
    "name_of",
]

# ───────────────────────────── IParticipantRegistry ─────────────────────────────

# `Instrument`: a contract of the platform (invoice registry, financing, letters of credit, certificates, payment
# router) that spends allowances and may hold escrow; registered by the operator, it holds no API key of its own.
ParticipantKind = IntEnum(
    "ParticipantKind", "None Corporate Bank Regulator Attester Operator Instrument", start=0, module=__name__)
KycStatus = IntEnum("KycStatus", "None Approved Rejected Revoked", start=0, module=__name__)

# ───────────────────────────── IInvoiceLiens ─────────────────────────────

InvoiceState = IntEnum(
    "InvoiceState", "None Registered Confirmed Financed Paid Cancelled Defaulted", start=0, module=__name__)

# ───────────────────────────── IReceivableFinancing ─────────────────────────────

FinancingState = IntEnum(
    "FinancingState", "None Applied Rejected Withdrawn Active Defaulted Closed", start=0, module=__name__)
ProgrammeState = IntEnum("ProgrammeState", "None Proposed Open Closed", start=0, module=__name__)

# ───────────────────────────── ILetterOfCredit ─────────────────────────────

CreditState = IntEnum(
    "CreditState", "None Applied Issued Advised Exhausted Expired Cancelled", start=0, module=__name__)
PresentationState = IntEnum(
    "PresentationState", "None Presented Compliant Discrepant Waived Refused Precluded Honoured Paid", start=0,
    module=__name__)
Availability = IntEnum("Availability", "SightPayment DeferredPayment", start=0, module=__name__)
# A document set (MT700 field 46A) is a bitmask: bit `1 << DocumentType.X` for each type.
DocumentType = IntEnum(
    "DocumentType",
    "CommercialInvoice TransportDocument PackingList CertificateOfOrigin InsuranceDocument InspectionCertificate",
    start=0, module=__name__)

DISCREPANCY_PREFIX = "DISCREPANCY_"


class Discrepancy(IntFlag):
    """`ILetterOfCredit.DISCREPANCY_*`: the codes of a presentation's discrepancy bitmask (a uint8)."""

    LATE_SHIPMENT = 1 << 0
    LATE_PRESENTATION = 1 << 1
    EXPIRED = 1 << 2
    OVER_TOLERANCE = 1 << 3
    PARTIAL_NOT_ALLOWED = 1 << 4
    MISSING_DOCUMENT = 1 << 5
    INCONSISTENT_DATA = 1 << 6  # the only code the issuing bank declares; the others are found on chain


# ───────────────────────────── IPayableCertificates ─────────────────────────────

# What the contract stores of a certificate (`Live`: a leaf whose holder is owed its amount)...
CertificateStatus = IntEnum("CertificateStatus", "Live Split Settled", start=0, module=__name__)
# ...and what it answers, with the clock applied (`Due`, `Defaulted`) and `None` for an unknown id.
CertificateState = IntEnum("CertificateState", "None Active Split Due Defaulted Settled", start=0, module=__name__)

# Every enum above by its Solidity canonical name (`<interface>.<enum>`).
SOLIDITY_ENUMS: dict[str, type[IntEnum]] = {
    "IParticipantRegistry.ParticipantKind": ParticipantKind,
    "IParticipantRegistry.KycStatus": KycStatus,
    "IInvoiceLiens.InvoiceState": InvoiceState,
    "IReceivableFinancing.FinancingState": FinancingState,
    "IReceivableFinancing.ProgrammeState": ProgrammeState,
    "ILetterOfCredit.CreditState": CreditState,
    "ILetterOfCredit.PresentationState": PresentationState,
    "ILetterOfCredit.Availability": Availability,
    "ILetterOfCredit.DocumentType": DocumentType,
    "IPayableCertificates.CertificateStatus": CertificateStatus,
    "IPayableCertificates.CertificateState": CertificateState,
}


def name_of(enum: type[IntEnum], value: int) -> str:
    """The Solidity name of `value` in `enum`; the number itself, as text, for a value this code does not know
    (a newer contract's member): said rather than failed on."""
    try:
        return enum(value).name
    except ValueError:
        return str(value)
