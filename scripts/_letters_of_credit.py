"""Letters of credit: deployment, and the vocabulary shared by the bank scripts and the tests.

The contract's enums, document types and discrepancy codes are `app.core.enums` (their one definition); here,
the UCP 600 article each discrepancy code stands for, so that a bank's operator reads
`LATE_PRESENTATION (Art. 14(c))`, not `2`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.core.enums import Discrepancy, DocumentType

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 86_400
DEFAULT_PRESENTATION_DAYS = 21  # Art. 14(c)


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
