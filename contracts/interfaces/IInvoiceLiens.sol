// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Invoice liens: the one primitive that makes double financing impossible.
/// @notice The invoice registry holds at most one lien per invoice at any time, across every instrument.
/// Only instrument contracts registered by the operator (receivable financing, letters of credit, payable
/// certificates), each implementing `IInvoicePaymentHook`, may take or release a lien, and only the
/// instrument that took a lien may release it.
///
/// The lien protocol (DESIGN §4):
/// - **consent**: the creditor (the invoice's current owner) consents to every lien. The instrument names
///   who consented (`creditor`, who acted in the instrument: applied, presented, accepted a certificate)
///   and the registry checks that it is the owner now; nobody pledges another's receivable;
/// - **reserve, then route**: a lien reserves the invoice against every other instrument from the moment it
///   is taken, but a buyer's payment reaches the lien's financier only once that financier has advanced
///   value, and only up to what it is owed (the instrument's payment hook decides);
/// - the value advanced against an invoice never exceeds what is unpaid on it.
/// @dev This is the part of the invoice registry that other instruments depend on. Its signatures are
/// fixed; the registry's storage layout is its own business.
interface IInvoiceLiens {
    /// @notice The life of an invoice (DESIGN §4). `Financed` means a lien is held.
    enum InvoiceState {
        None,
        Registered,
        Confirmed,
        Financed,
        Paid,
        Cancelled,
        Defaulted
    }

    /// @notice An invoice as other contracts read it (unpacked; storage is packed differently).
    struct InvoiceView {
        address seller; // the creditor: current owner of the invoice token
        address buyer; // the debtor
        address currency; // the settlement token the invoice is payable in
        uint256 faceAmount; // minor units
        uint256 paidAmount; // minor units paid by the buyer so far
        uint64 dueDate; // unix seconds
        InvoiceState state; // as derived now (Defaulted after due date plus grace)
        address lienInstrument; // the instrument contract holding the lien, or zero
        address lienFinancier; // the financier the lien is for, or zero
    }

    /// @notice `instrument` took a lien on `invoiceId` for `financier`.
    event LienTaken(uint256 indexed invoiceId, address indexed instrument, address indexed financier);

    /// @notice `instrument` released its lien on `invoiceId`.
    event LienReleased(uint256 indexed invoiceId, address indexed instrument, address indexed financier);

    /// @notice `instrument`, holding the lien on `invoiceId`, recorded that `amount` of the invoice was paid
    /// through it (e.g. a payable-certificate tree paid by the buyer, or a letter of credit paid against the
    /// invoice). No money moves through the registry; `paidAmount` is the new running total.
    event InvoiceSettledByInstrument(
        uint256 indexed invoiceId, address indexed instrument, uint256 amount, uint256 paidAmount
    );

    /// @notice The caller is not an instrument contract registered by the operator.
    error InvoiceRegistryUnauthorizedInstrument(address caller);

    /// @notice `invoiceId` already carries a lien held through `instrument` for `financier`.
    error InvoiceRegistryLienAlreadyHeld(uint256 invoiceId, address instrument, address financier);

    /// @notice `invoiceId` carries no lien held by the caller.
    error InvoiceRegistryNoLien(uint256 invoiceId, address caller);

    /// @notice The lien on `invoiceId` was asked with the consent of `creditor`, but `owner` owns the invoice.
    error InvoiceRegistryCreditorMismatch(uint256 invoiceId, address owner, address creditor);

    /// @notice A settlement of `amount` is zero or exceeds the `outstanding` amount of `invoiceId`.
    error InvoiceRegistryInvalidSettlement(uint256 invoiceId, uint256 amount, uint256 outstanding);

    /// @notice Takes the lien on `invoiceId` for `financier`, with the consent of `creditor`; the invoice
    /// becomes `Financed`.
    /// @dev Caller: a registered instrument, itself an authorized `INSTRUMENT_ROLE` participant. `creditor`
    /// must own the invoice now and be active; `financier` must be active. The invoice must be `Confirmed`
    /// (or `Registered` where the instrument accepts unconfirmed invoices), unfrozen, and carry no lien
    /// (`InvoiceRegistryLienAlreadyHeld` names the holder).
    function takeLien(uint256 invoiceId, address creditor, address financier) external;

    /// @notice Releases the caller's lien on `invoiceId`; the invoice returns to `Confirmed`, or stays
    /// `Paid` when fully paid.
    /// @dev Caller: the instrument that took the lien.
    function releaseLien(uint256 invoiceId) external;

    /// @notice Records that `amount` of `invoiceId` was settled through the calling instrument: the amount
    /// is added to `paidAmount`, so the invoice reads `Paid` (never `Defaulted`) once its face amount is
    /// reached. The lien stays until the instrument releases it.
    /// @dev Caller: the instrument holding the lien (`InvoiceRegistryNoLien` otherwise; a deregistered
    /// instrument may still record on the liens it holds). `amount` must be between 1 and what is
    /// outstanding (`InvoiceRegistryInvalidSettlement`): the instrument caps it, the registry never does.
    /// The invoice must not be frozen. Emits `InvoiceSettledByInstrument`.
    function recordSettlement(uint256 invoiceId, uint256 amount) external;

    /// @notice The invoice `invoiceId` as it stands now.
    function invoice(uint256 invoiceId) external view returns (InvoiceView memory);
}
