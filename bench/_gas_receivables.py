"""Gas of the receivables domain (issue 3): registration, confirmation, financing, buyer payment.

`pay_invoice` is the buyer paying a financed invoice in full: the financing's payment hook routes what the
bank is owed to it and the rest to the seller, and the lien is released.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from scripts._common import text_hash

BATCH_SIZE = 50
DAY = 24 * 3600

BUDGETS: dict[str, int] = {
    "register_invoice": 150_000,
    "confirm_invoice": 50_000,
    "approve_financing": 180_000,
    "pay_invoice": 130_000,  # issue 11: the payment hook routing and the authority checks
    "register_invoice_batch_per_invoice": 60_000,
}


def _number(text: str) -> bytes:
    return text.encode("ascii").ljust(32, b"\0")


def _register(invoices: Any, seller: Any, buyer: Any, token: Any, number: str, face: int, due: int) -> Any:
    return invoices.register(buyer.address, token.address, _number(number), face, due - 90 * DAY, due,
                             keccak(text=number), sender=seller)


def _invoice_id(invoices: Any, receipt: Any) -> int:
    return int(invoices.InvoiceRegistered.from_receipt(receipt)[0].invoiceId)


def measure(platform: Any, roles: Any, chain: Any) -> dict[str, int]:
    invoices = platform["InvoiceRegistry"]
    usd = platform["SettlementTokenUSD"]
    seller, buyer, bank = roles["exporter"], roles["importer"], roles["bank_us"]
    due = chain.pending_timestamp + 90 * DAY
    face = 100_000_00

    # The seller's first invoice pays for its fresh ERC-721 balance slot; measure a typical (second) one.
    _register(invoices, seller, buyer, usd, "BENCH-WARMUP", face, due)
    register = _register(invoices, seller, buyer, usd, "BENCH-1", face, due)
    invoice_id = _invoice_id(invoices, register)
    confirm = invoices.confirm(invoice_id, sender=buyer)

    batch = [(buyer.address, usd.address, _number(f"BENCH-B-{i}"), face, due - 90 * DAY, due,
              keccak(text=f"BENCH-B-{i}")) for i in range(BATCH_SIZE)]
    batch_receipt = invoices.registerBatch(batch, sender=seller)

    figures = {
        "register_invoice": register.gas_used,
        "confirm_invoice": confirm.gas_used,
        "register_invoice_batch_per_invoice": batch_receipt.gas_used // BATCH_SIZE,
    }
    figures.update(_measure_financing(platform, invoices, usd, seller, buyer, bank, invoice_id))
    return figures


def _measure_financing(platform: Any, invoices: Any, usd: Any, seller: Any, buyer: Any, bank: Any,
                       invoice_id: int) -> dict[str, int]:
    financing = platform["ReceivableFinancing"]
    view = invoices.invoice(invoice_id)
    applied = financing.applyForFinancing(invoice_id, bank.address, view.faceAmount * 8 // 10, sender=seller)
    financing_id = int(financing.FinancingApplied.from_receipt(applied)[0].financingId)
    usd.approve(financing.address, view.faceAmount, sender=bank)
    approve = financing.approve(financing_id, view.faceAmount * 8 // 10, 850, view.dueDate,
                                text_hash("bench:terms"), sender=bank)
    usd.approve(invoices.address, 2 * view.faceAmount, sender=buyer)
    pay = invoices.pay(invoice_id, view.faceAmount, sender=buyer)
    # An invoice without a lien: everything to the seller, no hook.
    plain = _invoice_id(invoices, _register(invoices, seller, buyer, usd, "BENCH-PLAIN", view.faceAmount,
                                            view.dueDate))
    invoices.confirm(plain, sender=buyer)
    pay_unliened = invoices.pay(plain, view.faceAmount, sender=buyer)
    return {"approve_financing": approve.gas_used, "pay_invoice": pay.gas_used,
            "pay_invoice_without_lien": pay_unliened.gas_used}
