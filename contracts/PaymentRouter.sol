// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IPaymentRouter} from "./interfaces/IPaymentRouter.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title PaymentRouter
/// @notice Atomic same-currency and cross-currency payments at a bank's EIP-712 FX quote.
/// @dev Table of contents: constants · storage · constructor · payments · banks · views · internals.
///
/// The router holds no money and no allowances of its own: each leg is one
/// `transferFromWithPurpose` from an account that approved the router. Atomicity comes from the EVM:
/// the second leg reverting reverts the first. No reentrancy guard is needed: the router keeps no
/// balances, consumes the quote nonce before any token call, and calls only settlement tokens.
///
/// Surprising on purpose: the router accepts any token address named in a bank-signed quote; the bank
/// vouches for the pair by signing it, and the payer chooses the token of a same-currency payment. A
/// token that is not a tradefin settlement token can only move the caller's own approvals.
contract PaymentRouter is EIP712, ERC2771Context, IPaymentRouter {
    // ───────────────────────────── Constants ─────────────────────────────

    /// @inheritdoc IPaymentRouter
    uint256 public constant RATE_SCALE = 1e18;

    /// @inheritdoc IPaymentRouter
    bytes32 public constant FX_QUOTE_TYPEHASH = keccak256(
        "FxQuote(address bank,address payer,address baseToken,address quoteToken,uint256 rate,uint256 maxBaseAmount,uint64 expiry,uint256 nonce)"
    );

    // ───────────────────────────── Storage ─────────────────────────────

    IParticipantRegistry private immutable _registry;

    /// @dev Used quote nonces: bit `nonce % 256` of word `nonce / 256`.
    mapping(address bank => mapping(uint256 wordPosition => uint256 bitmap)) private _nonceBitmaps;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry (quoting banks must be authorized banks).
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(IParticipantRegistry registry_, address trustedForwarder)
        EIP712("tradefin PaymentRouter", "1")
        ERC2771Context(trustedForwarder)
    {
        _registry = registry_;
    }

    // ───────────────────────────── Payments ─────────────────────────────

    /// @inheritdoc IPaymentRouter
    function pay(address token, address beneficiary, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external
    {
        if (amount == 0) revert PaymentRouterZeroAmount();
        if (purposeCode == bytes4(0)) revert PaymentRouterMissingPurposeCode();
        address payer = _msgSender();

        emit PaymentSettled(
            payer,
            beneficiary,
            address(0),
            token,
            token,
            amount,
            amount,
            RATE_SCALE,
            0,
            purposeCode,
            paymentReference
        );

        _transferFrom(token, payer, beneficiary, amount, purposeCode, paymentReference);
    }

    /// @inheritdoc IPaymentRouter
    function payWithQuote(
        FxQuote calldata quote,
        bytes calldata signature,
        address beneficiary,
        uint256 baseAmount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) external returns (uint256 quoteAmount) {
        // Checks: the payment, then the quote's terms, then its signature and signer, then its nonce.
        if (baseAmount == 0) revert PaymentRouterZeroAmount();
        if (purposeCode == bytes4(0)) revert PaymentRouterMissingPurposeCode();
        if (quote.baseToken == quote.quoteToken) revert PaymentRouterQuoteSameCurrency(quote.baseToken);
        if (quote.rate == 0) revert PaymentRouterQuoteZeroRate();
        if (block.timestamp > quote.expiry) revert PaymentRouterQuoteExpired(quote.expiry, block.timestamp);
        address payer = _msgSender();
        // A quote names its payer: an open quote (payer zero) could be spent by anyone for one minor unit.
        if (quote.payer != payer) revert PaymentRouterQuoteNotForPayer(quote.payer, payer);
        if (baseAmount > quote.maxBaseAmount) revert PaymentRouterQuoteAmountExceeded(baseAmount, quote.maxBaseAmount);
        quoteAmount = Math.mulDiv(baseAmount, quote.rate, RATE_SCALE); // rounds down: bank's favour
        if (quoteAmount == 0) revert PaymentRouterZeroAmount();

        // A malformed signature recovers to zero, which is never the bank: one error for every bad signature.
        // slither-disable-next-line unused-return
        (address recovered,,) = ECDSA.tryRecover(_hashQuote(quote), signature);
        if (recovered != quote.bank) revert PaymentRouterQuoteSignerMismatch(quote.bank, recovered);
        _registry.requireAuthorized(quote.bank, Roles.BANK);

        // Effects: the quote is spent before any token moves.
        _useNonce(quote.bank, quote.nonce);

        _emitQuotedPayment(quote, payer, beneficiary, baseAmount, quoteAmount, purposeCode, paymentReference);

        // Interactions: both legs or neither (a reverting leg reverts the transaction).
        _transferFrom(quote.baseToken, payer, quote.bank, baseAmount, purposeCode, paymentReference);
        _transferFrom(quote.quoteToken, quote.bank, beneficiary, quoteAmount, purposeCode, paymentReference);
    }

    // ───────────────────────────── Banks ─────────────────────────────

    /// @inheritdoc IPaymentRouter
    function invalidateQuoteNonces(uint256 wordPosition, uint256 mask) external {
        address bank = _msgSender();
        _nonceBitmaps[bank][wordPosition] |= mask;
        emit QuoteNoncesInvalidated(bank, wordPosition, mask);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IPaymentRouter
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IPaymentRouter
    function hashQuote(FxQuote calldata quote) external view returns (bytes32) {
        return _hashQuote(quote);
    }

    /// @inheritdoc IPaymentRouter
    function convert(uint256 baseAmount, uint256 rate) external pure returns (uint256) {
        return Math.mulDiv(baseAmount, rate, RATE_SCALE);
    }

    /// @inheritdoc IPaymentRouter
    function isQuoteNonceUsed(address bank, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[bank][nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IPaymentRouter
    function quoteNonceBitmap(address bank, uint256 wordPosition) external view returns (uint256) {
        return _nonceBitmaps[bank][wordPosition];
    }

    // ───────────────────────────── Internals ─────────────────────────────

    function _hashQuote(FxQuote calldata quote) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    FX_QUOTE_TYPEHASH,
                    quote.bank,
                    quote.payer,
                    quote.baseToken,
                    quote.quoteToken,
                    quote.rate,
                    quote.maxBaseAmount,
                    quote.expiry,
                    quote.nonce
                )
            )
        );
    }

    /// @dev A separate frame keeps `payWithQuote` within the stack limit without via-IR.
    function _emitQuotedPayment(
        FxQuote calldata quote,
        address payer,
        address beneficiary,
        uint256 baseAmount,
        uint256 quoteAmount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) private {
        emit PaymentSettled(
            payer,
            beneficiary,
            quote.bank,
            quote.baseToken,
            quote.quoteToken,
            baseAmount,
            quoteAmount,
            quote.rate,
            quote.nonce,
            purposeCode,
            paymentReference
        );
    }

    /// @dev One leg. Settlement tokens revert on failure; a token that answers `false` reverts here too.
    function _transferFrom(
        address token,
        address from,
        address to,
        uint256 amount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) private {
        if (!ISettlementToken(token).transferFromWithPurpose(from, to, amount, purposeCode, paymentReference)) {
            revert PaymentRouterTransferFailed(token);
        }
    }

    /// @dev Flips the nonce's bit, reverting if it was already set.
    function _useNonce(address bank, uint256 nonce) private {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 word = _nonceBitmaps[bank][nonce >> 8];
        if (word & bit != 0) revert PaymentRouterQuoteNonceUsed(bank, nonce);
        _nonceBitmaps[bank][nonce >> 8] = word | bit;
    }
}
