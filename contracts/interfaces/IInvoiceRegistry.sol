// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvoiceLiens} from "./IInvoiceLiens.sol";

/// @title Invoice registry: every receivable registered once, as an ERC-721 token (DESIGN §4).
/// @notice The seller registers an invoice; the buyer confirms the debt; an attester may attach a customs
/// declaration match; the seller may cancel before financing; the buyer pays into the registry (partial
/// payments allowed), the lien holder first and the rest to the seller. An invoice unpaid after its due
/// date plus the grace period is `Defaulted` (derived from `block.timestamp`, never stored).
///
/// **Invoice id = duplicate key.** `invoiceId = uint256(keccak256(abi.encode(identityHashOf(seller),
/// identityHashOf(buyer), canonicalInvoiceNumber(invoiceNumber))))`. Keys are built from *legal identities*,
/// not wallets (a further wallet of an identity is linked by the operator, never registered afresh), so the
/// same seller registering from a second wallet, or registering "for another bank", hits the same id and
/// reverts `InvoiceRegistryAlreadyRegistered`.
///
/// **One canonical invoice number, decided here.** An invoice number is 1 to 32 printable ASCII characters
/// without spaces (0x21–0x7E), left-aligned in a `bytes32` and zero-padded. The registry folds lower-case
/// letters to upper case and refuses every other encoding (`InvoiceRegistryInvalidInvoiceNumber`), so
/// `inv-7` and `INV-7` are one key, and no hashed or padded variant can make a second one. Using the key as the token id saves a key→id mapping slot (about
/// 22,100 gas per registration) and makes the duplicate check and the existence check one lookup. Ids are
/// therefore not sequential; anyone holding the raw invoice can compute its id off chain (`invoiceKey`).
///
/// **Amount and date ranges.** Storage is packed into one slot per invoice at registration: face amounts
/// are at most `2**48 - 1` minor units (about 2.8 trillion USD) and due dates at most `2**32 - 1`
/// (year 2106). Out-of-range inputs revert; nothing is truncated.
///
/// **Liens and payments.** Only operator-registered instruments take and release liens (`IInvoiceLiens`),
/// with the creditor's consent. When the buyer pays a liened invoice, the registry asks the lien's
/// instrument how much its financier is owed (`IInvoicePaymentHook`, which every lien instrument
/// implements: `setInstrument` refuses one without it); a lien that only reserves the invoice routes
/// nothing to its would-be financier. Money never rests in the registry:
/// it moves from the buyer straight to the financier and the seller with `transferFromWithPurpose`
/// (purpose `GDDS`, reference = `bytes32(invoiceId)`), so the buyer approves the registry beforehand.
///
/// **Transfers of the token** (assignment of the receivable) are allowed only while the invoice is
/// `Registered` or `Confirmed` (so unliened) and unfrozen; the owner and the recipient must both be
/// authorized corporates, an approved operator moving it must be active, and the recipient may not be the
/// debtor's own identity. Payments go to the current owner.
///
/// **Customs declarations** are replaced only by the attester that attached them or by a customs authority
/// (`CUSTOMS_ROLE`); a bank's customs policy reads the latest (`customsOf`).
interface IInvoiceRegistry is IInvoiceLiens {
    /// @notice One invoice of a batch registration (the seller is the caller).
    struct InvoiceInput {
        address buyer; // the debtor: an active corporate of another legal identity
        address currency; // an accepted settlement token
        bytes32 invoiceNumber; // 1..32 printable ASCII characters, zero-padded (see `canonicalInvoiceNumber`)
        uint256 faceAmount; // minor units, 1 ..= 2**48 - 1
        uint64 issueDate; // unix seconds (event only)
        uint64 dueDate; // unix seconds, after the current block, at most 2**32 - 1
        bytes32 documentHash; // hash of the invoice document kept off chain (event only)
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice The seller registered an invoice. `issueDate`, `invoiceNumber` (canonical: upper case) and
    /// `documentHash` live only here (not in storage).
    event InvoiceRegistered(
        uint256 indexed invoiceId,
        address indexed seller,
        address indexed buyer,
        address currency,
        uint256 faceAmount,
        uint64 issueDate,
        uint64 dueDate,
        bytes32 invoiceNumber,
        bytes32 documentHash
    );

    /// @notice The buyer acknowledged the debt.
    event InvoiceConfirmed(uint256 indexed invoiceId, address indexed buyer);

    /// @notice An attester attached a customs declaration. `matched` is false when the declared amount
    /// differs from the face amount (a recorded mismatch).
    event CustomsAttested(
        uint256 indexed invoiceId,
        address indexed attester,
        bytes32 declarationHash,
        uint256 declaredAmount,
        uint256 faceAmount,
        bool matched
    );

    /// @notice The seller cancelled the invoice (before any financing or payment).
    event InvoiceCancelled(uint256 indexed invoiceId, address indexed seller, bytes32 reasonCode);

    /// @notice The buyer paid `amount`: `toFinancier` to the lien's financier, `toSeller` to the invoice
    /// owner. `paidAmount` is the running total.
    event InvoicePaid(
        uint256 indexed invoiceId,
        address indexed payer,
        uint256 amount,
        uint256 toFinancier,
        uint256 toSeller,
        uint256 paidAmount
    );

    /// @notice The operator registered (or deregistered) an instrument contract allowed to take liens.
    event InstrumentSet(address indexed instrument, bool registered);

    /// @notice The operator accepted (or stopped accepting) a settlement token for new invoices.
    event CurrencySet(address indexed token, uint8 index, bool accepted);

    /// @notice The grace period after the due date before an unpaid invoice defaults (emitted once, at
    /// deployment: it is fixed for the registry's life).
    event GracePeriodSet(uint32 gracePeriod);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice The invoice with duplicate key `key` is already registered as `existingInvoiceId`
    /// (DESIGN "InvoiceAlreadyRegistered"; the gateway answers 409).
    error InvoiceRegistryAlreadyRegistered(bytes32 key, uint256 existingInvoiceId);

    /// @notice No invoice `invoiceId`.
    error InvoiceRegistryUnknownInvoice(uint256 invoiceId);

    /// @notice `invoiceId` is in state `current`; the call needs one of `expectedStates` (a bitmap with
    /// bit `1 << uint8(state)` set for each accepted state, as OpenZeppelin Governor).
    error InvoiceRegistryUnexpectedState(uint256 invoiceId, InvoiceState current, bytes32 expectedStates);

    /// @notice `caller` is not the seller (current owner) of `invoiceId`.
    error InvoiceRegistryNotSeller(uint256 invoiceId, address caller);

    /// @notice `caller` is not the buyer of `invoiceId`.
    error InvoiceRegistryNotBuyer(uint256 invoiceId, address caller);

    /// @notice `amount` is zero, or (a face amount) above `2**48 - 1` minor units.
    error InvoiceRegistryInvalidAmount(uint256 amount);

    /// @notice `dueDate` is not after the current block `now_`, or is above `2**32 - 1`.
    error InvoiceRegistryInvalidDueDate(uint64 dueDate, uint256 now_);

    /// @notice Seller and buyer are the same legal identity (`identityHash`).
    error InvoiceRegistrySameParty(bytes32 identityHash);

    /// @notice `token` is not a settlement token accepted for new invoices.
    error InvoiceRegistryUnsupportedCurrency(address token);

    /// @notice Paying `amount` would exceed the `outstanding` amount of `invoiceId`.
    error InvoiceRegistryOverpayment(uint256 invoiceId, uint256 amount, uint256 outstanding);

    /// @notice The regulator froze `invoiceId`: no transition until it is unfrozen.
    error InvoiceRegistryFrozen(uint256 invoiceId);

    /// @notice `invoiceId` has already received `paidAmount`: it can no longer be cancelled.
    error InvoiceRegistryPaymentsReceived(uint256 invoiceId, uint256 paidAmount);

    /// @notice The operator has already registered the maximum 255 instruments or currencies.
    error InvoiceRegistryTooManyEntries();

    /// @notice `invoiceNumber` is not 1 to 32 printable ASCII characters without spaces, zero-padded.
    error InvoiceRegistryInvalidInvoiceNumber(bytes32 invoiceNumber);

    /// @notice `instrument` does not implement `IInvoicePaymentHook` (ERC-165): it may not hold liens.
    error InvoiceRegistryMissingPaymentHook(address instrument);

    /// @notice The customs declaration of `invoiceId` was attached by `attester`; `caller` is neither it nor
    /// a customs authority.
    error InvoiceRegistryNotCustomsAttester(uint256 invoiceId, address attester, address caller);

    // ───────────────────────────── Sellers ─────────────────────────────

    /// @notice Registers an invoice of the caller (the seller) on `buyer`; mints its token to the caller.
    /// @dev Caller and `buyer`: authorized corporates of different legal identities. `invoiceNumber` is
    /// folded to its canonical form. Reverts `InvoiceRegistryAlreadyRegistered` when the duplicate key
    /// exists, whoever registered it.
    /// @return invoiceId The duplicate key as a token id.
    function register(
        address buyer,
        address currency,
        bytes32 invoiceNumber,
        uint256 faceAmount,
        uint64 issueDate,
        uint64 dueDate,
        bytes32 documentHash
    ) external returns (uint256 invoiceId);

    /// @notice Registers many invoices of the caller in one transaction (same rules as `register`, every
    /// buyer checked in every position; one refusal reverts the whole batch).
    /// @return invoiceIds The ids, in input order.
    function registerBatch(InvoiceInput[] calldata invoices) external returns (uint256[] memory invoiceIds);

    /// @notice Cancels `invoiceId`: `Registered` or `Confirmed`, no lien, nothing paid yet.
    /// @dev Caller: the seller (current owner), an authorized corporate. The token stays, in state `Cancelled`, so the
    /// duplicate key stays taken.
    function cancel(uint256 invoiceId, bytes32 reasonCode) external;

    // ───────────────────────────── Buyers ─────────────────────────────

    /// @notice The buyer acknowledges the debt: `Registered → Confirmed`.
    /// @dev Caller: the buyer, an authorized corporate.
    function confirm(uint256 invoiceId) external;

    /// @notice The buyer pays `amount` (partial payments allowed, never above what is outstanding).
    /// The lien's financier receives what its instrument says it is owed, the seller the rest.
    /// @dev Caller: the buyer, having approved this registry on the invoice's settlement token (the token
    /// refuses an inactive buyer, seller or financier). A liened invoice's instrument may refuse a payment
    /// that would eat into what it has committed (see `IInvoicePaymentHook`).
    /// States: `Registered`, `Confirmed`, `Financed`, `Defaulted` (late payment is still payment).
    function pay(uint256 invoiceId, uint256 amount) external;

    // ───────────────────────────── Attesters ─────────────────────────────

    /// @notice Attaches (or replaces) a customs declaration: its hash and declared amount. A declared
    /// amount different from the face amount is recorded as a mismatch.
    /// @dev Caller: authorized `ATTESTER_ROLE`; a declaration already attached is replaced only by its
    /// attester or an authorized `CUSTOMS_ROLE`. States: `Registered` or `Confirmed` (before financing).
    function attestCustoms(uint256 invoiceId, bytes32 declarationHash, uint256 declaredAmount) external;

    // ───────────────────────────── Operator ─────────────────────────────

    /// @notice Registers or deregisters an instrument contract allowed to take liens. A deregistered
    /// instrument can take no new lien but can still release the liens it holds.
    /// @dev Caller: authorized `OPERATOR_ROLE`. Registering needs `instrument` to implement
    /// `IInvoicePaymentHook` (ERC-165) and to be an authorized `INSTRUMENT_ROLE` participant.
    function setInstrument(address instrument, bool registered) external;

    /// @notice Accepts (or stops accepting) settlement token `token` for new invoices.
    /// @dev Caller: authorized `OPERATOR_ROLE`. Existing invoices keep their currency either way.
    function setCurrency(address token, bool accepted) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The state of `invoiceId` now (`None` when unknown).
    function state(uint256 invoiceId) external view returns (InvoiceState);

    /// @notice The duplicate key of an invoice, computed from the raw invoice (its id is `uint256(key)`);
    /// the number is folded to its canonical form first.
    function invoiceKey(address seller, address buyer, bytes32 invoiceNumber) external view returns (bytes32);

    /// @notice The canonical form of an invoice number: lower-case ASCII letters folded to upper case.
    /// Reverts `InvoiceRegistryInvalidInvoiceNumber` for anything but 1 to 32 printable ASCII characters
    /// (0x21–0x7E), left-aligned and zero-padded.
    function canonicalInvoiceNumber(bytes32 invoiceNumber) external pure returns (bytes32);

    /// @notice The attester whose customs declaration `invoiceId` carries (zero when none).
    function customsAttesterOf(uint256 invoiceId) external view returns (address);

    /// @notice Whether a customs declaration is attached to `invoiceId`, and whether it matched the face
    /// amount.
    function customsOf(uint256 invoiceId) external view returns (bool attested, bool matched);

    /// @notice The grace period in seconds after the due date before an unpaid invoice defaults (fixed at
    /// deployment).
    function gracePeriod() external view returns (uint32);

    /// @notice Whether `instrument` may take liens now.
    function isInstrument(address instrument) external view returns (bool);

    /// @notice Whether `token` is accepted for new invoices.
    function isCurrency(address token) external view returns (bool);

    /// @notice The participant registry this registry asks.
    function participantRegistry() external view returns (address);
}
