// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Settlement token: a tokenized bank deposit in one ISO 4217 currency.
/// @notice Amounts are integers in the currency's minor units (USD, CNY, EUR: 2 decimals; JPY: 0).
/// Banks mint against a customer's deposit and burn what they hold on withdrawal. Every transfer,
/// mint and burn needs its non-zero parties to be active participants (checked in `_update`). A transfer
/// under an allowance (`transferFrom`, `transferFromWithPurpose`) also needs its spender active
/// (`SettlementTokenInactiveParty(spender)` otherwise): instrument contracts that move money against
/// documents are registered participants of kind `Instrument`, so the operator can stop one, and the
/// regulator freeze one, like any other participant.
/// @dev A transfer between parties in different jurisdictions emits `CrossBorderTransfer`; any transfer
/// at or above the regulator's threshold for this currency emits `LargeValueReported`. A purpose code
/// (ISO 20022 `ExternalPurpose1Code`, four ASCII letters such as `GDDS`) and a reference travel with a
/// payment transfer; plain ERC-20 transfers carry zero for both.
interface ISettlementToken is IERC20 {
    // ───────────────────────────── Events ─────────────────────────────

    /// @notice A bank minted `amount` to `to` against a deposit identified by `reference`.
    event DepositMinted(address indexed bank, address indexed to, uint256 amount, bytes32 paymentReference);

    /// @notice A bank burned `amount` of its own balance on a withdrawal identified by `reference`.
    event DepositBurned(address indexed bank, uint256 amount, bytes32 paymentReference);

    /// @notice A payment transfer with its purpose code and reference (emitted for every payment transfer).
    event PaymentTransfer(
        address indexed from, address indexed to, uint256 amount, bytes4 purposeCode, bytes32 paymentReference
    );

    /// @notice A transfer between parties of different jurisdictions.
    event CrossBorderTransfer(
        address indexed from,
        address indexed to,
        bytes2 fromJurisdiction,
        bytes2 toJurisdiction,
        bytes3 currency,
        uint256 amount,
        bytes4 purposeCode,
        bytes32 paymentReference
    );

    /// @notice A transfer at or above the large-value threshold of this currency.
    event LargeValueReported(
        address indexed from,
        address indexed to,
        bytes3 currency,
        uint256 amount,
        uint256 threshold,
        bytes4 purposeCode,
        bytes32 paymentReference
    );

    /// @notice The regulator set the large-value reporting threshold (zero disables reporting).
    event LargeValueThresholdSet(address indexed regulator, uint256 threshold);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice `account` is not an active participant (unknown, frozen, its membership revoked, or a corporate
    /// without valid KYC), so it may not send, receive or spend this token.
    error SettlementTokenInactiveParty(address account);

    /// @notice `amount` is zero.
    error SettlementTokenZeroAmount();

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Mints `amount` to `to` against a customer deposit.
    /// @dev Caller: authorized `BANK_ROLE` (`IParticipantRegistry.requireAuthorized`). `to` must be active.
    /// @param paymentReference The bank's deposit reference (a hash; nothing personal).
    function mint(address to, uint256 amount, bytes32 paymentReference) external;

    /// @notice Burns `amount` of the calling bank's own balance (a withdrawal it has paid out).
    /// @dev Caller: authorized `BANK_ROLE`.
    function burn(uint256 amount, bytes32 paymentReference) external;

    // ───────────────────────────── Payments ─────────────────────────────

    /// @notice Transfers `amount` to `to` as a payment with a purpose code and a reference.
    function transferWithPurpose(address to, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external
        returns (bool);

    /// @notice Transfers `amount` from `from` to `to` under an allowance, as a payment with a purpose
    /// code and a reference. Used by instrument contracts that move money against documents.
    /// @dev The spender (the caller) must be active, as `from` and `to` must.
    function transferFromWithPurpose(address from, address to, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external
        returns (bool);

    /// @notice Pays `amount` to `to` and `restAmount` to `restTo` from `from` under one allowance spend of
    /// their sum, as two payment transfers with the same purpose code and reference: a buyer's payment split
    /// between the financier of an invoice and its owner, checked in one registry call.
    /// @dev The spender (the caller), `from`, `to` and `restTo` must be active; zero amounts are allowed
    /// and still reported, as for `transferFromWithPurpose`. Reverts `SettlementTokenInactiveParty` naming the
    /// first inactive one (spender, from, to, restTo), `ERC20InvalidReceiver(0)` for a zero payee.
    function transferFromWithPurposeSplit(
        address from,
        address to,
        uint256 amount,
        address restTo,
        uint256 restAmount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) external returns (bool);

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @notice Sets the threshold at or above which a transfer emits `LargeValueReported`.
    /// @dev Caller: authorized `REGULATOR_ROLE`.
    function setLargeValueThreshold(uint256 threshold) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The ISO 4217 code, e.g. `"USD"`.
    function currency() external view returns (bytes3);

    /// @notice The large-value reporting threshold in minor units (zero: none).
    function largeValueThreshold() external view returns (uint256);

    /// @notice The participant registry this token asks.
    function registry() external view returns (address);
}
