// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {World} from "./utils/World.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IInvoicePaymentHook} from "../../contracts/interfaces/IInvoicePaymentHook.sol";

/// @notice Limits of the invoice registry that are too costly to reach through Ape.
contract InvoiceRegistryTest is Test {
    ParticipantRegistry private registry;
    InvoiceRegistry private invoices;

    function setUp() public {
        registry = new ParticipantRegistry(address(this), "SG", keccak256("operator"));
        invoices = new InvoiceRegistry(registry, 7 days);
    }

    function test_setCurrency_failsAfter255Currencies() public {
        for (uint160 i = 1; i <= 255; ++i) {
            invoices.setCurrency(address(i), true);
        }
        vm.assertTrue(invoices.isCurrency(address(uint160(255))), "255th accepted");
        invoices.setCurrency(address(uint160(1)), false); // known entries can still be changed
        vm.expectRevert(IInvoiceRegistry.InvoiceRegistryTooManyEntries.selector);
        invoices.setCurrency(address(uint160(256)), true);
    }

    function test_setInstrument_failsAfter255Instruments() public {
        for (uint160 i = 1; i <= 255; ++i) {
            invoices.setInstrument(address(i), true);
        }
        vm.expectRevert(IInvoiceRegistry.InvoiceRegistryTooManyEntries.selector);
        invoices.setInstrument(address(uint160(256)), true);
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

    function take(uint256 invoiceId, address financier) external {
        _invoices.takeLien(invoiceId, financier);
    }

    function onInvoicePayment(uint256 invoiceId, uint256) external returns (uint256, bool) {
        _invoices.releaseLien(invoiceId); // would leave the registry's book stale if it were allowed
        return (0, false);
    }
}

contract InvoiceRegistryReentrancyTest is World {
    InvoiceRegistry private invoices;
    ReentrantLienInstrument private instrument;

    function setUp() public {
        _deployWorld();
        invoices = new InvoiceRegistry(registry, 7 days);
        instrument = new ReentrantLienInstrument(invoices);
        vm.startPrank(operator);
        invoices.setCurrency(address(usd), true);
        invoices.setInstrument(address(instrument), true);
        vm.stopPrank();
    }

    function test_pay_failsIfTheLienHookCallsBackIntoTheRegistry() public {
        vm.prank(exporter);
        uint256 id = invoices.register(
            importer, address(usd), "INV-R-1", 1_000_00, uint64(block.timestamp), uint64(block.timestamp + 30 days), "doc"
        );
        instrument.take(id, bankCn);
        vm.startPrank(importer);
        usd.approve(address(invoices), 1_000_00);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        invoices.pay(id, 1_00);
        vm.stopPrank();
        vm.assertEq(invoices.invoice(id).lienFinancier, bankCn, "lien intact");
        vm.assertEq(invoices.invoice(id).paidAmount, 0, "nothing paid");
    }
}
