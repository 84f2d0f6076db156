// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The AccessControl roles of tradefin, in one place.
/// @notice Roles decide what a participant may do; kinds only describe what it is (DESIGN §1). The
/// participant registry grants the role of a participant's kind when it registers it, and the operator (the
/// registry's admin) grants or revokes any role afterwards. Every contract asks the registry one question
/// before a state change: does this account hold this role, and is it active now
/// (`IParticipantRegistry.requireAuthorized`)?
/// @dev The registry keeps these roles in a bitmap inside each participant's storage slot, so one storage
/// read answers role, freeze and KYC together. `bit(role)` is the position in that bitmap.
library Roles {
    bytes32 internal constant OPERATOR = keccak256("OPERATOR_ROLE");
    bytes32 internal constant REGULATOR = keccak256("REGULATOR_ROLE");
    bytes32 internal constant BANK = keccak256("BANK_ROLE");
    bytes32 internal constant ATTESTER = keccak256("ATTESTER_ROLE");
    bytes32 internal constant CORPORATE = keccak256("CORPORATE_ROLE");
    bytes32 internal constant INSTRUMENT = keccak256("INSTRUMENT_ROLE");
    /// @dev A customs authority: may replace a customs declaration another attester attached (L7).
    bytes32 internal constant CUSTOMS = keccak256("CUSTOMS_ROLE");

    /// @notice The bit of `role` in a participant's role bitmap, or zero for a role this library does not
    /// define (such roles live in OpenZeppelin's AccessControl storage).
    function bit(bytes32 role) internal pure returns (uint8) {
        if (role == CORPORATE) return 1 << 0;
        if (role == BANK) return 1 << 1;
        if (role == REGULATOR) return 1 << 2;
        if (role == ATTESTER) return 1 << 3;
        if (role == OPERATOR) return 1 << 4;
        if (role == INSTRUMENT) return 1 << 5;
        if (role == CUSTOMS) return 1 << 6;
        return 0;
    }
}
