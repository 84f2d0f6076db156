// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title FalseReturningToken
/// @notice TEST ONLY. A token whose `transferFromWithPurpose` answers `false` without moving anything,
/// as a non-tradefin token might: the payment router must refuse it (`PaymentRouterTransferFailed`).
/// Never deployed by the platform scripts.
contract FalseReturningToken {
    function transferFromWithPurpose(address, address, uint256, bytes4, bytes32) external pure returns (bool) {
        return false;
    }
}
