"""Gas of a letter of credit's main path: apply, issue with margin, present, honour at sight and pay.

The first credit on a fresh chain is measured, with a 10% margin, three required documents (transport
document, packing list, certificate of origin) and the margin's pro-rata share applied to the issuing bank in
the same honour transaction: `lc_present` and `lc_honour_pay`, held to the budgets. A second credit asks for a
commercial invoice too, which is presented with its registered invoice (`presentWithInvoice`: the
presentation takes the invoice's lien for the issuing bank, reserving it against every other instrument), and
honouring it records the drawing as paid on the invoice and releases the lien (`..._with_invoice`, no budget).
"""

from __future__ import annotations

from eth_utils import keccak

from app.core.enums import Availability, DocumentType
from scripts._letters_of_credit import DAY, ZERO_ADDRESS, CreditTerms, document_set

BUDGETS: dict[str, int] = {
    "lc_apply": 200_000,
    "lc_issue": 120_000,
    "lc_present": 150_000,
    "lc_honour_pay": 130_000,  # issue 11: the authority checks and the margin held per credit
}

AMOUNT = 250_000_00  # USD 250,000.00
REQUIRED = (DocumentType.TransportDocument, DocumentType.PackingList, DocumentType.CertificateOfOrigin)
REQUIRED_WITH_INVOICE = (DocumentType.CommercialInvoice, DocumentType.TransportDocument, DocumentType.PackingList)


def _terms(exporter, issuing_bank, advising_bank, usd, now, required) -> CreditTerms:
    return CreditTerms(
        beneficiary=exporter.address,
        issuingBank=issuing_bank.address,
        advisingBank=advising_bank.address,
        confirmingBank=ZERO_ADDRESS,
        currency=usd.address,
        amount=AMOUNT,
        tolerancePercent=10,
        expiryDate=now + 60 * DAY,
        latestShipmentDate=now + 30 * DAY,
        presentationPeriodDays=0,
        partialShipmentsAllowed=True,
        availability=int(Availability.SightPayment),
        deferredPaymentDays=0,
        requiredDocuments=document_set(*required),
    )


def _documents(required) -> list[tuple[int, bytes]]:
    return [(int(t), keccak(text=f"bench:{t.name}")) for t in required]


def measure(platform, roles, chain) -> dict[str, int]:
    lc = platform["LetterOfCredit"]
    usd = platform["SettlementTokenUSD"]
    importer, exporter = roles["importer"], roles["exporter"]
    issuing_bank, advising_bank = roles["bank_us"], roles["bank_cn"]
    usd.approve(lc.address, 2**256 - 1, sender=importer)
    usd.approve(lc.address, 2**256 - 1, sender=issuing_bank)

    now = chain.pending_timestamp
    applied = lc.applyForCredit(_terms(exporter, issuing_bank, advising_bank, usd, now, REQUIRED).as_tuple(),
                                sender=importer)
    lc_id = applied.events.filter(lc.CreditApplied)[0].lcId
    issued = lc.issue(lc_id, AMOUNT // 10, sender=issuing_bank)
    lc.advise(lc_id, sender=advising_bank)
    presented = lc.present(lc_id, _documents(REQUIRED), now, AMOUNT, sender=exporter)
    presentation_id = presented.events.filter(lc.DocumentsPresented)[0].presentationId
    lc.examine(lc_id, presentation_id, 0, sender=issuing_bank)
    honoured = lc.honour(lc_id, presentation_id, sender=issuing_bank)
    figures = {
        "lc_apply": applied.gas_used,
        "lc_issue": issued.gas_used,
        "lc_present": presented.gas_used,
        "lc_honour_pay": honoured.gas_used,
    }
    figures.update(_with_invoice(platform["InvoiceRegistry"], lc, usd, exporter, importer, issuing_bank,
                                 advising_bank, now))
    return figures


def _with_invoice(invoices, lc, usd, exporter, importer, issuing_bank, advising_bank, now) -> dict[str, int]:
    """A sight drawing carrying a registered invoice: presenting takes its lien, honour pays it, records it as
    paid on the invoice and releases the lien (no budget: the issue's budgets cover the plain path)."""
    terms = _terms(exporter, issuing_bank, advising_bank, usd, now, REQUIRED_WITH_INVOICE)
    lc_id = lc.applyForCredit(terms.as_tuple(), sender=importer).events.filter(lc.CreditApplied)[0].lcId
    lc.issue(lc_id, AMOUNT // 10, sender=issuing_bank)
    lc.advise(lc_id, sender=advising_bank)
    registered = invoices.register(importer.address, usd.address, b"BENCH-LC-INV".ljust(32, b"\0"), AMOUNT, now,
                                   now + 90 * DAY, keccak(text="bench:lc-invoice"), sender=exporter)
    invoice_id = invoices.InvoiceRegistered.from_receipt(registered)[0].invoiceId
    invoices.confirm(invoice_id, sender=importer)
    presented = lc.presentWithInvoice(lc_id, _documents(REQUIRED_WITH_INVOICE), now, AMOUNT, invoice_id,
                                      sender=exporter)
    presentation_id = presented.events.filter(lc.DocumentsPresented)[0].presentationId
    lc.examine(lc_id, presentation_id, 0, sender=issuing_bank)
    honoured = lc.honour(lc_id, presentation_id, sender=issuing_bank)
    return {"lc_present_with_invoice": presented.gas_used, "lc_honour_pay_with_invoice": honoured.gas_used}
