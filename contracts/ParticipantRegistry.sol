// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";

/// @title ParticipantRegistry
/// @notice KYC, roles, jurisdictions and freezes for every tradefin participant.
/// @dev Table of contents: roles · storage · constructor · operator · banks · regulator · views · internals.
///
/// Roles mirror kinds: registering a participant grants the role of its kind (`BANK_ROLE`,
/// `REGULATOR_ROLE`, `ATTESTER_ROLE`, `CORPORATE_ROLE`, `OPERATOR_ROLE`, `INSTRUMENT_ROLE`). Authority to act needs the
/// role and an active participant record of the matching kind, so a frozen bank can do nothing, and a
/// role granted by the admin to a participant of another kind confers nothing here.
contract ParticipantRegistry is AccessControl, IParticipantRegistry {
    // ───────────────────────────── Roles ─────────────────────────────

    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    bytes32 public constant BANK_ROLE = keccak256("BANK_ROLE");
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");
    bytes32 public constant CORPORATE_ROLE = keccak256("CORPORATE_ROLE");
    bytes32 public constant INSTRUMENT_ROLE = keccak256("INSTRUMENT_ROLE");

    // ───────────────────────────── Storage ─────────────────────────────

    mapping(address account => Participant) private _participants;
    mapping(address account => bytes32) private _identityHashes;
    mapping(address instrument => mapping(uint256 instrumentId => bool)) private _frozenInstruments;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param operator The platform operator: admin of every role, registered as an `Operator`.
    /// @param jurisdiction The operator's jurisdiction.
    /// @param identityHash The operator's identity hash.
    constructor(address operator, bytes2 jurisdiction, bytes32 identityHash) {
        _grantRole(DEFAULT_ADMIN_ROLE, operator);
        _register(operator, ParticipantKind.Operator, jurisdiction, identityHash);
    }

    // ───────────────────────────── Operator ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function registerParticipant(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash)
        external
        onlyRole(OPERATOR_ROLE)
    {
        _requireActiveSender(ParticipantKind.Operator);
        _register(account, kind, jurisdiction, identityHash);
    }

    // ───────────────────────────── Banks ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function attestKyc(address account, KycStatus status, uint48 expiry, bytes32 evidenceHash)
        external
        onlyRole(BANK_ROLE)
    {
        _requireActiveSender(ParticipantKind.Bank);
        Participant storage p = _participants[account];
        if (p.kind != ParticipantKind.Corporate) {
            revert ParticipantRegistryUnexpectedKind(account, p.kind, ParticipantKind.Corporate);
        }
        if (status == KycStatus.None) revert ParticipantRegistryInvalidKycStatus(status);
        if (status == KycStatus.Approved) {
            // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
            // slither-disable-next-line timestamp
            if (expiry <= block.timestamp) revert ParticipantRegistryInvalidKycExpiry(expiry, block.timestamp);
        } else {
            expiry = 0;
        }
        if (status != KycStatus.Approved && p.kycBank != msg.sender) {
            if (status == KycStatus.Revoked || _hasValidKyc(p)) {
                revert ParticipantRegistryNotKycBank(account, p.kycBank);
            }
        }

        p.kycStatus = status;
        p.kycExpiry = expiry;
        p.kycBank = msg.sender;
        emit KycAttested(account, msg.sender, status, expiry, evidenceHash);
    }

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function freezeParticipant(address account, bytes32 reasonCode) external onlyRole(REGULATOR_ROLE) {
        _setParticipantFrozen(account, true);
        emit ParticipantFrozen(account, msg.sender, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function unfreezeParticipant(address account, bytes32 reasonCode) external onlyRole(REGULATOR_ROLE) {
        _setParticipantFrozen(account, false);
        emit ParticipantUnfrozen(account, msg.sender, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function freezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode)
        external
        onlyRole(REGULATOR_ROLE)
    {
        _setInstrumentFrozen(instrument, instrumentId, true);
        emit InstrumentFrozen(instrument, instrumentId, msg.sender, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function unfreezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode)
        external
        onlyRole(REGULATOR_ROLE)
    {
        _setInstrumentFrozen(instrument, instrumentId, false);
        emit InstrumentUnfrozen(instrument, instrumentId, msg.sender, reasonCode);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) public view returns (bool active) {
        (, active,) = _standing(account);
    }

    /// @inheritdoc IParticipantRegistry
    function requireActive(address account, ParticipantKind kind) external view {
        (ParticipantKind actual, bool active,) = _standing(account);
        // `actual` is the stored kind (an enum); Slither's taint from `_standing`'s KYC-expiry comparison
        // reaches it only because both come out of the same call.
        // slither-disable-next-line incorrect-equality,timestamp
        if (actual == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(account);
        // slither-disable-next-line timestamp
        if (kind != ParticipantKind.None && actual != kind) {
            revert ParticipantRegistryUnexpectedKind(account, actual, kind);
        }
        if (!active) revert ParticipantRegistryInactiveParticipant(account);
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function identityHashOf(address account) external view returns (bytes32) {
        return _identityHashes[account];
    }

    /// @inheritdoc IParticipantRegistry
    function kindOf(address account) external view returns (ParticipantKind) {
        return _participants[account].kind;
    }

    /// @inheritdoc IParticipantRegistry
    function jurisdictionOf(address account) external view returns (bytes2) {
        return _participants[account].jurisdiction;
    }

    /// @inheritdoc IParticipantRegistry
    function transferProfile(address from, address to)
        external
        view
        returns (bool fromActive, bool toActive, bytes2 fromJurisdiction, bytes2 toJurisdiction)
    {
        (, fromActive, fromJurisdiction) = _standing(from);
        (, toActive, toJurisdiction) = _standing(to);
    }

    /// @inheritdoc IParticipantRegistry
    function transferFromProfile(address spender, address from, address to)
        external
        view
        returns (
            bool spenderAllowed,
            bool fromActive,
            bool toActive,
            bytes2 fromJurisdiction,
            bytes2 toJurisdiction
        )
    {
        // Most spenders are instrument contracts that are no participant: answer them from the kind alone.
        spenderAllowed = _participants[spender].kind == ParticipantKind.None;
        if (!spenderAllowed) (, spenderAllowed,) = _standing(spender);
        (, fromActive, fromJurisdiction) = _standing(from);
        (, toActive, toJurisdiction) = _standing(to);
    }

    /// @inheritdoc IParticipantRegistry
    function isInstrumentFrozen(address instrument, uint256 instrumentId) external view returns (bool) {
        return _frozenInstruments[instrument][instrumentId];
    }

    // ───────────────────────────── Internals ─────────────────────────────

    function _register(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash) private {
        if (account == address(0) || kind == ParticipantKind.None) {
            revert ParticipantRegistryInvalidParticipant(account, kind);
        }
        if (!_isJurisdictionCode(jurisdiction)) revert ParticipantRegistryInvalidJurisdiction(jurisdiction);
        if (_participants[account].kind != ParticipantKind.None) revert ParticipantRegistryAlreadyRegistered(account);

        _participants[account] = Participant({
            kind: kind,
            jurisdiction: jurisdiction,
            frozen: false,
            kycStatus: KycStatus.None,
            kycExpiry: 0,
            kycBank: address(0)
        });
        _identityHashes[account] = identityHash;
        _grantRole(_roleOf(kind), account);
        emit ParticipantRegistered(account, kind, jurisdiction, identityHash);
    }

    function _setParticipantFrozen(address account, bool frozen) private {
        _requireActiveSender(ParticipantKind.Regulator);
        Participant storage p = _participants[account];
        if (p.kind == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(account);
        // A regulator freezing a regulator (itself included) could lock supervision for good; the operator
        // revokes a regulator's role instead.
        if (p.kind == ParticipantKind.Regulator) revert ParticipantRegistryCannotFreezeRegulator(account);
        if (p.frozen == frozen) revert ParticipantRegistryFreezeUnchanged(frozen);
        p.frozen = frozen;
    }

    function _setInstrumentFrozen(address instrument, uint256 instrumentId, bool frozen) private {
        _requireActiveSender(ParticipantKind.Regulator);
        if (_frozenInstruments[instrument][instrumentId] == frozen) revert ParticipantRegistryFreezeUnchanged(frozen);
        _frozenInstruments[instrument][instrumentId] = frozen;
    }

    /// @dev The caller holds the role already (checked by `onlyRole`); it must also be an active
    /// participant of the kind that goes with the role. The admin can grant any role to any account,
    /// so the role alone must not make, say, a corporate a KYC-attesting bank.
    function _requireActiveSender(ParticipantKind kind) private view {
        (ParticipantKind actual, bool active,) = _standing(msg.sender);
        // slither-disable-next-line timestamp
        if (actual != kind) revert ParticipantRegistryUnexpectedKind(msg.sender, actual, kind);
        if (!active) revert ParticipantRegistryInactiveParticipant(msg.sender);
    }

    /// @dev Kind, activity and jurisdiction of `account`, read field by field through a storage pointer:
    /// measured about 500 gas less per participant than copying the struct to memory, on every token
    /// transfer and every `requireActive`.
    function _standing(address account)
        private
        view
        returns (ParticipantKind kind, bool active, bytes2 jurisdiction)
    {
        Participant storage p = _participants[account];
        kind = p.kind;
        jurisdiction = p.jurisdiction;
        bool frozen = p.frozen;
        KycStatus kycStatus = p.kycStatus;
        uint48 kycExpiry = p.kycExpiry;
        // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
        // slither-disable-next-line timestamp
        bool kycValid = kycStatus == KycStatus.Approved && kycExpiry > block.timestamp;
        active = kind != ParticipantKind.None && !frozen && (kind != ParticipantKind.Corporate || kycValid);
    }

    /// @dev An `Approved` attestation that expires after now (active one second before expiry, not at it).
    function _hasValidKyc(Participant storage p) private view returns (bool) {
        // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
        // slither-disable-next-line timestamp
        return p.kycStatus == KycStatus.Approved && p.kycExpiry > block.timestamp;
    }

    function _roleOf(ParticipantKind kind) private pure returns (bytes32) {
        if (kind == ParticipantKind.Bank) return BANK_ROLE;
        if (kind == ParticipantKind.Regulator) return REGULATOR_ROLE;
        if (kind == ParticipantKind.Attester) return ATTESTER_ROLE;
        if (kind == ParticipantKind.Operator) return OPERATOR_ROLE;
        if (kind == ParticipantKind.Instrument) return INSTRUMENT_ROLE;
        return CORPORATE_ROLE;
    }

    function _isJurisdictionCode(bytes2 code) private pure returns (bool) {
        uint8 a = uint8(code[0]);
        uint8 b = uint8(code[1]);
        return a >= 0x41 && a <= 0x5A && b >= 0x41 && b <= 0x5A;
    }
}
