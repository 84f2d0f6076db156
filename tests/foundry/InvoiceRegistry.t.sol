// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "./utils/World.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IInvoicePaymentHook} from "../../contracts/interfaces/IInvoicePaymentHook.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice A lien instrument that implements the payment hook (ERC-165) and answers zero: the least an
/// instrument must be for the operator to register it.
contract MinimalLienInstrument {
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IInvoicePaymentHook).interfaceId || interfaceId == 0x01ffc9a7;
    }

    function onInvoicePayment(uint256, uint256, uint256) external pure returns (uint256, bool) {
        return (0, false);
    }
}

/// @notice Limits of the invoice registry that are too costly to reach through Ape.
contract InvoiceRegistryTest is World {
    function setUp() public {
        _deployWorld();
    }

    /// @dev The world accepts USD and CNY: 253 more currencies fill the 255 slots.
    function test_setCurrency_failsAfter255Currencies() public {
        vm.startPrank(operator);
        for (uint160 i = 1; i <= 253; ++i) {
            invoices.setCurrency(address(i), true);
        }
        vm.assertTrue(invoices.isCurrency(address(uint160(253))), "255th accepted");
        invoices.setCurrency(address(uint160(1)), false); // known entries can still be changed
        vm.expectRevert(IInvoiceRegistry.InvoiceRegistryTooManyEntries.selector);
        invoices.setCurrency(address(uint160(256)), true);
        vm.stopPrank();
    }

    /// @dev The world registers three lien instruments: 252 more fill the 255 slots. Each must implement the
    /// payment hook and be an authorized `Instrument` participant (checked at registration).
    function test_setInstrument_failsAfter255Instruments() public {
        for (uint256 i = 1; i <= 253; ++i) {
            address instrument = address(new MinimalLienInstrument());
            _register(instrument, IParticipantRegistry.ParticipantKind.Instrument, "SG");
            if (i == 253) {
                vm.expectRevert(IInvoiceRegistry.InvoiceRegistryTooManyEntries.selector);
            }
            vm.prank(operator);
            invoices.setInstrument(instrument, true);
        }
        vm.prank(operator);
        invoices.setInstrument(address(financing), false); // known entries can still be changed
        vm.assertFalse(invoices.isInstrument(address(financing)), "deregistered");
    }
}

/// @notice A lien instrument whose payment hook calls back into the registry (forbidden: the registry is
/// locked while it asks the hook).
contract ReentrantLienInstrument {
    InvoiceRegistry private immutable _invoices;

    constructor(InvoiceRegistry invoices_) {
        _invoices = invoices_;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IInvoicePaymentHook).interfaceId || interfaceId == 0x01ffc9a7;
    }

    function take(uint256 invoiceId, address creditor, address financier) external {
        _invoices.takeLien(invoiceId, creditor, financier);
    }

    function onInvoicePayment(uint256 invoiceId, uint256, uint256) external returns (uint256, bool) {
        _invoices.releaseLien(invoiceId); // would leave the registry's book stale if it were allowed
        return (0, false);
    }
}

contract InvoiceRegistryReentrancyTest is World {
    ReentrantLienInstrument private instrument;

    function setUp() public {
        _deployWorld();
        instrument = new ReentrantLienInstrument(invoices);
        _register(address(instrument), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        vm.prank(operator);
        invoices.setInstrument(address(instrument), true);
    }

    function test_pay_failsIfTheLienHookCallsBackIntoTheRegistry() public {
        uint256 id = _invoice(exporter, importer, "INV-R-1", 1_000_00, uint64(block.timestamp + 30 days), true);
        instrument.take(id, exporter, bankCn); // the seller's consent is the instrument's to check
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vm.prank(importer);
        invoices.pay(id, 1_00);
        vm.assertEq(invoices.invoice(id).lienFinancier, bankCn, "lien intact");
        vm.assertEq(invoices.invoice(id).paidAmount, 0, "nothing paid");
    }
}
