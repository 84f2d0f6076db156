// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

contract SmokeTest is Test {
    function test_operatorIsActive() public {
        address operator = makeAddr("operator");
        ParticipantRegistry registry = new ParticipantRegistry(operator, "SG", keccak256("op"));
        vm.assertTrue(registry.isActive(operator), "operator active");
        vm.assertEq(uint256(registry.kindOf(operator)), uint256(IParticipantRegistry.ParticipantKind.Operator), "kind");
    }
}
