// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvoiceLiens} from "./IInvoiceLiens.sol";
import {IInvoicePaymentHook} from "./IInvoicePaymentHook.sol";

/// @title Receivable financing (factoring) and reverse factoring programmes (DESIGN §5).
/// @notice A seller applies to one bank for one confirmed invoice (requested amount at most what is still
/// unpaid on it). The bank approves with terms (advance, annual rate in basis points, maturity) or rejects
/// with a reason. Approval pays the advance from the bank to the seller in the invoice's settlement token
/// and takes the invoice's lien in the same transaction, with the seller's consent given by its
/// application: a second bank's approval on the same invoice reverts `ReceivableFinancingInvoiceLiened`
/// (naming the lien's instrument and financier), so double financing is impossible.
///
/// **What is owed.** `owed(t) = min(advance + interest(t), 2**48 - 1) - repaid`, with simple interest on the
/// full advance from disbursement until the financing closes, also past maturity (no penalty rate):
/// `interest(t) = floor(advance * rateBps * (t - disbursedAt) / (10_000 * 365 days))`. The debt is capped at
/// `2**48 - 1` minor units (about 2.8 trillion in a two-decimal currency), the largest amount the platform
/// records, so every financing can close.
/// Rounding: **down**, in the debtor's favour; the bank never charges more than the contractual rate and
/// forgoes less than one minor unit. Partial repayments reduce what is owed, not the interest base.
///
/// **Repayment.** The buyer pays the invoice into the invoice registry, which asks this contract (the lien
/// instrument, `IInvoicePaymentHook`) what the bank is owed: the bank receives up to that, the seller the
/// rest; when the bank is repaid in full the financing closes and the registry releases the lien in the
/// same transaction. Anyone (typically the seller) may also repay the bank directly (`repay`), and the bank
/// may record a repayment received off chain (`recordRepayment`). A frozen financing is repaid by nothing:
/// the hook refuses the buyer's payment while the regulator holds it.
///
/// **Default and recourse.** Once the invoice is `Defaulted` in the registry (due date plus grace passed,
/// unpaid) or the financing is past maturity plus the registry's grace period, the bank may mark the
/// financing `Defaulted` and claim recourse: what is still owed is pulled from the seller (who approved
/// this contract as part of its recourse agreement), the financing closes and the lien is released.
///
/// **Reverse factoring.** A buyer (core enterprise) proposes a programme to a bank (rate, limit); the bank
/// accepts it. Suppliers then apply under the programme for invoices on that buyer: the bank is the
/// programme's bank, the rate is the programme's rate, and the advances outstanding stay within the limit.
///
/// Money never rests in this contract: it moves between participants with `transferFromWithPurpose`
/// (`LOAN` for advances, `LOAR` for repayments, reference = `bytes32(financingId)`).
interface IReceivableFinancing is IInvoicePaymentHook {
    /// @notice The life of a financing.
    enum FinancingState {
        None,
        Applied, // the seller asked a bank
        Rejected, // the bank said no (reason in the event)
        Withdrawn, // the seller withdrew the application
        Active, // advance paid, lien held
        Defaulted, // the bank declared the default; recourse may be claimed
        Closed // repaid in full (by the buyer, the seller or recourse); lien released
    }

    /// @notice The life of a reverse factoring programme.
    enum ProgrammeState {
        None,
        Proposed, // the buyer proposed it
        Open, // the bank accepted it: suppliers may apply
        Closed // no new applications; running financings continue
    }

    /// @notice One financing, as stored.
    /// Slot 0: invoiceId (32).
    /// Slot 1: seller (20) + state (1) + disbursedAt (4) + repaidAmount (6) + underProgramme (1) = 32 bytes.
    /// Slot 2: bank (20) + amount (6) + rateBps (2) + maturity (4) = 32 bytes.
    /// `amount` is the requested amount while `Applied`, the advance once approved.
    struct Financing {
        uint256 invoiceId;
        address seller;
        FinancingState state;
        uint32 disbursedAt;
        uint48 repaidAmount;
        bool underProgramme; // spares a `programmeOf` lookup on every closing outside programmes
        address bank;
        uint48 amount;
        uint16 rateBps;
        uint32 maturity;
    }

    /// @notice One reverse factoring programme, as stored.
    /// Slot 0: buyer (20) + rateBps (2) + state (1) + used (6) = 29 bytes.
    /// Slot 1: bank (20) + limit (6) = 26 bytes.
    /// `used` is the sum of the advances of the programme's financings not yet closed.
    struct Programme {
        address buyer;
        uint16 rateBps;
        ProgrammeState state;
        uint48 used;
        address bank;
        uint48 limit;
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice The seller applied to `bank` for invoice `invoiceId` (`programmeId` zero outside a programme).
    event FinancingApplied(
        uint256 indexed financingId,
        uint256 indexed invoiceId,
        address indexed seller,
        address bank,
        uint256 requestedAmount,
        uint256 programmeId
    );

    /// @notice The bank approved, paid `advanceAmount` to the seller and took the lien.
    event FinancingApproved(
        uint256 indexed financingId,
        address indexed bank,
        address indexed seller,
        uint256 advanceAmount,
        uint16 rateBps,
        uint32 maturity,
        bytes32 termsHash
    );

    /// @notice The bank rejected the application.
    event FinancingRejected(uint256 indexed financingId, address indexed bank, bytes32 reasonCode);

    /// @notice The seller withdrew the application.
    event FinancingWithdrawn(uint256 indexed financingId, address indexed seller);

    /// @notice `payer` repaid `amount` to the bank (the invoice registry for a buyer's payment, with the
    /// invoice id as `paymentReference`; anyone repaying directly; the seller under recourse; or the
    /// bank recording an off-chain receipt with `paymentReference`); `outstanding` is still owed now.
    event FinancingRepaid(
        uint256 indexed financingId, address indexed payer, uint256 amount, uint256 outstanding, bytes32 paymentReference
    );

    /// @notice The bank declared the financing in default with `outstanding` owed.
    event FinancingDefaulted(uint256 indexed financingId, address indexed bank, uint256 outstanding);

    /// @notice The bank recovered `amount` from the seller under recourse.
    event RecourseClaimed(uint256 indexed financingId, address indexed seller, uint256 amount);

    /// @notice The financing is repaid in full (`totalRepaid`, advance plus interest) and its lien released.
    event FinancingClosed(uint256 indexed financingId, uint256 indexed invoiceId, uint256 totalRepaid);

    /// @notice A buyer proposed a reverse factoring programme to a bank.
    event ProgrammeProposed(
        uint256 indexed programmeId, address indexed buyer, address indexed bank, uint16 rateBps, uint256 limit
    );

    /// @notice The bank accepted the programme: suppliers may apply.
    event ProgrammeOpened(uint256 indexed programmeId, address indexed bank);

    /// @notice The buyer or the bank closed the programme to new applications.
    event ProgrammeClosed(uint256 indexed programmeId, address indexed closedBy);

    /// @notice A bank set whether it finances only invoices with a matching customs declaration.
    event CustomsPolicySet(address indexed bank, bool customsMatchRequired);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice No financing `financingId`.
    error ReceivableFinancingUnknownFinancing(uint256 financingId);

    /// @notice `financingId` is in state `current`; the call needs one of `expectedStates` (bitmap, bit
    /// `1 << uint8(state)` per accepted state).
    error ReceivableFinancingUnexpectedState(uint256 financingId, FinancingState current, bytes32 expectedStates);

    /// @notice `caller` is not the seller (owner) of the invoice or of the financing.
    error ReceivableFinancingNotSeller(uint256 invoiceId, address caller);

    /// @notice `caller` is not the bank of `financingId`.
    error ReceivableFinancingNotBank(uint256 financingId, address caller);

    /// @notice The invoice must be `Confirmed` to be financed; it is `invoiceState`.
    error ReceivableFinancingInvoiceNotConfirmed(uint256 invoiceId, IInvoiceLiens.InvoiceState invoiceState);

    /// @notice The invoice is already liened: through `instrument`, for `financier` (financed or presented
    /// elsewhere).
    error ReceivableFinancingInvoiceLiened(uint256 invoiceId, address instrument, address financier);

    /// @notice `amount` is zero or above `2**48 - 1`.
    error ReceivableFinancingInvalidAmount(uint256 amount);

    /// @notice The amount asked or advanced is above what is still unpaid on the invoice (`outstanding`).
    error ReceivableFinancingAboveOutstanding(uint256 invoiceId, uint256 amount, uint256 outstanding);

    /// @notice The advance is zero or above the requested amount.
    error ReceivableFinancingInvalidAdvance(uint256 advanceAmount, uint256 requestedAmount);

    /// @notice `rateBps` is above 10,000 (100% a year).
    error ReceivableFinancingInvalidRate(uint256 rateBps);

    /// @notice `maturity` is not after the current block `now_`, or is above `2**32 - 1`.
    error ReceivableFinancingInvalidMaturity(uint256 maturity, uint256 now_);

    /// @notice The bank requires a matching customs declaration and invoice `invoiceId` has none.
    error ReceivableFinancingCustomsMatchRequired(uint256 invoiceId);

    /// @notice Repaying `amount` exceeds the `owed` amount of `financingId`.
    error ReceivableFinancingOverpayment(uint256 financingId, uint256 amount, uint256 owed);

    /// @notice The financing cannot be declared in default before `defaultsAt` (unless its invoice is
    /// `Defaulted`).
    error ReceivableFinancingNotOverdue(uint256 financingId, uint256 defaultsAt);

    /// @notice The regulator froze `financingId`.
    error ReceivableFinancingFrozen(uint256 financingId);

    /// @notice Only the invoice registry may call the payment hook.
    error ReceivableFinancingNotInvoiceRegistry(address caller);

    /// @notice No programme `programmeId`.
    error ReceivableFinancingUnknownProgramme(uint256 programmeId);

    /// @notice Programme `programmeId` is in state `current`; the call needs one of `expectedStates`.
    error ReceivableFinancingUnexpectedProgrammeState(
        uint256 programmeId, ProgrammeState current, bytes32 expectedStates
    );

    /// @notice `caller` is not the party of programme `programmeId` this call needs.
    error ReceivableFinancingNotProgrammeParty(uint256 programmeId, address caller);

    /// @notice The invoice's buyer `invoiceBuyer` is not the programme's buyer.
    error ReceivableFinancingNotProgrammeBuyer(uint256 programmeId, address invoiceBuyer);

    /// @notice Under a programme the bank must approve at the programme's rate `expectedRateBps`.
    error ReceivableFinancingProgrammeRateMismatch(uint256 programmeId, uint16 expectedRateBps, uint16 rateBps);

    /// @notice The advance would take the programme's outstanding advances `used` above its `limit`.
    error ReceivableFinancingProgrammeLimitExceeded(
        uint256 programmeId, uint256 used, uint256 advanceAmount, uint256 limit
    );

    // ───────────────────────────── Sellers ─────────────────────────────

    /// @notice Applies to `bank` for financing of invoice `invoiceId`.
    /// @dev Caller: the invoice's seller (current owner), authorized `CORPORATE_ROLE`. `bank`: authorized
    /// `BANK_ROLE`. The invoice must be `Confirmed` and unliened; `requestedAmount` in 1 ..= what is unpaid.
    function applyForFinancing(uint256 invoiceId, address bank, uint256 requestedAmount)
        external
        returns (uint256 financingId);

    /// @notice Applies under reverse factoring programme `programmeId` (its bank, its rate) for an invoice
    /// on the programme's buyer.
    /// @dev As `applyForFinancing`; the programme must be `Open`.
    function applyUnderProgramme(uint256 invoiceId, uint256 programmeId, uint256 requestedAmount)
        external
        returns (uint256 financingId);

    /// @notice The seller withdraws its application: `Applied → Withdrawn`.
    /// @dev Caller: the applicant, authorized `CORPORATE_ROLE`.
    function withdraw(uint256 financingId) external;

    /// @notice Repays `amount` of what `financingId` owes, from the caller to the bank. Closes the
    /// financing and releases the lien when it repays in full.
    /// @dev Caller: any active participant (typically the seller), having approved this contract. States:
    /// `Active`, `Defaulted`; not frozen.
    function repay(uint256 financingId, uint256 amount) external;

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Approves with terms: pays `advanceAmount` from the bank to the seller and takes the
    /// invoice's lien, in one transaction. `Applied → Active`.
    /// @dev Caller: the application's bank, authorized `BANK_ROLE`, having approved this contract for the
    /// advance. The invoice must still be `Confirmed`, owned by the applicant and unliened, with at least the
    /// advance unpaid. Under a programme, the programme must still be `Open`, `rateBps` must be its rate and
    /// its limit must hold.
    /// @param advanceAmount 1 ..= requested amount (and what is unpaid), minor units.
    /// @param rateBps Annual interest rate in basis points, at most 10,000.
    /// @param maturity Unix time the bank expects repayment (after now, at most `2**32 - 1`).
    /// @param termsHash Hash of the financing agreement kept off chain.
    function approve(uint256 financingId, uint256 advanceAmount, uint16 rateBps, uint64 maturity, bytes32 termsHash)
        external;

    /// @notice Rejects the application with a reason: `Applied → Rejected`.
    /// @dev Caller: the application's bank, authorized `BANK_ROLE`.
    function reject(uint256 financingId, bytes32 reasonCode) external;

    /// @notice Records `amount` repaid to the bank outside the chain (e.g. by wire), with its reference.
    /// Closes the financing and releases the lien when it repays in full.
    /// @dev Caller: the financing's bank, authorized `BANK_ROLE`. States: `Active`, `Defaulted`.
    function recordRepayment(uint256 financingId, uint256 amount, bytes32 paymentReference) external;

    /// @notice Declares the financing in default: `Active → Defaulted`.
    /// @dev Caller: the financing's bank, authorized `BANK_ROLE`. The invoice must be `Defaulted`, or the
    /// financing past maturity plus the registry's grace period.
    function markDefault(uint256 financingId) external;

    /// @notice Recourse: pulls everything still owed from the seller to the bank, closes the financing and
    /// releases the lien. `Defaulted → Closed`.
    /// @dev Caller: the financing's bank, authorized `BANK_ROLE`. The seller must have approved this contract.
    function claimRecourse(uint256 financingId) external;

    /// @notice Sets whether the calling bank approves only invoices with a matching customs declaration.
    /// @dev Caller: authorized `BANK_ROLE`.
    function setCustomsMatchRequired(bool required) external;

    /// @notice Accepts a programme proposed to the calling bank: `Proposed → Open`.
    /// @dev Caller: the programme's bank, authorized `BANK_ROLE`.
    function acceptProgramme(uint256 programmeId) external;

    // ───────────────────────────── Buyers (reverse factoring) ─────────────────────────────

    /// @notice Proposes a reverse factoring programme to `bank`: suppliers' confirmed invoices on the caller
    /// may be financed at `rateBps` while the programme's outstanding advances stay within `limit`.
    /// @dev Caller: authorized `CORPORATE_ROLE`. `bank`: authorized `BANK_ROLE`.
    function proposeProgramme(address bank, uint16 rateBps, uint256 limit) external returns (uint256 programmeId);

    /// @notice Closes a programme to new applications (`Proposed` or `Open` → `Closed`).
    /// @dev Caller: the programme's buyer or bank, active.
    function closeProgramme(uint256 programmeId) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice Financing `financingId` as stored.
    function financing(uint256 financingId) external view returns (Financing memory);

    /// @notice What `financingId` owes the bank now (zero unless `Active` or `Defaulted`).
    function owed(uint256 financingId) external view returns (uint256);

    /// @notice What `financingId` would owe the bank at time `timestamp` if nothing more were repaid: its payoff
    /// amount on that date (a time before now counts as now; zero unless `Active` or `Defaulted`).
    function owedAt(uint256 financingId, uint256 timestamp) external view returns (uint256);

    /// @notice Interest on `advance` at `rateBps` over `elapsed` seconds, rounded down.
    function interest(uint256 advance, uint256 rateBps, uint256 elapsed) external pure returns (uint256);

    /// @notice The open financing holding the lien on `invoiceId` (zero when none).
    function activeFinancingOf(uint256 invoiceId) external view returns (uint256);

    /// @notice The programme a financing was applied under (zero when none).
    function programmeOf(uint256 financingId) external view returns (uint256);

    /// @notice Programme `programmeId` as stored.
    function programme(uint256 programmeId) external view returns (Programme memory);

    /// @notice Whether `bank` approves only invoices with a matching customs declaration.
    function customsMatchRequired(address bank) external view returns (bool);

    /// @notice The number of financings so far (ids run from 1).
    function financingCount() external view returns (uint256);

    /// @notice The invoice registry whose liens this contract takes.
    function invoiceRegistry() external view returns (address);
}
