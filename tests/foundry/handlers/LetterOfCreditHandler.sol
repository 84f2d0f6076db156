// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {InvoiceRegistry} from "../../../contracts/InvoiceRegistry.sol";
import {LetterOfCredit} from "../../../contracts/LetterOfCredit.sol";
import {IInvoiceLiens} from "../../../contracts/interfaces/IInvoiceLiens.sol";
import {ILetterOfCredit} from "../../../contracts/interfaces/ILetterOfCredit.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";

/// @notice Bounded actions on letters of credit between one applicant, one beneficiary, an issuing and an
/// advising bank. Every action either makes a call the contract must accept, or (`honourAny`, the bank's
/// examination with coded discrepancies, the applicant's direct invoice payments) tries a call that may be
/// refused and catches the refusal, recording any outcome the rules forbid.
/// @dev Presentations whose documents include the commercial invoice name a freshly registered invoice of
/// the beneficiary on the applicant (`presentWithInvoice`); the others use `present`.
contract LetterOfCreditHandler is Test {
    LetterOfCredit internal immutable lc;
    InvoiceRegistry internal immutable invoices;
    SettlementToken internal immutable token;
    address internal immutable applicant;
    address internal immutable beneficiary;
    address internal immutable issuingBank;
    address internal immutable advisingBank;

    uint256 internal constant MAX_CREDITS = 3;
    uint256 internal constant MAX_PRESENTATIONS = 8;
    uint8 internal constant COMMERCIAL_INVOICE = 1;

    struct InvoicePresentation {
        uint256 lcId;
        uint256 presentationId;
        uint256 invoiceId;
    }

    uint256[] public creditIds;
    InvoicePresentation[] internal _invoicePresentations;
    uint256 internal _invoiceNumber;
    mapping(uint256 lcId => uint256) public ghostHonoured;
    mapping(uint256 invoiceId => uint256) public ghostPaidDirectly;
    uint256 public ghostPaid; // sum of every payment to the beneficiary by the credit
    uint256 public ghostPaidDirectlyTotal; // sum of the applicant's direct invoice payments (to the beneficiary)
    uint256 public ghostForbiddenHonours; // honours that succeeded from a state other than Compliant/Waived/Precluded
    uint256 public ghostForbiddenDiscrepancies; // examinations accepted with a code other than INCONSISTENT_DATA
    uint256 public ghostBypassedPresentations; // direct invoice payments that ate into a presented amount

    constructor(
        LetterOfCredit lc_,
        InvoiceRegistry invoices_,
        SettlementToken token_,
        address applicant_,
        address beneficiary_,
        address issuingBank_,
        address advisingBank_
    ) {
        lc = lc_;
        invoices = invoices_;
        token = token_;
        applicant = applicant_;
        beneficiary = beneficiary_;
        issuingBank = issuingBank_;
        advisingBank = advisingBank_;
    }

    function creditCount() external view returns (uint256) {
        return creditIds.length;
    }

    function invoicePresentationCount() external view returns (uint256) {
        return _invoicePresentations.length;
    }

    function invoicePresentation(uint256 i) external view returns (uint256 lcId, uint256 presentationId, uint256 invoiceId) {
        InvoicePresentation memory p = _invoicePresentations[i];
        return (p.lcId, p.presentationId, p.invoiceId);
    }

    // ───────────────────────────── Credits ─────────────────────────────

    function openCredit(uint96 amountSeed, uint8 tolSeed, bool partialAllowed, bool deferred, uint96 marginSeed)
        external
    {
        if (creditIds.length >= MAX_CREDITS) return;
        uint96 amount = uint96(bound(amountSeed, 1, 1_000_000_00));
        uint256 today = block.timestamp / 1 days;
        ILetterOfCredit.Terms memory t = ILetterOfCredit.Terms({
            beneficiary: beneficiary,
            issuingBank: issuingBank,
            advisingBank: advisingBank,
            confirmingBank: address(0),
            currency: address(token),
            amount: amount,
            tolerancePercent: uint8(bound(tolSeed, 0, 10)),
            expiryDate: uint40((today + 60) * 1 days),
            latestShipmentDate: uint40((today + 30) * 1 days),
            presentationPeriodDays: 0,
            partialShipmentsAllowed: partialAllowed,
            availability: deferred ? ILetterOfCredit.Availability.DeferredPayment : ILetterOfCredit.Availability.SightPayment,
            deferredPaymentDays: deferred ? 30 : 0,
            requiredDocuments: 7
        });
        vm.prank(applicant);
        uint256 lcId = lc.applyForCredit(t);
        vm.prank(issuingBank);
        lc.issue(lcId, bound(marginSeed, 0, amount));
        vm.prank(advisingBank);
        lc.advise(lcId);
        creditIds.push(lcId);
    }

    /// @dev Amendments stay within twice the first ceiling, so the parties' purses always cover the credits.
    function amend(uint256 creditSeed, uint96 amountSeed, uint8 extraDays) external {
        (bool found, uint256 lcId) = _credit(creditSeed);
        if (!found || !_operative(lcId)) return;
        (bool pending,,) = lc.pendingAmendment(lcId);
        if (pending) return;
        ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
        ILetterOfCredit.Terms memory t = lc.terms(lcId);
        uint256 committed = d.drawn + d.reserved;
        uint256 floor = committed == 0 ? 1 : committed;
        uint256 ceiling = 2_000_000_00 > floor ? 2_000_000_00 : floor;
        uint96 newAmount = uint96(bound(amountSeed, floor, ceiling));
        ILetterOfCredit.Amendment memory a = ILetterOfCredit.Amendment({
            amount: newAmount,
            expiryDate: uint40(t.expiryDate + bound(extraDays, 0, 30) * 1 days),
            latestShipmentDate: t.latestShipmentDate,
            requiredDocuments: t.requiredDocuments
        });
        vm.prank(issuingBank);
        lc.proposeAmendment(lcId, a);
        vm.prank(beneficiary);
        lc.acceptAmendment(lcId);
    }

    function cancel(uint256 creditSeed) external {
        if (creditSeed % 4 != 0) return; // rarely: a cancelled credit ends the story early
        (bool found, uint256 lcId) = _credit(creditSeed / 4);
        if (!found || !_operative(lcId)) return;
        (, uint256 open) = lc.presentationCounts(lcId);
        if (open != 0) return;
        vm.prank(issuingBank);
        lc.requestCancellation(lcId);
        vm.prank(beneficiary);
        lc.consentToCancellation(lcId);
    }

    /// @dev Anyone active may release a finished credit's margin; the applicant does it here.
    function releaseMargin(uint256 creditSeed) external {
        (bool found, uint256 lcId) = _credit(creditSeed);
        if (!found) return;
        ILetterOfCredit.CreditState s = lc.state(lcId);
        if (
            s != ILetterOfCredit.CreditState.Expired && s != ILetterOfCredit.CreditState.Exhausted
                && s != ILetterOfCredit.CreditState.Cancelled
        ) return;
        (, uint256 open) = lc.presentationCounts(lcId);
        if (open != 0 || lc.margin(lcId).held == 0) return;
        vm.prank(applicant);
        lc.releaseMargin(lcId);
    }

    // ───────────────────────────── Presentations ─────────────────────────────

    /// @dev Documents with the commercial invoice go with a registered invoice of the beneficiary on the
    /// applicant for at least the amount (M6); documents without it go alone.
    function present(uint256 creditSeed, uint96 amountSeed, uint256 shipSeed, uint8 docsSeed, uint256 extraSeed)
        external
    {
        (bool found, uint256 lcId) = _credit(creditSeed);
        if (!found) return;
        ILetterOfCredit.CreditState s = lc.state(lcId);
        if (s != ILetterOfCredit.CreditState.Advised && s != ILetterOfCredit.CreditState.Expired) return;
        (uint256 total,) = lc.presentationCounts(lcId);
        if (total >= MAX_PRESENTATIONS) return;
        ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
        // Mostly within what is available, sometimes beyond the ceiling.
        uint256 cap = amountSeed % 5 == 0 ? d.ceiling + d.ceiling / 5 + 1 : (d.available == 0 ? 1 : d.available);
        uint96 amount = uint96(bound(amountSeed, 1, cap));
        uint40 shipment = uint40(block.timestamp - bound(shipSeed, 0, 25 days));
        uint8 docs = docsSeed < 128 ? 7 : uint8(bound(docsSeed, 1, 63)); // mostly the required set
        ILetterOfCredit.Document[] memory list = _documents(lcId, docs);
        if (docs & COMMERCIAL_INVOICE == 0) {
            vm.prank(beneficiary);
            lc.present(lcId, list, shipment, amount);
            return;
        }
        uint256 face = amount + (extraSeed % 2 == 0 ? 0 : bound(extraSeed, 1, 1_000_00));
        vm.prank(beneficiary);
        uint256 invoiceId = invoices.register(
            applicant,
            address(token),
            invoiceNumber("LC-", ++_invoiceNumber),
            face,
            uint64(block.timestamp),
            uint64(block.timestamp + 120 days),
            keccak256(abi.encode(_invoiceNumber))
        );
        vm.prank(beneficiary);
        uint256 pid = lc.presentWithInvoice(lcId, list, shipment, amount, invoiceId);
        _invoicePresentations.push(InvoicePresentation(lcId, pid, invoiceId));
    }

    /// @dev The bank examines with only the documentary discrepancy, after trying a coded one (refused, M2).
    function examine(uint256 creditSeed, uint256 presentationSeed, uint8 codesSeed, bool clean) external {
        (bool found, uint256 lcId, uint256 pid) = _presentation(creditSeed, presentationSeed);
        if (!found || lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Presented) return;
        uint8 coded = uint8(bound(codesSeed, 1, 0x3f)); // any of the six codes the contract computes
        uint8 documentary = clean ? 0 : lc.DISCREPANCY_INCONSISTENT_DATA();
        vm.prank(issuingBank);
        try lc.examine(lcId, pid, coded) {
            ++ghostForbiddenDiscrepancies;
            return;
        } catch {}
        vm.prank(issuingBank);
        lc.examine(lcId, pid, documentary);
    }

    function waive(uint256 creditSeed, uint256 presentationSeed) external {
        (bool found, uint256 lcId, uint256 pid) = _presentation(creditSeed, presentationSeed);
        if (!found || lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Discrepant) return;
        if (lc.presentation(lcId, pid).discrepancies & lc.DISCREPANCY_OVER_TOLERANCE() != 0) return;
        vm.prank(applicant);
        lc.waive(lcId, pid);
    }

    function refuse(uint256 creditSeed, uint256 presentationSeed) external {
        (bool found, uint256 lcId, uint256 pid) = _presentation(creditSeed, presentationSeed);
        if (!found || lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Discrepant) return;
        vm.prank(issuingBank);
        lc.refuse(lcId, pid);
    }

    /// @dev Tries to honour any presentation, whatever its state; a refusal is expected and caught.
    function honourAny(uint256 creditSeed, uint256 presentationSeed, bool asBeneficiary) external {
        (bool found, uint256 lcId, uint256 pid) = _presentation(creditSeed, presentationSeed);
        if (!found) return;
        ILetterOfCredit.PresentationState before = lc.presentationState(lcId, pid);
        uint256 amount = lc.presentation(lcId, pid).amount;
        bool sight = lc.terms(lcId).availability == ILetterOfCredit.Availability.SightPayment;
        bool ok;
        if (asBeneficiary) {
            vm.prank(beneficiary);
            try lc.claimPreclusion(lcId, pid) {
                ok = true;
            } catch {}
        } else {
            vm.prank(issuingBank);
            try lc.honour(lcId, pid) {
                ok = true;
            } catch {}
        }
        if (!ok) return;
        if (
            before != ILetterOfCredit.PresentationState.Compliant && before != ILetterOfCredit.PresentationState.Waived
                && before != ILetterOfCredit.PresentationState.Precluded
        ) ++ghostForbiddenHonours;
        if (asBeneficiary && before != ILetterOfCredit.PresentationState.Precluded) ++ghostForbiddenHonours;
        ghostHonoured[lcId] += amount;
        if (sight) ghostPaid += amount;
    }

    /// @dev Anyone active may pay a matured deferred payment; the beneficiary does it here.
    function payAtMaturity(uint256 creditSeed, uint256 presentationSeed) external {
        (bool found, uint256 lcId, uint256 pid) = _presentation(creditSeed, presentationSeed);
        if (!found || lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Honoured) return;
        ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
        if (block.timestamp < p.maturityDate) return;
        vm.prank(beneficiary);
        lc.payAtMaturity(lcId, pid);
        ghostPaid += p.amount;
    }

    /// @dev The applicant pays a presented invoice directly in the registry: only what the presentation
    /// does not claim may be paid so (H2: it goes to the beneficiary, never to the bank); more is refused.
    function payInvoiceDirectly(uint256 seed, uint256 amount) external {
        if (_invoicePresentations.length == 0) return;
        InvoicePresentation memory ip = _invoicePresentations[seed % _invoicePresentations.length];
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(ip.invoiceId);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        if (outstanding == 0) return;
        uint256 committed = inv.lienInstrument == address(lc) ? lc.presentation(ip.lcId, ip.presentationId).amount : 0;
        uint256 payableDirectly = outstanding > committed ? outstanding - committed : 0;
        amount = bound(amount, 1, outstanding);
        uint256 bankBefore = token.balanceOf(issuingBank);
        vm.prank(applicant);
        try invoices.pay(ip.invoiceId, amount) {
            ghostPaidDirectly[ip.invoiceId] += amount;
            ghostPaidDirectlyTotal += amount;
            if (amount > payableDirectly || token.balanceOf(issuingBank) != bankBefore) ++ghostBypassedPresentations;
        } catch {
            if (amount <= payableDirectly) ++ghostBypassedPresentations; // a payable part was refused
        }
    }

    // ───────────────────────────── Time ─────────────────────────────

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1 hours, 4 days));
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    function _documents(uint256 lcId, uint8 docs) internal pure returns (ILetterOfCredit.Document[] memory list) {
        uint256 n;
        for (uint8 i; i < 6; ++i) {
            if (docs & (1 << i) != 0) ++n;
        }
        list = new ILetterOfCredit.Document[](n);
        n = 0;
        for (uint8 i; i < 6; ++i) {
            if (docs & (1 << i) != 0) {
                list[n++] = ILetterOfCredit.Document(ILetterOfCredit.DocumentType(i), keccak256(abi.encode(lcId, i)));
            }
        }
    }

    function _credit(uint256 seed) internal view returns (bool, uint256) {
        if (creditIds.length == 0) return (false, 0);
        return (true, creditIds[seed % creditIds.length]);
    }

    function _presentation(uint256 creditSeed, uint256 presentationSeed) internal view returns (bool, uint256, uint256) {
        (bool found, uint256 lcId) = _credit(creditSeed);
        if (!found) return (false, 0, 0);
        (uint256 total,) = lc.presentationCounts(lcId);
        if (total == 0) return (false, 0, 0);
        return (true, lcId, 1 + presentationSeed % total);
    }

    function _operative(uint256 lcId) internal view returns (bool) {
        ILetterOfCredit.CreditState s = lc.state(lcId);
        return s == ILetterOfCredit.CreditState.Issued || s == ILetterOfCredit.CreditState.Advised;
    }
}
