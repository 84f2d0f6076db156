// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {Vm} from "./Vm.sol";

/// @notice A minimal stand-in for forge-std's Test: the cheatcode handle, `bound`, and the invariant
/// targeting hooks forge calls on a test contract (`targetContracts`, `targetSelectors`, `targetSenders`).
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    address[] private _targetedSenders;
    FuzzSelector[] private _targetedSelectors;

    // ───────────────────────────── Invariant targeting ─────────────────────────────

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    /// @dev Maps `x` into [min, max] uniformly enough for fuzzing (forge-std's `bound` without logging).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    /// @dev An invoice number in the registry's one canonical encoding: printable ASCII, left-aligned,
    /// zero-padded (e.g. `invoiceNumber("INV-", 7)` is "INV-7"). At most 32 characters.
    function invoiceNumber(string memory prefix, uint256 n) internal pure returns (bytes32) {
        bytes memory text = abi.encodePacked(prefix, Strings.toString(n));
        require(text.length <= 32, "invoice number too long");
        return bytes32(text);
    }

    function makeAddr(string memory name) internal returns (address account) {
        account = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(account, name);
    }
}
