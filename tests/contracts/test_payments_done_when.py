"""Issue 5, "Done when": a CNY-paying importer pays a USD-receiving exporter at a bank's quote, and a core
enterprise's certificate reaches a tier-3 supplier, is partly discounted and is paid at maturity, within
the gas budgets (the same budgets `bench/gas.py` holds the figures to). Runs on eth-tester and Anvil.
"""

from __future__ import annotations

import pytest

from bench._gas_payments import BUDGETS
from scripts._common import purpose_code, text_hash
from scripts._fx import ZERO_ADDRESS, FxQuote, rate_from_decimal, sign_quote_with_account
from scripts._payments import certificate_world

DAY = 24 * 3600


@pytest.fixture(scope="module", autouse=True)
def desk(platform):
    return certificate_world(platform)


def test_cny_paying_importer_pays_usd_receiving_exporter_within_budget(chain, platform, cny, usd, bank_us, importer,
                                                                      exporter):
    router = platform["PaymentRouter"]
    cny.approve(router.address, 2**255, sender=importer)
    usd.approve(router.address, 2**255, sender=bank_us)
    rate = rate_from_decimal("0.1385", 2, 2)
    expiry = chain.pending_timestamp + 900
    gas = []
    for nonce in (1, 2):  # the bank's first quote opens its nonce word; the second is the steady state
        quote = FxQuote(bank_us.address, importer.address, cny.address, usd.address, rate, 500_000_00, expiry, nonce)
        signature = sign_quote_with_account(quote, bank_us, chain.chain_id, router.address)
        before = (cny.balanceOf(importer.address), usd.balanceOf(exporter.address))
        receipt = router.payWithQuote(quote.as_tuple(), signature, exporter.address, 250_000_00,
                                      purpose_code("GDDS"), text_hash(f"PO-2026-{nonce}"), sender=importer)
        after = (cny.balanceOf(importer.address), usd.balanceOf(exporter.address))
        assert (before[0] - after[0], after[1] - before[1]) == (250_000_00, 34_625_00)
        gas.append(receipt.gas_used)
    assert max(gas) <= BUDGETS["payment_cross_currency"]


def test_certificate_reaches_tier_three_is_partly_discounted_and_paid_at_maturity_within_budget(
    chain, desk, usd, importer, exporter, supplier1, supplier2, supplier3, bank_cn
):
    certs = desk.certificates
    usd.approve(certs.address, 2**255, sender=importer)
    usd.approve(certs.address, 2**255, sender=bank_cn)
    maturity = chain.pending_timestamp + 120 * DAY
    invoice = desk.confirmed(exporter, importer, usd, 2_000_000_00, maturity)

    # Issuing takes two steps now (M3): the buyer offers, the seller accepts (its consent to the lien).
    offer = certs.offer(invoice, 2_000_000_00, maturity, sender=importer)
    issue = certs.acceptOffer(invoice, sender=exporter)
    root = certs.CertificateIssued.from_receipt(issue)[0].certificateId
    split1 = certs.split(root, [1_200_000_00, 800_000_00], [supplier1.address, supplier2.address], sender=exporter)
    tier2 = certs.CertificateCreated.from_receipt(split1)[0].certificateId
    split2 = certs.split(tier2, [500_000_00, 700_000_00], [supplier3.address, supplier1.address], sender=supplier1)
    tier3, tier2_rest = (e.certificateId for e in certs.CertificateCreated.from_receipt(split2))
    tier2_other = tier2 + 1
    assert certs.certificate(tier3).holder == supplier3.address  # tier 3 (VN) holds a piece

    # supplier3 discounts 200,000.00 of its 500,000.00 at bank_cn and keeps the rest.
    split3 = certs.split(tier3, [200_000_00, 300_000_00], [supplier3.address, supplier3.address], sender=supplier3)
    discounted, kept = (e.certificateId for e in certs.CertificateCreated.from_receipt(split3))
    certs.requestDiscount(discounted, bank_cn.address, 550, sender=supplier3)
    discount = certs.acceptDiscount(discounted, 550, sender=bank_cn)

    assert issue.gas_used <= BUDGETS["certificate_issue"]
    assert offer.gas_used <= BUDGETS["certificate_issue"]
    assert split1.gas_used <= BUDGETS["certificate_split"]
    assert discount.gas_used <= BUDGETS["certificate_discount"]

    chain.mine(timestamp=maturity)
    live = {discounted: bank_cn, kept: supplier3, tier2_rest: supplier1, tier2_other: supplier2}
    before = {cid: usd.balanceOf(holder.address) for cid, holder in live.items()}
    receipt = certs.settle(list(live), sender=importer)
    paid = {e.certificateId: e.amount for e in certs.CertificateSettled.from_receipt(receipt)}
    assert paid == {discounted: 200_000_00, kept: 300_000_00, tier2_rest: 700_000_00, tier2_other: 800_000_00}
    for cid, holder in live.items():
        assert usd.balanceOf(holder.address) - before[cid] == paid[cid]
    assert desk.invoices.invoice(invoice).lienInstrument == ZERO_ADDRESS
