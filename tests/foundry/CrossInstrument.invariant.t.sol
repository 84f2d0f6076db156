// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {World} from "./utils/World.sol";
import {CrossInstrumentHandler} from "./handlers/CrossInstrumentHandler.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {ILetterOfCredit} from "../../contracts/interfaces/ILetterOfCredit.sol";
import {IReceivableFinancing} from "../../contracts/interfaces/IReceivableFinancing.sol";

/// @notice The platform's promise to banks, checked across instruments (issue 11): a receivable is financed
/// once, and money moves only by each instrument's rules, whatever order the parties act in.
/// `CrossInstrumentHandler` drives receivable financing, reverse-factoring programmes, letters of credit,
/// payable certificates, buyer payments, assignments, freezes and time over one shared pool of invoices
/// between two sellers, two buyers and two banks; after every call:
/// - **(a) advanced ≤ unpaid**: the value advanced against each invoice, summed over every instrument,
///   never exceeds what is unpaid on it; nor does the value committed (advanced, or reserved by a lien);
/// - **(b) escrow = records**: each instrument contract's balance of each currency equals what it records
///   as held: for letters of credit the margins held per credit, for the others nothing;
/// - **(c) freezes**: nothing a frozen participant holds changes (tokens, invoices, certificates), nor the
///   record of a frozen instrument;
/// - **(d) payments**: every buyer payment went to the invoice's owner and, only where a financing had
///   advanced value, to that financier first, up to what it was owed;
/// - **one lien at a time**, and the registry's lien is exactly the one instrument record that claims the
///   invoice; **a credit's drawn plus reserved stays within its ceiling**; every attack was refused.
/// @dev `make test` runs 64 runs × depth 64 (the default profile); `bench/invariants.py` runs the same suite
/// at 1,000 runs (profile `invariant-bench`) and prints the calls per handler action.
contract CrossInstrumentInvariantTest is World {
    uint256 internal constant PURSE = 1e13; // minor units of USD and CNY for each party on top of the world's

    CrossInstrumentHandler internal handler;

    function setUp() public {
        _deployWorld();
        address[6] memory funded = [exporter, supplier, importer, buyerDe, bankCn, bankUs];
        vm.startPrank(bankCn);
        for (uint256 i; i < funded.length; ++i) {
            usd.mint(funded[i], PURSE, "purse");
            cny.mint(funded[i], PURSE, "purse");
        }
        vm.stopPrank();
        handler = new CrossInstrumentHandler(
            CrossInstrumentHandler.Platform(registry, usd, cny, invoices, financing, lc, certificates, regulator),
            [exporter, supplier],
            [importer, buyerDe],
            [bankCn, bankUs]
        );
        handler.bootstrap();
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: _actions()}));
    }

    // ───────────────────────────── The handler really drives every instrument ─────────────────────────────

    /// @notice A scripted day on the bootstrapped platform: an invoice financed and paid by the buyer to the
    /// bank, one drawn under a credit with its lien, one pledged to a certificate tree that is split,
    /// discounted and settled, a freeze and attacks; every invariant holds at each step.
    function test_handlerDrivesEveryInstrument() public {
        _checkAll();
        handler.applyForFinancing(0, 0, 80_000_00); // exporter's invoice 0 (USD 100,000) at the CN bank
        handler.approveFinancing(0, 80_000_00, 500, 60 days);
        vm.assertEq(invoices.invoice(handler.invoiceIds(0)).lienInstrument, address(financing), "financed");
        handler.attemptDoubleFinancing(0, 0);
        handler.attemptDoubleFinancing(0, 2);
        handler.payInvoice(0, 30_000_00); // all of it to the bank, which is owed more
        vm.assertEq(handler.paidToFinanciers(), 30_000_00, "the bank is paid first");
        _checkAll();

        handler.presentWithInvoice(0, 1, 200_000_00, 0); // invoice 1 (USD 250,000) under the importer's credit
        vm.assertEq(invoices.invoice(handler.invoiceIds(1)).lienInstrument, address(lc), "presented");
        handler.attemptDoubleFinancing(1, 3); // paying into the presented part directly is refused
        handler.payInvoice(1, 50_000_00); // the unclaimed part goes to the seller
        handler.examine(0, 0);
        handler.honour(0);
        vm.assertEq(invoices.invoice(handler.invoiceIds(1)).paidAmount, 250_000_00, "paid through the credit");
        _checkAll();

        handler.registerInvoice(1 | (1 << 8), 80_000_00, 60 days, true); // invoice 6: supplier -> buyerDe, CNY
        handler.offerCertificate(6, 40_000_00, block.timestamp + 20 days);
        handler.acceptOffer(6);
        handler.splitCertificate(1, 7, 0, false); // the new root (the bootstrap's is certificate 0)
        handler.requestDiscount(2, 0, 300);
        handler.acceptDiscount(2);
        vm.assertEq(certificates.certificate(handler.certificateIds(2)).holder, bankCn, "discounted");
        vm.assertGt(handler.discountedProceeds(handler.certificateIds(2)), 0, "proceeds advanced");
        handler.freezeParticipant(0);
        handler.warp(5 days);
        handler.unfreezeParticipant(0);
        _checkAll();
        for (uint256 i; i < 6; ++i) {
            handler.warp(5 days);
        }
        for (uint256 i; i < 4; ++i) {
            handler.settleCertificate(i, false);
        }
        _checkAll();
        IInvoiceLiens.InvoiceView memory paidThroughTree = invoices.invoice(handler.invoiceIds(6));
        vm.assertEq(paidThroughTree.paidAmount, 40_000_00, "the tree's amount recorded on the invoice");
        vm.assertEq(paidThroughTree.lienInstrument, address(0), "the tree's lien released");
        vm.assertEq(handler.forbiddenSuccesses(), 0, "attacks refused");
        vm.assertEq(handler.buyerPayments(), 2, "two buyer payments");
    }

    // ───────────────────────────── Invariants ─────────────────────────────

    /// @notice Every cross-instrument rule after each call of one campaign (forge runs one campaign per
    /// invariant function: one function checks them all for the price of one). The per-invoice rules are
    /// checked on the invoices the call touched; `afterInvariant` checks every invoice at the end of the run.
    function invariant_crossInstrument() public view {
        _checkInvoices(handler.touchedInvoices());
        _checkGlobal(false);
    }

    /// @notice The whole check, on every invoice, at the end of each run; and, for `bench/invariants.py`, the
    /// run's calls per handler action appended to the file named by `TRADEFIN_INVARIANT_CALLS` when it is set
    /// (the `invariant-bench` profile allows the write).
    function afterInvariant() public {
        _checkAll();
        string memory path = vm.envOr("TRADEFIN_INVARIANT_CALLS", string(""));
        if (bytes(path).length == 0) return;
        (string[] memory names, uint256[] memory calls, uint256[] memory skips) = handler.callSummary();
        for (uint256 i; i < names.length; ++i) {
            vm.writeLine(
                path, string.concat(names[i], " ", Strings.toString(calls[i]), " ", Strings.toString(skips[i]))
            );
        }
    }

    function _checkAll() internal view {
        uint256 n = handler.invoiceCount();
        uint256[] memory all = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            all[i] = handler.invoiceIds(i);
        }
        _checkInvoices(all);
        _checkGlobal(true);
    }

    function _checkInvoices(uint256[] memory ids) internal view {
        for (uint256 i; i < ids.length; ++i) {
            _valueAdvancedNeverExceedsUnpaid(ids[i]);
            _oneLienAtATime(ids[i]);
        }
    }

    function _checkGlobal(bool full) internal view {
        _instrumentBalancesEqualWhatTheyHold();
        _frozenHoldingsAndRecordsNeverChange(full);
        _buyerPaymentsReachOwnerOrAdvancingFinancier();
        _creditsWithinCeiling();
        _attacksRefused();
    }

    /// @notice (a) Advanced ≤ committed ≤ unpaid, for invoice `id` (definitions in `CrossInstrumentHandler`).
    function _valueAdvancedNeverExceedsUnpaid(uint256 id) internal view {
        (uint256 advanced, uint256 committed, uint256 unpaid) = handler.exposure(id);
        vm.assertLe(advanced, unpaid, "(a) value advanced against an invoice exceeds what is unpaid");
        vm.assertLe(committed, unpaid, "(a) value committed against an invoice exceeds what is unpaid");
    }

    /// @notice (b) The letter-of-credit contract holds, per currency, exactly the margins its credits hold;
    /// the invoice registry, financing, certificates and the router hold nothing.
    function _instrumentBalancesEqualWhatTheyHold() internal view {
        uint256 heldUsd;
        uint256 heldCny;
        uint256 n = handler.creditCount();
        for (uint256 i; i < n; ++i) {
            uint256 lcId = handler.creditIds(i);
            uint256 held = lc.margin(lcId).held;
            if (handler.creditCurrency(lcId) == address(usd)) heldUsd += held;
            else heldCny += held;
        }
        vm.assertEq(usd.balanceOf(address(lc)), heldUsd, "(b) LC's USD balance != USD margins held");
        vm.assertEq(cny.balanceOf(address(lc)), heldCny, "(b) LC's CNY balance != CNY margins held");
        address[4] memory holdNothing = [address(invoices), address(financing), address(certificates), address(router)];
        for (uint256 i; i < holdNothing.length; ++i) {
            vm.assertEq(
                usd.balanceOf(holdNothing[i]) + cny.balanceOf(holdNothing[i]), 0, "(b) an instrument holds money"
            );
        }
    }

    /// @notice (c) A frozen participant's holdings (tokens and invoices; with `full`, the certificates it holds
    /// too), and a frozen instrument's record, are as they were when the regulator froze them.
    function _frozenHoldingsAndRecordsNeverChange(bool full) internal view {
        address[6] memory parties = handler.parties();
        for (uint256 i; i < parties.length; ++i) {
            if (!registry.participant(parties[i]).frozen) continue;
            vm.assertEq(
                handler.partySnapshot(parties[i]),
                handler.frozenPartySnapshot(parties[i]),
                "(c) a frozen participant's money or invoices changed"
            );
            if (full) {
                vm.assertEq(
                    handler.certificatesHeld(parties[i]),
                    handler.frozenPartyCertificates(parties[i]),
                    "(c) a frozen participant's certificates changed"
                );
            }
        }
        uint256 n = handler.frozenInstrumentCount();
        for (uint256 i; i < n; ++i) {
            (address instrument, uint256 id, bytes32 snapshot) = handler.frozenInstrument(i);
            vm.assertTrue(registry.isInstrumentFrozen(instrument, id), "(c) ghost freeze out of step");
            vm.assertEq(
                handler.instrumentSnapshot(instrument, id), snapshot, "(c) a frozen instrument's record changed"
            );
        }
    }

    /// @notice (d) Every buyer payment, replayed against its event and balances, paid the owner and only an
    /// advancing financier (first, up to what it was owed).
    function _buyerPaymentsReachOwnerOrAdvancingFinancier() internal view {
        vm.assertEq(handler.paymentViolations(), 0, string.concat("(d) ", handler.lastPaymentViolation()));
    }

    /// @notice One lien at a time: at most one instrument claims invoice `id`, and the registry's lien is
    /// exactly that claim (instrument and financier).
    function _oneLienAtATime(uint256 id) internal view {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        uint256 financingId = financing.activeFinancingOf(id);
        (uint256 lcId, uint256 pid) = lc.presentationOfInvoice(id);
        uint256 rootId = certificates.rootOfInvoice(id);
        uint256 claims = (financingId != 0 ? 1 : 0) + (lcId != 0 ? 1 : 0) + (rootId != 0 ? 1 : 0);
        vm.assertLe(claims, 1, "two instruments claim one invoice");
        if (financingId != 0) {
            vm.assertEq(inv.lienInstrument, address(financing), "lien: financing");
            vm.assertEq(inv.lienFinancier, financing.financing(financingId).bank, "lien: the financing's bank");
        } else if (lcId != 0) {
            vm.assertEq(inv.lienInstrument, address(lc), "lien: letter of credit");
            vm.assertEq(inv.lienFinancier, lc.terms(lcId).issuingBank, "lien: the credit's issuing bank");
            vm.assertEq(lc.presentation(lcId, pid).invoiceId, id, "lien: the presentation's invoice");
        } else if (rootId != 0) {
            vm.assertEq(inv.lienInstrument, address(certificates), "lien: certificates");
            vm.assertEq(certificates.tree(rootId).invoiceId, id, "lien: the tree's invoice");
        } else {
            vm.assertEq(inv.lienFinancier, address(0), "a lien no instrument claims");
        }
    }

    /// @notice Each credit's drawn plus reserved stays within its amount plus tolerance.
    function _creditsWithinCeiling() internal view {
        uint256 n = handler.creditCount();
        for (uint256 i; i < n; ++i) {
            ILetterOfCredit.Drawings memory d = lc.drawings(handler.creditIds(i));
            vm.assertLe(d.drawn + d.reserved, d.ceiling, "drawn + reserved above the credit's ceiling");
        }
    }

    /// @notice Every attack was refused: double financing through another instrument, financing above what is
    /// unpaid, paying past a lien's commitment, the bank's coded discrepancies, moving a frozen participant's
    /// money or changing a frozen instrument.
    function _attacksRefused() internal view {
        vm.assertEq(handler.forbiddenSuccesses(), 0, handler.lastForbiddenSuccess());
    }

    function _actions() internal pure returns (bytes4[] memory s) {
        s = new bytes4[](41);
        s[0] = CrossInstrumentHandler.registerInvoice.selector;
        s[1] = CrossInstrumentHandler.confirmInvoice.selector;
        s[2] = CrossInstrumentHandler.assignInvoice.selector;
        s[3] = CrossInstrumentHandler.payInvoice.selector;
        s[4] = CrossInstrumentHandler.applyForFinancing.selector;
        s[5] = CrossInstrumentHandler.openProgramme.selector;
        s[6] = CrossInstrumentHandler.acceptOrCloseProgramme.selector;
        s[7] = CrossInstrumentHandler.applyUnderProgramme.selector;
        s[8] = CrossInstrumentHandler.approveFinancing.selector;
        s[9] = CrossInstrumentHandler.rejectOrWithdrawFinancing.selector;
        s[10] = CrossInstrumentHandler.repayFinancing.selector;
        s[11] = CrossInstrumentHandler.recordRepayment.selector;
        s[12] = CrossInstrumentHandler.markDefault.selector;
        s[13] = CrossInstrumentHandler.claimRecourse.selector;
        s[14] = CrossInstrumentHandler.openCredit.selector;
        s[15] = CrossInstrumentHandler.present.selector;
        s[16] = CrossInstrumentHandler.presentWithInvoice.selector;
        s[17] = CrossInstrumentHandler.examine.selector;
        s[18] = CrossInstrumentHandler.waive.selector;
        s[19] = CrossInstrumentHandler.refuse.selector;
        s[20] = CrossInstrumentHandler.honour.selector;
        s[21] = CrossInstrumentHandler.claimPreclusion.selector;
        s[22] = CrossInstrumentHandler.payAtMaturity.selector;
        s[23] = CrossInstrumentHandler.releaseMargin.selector;
        s[24] = CrossInstrumentHandler.offerCertificate.selector;
        s[25] = CrossInstrumentHandler.acceptOffer.selector;
        s[26] = CrossInstrumentHandler.closeOffer.selector;
        s[27] = CrossInstrumentHandler.splitCertificate.selector;
        s[28] = CrossInstrumentHandler.transferCertificate.selector;
        s[29] = CrossInstrumentHandler.requestDiscount.selector;
        s[30] = CrossInstrumentHandler.acceptDiscount.selector;
        s[31] = CrossInstrumentHandler.settleCertificate.selector;
        s[32] = CrossInstrumentHandler.freezeParticipant.selector;
        s[33] = CrossInstrumentHandler.unfreezeParticipant.selector;
        s[34] = CrossInstrumentHandler.freezeInstrument.selector;
        s[35] = CrossInstrumentHandler.unfreezeInstrument.selector;
        s[36] = CrossInstrumentHandler.warp.selector;
        s[37] = CrossInstrumentHandler.jumpToNextDeadline.selector;
        s[38] = CrossInstrumentHandler.attemptDoubleFinancing.selector;
        s[39] = CrossInstrumentHandler.attemptFinancingAboveUnpaid.selector;
        s[40] = CrossInstrumentHandler.attemptOnFrozen.selector;
    }
}
