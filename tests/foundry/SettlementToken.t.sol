// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {Vm} from "./utils/Vm.sol";
import {World} from "./utils/World.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";

/// @notice Fuzz tests of the settlement token's transfer rule and reporting events (DESIGN §2).
contract SettlementTokenFuzzTest is World {
    bytes4 internal constant GDDS = "GDDS";
    bytes32 internal constant INVOICE_REF = keccak256("INV-2026-0001");

    function setUp() public {
        _deployWorld();
    }

    // ───────────────────────────── Transfers ─────────────────────────────

    function testFuzz_transfer_movesExactAmountAndKeepsSupply(uint256 amount) public {
        amount = bound(amount, 0, INITIAL_BALANCE);
        uint256 supply = usd.totalSupply();

        vm.prank(exporter);
        usd.transferWithPurpose(importer, amount, GDDS, INVOICE_REF);

        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE - amount, "sender debited");
        vm.assertEq(usd.balanceOf(importer), INITIAL_BALANCE + amount, "receiver credited");
        vm.assertEq(usd.totalSupply(), supply, "supply unchanged");
    }

    function testFuzz_transfer_failsIfOverBalance(uint256 amount, bool withPurpose) public {
        _assertOverBalanceRefused(bound(amount, INITIAL_BALANCE + 1, type(uint256).max), withPurpose);
    }

    function test_transfer_failsOneUnitOverBalance() public {
        _assertOverBalanceRefused(INITIAL_BALANCE + 1, false);
        _assertOverBalanceRefused(INITIAL_BALANCE + 1, true);
    }

    function testFuzz_transfer_failsIfAnyPartyNotParticipant(address stranger, uint256 amount, bool asSender) public {
        vm.assume(stranger != address(0) && registry.kindOf(stranger) == IParticipantRegistry.ParticipantKind.None);
        vm.assume(stranger != address(forwarder) && stranger != address(vm)); // the forwarder relays, never sends
        amount = bound(amount, 0, INITIAL_BALANCE);
        (address from, address to) = asSender ? (stranger, exporter) : (exporter, stranger);
        if (asSender) amount = 0; // a stranger holds nothing: the party check comes first anyway

        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SettlementTokenInactiveParty.selector, stranger));
        vm.prank(from);
        usd.transfer(to, amount);
    }

    function testFuzz_transfer_frozenPartyRefusedAndBalanceKept(uint256 amount, bool frozenSends, bool withPurpose)
        public
    {
        amount = bound(amount, 1, INITIAL_BALANCE);
        _freeze(exporter);
        (address from, address to) = frozenSends ? (exporter, importer) : (importer, exporter);

        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SettlementTokenInactiveParty.selector, exporter));
        vm.prank(from);
        if (withPurpose) usd.transferWithPurpose(to, amount, GDDS, INVOICE_REF);
        else usd.transfer(to, amount);

        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE, "frozen balance kept");
        vm.assertEq(usd.balanceOf(importer), INITIAL_BALANCE, "counterparty balance kept");
    }

    /// @dev The spender is an instrument contract, itself a registered participant (kind `Instrument`).
    function testFuzz_transferFromWithPurpose_spendsExactAllowance(uint256 allowance, uint256 amount) public {
        allowance = bound(allowance, 0, INITIAL_BALANCE);
        amount = bound(amount, 0, allowance);
        address instrument = makeAddr("instrument");
        _register(instrument, IParticipantRegistry.ParticipantKind.Instrument, "SG");
        vm.prank(importer);
        usd.approve(instrument, allowance);

        vm.recordLogs();
        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.PaymentTransfer(importer, exporter, amount, GDDS, INVOICE_REF);
        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.CrossBorderTransfer(importer, exporter, "US", "CN", "USD", amount, GDDS, INVOICE_REF);
        vm.prank(instrument);
        usd.transferFromWithPurpose(importer, exporter, amount, GDDS, INVOICE_REF);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(_count(logs, ISettlementToken.PaymentTransfer.selector), 1, "one PaymentTransfer");
        vm.assertEq(_count(logs, ISettlementToken.CrossBorderTransfer.selector), 1, "one CrossBorderTransfer");
        vm.assertEq(usd.allowance(importer, instrument), allowance - amount, "allowance spent");
        vm.assertEq(usd.balanceOf(importer), INITIAL_BALANCE - amount, "payer debited");
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE + amount, "paid");
        vm.assertEq(usd.balanceOf(instrument), 0, "the spender moves money, holds none");
    }

    /// @notice A spender that is not an active participant (never registered, or frozen) spends no
    /// allowance, with either entry point (M4: every party of a transfer is checked, the spender too).
    function testFuzz_transferFrom_failsIfSpenderInactive(uint256 amount, bool frozen, bool withPurpose) public {
        amount = bound(amount, 1, INITIAL_BALANCE);
        address spender = makeAddr("instrument");
        if (frozen) {
            _register(spender, IParticipantRegistry.ParticipantKind.Instrument, "SG");
            _freeze(spender);
        }
        vm.prank(importer);
        usd.approve(spender, amount);

        vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SettlementTokenInactiveParty.selector, spender));
        vm.prank(spender);
        if (withPurpose) usd.transferFromWithPurpose(importer, exporter, amount, GDDS, INVOICE_REF);
        else usd.transferFrom(importer, exporter, amount);

        vm.assertEq(usd.allowance(importer, spender), amount, "allowance kept");
        vm.assertEq(usd.balanceOf(importer), INITIAL_BALANCE, "payer kept its balance");
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE, "receiver got nothing");
    }

    // ───────────────────────────── Reporting ─────────────────────────────

    /// @notice A cross-border payment emits `Transfer`, `PaymentTransfer` and `CrossBorderTransfer`, once each,
    /// with exact fields (purpose code and reference carried), and moves exactly the amount.
    function testFuzz_crossBorderTransfer_reportsExactFields(uint256 amount) public {
        amount = bound(amount, 0, INITIAL_BALANCE);

        vm.recordLogs();
        vm.expectEmit(true, true, true, true);
        emit IERC20.Transfer(importer, exporter, amount);
        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.PaymentTransfer(importer, exporter, amount, GDDS, INVOICE_REF);
        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.CrossBorderTransfer(importer, exporter, "US", "CN", "USD", amount, GDDS, INVOICE_REF);
        vm.prank(importer);
        usd.transferWithPurpose(exporter, amount, GDDS, INVOICE_REF);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(_count(logs, IERC20.Transfer.selector), 1, "one Transfer");
        vm.assertEq(_count(logs, ISettlementToken.PaymentTransfer.selector), 1, "one PaymentTransfer");
        vm.assertEq(_count(logs, ISettlementToken.CrossBorderTransfer.selector), 1, "one CrossBorderTransfer");
        vm.assertEq(usd.balanceOf(importer), INITIAL_BALANCE - amount, "payer debited");
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE + amount, "payee credited");
    }

    function testFuzz_largeValue_reportedIffAtOrAboveThreshold(uint256 threshold, uint256 amount) public {
        threshold = bound(threshold, 1, INITIAL_BALANCE);
        amount = bound(amount, 0, INITIAL_BALANCE);
        vm.prank(regulator);
        usd.setLargeValueThreshold(threshold);

        vm.recordLogs();
        vm.prank(exporter);
        usd.transfer(supplier, amount); // domestic: only the large-value rule can emit a report
        uint256 reports = _count(vm.getRecordedLogs(), ISettlementToken.LargeValueReported.selector);

        vm.assertEq(reports, amount >= threshold ? 1 : 0, "reported iff amount >= threshold");
    }

    function test_largeValue_atThresholdAndOneBelow() public {
        uint256 threshold = 50_000_00;
        vm.prank(regulator);
        usd.setLargeValueThreshold(threshold);

        vm.recordLogs();
        vm.prank(importer);
        usd.transferWithPurpose(exporter, threshold - 1, GDDS, INVOICE_REF);
        vm.assertEq(_count(vm.getRecordedLogs(), ISettlementToken.LargeValueReported.selector), 0, "one below");

        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.LargeValueReported(importer, exporter, "USD", threshold, threshold, GDDS, INVOICE_REF);
        vm.prank(importer);
        usd.transferWithPurpose(exporter, threshold, GDDS, INVOICE_REF);
    }

    // ───────────────────────────── Mint and burn ─────────────────────────────

    /// @notice Minting needs an authorized `BANK_ROLE` (M4): a caller without the role (any address, and every
    /// registered participant of another kind: corporate, regulator, operator) is refused by the registry's one
    /// check, a bank whose role was revoked too, and a frozen bank as frozen.
    function testFuzz_mint_onlyByAuthorizedBank(address caller, uint256 amount) public {
        vm.assume(caller != bankCn && caller != bankUs && caller != address(forwarder) && caller != address(vm));
        amount = bound(amount, 1, 1e30);
        bytes32 bankRole = registry.BANK_ROLE();

        address[5] memory notBanks = [caller, exporter, regulator, operator, outsider];
        for (uint256 i; i < notBanks.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, notBanks[i], bankRole)
            );
            vm.prank(notBanks[i]);
            usd.mint(exporter, amount, bytes32(0));
        }
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE, "nothing minted");

        vm.prank(bankUs);
        usd.mint(exporter, amount, bytes32(0));
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE + amount, "minted by bank");

        vm.prank(operator);
        registry.revokeRole(bankRole, bankUs);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bankUs, bankRole));
        vm.prank(bankUs);
        usd.mint(exporter, amount, bytes32(0));

        _freeze(bankCn);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryParticipantFrozen.selector, bankCn)
        );
        vm.prank(bankCn);
        usd.mint(exporter, amount, bytes32(0));
        vm.assertEq(usd.balanceOf(exporter), INITIAL_BALANCE + amount, "nothing more minted");
    }

    /// @notice The reporting threshold is the regulator's role, not its kind: once the operator revokes
    /// `REGULATOR_ROLE`, the regulator can no longer switch reporting off (M4).
    function test_setLargeValueThreshold_failsOnceRegulatorRoleRevoked() public {
        vm.prank(regulator);
        usd.setLargeValueThreshold(1_000_00);
        bytes32 regulatorRole = registry.REGULATOR_ROLE();
        vm.prank(operator);
        registry.revokeRole(regulatorRole, regulator);

        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, regulator, regulatorRole)
        );
        vm.prank(regulator);
        usd.setLargeValueThreshold(0);
        vm.assertEq(usd.largeValueThreshold(), 1_000_00, "threshold kept");
    }

    function testFuzz_burn_reducesSupply(uint256 amount) public {
        amount = bound(amount, 1, INITIAL_BALANCE);
        uint256 supply = usd.totalSupply();

        vm.recordLogs();
        vm.expectEmit(true, true, true, true);
        emit IERC20.Transfer(bankCn, address(0), amount);
        vm.expectEmit(true, true, true, true);
        emit ISettlementToken.DepositBurned(bankCn, amount, keccak256("WDR"));
        vm.prank(bankCn);
        usd.burn(amount, keccak256("WDR"));

        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(_count(logs, IERC20.Transfer.selector), 1, "one Transfer");
        vm.assertEq(_count(logs, ISettlementToken.DepositBurned.selector), 1, "one DepositBurned");
        vm.assertEq(usd.totalSupply(), supply - amount, "supply reduced");
        vm.assertEq(usd.balanceOf(bankCn), INITIAL_BALANCE - amount, "bank debited");
    }

    /// @dev `exporter` tries to send `amount` over its balance, plainly or as a payment: refused by name.
    function _assertOverBalanceRefused(uint256 amount, bool withPurpose) private {
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector, exporter, INITIAL_BALANCE, amount
            )
        );
        vm.prank(exporter);
        if (withPurpose) usd.transferWithPurpose(importer, amount, GDDS, INVOICE_REF);
        else usd.transfer(importer, amount);
    }

    function _count(Vm.Log[] memory logs, bytes32 topic0) private view returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(usd) && logs[i].topics.length > 0 && logs[i].topics[0] == topic0) ++n;
        }
    }
}
