"""Shared set-up of the payable-certificate tests (see `scripts._payments.certificate_world`)."""

from scripts._payments import InvoiceDesk, certificate_world

__all__ = ["InvoiceDesk", "certificate_world"]
