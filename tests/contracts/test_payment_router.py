"""PaymentRouter: same-currency payments, and cross-currency payments at a bank's EIP-712 FX quote.

Quotes are built and signed off chain with eth-account (`encode_typed_data` + `Account.sign_message`),
exactly as a bank's quoting service would, and verified on chain by OpenZeppelin's EIP712 + ECDSA. Every
quote is made out to its payer: an open quote (payer zero) could be used up by anyone for one minor unit,
so the router refuses it. The quoting bank must be authorized (`BANK_ROLE`, active), and the router itself
spends allowances as a registered `Instrument` participant.
"""

from __future__ import annotations

from dataclasses import replace

import ape
import pytest
from _reverts import reverts_with
from eth_utils import keccak

from scripts._common import purpose_code, text_hash
from scripts._fx import (
    RATE_SCALE,
    ZERO_ADDRESS,
    FxQuote,
    rate_from_decimal,
    recover_quote_signer,
    sign_quote_with_key,
    signable_quote,
)

GDDS = purpose_code("GDDS")
USD_PER_CNY = rate_from_decimal("0.1385", base_decimals=2, quote_decimals=2)
BANK_LIMIT = 1_000_000_00  # CNY minor units the bank quotes for
PAYMENT = 100_000_00  # 100,000.00 CNY


@pytest.fixture(scope="module")
def router(platform):
    return platform["PaymentRouter"]


@pytest.fixture(scope="module", autouse=True)
def approvals(router, usd, cny, eur, importer, exporter, bank_cn, bank_us):
    """Payers approve the router for what they pay; banks for the currencies they sell."""
    for token in (usd, cny, eur):
        for account in (importer, exporter, bank_cn, bank_us):
            token.approve(router.address, 2**255, sender=account)


def make_quote(chain, router, bank, payer, base, quote_token, **overrides) -> FxQuote:
    """A quote of `bank` made out to `payer` (every quote names its payer: an open one is refused)."""
    fields = {
        "bank": bank.address,
        "payer": payer.address,
        "baseToken": base.address,
        "quoteToken": quote_token.address,
        "rate": USD_PER_CNY,
        "maxBaseAmount": BANK_LIMIT,
        "expiry": chain.pending_timestamp + 3600,
        "nonce": 1,
    }
    fields.update(overrides)
    return FxQuote(**fields)


def sign(quote: FxQuote, signer, chain, router) -> bytes:
    return sign_quote_with_key(quote, signer.private_key, chain.chain_id, router.address)


def pay(router, quote: FxQuote, signature: bytes, payer, beneficiary, amount=PAYMENT, reference="inv-1"):
    return router.payWithQuote(
        quote.as_tuple(), signature, beneficiary.address, amount, GDDS, text_hash(reference), sender=payer
    )


def balances(tokens_accounts):
    return [token.balanceOf(account.address) for token, account in tokens_accounts]


# ───────────────────────────── Quote signing ─────────────────────────────


def test_quote_digest_on_chain_equals_eth_account_typed_data_digest(chain, router, cny, usd, bank_cn, importer):
    quote = make_quote(chain, router, bank_cn, importer, cny, usd)
    message = signable_quote(quote, chain.chain_id, router.address)
    digest = keccak(b"\x19" + message.version + message.header + message.body)
    assert bytes(router.hashQuote(quote.as_tuple())) == digest


def test_signed_quote_recovers_to_the_bank_off_chain(chain, router, cny, usd, bank_cn, importer):
    quote = make_quote(chain, router, bank_cn, importer, cny, usd)
    signature = sign(quote, bank_cn, chain, router)
    assert len(signature) == 65
    assert recover_quote_signer(quote, signature, chain.chain_id, router.address) == bank_cn.address


def test_rate_from_decimal_absorbs_currency_decimals():
    assert rate_from_decimal("0.1385", 2, 2) == 1385 * 10**14
    assert rate_from_decimal("150", 2, 0) == 15 * 10**17  # JPY (0 decimals) per US cent
    assert rate_from_decimal("1", 2, 2) == RATE_SCALE


# ───────────────────────────── Cross-currency payments ─────────────────────────────


def test_cny_paying_importer_pays_usd_receiving_exporter_at_bank_quote(
    chain, router, cny, usd, bank_us, importer, exporter
):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    watched = [(cny, importer), (cny, bank_us), (usd, bank_us), (usd, exporter)]
    before = balances(watched)

    receipt = pay(router, quote, signature, importer, exporter)

    usd_amount = PAYMENT * USD_PER_CNY // RATE_SCALE
    assert usd_amount == 13_850_00
    after = balances(watched)
    assert [a - b for a, b in zip(after, before)] == [-PAYMENT, PAYMENT, -usd_amount, usd_amount]
    [settled] = router.PaymentSettled.from_receipt(receipt)
    assert (settled.payer, settled.beneficiary, settled.bank) == (importer.address, exporter.address, bank_us.address)
    assert (settled.baseAmount, settled.quoteAmount, settled.rate, settled.quoteNonce) == (
        PAYMENT, usd_amount, USD_PER_CNY, 1
    )
    assert bytes(settled.purposeCode) == GDDS
    # The bank (US) pays the exporter (CN): the USD leg crosses a border and carries the purpose code.
    [usd_leg] = usd.CrossBorderTransfer.from_receipt(receipt)
    assert (usd_leg.fromJurisdiction, usd_leg.toJurisdiction) == (b"US", b"CN")
    assert (usd_leg.amount, bytes(usd_leg.purposeCode)) == (usd_amount, GDDS)
    assert bytes(usd_leg.paymentReference) == text_hash("inv-1")
    assert router.isQuoteNonceUsed(bank_us.address, 1)


def test_both_legs_emit_cross_border_transfer_when_both_cross(chain, router, cny, eur, bank_cn, importer, exporter2):
    quote = make_quote(chain, router, bank_cn, importer, cny, eur, rate=rate_from_decimal("0.1290", 2, 2))
    receipt = pay(router, quote, sign(quote, bank_cn, chain, router), importer, exporter2)

    [cny_leg] = cny.CrossBorderTransfer.from_receipt(receipt)
    [eur_leg] = eur.CrossBorderTransfer.from_receipt(receipt)
    assert (cny_leg.fromJurisdiction, cny_leg.toJurisdiction, cny_leg.amount) == (b"US", b"CN", PAYMENT)
    assert (eur_leg.fromJurisdiction, eur_leg.toJurisdiction, eur_leg.amount) == (b"CN", b"DE", 12_900_00)
    assert bytes(cny_leg.purposeCode) == bytes(eur_leg.purposeCode) == GDDS


def test_converted_amount_rounds_down_in_the_banks_favour(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)  # 0.1385: 7 fen → 0.9695 cents → 0
    assert router.convert(7, USD_PER_CNY) == 0
    assert router.convert(8, USD_PER_CNY) == 1  # 1.108 → 1
    before = usd.balanceOf(exporter.address)
    pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter, amount=8)
    assert usd.balanceOf(exporter.address) - before == 1


def test_quote_made_out_to_a_payer_pays_for_that_payer(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    assert quote.payer == importer.address
    receipt = pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)
    [settled] = router.PaymentSettled.from_receipt(receipt)
    assert settled.payer == importer.address


# ───────────────────────────── Quote errors ─────────────────────────────


def test_payment_fails_if_quote_expired(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd, expiry=chain.pending_timestamp + 60)
    signature = sign(quote, bank_us, chain, router)
    chain.mine(timestamp=quote.expiry + 1)
    with ape.reverts(router.PaymentRouterQuoteExpired):
        pay(router, quote, signature, importer, exporter)


def test_payment_fails_if_quote_reused(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    pay(router, quote, signature, importer, exporter)
    with ape.reverts(router.PaymentRouterQuoteNonceUsed, bank=bank_us.address, nonce=1):
        pay(router, quote, signature, importer, exporter, reference="inv-2")


def test_payment_fails_if_quote_tampered(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    better_rate = replace(quote, rate=quote.rate * 2)
    with ape.reverts(router.PaymentRouterQuoteSignerMismatch):
        pay(router, better_rate, signature, importer, exporter)


def test_payment_fails_if_quote_signed_by_another_key(chain, router, cny, usd, bank_us, bank_cn, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    with ape.reverts(router.PaymentRouterQuoteSignerMismatch, bank=bank_us.address, recovered=bank_cn.address):
        pay(router, quote, sign(quote, bank_cn, chain, router), importer, exporter)


def test_payment_fails_if_signature_malformed(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    with ape.reverts(router.PaymentRouterQuoteSignerMismatch, bank=bank_us.address, recovered=ZERO_ADDRESS):
        pay(router, quote, sign(quote, bank_us, chain, router)[:64], importer, exporter)


def test_payment_fails_if_signed_for_another_chain_or_router(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    other_chain = sign_quote_with_key(quote, bank_us.private_key, chain.chain_id + 1, router.address)
    other_router = sign_quote_with_key(quote, bank_us.private_key, chain.chain_id, cny.address)
    for signature in (other_chain, other_router):
        with ape.reverts(router.PaymentRouterQuoteSignerMismatch):
            pay(router, quote, signature, importer, exporter)


def test_payment_fails_if_amount_over_quote_limit(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    with ape.reverts(router.PaymentRouterQuoteAmountExceeded, baseAmount=BANK_LIMIT + 1, maxBaseAmount=BANK_LIMIT):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter, amount=BANK_LIMIT + 1)


def test_payment_fails_if_quote_made_out_to_another_payer(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    with ape.reverts(router.PaymentRouterQuoteNotForPayer, payer=importer.address, caller=exporter.address):
        pay(router, quote, sign(quote, bank_us, chain, router), exporter, exporter)


def test_payment_fails_if_quote_names_no_payer(chain, router, cny, usd, bank_us, importer, exporter):
    # Audit note: an open quote (payer zero) could be used up by anyone for one minor unit. The router
    # refuses it, for the payer the bank meant as for a stranger, and the nonce stays unspent.
    quote = replace(make_quote(chain, router, bank_us, importer, cny, usd), payer=ZERO_ADDRESS)
    signature = sign(quote, bank_us, chain, router)
    watched = [(cny, importer), (cny, exporter), (usd, bank_us), (usd, exporter)]
    before = balances(watched)

    for payer, amount in ((exporter, 1), (importer, PAYMENT)):
        with ape.reverts(router.PaymentRouterQuoteNotForPayer, payer=ZERO_ADDRESS, caller=payer.address):
            pay(router, quote, signature, payer, exporter, amount=amount)

    assert balances(watched) == before
    assert not router.isQuoteNonceUsed(bank_us.address, quote.nonce)


def test_payment_fails_if_quote_nonce_invalidated_by_bank(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd, nonce=256 + 3)
    signature = sign(quote, bank_us, chain, router)
    receipt = router.invalidateQuoteNonces(1, 1 << 3, sender=bank_us)
    [event] = router.QuoteNoncesInvalidated.from_receipt(receipt)
    assert (event.bank, event.wordPosition, event.mask) == (bank_us.address, 1, 8)
    assert router.quoteNonceBitmap(bank_us.address, 1) == 8
    with ape.reverts(router.PaymentRouterQuoteNonceUsed):
        pay(router, quote, signature, importer, exporter)


def test_payment_fails_if_quote_names_one_currency(chain, router, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, usd, usd)
    with ape.reverts(router.PaymentRouterQuoteSameCurrency, token=usd.address):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)


def test_payment_fails_if_quote_rate_zero(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd, rate=0)
    with ape.reverts(router.PaymentRouterQuoteZeroRate):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)


def test_payment_fails_if_amount_zero_or_converts_to_zero(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    for amount in (0, 7):
        with ape.reverts(router.PaymentRouterZeroAmount):
            pay(router, quote, signature, importer, exporter, amount=amount)


def test_payment_fails_without_purpose_code(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    with ape.reverts(router.PaymentRouterMissingPurposeCode):
        router.payWithQuote(quote.as_tuple(), sign(quote, bank_us, chain, router), exporter.address, PAYMENT,
                            b"\0" * 4, text_hash("x"), sender=importer)
    with ape.reverts(router.PaymentRouterMissingPurposeCode):
        router.pay(usd.address, exporter.address, 1, b"\0" * 4, text_hash("x"), sender=importer)


def test_payment_fails_if_quote_signer_is_not_a_bank(chain, router, registry, cny, usd, exporter2, importer, exporter):
    quote = make_quote(chain, router, exporter2, importer, cny, usd)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=exporter2.address,
                      neededRole=registry.BANK_ROLE()):
        pay(router, quote, sign(quote, exporter2, chain, router), importer, exporter)


def test_payment_fails_if_quoting_bank_frozen(chain, router, registry, regulator, cny, usd, bank_us, importer,
                                              exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    registry.freezeParticipant(bank_us.address, text_hash("sanctions-review"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=bank_us.address):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)


def test_payment_fails_if_quoting_banks_role_revoked(chain, router, registry, operator, cny, usd, bank_us, importer,
                                                     exporter):
    # M4: a quote signed while the bank held BANK_ROLE is worthless once the role is revoked.
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    registry.revokeRole(registry.BANK_ROLE(), bank_us.address, sender=operator)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.BANK_ROLE()):
        pay(router, quote, signature, importer, exporter)
    assert not router.isQuoteNonceUsed(bank_us.address, quote.nonce)


def test_payment_fails_once_the_routers_instrument_role_is_revoked(chain, router, registry, operator, cny, usd,
                                                                    bank_us, importer, exporter):
    # The router spends allowances as a registered Instrument participant: the operator can stop it.
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    registry.revokeRole(registry.INSTRUMENT_ROLE(), router.address, sender=operator)
    before = balances([(cny, importer), (usd, exporter)])

    with reverts_with(usd.SettlementTokenInactiveParty, account=router.address):
        router.pay(usd.address, exporter.address, 1_00, GDDS, text_hash("inv-r"), sender=importer)
    with reverts_with(cny.SettlementTokenInactiveParty, account=router.address):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)

    assert balances([(cny, importer), (usd, exporter)]) == before


# ───────────────────────────── Atomicity ─────────────────────────────


def test_frozen_beneficiary_leaves_payers_leg_unmoved_and_quote_unspent(
    chain, router, registry, regulator, cny, usd, bank_us, importer, exporter
):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    registry.freezeParticipant(exporter.address, text_hash("aml-alert"), sender=regulator)
    watched = [(cny, importer), (cny, bank_us), (usd, bank_us), (usd, exporter)]
    before = balances(watched)

    with reverts_with(usd.SettlementTokenInactiveParty, account=exporter.address):
        pay(router, quote, signature, importer, exporter)

    assert balances(watched) == before
    assert not router.isQuoteNonceUsed(bank_us.address, 1)
    registry.unfreezeParticipant(exporter.address, text_hash("cleared"), sender=regulator)
    pay(router, quote, signature, importer, exporter)  # the same quote still pays once cleared
    assert router.isQuoteNonceUsed(bank_us.address, 1)


def test_bank_short_of_quote_currency_leaves_payers_leg_unmoved(
    chain, router, cny, usd, bank_us, importer, exporter, supplier1
):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    signature = sign(quote, bank_us, chain, router)
    usd.transfer(supplier1.address, usd.balanceOf(bank_us.address) - 1_00, sender=bank_us)  # keep one dollar
    watched = [(cny, importer), (cny, bank_us), (usd, bank_us), (usd, exporter)]
    before = balances(watched)

    with reverts_with(usd.ERC20InsufficientBalance):
        pay(router, quote, signature, importer, exporter)

    assert balances(watched) == before
    assert not router.isQuoteNonceUsed(bank_us.address, 1)


def test_payer_without_allowance_moves_nothing(chain, router, cny, usd, bank_us, importer, exporter):
    quote = make_quote(chain, router, bank_us, importer, cny, usd)
    cny.approve(router.address, PAYMENT - 1, sender=importer)
    before = balances([(usd, bank_us), (usd, exporter)])
    with reverts_with(cny.ERC20InsufficientAllowance):
        pay(router, quote, sign(quote, bank_us, chain, router), importer, exporter)
    assert balances([(usd, bank_us), (usd, exporter)]) == before


# ───────────────────────────── Same-currency payments ─────────────────────────────


def test_same_currency_payment_carries_purpose_and_reference(router, usd, importer, exporter):
    before = usd.balanceOf(exporter.address)
    receipt = router.pay(usd.address, exporter.address, 5_000_00, GDDS, text_hash("inv-9"), sender=importer)
    assert usd.balanceOf(exporter.address) - before == 5_000_00
    [settled] = router.PaymentSettled.from_receipt(receipt)
    assert (settled.bank, settled.baseToken, settled.quoteToken) == (ZERO_ADDRESS, usd.address, usd.address)
    assert (settled.baseAmount, settled.quoteAmount, settled.rate) == (5_000_00, 5_000_00, RATE_SCALE)
    [leg] = usd.CrossBorderTransfer.from_receipt(receipt)
    assert (leg.fromJurisdiction, leg.toJurisdiction, bytes(leg.purposeCode)) == (b"US", b"CN", GDDS)


def test_same_currency_payment_fails_if_amount_zero(router, usd, importer, exporter):
    with ape.reverts(router.PaymentRouterZeroAmount):
        router.pay(usd.address, exporter.address, 0, GDDS, text_hash("inv-0"), sender=importer)


def test_same_currency_payment_to_outsider_reverts_in_token(router, usd, importer, outsider):
    with reverts_with(usd.SettlementTokenInactiveParty, account=outsider.address):
        router.pay(usd.address, outsider.address, 1_00, GDDS, text_hash("inv-x"), sender=importer)



def test_payment_fails_if_token_answers_false_instead_of_moving_money(project, router, importer, exporter, operator):
    token = operator.deploy(project.FalseReturningToken)
    with ape.reverts(router.PaymentRouterTransferFailed, token=token.address):
        router.pay(token.address, exporter.address, 1_00, GDDS, text_hash("inv-f"), sender=importer)
