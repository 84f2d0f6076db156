"""Shared set-up of the payable-certificate tests: confirmed invoices and the certificate contract.

The certificates take liens in the invoice registry. When the platform has the real `InvoiceRegistry`
(and therefore `PayableCertificates` wired to it by `scripts._payments.deploy_payments`), the tests use
them; otherwise they deploy `PayableCertificates` over the test-only `InvoiceLiensMock`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts._payments import CERTIFICATE_GRACE_PERIOD

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
        from scripts._payments import register_and_confirm_invoice

        return register_and_confirm_invoice(self.invoices, seller, buyer, token, face_amount, due_date, number)


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
