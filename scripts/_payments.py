"""Deployment of the payments domain: `PaymentRouter` and `PayableCertificates`.

Called by `scripts._common.deploy_instruments` after the registry, the tokens and (when present) the
invoice registry are deployed. Certificates need the invoice registry's liens, so they are deployed only
when `platform.contracts` holds "InvoiceRegistry"; the operator then registers them as a lien instrument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

CERTIFICATE_GRACE_PERIOD = 30 * 24 * 3600  # seconds after maturity before an unpaid tree reads Defaulted


def deploy_payments(project: Any, operator: Any, platform: Any) -> None:
    """Deploy the payment router (always) and the payable certificates (with an invoice registry)."""
    registry = platform["ParticipantRegistry"]
    router = operator.deploy(project.PaymentRouter, registry.address)
    platform.contracts["PaymentRouter"] = router
    invoices = platform.contracts.get("InvoiceRegistry")
    if invoices is None:
        return
    certificates = operator.deploy(
        project.PayableCertificates, registry.address, invoices.address, CERTIFICATE_GRACE_PERIOD
    )
    platform.contracts["PayableCertificates"] = certificates
    register_lien_instrument(invoices, certificates.address, operator)


def register_lien_instrument(invoices: Any, instrument: str, operator: Any) -> None:
    """Let `instrument` take and release liens in the invoice registry (operator function)."""
    invoices.setInstrument(instrument, True, sender=operator)


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
