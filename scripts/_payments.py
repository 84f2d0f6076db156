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
# The certificates take liens in the invoice registry. Where the platform has the real `InvoiceRegistry`
# (and so `PayableCertificates` wired to it above), tests and benchmarks use them; otherwise they deploy
# `PayableCertificates` over the test-only `InvoiceLiensMock`. Never used by a deployment.

INVOICE_REGISTERED, INVOICE_CONFIRMED = 1, 2  # IInvoiceLiens.InvoiceState
ZERO = "0x" + "00" * 20


@dataclass
class InvoiceDesk:
    """Creates confirmed invoices (seller → buyer) in whatever invoice registry the certificates use."""

    invoices: Any
    certificates: Any
    operator: Any
    mock: bool
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
        if self.mock:
            state = INVOICE_CONFIRMED if confirm else INVOICE_REGISTERED
            view = (seller.address, buyer.address, token.address, face_amount, 0, due_date, state, ZERO, ZERO)
            self.invoices.setInvoice(number, view, sender=self.operator)
            return number
        return register_invoice(self.invoices, seller, buyer, token, face_amount, due_date, number, confirm)


def register_invoice(
    invoices: Any, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int, number: int,
    confirm: bool = True,
) -> int:
    """Register an invoice in the real `InvoiceRegistry` (seller) and confirm it (buyer) unless told not
    to; its id, read from `InvoiceRegistered`. The invoice number is unique per registry and `number`."""
    issue_date = min(due_date - 1, _chain_now(invoices))
    invoice_number = f"PC-{str(invoices.address)[2:10]}-{number}".encode("ascii").ljust(32, b"\0")
    receipt = invoices.register(buyer.address, token.address, invoice_number, face_amount, issue_date, due_date,
                                keccak(invoice_number), sender=seller)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    if confirm:
        invoices.confirm(event.invoiceId, sender=buyer)
    return int(event.invoiceId)


def _chain_now(contract: Any) -> int:
    return int(contract.chain_manager.pending_timestamp)


def certificate_world(project: Any, platform: Any, operator: Any) -> InvoiceDesk:
    """The certificate contract and an invoice desk for it (real registry when deployed, else the mock)."""
    if "PayableCertificates" in platform.contracts:
        return InvoiceDesk(platform["InvoiceRegistry"], platform["PayableCertificates"], operator, mock=False)
    mock = operator.deploy(project.InvoiceLiensMock)
    certificates = operator.deploy(
        project.PayableCertificates, platform["ParticipantRegistry"].address, mock.address, CERTIFICATE_GRACE_PERIOD
    )
    mock.setInstrument(certificates.address, sender=operator)
    return InvoiceDesk(mock, certificates, operator, mock=True)
