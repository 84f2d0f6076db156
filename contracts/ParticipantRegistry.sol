// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice KYC, roles, jurisdictions, wallets and freezes for every tradefin participant.
/// @dev Table of contents: roles · storage · constructor · operator · banks · regulator · the one check ·
/// views · AccessControl storage · internals.
///
/// Surprising on purpose:
/// - the roles of `Roles` are kept in a bitmap inside each participant's slot (`hasRole`, `_grantRole` and
///   `_revokeRole` are overridden), so `requireAuthorized` and every token transfer read one slot per
///   account; any other role lives in OpenZeppelin's storage as usual;
/// - KYC and freezes belong to the legal identity and are copied to each of its wallets when they change
///   (at most 8 wallets, 16 attesting banks), because reads are hot (every transfer) and writes are rare.
contract ParticipantRegistry is ERC2771Context, AccessControl, IParticipantRegistry {
    // ───────────────────────────── Roles ─────────────────────────────

    bytes32 public constant OPERATOR_ROLE = Roles.OPERATOR;
    bytes32 public constant REGULATOR_ROLE = Roles.REGULATOR;
    bytes32 public constant BANK_ROLE = Roles.BANK;
    bytes32 public constant ATTESTER_ROLE = Roles.ATTESTER;
    bytes32 public constant CORPORATE_ROLE = Roles.CORPORATE;
    bytes32 public constant INSTRUMENT_ROLE = Roles.INSTRUMENT;
    bytes32 public constant CUSTOMS_ROLE = Roles.CUSTOMS;

    uint256 private constant MAX_WALLETS = 8;
    uint256 private constant MAX_KYC_BANKS = 16;

    // ───────────────────────────── Storage ─────────────────────────────

    /// @dev Slot: frozen (1) + since (6) + total (6).
    struct FreezeRecord {
        bool frozen;
        uint48 since;
        uint48 total;
    }

    mapping(address account => Participant) private _participants;
    mapping(address account => bytes32) private _identityHashes;
    mapping(bytes32 identityHash => address[]) private _wallets;
    mapping(bytes32 identityHash => mapping(address bank => KycAttestation)) private _attestations;
    mapping(bytes32 identityHash => address[]) private _kycBanks;
    mapping(address instrument => mapping(uint256 instrumentId => FreezeRecord)) private _instrumentFreezes;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param operator The platform operator: admin of every role, registered as an `Operator`.
    /// @param jurisdiction The operator's jurisdiction.
    /// @param identityHash The operator's identity hash.
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(address operator, bytes2 jurisdiction, bytes32 identityHash, address trustedForwarder)
        ERC2771Context(trustedForwarder)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, operator);
        _register(operator, ParticipantKind.Operator, jurisdiction, identityHash);
    }

    // ───────────────────────────── Operator ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function registerParticipant(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash)
        external
    {
        _requireAuthorized(_msgSender(), Roles.OPERATOR);
        _register(account, kind, jurisdiction, identityHash);
    }

    /// @inheritdoc IParticipantRegistry
    function linkWallet(address wallet, address existing) external {
        _requireAuthorized(_msgSender(), Roles.OPERATOR);
        Participant memory p = _participants[existing];
        if (p.kind == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(existing);
        if (wallet == address(0)) revert ParticipantRegistryInvalidParticipant(wallet, p.kind);
        if (_participants[wallet].kind != ParticipantKind.None) revert ParticipantRegistryAlreadyRegistered(wallet);
        bytes32 identityHash = _identityHashes[existing];
        if (_wallets[identityHash].length >= MAX_WALLETS) {
            revert ParticipantRegistryTooManyEntries(existing, MAX_WALLETS);
        }

        Participant storage w = _participants[wallet];
        w.kind = p.kind;
        w.jurisdiction = p.jurisdiction;
        w.frozen = p.frozen;
        w.kycExpiry = p.kycExpiry;
        _identityHashes[wallet] = identityHash;
        _wallets[identityHash].push(wallet);
        _grantRole(_roleOf(p.kind), wallet);
        emit ParticipantRegistered(wallet, p.kind, p.jurisdiction, identityHash);
        emit WalletLinked(wallet, existing, identityHash);
    }

    // ───────────────────────────── Banks ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function attestKyc(address account, KycStatus status, uint48 expiry, bytes32 evidenceHash) external {
        address bank = _msgSender();
        _requireAuthorized(bank, Roles.BANK);
        ParticipantKind kind = _participants[account].kind;
        if (kind != ParticipantKind.Corporate) {
            revert ParticipantRegistryUnexpectedKind(account, kind, ParticipantKind.Corporate);
        }
        if (status == KycStatus.None) revert ParticipantRegistryInvalidKycStatus(status);
        if (status == KycStatus.Approved) {
            // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
            // slither-disable-next-line timestamp
            if (expiry <= block.timestamp) revert ParticipantRegistryInvalidKycExpiry(expiry, block.timestamp);
        } else {
            expiry = 0;
        }
        bytes32 identityHash = _identityHashes[account];
        KycAttestation storage a = _attestations[identityHash][bank];
        if (a.status == KycStatus.None) {
            if (_kycBanks[identityHash].length >= MAX_KYC_BANKS) {
                revert ParticipantRegistryTooManyEntries(account, MAX_KYC_BANKS);
            }
            _kycBanks[identityHash].push(bank);
        }
        uint48 previous = a.expiry;
        a.status = status;
        a.expiry = expiry;
        emit KycAttested(account, bank, status, expiry, evidenceHash);

        uint48 validUntil = _participants[account].kycExpiry;
        if (expiry > validUntil) {
            validUntil = expiry; // a later approval extends the identity's validity: no need to look further
        } else if (previous == validUntil && expiry != previous) {
            validUntil = _latestValidExpiry(identityHash); // this bank's approval was the latest: look again
        } else {
            return; // the identity's validity does not change
        }
        _setKycExpiry(identityHash, validUntil);
    }

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function revokeKyc(address account, bytes32 reasonCode) external {
        address regulator = _msgSender();
        _requireAuthorized(regulator, Roles.REGULATOR);
        if (_participants[account].kind == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(account);
        bytes32 identityHash = _identityHashes[account];
        address[] storage banks = _kycBanks[identityHash];
        for (uint256 i; i < banks.length; ++i) {
            KycAttestation storage a = _attestations[identityHash][banks[i]];
            a.status = KycStatus.Revoked;
            a.expiry = 0;
        }
        emit KycRevokedByRegulator(account, regulator, reasonCode);
        _setKycExpiry(identityHash, 0);
    }

    /// @inheritdoc IParticipantRegistry
    function freezeParticipant(address account, bytes32 reasonCode) external {
        _setParticipantFrozen(account, true, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function unfreezeParticipant(address account, bytes32 reasonCode) external {
        _setParticipantFrozen(account, false, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function freezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external {
        address regulator = _msgSender();
        _requireAuthorized(regulator, Roles.REGULATOR);
        FreezeRecord storage f = _instrumentFreezes[instrument][instrumentId];
        if (f.frozen) revert ParticipantRegistryFreezeUnchanged(true);
        f.frozen = true;
        f.since = uint48(block.timestamp);
        emit InstrumentFrozen(instrument, instrumentId, regulator, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function unfreezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external {
        address regulator = _msgSender();
        _requireAuthorized(regulator, Roles.REGULATOR);
        FreezeRecord storage f = _instrumentFreezes[instrument][instrumentId];
        if (!f.frozen) revert ParticipantRegistryFreezeUnchanged(false);
        f.frozen = false;
        f.total += uint48(block.timestamp) - f.since;
        f.since = 0;
        emit InstrumentUnfrozen(instrument, instrumentId, regulator, reasonCode);
    }

    // ───────────────────────────── The one check ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function requireAuthorized(address account, bytes32 role) external view {
        _requireAuthorized(account, role);
    }

    /// @inheritdoc IParticipantRegistry
    function requireActive(address account) external view {
        _requireActive(account, _participants[account]);
    }

    /// @inheritdoc IParticipantRegistry
    function isAuthorized(address account, bytes32 role) external view returns (bool) {
        return hasRole(role, account) && _isActive(_participants[account]);
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) external view returns (bool) {
        return _isActive(_participants[account]);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function identityHashOf(address account) external view returns (bytes32) {
        return _identityHashes[account];
    }

    /// @inheritdoc IParticipantRegistry
    function walletsOf(address account) external view returns (address[] memory) {
        bytes32 identityHash = _identityHashes[account];
        if (identityHash == bytes32(0)) return new address[](0);
        return _wallets[identityHash];
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
    function kycAttestation(address account, address bank) external view returns (KycAttestation memory) {
        return _attestations[_identityHashes[account]][bank];
    }

    /// @inheritdoc IParticipantRegistry
    function kycBanksOf(address account) external view returns (address[] memory) {
        return _kycBanks[_identityHashes[account]];
    }

    /// @inheritdoc IParticipantRegistry
    function transferProfile(address from, address to)
        external
        view
        returns (bool fromActive, bool toActive, bytes2 fromJurisdiction, bytes2 toJurisdiction)
    {
        (fromActive, fromJurisdiction) = _standing(from);
        (toActive, toJurisdiction) = _standing(to);
    }

    /// @inheritdoc IParticipantRegistry
    function transferFromProfile(address spender, address from, address to)
        external
        view
        returns (
            bool spenderActive,
            bool fromActive,
            bool toActive,
            bytes2 fromJurisdiction,
            bytes2 toJurisdiction
        )
    {
        (spenderActive,) = _standing(spender);
        (fromActive, fromJurisdiction) = _standing(from);
        (toActive, toJurisdiction) = _standing(to);
    }

    /// @inheritdoc IParticipantRegistry
    function splitTransferProfile(address spender, address from, address to, address restTo)
        external
        view
        returns (address inactive, bytes2 fromJurisdiction, bytes2 toJurisdiction, bytes2 restToJurisdiction)
    {
        bool active;
        (active,) = _standing(spender);
        if (!active) return (spender, 0, 0, 0);
        (active, fromJurisdiction) = _standing(from);
        if (!active) return (from, 0, 0, 0);
        (active, toJurisdiction) = _standing(to);
        if (!active) return (to, 0, 0, 0);
        (active, restToJurisdiction) = _standing(restTo);
        if (!active) return (restTo, 0, 0, 0);
    }

    /// @inheritdoc IParticipantRegistry
    function isInstrumentFrozen(address instrument, uint256 instrumentId) external view returns (bool) {
        return _instrumentFreezes[instrument][instrumentId].frozen;
    }

    /// @inheritdoc IParticipantRegistry
    function instrumentFreeze(address instrument, uint256 instrumentId)
        external
        view
        returns (bool frozen, uint256 frozenTime)
    {
        FreezeRecord storage f = _instrumentFreezes[instrument][instrumentId];
        frozen = f.frozen;
        frozenTime = f.total;
        if (frozen) frozenTime += block.timestamp - f.since;
    }

    // ───────────────────────────── AccessControl storage ─────────────────────────────

    /// @notice Whether `account` holds `role`. The roles of `Roles` are read from the participant's slot.
    function hasRole(bytes32 role, address account)
        public
        view
        override(AccessControl, IAccessControl)
        returns (bool)
    {
        uint8 bit = Roles.bit(role);
        if (bit == 0) return super.hasRole(role, account);
        return _participants[account].roles & bit != 0;
    }

    /// @dev The roles of `Roles` go to the participant's role bitmap; any other role to AccessControl.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        uint8 bit = Roles.bit(role);
        if (bit == 0) return super._grantRole(role, account);
        Participant storage p = _participants[account];
        if (p.roles & bit != 0) return false;
        p.roles |= bit;
        emit RoleGranted(role, account, _msgSender());
        return true;
    }

    /// @dev The roles of `Roles` leave the participant's role bitmap; any other role AccessControl.
    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        uint8 bit = Roles.bit(role);
        if (bit == 0) return super._revokeRole(role, account);
        Participant storage p = _participants[account];
        if (p.roles & bit == 0) return false;
        p.roles &= ~bit;
        emit RoleRevoked(role, account, _msgSender());
        return true;
    }

    // ───────────────────────────── Internals ─────────────────────────────

    function _register(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash) private {
        if (account == address(0) || kind == ParticipantKind.None) {
            revert ParticipantRegistryInvalidParticipant(account, kind);
        }
        if (!_isJurisdictionCode(jurisdiction)) revert ParticipantRegistryInvalidJurisdiction(jurisdiction);
        if (identityHash == bytes32(0)) revert ParticipantRegistryInvalidIdentity();
        if (_participants[account].kind != ParticipantKind.None) revert ParticipantRegistryAlreadyRegistered(account);
        if (_wallets[identityHash].length != 0) {
            revert ParticipantRegistryIdentityTaken(identityHash, _wallets[identityHash][0]);
        }

        // Field by field: an admin may have granted this account a role before it registered.
        Participant storage p = _participants[account];
        p.kind = kind;
        p.jurisdiction = jurisdiction;
        _identityHashes[account] = identityHash;
        _wallets[identityHash].push(account);
        _grantRole(_roleOf(kind), account);
        emit ParticipantRegistered(account, kind, jurisdiction, identityHash);
    }

    function _setParticipantFrozen(address account, bool frozen, bytes32 reasonCode) private {
        address regulator = _msgSender();
        _requireAuthorized(regulator, Roles.REGULATOR);
        Participant storage p = _participants[account];
        if (p.kind == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(account);
        // A regulator freezing a regulator (itself included) could lock supervision for good; the operator
        // revokes a regulator's role instead.
        if (p.kind == ParticipantKind.Regulator) revert ParticipantRegistryCannotFreezeRegulator(account);
        if (p.frozen == frozen) revert ParticipantRegistryFreezeUnchanged(frozen);
        address[] storage wallets = _wallets[_identityHashes[account]];
        for (uint256 i; i < wallets.length; ++i) {
            address wallet = wallets[i];
            _participants[wallet].frozen = frozen;
            if (frozen) emit ParticipantFrozen(wallet, regulator, reasonCode);
            else emit ParticipantUnfrozen(wallet, regulator, reasonCode);
        }
    }

    /// @dev The latest expiry among the identity's valid `Approved` attestations (zero when none).
    function _latestValidExpiry(bytes32 identityHash) private view returns (uint48 latest) {
        address[] storage banks = _kycBanks[identityHash];
        for (uint256 i; i < banks.length; ++i) {
            KycAttestation storage a = _attestations[identityHash][banks[i]];
            if (a.status == KycStatus.Approved && a.expiry > latest) latest = a.expiry;
        }
    }

    function _setKycExpiry(bytes32 identityHash, uint48 validUntil) private {
        address[] storage wallets = _wallets[identityHash];
        for (uint256 i; i < wallets.length; ++i) {
            _participants[wallets[i]].kycExpiry = validUntil;
        }
        emit KycValidityChanged(identityHash, validUntil);
    }

    /// @dev The one check: `role` held, then the participant active (see `_requireActive`).
    function _requireAuthorized(address account, bytes32 role) private view {
        if (!hasRole(role, account)) revert AccessControlUnauthorizedAccount(account, role);
        _requireActive(account, _participants[account]);
    }

    /// @dev Registered, holding the role of its kind (its membership), not frozen, KYC-valid if a corporate.
    function _requireActive(address account, Participant storage p) private view {
        ParticipantKind kind = p.kind;
        if (kind == ParticipantKind.None) revert ParticipantRegistryUnknownParticipant(account);
        if (p.roles & _kindBit(kind) == 0) revert AccessControlUnauthorizedAccount(account, _roleOf(kind));
        if (p.frozen) revert ParticipantRegistryParticipantFrozen(account);
        // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
        // slither-disable-next-line timestamp
        if (kind == ParticipantKind.Corporate && p.kycExpiry <= block.timestamp) {
            revert ParticipantRegistryKycNotValid(account);
        }
    }

    /// @dev Whether `account` is active, and its jurisdiction: one storage read.
    function _standing(address account) private view returns (bool active, bytes2 jurisdiction) {
        Participant storage p = _participants[account];
        jurisdiction = p.jurisdiction;
        active = _isActive(p);
    }

    function _isActive(Participant storage p) private view returns (bool) {
        ParticipantKind kind = p.kind;
        // KYC expiry is a calendar date (DESIGN §1): seconds of validator clock drift cannot matter.
        // slither-disable-next-line timestamp
        return kind != ParticipantKind.None && p.roles & _kindBit(kind) != 0 && !p.frozen
            && (kind != ParticipantKind.Corporate || p.kycExpiry > block.timestamp);
    }

    /// @dev `Roles.bit` of the role of `kind`: the bits follow the kinds' order (Corporate is bit 0).
    function _kindBit(ParticipantKind kind) private pure returns (uint8) {
        return uint8(1) << (uint8(kind) - 1);
    }

    function _roleOf(ParticipantKind kind) private pure returns (bytes32) {
        if (kind == ParticipantKind.Bank) return Roles.BANK;
        if (kind == ParticipantKind.Regulator) return Roles.REGULATOR;
        if (kind == ParticipantKind.Attester) return Roles.ATTESTER;
        if (kind == ParticipantKind.Operator) return Roles.OPERATOR;
        if (kind == ParticipantKind.Instrument) return Roles.INSTRUMENT;
        return Roles.CORPORATE;
    }

    function _isJurisdictionCode(bytes2 code) private pure returns (bool) {
        uint8 a = uint8(code[0]);
        uint8 b = uint8(code[1]);
        return a >= 0x41 && a <= 0x5A && b >= 0x41 && b <= 0x5A;
    }

    // ───────────────────────────── ERC-2771 ─────────────────────────────

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
