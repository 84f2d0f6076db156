// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Invoice payment hook: how a lien instrument tells the registry what its financier is owed.
/// @notice When the buyer pays an invoice that carries a lien, the invoice registry asks the lien's
/// instrument how much of the payment goes to the financier; the rest goes to the seller.
/// @dev Optional. The registry detects it with ERC-165 when the operator registers the instrument
/// (`IInvoiceRegistry.setInstrument`). An instrument that does not implement it is treated as being owed
/// the whole face amount: every payment goes to its financier until the lien is released.
interface IInvoicePaymentHook {
    /// @notice The buyer is paying `amount` of invoice `invoiceId`, on which the caller's registry holds
    /// a lien for this instrument. The instrument records the repayment and answers the split.
    /// @dev Caller: the invoice registry only. Must not call back into the registry (it is locked).
    /// @param invoiceId The invoice being paid.
    /// @param amount The buyer's payment, in minor units.
    /// @return toFinancier The part of `amount` owed to the lien's financier (the registry caps it at
    /// `amount`).
    /// @return releaseLien True when the financier is now paid in full: the registry releases the lien in
    /// the same transaction and later payments go to the seller.
    function onInvoicePayment(uint256 invoiceId, uint256 amount)
        external
        returns (uint256 toFinancier, bool releaseLien);
}
