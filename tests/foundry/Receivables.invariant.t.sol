// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {World} from "./utils/World.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {ReceivableFinancing} from "../../contracts/ReceivableFinancing.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableFinancing} from "../../contracts/interfaces/IReceivableFinancing.sol";

/// @notice Bounded actions of sellers, a buyer and two banks on invoices and their financing. Every action
/// is valid when called (the project runs invariants with `fail_on_revert`); attempts that must fail
/// (double financing, financing a cancelled or paid invoice) are made under try/catch and recorded.
contract ReceivablesHandler is Test {
    InvoiceRegistry public immutable invoices;
    ReceivableFinancing public immutable financing;
    SettlementToken public immutable usd;
    address[2] public sellers;
    address public immutable buyer;
    address[2] public banks;

    uint256[] public invoiceIds;
    uint256[] public financingIds;
    uint256 private _nonce;

    // Ghosts: attempts that must never succeed.
    uint256 public doubleFinancings;
    uint256 public financedAfterCancelOrPay;

    constructor(
        InvoiceRegistry invoices_,
        ReceivableFinancing financing_,
        SettlementToken usd_,
        address[2] memory sellers_,
        address buyer_,
        address[2] memory banks_
    ) {
        invoices = invoices_;
        financing = financing_;
        usd = usd_;
        sellers = sellers_;
        buyer = buyer_;
        banks = banks_;
    }

    function invoiceCount() external view returns (uint256) {
        return invoiceIds.length;
    }

    function financingCount() external view returns (uint256) {
        return financingIds.length;
    }

    function allInvoiceIds() external view returns (uint256[] memory) {
        return invoiceIds;
    }

    function allFinancingIds() external view returns (uint256[] memory) {
        return financingIds;
    }

    // ───────────────────────────── Actions ─────────────────────────────

    function register(uint256 sellerSeed, uint256 face, uint256 dueIn, bool confirm) external {
        address seller = sellers[sellerSeed % 2];
        face = _bound(face, 1, 1_000_000_00);
        dueIn = _bound(dueIn, 1 days, 365 days);
        vm.prank(seller);
        uint256 id = invoices.register(
            buyer,
            address(usd),
            invoiceNumber("RCV-", ++_nonce),
            face,
            uint64(block.timestamp),
            uint64(block.timestamp + dueIn),
            keccak256(abi.encode(_nonce))
        );
        invoiceIds.push(id);
        if (confirm) {
            vm.prank(buyer);
            invoices.confirm(id);
        }
    }

    function cancel(uint256 seed) external {
        if (invoiceIds.length == 0) return;
        uint256 id = invoiceIds[seed % invoiceIds.length];
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        bool cancellable = (inv.state == IInvoiceLiens.InvoiceState.Registered
                || inv.state == IInvoiceLiens.InvoiceState.Confirmed) && inv.paidAmount == 0;
        if (!cancellable) return;
        vm.prank(inv.seller);
        invoices.cancel(id, "test");
    }

    /// @dev Applies at one bank and approves; if the invoice is not financeable, the approval is attempted
    /// anyway under try/catch and any success is recorded as a violation.
    function finance(uint256 seed, uint256 bankSeed, uint256 share, uint256 rateBps) external {
        if (invoiceIds.length == 0) return;
        uint256 id = invoiceIds[seed % invoiceIds.length];
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        if (inv.state != IInvoiceLiens.InvoiceState.Confirmed) {
            _attemptForbidden(id, inv, bankSeed);
            return;
        }
        address bank = banks[bankSeed % 2];
        address otherBank = banks[1 - bankSeed % 2];
        // Capped by what is still unpaid (audit L2), not by the face amount.
        uint256 advance = _bound(share, 1, 100) * (inv.faceAmount - inv.paidAmount) / 100;
        if (advance == 0) advance = 1;
        uint64 maturity = uint64(inv.dueDate > block.timestamp ? inv.dueDate : block.timestamp + 1);
        // The seller applies at both banks; the first bank approves.
        vm.prank(inv.seller);
        uint256 financingId = financing.applyForFinancing(id, bank, advance);
        vm.prank(inv.seller);
        uint256 secondId = financing.applyForFinancing(id, otherBank, advance);
        vm.prank(bank);
        financing.approve(financingId, advance, uint16(_bound(rateBps, 0, 2_000)), maturity, "terms");
        financingIds.push(financingId);
        // The second bank's approval must fail, whatever the terms.
        vm.prank(otherBank);
        try financing.approve(secondId, 1, 0, maturity, "terms") {
            doubleFinancings++;
        } catch {}
    }

    function pay(uint256 seed, uint256 amount) external {
        if (invoiceIds.length == 0) return;
        uint256 id = invoiceIds[seed % invoiceIds.length];
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        if (
            inv.state == IInvoiceLiens.InvoiceState.None || inv.state == IInvoiceLiens.InvoiceState.Cancelled
                || inv.state == IInvoiceLiens.InvoiceState.Paid
        ) return;
        amount = _bound(amount, 1, inv.faceAmount - inv.paidAmount);
        vm.prank(buyer);
        invoices.pay(id, amount);
    }

    function sellerRepays(uint256 seed, uint256 amount) external {
        if (financingIds.length == 0) return;
        uint256 financingId = financingIds[seed % financingIds.length];
        uint256 owedNow = financing.owed(financingId);
        if (owedNow == 0) return;
        amount = _bound(amount, 1, owedNow);
        vm.prank(financing.financing(financingId).seller);
        financing.repay(financingId, amount);
    }

    function defaultAndRecourse(uint256 seed) external {
        if (financingIds.length == 0) return;
        uint256 financingId = financingIds[seed % financingIds.length];
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        if (f.state == IReceivableFinancing.FinancingState.Active) {
            bool overdue = invoices.state(f.invoiceId) == IInvoiceLiens.InvoiceState.Defaulted
                || block.timestamp > uint256(f.maturity) + invoices.gracePeriod();
            if (!overdue) return;
            vm.prank(f.bank);
            financing.markDefault(financingId);
        } else if (f.state == IReceivableFinancing.FinancingState.Defaulted) {
            vm.prank(f.bank);
            financing.claimRecourse(financingId);
        }
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, 60 days));
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    function _attemptForbidden(uint256 id, IInvoiceLiens.InvoiceView memory inv, uint256 bankSeed) private {
        if (inv.state == IInvoiceLiens.InvoiceState.Financed) {
            // A second bank (or the same) tries to finance an invoice that carries a lien.
            uint256 active = financing.activeFinancingOf(id);
            if (active == 0) return;
            address other = banks[1 - bankSeed % 2];
            vm.prank(inv.seller);
            try financing.applyForFinancing(id, other, 1) returns (uint256 financingId) {
                vm.prank(other);
                try financing.approve(financingId, 1, 0, uint64(block.timestamp + 1 days), "x") {
                    doubleFinancings++;
                } catch {}
            } catch {}
        } else if (
            inv.state == IInvoiceLiens.InvoiceState.Cancelled || inv.state == IInvoiceLiens.InvoiceState.Paid
        ) {
            vm.prank(inv.seller);
            try financing.applyForFinancing(id, banks[bankSeed % 2], 1) returns (uint256 financingId) {
                vm.prank(banks[bankSeed % 2]);
                try financing.approve(financingId, 1, 0, uint64(block.timestamp + 1 days), "x") {
                    financedAfterCancelOrPay++;
                } catch {}
            } catch {}
        }
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}

contract ReceivablesInvariantTest is World {
    uint256 private constant SUPPLY_EACH = 1_000_000_000_00;

    ReceivablesHandler private handler;
    address[6] private parties;
    uint256 private initialSupply;

    /// @dev Sellers: the CN exporter and supplier; buyer: the US importer; banks: both. Time runs for years
    /// here, so the corporates' KYC is renewed without end, and every party gets a deep purse.
    function setUp() public {
        _deployWorld();
        parties = [exporter, supplier, importer, buyerDe, bankCn, bankUs];
        for (uint256 i; i < 4; ++i) {
            vm.prank(bankCn);
            registry.attestKyc(
                parties[i], IParticipantRegistry.KycStatus.Approved, type(uint48).max, "kyc"
            );
        }
        for (uint256 i; i < parties.length; ++i) {
            vm.prank(bankCn);
            usd.mint(parties[i], SUPPLY_EACH, "deposit");
        }
        initialSupply = usd.totalSupply();

        handler = new ReceivablesHandler(invoices, financing, usd, [exporter, supplier], importer, [bankCn, bankUs]);
        targetContract(address(handler));
    }

    /// @notice The handler's actions really register, finance (refusing the second bank), pay, default and
    /// recover: the invariants below are not vacuous.
    function test_handlerFinancesPaysDefaultsAndRecovers() public {
        handler.register(0, 100_000_00, 30 days, true);
        handler.finance(0, 0, 79, 500); // 80% advance at 5%
        vm.assertEq(handler.financingCount(), 1, "financed");
        vm.assertEq(handler.doubleFinancings(), 0, "second bank refused");
        uint256 financingId = handler.financingIds(0);
        handler.pay(0, 9_999_99); // 10,000.00 from the buyer, all to the bank
        vm.assertEq(financing.financing(financingId).repaidAmount, 10_000_00, "repaid through the registry");
        handler.warp(60 days - 1); // past due date plus grace
        handler.defaultAndRecourse(0);
        vm.assertEq(uint256(financing.financing(financingId).state), 5, "defaulted");
        handler.defaultAndRecourse(0);
        vm.assertEq(uint256(financing.financing(financingId).state), 6, "closed by recourse");
        handler.finance(0, 0, 0, 0); // the invoice is defaulted: financing it again is refused
        vm.assertEq(handler.financingCount(), 1, "not refinanced");
        invariant_receivableFinancingRules();
    }

    /// @notice Every rule of receivable financing below, checked after each call of one campaign (forge runs
    /// one campaign per invariant function: one function checks them all for the price of one).
    function invariant_receivableFinancingRules() public view {
        (uint256[] memory ids, uint256[] memory open, uint256[] memory advanced) = _openFinancingsByInvoice();
        _neverTwoLiens(ids, open);
        _advancedNotRepaidNeverExceedsUnpaid(ids, advanced);
        _tokenBalancesConserved();
        _cancelledOrPaidNeverFinanced(ids);
    }

    /// @notice At most one open financing per invoice, and the registry's lien is exactly that financing's.
    function _neverTwoLiens(uint256[] memory ids, uint256[] memory open) internal view {
        vm.assertEq(handler.doubleFinancings(), 0, "a second financing succeeded");
        for (uint256 i; i < ids.length; ++i) {
            vm.assertLe(open[i], 1, "two open financings");
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(ids[i]);
            uint256 active = financing.activeFinancingOf(ids[i]);
            if (active == 0) {
                vm.assertEq(inv.lienFinancier, address(0), "lien without financing");
            } else {
                vm.assertEq(inv.lienInstrument, address(financing), "lien instrument");
                vm.assertEq(inv.lienFinancier, financing.financing(active).bank, "lien financier");
            }
        }
    }

    /// @notice What is advanced against an invoice and not yet repaid never exceeds what is still unpaid on it
    /// (audit L2: the cap is the outstanding amount, not the face amount). The part of an advance not yet
    /// repaid is `advance - min(repaid, advance)` (repayments cover the advance before interest in this
    /// measure, which is the conservative reading for the rule).
    function _advancedNotRepaidNeverExceedsUnpaid(uint256[] memory ids, uint256[] memory advanced) internal view {
        for (uint256 i; i < ids.length; ++i) {
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(ids[i]);
            vm.assertLe(advanced[i], inv.faceAmount - inv.paidAmount, "advanced above what is unpaid");
        }
    }

    /// @notice Money only moves between participants: the supply is unchanged, the parties hold all of it,
    /// and neither contract ever holds a token.
    function _tokenBalancesConserved() internal view {
        vm.assertEq(usd.totalSupply(), initialSupply, "supply changed");
        uint256 sum;
        for (uint256 i; i < parties.length; ++i) {
            sum += usd.balanceOf(parties[i]);
        }
        vm.assertEq(sum, initialSupply, "balances not conserved");
        vm.assertEq(usd.balanceOf(address(invoices)), 0, "registry holds money");
        vm.assertEq(usd.balanceOf(address(financing)), 0, "financing holds money");
    }

    /// @notice A cancelled invoice never carries a lien, and no cancelled or paid invoice is ever financed.
    function _cancelledOrPaidNeverFinanced(uint256[] memory ids) internal view {
        vm.assertEq(handler.financedAfterCancelOrPay(), 0, "financed after cancel or pay");
        for (uint256 i; i < ids.length; ++i) {
            if (invoices.state(ids[i]) == IInvoiceLiens.InvoiceState.Cancelled) {
                vm.assertEq(invoices.invoice(ids[i]).lienFinancier, address(0), "cancelled with lien");
                vm.assertEq(financing.activeFinancingOf(ids[i]), 0, "cancelled but financed");
            }
        }
    }

    /// @dev One pass over the financings: per invoice (in the handler's order), how many are open (`Active`
    /// or `Defaulted`) and how much of their advances is not yet repaid.
    function _openFinancingsByInvoice()
        private
        view
        returns (uint256[] memory ids, uint256[] memory open, uint256[] memory advanced)
    {
        ids = handler.allInvoiceIds();
        open = new uint256[](ids.length);
        advanced = new uint256[](ids.length);
        uint256[] memory financingIds = handler.allFinancingIds();
        for (uint256 j; j < financingIds.length; ++j) {
            IReceivableFinancing.Financing memory f = financing.financing(financingIds[j]);
            if (f.state != IReceivableFinancing.FinancingState.Active
                    && f.state != IReceivableFinancing.FinancingState.Defaulted) continue;
            uint256 i;
            while (ids[i] != f.invoiceId) ++i; // every financing's invoice was registered through the handler
            open[i] += 1;
            advanced[i] += f.repaidAmount >= f.amount ? 0 : f.amount - f.repaidAmount;
        }
    }
}
