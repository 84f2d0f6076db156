// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {PayableCertificates} from "../../contracts/PayableCertificates.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IPayableCertificates} from "../../contracts/interfaces/IPayableCertificates.sol";

/// @notice Drives certificate trees through issue, split, transfer, discount, time and settlement, over
/// the real `InvoiceRegistry` (each issue registers and confirms a fresh invoice).
/// Every action picks a certificate from those created so far; actions that the contract must refuse
/// (wrong state, second payment) are attempted too, inside try/catch, and must change nothing.
contract PayableCertificatesHandler is Test {
    PayableCertificates public immutable certs;
    InvoiceRegistry public immutable invoices;
    SettlementToken public immutable usd;
    address public immutable importer;
    address public immutable bank;
    address[] internal suppliers;

    uint256[] public ids;
    uint256[] public roots;
    uint256 internal nextInvoiceNumber = 1;

    uint256 public ghostPaidIn; // what the core enterprise's balance lost to settlements
    uint256 public ghostPaidOut; // what holders' balances gained from settlements
    uint256 public ghostIssued; // sum of root amounts
    uint256 public ghostSecondPayments; // settlements that succeeded on an already settled certificate
    uint256 public ghostBypassedPayments; // direct invoice payments accepted while a tree held the lien
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

    function issue(uint256 amount, uint256 maturityDays, uint256 sellerSeed) external {
        amount = bound(amount, 100, 1e12);
        uint64 maturity = uint64(block.timestamp + bound(maturityDays, 1, 120) * 1 days);
        address seller = suppliers[sellerSeed % suppliers.length];
        vm.prank(seller);
        uint256 invoiceId = invoices.register(
            importer, address(usd), bytes32(nextInvoiceNumber++), amount, uint64(block.timestamp), maturity, "doc"
        );
        vm.prank(importer);
        invoices.confirm(invoiceId);
        vm.prank(importer);
        uint256 id = certs.issue(invoiceId, amount, maturity);
        ids.push(id);
        roots.push(id);
        ghostIssued += amount;
    }

    function split(uint256 seed, uint256 count, uint256 cut, uint256 holderSeed) external {
        if (ids.length == 0) return;
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
        }
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

    /// @dev The core enterprise tries to pay a pledged invoice directly in the registry, past the holders.
    function payInvoiceDirectly(uint256 seed, uint256 amount) external {
        if (roots.length == 0) return;
        uint256 invoiceId = certs.tree(roots[seed % roots.length]).invoiceId;
        bool pledged = invoices.invoice(invoiceId).lienInstrument == address(certs);
        vm.prank(importer);
        try invoices.pay(invoiceId, bound(amount, 1, 100)) {
            if (pledged) ghostBypassedPayments++;
        } catch {}
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
contract PayableCertificatesInvariantTest is Test {
    PayableCertificatesHandler internal handler;
    PayableCertificates internal certs;
    InvoiceRegistry internal invoices;

    function setUp() public {
        address operator = makeAddr("operator");
        address bank = makeAddr("bank");
        address importer = makeAddr("importer");
        ParticipantRegistry registry = new ParticipantRegistry(operator, "SG", keccak256("op"));
        SettlementToken usd = new SettlementToken("tradefin USD deposit", "USD", 2, registry);
        invoices = new InvoiceRegistry(registry, 7 days);
        certs = new PayableCertificates(registry, invoices, 30 days);

        address[] memory suppliers = new address[](4);
        vm.startPrank(operator);
        registry.registerParticipant(bank, IParticipantRegistry.ParticipantKind.Bank, "CN", keccak256("bank"));
        registry.registerParticipant(importer, IParticipantRegistry.ParticipantKind.Corporate, "US", keccak256("imp"));
        for (uint256 i; i < 4; ++i) {
            suppliers[i] = makeAddr(string(abi.encodePacked("supplier", bytes1(uint8(48 + i)))));
            registry.registerParticipant(
                suppliers[i], IParticipantRegistry.ParticipantKind.Corporate, "CN", keccak256(abi.encode("supplier", i))
            );
        }
        invoices.setCurrency(address(usd), true);
        invoices.setInstrument(address(certs), true);
        vm.stopPrank();
        vm.startPrank(bank);
        uint48 kycExpiry = uint48(block.timestamp + 3650 days);
        registry.attestKyc(importer, IParticipantRegistry.KycStatus.Approved, kycExpiry, "");
        for (uint256 i; i < 4; ++i) {
            registry.attestKyc(suppliers[i], IParticipantRegistry.KycStatus.Approved, kycExpiry, "");
        }
        usd.mint(importer, 1e18, "deposit");
        usd.mint(bank, 1e18, "reserve");
        usd.approve(address(certs), type(uint256).max);
        vm.stopPrank();
        vm.startPrank(importer);
        usd.approve(address(certs), type(uint256).max);
        usd.approve(address(invoices), type(uint256).max);
        vm.stopPrank();

        handler = new PayableCertificatesHandler(certs, invoices, usd, importer, bank, suppliers);
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
        handler.issue(1_000_00, 30, 0);
        handler.split(0, 2, 7, 1); // ids: root 1, children 2 and 3
        vm.assertEq(handler.idCount(), 3, "split");
        handler.discount(1, 500);
        vm.assertEq(certs.certificate(2).holder, makeAddr("bank"), "discounted");
        handler.elapse(20 days);
        handler.elapse(20 days);
        for (uint256 i; i < 3; ++i) {
            handler.settle(i, false);
        }
        handler.settle(1, true); // a second payment is refused
        vm.assertEq(handler.ghostPaidIn(), 1_000_00, "paid in full");
        vm.assertEq(handler.ghostSecondPayments(), 0, "once");
        invariant_liveCertificatesSumToRootAmount();
        invariant_paidOutNeverExceedsPaidIn();
    }

    /// @notice The live (never split) certificates descending from each root sum to the root's amount.
    function invariant_liveCertificatesSumToRootAmount() public view {
        uint256 roots = handler.rootCount();
        uint256[] memory rootIds = new uint256[](roots);
        uint256[] memory live = new uint256[](roots);
        for (uint256 r; r < roots; ++r) {
            rootIds[r] = handler.roots(r);
        }
        uint256 count = handler.idCount();
        for (uint256 i; i < count; ++i) {
            IPayableCertificates.CertificateView memory c = certs.certificate(handler.ids(i));
            if (c.state == IPayableCertificates.CertificateState.Split) continue;
            uint256 r;
            while (rootIds[r] != c.rootId) ++r; // every certificate's root was issued through the handler
            live[r] += c.amount;
        }
        for (uint256 r; r < roots; ++r) {
            vm.assertEq(live[r], certs.certificate(rootIds[r]).amount, "live sum");
        }
    }

    /// @notice Holders never receive more than the core enterprise paid in, nor more than was issued.
    function invariant_paidOutNeverExceedsPaidIn() public view {
        vm.assertEq(handler.ghostPaidOut(), handler.ghostPaidIn(), "paid out = paid in");
        vm.assertLe(handler.ghostPaidIn(), handler.ghostIssued(), "paid in <= issued");
        uint256 settled;
        for (uint256 r; r < handler.rootCount(); ++r) {
            uint256 rootId = handler.roots(r);
            IPayableCertificates.Tree memory t = certs.tree(rootId);
            vm.assertLe(t.settledAmount, certs.certificate(rootId).amount, "tree over-settled");
            settled += t.settledAmount;
            // A fully paid tree has released its invoice lien; an unpaid one still holds it.
            bool fullyPaid = t.settledAmount == certs.certificate(rootId).amount;
            vm.assertEq(invoices.invoice(t.invoiceId).lienInstrument == address(0), fullyPaid, "lien");
        }
        vm.assertEq(settled, handler.ghostPaidIn(), "settled = paid in");
    }

    /// @notice While a tree holds an invoice's lien, the invoice cannot be paid past the holders.
    function invariant_pledgedInvoiceCannotBePaidPastHolders() public view {
        vm.assertEq(handler.ghostBypassedPayments(), 0, "bypass");
    }

    /// @notice No certificate is ever paid twice.
    function invariant_noCertificatePaidTwice() public view {
        vm.assertEq(handler.ghostSecondPayments(), 0, "second payment");
    }
}
