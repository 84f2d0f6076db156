// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Participant registry: who may take part in tradefin, and whether they may act right now.
/// @notice Every instrument and every settlement token asks this registry one question before it
/// moves anything: is this account an active participant of the expected kind?
/// @dev Nothing personal is stored: an identity is `keccak256(LEI or unified social credit code, salt)`
/// and a KYC file is a hash of its evidence. Jurisdictions are ISO 3166-1 alpha-2 codes as `bytes2`.
///
/// A participant is **active** when it is registered, not frozen, and (for a `Corporate`) holds a KYC
/// attestation from a bank with status `Approved` whose expiry is after `block.timestamp`. Banks,
/// regulators, attesters and the operator are licensed institutions onboarded by the operator and need
/// no bank KYC.
///
/// Authority: each state-changing function needs the AccessControl role of its caller's kind
/// (`AccessControlUnauthorizedAccount` otherwise) and a caller that is an active participant of that
/// kind (`ParticipantRegistryUnexpectedKind`, then `ParticipantRegistryInactiveParticipant`): a role the
/// admin grants to an account of another kind confers nothing.
interface IParticipantRegistry {
    /// @notice The kinds of participant (DESIGN §1).
    enum ParticipantKind {
        None,
        Corporate,
        Bank,
        Regulator,
        Attester,
        Operator,
        // An instrument contract that holds settlement tokens in escrow (e.g. an LC's applicant margin):
        // registered by the operator so that tokens may move to and from it; it has no authority of its own.
        Instrument
    }

    /// @notice Outcome of a bank's KYC review of a corporate.
    enum KycStatus {
        None,
        Approved,
        Rejected,
        Revoked
    }

    /// @notice One participant, packed in one slot: kind (1) + jurisdiction (2) + frozen (1)
    /// + kycStatus (1) + kycExpiry (6) + kycBank (20) = 31 bytes.
    struct Participant {
        ParticipantKind kind;
        bytes2 jurisdiction;
        bool frozen;
        KycStatus kycStatus;
        uint48 kycExpiry;
        address kycBank;
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice A participant was registered by the operator.
    event ParticipantRegistered(
        address indexed account, ParticipantKind indexed kind, bytes2 jurisdiction, bytes32 identityHash
    );

    /// @notice A bank recorded the outcome of its KYC review of a corporate.
    event KycAttested(
        address indexed account, address indexed bank, KycStatus status, uint48 expiry, bytes32 evidenceHash
    );

    /// @notice The regulator froze a participant.
    event ParticipantFrozen(address indexed account, address indexed regulator, bytes32 reasonCode);

    /// @notice The regulator unfroze a participant.
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

    /// @notice `account` is the zero address or `kind` is `None`.
    error ParticipantRegistryInvalidParticipant(address account, ParticipantKind kind);

    /// @notice `jurisdiction` is not two upper-case ASCII letters.
    error ParticipantRegistryInvalidJurisdiction(bytes2 jurisdiction);

    /// @notice `account` is already registered.
    error ParticipantRegistryAlreadyRegistered(address account);

    /// @notice `account` is not registered.
    error ParticipantRegistryUnknownParticipant(address account);

    /// @notice `account` is registered but not active (frozen, or a corporate without valid KYC).
    error ParticipantRegistryInactiveParticipant(address account);

    /// @notice `account` is of kind `actual`, where `expected` was needed.
    error ParticipantRegistryUnexpectedKind(address account, ParticipantKind actual, ParticipantKind expected);

    /// @notice An `Approved` KYC attestation must expire after the current block (`expiry` is not).
    error ParticipantRegistryInvalidKycExpiry(uint48 expiry, uint256 now_);

    /// @notice Only the bank that made the current attestation (`kycBank`) may revoke it, or reject a
    /// corporate whose approval by that bank is still valid.
    error ParticipantRegistryNotKycBank(address account, address kycBank);

    /// @notice `status` is not a status a bank may attest (`None`).
    error ParticipantRegistryInvalidKycStatus(KycStatus status);

    /// @notice The participant or instrument is already in the requested frozen state.
    error ParticipantRegistryFreezeUnchanged(bool frozen);

    /// @notice `account` is a regulator: regulators are not frozen (that could lock supervision); the
    /// operator revokes a regulator's role instead.
    error ParticipantRegistryCannotFreezeRegulator(address account);

    // ───────────────────────────── Operator ─────────────────────────────

    /// @notice Registers `account` as a participant of `kind` in `jurisdiction`, and grants the
    /// AccessControl role that goes with the kind.
    /// @dev Caller: an active operator. Reverts `ParticipantRegistryAlreadyRegistered` on a second registration.
    /// @param account The participant's signing address.
    /// @param kind Its kind; never `None`.
    /// @param jurisdiction ISO 3166-1 alpha-2 code, e.g. `"CN"`.
    /// @param identityHash keccak256 of its legal identifier and a salt.
    function registerParticipant(address account, ParticipantKind kind, bytes2 jurisdiction, bytes32 identityHash)
        external;

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Records a bank's KYC outcome for a corporate.
    /// @dev Caller: an active bank. `Approved` needs `expiry > block.timestamp`. `Revoked` may be
    /// attested only by the bank of the current attestation; `Rejected` may replace a still-valid
    /// approval only when it comes from the approving bank (another bank cannot knock out a KYC it did
    /// not make). Any bank may approve afresh: it then becomes the bank of the current attestation.
    /// @param account The corporate reviewed.
    /// @param status `Approved`, `Rejected` or `Revoked`.
    /// @param expiry Unix time after which the approval lapses (ignored for other statuses).
    /// @param evidenceHash Hash of the KYC file kept off chain by the bank.
    function attestKyc(address account, KycStatus status, uint48 expiry, bytes32 evidenceHash) external;

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @notice Freezes a participant: every action it takes and every transfer it is party to reverts;
    /// nothing it owns moves.
    /// @dev Caller: an active regulator.
    function freezeParticipant(address account, bytes32 reasonCode) external;

    /// @notice Lifts a participant's freeze.
    /// @dev Caller: an active regulator.
    function unfreezeParticipant(address account, bytes32 reasonCode) external;

    /// @notice Freezes one instrument (`instrumentId` in the contract `instrument`).
    /// @dev Caller: an active regulator. Instrument contracts ask `isInstrumentFrozen` before each transition.
    function freezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external;

    /// @notice Lifts an instrument's freeze.
    /// @dev Caller: an active regulator.
    function unfreezeInstrument(address instrument, uint256 instrumentId, bytes32 reasonCode) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice Whether `account` is active now (registered, not frozen, KYC valid where needed).
    function isActive(address account) external view returns (bool);

    /// @notice Reverts unless `account` is active and, when `kind` is not `None`, of that kind.
    /// @dev The one check instrument contracts call for each party.
    function requireActive(address account, ParticipantKind kind) external view;

    /// @notice The participant record of `account` (kind `None` when unknown).
    function participant(address account) external view returns (Participant memory);

    /// @notice The identity hash registered for `account`.
    function identityHashOf(address account) external view returns (bytes32);

    /// @notice The kind of `account` (`None` when unknown).
    function kindOf(address account) external view returns (ParticipantKind);

    /// @notice The jurisdiction of `account` (zero when unknown).
    function jurisdictionOf(address account) external view returns (bytes2);

    /// @notice One call for a token transfer: whether both parties are active, and their jurisdictions.
    function transferProfile(address from, address to)
        external
        view
        returns (bool fromActive, bool toActive, bytes2 fromJurisdiction, bytes2 toJurisdiction);

    /// @notice One call for a token transfer under an allowance: `transferProfile` of `from` and `to`, plus
    /// whether `spender` may move money for them.
    /// @dev `spenderAllowed` is true when `spender` is an active participant or no participant at all (an
    /// instrument contract the operator did not register, such as the invoice registry): a registered
    /// participant that is frozen, or a corporate whose KYC has lapsed, may not spend an allowance it was
    /// given before.
    function transferFromProfile(address spender, address from, address to)
        external
        view
        returns (
            bool spenderAllowed,
            bool fromActive,
            bool toActive,
            bytes2 fromJurisdiction,
            bytes2 toJurisdiction
        );

    /// @notice Whether the regulator has frozen instrument `instrumentId` of contract `instrument`.
    function isInstrumentFrozen(address instrument, uint256 instrumentId) external view returns (bool);
}
