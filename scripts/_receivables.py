"""Deployment of the receivables domain: the invoice registry and receivable financing (DESIGN §4, §5).

`scripts._common.deploy_instruments` calls `deploy_receivables` when the project has an `InvoiceRegistry`.
"""

from __future__ import annotations

from typing import Any

from scripts._common import CURRENCIES, Platform

# Seconds after the due date before an unpaid invoice counts as `Defaulted`.
DEFAULT_GRACE_PERIOD = 7 * 24 * 3600


def deploy_receivables(project: Any, operator: Any, platform: Platform,
                       grace_period: int = DEFAULT_GRACE_PERIOD) -> None:
    """Deploy `InvoiceRegistry` (and `ReceivableFinancing` when compiled) from `operator`, accept every
    settlement token of `platform` for invoices, and register the financing contract as a lien instrument.
    """
    registry = platform["ParticipantRegistry"]
    invoices = operator.deploy(project.InvoiceRegistry, registry.address, grace_period)
    platform.contracts["InvoiceRegistry"] = invoices
    for code in CURRENCIES:
        invoices.setCurrency(platform[f"SettlementToken{code}"].address, True, sender=operator)
    if hasattr(project, "ReceivableFinancing"):
        financing = operator.deploy(project.ReceivableFinancing, registry.address, invoices.address)
        platform.contracts["ReceivableFinancing"] = financing
        invoices.setInstrument(financing.address, True, sender=operator)
