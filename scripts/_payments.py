"""Payable certificates: the invoice desk the tests and benchmarks use to make invoices to issue against.

The contracts are deployed by `scripts._common.deploy_platform`. A certificate is issued in two steps: the
invoice's buyer offers it (`offer`), the seller accepts it (`acceptOffer`, consenting to the lien);
`InvoiceDesk.issue_certificate` does both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

# ───────────────────────── Test and benchmark support ─────────────────────────


@dataclass
class InvoiceDesk:
    """Creates invoices (seller → buyer) in the invoice registry the certificates take liens in."""

    invoices: Any
    certificates: Any
    next_number: int = 1

    def confirmed(self, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int) -> int:
        """A new invoice, registered by `seller` and confirmed by `buyer`; its id."""
        return self._new(seller, buyer, token, face_amount, due_date, confirm=True)

    def registered(self, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int) -> int:
        """A new invoice, registered by `seller` and not (yet) confirmed; its id."""
        return self._new(seller, buyer, token, face_amount, due_date, confirm=False)

    def issue_certificate(self, invoice_id: int, amount: int, maturity: int, *, buyer: Any, seller: Any) -> int:
        """A root certificate on `invoice_id`: `buyer` offers it, `seller` accepts it (and so consents to the
        lien); the new certificate's id, read from `CertificateIssued`."""
        self.certificates.offer(invoice_id, amount, maturity, sender=buyer)
        receipt = self.certificates.acceptOffer(invoice_id, sender=seller)
        [issued] = self.certificates.CertificateIssued.from_receipt(receipt)
        return int(issued.certificateId)

    def _new(self, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int, confirm: bool) -> int:
        number = self.next_number
        self.next_number += 1
        return register_invoice(self.invoices, seller, buyer, token, face_amount, due_date, number, confirm)


def register_invoice(
    invoices: Any, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int, number: int,
    confirm: bool = True,
) -> int:
    """Register an invoice in the `InvoiceRegistry` (seller) and confirm it (buyer) unless told not to;
    its id, read from `InvoiceRegistered`. The invoice number is unique per registry and `number`."""
    issue_date = min(due_date - 1, int(invoices.chain_manager.pending_timestamp))
    invoice_number = f"PC-{str(invoices.address)[2:10]}-{number}".encode("ascii").ljust(32, b"\0")
    receipt = invoices.register(buyer.address, token.address, invoice_number, face_amount, issue_date, due_date,
                                keccak(invoice_number), sender=seller)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    if confirm:
        invoices.confirm(event.invoiceId, sender=buyer)
    return int(event.invoiceId)


def certificate_world(platform: Any) -> InvoiceDesk:
    """The deployed certificates and an invoice desk on their invoice registry."""
    return InvoiceDesk(platform["InvoiceRegistry"], platform["PayableCertificates"])
