"""Letters of credit: deployment, and the vocabulary shared by the bank scripts and the tests.

The contract's enums, document types and discrepancy codes are mirrored here with the UCP 600 article
each code stands for, so that a bank's operator reads `LATE_PRESENTATION (Art. 14(c))`, not `2`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum, IntFlag
from typing import Any


ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 86_400
DEFAULT_PRESENTATION_DAYS = 21  # Art. 14(c)


class CreditState(IntEnum):
    NONE = 0
    APPLIED = 1
    ISSUED = 2
    ADVISED = 3
    EXHAUSTED = 4
    EXPIRED = 5
    CANCELLED = 6


class PresentationState(IntEnum):
    NONE = 0
    PRESENTED = 1
    COMPLIANT = 2
    DISCREPANT = 3
    WAIVED = 4
    REFUSED = 5
    PRECLUDED = 6
    HONOURED = 7
    PAID = 8


class Availability(IntEnum):
    SIGHT_PAYMENT = 0
    DEFERRED_PAYMENT = 1


class DocumentType(IntEnum):
    COMMERCIAL_INVOICE = 0
    TRANSPORT_DOCUMENT = 1
    PACKING_LIST = 2
    CERTIFICATE_OF_ORIGIN = 3
    INSURANCE_DOCUMENT = 4
    INSPECTION_CERTIFICATE = 5


class Discrepancy(IntFlag):
    """Discrepancy codes as the contract's bitmask, each with its UCP 600 article."""

    LATE_SHIPMENT = 1 << 0
    LATE_PRESENTATION = 1 << 1
    EXPIRED = 1 << 2
    OVER_TOLERANCE = 1 << 3
    PARTIAL_NOT_ALLOWED = 1 << 4
    MISSING_DOCUMENT = 1 << 5
    INCONSISTENT_DATA = 1 << 6


UCP_ARTICLE: dict[Discrepancy, str] = {
    Discrepancy.LATE_SHIPMENT: "Art. 14(a), 29(c)",
    Discrepancy.LATE_PRESENTATION: "Art. 14(c)",
    Discrepancy.EXPIRED: "Art. 6(d)(i), 6(e)",
    Discrepancy.OVER_TOLERANCE: "Art. 30(a), 18(b)",
    Discrepancy.PARTIAL_NOT_ALLOWED: "Art. 31(a), 30(c)",
    Discrepancy.MISSING_DOCUMENT: "Art. 14(a)",
    Discrepancy.INCONSISTENT_DATA: "Art. 14(d)",
}


def document_set(*types: DocumentType) -> int:
    """The bitmask of a set of document types (MT700 field 46A)."""
    mask = 0
    for doc_type in types:
        mask |= 1 << int(doc_type)
    return mask


def describe_discrepancies(mask: int) -> list[str]:
    """`["LATE_PRESENTATION (Art. 14(c))", ...]` for a discrepancy bitmask."""
    return [f"{code.name} ({UCP_ARTICLE[code]})" for code in Discrepancy if mask & code]


def parse_discrepancies(names: list[str]) -> int:
    """The bitmask of discrepancy names such as `LATE_SHIPMENT`; raises KeyError on an unknown name."""
    mask = 0
    for name in names:
        mask |= Discrepancy[name.strip().upper()]
    return mask


def day_of(timestamp: int) -> int:
    """The UTC day number of a unix time, as the contract counts days."""
    return timestamp // DAY


@dataclass(frozen=True)
class CreditTerms:
    """MT700 terms in the order of `ILetterOfCredit.Terms`."""

    beneficiary: str
    issuingBank: str
    advisingBank: str
    confirmingBank: str
    currency: str
    amount: int
    tolerancePercent: int
    expiryDate: int
    latestShipmentDate: int
    presentationPeriodDays: int
    partialShipmentsAllowed: bool
    availability: int
    deferredPaymentDays: int
    requiredDocuments: int

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(asdict(self).values())
