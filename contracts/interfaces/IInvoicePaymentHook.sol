// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Invoice payment hook: how a lien instrument tells the registry who is owed a buyer's payment.
/// @notice When the buyer pays an invoice that carries a lien, the invoice registry asks the lien's
/// instrument how much of the payment goes to the lien's financier; the rest goes to the invoice's owner.
/// @dev Every instrument that can hold a lien implements it: the invoice registry checks it with ERC-165
/// when the operator registers the instrument (`IInvoiceRegistry.setInstrument`). The lien protocol
/// (DESIGN §4):
/// - an instrument answers a non-zero `toFinancier` only for a financier that has **advanced** value, and
///   only up to what that financier is owed; a lien that merely **reserves** the invoice (a presentation
///   under examination, a certificate tree) answers zero;
/// - an instrument whose lien commits part of the invoice to be paid through it (a presentation's amount,
///   a certificate tree's amount) reverts, with an error of its own, a payment that would leave less
///   outstanding than it has committed: the debtor pays that part through the instrument;
/// - a frozen instrument reverts: nothing moves for it.
interface IInvoicePaymentHook {
    /// @notice The buyer is paying `amount` of invoice `invoiceId`, whose lien this instrument holds; before
    /// the payment, `outstanding` was unpaid. The instrument records what it must and answers the split.
    /// @dev Caller: the invoice registry only. Must not call back into the registry's state-changing
    /// functions (it is locked).
    /// @param invoiceId The invoice being paid.
    /// @param amount The buyer's payment, in minor units (at most `outstanding`).
    /// @param outstanding What was unpaid on the invoice before this payment.
    /// @return toFinancier The part of `amount` owed to the lien's financier (the registry caps it at
    /// `amount`); zero while the financier has advanced nothing.
    /// @return releaseLien True when the financier is now paid in full: the registry releases the lien in
    /// the same transaction and later payments go to the invoice's owner.
    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256 outstanding)
        external
        returns (uint256 toFinancier, bool releaseLien);
}
