// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";

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
