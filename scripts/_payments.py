"""Deployment of the payments domain: `PaymentRouter` and `PayableCertificates`.

Called by `scripts._common.deploy_instruments` after the registry, the tokens and (when present) the
invoice registry are deployed. Certificates need the invoice registry's liens, so they are deployed only
when `platform.contracts` holds "InvoiceRegistry"; the operator then registers them as a lien instrument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    invoices.setLienInstrument(instrument, True, sender=operator)


# ───────────────────────── Test and benchmark support ─────────────────────────
# The certificates take liens in the invoice registry. Where the platform has the real `InvoiceRegistry`
# (and so `PayableCertificates` wired to it above), tests and benchmarks use them; otherwise they deploy
# `PayableCertificates` over the test-only `InvoiceLiensMock`. Never used by a deployment.

INVOICE_CONFIRMED = 2  # IInvoiceLiens.InvoiceState.Confirmed
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
        number = self.next_number
        self.next_number += 1
        if self.mock:
            view = (seller.address, buyer.address, token.address, face_amount, 0, due_date, INVOICE_CONFIRMED,
                    ZERO, ZERO)
            self.invoices.setInvoice(number, view, sender=self.operator)
            return number
        return register_and_confirm_invoice(self.invoices, seller, buyer, token, face_amount, due_date, number)


def register_and_confirm_invoice(
    invoices: Any, seller: Any, buyer: Any, token: Any, face_amount: int, due_date: int, number: int
) -> int:
    """Register an invoice in the real `InvoiceRegistry` (seller) and confirm it (buyer); its id."""
    raise NotImplementedError("InvoiceRegistry is not merged yet")


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
