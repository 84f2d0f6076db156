"""Payable certificates: writes only (reads: `/v1/instruments/certificate`).

A caller that is not the party a step needs is answered 403 with the same body whether or not the invoice or the
certificate exists (`app.services.certificates`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.certificates import (
    CertificateOfferCreate,
    CertificateSettlement,
    CertificateSplit,
    CertificateTransfer,
    DiscountAcceptance,
    DiscountRequestCreate,
)
from app.schemas.common import ERROR_RESPONSES
from app.services import certificates as service
from app.services.results import written

router = APIRouter(tags=["certificates"], responses=ERROR_RESPONSES)

CertificateId = Annotated[int, Path(gt=0, lt=2**256, description="The certificate's id")]
RootId = Annotated[int, Path(gt=0, lt=2**256, description="The tree's root certificate id")]
InvoiceId = Annotated[int, Path(ge=0, lt=2**256, description="The invoice the offer is against (decimal)")]


@router.post("/certificates/offers", **written("certificates.offer"),
             summary="Offer the seller of a confirmed invoice a payable certificate against it (the invoice's buyer)",
             description="Nothing is pledged until the seller accepts "
             "(`POST /v1/certificates/offers/{invoice_id}/accept`). Only the invoice's buyer may offer (403 "
             "`PayableCertificatesNotInvoiceBuyer`, the same whether or not the invoice exists), for at most what "
             "is unpaid (409 "
             "`PayableCertificatesAmountExceedsInvoice`), due no later than the invoice (409 "
             "`PayableCertificatesMaturityAfterDueDate`), one offer at a time (409 `PayableCertificatesOfferPending`).")
async def offer_certificate(body: CertificateOfferCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.offer(gateway, ctx, body), ctx)


@router.post("/certificates/offers/{invoice_id}/accept", **written("certificates.issue"),
             summary="Accept the certificate offered on one's invoice: it is issued to the caller (the seller)",
             description="The seller consents to the lien: the root certificate takes the invoice's lien, and while "
             "the tree holds it the part of the invoice it covers is paid only through "
             "`POST /v1/certificates/settle`. Only the invoice's seller may accept (403 "
             "`PayableCertificatesNotInvoiceSeller`, the same whether or not the invoice exists); with no offer "
             "pending, 409 `PayableCertificatesNoOffer`.")
async def accept_certificate_offer(invoice_id: InvoiceId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.accept_offer(gateway, ctx, invoice_id), ctx)


@router.post("/certificates/offers/{invoice_id}/decline", **written("certificates.offer_closed"),
             summary="Decline the certificate offered on one's invoice (the invoice's seller)",
             description="Anyone but the invoice's seller is answered 403 `PayableCertificatesNotInvoiceSeller`, "
             "with the same body whether or not the invoice exists.")
async def decline_certificate_offer(invoice_id: InvoiceId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.decline_offer(gateway, ctx, invoice_id), ctx)


@router.post("/certificates/offers/{invoice_id}/withdraw", **written("certificates.offer_closed"),
             summary="Withdraw one's pending certificate offer (the invoice's buyer)",
             description="Anyone but the invoice's buyer is answered 403 `PayableCertificatesNotInvoiceBuyer`, with "
             "the same body whether or not the invoice exists.")
async def withdraw_certificate_offer(invoice_id: InvoiceId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.withdraw_offer(gateway, ctx, invoice_id), ctx)


@router.post("/certificates/{certificate_id}/transfer", **written("certificates.transfer"),
             summary="Transfer a certificate whole to an active participant (the holder)",
             description="Withdraws any standing discount request. Anyone but the holder is answered 403 "
             "`PayableCertificatesNotHolder`, with the same body whether or not the certificate exists.")
async def transfer_certificate(certificate_id: CertificateId, body: CertificateTransfer, ctx: WriteContextDep,
                               gateway: GatewayDep):
    return respond(await service.transfer(gateway, ctx, certificate_id, body), ctx)


@router.post("/certificates/{certificate_id}/split", **written("certificates.split"),
             summary="Split a certificate into children for the holder's suppliers (the holder)",
             description="The children's amounts must sum to the certificate's (422 "
             "`PayableCertificatesSplitSumMismatch`); the certificate becomes `Split`. Anyone but the holder is "
             "answered 403 `PayableCertificatesNotHolder`, with the same body whether or not the certificate exists.")
async def split_certificate(certificate_id: CertificateId, body: CertificateSplit, ctx: WriteContextDep,
                            gateway: GatewayDep):
    return respond(await service.split(gateway, ctx, certificate_id, body), ctx)


@router.post("/certificates/{certificate_id}/discount-request", **written("certificates.discount_request"),
             summary="Ask a bank to discount a certificate at an annual rate (the holder)",
             description="Replaces any earlier request. Anyone but the holder is answered 403 "
             "`PayableCertificatesNotHolder`, with the same body whether or not the certificate exists.")
async def request_discount(certificate_id: CertificateId, body: DiscountRequestCreate, ctx: WriteContextDep,
                           gateway: GatewayDep):
    return respond(await service.request_discount(gateway, ctx, certificate_id, body), ctx)


@router.post("/certificates/{certificate_id}/discount-request/cancel",
             **written("certificates.discount_cancel"),
             summary="Withdraw the standing discount request (the holder)",
             description="Requests are kept per holder: a caller with no request of its own on the certificate is "
             "answered 409 `PayableCertificatesNoDiscountRequest`, whether or not the certificate exists.")
async def cancel_discount_request(certificate_id: CertificateId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.cancel_discount_request(gateway, ctx, certificate_id), ctx)


@router.post("/certificates/{certificate_id}/discount", **written("certificates.discount"),
             summary="Discount a certificate at the holder's request (the requested bank)",
             description="Pays the holder `amount × (1 − rate × days / 365)` and makes the bank the holder. The "
             "bank must first allow `PayableCertificates` to move the proceeds (`POST /v1/approvals` with "
             "`spender: PayableCertificates` in the certificate's currency). Any bank but the one the holder asked "
             "is answered 403 `PayableCertificatesNotRequestedBank`, with the same body whether or not the "
             "certificate exists.")
async def accept_discount(certificate_id: CertificateId, body: DiscountAcceptance, ctx: WriteContextDep,
                          gateway: GatewayDep):
    return respond(await service.accept_discount(gateway, ctx, certificate_id, body), ctx)


@router.post("/certificates/settle", **written("certificates.settle"),
             summary="Pay due certificates to their holders (the core enterprise, or a holder pulling)",
             description="From maturity on, each listed live certificate is paid its amount from its tree's core "
             "enterprise to its holder, once. A tree paid in full releases its invoice lien. The core enterprise "
             "must first allow `PayableCertificates` to move the amounts (`POST /v1/approvals`). A listed "
             "certificate whose holder or core enterprise the caller is not is answered 403 "
             "`PayableCertificatesNotSettlementParty` (naming that certificate), the same whether or not it exists.")
async def settle_certificates(body: CertificateSettlement, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.settle(gateway, ctx, body), ctx)


@router.post("/certificates/{root_id}/default", **written("certificates.default"),
             summary="Record that a tree is unpaid after maturity plus grace (a party of the tree)",
             description="The `Defaulted` state is visible without this call; it puts the default in the event log. "
             "Open to every participant on chain, but the gateway records it for the tree's parties only (its core "
             "enterprise, the invoice's seller, the holders of its certificates): anyone else is answered 403 "
             "`PayableCertificatesNotTreeParty` before anything is sent, with the same body whether or not the tree "
             "exists (a record that went through would tell it the tree's invoice and what is outstanding).")
async def record_default(root_id: RootId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.record_default(gateway, ctx, root_id), ctx)
