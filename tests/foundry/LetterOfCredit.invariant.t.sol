// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "./utils/World.sol";
import {LetterOfCreditHandler} from "./handlers/LetterOfCreditHandler.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {ILetterOfCredit} from "../../contracts/interfaces/ILetterOfCredit.sol";

/// @notice UCP 600 money invariants of `LetterOfCredit` under random lifecycles:
/// - the total honoured under a credit never exceeds its amount plus tolerance;
/// - no payment without a compliant, waived or precluded presentation; the bank declares only the
///   documentary discrepancy;
/// - escrowed margin is always held, applied or released, never lost, and the contract holds exactly the
///   margins it records as held (audit H1);
/// - a presentation that names an invoice holds its lien exactly while it is open or accepted, and records
///   what the credit paid on the invoice.
contract LetterOfCreditInvariantTest is World {
    LetterOfCreditHandler internal handler;
    address internal applicant;
    address internal beneficiary;
    address internal issuingBank;
    uint256 internal applicantStart;
    uint256 internal beneficiaryStart;
    uint256 internal bankStart;

    /// @dev The US importer applies at the US bank for the CN exporter, advised by the CN bank; the importer
    /// and the bank get deep purses (credits, margins and direct invoice payments never run them dry). Time
    /// runs for at most 64 × 4 days, within the world's KYC period.
    function setUp() public {
        _deployWorld();
        (applicant, beneficiary, issuingBank) = (importer, exporter, bankUs);
        vm.startPrank(bankCn);
        usd.mint(applicant, 1e15, "deposit");
        usd.mint(issuingBank, 1e15, "reserve");
        vm.stopPrank();
        handler = new LetterOfCreditHandler(lc, invoices, usd, applicant, beneficiary, issuingBank, bankCn);
        applicantStart = usd.balanceOf(applicant);
        beneficiaryStart = usd.balanceOf(beneficiary);
        bankStart = usd.balanceOf(issuingBank);
        targetContract(address(handler));
    }

    /// @notice Every rule of letters of credit below, checked after each call of one campaign (forge runs
    /// one campaign per invariant function: one function checks them all for the price of one).
    function invariant_letterOfCreditRules() public view {
        _totalHonouredWithinAmountPlusTolerance();
        _noPaymentWithoutCompliantWaivedOrPrecludedPresentation();
        _marginHeldAppliedOrReleasedNeverLost();
        _invoiceLienFollowsItsPresentation();
    }

    /// @notice Total honoured (drawn) under each credit never exceeds its amount plus tolerance, and equals
    /// what the handler saw honoured.
    function _totalHonouredWithinAmountPlusTolerance() internal view {
        uint256 n = handler.creditCount();
        for (uint256 i; i < n; ++i) {
            uint256 lcId = handler.creditIds(i);
            ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
            vm.assertLe(d.drawn + d.reserved, d.ceiling, "drawn + reserved <= amount + tolerance");
            vm.assertEq(d.drawn, handler.ghostHonoured(lcId), "drawn == honoured");
        }
    }

    /// @notice Only compliant, waived or precluded presentations were honoured, the bank never declared a
    /// coded discrepancy itself (M2), and the beneficiary received exactly the payments of honoured
    /// presentations (and the applicant's direct payments of the invoices' unclaimed parts).
    function _noPaymentWithoutCompliantWaivedOrPrecludedPresentation() internal view {
        vm.assertEq(handler.ghostForbiddenHonours(), 0, "honour from a forbidden state");
        vm.assertEq(handler.ghostForbiddenDiscrepancies(), 0, "bank declared a coded discrepancy");
        vm.assertEq(
            usd.balanceOf(beneficiary) - beneficiaryStart,
            handler.ghostPaid() + handler.ghostPaidDirectlyTotal(),
            "beneficiary paid only for honoured presentations"
        );
    }

    /// @notice Per credit, escrowed == held + applied + released; the contract holds exactly the held margins;
    /// the applicant and the bank account for every unit applied or released.
    function _marginHeldAppliedOrReleasedNeverLost() internal view {
        uint256 n = handler.creditCount();
        uint256 held;
        uint256 applied;
        uint256 escrowed;
        uint256 released;
        for (uint256 i; i < n; ++i) {
            ILetterOfCredit.Margin memory m = lc.margin(handler.creditIds(i));
            vm.assertEq(m.escrowed, m.held + m.applied + m.released, "escrowed == held + applied + released");
            held += m.held;
            applied += m.applied;
            escrowed += m.escrowed;
            released += m.released;
        }
        vm.assertEq(usd.balanceOf(address(lc)), held, "contract holds exactly the held margins");
        vm.assertEq(
            usd.balanceOf(applicant),
            applicantStart - escrowed + released - handler.ghostPaidDirectlyTotal(),
            "applicant: escrowed less released (and its direct invoice payments)"
        );
        vm.assertEq(usd.balanceOf(issuingBank), bankStart - handler.ghostPaid() + applied, "bank: paid less applied");
    }

    /// @notice A presentation with an invoice holds the invoice's lien (for the issuing bank) exactly while it
    /// is open or honoured-but-unpaid; once paid, its amount is recorded as paid on the invoice. The
    /// applicant's direct payments took only what the presentation does not claim, and none reached the
    /// bank (H2).
    function _invoiceLienFollowsItsPresentation() internal view {
        uint256 n = handler.invoicePresentationCount();
        for (uint256 i; i < n; ++i) {
            (uint256 lcId, uint256 pid, uint256 invoiceId) = handler.invoicePresentation(i);
            ILetterOfCredit.PresentationState s = lc.presentationState(lcId, pid);
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceId);
            bool closed = s == ILetterOfCredit.PresentationState.Refused || s == ILetterOfCredit.PresentationState.Paid;
            vm.assertEq(inv.lienInstrument == address(lc), !closed, "lien while open");
            if (!closed) vm.assertEq(inv.lienFinancier, issuingBank, "lien for the issuing bank");
            uint256 amount = lc.presentation(lcId, pid).amount;
            uint256 direct = handler.ghostPaidDirectly(invoiceId);
            uint256 throughCredit = s == ILetterOfCredit.PresentationState.Paid ? amount : 0;
            vm.assertEq(inv.paidAmount, direct + throughCredit, "paid on the invoice: direct + through the credit");
        }
        vm.assertEq(handler.ghostBypassedPresentations(), 0, "a direct payment ate into a presentation");
    }
}
