// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @title Participant registry: who may take part in tradefin, and what each may do right now.
/// @notice Every contract of tradefin asks this registry one question before any state change: does this
/// account hold this role, and is it active (`requireAuthorized`)? Token transfers ask whether each party
/// is active (`transferProfile`).
/// @dev Nothing personal is stored: an identity is `keccak256(LEI or unified social credit code, salt)`
/// and a KYC file is a hash of its evidence. Jurisdictions are ISO 3166-1 alpha-2 codes as `bytes2`.
///
/// **Authority is one check** (DESIGN §1): an account is *authorized* for a role when it holds the role
/// (OpenZeppelin AccessControl, roles in `Roles`) and is *active*: registered, holding the role of its kind
/// (its membership: revoking it removes the participant from every flow), not frozen, and, for a
/// `Corporate`, KYC-valid. Revoking a role revokes every power of that role on every contract. Kinds
/// describe what a participant is; only the KYC rule (corporates) and the freeze rule (regulators cannot be
/// frozen) read them.
///
/// **One legal identity, explicit wallets.** An identity hash is never zero and registers once; a further
/// wallet of the same legal identity is linked by the operator (`linkWallet`). KYC and freezes belong to
/// the identity: they apply to all of its wallets at once.
///
/// **KYC belongs to the bank that attested it.** Each bank keeps its own attestation of a corporate; it
/// changes or revokes only its own. The corporate is KYC-valid while at least one `Approved` attestation
/// has not expired (`Participant.kycExpiry` is the latest such expiry). The regulator may revoke every
/// attestation at once (`revokeKyc`); banks may then attest afresh after a new review.
///
/// **Freezes.** The regulator freezes a participant (all its wallets) or one instrument (a contract and an
/// id within it). The registry keeps, per instrument, the total time it has been frozen, so instruments
/// extend the deadlines that ran while they could not act (`instrumentFreeze`).
interface IParticipantRegistry is IAccessControl {
    /// @notice The kinds of participant (DESIGN §1).
    enum ParticipantKind {
        None,
        Corporate,
        Bank,
        Regulator,
        Attester,
        Operator,
        // An instrument contract of tradefin (invoice registry, financing, letters of credit, certificates,
        // payment router): it spends allowances and may hold escrow; registered by the operator.
        Instrument
    }

    /// @notice The outcome of one bank's KYC review of a corporate.
    enum KycStatus {
        None,
        Approved,
        Rejected,
        Revoked
    }

    /// @notice One wallet, packed in one slot: kind (1) + jurisdiction (2) + frozen (1) + roles (1)
    /// + kycExpiry (6) = 11 bytes. One storage read answers every question of `requireAuthorized`.
    struct Participant {
        ParticipantKind kind;
        bytes2 jurisdiction;
        bool frozen; // the identity is frozen (copied to each of its wallets)
        uint8 roles; // bitmap of `Roles.bit(role)` for the roles of `Roles`
        uint48 kycExpiry; // latest expiry among the identity's valid `Approved` attestations; 0 when none
    }

    /// @notice One bank's attestation of a corporate identity; one slot.
    struct KycAttestation {
        KycStatus status;
        uint48 expiry; // zero unless `Approved`
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice The operator registered `account` (or linked it as a further wallet of `identityHash`).
    event ParticipantRegistered(
        address indexed account, ParticipantKind indexed kind, bytes2 jurisdiction, bytes32 identityHash
    );

    /// @notice The operator linked `wallet` to the legal identity of `existing`.
    event WalletLinked(address indexed wallet, address indexed existing, bytes32 indexed identityHash);

    /// @notice `bank` recorded the outcome of its own KYC review of `account`'s identity.
    event KycAttested(
        address indexed account, address indexed bank, KycStatus status, uint48 expiry, bytes32 evidenceHash
    );

    /// @notice The regulator revoked every KYC attestation of `account`'s identity.
    event KycRevokedByRegulator(address indexed account, address indexed regulator, bytes32 reasonCode);

    /// @notice The identity is KYC-valid until `validUntil` (zero: not valid), after an attestation changed.
    event KycValidityChanged(bytes32 indexed identityHash, uint48 validUntil);

    /// @notice The regulator froze a participant (emitted for each wallet of its identity).
    event ParticipantFrozen(address indexed account, address indexed regulator, bytes32 reasonCode);

    /// @notice The regulator unfroze a participant (emitted for each wallet of its identity).
    event ParticipantUnfrozen(address indexed account, address indexed regulator, bytes32 reasonCode);

    /// @notice The regulator froze one instrument (`instrument` contract, `instrumentId` within it).
    event InstrumentFrozen(
        address indexed instrument, uint256 indexed instrumentId, address indexed regulator, bytes32 reasonCode
    );

    /// @notice The regulator unfroze one instrument.
    event InstrumentUnfrozen(
        address indexed instrument, uint256 indexed instrumentId, address indexed regulator, bytes32 reasonCode
    );

    // ───────────────────────────── Errors ─────────────────────────────
    // A missing role is OpenZeppelin's `AccessControlUnauthorizedAccount(account, neededRole)`.

    /// @notice `account` is the zero address or `kind` is `None`.
    error ParticipantRegistryInvalidParticipant(address account, ParticipantKind kind);

    /// @notice `jurisdiction` is not two upper-case ASCII letters.
    error ParticipantRegistryInvalidJurisdiction(bytes2 jurisdiction);

    /// @notice The identity hash is zero.
    error ParticipantRegistryInvalidIdentity();

    /// @notice `identityHash` is already registered, for `account`: link a further wallet with `linkWallet`.
    error ParticipantRegistryIdentityTaken(bytes32 identityHash, address account);

    /// @notice `account` is already registered.
    error ParticipantRegistryAlreadyRegistered(address account);

    /// @notice `account` is not registered.
    error ParticipantRegistryUnknownParticipant(address account);

    /// @notice The regulator froze `account` (its legal identity).
    error ParticipantRegistryParticipantFrozen(address account);

    /// @notice `account` is a corporate without a valid KYC attestation.
    error ParticipantRegistryKycNotValid(address account);

    /// @notice `account` is of kind `actual`, where `expected` was needed (KYC is for corporates only).
    error ParticipantRegistryUnexpectedKind(address account, ParticipantKind actual, ParticipantKind expected);

    /// @notice An `Approved` KYC attestation must expire after the current block (`expiry` is not).
    error ParticipantRegistryInvalidKycExpiry(uint48 expiry, uint256 now_);

    /// @notice `status` is not a status a bank may attest (`None`).
    error ParticipantRegistryInvalidKycStatus(KycStatus status);

    /// @notice The identity of `account` already has `max` attesting banks (or wallets).
    error ParticipantRegistryTooManyEntries(address account, uint256 max);

    /// @notice The participant or instrument is already in the requested frozen state.
    error ParticipantRegistryFreezeUnchanged(bool frozen);

    /// @notice `account` is a regulator: regulators are not frozen (that could lock supervision); the
    /// operator revokes a regulator's role instead.
    error ParticipantRegistryCannotFreezeRegulator(address account);

    // ───────────────────────────── Operator ─────────────────────────────

    /// @notice Registers `account` as a participant of `kind` in `jurisdiction`, and grants it the role of
    /// its kind.
    /// @dev Caller: authorized `OPERATOR_ROLE`. `identityHash` must be non-zero and not registered yet.
    /// @param account The participant's signing address.
    /// @param kind Its kind; never `None`.
    /// @param jurisdiction ISO 3166-1 alpha-2 code, e.g. `"CN"`.
    /// @param identityHash keccak256 of its legal identifier and a salt.
    function registerParticipant(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash)
        external;

    /// @notice Links `wallet` as a further wallet of the legal identity of `existing`: same kind,
    /// jurisdiction, identity, KYC and freeze; the role of its kind is granted to it.
    /// @dev Caller: authorized `OPERATOR_ROLE`. At most 8 wallets per identity.
    function linkWallet(address wallet, address existing) external;

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Records the calling bank's own KYC outcome for a corporate's identity.
    /// @dev Caller: authorized `BANK_ROLE`. `account` must be a corporate. `Approved` needs
    /// `expiry > block.timestamp`. The bank replaces only its own attestation: another bank's approval
    /// stays as it is. At most 16 attesting banks per identity.
    /// @param account A wallet of the corporate reviewed.
    /// @param status `Approved`, `Rejected` or `Revoked`.
    /// @param expiry Unix time after which the approval lapses (ignored for other statuses).
    /// @param evidenceHash Hash of the KYC file kept off chain by the bank.
    function attestKyc(address account, KycStatus status, uint48 expiry, bytes32 evidenceHash) external;

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @notice Revokes every bank's KYC attestation of `account`'s identity.
    /// @dev Caller: authorized `REGULATOR_ROLE`.
    function revokeKyc(address account, bytes32 reasonCode) external;

    /// @notice Freezes a participant, with every wallet of its identity: every action it takes and every
    /// transfer it is party to reverts; nothing it owns moves.
    /// @dev Caller: authorized `REGULATOR_ROLE`. Regulators cannot be frozen.
    function freezeParticipant(address account, bytes32 reasonCode) external;

    /// @notice Lifts a participant's freeze, on every wallet of its identity.
    /// @dev Caller: authorized `REGULATOR_ROLE`.
    function unfreezeParticipant(address account, bytes32 reasonCode) external;

    /// @notice Freezes one instrument (`instrumentId` in the contract `instrument`).
    /// @dev Caller: authorized `REGULATOR_ROLE`. Instrument contracts ask `instrumentFreeze` before each
    /// transition and extend their running deadlines by the time frozen.
    function freezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external;

    /// @notice Lifts an instrument's freeze.
    /// @dev Caller: authorized `REGULATOR_ROLE`.
    function unfreezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external;

    // ───────────────────────────── The one check ─────────────────────────────

    /// @notice Reverts unless `account` holds `role` and is active: `AccessControlUnauthorizedAccount`
    /// (role missing, or the role of its kind revoked), `ParticipantRegistryUnknownParticipant`,
    /// `ParticipantRegistryParticipantFrozen`, `ParticipantRegistryKycNotValid`.
    function requireAuthorized(address account, bytes32 role) external view;

    /// @notice Reverts unless `account` is active (any role), with the errors of `requireAuthorized`.
    function requireActive(address account) external view;

    /// @notice Whether `requireAuthorized(account, role)` would pass.
    function isAuthorized(address account, bytes32 role) external view returns (bool);

    /// @notice Whether `account` is active now (registered, member, not frozen, KYC valid where needed).
    function isActive(address account) external view returns (bool);

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The participant record of `account` (kind `None` when unknown).
    function participant(address account) external view returns (Participant memory);

    /// @notice The identity hash registered for `account` (zero when unknown).
    function identityHashOf(address account) external view returns (bytes32);

    /// @notice The wallets of `account`'s legal identity, the first registered first.
    function walletsOf(address account) external view returns (address[] memory);

    /// @notice The kind of `account` (`None` when unknown).
    function kindOf(address account) external view returns (ParticipantKind);

    /// @notice The jurisdiction of `account` (zero when unknown).
    function jurisdictionOf(address account) external view returns (bytes2);

    /// @notice `bank`'s own attestation of `account`'s identity.
    function kycAttestation(address account, address bank) external view returns (KycAttestation memory);

    /// @notice The banks that ever attested `account`'s identity.
    function kycBanksOf(address account) external view returns (address[] memory);

    /// @notice One call for a token transfer: whether both parties are active, and their jurisdictions.
    function transferProfile(address from, address to)
        external
        view
        returns (bool fromActive, bool toActive, bytes2 fromJurisdiction, bytes2 toJurisdiction);

    /// @notice One call for a token transfer under an allowance: `transferProfile` of `from` and `to`, plus
    /// whether `spender` is active (instrument contracts are registered participants of kind `Instrument`).
    function transferFromProfile(address spender, address from, address to)
        external
        view
        returns (
            bool spenderActive,
            bool fromActive,
            bool toActive,
            bytes2 fromJurisdiction,
            bytes2 toJurisdiction
        );

    /// @notice One call for a payment split under an allowance (`SettlementToken.transferFromWithPurposeSplit`):
    /// the first of `spender`, `from`, `to` and `restTo` that is not active (zero when all are), and the
    /// jurisdictions of the three parties.
    function splitTransferProfile(address spender, address from, address to, address restTo)
        external
        view
        returns (address inactive, bytes2 fromJurisdiction, bytes2 toJurisdiction, bytes2 restToJurisdiction);

    /// @notice Whether the regulator has frozen instrument `instrumentId` of contract `instrument`.
    function isInstrumentFrozen(address instrument, uint256 instrumentId) external view returns (bool);

    /// @notice Whether instrument `instrumentId` of `instrument` is frozen now, and the total seconds it has
    /// been frozen so far (the current freeze included). An instrument extends a deadline that runs from
    /// time `t` by `frozenTime(now) - frozenTime(t)`.
    function instrumentFreeze(address instrument, uint256 instrumentId)
        external
        view
        returns (bool frozen, uint256 frozenTime);

    /// @notice The operator role (admin of every role is `DEFAULT_ADMIN_ROLE`, held by the operator).
    function OPERATOR_ROLE() external view returns (bytes32);
    /// @notice The regulator role: supervision (freezes, KYC revocation, reporting thresholds).
    function REGULATOR_ROLE() external view returns (bytes32);
    /// @notice The bank role: KYC, minting, financing, credits, discounts, FX quotes.
    function BANK_ROLE() external view returns (bytes32);
    /// @notice The attester role: customs, carrier and inspection attestations.
    function ATTESTER_ROLE() external view returns (bytes32);
    /// @notice The corporate role: invoices, applications, presentations, payments.
    function CORPORATE_ROLE() external view returns (bytes32);
    /// @notice The instrument role: contracts of tradefin that spend allowances and hold escrow.
    function INSTRUMENT_ROLE() external view returns (bytes32);
    /// @notice The customs-authority role: may replace a customs declaration another attester attached.
    function CUSTOMS_ROLE() external view returns (bytes32);
}
