"""PayableCertificates: offered by the core enterprise against a confirmed invoice and accepted by its
supplier, split down the supply chain, discounted at a bank, settled at maturity, defaulted after grace.

The supply chain of these tests: the importer (US) is the core enterprise; the exporter (CN) is its
tier-1 supplier; supplier1 and supplier2 (CN) are tier 2; supplier3 (VN) is tier 3.

Audit M3: the buyer used to pledge its supplier's receivable alone, for any amount and maturity. Now the
seller accepts the offer (consenting to the lien), the maturity is no later than the invoice's due date, and
the amount at most what is unpaid, checked at the offer and again at the acceptance.

The discount formula's rounding (a started day counts, proceeds rounded down) is fuzzed in
`tests/foundry/PaymentsArithmetic.t.sol`; here the discount is tested through the desk.
"""

from __future__ import annotations

import math

import ape
import pytest
from _reverts import reverts_with

from app.core.enums import CertificateState, InvoiceState
from scripts._common import text_hash
from scripts._payments import certificate_world

DAY = 24 * 3600
FACE = 1_200_000_00  # the invoice: 1,200,000.00 USD
ROOT = 1_000_000_00  # the certificate issued against it
MATURITY_DAYS = 90


def states_bitmap(*states: int) -> bytes:
    return sum(1 << s for s in states).to_bytes(32, "big")


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, supplier1, supplier2,
                         supplier3, bank_cn, bank_us):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def desk(platform, usd, importer, bank_cn, bank_us):
    """Certificates over the invoice registry; the importer and the banks approve them for USD, the importer
    approves the invoice registry for direct invoice payments."""
    world = certificate_world(platform)
    for payer in (importer, bank_cn, bank_us):
        usd.approve(world.certificates.address, 2**255, sender=payer)
    usd.approve(world.invoices.address, 2**255, sender=importer)
    return world


@pytest.fixture(scope="module")
def certs(desk):
    return desk.certificates


@pytest.fixture
def maturity(chain) -> int:
    return chain.pending_timestamp + MATURITY_DAYS * DAY


@pytest.fixture
def invoice_id(desk, usd, importer, exporter, maturity) -> int:
    return desk.confirmed(exporter, importer, usd, FACE, maturity)


@pytest.fixture
def root_id(desk, invoice_id, importer, exporter, maturity) -> int:
    """The importer's certificate of ROOT on the invoice, offered and accepted by the exporter."""
    return desk.issue_certificate(invoice_id, ROOT, maturity, buyer=importer, seller=exporter)


def split(certs, certificate_id, holder, parts):
    """Split `certificate_id` into `parts` [(account, amount)]; returns the children's ids."""
    receipt = certs.split(certificate_id, [a for _, a in parts], [h.address for h, _ in parts], sender=holder)
    return [event.certificateId for event in certs.CertificateCreated.from_receipt(receipt)]


def live_sum(certs, root_id) -> int:
    """Sum of the live (never split) certificates of a tree, found by walking every id issued so far."""
    total = 0
    for cid in range(1, certs.nextCertificateId()):
        view = certs.certificate(cid)
        if view.rootId == root_id and view.state not in (CertificateState["None"], CertificateState.Split):
            total += view.amount
    return total


def block_time(chain, receipt) -> int:
    return chain.provider.get_block(receipt.block_number).timestamp


def expected_proceeds(amount: int, rate_bps: int, maturity: int, now: int) -> tuple[int, int]:
    days = -(-(maturity - now) // DAY)
    discount = -(-(amount * rate_bps * days) // (10_000 * 365))
    return amount - discount, days


# ───────────────────────────── Offer and acceptance ─────────────────────────────


def test_core_enterprise_offers_and_its_supplier_accepts_the_certificate_taking_the_lien(
    desk, certs, invoice_id, importer, exporter, usd, maturity
):
    first_id = certs.nextCertificateId()
    receipt = certs.offer(invoice_id, ROOT, maturity, sender=importer)

    [offered] = certs.CertificateOffered.from_receipt(receipt)
    assert (offered.invoiceId, offered.issuer, offered.seller, offered.amount, offered.maturity) == (
        invoice_id, importer.address, exporter.address, ROOT, maturity
    )
    assert tuple(certs.offerOf(invoice_id)) == (ROOT, maturity, 0)  # pending: no tree yet
    # Nothing is pledged before the seller consents: no lien, no certificate.
    invoice = desk.invoices.invoice(invoice_id)
    assert (invoice.state, invoice.lienInstrument, invoice.lienFinancier) == (
        InvoiceState.Confirmed, ape.utils.ZERO_ADDRESS, ape.utils.ZERO_ADDRESS
    )
    assert certs.rootOfInvoice(invoice_id) == 0 and certs.nextCertificateId() == first_id

    receipt = certs.acceptOffer(invoice_id, sender=exporter)

    [issued] = certs.CertificateIssued.from_receipt(receipt)
    assert issued.certificateId == first_id
    root = certs.certificate(issued.certificateId)
    assert (root.rootId, root.parentId, root.holder, root.amount) == (issued.certificateId, 0, exporter.address, ROOT)
    assert (root.issuer, root.currency, root.maturity, root.invoiceId) == (
        importer.address, usd.address, maturity, invoice_id
    )
    assert root.state == CertificateState.Active
    invoice = desk.invoices.invoice(invoice_id)
    assert (invoice.state, invoice.lienInstrument, invoice.lienFinancier) == (InvoiceState.Financed, certs.address,
                                                                               exporter.address)
    assert certs.rootOfInvoice(invoice_id) == issued.certificateId
    assert tuple(certs.offerOf(invoice_id)) == (ROOT, maturity, issued.certificateId)  # accepted: its tree
    # An accepted offer is no longer open: neither side can close it and unwind the pledge.
    with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
        certs.withdrawOffer(invoice_id, sender=importer)
    with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
        certs.declineOffer(invoice_id, sender=exporter)
    with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
        certs.acceptOffer(invoice_id, sender=exporter)
    assert certs.rootOfInvoice(invoice_id) == issued.certificateId


def test_offer_fails_if_caller_is_not_the_invoice_buyer(certs, invoice_id, exporter, importer, maturity):
    with ape.reverts(certs.PayableCertificatesNotInvoiceBuyer, invoiceId=invoice_id, buyer=importer.address,
                     caller=exporter.address):
        certs.offer(invoice_id, ROOT, maturity, sender=exporter)


def test_offer_fails_if_amount_above_invoice_or_zero(certs, invoice_id, importer, maturity):
    with ape.reverts(certs.PayableCertificatesAmountExceedsInvoice, amount=FACE + 1, available=FACE):
        certs.offer(invoice_id, FACE + 1, maturity, sender=importer)
    with ape.reverts(certs.PayableCertificatesZeroAmount):
        certs.offer(invoice_id, 0, maturity, sender=importer)


def test_offer_fails_above_what_is_still_unpaid(desk, certs, invoice_id, importer, maturity):
    desk.invoices.pay(invoice_id, FACE - ROOT, sender=importer)
    with ape.reverts(certs.PayableCertificatesAmountExceedsInvoice, amount=ROOT + 1, available=ROOT):
        certs.offer(invoice_id, ROOT + 1, maturity, sender=importer)
    certs.offer(invoice_id, ROOT, maturity, sender=importer)


def test_acceptance_fails_if_the_invoice_was_paid_down_below_the_offer_meanwhile(
    desk, certs, invoice_id, importer, exporter, maturity
):
    certs.offer(invoice_id, FACE, maturity, sender=importer)
    desk.invoices.pay(invoice_id, 1_00, sender=importer)  # no lien yet: the payment reaches the seller
    with ape.reverts(certs.PayableCertificatesAmountExceedsInvoice, amount=FACE, available=FACE - 1_00):
        certs.acceptOffer(invoice_id, sender=exporter)
    assert desk.invoices.invoice(invoice_id).lienFinancier == ape.utils.ZERO_ADDRESS


def test_offer_fails_if_maturity_not_in_future(chain, certs, invoice_id, importer):
    with ape.reverts(certs.PayableCertificatesInvalidMaturity):
        certs.offer(invoice_id, ROOT, chain.pending_timestamp - 1, sender=importer)


def test_acceptance_fails_once_the_offered_maturity_has_passed(chain, desk, certs, usd, importer, exporter):
    due = chain.pending_timestamp + 10 * DAY
    invoice = desk.confirmed(exporter, importer, usd, FACE, due)
    certs.offer(invoice, ROOT, due - 5 * DAY, sender=importer)
    chain.mine(timestamp=due - 5 * DAY)
    with ape.reverts(certs.PayableCertificatesInvalidMaturity, maturity=due - 5 * DAY):
        certs.acceptOffer(invoice, sender=exporter)


def test_M3_maturity_after_the_invoice_due_date_is_refused(desk, certs, invoice_id, importer, exporter, maturity):
    """The debtor may not reschedule its own debt: the audit's certificate due in 2100 is refused, so is one
    second after the due date; the due date itself is accepted."""
    due = desk.invoices.invoice(invoice_id).dueDate
    year_2100 = 4_102_444_800
    for late in (due + 1, year_2100):
        with ape.reverts(certs.PayableCertificatesMaturityAfterDueDate, maturity=late, dueDate=due):
            certs.offer(invoice_id, ROOT, late, sender=importer)
    certs.offer(invoice_id, ROOT, due, sender=importer)
    certs.acceptOffer(invoice_id, sender=exporter)
    assert certs.certificate(certs.rootOfInvoice(invoice_id)).maturity == due


def test_offer_fails_if_invoice_already_pledged(desk, certs, root_id, invoice_id, importer, maturity):
    assert desk.invoices.invoice(invoice_id).state == InvoiceState.Financed
    with ape.reverts(certs.PayableCertificatesInvoiceNotConfirmed, invoiceId=invoice_id, state=InvoiceState.Financed):
        certs.offer(invoice_id, 1_00, maturity, sender=importer)


def test_offer_fails_if_buyer_has_not_confirmed_the_invoice(desk, certs, usd, importer, exporter, maturity):
    invoice = desk.registered(exporter, importer, usd, FACE, maturity)
    with ape.reverts(certs.PayableCertificatesInvoiceNotConfirmed, invoiceId=invoice, state=InvoiceState.Registered):
        certs.offer(invoice, ROOT, maturity, sender=importer)


def test_M3_a_second_offer_while_one_is_pending_is_refused(certs, invoice_id, importer, maturity):
    certs.offer(invoice_id, ROOT, maturity, sender=importer)
    with ape.reverts(certs.PayableCertificatesOfferPending, invoiceId=invoice_id):
        certs.offer(invoice_id, 1_00, maturity, sender=importer)
    assert tuple(certs.offerOf(invoice_id)) == (ROOT, maturity, 0)
    certs.withdrawOffer(invoice_id, sender=importer)
    certs.offer(invoice_id, 1_00, maturity, sender=importer)  # a new offer once the first is closed
    assert tuple(certs.offerOf(invoice_id)) == (1_00, maturity, 0)


def test_M3_only_the_seller_accepts_or_declines_and_only_the_buyer_withdraws(
    certs, invoice_id, importer, exporter, supplier1, maturity
):
    certs.offer(invoice_id, ROOT, maturity, sender=importer)
    for stranger in (importer, supplier1):
        with ape.reverts(certs.PayableCertificatesNotInvoiceSeller, invoiceId=invoice_id, seller=exporter.address,
                         caller=stranger.address):
            certs.acceptOffer(invoice_id, sender=stranger)
        with ape.reverts(certs.PayableCertificatesNotInvoiceSeller, invoiceId=invoice_id, seller=exporter.address,
                         caller=stranger.address):
            certs.declineOffer(invoice_id, sender=stranger)
    with ape.reverts(certs.PayableCertificatesNotInvoiceBuyer, invoiceId=invoice_id, buyer=importer.address,
                     caller=exporter.address):
        certs.withdrawOffer(invoice_id, sender=exporter)
    assert tuple(certs.offerOf(invoice_id)) == (ROOT, maturity, 0)
    assert certs.rootOfInvoice(invoice_id) == 0


def test_seller_declines_or_buyer_withdraws_and_the_offer_is_closed(desk, certs, invoice_id, importer, exporter,
                                                                    maturity):
    with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
        certs.acceptOffer(invoice_id, sender=exporter)
    for closer in (exporter, importer):
        certs.offer(invoice_id, ROOT, maturity, sender=importer)
        close = certs.declineOffer if closer == exporter else certs.withdrawOffer
        receipt = close(invoice_id, sender=closer)
        [closed] = certs.CertificateOfferClosed.from_receipt(receipt)
        assert (closed.invoiceId, closed.by) == (invoice_id, closer.address)
        assert tuple(certs.offerOf(invoice_id)) == (0, 0, 0)
        with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
            certs.acceptOffer(invoice_id, sender=exporter)
        with ape.reverts(certs.PayableCertificatesNoOffer, invoiceId=invoice_id):
            close(invoice_id, sender=closer)
    assert desk.invoices.invoice(invoice_id).state == InvoiceState.Confirmed


def test_M3_a_pending_offer_does_not_block_the_sellers_factoring(platform, desk, certs, usd, invoice_id, importer,
                                                                 exporter, bank_cn, maturity):
    """The audit's sequence: the buyer pledges one minor unit of its supplier's invoice, blocking the
    supplier's factoring. Now the offer reserves nothing: the supplier factors the invoice, and the offer can
    no longer be accepted."""
    financing = platform["ReceivableFinancing"]
    certs.offer(invoice_id, 1, maturity, sender=importer)

    applied = financing.applyForFinancing(invoice_id, bank_cn.address, ROOT, sender=exporter)
    financing_id = financing.FinancingApplied.from_receipt(applied)[0].financingId
    usd.approve(financing.address, ROOT, sender=bank_cn)
    financing.approve(financing_id, ROOT, 500, maturity, text_hash("factoring-terms"), sender=bank_cn)
    assert desk.invoices.invoice(invoice_id).lienInstrument == financing.address

    with ape.reverts(certs.PayableCertificatesInvoiceNotConfirmed, invoiceId=invoice_id, state=InvoiceState.Financed):
        certs.acceptOffer(invoice_id, sender=exporter)


def test_acceptance_fails_if_the_issuer_is_no_longer_authorized(certs, registry, regulator, invoice_id, importer,
                                                                exporter, maturity):
    certs.offer(invoice_id, ROOT, maturity, sender=importer)
    registry.freezeParticipant(importer.address, text_hash("investigation"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=importer.address):
        certs.acceptOffer(invoice_id, sender=exporter)
    assert certs.rootOfInvoice(invoice_id) == 0


# ───────────────────────────── Direct invoice payments ─────────────────────────────


def test_direct_invoice_payment_may_take_only_the_part_the_tree_does_not_cover(
    chain, desk, certs, usd, root_id, invoice_id, importer, exporter, maturity
):
    uncovered = FACE - ROOT
    with reverts_with(certs.PayableCertificatesPayThroughCertificates, invoiceId=invoice_id, rootId=root_id,
                      payableDirectly=uncovered):
        desk.invoices.pay(invoice_id, uncovered + 1, sender=importer)
    before = usd.balanceOf(exporter.address)

    receipt = desk.invoices.pay(invoice_id, uncovered, sender=importer)

    [paid] = desk.invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller) == (0, uncovered)
    assert usd.balanceOf(exporter.address) == before + uncovered
    with reverts_with(certs.PayableCertificatesPayThroughCertificates, invoiceId=invoice_id, rootId=root_id,
                      payableDirectly=0):
        desk.invoices.pay(invoice_id, 1, sender=importer)
    assert certs.supportsInterface(bytes.fromhex("01ffc9a7"))

    # The tree pays the rest through `settle`: the invoice is then paid in full and free.
    chain.mine(timestamp=maturity)
    certs.settle([root_id], sender=importer)
    invoice = desk.invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienInstrument) == (
        InvoiceState.Paid, FACE, ape.utils.ZERO_ADDRESS)
    assert certs.rootOfInvoice(invoice_id) == 0
    assert tuple(certs.offerOf(invoice_id)) == (0, 0, 0)


def test_direct_invoice_payment_refused_while_the_tree_is_frozen(desk, certs, registry, regulator, usd, root_id,
                                                                 invoice_id, importer, exporter):
    registry.freezeInstrument(certs.address, root_id, text_hash("court-order"), sender=regulator)
    before = usd.balanceOf(exporter.address)
    with reverts_with(certs.PayableCertificatesFrozen, rootId=root_id):
        desk.invoices.pay(invoice_id, FACE - ROOT, sender=importer)
    assert usd.balanceOf(exporter.address) == before
    registry.unfreezeInstrument(certs.address, root_id, text_hash("lifted"), sender=regulator)
    desk.invoices.pay(invoice_id, FACE - ROOT, sender=importer)
    assert usd.balanceOf(exporter.address) == before + FACE - ROOT


# ───────────────────────────── Transfer and split ─────────────────────────────


def test_split_children_record_parent_and_root_and_sum_to_parent(certs, root_id, exporter, supplier1, supplier2):
    children = split(certs, root_id, exporter, [(supplier1, 600_000_00), (supplier2, 400_000_00)])

    assert certs.state(root_id) == CertificateState.Split
    views = [certs.certificate(c) for c in children]
    assert [(v.parentId, v.rootId, v.holder, v.amount) for v in views] == [
        (root_id, root_id, supplier1.address, 600_000_00),
        (root_id, root_id, supplier2.address, 400_000_00),
    ]
    assert sum(v.amount for v in views) == certs.certificate(root_id).amount
    assert live_sum(certs, root_id) == ROOT


def test_split_fails_if_children_do_not_sum_to_parent(certs, root_id, exporter, supplier1):
    with ape.reverts(certs.PayableCertificatesSplitSumMismatch, parentAmount=ROOT, childrenSum=ROOT + 1):
        split(certs, root_id, exporter, [(supplier1, ROOT), (exporter, 1)])
    with ape.reverts(certs.PayableCertificatesZeroAmount):
        split(certs, root_id, exporter, [(supplier1, ROOT), (exporter, 0)])


def test_split_fails_with_too_few_or_too_many_children(certs, root_id, exporter, supplier1):
    with ape.reverts(certs.PayableCertificatesInvalidChildCount, childCount=1, maxChildren=16):
        split(certs, root_id, exporter, [(supplier1, ROOT)])
    with ape.reverts(certs.PayableCertificatesInvalidChildCount, childCount=17, maxChildren=16):
        split(certs, root_id, exporter, [(supplier1, 1)] * 16 + [(supplier1, ROOT - 16)])
    with ape.reverts(certs.PayableCertificatesLengthMismatch, amounts=2, holders=1):
        certs.split(root_id, [1, ROOT - 1], [supplier1.address], sender=exporter)


def test_split_fails_if_caller_not_holder(certs, root_id, exporter, supplier1):
    with ape.reverts(certs.PayableCertificatesNotHolder, certificateId=root_id, holder=exporter.address,
                     caller=supplier1.address):
        split(certs, root_id, supplier1, [(supplier1, 1), (supplier1, ROOT - 1)])


def test_split_fails_if_already_split(certs, root_id, exporter, supplier1):
    split(certs, root_id, exporter, [(supplier1, 1), (exporter, ROOT - 1)])
    with ape.reverts(certs.PayableCertificatesUnexpectedState, certificateId=root_id, current=CertificateState.Split,
                     expectedStates=states_bitmap(CertificateState.Active)):
        split(certs, root_id, exporter, [(supplier1, 1), (exporter, ROOT - 1)])


def test_split_fails_if_a_child_holder_is_not_a_participant(certs, registry, root_id, exporter, outsider):
    with reverts_with(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        split(certs, root_id, exporter, [(outsider, 1), (exporter, ROOT - 1)])


def test_transfer_moves_whole_certificate(certs, root_id, exporter, supplier2):
    receipt = certs.transfer(root_id, supplier2.address, sender=exporter)
    [event] = certs.CertificateTransferred.from_receipt(receipt)
    assert (event.certificateId, event.to) == (root_id, supplier2.address)
    assert certs.certificate(root_id).holder == supplier2.address


def test_transfer_fails_if_not_holder_or_to_outsider(certs, registry, root_id, exporter, supplier2, outsider):
    with ape.reverts(certs.PayableCertificatesNotHolder):
        certs.transfer(root_id, supplier2.address, sender=supplier2)
    with reverts_with(registry.ParticipantRegistryUnknownParticipant):
        certs.transfer(root_id, outsider.address, sender=exporter)


def test_transfer_and_split_fail_at_maturity(chain, certs, root_id, exporter, supplier1, maturity):
    chain.mine(timestamp=maturity)
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Due):
        certs.transfer(root_id, supplier1.address, sender=exporter)
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Due):
        split(certs, root_id, exporter, [(supplier1, 1), (exporter, ROOT - 1)])


def test_frozen_tree_refuses_every_transition(
    chain, certs, registry, regulator, root_id, exporter, supplier1, importer, bank_cn, maturity
):
    children = split(certs, root_id, exporter, [(supplier1, 1_00), (exporter, ROOT - 1_00)])
    certs.requestDiscount(children[0], bank_cn.address, 500, sender=supplier1)
    registry.freezeInstrument(certs.address, root_id, text_hash("court-order"), sender=regulator)

    with ape.reverts(certs.PayableCertificatesFrozen, rootId=root_id):
        certs.transfer(children[1], supplier1.address, sender=exporter)
    with ape.reverts(certs.PayableCertificatesFrozen, rootId=root_id):
        split(certs, children[1], exporter, [(supplier1, 1), (exporter, ROOT - 1_01)])
    with ape.reverts(certs.PayableCertificatesFrozen, rootId=root_id):
        certs.acceptDiscount(children[0], 500, sender=bank_cn)
    chain.mine(timestamp=maturity)
    with ape.reverts(certs.PayableCertificatesFrozen, rootId=root_id):
        certs.settle([children[0]], sender=importer)


# ───────────────────────────── Discount ─────────────────────────────


def test_bank_discounts_certificate_at_requested_rate_and_becomes_holder(
    chain, certs, usd, root_id, exporter, bank_cn, maturity
):
    certs.requestDiscount(root_id, bank_cn.address, 450, sender=exporter)
    request = certs.discountRequest(root_id)
    assert (request.bank, request.rateBps) == (bank_cn.address, 450)
    before = (usd.balanceOf(exporter.address), usd.balanceOf(bank_cn.address))

    receipt = certs.acceptDiscount(root_id, 450, sender=bank_cn)

    proceeds, days = expected_proceeds(ROOT, 450, maturity, block_time(chain, receipt))
    [event] = certs.CertificateDiscounted.from_receipt(receipt)
    assert (event.seller, event.bank, event.daysToMaturity, event.amount, event.proceeds) == (
        exporter.address, bank_cn.address, days, ROOT, proceeds
    )
    assert days == MATURITY_DAYS
    assert proceeds == ROOT - math.ceil(ROOT * 450 * 90 / 3_650_000)  # 988,904.10: 1.1096% off
    assert (usd.balanceOf(exporter.address) - before[0], before[1] - usd.balanceOf(bank_cn.address)) == (
        proceeds, proceeds
    )
    assert certs.certificate(root_id).holder == bank_cn.address
    assert certs.discountRequest(root_id).bank == ape.utils.ZERO_ADDRESS


def test_accept_discount_fails_without_matching_request(certs, root_id, exporter, bank_cn, bank_us):
    with ape.reverts(certs.PayableCertificatesNoDiscountRequest, certificateId=root_id, bank=bank_cn.address):
        certs.acceptDiscount(root_id, 450, sender=bank_cn)
    certs.requestDiscount(root_id, bank_cn.address, 450, sender=exporter)
    with ape.reverts(certs.PayableCertificatesNoDiscountRequest, certificateId=root_id, bank=bank_us.address):
        certs.acceptDiscount(root_id, 450, sender=bank_us)
    with ape.reverts(certs.PayableCertificatesDiscountRateMismatch, requestedBps=450, acceptedBps=400):
        certs.acceptDiscount(root_id, 400, sender=bank_cn)


def test_discount_request_lapses_when_certificate_moves(certs, root_id, exporter, supplier1, bank_cn):
    certs.requestDiscount(root_id, bank_cn.address, 450, sender=exporter)
    certs.transfer(root_id, supplier1.address, sender=exporter)
    with ape.reverts(certs.PayableCertificatesNoDiscountRequest):
        certs.acceptDiscount(root_id, 450, sender=bank_cn)


def test_holder_cancels_discount_request(certs, root_id, exporter, bank_cn):
    certs.requestDiscount(root_id, bank_cn.address, 450, sender=exporter)
    receipt = certs.cancelDiscountRequest(root_id, sender=exporter)
    assert len(certs.DiscountRequestCancelled.from_receipt(receipt)) == 1
    with ape.reverts(certs.PayableCertificatesNoDiscountRequest):
        certs.cancelDiscountRequest(root_id, sender=exporter)
    with ape.reverts(certs.PayableCertificatesNoDiscountRequest):
        certs.acceptDiscount(root_id, 450, sender=bank_cn)


def test_discount_request_fails_with_invalid_rate_or_non_bank(certs, registry, root_id, exporter, bank_cn, supplier1):
    for rate in (0, 10_001):
        with ape.reverts(certs.PayableCertificatesInvalidRate, rateBps=rate):
            certs.requestDiscount(root_id, bank_cn.address, rate, sender=exporter)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=supplier1.address,
                      neededRole=registry.BANK_ROLE()):
        certs.requestDiscount(root_id, supplier1.address, 450, sender=exporter)


def test_discount_fails_if_it_would_consume_the_whole_amount(desk, certs, chain, usd, importer, exporter, bank_cn):
    maturity = chain.pending_timestamp + 400 * DAY
    invoice = desk.confirmed(exporter, importer, usd, FACE, maturity)
    certificate_id = desk.issue_certificate(invoice, ROOT, maturity, buyer=importer, seller=exporter)
    certs.requestDiscount(certificate_id, bank_cn.address, 10_000, sender=exporter)
    with ape.reverts(certs.PayableCertificatesDiscountExceedsAmount):
        certs.acceptDiscount(certificate_id, 10_000, sender=bank_cn)


def test_discount_fails_at_maturity(chain, certs, root_id, exporter, bank_cn, maturity):
    certs.requestDiscount(root_id, bank_cn.address, 450, sender=exporter)
    chain.mine(timestamp=maturity)
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Due,
                     expectedStates=states_bitmap(CertificateState.Active)):
        certs.acceptDiscount(root_id, 450, sender=bank_cn)


# ───────────────────────────── Settlement and default ─────────────────────────────


def test_settle_fails_before_maturity(certs, root_id, importer):
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Active,
                     expectedStates=states_bitmap(CertificateState.Due, CertificateState.Defaulted)):
        certs.settle([root_id], sender=importer)


def test_holder_pulls_payment_at_maturity_and_is_never_paid_twice(
    chain, desk, certs, usd, root_id, invoice_id, importer, exporter, supplier1, maturity
):
    children = split(certs, root_id, exporter, [(supplier1, 300_000_00), (exporter, 700_000_00)])
    chain.mine(timestamp=maturity)
    with ape.reverts(certs.PayableCertificatesNotSettlementParty, certificateId=children[0],
                     caller=exporter.address):
        certs.settle([children[0]], sender=exporter)
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Split):
        certs.settle([root_id], sender=importer)

    before = usd.balanceOf(supplier1.address)
    certs.settle([children[0]], sender=supplier1)  # pulls under the importer's allowance
    assert usd.balanceOf(supplier1.address) - before == 300_000_00
    assert certs.state(children[0]) == CertificateState.Settled
    with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Settled):
        certs.settle([children[0]], sender=importer)
    assert desk.invoices.invoice(invoice_id).lienInstrument == certs.address  # 700,000.00 still owed

    receipt = certs.settle([children[1]], sender=importer)
    [paid] = certs.CertificateTreePaid.from_receipt(receipt)
    assert (paid.rootId, paid.invoiceId, paid.amount) == (root_id, invoice_id, ROOT)
    assert desk.invoices.invoice(invoice_id).lienInstrument == ape.utils.ZERO_ADDRESS
    assert certs.tree(root_id).settledAmount == ROOT


def test_unpaid_tree_defaults_after_grace_for_every_holder(
    chain, certs, root_id, importer, exporter, supplier1, supplier3, maturity
):
    children = split(certs, root_id, exporter, [(supplier1, 600_000_00), (supplier3, 400_000_00)])
    grace = certs.gracePeriod()
    chain.mine(timestamp=maturity + grace - 10)
    assert [certs.state(c) for c in children] == [CertificateState.Due, CertificateState.Due]
    with ape.reverts(certs.PayableCertificatesUnexpectedState, certificateId=root_id, current=CertificateState.Split):
        certs.recordDefault(root_id, sender=supplier3)
    chain.mine(timestamp=maturity + grace)

    assert [certs.state(c) for c in children] == [CertificateState.Defaulted, CertificateState.Defaulted]
    receipt = certs.recordDefault(root_id, sender=supplier3)
    [event] = certs.CertificateTreeDefaulted.from_receipt(receipt)
    assert (event.rootId, event.outstanding) == (root_id, ROOT)
    assert certs.tree(root_id).defaultRecorded
    with ape.reverts(certs.PayableCertificatesDefaultAlreadyRecorded, rootId=root_id):
        certs.recordDefault(root_id, sender=supplier1)

    certs.settle([children[0]], sender=importer)  # a late payment is still accepted
    assert [certs.state(c) for c in children] == [CertificateState.Settled, CertificateState.Defaulted]


def test_record_default_fails_for_unknown_or_child_certificate(certs, root_id, exporter, supplier1):
    children = split(certs, root_id, exporter, [(supplier1, 1), (exporter, ROOT - 1)])
    for cid in (999, children[0]):
        with ape.reverts(certs.PayableCertificatesUnexpectedState, certificateId=cid, current=CertificateState["None"]):
            certs.recordDefault(cid, sender=supplier1)


def test_settle_record_default_and_cancel_request_need_an_active_caller(
    chain, certs, registry, regulator, root_id, importer, exporter, supplier1, bank_cn, outsider, maturity
):
    children = split(certs, root_id, exporter, [(supplier1, 300_000_00), (exporter, 700_000_00)])
    certs.requestDiscount(children[1], bank_cn.address, 450, sender=exporter)
    registry.freezeParticipant(exporter.address, text_hash("investigation"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        certs.cancelDiscountRequest(children[1], sender=exporter)
    assert certs.discountRequest(children[1]).bank == bank_cn.address

    chain.mine(timestamp=maturity + certs.gracePeriod())
    registry.freezeParticipant(supplier1.address, text_hash("investigation"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=supplier1.address):
        certs.settle([children[0]], sender=supplier1)  # a frozen holder cannot pull its payment
    with reverts_with(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        certs.settle([children[0]], sender=outsider)
    for stranger, error in ((outsider, registry.ParticipantRegistryUnknownParticipant),
                            (supplier1, registry.ParticipantRegistryParticipantFrozen)):
        with reverts_with(error, account=stranger.address):
            certs.recordDefault(root_id, sender=stranger)
    assert [certs.state(c) for c in children] == [CertificateState.Defaulted, CertificateState.Defaulted]
    assert not certs.tree(root_id).defaultRecorded

    certs.recordDefault(root_id, sender=importer)
    assert certs.tree(root_id).defaultRecorded


# ───────────────────────────── Four tiers, end to end ─────────────────────────────


def test_four_tier_supply_chain_everyone_paid_exactly_once(
    chain, desk, certs, usd, importer, exporter, supplier1, supplier2, supplier3, bank_cn, invoice_id, maturity
):
    """Offer to tier 1, accepted; split twice down to tier 3, transfer, discount one child at a bank, pay at
    maturity."""
    watched = (importer, exporter, supplier1, supplier2, supplier3, bank_cn)
    start = {a.address: usd.balanceOf(a.address) for a in watched}

    root = desk.issue_certificate(invoice_id, ROOT, maturity, buyer=importer, seller=exporter)
    # Tier 1 → tier 2: the exporter keeps 400,000.00 and passes 600,000.00 to supplier1.
    tier2, kept = split(certs, root, exporter, [(supplier1, 600_000_00), (exporter, 400_000_00)])
    # Tier 2 → tier 3: supplier1 passes 250,000.00 on to supplier3 (VN) and keeps 350,000.00.
    tier3, tier2_kept = split(certs, tier2, supplier1, [(supplier3, 250_000_00), (supplier1, 350_000_00)])
    # The exporter hands its remaining piece to supplier2 whole.
    certs.transfer(kept, supplier2.address, sender=exporter)
    assert certs.certificate(tier3).parentId == tier2 and certs.certificate(tier2).parentId == root
    second_sibling = certs.lineage(tier2_kept)
    assert (second_sibling.parentId, second_sibling.rootId) == (tier2, root)
    assert (certs.lineage(root).parentId, certs.lineage(root).rootId) == (0, 0)
    assert live_sum(certs, root) == ROOT

    # Tier 3 discounts its piece at bank_cn, 30 days after issue.
    chain.mine(timestamp=maturity - 60 * DAY)
    certs.requestDiscount(tier3, bank_cn.address, 600, sender=supplier3)
    receipt = certs.acceptDiscount(tier3, 600, sender=bank_cn)
    proceeds, days = expected_proceeds(250_000_00, 600, maturity, block_time(chain, receipt))
    assert days == 60 and proceeds == 247_534_24

    # At maturity the core enterprise pays every live piece: each holder exactly its amount.
    chain.mine(timestamp=maturity)
    live = [tier3, tier2_kept, kept]
    receipt = certs.settle(live, sender=importer)
    settled = {e.certificateId: (e.holder, e.amount) for e in certs.CertificateSettled.from_receipt(receipt)}
    assert settled == {
        tier3: (bank_cn.address, 250_000_00),
        tier2_kept: (supplier1.address, 350_000_00),
        kept: (supplier2.address, 400_000_00),
    }
    assert len(certs.CertificateTreePaid.from_receipt(receipt)) == 1
    for cid in live:
        with ape.reverts(certs.PayableCertificatesUnexpectedState, current=CertificateState.Settled):
            certs.settle([cid], sender=importer)

    delta = {a.address: usd.balanceOf(a.address) - start[a.address] for a in watched}
    assert delta == {
        importer.address: -ROOT,
        exporter.address: 0,
        supplier1.address: 350_000_00,
        supplier2.address: 400_000_00,
        supplier3.address: proceeds,
        bank_cn.address: 250_000_00 - proceeds,
    }
    assert desk.invoices.invoice(invoice_id).lienInstrument == ape.utils.ZERO_ADDRESS
