// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {World} from "./utils/World.sol";
import {PayableCertificates} from "../../contracts/PayableCertificates.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IPayableCertificates} from "../../contracts/interfaces/IPayableCertificates.sol";

/// @notice Drives certificate trees through issue (the buyer's offer, the seller's acceptance), split,
/// transfer, discount, time and settlement, over the real `InvoiceRegistry` (each issue registers and
/// confirms a fresh invoice, sometimes for more than the certificate covers).
/// Every action picks a certificate from those created so far; actions that the contract must refuse
/// (wrong state, second payment) are attempted too, inside try/catch, and must change nothing.
contract PayableCertificatesHandler is Test {
    PayableCertificates public immutable certs;
    InvoiceRegistry public immutable invoices;
    SettlementToken public immutable usd;
    address public immutable importer;
    address public immutable bank;
    address[] internal suppliers;

    uint256 internal constant MAX_ROOTS = 12; // bounded trees keep the per-call checks cheap
    uint256 internal constant MAX_IDS = 48;

    uint256[] public ids;
    uint256[] public roots;
    // Each certificate's amount and root, read from the contract when it is created (they never change).
    mapping(uint256 certificateId => uint256) public amountOf;
    mapping(uint256 certificateId => uint256) public rootOf;
    uint256 internal nextInvoiceNumber = 1;

    uint256 public ghostPaidIn; // what the core enterprise's balance lost to settlements
    uint256 public ghostPaidOut; // what holders' balances gained from settlements
    uint256 public ghostIssued; // sum of root amounts
    uint256 public ghostSecondPayments; // settlements that succeeded on an already settled certificate
    uint256 public ghostBypassedPayments; // direct payments that ate into the part a tree covers
    uint256 public ghostRefusedUncovered; // direct payments of only the uncovered part that were refused
    mapping(uint256 certificateId => bool) public paid;

    constructor(
        PayableCertificates certs_,
        InvoiceRegistry invoices_,
        SettlementToken usd_,
        address importer_,
        address bank_,
        address[] memory suppliers_
    ) {
        certs = certs_;
        invoices = invoices_;
        usd = usd_;
        importer = importer_;
        bank = bank_;
        suppliers = suppliers_;
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function rootCount() external view returns (uint256) {
        return roots.length;
    }

    // ───────────────────────────── Actions ─────────────────────────────

    /// @dev The core enterprise offers, the seller accepts (consenting to the lien); the invoice's face is
    /// the certificate's amount plus, every other time, an uncovered part the buyer may pay directly.
    function issue(uint256 amount, uint256 maturityDays, uint256 sellerSeed, uint256 uncovered) external {
        if (roots.length >= MAX_ROOTS || ids.length >= MAX_IDS) return;
        amount = bound(amount, 100, 1e12);
        uncovered = uncovered % 2 == 0 ? 0 : bound(uncovered, 1, 1e9);
        uint64 maturity = uint64(block.timestamp + bound(maturityDays, 1, 120) * 1 days);
        address seller = suppliers[sellerSeed % suppliers.length];
        vm.prank(seller);
        uint256 invoiceId = invoices.register(
            importer,
            address(usd),
            invoiceNumber("PC-", nextInvoiceNumber++),
            amount + uncovered,
            uint64(block.timestamp),
            maturity,
            "doc"
        );
        vm.prank(importer);
        invoices.confirm(invoiceId);
        vm.prank(importer);
        certs.offer(invoiceId, amount, maturity);
        vm.prank(seller);
        uint256 id = certs.acceptOffer(invoiceId);
        ids.push(id);
        roots.push(id);
        _remember(id);
        ghostIssued += amount;
    }

    function split(uint256 seed, uint256 count, uint256 cut, uint256 holderSeed) external {
        if (ids.length == 0 || ids.length + 4 > MAX_IDS) return;
        uint256 id = ids[seed % ids.length];
        IPayableCertificates.CertificateView memory c = certs.certificate(id);
        count = bound(count, 2, 4);
        if (c.state != IPayableCertificates.CertificateState.Active || c.amount < count) return;
        uint256[] memory amounts = new uint256[](count);
        address[] memory holders = new address[](count);
        uint256 left = c.amount;
        for (uint256 i; i < count; ++i) {
            uint256 part = i == count - 1 ? left : bound(uint256(keccak256(abi.encode(cut, i))), 1, left - (count - 1 - i));
            amounts[i] = part;
            left -= part;
            holders[i] = suppliers[uint256(keccak256(abi.encode(holderSeed, i))) % suppliers.length];
        }
        vm.prank(c.holder);
        uint256 first = certs.split(id, amounts, holders);
        for (uint256 i; i < count; ++i) {
            ids.push(first + i);
            _remember(first + i);
        }
    }

    /// @notice Every certificate with its amount and root as recorded at creation.
    function records() external view returns (uint256[] memory all, uint256[] memory amounts, uint256[] memory rootIds) {
        all = ids;
        amounts = new uint256[](all.length);
        rootIds = new uint256[](all.length);
        for (uint256 i; i < all.length; ++i) {
            (amounts[i], rootIds[i]) = (amountOf[all[i]], rootOf[all[i]]);
        }
    }

    function allRoots() external view returns (uint256[] memory) {
        return roots;
    }

    function _remember(uint256 id) internal {
        IPayableCertificates.CertificateView memory c = certs.certificate(id);
        amountOf[id] = c.amount;
        rootOf[id] = c.rootId;
    }

    function transfer(uint256 seed, uint256 toSeed) external {
        if (ids.length == 0) return;
        uint256 id = ids[seed % ids.length];
        IPayableCertificates.CertificateView memory c = certs.certificate(id);
        if (c.state != IPayableCertificates.CertificateState.Active) return;
        vm.prank(c.holder);
        certs.transfer(id, suppliers[toSeed % suppliers.length]);
    }

    function discount(uint256 seed, uint256 rateBps) external {
        if (ids.length == 0) return;
        uint256 id = ids[seed % ids.length];
        IPayableCertificates.CertificateView memory c = certs.certificate(id);
        if (c.state != IPayableCertificates.CertificateState.Active || c.holder == bank) return;
        uint16 rate = uint16(bound(rateBps, 1, 2_000));
        vm.prank(c.holder);
        certs.requestDiscount(id, bank, rate);
        vm.prank(bank);
        try certs.acceptDiscount(id, rate) {} catch {} // a tiny amount can round to a total discount
    }

    function elapse(uint256 secondsForward) external {
        vm.warp(block.timestamp + bound(secondsForward, 1 hours, 20 days));
    }

    /// @dev The core enterprise pays the invoice directly in the registry, past the holders: only the part
    /// the tree does not cover may be paid so (it goes to the invoice's seller); more is refused.
    function payInvoiceDirectly(uint256 seed, uint256 amount) external {
        if (roots.length == 0) return;
        uint256 rootId = roots[seed % roots.length];
        uint256 invoiceId = certs.tree(rootId).invoiceId;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceId);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        if (outstanding == 0) return;
        bool pledged = inv.lienInstrument == address(certs);
        uint256 payableDirectly = pledged ? outstanding - certs.certificate(rootId).amount : outstanding;
        amount = bound(amount, 1, outstanding);
        vm.prank(importer);
        try invoices.pay(invoiceId, amount) {
            if (amount > payableDirectly) ghostBypassedPayments++;
        } catch {
            if (amount <= payableDirectly) ghostRefusedUncovered++;
        }
    }

    /// @dev Settles any certificate, payable or not, by the core enterprise or by its holder; refusals
    /// (not yet due, split, already settled) are expected and must move nothing.
    function settle(uint256 seed, bool byHolder) external {
        if (ids.length == 0) return;
        uint256 id = ids[seed % ids.length];
        IPayableCertificates.CertificateView memory c = certs.certificate(id);
        uint256 importerBefore = usd.balanceOf(importer);
        uint256 holderBefore = usd.balanceOf(c.holder);
        uint256[] memory one = new uint256[](1);
        one[0] = id;
        vm.prank(byHolder ? c.holder : importer);
        try certs.settle(one) {
            if (paid[id]) ghostSecondPayments++;
            paid[id] = true;
        } catch {}
        ghostPaidIn += importerBefore - usd.balanceOf(importer);
        ghostPaidOut += usd.balanceOf(c.holder) - holderBefore;
    }
}

/// @notice Invariants of `PayableCertificates` over many random trees.
contract PayableCertificatesInvariantTest is World {
    PayableCertificatesHandler internal handler;

    /// @dev The core enterprise is the US importer; suppliers are the CN exporter and supplier and the DE
    /// buyer (as a tier-2 supplier); the discounting bank is the CN bank. Time runs for years here, so
    /// the corporates' KYC is renewed without end, and the importer and the bank get deep purses.
    function setUp() public {
        _deployWorld();
        address[] memory suppliers = new address[](3);
        (suppliers[0], suppliers[1], suppliers[2]) = (exporter, supplier, buyerDe);
        vm.startPrank(bankCn);
        registry.attestKyc(importer, IParticipantRegistry.KycStatus.Approved, type(uint48).max, "");
        for (uint256 i; i < suppliers.length; ++i) {
            registry.attestKyc(suppliers[i], IParticipantRegistry.KycStatus.Approved, type(uint48).max, "");
        }
        usd.mint(importer, 1e18, "deposit");
        usd.mint(bankCn, 1e18, "reserve");
        vm.stopPrank();

        handler = new PayableCertificatesHandler(certificates, invoices, usd, importer, bankCn, suppliers);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = PayableCertificatesHandler.issue.selector;
        selectors[1] = PayableCertificatesHandler.split.selector;
        selectors[2] = PayableCertificatesHandler.transfer.selector;
        selectors[3] = PayableCertificatesHandler.discount.selector;
        selectors[4] = PayableCertificatesHandler.elapse.selector;
        selectors[5] = PayableCertificatesHandler.settle.selector;
        selectors[6] = PayableCertificatesHandler.payInvoiceDirectly.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice The handler's actions really happen: a tree is issued, split, discounted, paid once.
    function test_handlerIssuesSplitsDiscountsAndSettlesOnce() public {
        handler.issue(1_000_00, 30, 0, 0);
        handler.split(0, 2, 7, 1); // ids: root 1, children 2 and 3
        vm.assertEq(handler.idCount(), 3, "split");
        handler.discount(1, 500);
        vm.assertEq(certificates.certificate(2).holder, bankCn, "discounted");
        handler.elapse(20 days);
        handler.elapse(20 days);
        for (uint256 i; i < 3; ++i) {
            handler.settle(i, false);
        }
        handler.settle(1, true); // a second payment is refused
        vm.assertEq(handler.ghostPaidIn(), 1_000_00, "paid in full");
        vm.assertEq(handler.ghostSecondPayments(), 0, "once");
        _liveCertificatesSumToRootAmount(true);
        _paidOutNeverExceedsPaidIn(true);
    }

    /// @notice Every rule of payable certificates below, checked after each call of one campaign (forge runs
    /// one campaign per invariant function: one function checks them all for the price of one). After each
    /// call the certificates' amounts and roots are those read when they were created (they never change);
    /// `afterInvariant` reads them all again at the end of each run.
    function invariant_payableCertificateRules() public view {
        _liveCertificatesSumToRootAmount(false);
        _paidOutNeverExceedsPaidIn(false);
        _pledgedInvoiceCannotBePaidPastHolders();
        _noCertificatePaidTwice();
    }

    function afterInvariant() public view {
        _liveCertificatesSumToRootAmount(true);
        _paidOutNeverExceedsPaidIn(true);
    }

    /// @notice The live (never split) certificates descending from each root sum to the root's amount.
    function _liveCertificatesSumToRootAmount(bool reread) internal view {
        uint256[] memory rootIds = handler.allRoots();
        uint256[] memory live = new uint256[](rootIds.length);
        (uint256[] memory all, uint256[] memory amounts, uint256[] memory roots) = handler.records();
        for (uint256 i; i < all.length; ++i) {
            IPayableCertificates.CertificateState state = certificates.state(all[i]);
            if (reread) {
                IPayableCertificates.CertificateView memory c = certificates.certificate(all[i]);
                (state, amounts[i], roots[i]) = (c.state, c.amount, c.rootId);
            }
            if (state == IPayableCertificates.CertificateState.Split) continue;
            uint256 r;
            while (rootIds[r] != roots[i]) ++r; // every certificate's root was issued through the handler
            live[r] += amounts[i];
        }
        for (uint256 r; r < rootIds.length; ++r) {
            vm.assertEq(live[r], _rootAmount(rootIds[r], reread), "live sum");
        }
    }

    /// @notice Holders never receive more than the core enterprise paid in, nor more than was issued.
    function _paidOutNeverExceedsPaidIn(bool reread) internal view {
        vm.assertEq(handler.ghostPaidOut(), handler.ghostPaidIn(), "paid out = paid in");
        vm.assertLe(handler.ghostPaidIn(), handler.ghostIssued(), "paid in <= issued");
        uint256 settled;
        uint256[] memory rootIds = handler.allRoots();
        for (uint256 r; r < rootIds.length; ++r) {
            IPayableCertificates.Tree memory t = certificates.tree(rootIds[r]);
            uint256 rootAmount = _rootAmount(rootIds[r], reread);
            vm.assertLe(t.settledAmount, rootAmount, "tree over-settled");
            settled += t.settledAmount;
            // A fully paid tree has released its invoice lien; an unpaid one still holds it.
            bool fullyPaid = t.settledAmount == rootAmount;
            vm.assertEq(certificates.rootOfInvoice(t.invoiceId) == 0, fullyPaid, "lien");
            if (reread) {
                vm.assertEq(invoices.invoice(t.invoiceId).lienInstrument == address(0), fullyPaid, "lien released");
            }
        }
        vm.assertEq(settled, handler.ghostPaidIn(), "settled = paid in");
    }

    /// @dev A root's amount: read from the contract (`reread`) or as recorded when it was issued.
    function _rootAmount(uint256 rootId, bool reread) internal view returns (uint256) {
        return reread ? certificates.certificate(rootId).amount : handler.amountOf(rootId);
    }

    /// @notice While a tree holds an invoice's lien, a direct payment takes only the part the tree does not
    /// cover: the covered part cannot be paid past the holders, and the uncovered part stays payable.
    function _pledgedInvoiceCannotBePaidPastHolders() internal view {
        vm.assertEq(handler.ghostBypassedPayments(), 0, "bypass");
        vm.assertEq(handler.ghostRefusedUncovered(), 0, "uncovered part refused");
    }

    /// @notice No certificate is ever paid twice.
    function _noCertificatePaidTwice() internal view {
        vm.assertEq(handler.ghostSecondPayments(), 0, "second payment");
    }
}
