// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title SettlementToken
/// @notice A permissioned ERC-20 for one currency's tokenized bank deposits.
/// @dev Every balance change goes through `_update`, which is where the parties are checked (as in
/// ERC-3643): one registry call answers both parties' status and jurisdictions. Payment transfers reach
/// the same checks through `_settle` with their purpose code and reference. A transfer under an allowance
/// (`transferFrom`, `transferFromWithPurpose`) also checks its spender in the same registry call: only an
/// active participant (an instrument contract is one, of kind `Instrument`) may spend an allowance.
/// Minting, burning and the reporting threshold need the role (`requireAuthorized`), not a kind.
contract SettlementToken is ERC2771Context, ERC20, ISettlementToken {
    IParticipantRegistry private immutable _registry;
    bytes3 private immutable _currency;
    uint8 private immutable _decimals;

    uint256 private _largeValueThreshold;

    /// @param name_ Token name, e.g. "tradefin USD deposit".
    /// @param currency_ ISO 4217 code, e.g. "USD"; also the symbol.
    /// @param decimals_ Minor-unit exponent of the currency (USD 2, JPY 0).
    /// @param registry_ The participant registry.
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(
        string memory name_,
        bytes3 currency_,
        uint8 decimals_,
        IParticipantRegistry registry_,
        address trustedForwarder
    ) ERC20(name_, string(abi.encodePacked(currency_))) ERC2771Context(trustedForwarder) {
        _currency = currency_;
        _decimals = decimals_;
        _registry = registry_;
    }

    // ───────────────────────────── Banks ─────────────────────────────

    /// @inheritdoc ISettlementToken
    function mint(address to, uint256 amount, bytes32 paymentReference) external {
        address bank = _msgSender();
        _registry.requireAuthorized(bank, Roles.BANK);
        if (amount == 0) revert SettlementTokenZeroAmount();
        _mint(to, amount);
        emit DepositMinted(bank, to, amount, paymentReference);
    }

    /// @inheritdoc ISettlementToken
    function burn(uint256 amount, bytes32 paymentReference) external {
        address bank = _msgSender();
        _registry.requireAuthorized(bank, Roles.BANK);
        if (amount == 0) revert SettlementTokenZeroAmount();
        _burn(bank, amount);
        emit DepositBurned(bank, amount, paymentReference);
    }

    // ───────────────────────────── Payments ─────────────────────────────

    /// @inheritdoc ISettlementToken
    function transferWithPurpose(address to, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external
        returns (bool)
    {
        address from = _msgSender();
        _checkTransferAddresses(from, to);
        _settle(address(0), from, to, amount, true, purposeCode, paymentReference);
        return true;
    }

    /// @inheritdoc ISettlementToken
    function transferFromWithPurpose(address from, address to, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external
        returns (bool)
    {
        address spender = _msgSender();
        _checkTransferAddresses(from, to);
        _spendAllowance(from, spender, amount);
        _settle(spender, from, to, amount, true, purposeCode, paymentReference);
        return true;
    }

    /// @inheritdoc ISettlementToken
    function transferFromWithPurposeSplit(
        address from,
        address to,
        uint256 amount,
        address restTo,
        uint256 restAmount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) external returns (bool) {
        address spender = _msgSender();
        _checkTransferAddresses(from, to);
        if (restTo == address(0)) revert ERC20InvalidReceiver(address(0));
        _spendAllowance(from, spender, amount + restAmount);
        (address inactive, bytes2 fromJurisdiction, bytes2 toJurisdiction, bytes2 restToJurisdiction) =
            _registry.splitTransferProfile(spender, from, to, restTo);
        if (inactive != address(0)) revert SettlementTokenInactiveParty(inactive);
        super._update(from, to, amount);
        _report(from, to, amount, fromJurisdiction, toJurisdiction, true, purposeCode, paymentReference);
        super._update(from, restTo, restAmount);
        _report(from, restTo, restAmount, fromJurisdiction, restToJurisdiction, true, purposeCode, paymentReference);
        return true;
    }

    /// @notice ERC-20 `transferFrom`, with the spender checked as well as both parties (see the contract
    /// notes): reverts `SettlementTokenInactiveParty(spender)` for a spender that is not active.
    /// @dev The allowance is spent before the addresses are checked, as OpenZeppelin's `transferFrom` does (a
    /// zero `from` is refused as `ERC20InvalidApprover`).
    function transferFrom(address from, address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        address spender = _msgSender();
        _spendAllowance(from, spender, value);
        _checkTransferAddresses(from, to);
        _settle(spender, from, to, value, false, bytes4(0), bytes32(0));
        return true;
    }

    // ───────────────────────────── Regulator ─────────────────────────────

    /// @inheritdoc ISettlementToken
    function setLargeValueThreshold(uint256 threshold) external {
        address regulator = _msgSender();
        _registry.requireAuthorized(regulator, Roles.REGULATOR);
        _largeValueThreshold = threshold;
        emit LargeValueThresholdSet(regulator, threshold);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice Minor-unit exponent of the currency.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc ISettlementToken
    function currency() external view returns (bytes3) {
        return _currency;
    }

    /// @inheritdoc ISettlementToken
    function largeValueThreshold() external view returns (uint256) {
        return _largeValueThreshold;
    }

    /// @inheritdoc ISettlementToken
    function registry() external view returns (address) {
        return address(_registry);
    }

    // ───────────────────────────── Internals ─────────────────────────────

    /// @dev Every plain transfer, mint and burn arrives here; it carries no purpose code or reference.
    function _update(address from, address to, uint256 value) internal override {
        _settle(address(0), from, to, value, false, bytes4(0), bytes32(0));
    }

    /// @dev Checks the parties, moves the balance, then reports. Mints and burns have one zero party,
    /// which is neither checked nor reported on. `spender` is the account spending an allowance, or zero
    /// for a transfer by `from` itself. `payment` marks a transfer made with a purpose code and
    /// reference (`PaymentTransfer` is emitted for every one, even when both are zero).
    function _settle(
        address spender,
        address from,
        address to,
        uint256 value,
        bool payment,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) private {
        (bytes2 fromJurisdiction, bytes2 toJurisdiction) = _checkParties(spender, from, to);

        super._update(from, to, value);
        if (from == address(0) || to == address(0)) return;
        _report(from, to, value, fromJurisdiction, toJurisdiction, payment, purposeCode, paymentReference);
    }

    /// @dev The events of a transfer between two parties: `PaymentTransfer` for a payment, `CrossBorderTransfer`
    /// across jurisdictions, `LargeValueReported` at or above the threshold.
    function _report(
        address from,
        address to,
        uint256 value,
        bytes2 fromJurisdiction,
        bytes2 toJurisdiction,
        bool payment,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) private {
        if (payment) {
            emit PaymentTransfer(from, to, value, purposeCode, paymentReference);
        }
        if (fromJurisdiction != toJurisdiction) {
            emit CrossBorderTransfer(
                from, to, fromJurisdiction, toJurisdiction, _currency, value, purposeCode, paymentReference
            );
        }
        uint256 threshold = _largeValueThreshold;
        if (threshold != 0 && value >= threshold) {
            emit LargeValueReported(from, to, _currency, value, threshold, purposeCode, paymentReference);
        }
    }

    /// @dev One registry call: reverts `SettlementTokenInactiveParty` for an inactive non-zero party or an
    /// inactive spender; returns both parties' jurisdictions. A spender that is `from` itself
    /// needs no second look.
    function _checkParties(address spender, address from, address to)
        private
        view
        returns (bytes2 fromJurisdiction, bytes2 toJurisdiction)
    {
        bool fromActive;
        bool toActive;
        if (spender == address(0) || spender == from) {
            (fromActive, toActive, fromJurisdiction, toJurisdiction) = _registry.transferProfile(from, to);
        } else {
            bool spenderActive;
            (spenderActive, fromActive, toActive, fromJurisdiction, toJurisdiction) =
                _registry.transferFromProfile(spender, from, to);
            if (!spenderActive) revert SettlementTokenInactiveParty(spender);
        }
        if (from != address(0) && !fromActive) revert SettlementTokenInactiveParty(from);
        if (to != address(0) && !toActive) revert SettlementTokenInactiveParty(to);
    }

    function _checkTransferAddresses(address from, address to) private pure {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
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
