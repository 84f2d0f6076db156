// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Payment router: same-currency and cross-currency payments at a bank's signed FX quote.
/// @notice A bank quotes a currency pair off chain as EIP-712 typed data (`FxQuote`). The payer submits
/// the quote and the bank's signature with its payment: the payer's base-currency tokens go to the bank
/// and the bank's quote-currency tokens go to the beneficiary in the same transaction, or nothing moves.
/// Same-currency payments go straight from payer to beneficiary. Every payment carries an ISO 20022
/// purpose code and a reference, and both legs move through the settlement tokens'
/// `transferFromWithPurpose`, so a leg between jurisdictions emits the token's `CrossBorderTransfer`.
///
/// **Approvals.** The payer approves the router for the base currency (or the payment currency); the
/// bank approves the router for the quote currency it sells.
///
/// **Rate.** `rate` is the number of quote-currency *minor units* paid per one base-currency *minor
/// unit*, scaled by `RATE_SCALE` = 1e18. Minor units already absorb the currencies' decimals, so a
/// JPY/USD quote needs no extra factor. `quoteAmount = floor(baseAmount × rate / 1e18)`: rounding is
/// down, in the quoting bank's favour, by less than one minor unit of the quote currency.
///
/// **Nonces.** A bank's quote nonces are unordered (as in Uniswap's Permit2): nonce `n` is bit
/// `n % 256` of word `n / 256` in the bank's bitmap. A quote is consumed by its payment, and a bank can
/// withdraw outstanding quotes by invalidating their nonces. Consecutive nonces share one storage word,
/// so a bank's steady-state quote costs a warm-word update rather than a fresh slot.
///
/// EIP-712 domain: name `"tradefin PaymentRouter"`, version `"1"`, the chain id and this contract.
interface IPaymentRouter {
    // ───────────────────────────── Types ─────────────────────────────

    /// @notice A bank's firm FX quote, signed as EIP-712 typed data.
    /// @dev Typehash: `FxQuote(address bank,address payer,address baseToken,address quoteToken,
    /// uint256 rate,uint256 maxBaseAmount,uint64 expiry,uint256 nonce)` (no spaces).
    struct FxQuote {
        address bank; // the quoting bank: signer and counterparty of both legs
        address payer; // the customer the quote is for (never zero: an open quote could be used up by anyone)
        address baseToken; // settlement token the payer pays in (currency A)
        address quoteToken; // settlement token the beneficiary receives (currency B)
        uint256 rate; // quote minor units per base minor unit, scaled by 1e18
        uint256 maxBaseAmount; // largest base amount (minor units) the quote may be used for
        uint64 expiry; // unix seconds; the quote is valid while block.timestamp <= expiry
        uint256 nonce; // the bank's unordered nonce; each quote pays at most once
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice A payment settled. For a same-currency payment `bank` is zero, the tokens are equal, the
    /// amounts are equal and `rate` is `RATE_SCALE`.
    /// @param payer Who paid `baseAmount` of `baseToken`.
    /// @param beneficiary Who received `quoteAmount` of `quoteToken`.
    /// @param bank The counterparty bank of a cross-currency payment (zero for same currency).
    /// @param quoteNonce The bank's quote nonce (zero for same currency).
    event PaymentSettled(
        address indexed payer,
        address indexed beneficiary,
        address indexed bank,
        address baseToken,
        address quoteToken,
        uint256 baseAmount,
        uint256 quoteAmount,
        uint256 rate,
        uint256 quoteNonce,
        bytes4 purposeCode,
        bytes32 paymentReference
    );

    /// @notice `bank` withdrew the quotes whose nonces are the set bits of `mask` in word `wordPosition`.
    event QuoteNoncesInvalidated(address indexed bank, uint256 indexed wordPosition, uint256 mask);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice The amount to pay is zero, or the converted amount rounds down to zero.
    error PaymentRouterZeroAmount();

    /// @notice The purpose code is zero: every payment must say what it is for (ISO 20022).
    error PaymentRouterMissingPurposeCode();

    /// @notice The quote's base and quote tokens are the same; use `pay` for a same-currency payment.
    error PaymentRouterQuoteSameCurrency(address token);

    /// @notice The quote expired at `expiry`; it is now `now_`.
    error PaymentRouterQuoteExpired(uint64 expiry, uint256 now_);

    /// @notice The signature does not recover to the quote's bank (`recovered` is zero when the
    /// signature is malformed). A tampered quote or a quote signed by another key ends here.
    error PaymentRouterQuoteSignerMismatch(address bank, address recovered);

    /// @notice The bank's quote nonce `nonce` was already used or invalidated.
    error PaymentRouterQuoteNonceUsed(address bank, uint256 nonce);

    /// @notice `baseAmount` is above the quote's `maxBaseAmount`.
    error PaymentRouterQuoteAmountExceeded(uint256 baseAmount, uint256 maxBaseAmount);

    /// @notice The quote was made out for `payer` (zero: for nobody, refused); `caller` may not use it.
    error PaymentRouterQuoteNotForPayer(address payer, address caller);

    /// @notice The quote's rate is zero.
    error PaymentRouterQuoteZeroRate();

    /// @notice `token`'s `transferFromWithPurpose` returned false instead of moving the money.
    error PaymentRouterTransferFailed(address token);

    // ───────────────────────────── Payments ─────────────────────────────

    /// @notice Pays `amount` of `token` from the caller to `beneficiary` with a purpose code and reference.
    /// @dev The caller must have approved the router for `amount` of `token`. Both parties must be active
    /// (the token checks them). Emits `PaymentSettled`.
    function pay(address token, address beneficiary, uint256 amount, bytes4 purposeCode, bytes32 paymentReference)
        external;

    /// @notice Pays `baseAmount` of the quote's base currency to the quoting bank, and the bank pays the
    /// converted amount of the quote currency to `beneficiary`, in one transaction.
    /// @dev Checks, in order: non-zero amount and purpose code, distinct currencies, non-zero rate, expiry
    /// (`block.timestamp <= expiry`), the quote made out for the caller, amount limit, signature, bank
    /// authorized (`BANK_ROLE`),
    /// nonce unused. Then the nonce is consumed, `PaymentSettled` emitted, and the two legs moved:
    /// payer → bank (base), bank → beneficiary (quote). If either leg reverts (inactive or frozen party,
    /// insufficient balance or allowance) the whole payment reverts and nothing moves.
    /// @param quote The bank's quote, exactly as signed.
    /// @param signature The bank's 65-byte EIP-712 signature (r, s, v) of `quote`.
    /// @param beneficiary Who receives the quote currency.
    /// @param baseAmount Minor units of the base currency the payer pays.
    /// @return quoteAmount Minor units of the quote currency the beneficiary receives (rounded down).
    function payWithQuote(
        FxQuote calldata quote,
        bytes calldata signature,
        address beneficiary,
        uint256 baseAmount,
        bytes4 purposeCode,
        bytes32 paymentReference
    ) external returns (uint256 quoteAmount);

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Withdraws outstanding quotes: marks the caller's nonces set in `mask` (word
    /// `wordPosition`, i.e. nonces `wordPosition × 256 + bit`) as used.
    /// @dev Caller: any account (only its own nonces are affected). Emits `QuoteNoncesInvalidated`.
    function invalidateQuoteNonces(uint256 wordPosition, uint256 mask) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The fixed-point scale of `FxQuote.rate`: 1e18.
    function RATE_SCALE() external view returns (uint256);

    /// @notice The EIP-712 typehash of `FxQuote`.
    function FX_QUOTE_TYPEHASH() external view returns (bytes32);

    /// @notice The participant registry the router asks.
    function registry() external view returns (address);

    /// @notice The EIP-712 digest a bank signs for `quote`.
    function hashQuote(FxQuote calldata quote) external view returns (bytes32);

    /// @notice The quote-currency amount `baseAmount` converts to at `rate` (rounded down).
    function convert(uint256 baseAmount, uint256 rate) external pure returns (uint256);

    /// @notice Whether `bank`'s quote nonce `nonce` has been used or invalidated.
    function isQuoteNonceUsed(address bank, uint256 nonce) external view returns (bool);

    /// @notice The bitmap word `wordPosition` of `bank`'s used quote nonces.
    function quoteNonceBitmap(address bank, uint256 wordPosition) external view returns (uint256);
}
