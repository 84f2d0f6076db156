"""Deployment of the payments domain: `PaymentRouter` and `PayableCertificates`.

Called by `scripts._common.deploy_instruments` after the registry, the tokens and (when present) the
invoice registry are deployed. Certificates need the invoice registry's liens, so they are deployed only
when `platform.contracts` holds "InvoiceRegistry"; the operator then registers them as a lien instrument.
"""

from __future__ import annotations

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
