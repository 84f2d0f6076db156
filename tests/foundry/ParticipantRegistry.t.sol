// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {World} from "./utils/World.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "../../contracts/interfaces/ISettlementToken.sol";

/// @notice Fuzz tests of the registry's rules that depend on chain time and on input shape (DESIGN §1).
contract ParticipantRegistryFuzzTest is World {
    function setUp() public {
        _deployWorld();
    }

    /// @notice A corporate is active strictly before its KYC expiry: it passes `requireActive` and moves
    /// money; from the expiry on it is refused by name, by the registry and by the token.
    function testFuzz_kyc_activeStrictlyBeforeExpiry(uint256 validFor, uint256 elapsed) public {
        validFor = bound(validFor, 1, 3650 days);
        elapsed = bound(elapsed, 0, 2 * 3650 days);
        uint48 expiry = uint48(block.timestamp + validFor);
        vm.prank(bankCn);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Approved, expiry, keccak256("kyc"));

        vm.warp(block.timestamp + elapsed);

        _assertActiveIffBeforeExpiry(expiry);
    }

    function test_kyc_activeOneSecondBeforeExpiryInactiveAtExpiry() public {
        uint48 expiry = uint48(block.timestamp + 1 days);
        vm.prank(bankCn);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Approved, expiry, keccak256("kyc"));

        vm.warp(expiry - 1);
        vm.assertTrue(registry.isActive(exporter), "active one second before expiry");
        _assertActiveIffBeforeExpiry(expiry);
        vm.warp(expiry);
        vm.assertFalse(registry.isActive(exporter), "inactive at expiry");
        _assertActiveIffBeforeExpiry(expiry);
    }

    function testFuzz_attestKyc_failsIfApprovalNotInFuture(uint256 past) public {
        _assertApprovalRefused(uint48(block.timestamp - bound(past, 0, block.timestamp)));
    }

    /// @notice The boundaries of the rule above: an approval expiring now, or one second ago, is refused.
    function test_attestKyc_failsIfApprovalExpiresNowOrOneSecondAgo() public {
        _assertApprovalRefused(uint48(block.timestamp));
        _assertApprovalRefused(uint48(block.timestamp - 1));
    }

    function testFuzz_register_acceptsOnlyTwoUpperCaseLetters(bytes2 code) public {
        _assertRegisteredIffTwoUpperCaseLetters(code, makeAddr("newcomer"), keccak256("id"));
    }

    /// @notice The rule above at the characters around `A`..`Z` (`@`, `[`, backquote, `{`), lower case, digits
    /// and zero bytes, in either position, and at `A` and `Z` themselves.
    function test_register_jurisdictionBoundaries() public {
        bytes2[14] memory codes =
            [bytes2("cn"), "C1", bytes2(0), "C@", "[N", "@N", "C[", "`N", "C{", "Cn", "AZ", "ZA", "AA", "ZZ"];
        for (uint256 i; i < codes.length; ++i) {
            address account = address(uint160(0xC0FFEE00 + i));
            _assertRegisteredIffTwoUpperCaseLetters(codes[i], account, keccak256(abi.encode("id", i)));
        }
    }

    function testFuzz_freeze_inactiveUntilUnfrozen(uint256 elapsed) public {
        _freeze(importer);
        vm.warp(block.timestamp + bound(elapsed, 0, KYC_PERIOD - 1));
        vm.assertFalse(registry.isActive(importer), "frozen");

        vm.prank(regulator);
        registry.unfreezeParticipant(importer, keccak256("cleared"));
        vm.assertTrue(registry.isActive(importer), "active again");
    }

    /// @notice KYC belongs to the bank that attested it (audit M5): another bank's revocation (or a shorter
    /// approval) changes only its own attestation, so the corporate stays active on the first bank's; a
    /// caller without `BANK_ROLE` is refused by the registry's one check.
    function testFuzz_kycRevoke_onlyTheAttestingBanksOwn(address caller, uint256 shortExpiry, bool revoke) public {
        vm.assume(caller != bankCn && caller != address(forwarder) && caller != address(vm));
        IParticipantRegistry.KycAttestation memory first = registry.kycAttestation(exporter, bankCn);
        IParticipantRegistry.KycStatus status =
            revoke ? IParticipantRegistry.KycStatus.Revoked : IParticipantRegistry.KycStatus.Approved;
        uint48 expiry = revoke ? 0 : uint48(block.timestamp + bound(shortExpiry, 1, 1 days));
        if (caller != bankUs) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.BANK_ROLE()
                )
            );
        }
        vm.prank(caller);
        registry.attestKyc(exporter, status, expiry, keccak256("revoke"));

        IParticipantRegistry.KycAttestation memory kept = registry.kycAttestation(exporter, bankCn);
        vm.assertEq(uint256(kept.status), uint256(first.status), "the first bank's status kept");
        vm.assertEq(uint256(kept.expiry), uint256(first.expiry), "the first bank's expiry kept");
        vm.assertEq(uint256(registry.participant(exporter).kycExpiry), uint256(first.expiry), "validity kept");
        vm.warp(block.timestamp + 1 days + 1); // past the other bank's short approval
        vm.assertTrue(registry.isActive(exporter), "still active on the first bank's attestation");
    }

    /// @notice The regulator revokes every attestation at once: the corporate is out until a bank attests
    /// afresh.
    function test_revokeKyc_byRegulatorEndsEveryAttestation() public {
        vm.prank(bankUs);
        registry.attestKyc(
            exporter, IParticipantRegistry.KycStatus.Approved, uint48(block.timestamp + 30 days), keccak256("kyc2")
        );
        vm.prank(regulator);
        registry.revokeKyc(exporter, keccak256("AML"));
        vm.assertFalse(registry.isActive(exporter), "inactive after revocation");
        vm.assertEq(uint256(registry.kycAttestation(exporter, bankUs).status), 3, "bank US revoked");

        vm.prank(bankUs);
        registry.attestKyc(
            exporter, IParticipantRegistry.KycStatus.Approved, uint48(block.timestamp + 30 days), keccak256("kyc3")
        );
        vm.assertTrue(registry.isActive(exporter), "active on a fresh attestation");
    }

    /// @dev `exporter`, whose only approval expires at `expiry`, is active iff now < expiry: `isActive`,
    /// `requireActive` (`ParticipantRegistryKycNotValid` once expired) and a transfer by it
    /// (`SettlementTokenInactiveParty` once expired) agree. The receiver is a bank: no KYC of its own to lapse.
    function _assertActiveIffBeforeExpiry(uint48 expiry) private {
        bool active = block.timestamp < expiry;
        vm.assertEq(registry.isActive(exporter), active, "active iff now < expiry");
        uint256 balance = usd.balanceOf(exporter);
        if (!active) {
            vm.expectRevert(
                abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryKycNotValid.selector, exporter)
            );
        }
        registry.requireActive(exporter);
        if (!active) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementToken.SettlementTokenInactiveParty.selector, exporter));
        }
        vm.prank(exporter);
        usd.transfer(bankCn, 1_00);
        vm.assertEq(usd.balanceOf(exporter), active ? balance - 1_00 : balance, "moves money iff active");
    }

    function _assertApprovalRefused(uint48 expiry) private {
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantRegistry.ParticipantRegistryInvalidKycExpiry.selector, expiry, block.timestamp
            )
        );
        vm.prank(bankCn);
        registry.attestKyc(exporter, IParticipantRegistry.KycStatus.Approved, expiry, keccak256("kyc"));
    }

    function _assertRegisteredIffTwoUpperCaseLetters(bytes2 code, address account, bytes32 identity) private {
        bool valid = _isUpper(code[0]) && _isUpper(code[1]);
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(IParticipantRegistry.ParticipantRegistryInvalidJurisdiction.selector, code)
            );
        }
        vm.prank(operator);
        registry.registerParticipant(account, IParticipantRegistry.ParticipantKind.Bank, code, identity);

        bool registered = registry.kindOf(account) == IParticipantRegistry.ParticipantKind.Bank;
        vm.assertEq(registered, valid, "registered iff valid");
    }

    function _isUpper(bytes1 c) private pure returns (bool) {
        return c >= 0x41 && c <= 0x5A;
    }
}
