// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {World} from "../utils/World.sol";
import {IInvoiceLiens} from "../../../contracts/interfaces/IInvoiceLiens.sol";
import {IInvoiceRegistry} from "../../../contracts/interfaces/IInvoiceRegistry.sol";
import {ILetterOfCredit} from "../../../contracts/interfaces/ILetterOfCredit.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IPayableCertificates} from "../../../contracts/interfaces/IPayableCertificates.sol";
import {IPaymentRouter} from "../../../contracts/interfaces/IPaymentRouter.sol";
import {IReceivableFinancing} from "../../../contracts/interfaces/IReceivableFinancing.sol";
import {ISettlementToken} from "../../../contracts/interfaces/ISettlementToken.sol";

/// @notice One regression test per finding of `shared/AUDIT-2026-12.md`, named after it: each replays the
/// attack of the audit against the deployed world and asserts the rule of DESIGN.md that now holds. The
/// unranked notes of the audit follow (`test_note_*`).
contract AuditRegressionTest is World {
    uint256 internal constant FACE = 100_000_00;
    uint8 internal constant TRANSPORT = uint8(1) << uint8(ILetterOfCredit.DocumentType.TransportDocument);
    uint8 internal constant COMMERCIAL = uint8(1) << uint8(ILetterOfCredit.DocumentType.CommercialInvoice);
    uint8 internal constant INCONSISTENT = 1 << 6;
    uint8 internal constant OVER_TOLERANCE = 1 << 3;
    uint64 internal due;

    function setUp() public {
        _deployWorld();
        due = uint64(block.timestamp + 90 days);
    }

    // ───────────────────────────── High ─────────────────────────────

    /// H1: after credit A's margin went back to its applicant, a late presentation honoured under A applied
    /// "margin" again, paid out of credit B's escrow.
    function test_H1_marginIsNeverAppliedAfterItsReleaseNorFromAnotherCreditsEscrow() public {
        uint256 a = _advisedCredit(importer, exporter, 100_000_00, 50_000_00);
        uint256 b = _advisedCredit(buyerDe, supplier, 100_000_00, 30_000_00);
        assertEq(usd.balanceOf(address(lc)), 80_000_00, "both margins escrowed");

        vm.warp(block.timestamp + 31 days); // credit A (and B) expired
        uint256 importerBefore = usd.balanceOf(importer);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryUnknownParticipant.selector, outsider)
        );
        vm.prank(outsider);
        lc.releaseMargin(a);
        vm.prank(importer);
        lc.releaseMargin(a);
        assertEq(usd.balanceOf(importer), importerBefore + 50_000_00, "A's margin back to its applicant");

        // The late presentation under A: Expired-discrepant, waived by the applicant, honoured by the bank.
        uint256 p = _present(a, exporter, 100_000_00);
        vm.prank(bankUs);
        lc.examine(a, p, 0);
        vm.prank(importer);
        lc.waive(a, p);
        uint256 bankBefore = usd.balanceOf(bankUs);
        vm.prank(bankUs);
        lc.honour(a, p);

        assertEq(lc.margin(a).applied, 0, "nothing applied after the release");
        assertEq(usd.balanceOf(bankUs), bankBefore - 100_000_00, "the bank paid the drawing, took no margin");
        assertEq(usd.balanceOf(address(lc)), lc.margin(b).held, "the escrow is exactly B's account");
        assertEq(lc.margin(b).held, 30_000_00, "B's margin untouched");
    }

    /// H2: the issuing bank took the invoice's lien at presentation and, having advanced nothing, received the
    /// buyer's invoice payment; it could then refuse the drawing and keep it.
    function test_H2_buyerPaymentNeverReachesAFinancierThatAdvancedNothing() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-H2", FACE, due, true);
        uint256 credit = _advisedCredit(importer, exporter, 60_000_00, 0);
        uint256 p = _presentWithInvoice(credit, exporter, 60_000_00, invoiceId);
        assertEq(invoices.invoice(invoiceId).lienFinancier, bankUs, "the presentation reserves the invoice");

        uint256 bankBefore = usd.balanceOf(bankUs);
        uint256 exporterBefore = usd.balanceOf(exporter);
        vm.prank(importer);
        invoices.pay(invoiceId, 40_000_00); // the part not presented
        assertEq(usd.balanceOf(bankUs), bankBefore, "nothing to the bank that advanced nothing");
        assertEq(usd.balanceOf(exporter), exporterBefore + 40_000_00, "the seller is paid");

        // The presented part is paid through the credit, not directly.
        vm.expectRevert(
            abi.encodeWithSelector(
                ILetterOfCredit.LetterOfCreditInvoiceUnderPresentation.selector, credit, p, invoiceId, 0
            )
        );
        vm.prank(importer);
        invoices.pay(invoiceId, 1);

        // The bank refuses: the lien is released and the buyer's payment goes to the seller again.
        vm.prank(bankUs);
        lc.examine(credit, p, INCONSISTENT);
        vm.prank(bankUs);
        lc.refuse(credit, p);
        vm.prank(importer);
        invoices.pay(invoiceId, 60_000_00);
        assertEq(usd.balanceOf(bankUs), bankBefore, "the refusing bank kept nothing");
        assertEq(usd.balanceOf(exporter), exporterBefore + FACE, "the seller got the whole invoice");
        assertEq(uint8(invoices.state(invoiceId)), uint8(IInvoiceLiens.InvoiceState.Paid), "paid");
    }

    /// H3: a frozen or KYC-lapsed seller (or an operator it approved earlier) handed the receivable to an
    /// accomplice, who financed it.
    function test_H3_aFrozenOrLapsedOwnerCannotAssignTheReceivable() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-H3", FACE, due, true);
        vm.prank(exporter);
        invoices.setApprovalForAll(supplier, true);

        _freeze(exporter);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryParticipantFrozen.selector, exporter)
        );
        vm.prank(supplier);
        invoices.transferFrom(exporter, supplier, invoiceId);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryParticipantFrozen.selector, exporter)
        );
        vm.prank(exporter);
        invoices.transferFrom(exporter, supplier, invoiceId);

        vm.prank(regulator);
        registry.unfreezeParticipant(exporter, keccak256("cleared"));
        vm.prank(bankCn); // the only attestation of the exporter
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Revoked, 0, keccak256("lapsed"));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryKycNotValid.selector, exporter));
        vm.prank(supplier);
        invoices.transferFrom(exporter, supplier, invoiceId);

        // An operator frozen itself cannot move an active owner's receivable either.
        vm.prank(bankCn);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Approved, uint48(block.timestamp + 30 days), 0);
        _freeze(supplier);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryParticipantFrozen.selector, supplier)
        );
        vm.prank(supplier);
        invoices.transferFrom(exporter, buyerDe, invoiceId);
        assertEq(invoices.ownerOf(invoiceId), exporter, "the receivable never moved");
    }

    // ───────────────────────────── Medium ─────────────────────────────

    /// M1: a presentation marked Compliant (or Waived) had no deadline any more: the bank never honoured, and
    /// lien and margin stayed locked.
    function test_M1_aCompliantOrWaivedPresentationNotHonouredIsEnforcedAsForSilence() public {
        uint256 credit = _advisedCredit(importer, exporter, 100_000_00, 0);
        uint256 compliant = _present(credit, exporter, 40_000_00);
        vm.prank(bankUs);
        lc.examine(credit, compliant, 0);
        uint256 deadline = lc.presentation(credit, compliant).examinationDeadline;
        vm.warp(deadline);
        assertEq(_state(credit, compliant), uint8(ILetterOfCredit.PresentationState.Compliant), "on time");
        vm.warp(deadline + 1);
        assertEq(_state(credit, compliant), uint8(ILetterOfCredit.PresentationState.Precluded), "precluded");
        uint256 before = usd.balanceOf(exporter);
        vm.prank(exporter);
        lc.claimPreclusion(credit, compliant);
        assertEq(usd.balanceOf(exporter), before + 40_000_00, "the beneficiary enforced it");

        // Waived: due five banking days after the waiver.
        uint256 waived = _present(credit, exporter, 40_000_00);
        vm.prank(bankUs);
        lc.examine(credit, waived, INCONSISTENT);
        vm.warp(block.timestamp + 20 days); // the applicant waives long after the examination period
        vm.prank(importer);
        lc.waive(credit, waived);
        uint256 waiverDeadline = lc.presentation(credit, waived).examinationDeadline;
        assertTrue(waiverDeadline > block.timestamp + 5 days, "five banking days from the waiver");
        vm.warp(waiverDeadline + 1);
        assertEq(_state(credit, waived), uint8(ILetterOfCredit.PresentationState.Precluded), "waived, not honoured");
        vm.prank(exporter);
        lc.claimPreclusion(credit, waived);
        assertEq(_state(credit, waived), uint8(ILetterOfCredit.PresentationState.Paid), "paid");
    }

    /// M2: the bank declared a coded discrepancy (OVER_TOLERANCE), making the presentation unwaivable, and
    /// `refuse` then left its amount reserved: the credit's capacity was locked for good.
    function test_M2_theBankDeclaresOnlyDocumentaryDiscrepancies() public {
        uint256 credit = _advisedCredit(importer, exporter, 100_000_00, 0);
        uint256 p = _present(credit, exporter, 60_000_00);
        vm.expectRevert(
            abi.encodeWithSelector(ILetterOfCredit.LetterOfCreditInvalidDiscrepancies.selector, OVER_TOLERANCE)
        );
        vm.prank(bankUs);
        lc.examine(credit, p, OVER_TOLERANCE);

        vm.prank(bankUs);
        lc.examine(credit, p, INCONSISTENT);
        vm.prank(bankUs);
        lc.refuse(credit, p);
        assertEq(lc.drawings(credit).reserved, 0, "the refused amount is free again");
        assertEq(lc.drawings(credit).available, 100_000_00, "the whole credit is available");
    }

    /// M3: the buyer pledged the seller's receivable to a certificate tree without the seller's consent, for
    /// any amount and maturity, blocking its factoring and rescheduling its own debt.
    function test_M3_nobodyPledgesAnotherPartysReceivable() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-M3", FACE, due, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayableCertificates.PayableCertificatesMaturityAfterDueDate.selector, uint256(due) + 1, due
            )
        );
        vm.prank(importer);
        certificates.offer(invoiceId, 1, due + 1);

        vm.prank(importer);
        certificates.offer(invoiceId, 1, due);
        assertEq(invoices.invoice(invoiceId).lienFinancier, address(0), "an offer pledges nothing");

        // The seller factors its receivable instead; the offer can no longer be accepted.
        uint256 financingId = _finance(invoiceId, exporter, bankCn, 80_000_00);
        assertEq(uint8(financing.financing(financingId).state), uint8(IReceivableFinancing.FinancingState.Active));
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayableCertificates.PayableCertificatesInvoiceNotConfirmed.selector,
                invoiceId,
                IInvoiceLiens.InvoiceState.Financed
            )
        );
        vm.prank(exporter);
        certificates.acceptOffer(invoiceId);
    }

    /// M4: authority was checked by kind, not by role: a regulator whose role was revoked still switched
    /// large-value reporting off; a bank whose role was revoked still minted.
    function test_M4_revokingARoleRevokesEveryPowerOfThatRole() public {
        bytes32 regulatorRole = registry.REGULATOR_ROLE();
        bytes32 bankRole = registry.BANK_ROLE();
        vm.startPrank(operator);
        registry.revokeRole(regulatorRole, regulator);
        registry.revokeRole(bankRole, bankCn);
        vm.stopPrank();

        bytes memory notRegulator =
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, regulator, regulatorRole);
        vm.expectRevert(notRegulator);
        vm.prank(regulator);
        usd.setLargeValueThreshold(0);
        vm.expectRevert(notRegulator);
        vm.prank(regulator);
        registry.freezeParticipant(exporter, keccak256("x"));

        bytes memory notBank =
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bankCn, bankRole);
        vm.expectRevert(notBank);
        vm.prank(bankCn);
        usd.mint(bankCn, 1, 0);
        vm.expectRevert(notBank);
        vm.prank(bankCn);
        registry.attestKyc(importer, IParticipantRegistry.KycStatus.Approved, uint48(block.timestamp + 1 days), 0);
        // Its membership is gone too: it can neither send nor receive settlement tokens.
        vm.expectRevert();
        vm.prank(bankCn);
        usd.transfer(exporter, 1);
        uint256 invoiceId = _invoice(exporter, importer, "INV-M4", FACE, due, true);
        vm.prank(exporter);
        uint256 financingId = financing.applyForFinancing(invoiceId, bankUs, 50_000_00);
        vm.expectRevert(notBank);
        vm.prank(exporter);
        financing.applyForFinancing(invoiceId, bankCn, 50_000_00);
        vm.prank(bankUs);
        financing.approve(financingId, 50_000_00, 500, due, 0); // the other bank keeps every power
    }

    /// M5: any bank overwrote another bank's valid KYC approval (with an expiry one second away), knocking the
    /// corporate out of the platform.
    function test_M5_aBankCannotOverwriteOrShortenAnotherBanksKyc() public {
        uint48 cnExpiry = registry.kycAttestation(exporter, bankCn).expiry;
        vm.prank(bankUs);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Approved, uint48(block.timestamp + 1), 0);
        vm.prank(bankUs);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Revoked, 0, 0);
        vm.warp(block.timestamp + 2);
        assertTrue(registry.isActive(exporter), "bank CN's approval stands");
        assertEq(registry.kycAttestation(exporter, bankCn).expiry, cnExpiry, "untouched");
        assertEq(registry.participant(exporter).kycExpiry, cnExpiry, "valid until bank CN's expiry");

        // The regulator may still revoke every attestation.
        vm.prank(regulator);
        registry.revokeKyc(exporter, keccak256("sanctions"));
        assertFalse(registry.isActive(exporter), "revoked by the regulator");
    }

    /// M6: presenting documents took no lien: an invoice factored at bank B was drawn in full under a credit
    /// at bank A, and the seller was paid twice.
    function test_M6_anInvoiceFinancedElsewhereCannotBeDrawnUnderACredit() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-M6", FACE, due, true);
        _finance(invoiceId, exporter, bankCn, 90_000_00);
        uint256 credit = _advisedCredit(importer, exporter, uint96(FACE), 0);

        ILetterOfCredit.Document[] memory docs = _documents(true);
        vm.expectRevert(abi.encodeWithSelector(ILetterOfCredit.LetterOfCreditInvoiceRequired.selector, credit));
        vm.prank(exporter);
        lc.present(credit, docs, uint40(block.timestamp), uint96(FACE));

        vm.expectRevert(
            abi.encodeWithSelector(
                IInvoiceLiens.InvoiceRegistryLienAlreadyHeld.selector, invoiceId, address(financing), bankCn
            )
        );
        vm.prank(exporter);
        lc.presentWithInvoice(credit, docs, uint40(block.timestamp), uint96(FACE), invoiceId);
    }

    // ───────────────────────────── Low ─────────────────────────────

    /// L1: a financing the regulator froze was still repaid and closed by the buyer's payment.
    function test_L1_aFrozenFinancingIsNotRepaidByTheBuyersPayment() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-L1", FACE, due, true);
        uint256 financingId = _finance(invoiceId, exporter, bankCn, 80_000_00);
        _freezeInstrument(address(financing), financingId);
        uint256 bankBefore = usd.balanceOf(bankCn);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableFinancing.ReceivableFinancingFrozen.selector, financingId)
        );
        vm.prank(importer);
        invoices.pay(invoiceId, FACE);
        assertEq(usd.balanceOf(bankCn), bankBefore, "nothing moved");
        assertEq(uint8(financing.financing(financingId).state), uint8(IReceivableFinancing.FinancingState.Active));
    }

    /// L2: financing was capped by the face amount, not by what is unpaid: 100k advanced against 10k.
    function test_L2_financingIsCappedByWhatIsStillUnpaid() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-L2", FACE, due, true);
        vm.prank(importer);
        invoices.pay(invoiceId, 90_000_00);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableFinancing.ReceivableFinancingAboveOutstanding.selector, invoiceId, FACE, 10_000_00
            )
        );
        vm.prank(exporter);
        financing.applyForFinancing(invoiceId, bankCn, FACE);

        vm.prank(exporter);
        uint256 financingId = financing.applyForFinancing(invoiceId, bankCn, 10_000_00);
        vm.prank(importer);
        invoices.pay(invoiceId, 5_000_00); // paid down between application and approval
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableFinancing.ReceivableFinancingAboveOutstanding.selector, invoiceId, 10_000_00, 5_000_00
            )
        );
        vm.prank(bankCn);
        financing.approve(financingId, 10_000_00, 500, due, 0);
    }

    /// L3: a zero buyer in the first position of a batch skipped every buyer check.
    function test_L3_aZeroBuyerIsRefusedInEveryBatchPosition() public {
        bytes32 corporateRole = registry.CORPORATE_ROLE();
        for (uint256 position; position < 2; ++position) {
            IInvoiceRegistry.InvoiceInput[] memory batch = new IInvoiceRegistry.InvoiceInput[](2);
            for (uint256 i; i < 2; ++i) {
                batch[i] = IInvoiceRegistry.InvoiceInput({
                    buyer: i == position ? address(0) : importer,
                    currency: address(usd),
                    invoiceNumber: bytes32(abi.encodePacked("INV-L3-", bytes1(uint8(0x30 + 2 * position + i)))),
                    faceAmount: FACE,
                    issueDate: uint64(block.timestamp),
                    dueDate: due,
                    documentHash: keccak256("doc")
                });
            }
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(0), corporateRole)
            );
            vm.prank(exporter);
            invoices.registerBatch(batch);
        }
    }

    /// L4: a presentation made on a Saturday got a deadline one banking day short.
    function test_L4_aWeekendPresentationCountsFromTheNextBankingDay() public {
        uint256 credit = _advisedCredit(importer, exporter, 100_000_00, 0);
        uint256 day = block.timestamp / 1 days;
        while ((day + 3) % 7 != 5) ++day; // the next Saturday
        vm.warp(day * 1 days + 10 hours);
        uint256 p = _present(credit, exporter, 10_000_00);
        // Received Saturday, deemed received Monday (day + 2); five banking days following: next Monday.
        uint256 expected = (day + 2 + 7 + 1) * 1 days - 1;
        assertEq(lc.presentation(credit, p).examinationDeadline, expected, "end of the Monday after next");
        vm.warp(expected);
        vm.prank(bankUs);
        lc.examine(credit, p, 0); // still in time
    }

    /// L5: a freeze blocked `examine`, but the five-day clock kept running: the bank was precluded while it
    /// was not allowed to act.
    function test_L5_aFreezeExtendsTheBanksDeadlineByTheTimeFrozen() public {
        uint256 credit = _advisedCredit(importer, exporter, 100_000_00, 0);
        uint256 p = _present(credit, exporter, 10_000_00);
        uint256 deadline = lc.presentation(credit, p).examinationDeadline;
        vm.warp(block.timestamp + 1 days);
        _freezeInstrument(address(lc), credit);
        vm.warp(block.timestamp + 3 days);
        _unfreezeInstrument(address(lc), credit);
        assertEq(lc.presentation(credit, p).examinationDeadline, deadline + 3 days, "extended by the freeze");
        vm.warp(deadline + 1);
        assertEq(_state(credit, p), uint8(ILetterOfCredit.PresentationState.Presented), "not precluded");
        vm.prank(bankUs);
        lc.examine(credit, p, 0);
    }

    /// L6: an application under a reverse-factoring programme the buyer had closed was still approved.
    function test_L6_aClosedProgrammeApprovesNothing() public {
        vm.prank(importer);
        uint256 programmeId = financing.proposeProgramme(bankCn, 400, 1_000_000_00);
        vm.prank(bankCn);
        financing.acceptProgramme(programmeId);
        uint256 invoiceId = _invoice(exporter, importer, "INV-L6", FACE, due, true);
        vm.prank(exporter);
        uint256 financingId = financing.applyUnderProgramme(invoiceId, programmeId, 50_000_00);
        vm.prank(importer);
        financing.closeProgramme(programmeId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableFinancing.ReceivableFinancingUnexpectedProgrammeState.selector,
                programmeId,
                IReceivableFinancing.ProgrammeState.Closed,
                bytes32(uint256(1) << uint8(IReceivableFinancing.ProgrammeState.Open))
            )
        );
        vm.prank(bankCn);
        financing.approve(financingId, 50_000_00, 400, due, 0);
    }

    /// L7: any attester (a carrier) overwrote a customs mismatch, defeating a bank's customs-match policy.
    function test_L7_onlyItsAttesterOrACustomsAuthorityReplacesACustomsDeclaration() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-L7", FACE, due, true);
        vm.prank(carrier);
        invoices.attestCustoms(invoiceId, keccak256("decl-1"), FACE - 1); // a mismatch
        vm.prank(bankCn);
        financing.setCustomsMatchRequired(true);

        // Another carrier-like attester cannot overwrite; the customs authority can, and the policy sees it.
        address inspector = makeAddr("inspector");
        _register(inspector, IParticipantRegistry.ParticipantKind.Attester, "CN");
        vm.expectRevert(
            abi.encodeWithSelector(
                IInvoiceRegistry.InvoiceRegistryNotCustomsAttester.selector, invoiceId, carrier, inspector
            )
        );
        vm.prank(inspector);
        invoices.attestCustoms(invoiceId, keccak256("decl-2"), FACE);

        vm.prank(exporter);
        uint256 financingId = financing.applyForFinancing(invoiceId, bankCn, 50_000_00);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableFinancing.ReceivableFinancingCustomsMatchRequired.selector, invoiceId)
        );
        vm.prank(bankCn);
        financing.approve(financingId, 50_000_00, 500, due, 0);

        vm.prank(customs);
        invoices.attestCustoms(invoiceId, keccak256("decl-3"), FACE);
        (, bool matched) = invoices.customsOf(invoiceId);
        assertTrue(matched, "the latest declaration matches");
        vm.prank(bankCn);
        financing.approve(financingId, 50_000_00, 500, due, 0);
    }

    // ───────────────────────────── Design weaknesses and notes ─────────────────────────────

    /// Every instrument that can hold a lien implements the payment hook: the operator cannot register one
    /// that does not (an instrument without it was owed every payment, H2's root).
    function test_lienInstrumentsMustImplementThePaymentHook() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryMissingPaymentHook.selector, address(router))
        );
        vm.prank(operator);
        invoices.setInstrument(address(router), true);
    }

    /// Nobody pledges another's receivable, whatever the instrument: the registry checks that the party that
    /// consented in the instrument owns the invoice.
    function test_aLienNeedsTheConsentOfTheInvoicesOwner() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-CONSENT", FACE, due, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInvoiceLiens.InvoiceRegistryCreditorMismatch.selector, invoiceId, exporter, importer
            )
        );
        vm.prank(address(financing));
        invoices.takeLien(invoiceId, importer, bankCn);
    }

    function test_note_aCreditsCurrencyIsAnAcceptedSettlementToken() public {
        ILetterOfCredit.Terms memory t = _terms(exporter, 100_000_00);
        t.currency = address(router);
        vm.expectRevert(abi.encodeWithSelector(ILetterOfCredit.LetterOfCreditInvalidCurrency.selector, address(router)));
        vm.prank(importer);
        lc.applyForCredit(t);
    }

    function test_note_aFinancingsDebtIsCappedSoItCanAlwaysClose() public {
        uint256 face = type(uint48).max;
        vm.prank(bankCn);
        usd.mint(bankCn, face, 0);
        uint256 invoiceId = _invoice(exporter, importer, "INV-BIG", face, due, true);
        uint256 financingId = _finance(invoiceId, exporter, bankCn, face);
        vm.warp(block.timestamp + 10 * 365 days);
        uint256 owed = financing.owed(financingId);
        assertEq(owed, face, "capped at 2**48 - 1");
        vm.prank(bankCn);
        financing.recordRepayment(financingId, owed, keccak256("wire"));
        assertEq(uint8(financing.financing(financingId).state), uint8(IReceivableFinancing.FinancingState.Closed));
    }

    function test_note_anFxQuoteNamesItsPayer() public {
        uint256 bankKey = 0xB4A7;
        address fxBank = vm.addr(bankKey);
        _register(fxBank, IParticipantRegistry.ParticipantKind.Bank, "US");
        IPaymentRouter.FxQuote memory quote = IPaymentRouter.FxQuote({
            bank: fxBank,
            payer: address(0),
            baseToken: address(cny),
            quoteToken: address(usd),
            rate: 0.14e18,
            maxBaseAmount: 1_000_00,
            expiry: uint64(block.timestamp + 1 hours),
            nonce: 1
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(bankKey, router.hashQuote(quote));
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentRouter.PaymentRouterQuoteNotForPayer.selector, address(0), importer)
        );
        vm.prank(importer);
        router.payWithQuote(quote, abi.encodePacked(r, s, v), exporter, 1, "GDDS", 0);
    }

    function test_note_anIdentityIsNeverZeroRegistersOnceAndLinksItsWallets() public {
        address second = makeAddr("exporter-second-wallet");
        vm.expectRevert(IParticipantRegistry.ParticipantRegistryInvalidIdentity.selector);
        vm.prank(operator);
        registry.registerParticipant(second, IParticipantRegistry.ParticipantKind.Corporate, "CN", 0);
        bytes32 exporterIdentity = registry.identityHashOf(exporter);
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantRegistry.ParticipantRegistryIdentityTaken.selector, exporterIdentity, exporter
            )
        );
        vm.prank(operator);
        registry.registerParticipant(second, IParticipantRegistry.ParticipantKind.Corporate, "CN", exporterIdentity);

        vm.prank(operator);
        registry.linkWallet(second, exporter);
        assertTrue(registry.isActive(second), "the linked wallet shares the identity's KYC");
        uint256 invoiceId = _invoice(exporter, importer, "INV-DUP", FACE, due, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInvoiceRegistry.InvoiceRegistryAlreadyRegistered.selector, bytes32(invoiceId), invoiceId
            )
        );
        vm.prank(second);
        invoices.register(importer, address(usd), "inv-dup", FACE, uint64(block.timestamp), due, 0);
        _freeze(exporter);
        assertFalse(registry.isActive(second), "a freeze holds every wallet of the identity");
    }

    function test_note_anInvoiceNumberHasOneCanonicalEncoding() public {
        assertEq(invoices.canonicalInvoiceNumber("inv-7"), bytes32("INV-7"), "folded to upper case");
        bytes32 hashed = keccak256("INV-7");
        vm.expectRevert(abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryInvalidInvoiceNumber.selector, hashed));
        invoices.canonicalInvoiceNumber(hashed);
        vm.expectRevert(
            abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryInvalidInvoiceNumber.selector, bytes32("INV 7"))
        );
        invoices.canonicalInvoiceNumber("INV 7");
        vm.expectRevert(
            abi.encodeWithSelector(IInvoiceRegistry.InvoiceRegistryInvalidInvoiceNumber.selector, bytes32(0))
        );
        invoices.canonicalInvoiceNumber(bytes32(0));
    }

    /// A frozen certificate tree stays as the regulator found it: no default is recorded on it and no pending
    /// discount request is withdrawn (found by the cross-instrument review of this change).
    function test_note_aFrozenCertificateTreeRecordsNoDefaultAndKeepsItsRequests() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-FRZ-CERT", FACE, due, true);
        vm.prank(importer);
        certificates.offer(invoiceId, 50_000_00, due);
        vm.prank(exporter);
        uint256 rootId = certificates.acceptOffer(invoiceId);
        vm.prank(exporter);
        certificates.requestDiscount(rootId, bankCn, 500);
        _freezeInstrument(address(certificates), rootId);

        bytes memory frozen = abi.encodeWithSelector(IPayableCertificates.PayableCertificatesFrozen.selector, rootId);
        vm.expectRevert(frozen);
        vm.prank(exporter);
        certificates.cancelDiscountRequest(rootId);

        vm.warp(uint256(due) + CERTIFICATE_GRACE_PERIOD + 1);
        vm.expectRevert(frozen);
        vm.prank(bankCn);
        certificates.recordDefault(rootId);

        _unfreezeInstrument(address(certificates), rootId);
        vm.prank(bankCn);
        certificates.recordDefault(rootId);
        vm.prank(exporter);
        certificates.cancelDiscountRequest(rootId);
    }

    /// A lien is neither given by nor for a frozen party: the creditor consents and the financier receives
    /// the routed payments, so both must be active when it is taken.
    function test_note_aLienNeedsAnActiveCreditorAndFinancier() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-LIEN-FRZ", FACE, due, true);
        vm.prank(exporter);
        uint256 financingId = financing.applyForFinancing(invoiceId, bankCn, 80_000_00);
        _freeze(exporter);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryParticipantFrozen.selector, exporter)
        );
        vm.prank(bankCn);
        financing.approve(financingId, 80_000_00, 500, due, keccak256("terms"));
        assertEq(invoices.invoice(invoiceId).lienFinancier, address(0), "no lien");
    }

    /// H2 with the split payment: one token call pays the financier and the owner, and a frozen owner stops
    /// the whole payment (nothing reaches the financier either).
    function test_H2_aSplitPaymentMovesBothSharesOrNothing() public {
        uint256 invoiceId = _invoice(exporter, importer, "INV-SPLIT", FACE, due, true);
        _finance(invoiceId, exporter, bankCn, 80_000_00);
        uint256 bankBefore = usd.balanceOf(bankCn);
        uint256 sellerBefore = usd.balanceOf(exporter);
        _freeze(exporter);
        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SettlementTokenInactiveParty.selector, exporter));
        vm.prank(importer);
        invoices.pay(invoiceId, FACE);
        assertEq(usd.balanceOf(bankCn), bankBefore, "nothing to the financier");

        vm.prank(regulator);
        registry.unfreezeParticipant(exporter, "CLEARED");
        vm.prank(importer);
        invoices.pay(invoiceId, FACE);
        uint256 toBank = usd.balanceOf(bankCn) - bankBefore;
        assertEq(toBank + usd.balanceOf(exporter) - sellerBefore, FACE, "the whole payment, split");
        assertEq(toBank, financing.financing(1).repaidAmount, "the financier is paid what it was owed");
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    function _terms(address beneficiary, uint96 amount) internal view returns (ILetterOfCredit.Terms memory) {
        return ILetterOfCredit.Terms({
            beneficiary: beneficiary,
            issuingBank: bankUs,
            advisingBank: bankCn,
            confirmingBank: address(0),
            currency: address(usd),
            amount: amount,
            tolerancePercent: 0,
            expiryDate: uint40(block.timestamp + 30 days),
            latestShipmentDate: uint40(block.timestamp + 20 days),
            presentationPeriodDays: 0,
            partialShipmentsAllowed: true,
            availability: ILetterOfCredit.Availability.SightPayment,
            deferredPaymentDays: 0,
            requiredDocuments: TRANSPORT
        });
    }

    function _advisedCredit(address applicant, address beneficiary, uint96 amount, uint256 marginAmount)
        internal
        returns (uint256 credit)
    {
        vm.prank(applicant);
        credit = lc.applyForCredit(_terms(beneficiary, amount));
        vm.prank(bankUs);
        lc.issue(credit, marginAmount);
        vm.prank(bankCn);
        lc.advise(credit);
    }

    function _documents(bool withInvoice) internal pure returns (ILetterOfCredit.Document[] memory docs) {
        docs = new ILetterOfCredit.Document[](withInvoice ? 2 : 1);
        docs[0] = ILetterOfCredit.Document(ILetterOfCredit.DocumentType.TransportDocument, keccak256("bill of lading"));
        if (withInvoice) {
            docs[1] = ILetterOfCredit.Document(ILetterOfCredit.DocumentType.CommercialInvoice, keccak256("invoice"));
        }
    }

    function _present(uint256 credit, address beneficiary, uint96 amount) internal returns (uint256) {
        vm.prank(beneficiary);
        return lc.present(credit, _documents(false), uint40(block.timestamp), amount);
    }

    function _presentWithInvoice(uint256 credit, address beneficiary, uint96 amount, uint256 invoiceId)
        internal
        returns (uint256)
    {
        vm.prank(beneficiary);
        return lc.presentWithInvoice(credit, _documents(true), uint40(block.timestamp), amount, invoiceId);
    }

    function _finance(uint256 invoiceId, address seller, address bank, uint256 advance)
        internal
        returns (uint256 financingId)
    {
        vm.prank(seller);
        financingId = financing.applyForFinancing(invoiceId, bank, advance);
        vm.prank(bank);
        financing.approve(financingId, advance, 500, due, keccak256("terms"));
    }

    function _state(uint256 credit, uint256 p) internal view returns (uint8) {
        return uint8(lc.presentationState(credit, p));
    }

    function assertEq(uint256 a, uint256 b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        vm.assertEq(a, b, "");
    }

    function assertEq(bytes32 a, bytes32 b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(address a, address b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertTrue(bool c, string memory err) internal pure {
        vm.assertTrue(c, err);
    }

    function assertFalse(bool c, string memory err) internal pure {
        vm.assertFalse(c, err);
    }
}
