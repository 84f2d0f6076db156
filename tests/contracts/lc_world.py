"""A small world for letter-of-credit tests: a US importer's bank issues credits to a CN exporter.

`Credits` opens credits and presents documents at chosen UTC days; every day used is relative to a
Monday a few days ahead of the chain's clock, so weekday rules are deterministic.

Documents that include a commercial invoice are presented with a registered invoice (`presentWithInvoice`,
audit M6): unless the test names one, `Credits.present` registers the exporter's invoice to the importer for
the presented amount, confirmed, in the credit's currency, and presents with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

from eth_utils import keccak

from app.core.enums import Availability, DocumentType
from scripts._letters_of_credit import DAY, ZERO_ADDRESS, CreditTerms, day_of, document_set

AMOUNT = 100_000_00  # USD 100,000.00 in minor units
REQUIRED_TYPES = (DocumentType.CommercialInvoice, DocumentType.TransportDocument, DocumentType.PackingList)
REQUIRED_DOCUMENTS = document_set(*REQUIRED_TYPES)
NOON = 12 * 3600
MAX_ALLOWANCE = 2**256 - 1  # an unlimited approval: OpenZeppelin then never rewrites the allowance

# Offsets in days from the base Monday.
LATEST_SHIPMENT = 10
EXPIRY = 40


def documents(*types: DocumentType, tag: str = "") -> list[tuple[int, bytes]]:
    """(type, hash) pairs, as `ILetterOfCredit.Document`."""
    return [(int(t), keccak(text=f"doc:{t.name}:{tag}")) for t in types]


FULL_DOCUMENTS = documents(*REQUIRED_TYPES)
# The required documents without the commercial invoice: presentable with `present` (no invoice named).
SHIPPING_TYPES = tuple(t for t in REQUIRED_TYPES if t != DocumentType.CommercialInvoice)
SHIPPING_DOCUMENTS = documents(*SHIPPING_TYPES)
SHIPPING_DOCUMENT_SET = document_set(*SHIPPING_TYPES)
INVOICE_DUE_AFTER = 120 * DAY  # a presented invoice falls due this long after the presentation

_invoice_numbers = itertools.count(1)


def has_commercial_invoice(docs: list[tuple[int, bytes]]) -> bool:
    return any(doc_type == int(DocumentType.CommercialInvoice) for doc_type, _ in docs)


def next_monday(chain: Any, at_least_days_ahead: int = 2) -> int:
    """The day number of the first Monday at least `at_least_days_ahead` days after the chain's today."""
    day = day_of(chain.pending_timestamp) + at_least_days_ahead
    while (day + 3) % 7 != 0:  # day 0 (1970-01-01) was a Thursday
        day += 1
    return day


def at_noon(day: int) -> int:
    return day * DAY + NOON


@dataclass
class Credits:
    """Opens credits and presents documents for the tests."""

    chain: Any
    lc: Any
    importer: Any
    exporter: Any
    issuing_bank: Any
    advising_bank: Any
    currency: Any
    base: int  # day number of a Monday ahead
    invoices: Any = None  # the invoice registry (read from the credit contract when not given)

    def __post_init__(self) -> None:
        if self.invoices is None:
            from ape import project

            self.invoices = project.InvoiceRegistry.at(self.lc.invoiceRegistry())

    def terms(self, **changes: Any) -> CreditTerms:
        default = CreditTerms(
            beneficiary=self.exporter.address,
            issuingBank=self.issuing_bank.address,
            advisingBank=self.advising_bank.address,
            confirmingBank=ZERO_ADDRESS,
            currency=self.currency.address,
            amount=AMOUNT,
            tolerancePercent=10,
            expiryDate=(self.base + EXPIRY) * DAY,
            latestShipmentDate=(self.base + LATEST_SHIPMENT) * DAY,
            presentationPeriodDays=0,
            partialShipmentsAllowed=True,
            availability=int(Availability.SightPayment),
            deferredPaymentDays=0,
            requiredDocuments=REQUIRED_DOCUMENTS,
        )
        return replace(default, **changes)

    def apply(self, **changes: Any) -> int:
        receipt = self.lc.applyForCredit(self.terms(**changes).as_tuple(), sender=self.importer)
        return receipt.events.filter(self.lc.CreditApplied)[0].lcId

    def open(self, margin: int = 0, **changes: Any) -> int:
        """Applied, issued (with `margin`) and advised."""
        lc_id = self.apply(**changes)
        self.lc.issue(lc_id, margin, sender=self.issuing_bank)
        self.lc.advise(lc_id, sender=self.advising_bank)
        return lc_id

    def invoice(self, face: int, due_date: int, *, seller: Any = None, buyer: Any = None, currency: Any = None,
                confirm: bool = True) -> int:
        """Registers a commercial invoice (by default the exporter's to the importer in the credit currency),
        confirmed by its buyer unless told not to; returns its id."""
        seller, buyer = seller or self.exporter, buyer or self.importer
        currency = currency or self.currency
        number = f"CI-LC-{next(_invoice_numbers)}".encode("ascii").ljust(32, b"\0")
        issued = min(due_date - 1, self.chain.pending_timestamp)
        receipt = self.invoices.register(buyer.address, currency.address, number, face, issued, due_date,
                                         keccak(number), sender=seller)
        invoice_id = int(self.invoices.InvoiceRegistered.from_receipt(receipt)[0].invoiceId)
        if confirm:
            self.invoices.confirm(invoice_id, sender=buyer)
        return invoice_id

    def present(
        self,
        lc_id: int,
        *,
        day: int,
        shipment_day: int = 3,
        amount: int = AMOUNT,
        docs: list[tuple[int, bytes]] | None = None,
        time: int | None = None,
        invoice_id: int | None = None,
    ) -> int:
        """Presents on base-relative `day` at noon (or at unix `time`); returns the presentation id.

        Documents with a commercial invoice go with `invoice_id`, or with a new invoice for `amount` due
        `INVOICE_DUE_AFTER` after the presentation; naming `invoice_id` always presents with it."""
        docs = FULL_DOCUMENTS if docs is None else docs
        when = time if time is not None else at_noon(self.base + day)
        if invoice_id is None and has_commercial_invoice(docs):
            invoice_id = self.invoice(amount, max(when, self.chain.pending_timestamp) + INVOICE_DUE_AFTER)
        self.at(when)
        shipment = (self.base + shipment_day) * DAY
        if invoice_id is None:
            receipt = self.lc.present(lc_id, docs, shipment, amount, sender=self.exporter)
        else:
            receipt = self.lc.presentWithInvoice(lc_id, docs, shipment, amount, invoice_id, sender=self.exporter)
        return receipt.events.filter(self.lc.DocumentsPresented)[0].presentationId

    def at(self, timestamp: int) -> None:
        """The next transaction happens at `timestamp` (never earlier than the chain's clock)."""
        # Not `max()`: assigning pins the node's next block time, so assign only when moving the clock on.
        if timestamp > self.chain.pending_timestamp:  # noqa: PLR1730
            self.chain.pending_timestamp = timestamp

    def mine_at(self, timestamp: int) -> None:
        """Mines a block at `timestamp`, so that views read that time."""
        self.chain.mine(timestamp=timestamp)
