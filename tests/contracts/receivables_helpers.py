"""Shared steps of the receivables tests: register an invoice, read ids from events, move chain time."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

DAY = 24 * 3600
YEAR = 365 * DAY

# IInvoiceLiens.InvoiceState
NONE, REGISTERED, CONFIRMED, FINANCED, PAID, CANCELLED, DEFAULTED = range(7)


def invoice_number(text: str) -> bytes:
    """An invoice number as the registry's `bytes32` (ASCII, right-padded)."""
    return text.encode("ascii").ljust(32, b"\0")


def document_hash(text: str) -> bytes:
    return keccak(text=f"document:{text}")


def now(chain: Any) -> int:
    """The timestamp the next transaction will carry (eth-tester: head+1, Anvil: head)."""
    return chain.pending_timestamp


def advance_to(chain: Any, timestamp: int) -> None:
    """Mine a block at `timestamp`, so that views and the next transaction see at least that time."""
    chain.mine(timestamp=timestamp)


def register_invoice(chain: Any, invoices: Any, seller: Any, buyer: Any, currency: Any, number: str, face: int,
                     due_in: int = 90 * DAY) -> int:
    """Register an invoice from `seller` on `buyer` due `due_in` seconds from now; return its id read from
    `InvoiceRegistered`."""
    issue = now(chain)
    due_date = issue + due_in
    receipt = invoices.register(buyer.address, currency.address, invoice_number(number), face, issue, due_date,
                                document_hash(number), sender=seller)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    return int(event.invoiceId)


def confirmed_invoice(chain: Any, invoices: Any, seller: Any, buyer: Any, currency: Any, number: str, face: int,
                      due_in: int = 90 * DAY) -> int:
    """Register an invoice and have the buyer confirm it."""
    invoice_id = register_invoice(chain, invoices, seller, buyer, currency, number, face, due_in)
    invoices.confirm(invoice_id, sender=buyer)
    return invoice_id
