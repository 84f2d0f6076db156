"""Letters of credit (MT700 terms, UCP 600 rules), with amendments and presentations as sub-resources.

Names mirror `ILetterOfCredit` (`app.core.enums`): document types and discrepancy codes travel as names, not
bitmasks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.core.enums import Availability, CreditState, Discrepancy, DocumentType, PresentationState
from app.schemas.common import Address, Amount, Bytes32, CurrencyCode, MinorUnits

# The names a request may use, from the one definition of each (`Literal` of a tuple: one value per member).
DocumentTypeName = Literal[tuple(t.name for t in DocumentType)]  # type: ignore[valid-type]
DiscrepancyName = Literal[tuple(d.name for d in Discrepancy)]  # type: ignore[valid-type]
AvailabilityName = Literal[tuple(a.name for a in Availability)]  # type: ignore[valid-type]
UnixDate = int

ISSUER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
EXAMPLE_TERMS = {
    "beneficiary": "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "issuing_bank": ISSUER,
    "advising_bank": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "confirming_bank": None, "currency": "USD",
    "amount": 50_000_00, "tolerance_percent": 10, "expiry_date": 1_800_000_000, "latest_shipment_date": 1_799_000_000,
    "presentation_period_days": 21, "partial_shipments_allowed": False, "availability": "SightPayment",
    "deferred_payment_days": 0, "required_documents": ["CommercialInvoice", "TransportDocument"]}


def document_mask(types: list[str]) -> int:
    """A document set (MT700 46A): bit `1 << DocumentType` of each type."""
    mask = 0
    for name in types:
        mask |= 1 << DocumentType[name]
    return mask


def document_names(mask: int) -> list[str]:
    return [t.name for t in DocumentType if mask >> t & 1]


def discrepancy_mask(names: list[str]) -> int:
    mask = 0
    for name in names:
        mask |= Discrepancy[name]
    return mask


def discrepancy_names(mask: int) -> list[str]:
    return [d.name for d in Discrepancy if mask & d]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("names must not repeat")
    return values


# ───────────────────────────── Requests ─────────────────────────────

class CreditApplication(BaseModel):
    """`ILetterOfCredit.Terms` (MT700 field numbers in the descriptions). The caller is the applicant."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_TERMS]})
    beneficiary: Address = Field(description="59: the seller, an active corporate other than the applicant")
    issuing_bank: Address = Field(description="52a")
    advising_bank: Address = Field(description="57a")
    confirming_bank: Address | None = Field(default=None, description="58a; none for an unconfirmed credit")
    currency: CurrencyCode = Field(description="32B: a settlement token of the platform")
    amount: Annotated[MinorUnits, Field(lt=2**96, description="32B, in minor units")]
    tolerance_percent: int = Field(strict=True, default=0, ge=0, le=10, description="39A, symmetric; 10 for an \"about\" credit")
    expiry_date: UnixDate = Field(strict=True, gt=0, lt=2**40, description="31D: unix time read as a UTC day, today at the earliest")
    latest_shipment_date: UnixDate = Field(strict=True, gt=0, lt=2**40, description="44C: at most the expiry day")
    presentation_period_days: int = Field(strict=True, default=21, ge=0, lt=256, description="48; 0 means the default 21 days")
    partial_shipments_allowed: bool = Field(default=False, description="43P")
    availability: AvailabilityName = Field(default=Availability.SightPayment.name, description="41a")
    deferred_payment_days: int = Field(strict=True, default=0, ge=0, lt=2**16, description="42P: days after the shipment day "
                                       "(deferred payment only; zero for sight payment)")
    required_documents: list[DocumentTypeName] = Field(min_length=1, max_length=6, description="46A")

    _distinct = field_validator("required_documents")(_unique)


class CreditIssue(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"margin_amount": 5_000_00}]})
    margin_amount: Annotated[Amount, Field(description="Escrowed from the applicant now (at most the credit "
                               "amount). The applicant must have approved `LetterOfCredit` for it "
                               "(POST /v1/approvals).")]


class AmendmentCreate(BaseModel):
    """`ILetterOfCredit.Amendment`: every field replaces the current term once the beneficiary accepts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "amount": 55_000_00, "expiry_date": 1_801_000_000, "latest_shipment_date": 1_800_000_000,
        "required_documents": ["CommercialInvoice", "TransportDocument", "PackingList"]}]})
    amount: Annotated[MinorUnits, Field(lt=2**96)]
    expiry_date: UnixDate = Field(strict=True, gt=0, lt=2**40)
    latest_shipment_date: UnixDate = Field(strict=True, gt=0, lt=2**40)
    required_documents: list[DocumentTypeName] = Field(min_length=1, max_length=6)

    _distinct = field_validator("required_documents")(_unique)


class PresentedDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: DocumentTypeName
    sha256: Bytes32 = Field(description="SHA-256 of the document (see POST /v1/documents)")


class PresentationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "documents": [{"type": "CommercialInvoice", "sha256": "0x" + "ab" * 32},
                      {"type": "TransportDocument", "sha256": "0x" + "cd" * 32}],
        "shipment_date": 1_798_000_000, "amount": 50_000_00, "invoice_id": None}]})
    documents: list[PresentedDocument] = Field(min_length=1, max_length=32)
    shipment_date: UnixDate = Field(strict=True, ge=0, lt=2**40, description="Unix time of the shipment (its UTC day counts)")
    amount: Annotated[MinorUnits, Field(lt=2**96, description="Claimed, in minor units of the credit's currency")]
    invoice_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,78}$", validate_default=True,
        description="The registered invoice the commercial invoice document stands for (decimal token id): the "
        "beneficiary's invoice to the applicant in the credit's currency, with at least `amount` unpaid. Required "
        "exactly when the documents include a `CommercialInvoice`. The presentation takes the invoice's lien: an "
        "invoice financed or presented elsewhere cannot be drawn against, and the buyer may not pay directly the "
        "part the presentation claims")

    @field_validator("invoice_id")
    @classmethod
    def _names_the_invoice_of_its_commercial_invoice(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and int(value) >= 2**256:
            raise ValueError("an invoice id is below 2**256")
        documents = info.data.get("documents")
        if documents is None:  # the documents are invalid themselves: that is the reason given
            return value
        with_invoice = any(d.type == DocumentType.CommercialInvoice.name for d in documents)
        if with_invoice and value is None:
            raise ValueError("the documents include a commercial invoice: name its registered invoice (invoice_id), "
                             "so that the same receivable cannot be financed or drawn against twice")
        if value is not None and not with_invoice:
            raise ValueError("an invoice is named only with its commercial invoice among the documents")
        return value


class Examination(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"bank_discrepancies": []}, {"bank_discrepancies": ["INCONSISTENT_DATA"]}]})
    bank_discrepancies: list[DiscrepancyName] = Field(
        default_factory=list, max_length=7, description="Found by the bank in the documents themselves, on top of the "
        "codes computed on chain at presentation: only `INCONSISTENT_DATA` (UCP 600 Art. 14(d))")

    @field_validator("bank_discrepancies")
    @classmethod
    def _documentary_only(cls, values: list[str]) -> list[str]:
        _unique(values)
        computed = [v for v in values if v != Discrepancy.INCONSISTENT_DATA.name]
        if computed:
            raise ValueError(f"the bank declares only INCONSISTENT_DATA (data in the documents that conflicts); "
                             f"{', '.join(computed)} is computed on chain at presentation")
        return values


# ───────────────────────────── Results ─────────────────────────────

class CreditApplied(BaseModel):
    lc_id: str = Field(description="Decimal id of the credit")
    state: Literal[CreditState.Applied.name] = CreditState.Applied.name  # type: ignore[valid-type]
    applicant: Address
    beneficiary: Address
    issuing_bank: Address
    advising_bank: Address
    confirming_bank: Address | None
    currency: str
    amount: int
    tolerance_percent: int
    expiry_date: int
    latest_shipment_date: int
    presentation_period_days: int
    partial_shipments_allowed: bool
    availability: str
    deferred_payment_days: int
    required_documents: list[str]


class CreditChanged(BaseModel):
    """A credit's transition: who did it, the state it is in now when the transition decides it, and money."""

    lc_id: str
    event: str = Field(examples=["CreditIssued"], description="The contract event that recorded the step")
    by: Address
    state: str | None = Field(default=None, description="The credit's state after this step, when it changed")
    margin: int | None = Field(default=None, description="Escrowed at issuance")
    margin_released: int = Field(default=0, description="Margin returned to the applicant in this transaction")


class AmendmentProposedResult(BaseModel):
    lc_id: str
    amendment_number: int
    amount: int
    expiry_date: int
    latest_shipment_date: int
    required_documents: list[str]


class AmendmentDecided(BaseModel):
    lc_id: str
    amendment_number: int
    decision: Literal["Accepted", "Rejected"]


class DocumentRef(BaseModel):
    type: str
    sha256: str


class PresentationMade(BaseModel):
    lc_id: str
    presentation_id: str
    state: Literal[PresentationState.Presented.name] = PresentationState.Presented.name  # type: ignore[valid-type]
    amount: int
    shipment_date: int
    discrepancies: list[str] = Field(description="Found on chain at presentation")
    documents: list[DocumentRef]
    invoice_id: str | None


class PresentationChanged(BaseModel):
    lc_id: str
    presentation_id: str
    event: str = Field(examples=["PresentationHonoured"])
    state: str = Field(description="The presentation's state after this step")
    discrepancies: list[str] | None = None
    honoured_from: str | None = None
    amount: int | None = None
    maturity_date: int | None = Field(default=None, description="Deferred payment: 00:00 UTC of the maturity day")
    paid_amount: int = Field(default=0, description="Paid to the beneficiary in this transaction")
    margin_applied: int = Field(default=0, description="Margin applied to the issuing bank in this transaction")
    margin_released: int = Field(default=0)


class MarginReleasedResult(BaseModel):
    lc_id: str
    amount: int
