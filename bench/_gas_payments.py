"""Gas of the payments domain: a cross-currency payment at a bank's quote, and payable certificates.

The certificate figures run over the platform's `InvoiceRegistry` (the certificates take its liens).
"""

from __future__ import annotations

from typing import Any

from scripts._common import purpose_code, text_hash
from scripts._fx import FxQuote, rate_from_decimal, sign_quote_with_account

BUDGETS: dict[str, int] = {
    "payment_cross_currency": 160_000,
    "certificate_issue": 180_000,  # the seller's acceptance: the certificate is issued and takes the lien
    "certificate_split": 150_000,
    "certificate_discount": 130_000,
}

DAY = 24 * 3600


def measure(platform, roles, chain) -> dict[str, int]:
    first_word, steady = _measure_payment(platform, roles, chain)
    figures = {"payment_cross_currency": steady, "payment_cross_currency_first_nonce_word": first_word}
    figures.update(_measure_certificates(platform, roles, chain))
    return figures


def _measure_payment(platform, roles, chain) -> tuple[int, int]:
    """A CNY-paying importer pays a USD-receiving exporter at bank_us's quote, twice.

    Every balance involved already exists (as for any account holder). The first quote of a bank writes
    its nonce bitmap word fresh; the next 255 nonces of that word update it: the second figure is the
    steady state, and the one held to the budget.
    """
    router, cny, usd = platform["PaymentRouter"], platform["SettlementTokenCNY"], platform["SettlementTokenUSD"]
    bank, importer, exporter = roles["bank_us"], roles["importer"], roles["exporter"]
    cny.approve(router.address, 2**255, sender=importer)
    usd.approve(router.address, 2**255, sender=bank)
    rate = rate_from_decimal("0.1385", cny.decimals(), usd.decimals())
    expiry = chain.pending_timestamp + 3600
    receipts: list[Any] = []
    for nonce in (1, 2):
        quote = FxQuote(bank.address, importer.address, cny.address, usd.address, rate, 10**12, expiry, nonce)
        signature = sign_quote_with_account(quote, bank, chain.chain_id, router.address)
        receipts.append(router.payWithQuote(quote.as_tuple(), signature, exporter.address, 100_000_00,
                                            purpose_code("GDDS"), text_hash(f"bench:fx:{nonce}"), sender=importer))
    return receipts[0].gas_used, receipts[1].gas_used


def _measure_certificates(platform, roles, chain) -> dict[str, int]:
    """Offer to the tier-1 supplier, which accepts (the certificate is issued and takes the invoice lien), split
    into two suppliers, discount one child at a bank, then settle both pieces at maturity (the second
    settlement pays the tree off and releases the invoice lien)."""
    from scripts._payments import certificate_world

    desk = certificate_world(platform)
    certs, usd = desk.certificates, platform["SettlementTokenUSD"]
    importer, exporter, bank = roles["importer"], roles["exporter"], roles["bank_cn"]
    supplier1, supplier2 = roles["supplier1"], roles["supplier2"]
    usd.approve(certs.address, 2**255, sender=bank)
    maturity = chain.pending_timestamp + 90 * DAY
    invoice_id = desk.confirmed(exporter, importer, usd, 1_200_000_00, maturity)

    offer = certs.offer(invoice_id, 1_000_000_00, maturity, sender=importer)
    issue = certs.acceptOffer(invoice_id, sender=exporter)
    [issued] = certs.CertificateIssued.from_receipt(issue)
    split = certs.split(issued.certificateId, [600_000_00, 400_000_00], [supplier1.address, supplier2.address],
                        sender=exporter)
    first_child = certs.CertificateCreated.from_receipt(split)[0].certificateId
    certs.requestDiscount(first_child, bank.address, 450, sender=supplier1)
    discount = certs.acceptDiscount(first_child, 450, sender=bank)
    usd.approve(certs.address, 2**255, sender=importer)
    chain.mine(timestamp=maturity)
    settle_one = certs.settle([first_child], sender=importer)
    settle_last = certs.settle([first_child + 1], sender=importer)  # pays the tree off: releases the lien
    return {
        "certificate_offer": offer.gas_used,
        "certificate_issue": issue.gas_used,
        "certificate_split": split.gas_used,
        "certificate_discount": discount.gas_used,
        "certificate_settle": settle_one.gas_used,
        "certificate_settle_last_releases_lien": settle_last.gas_used,
    }
