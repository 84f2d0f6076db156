// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Documentary letters of credit with executable UCP 600 rules (DESIGN §6).
/// @notice One contract holds every letter of credit ("LC") by id. Terms follow SWIFT MT700. The issuing
/// bank's undertaking is its own (UCP 600 Art. 4, 7): honour pays the beneficiary from the issuing bank's
/// settlement tokens and never depends on the applicant's balance.
///
/// Lifecycle of a credit:
///     Applied ──issue──▶ Issued ──advise──▶ Advised ──(drawn in full)──▶ Exhausted
///        │                  │                  │
///        └─cancelApplication└────requestCancellation + consentToCancellation──▶ Cancelled
///     and, derived from time, Expired once the expiry day is over (`state(lcId)`).
///
/// Lifecycle of a presentation:
///     Presented ──examine──▶ Compliant ─────────────honour──▶ Paid (sight) | Honoured ──pay──▶ Paid
///         │          └─────▶ Discrepant ──waive──▶ Waived ──honour──▶ (as above)
///         │                       └──refuse──▶ Refused
///         └─(deadline passed while Presented, Compliant or Waived)─▶ Precluded
///                                                  ──honour | claimPreclusion──▶ (as above)
///
/// Conventions that a reader must know:
/// - **Days** are UTC days of unix time: `day(t) = t / 86400`. Every date in the terms is a unix time whose
///   UTC day is the date meant; any time within that day denotes the same date.
/// - **Latest shipment date**: a shipment on the latest day passes; one day later is `LateShipment`.
/// - **Presentation period** (Art. 14(c)): with the default 21 days, a presentation on day 21 after the
///   shipment day passes and one on day 22 is `LatePresentation`. A presentation after the expiry day is
///   `Expired` (Art. 6(d)(i), 6(e)), whatever the period says.
/// - **Tolerance** (Art. 30(a)): the credit may be drawn up to `amount + amount * tolerancePercent / 100`
///   (rounded down: the bank never owes a fraction of a minor unit more). Exactly +10% on an "about"
///   credit passes; one minor unit more is `OverTolerance`. Drawings already honoured and presentations
///   still open count against the same ceiling, so the total honoured can never exceed it.
/// - **Partial drawings** (Art. 31(a), 30(c)): when partial shipments are not allowed, a second drawing, or
///   a drawing below `amount - amount * lowerTolerance / 100` (lowerTolerance = tolerancePercent, or 5%
///   when the credit states no tolerance, Art. 30(c)), is `PartialNotAllowed`.
/// - **Examination period** (Art. 14(b)): five banking days following the day of presentation; banking
///   days skip Saturday and Sunday (no holiday calendar), and documents received on a Saturday or Sunday
///   count as received on the next banking day (Art. 33). The issuing bank must decide, and honour a
///   presentation it finds compliant, up to the end of the fifth banking day; from the next day on a
///   `Presented` or `Compliant` presentation is `Precluded` (Art. 16(f)) and the beneficiary is paid as for
///   a compliant one. A `Waived` presentation must be honoured within five banking days of the waiver (or of
///   the presentation, if later), else it is `Precluded` too. These deadlines are extended by the time the
///   regulator held the credit frozen since the presentation (the bank could not act). A presentation
///   claiming more than the credit's ceiling (`OverTolerance`) is outside the bank's undertaking: it
///   reserves nothing, cannot be waived and is never precluded.
/// - **Discrepancies**: the contract computes the six coded ones at presentation; the bank adds only the
///   documentary one, `INCONSISTENT_DATA` (Art. 14(d)), when it examines the documents.
/// - **Invoices**: a presentation that includes a commercial invoice names its registered invoice
///   (`presentWithInvoice`) and takes the invoice's lien with the beneficiary's consent: an invoice financed
///   or presented elsewhere cannot be drawn against. The lien reserves the invoice but routes nothing to the
///   issuing bank; the buyer's direct payments may not eat into the presented amount (that part is paid
///   through the credit, and recorded as paid on the invoice when the credit pays).
/// - **Margin**: money escrowed by this contract from the applicant at issuance, held in the credit's own
///   account. Each honour applies the share `margin * drawn / amount` (rounded down, capped at the margin
///   and at what the credit still holds) to the issuing bank; whatever remains when the credit is
///   cancelled, expired or exhausted with no presentation open is released to the applicant. At every
///   moment `escrowed == held + applied + released` per credit, and this contract's balance of a currency
///   is the sum of `held` over that currency's credits.
/// - **Currency**: a settlement token the invoice registry accepts.
interface ILetterOfCredit {
    // ───────────────────────────── Types ─────────────────────────────

    /// @notice The states of a credit. `Expired` and `Exhausted` are derived in `state`, never stored.
    enum CreditState {
        None,
        Applied,
        Issued,
        Advised,
        Exhausted,
        Expired,
        Cancelled
    }

    /// @notice The states of a presentation. `Precluded` is derived in `presentationState`, never stored.
    enum PresentationState {
        None,
        Presented,
        Compliant,
        Discrepant,
        Waived,
        Refused,
        Precluded,
        Honoured,
        Paid
    }

    /// @notice MT700 field 41a: how the credit is available.
    enum Availability {
        SightPayment,
        DeferredPayment
    }

    /// @notice MT700 field 46A document types. A set of them is a bitmask: bit `1 << uint8(type)`.
    enum DocumentType {
        CommercialInvoice,
        TransportDocument,
        PackingList,
        CertificateOfOrigin,
        InsuranceDocument,
        InspectionCertificate
    }

    /// @notice The terms of a credit, as the applicant applies for them (MT700 fields in brackets).
    /// @dev Amounts in minor units of `currency`; dates are unix times read as UTC days.
    struct Terms {
        address beneficiary; // 59
        address issuingBank; // 52a
        address advisingBank; // 57a
        address confirmingBank; // 58a, zero when unconfirmed (49: WITHOUT)
        address currency; // 32B: the settlement token
        uint96 amount; // 32B
        uint8 tolerancePercent; // 39A, symmetric (+/-); 10 for an "about" credit (Art. 30(a)); at most 10
        uint40 expiryDate; // 31D
        uint40 latestShipmentDate; // 44C
        uint8 presentationPeriodDays; // 48; zero means the default 21 days (Art. 14(c))
        bool partialShipmentsAllowed; // 43P
        Availability availability; // 41a
        uint16 deferredPaymentDays; // 42P: days after the shipment day (deferred payment only)
        uint8 requiredDocuments; // 46A: bitmask of DocumentType
    }

    /// @notice One presented document: its type and the hash of its content (nothing personal on chain).
    struct Document {
        DocumentType docType;
        bytes32 documentHash;
    }

    /// @notice The terms an amendment changes (Art. 10). Every field replaces the current one.
    struct Amendment {
        uint96 amount;
        uint40 expiryDate;
        uint40 latestShipmentDate;
        uint8 requiredDocuments;
    }

    /// @notice A presentation as it stands now (unpacked; `state` is derived).
    struct PresentationView {
        PresentationState state;
        uint96 amount;
        uint40 shipmentDate;
        uint40 presentedAt;
        uint40 examinationDeadline; // the bank's deadline to decide and honour (see the conventions above)
        uint40 maturityDate; // deferred payment: 00:00 UTC of the maturity day; zero before acceptance
        uint8 documents; // bitmask of DocumentType presented
        uint8 discrepancies; // bitmask of discrepancy codes (on-chain and, after examination, the bank's)
        bool hasInvoice;
        uint256 invoiceId;
    }

    /// @notice The money of a credit now: drawn (honoured), reserved (open presentations), and what is left.
    struct Drawings {
        uint256 amount;
        uint256 ceiling; // amount plus tolerance
        uint256 drawn;
        uint256 reserved;
        uint256 available; // ceiling - drawn - reserved
    }

    /// @notice The applicant's margin of a credit: `escrowed == held + applied + released`.
    struct Margin {
        uint256 escrowed;
        uint256 held;
        uint256 applied;
        uint256 released;
    }

    // ───────────────────────────── Discrepancy codes ─────────────────────────────
    // A bitmask in a uint8. The first six are computed on chain at presentation; the issuing bank may add
    // `DISCREPANCY_INCONSISTENT_DATA` after examining the documents themselves.

    /// @notice Shipment after the latest shipment date (MT700 44C; Art. 14(a), 29(c)).
    function DISCREPANCY_LATE_SHIPMENT() external view returns (uint8);
    /// @notice Presented after the presentation period following shipment (Art. 14(c)).
    function DISCREPANCY_LATE_PRESENTATION() external view returns (uint8);
    /// @notice Presented after the expiry date (Art. 6(d)(i), 6(e)).
    function DISCREPANCY_EXPIRED() external view returns (uint8);
    /// @notice Amount claimed beyond the credit amount plus tolerance (Art. 30(a), 18(b)).
    function DISCREPANCY_OVER_TOLERANCE() external view returns (uint8);
    /// @notice Partial drawing where partial shipments are not allowed (Art. 31(a), 30(c)).
    function DISCREPANCY_PARTIAL_NOT_ALLOWED() external view returns (uint8);
    /// @notice A document the credit requires was not presented (Art. 14(a), 15, 16).
    function DISCREPANCY_MISSING_DOCUMENT() external view returns (uint8);
    /// @notice Data in the documents conflict with each other or with the credit (Art. 14(d)); bank-declared.
    function DISCREPANCY_INCONSISTENT_DATA() external view returns (uint8);

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice The applicant applied for credit `lcId` on `terms`, as applied for (a zero
    /// `presentationPeriodDays` stands for the default 21 days).
    event CreditApplied(uint256 indexed lcId, address indexed applicant, address indexed issuingBank, Terms terms);

    /// @notice The issuing bank declined an application, or the applicant withdrew it.
    event ApplicationCancelled(uint256 indexed lcId, address indexed by);

    /// @notice The issuing bank issued the credit; `margin` was escrowed from the applicant.
    event CreditIssued(uint256 indexed lcId, address indexed issuingBank, uint256 margin);

    /// @notice The advising bank advised the credit to the beneficiary (Art. 9).
    event CreditAdvised(uint256 indexed lcId, address indexed advisingBank);

    /// @notice The issuing bank proposed amendment number `amendmentNumber` (binding on it, Art. 10(b)).
    event AmendmentProposed(uint256 indexed lcId, uint256 indexed amendmentNumber, Amendment amendment);

    /// @notice The beneficiary accepted the pending amendment; it is now part of the terms (Art. 10(c)).
    event AmendmentAccepted(uint256 indexed lcId, uint256 indexed amendmentNumber);

    /// @notice The beneficiary rejected the pending amendment; the terms stay as they were (Art. 10(c)).
    event AmendmentRejected(uint256 indexed lcId, uint256 indexed amendmentNumber);

    /// @notice The issuing bank asked the beneficiary to agree to cancel the credit (Art. 10(a)).
    event CancellationRequested(uint256 indexed lcId, address indexed issuingBank);

    /// @notice The confirming bank agreed to the cancellation (Art. 10(a)).
    event CancellationAgreedByConfirmingBank(uint256 indexed lcId, address indexed confirmingBank);

    /// @notice The beneficiary consented and the credit is cancelled.
    event CreditCancelled(uint256 indexed lcId, address indexed beneficiary);

    /// @notice The beneficiary presented documents; `discrepancies` are the codes found on chain.
    event DocumentsPresented(
        uint256 indexed lcId,
        uint256 indexed presentationId,
        uint256 amount,
        uint40 shipmentDate,
        uint8 discrepancies,
        Document[] documents
    );

    /// @notice The presentation carries invoice `invoiceId`, on which a lien was taken for the issuing bank.
    event PresentationInvoiceLinked(uint256 indexed lcId, uint256 indexed presentationId, uint256 indexed invoiceId);

    /// @notice The issuing bank examined the presentation: compliant when `discrepancies` is zero.
    event PresentationExamined(uint256 indexed lcId, uint256 indexed presentationId, uint8 discrepancies);

    /// @notice The applicant waived the discrepancies of the presentation (Art. 16(b)).
    event DiscrepanciesWaived(uint256 indexed lcId, uint256 indexed presentationId, address indexed applicant);

    /// @notice The issuing bank refused the presentation (Art. 16(c)); its amount is free again.
    event PresentationRefused(uint256 indexed lcId, uint256 indexed presentationId, uint8 discrepancies);

    /// @notice The beneficiary claimed preclusion after the bank's silence (Art. 16(f)).
    event PreclusionClaimed(uint256 indexed lcId, uint256 indexed presentationId, address indexed beneficiary);

    /// @notice The presentation was honoured from state `from` (Compliant, Waived or Precluded);
    /// `maturityDate` is zero for sight payment.
    event PresentationHonoured(
        uint256 indexed lcId, uint256 indexed presentationId, PresentationState from, uint256 amount, uint40 maturityDate
    );

    /// @notice The issuing bank paid `amount` to the beneficiary for the presentation.
    event PresentationPaid(uint256 indexed lcId, uint256 indexed presentationId, address indexed payer, uint256 amount);

    /// @notice `amount` of the applicant's margin went to the issuing bank.
    event MarginApplied(uint256 indexed lcId, uint256 amount);

    /// @notice `amount` of the applicant's margin went back to the applicant.
    event MarginReleased(uint256 indexed lcId, uint256 amount);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice No credit has id `lcId`.
    error LetterOfCreditNonexistent(uint256 lcId);

    /// @notice No presentation `presentationId` under credit `lcId`.
    error LetterOfCreditNonexistentPresentation(uint256 lcId, uint256 presentationId);

    /// @notice The credit is in `current`; the call needs one of the states set in the bitmap `expectedStates`
    /// (bit `1 << uint8(state)`), as in OpenZeppelin's Governor.
    error LetterOfCreditUnexpectedState(uint256 lcId, CreditState current, bytes32 expectedStates);

    /// @notice The presentation is in `current`; the call needs one of the states in `expectedStates`.
    error LetterOfCreditUnexpectedPresentationState(
        uint256 lcId, uint256 presentationId, PresentationState current, bytes32 expectedStates
    );

    /// @notice `caller` may not do this on credit `lcId`; `expected` may.
    error LetterOfCreditUnauthorizedCaller(uint256 lcId, address caller, address expected);

    /// @notice The regulator froze credit `lcId`: every transition is refused until it is unfrozen.
    error LetterOfCreditFrozen(uint256 lcId);

    /// @notice The applicant and the beneficiary are the same account. (A party of the wrong kind, or an
    /// inactive one, is refused by the participant registry with its own error.)
    error LetterOfCreditInvalidParties(address applicant, address beneficiary);

    /// @notice `currency` is not a settlement token the invoice registry accepts.
    error LetterOfCreditInvalidCurrency(address currency);

    /// @notice The credit amount is zero.
    error LetterOfCreditInvalidAmount(uint256 amount);

    /// @notice The tolerance is above 10%.
    error LetterOfCreditInvalidTolerance(uint8 tolerancePercent);

    /// @notice The expiry day is before today, or the latest shipment day is after the expiry day.
    error LetterOfCreditInvalidDates(uint40 expiryDate, uint40 latestShipmentDate, uint256 today);

    /// @notice Deferred payment needs `deferredPaymentDays > 0`; sight payment needs zero.
    error LetterOfCreditInvalidAvailability(Availability availability, uint16 deferredPaymentDays);

    /// @notice The required documents are empty or name an unknown type.
    error LetterOfCreditInvalidDocumentSet(uint8 requiredDocuments);

    /// @notice A presentation with no documents, or a document at `index` whose hash is zero.
    error LetterOfCreditInvalidDocument(uint256 index);

    /// @notice A presentation amount of zero.
    error LetterOfCreditInvalidPresentationAmount(uint256 amount);

    /// @notice The shipment date is after today (goods cannot have shipped in the future).
    error LetterOfCreditInvalidShipmentDate(uint40 shipmentDate, uint256 today);

    /// @notice The bank named discrepancy codes other than the documentary one (`INCONSISTENT_DATA`): the
    /// coded ones are the contract's.
    error LetterOfCreditInvalidDiscrepancies(uint8 discrepancies);

    /// @notice The applicant may not waive `discrepancies`: a claim beyond the credit's ceiling lies outside
    /// the bank's undertaking.
    error LetterOfCreditWaiverNotAllowed(uint256 lcId, uint256 presentationId, uint8 discrepancies);

    /// @notice The deferred payment is due at `maturityDate`, not yet.
    error LetterOfCreditNotMatured(uint256 lcId, uint256 presentationId, uint40 maturityDate);

    /// @notice An amendment is already pending the beneficiary's answer.
    error LetterOfCreditAmendmentPending(uint256 lcId);

    /// @notice No amendment is pending.
    error LetterOfCreditNoPendingAmendment(uint256 lcId);

    /// @notice The amended amount plus tolerance is below what is drawn and reserved (`committed`).
    error LetterOfCreditAmendmentBelowCommitted(uint256 lcId, uint256 amendedCeiling, uint256 committed);

    /// @notice The issuing bank has not requested cancellation.
    error LetterOfCreditNoCancellationRequest(uint256 lcId);

    /// @notice The credit is confirmed and `confirmingBank` has not agreed to its cancellation (Art. 10(a)).
    error LetterOfCreditConfirmingBankAgreementMissing(uint256 lcId, address confirmingBank);

    /// @notice `open` presentations are still open (neither refused nor honoured).
    error LetterOfCreditOpenPresentations(uint256 lcId, uint256 open);

    /// @notice The credit holds no margin to release.
    error LetterOfCreditNoMarginHeld(uint256 lcId);

    /// @notice The documents include a commercial invoice: present them with its registered invoice
    /// (`presentWithInvoice`).
    error LetterOfCreditInvoiceRequired(uint256 lcId);

    /// @notice Invoice `invoiceId` was named but the documents include no commercial invoice.
    error LetterOfCreditInvoiceDocumentRequired(uint256 lcId, uint256 invoiceId);

    /// @notice Invoice `invoiceId` is presented under credit `lcId` (presentation `presentationId`): a direct
    /// payment may take at most `payableDirectly`; the presented amount is paid through the credit.
    error LetterOfCreditInvoiceUnderPresentation(
        uint256 lcId, uint256 presentationId, uint256 invoiceId, uint256 payableDirectly
    );

    /// @notice Only the invoice registry may call the payment hook.
    error LetterOfCreditNotInvoiceRegistry(address caller);

    /// @notice Invoice `invoiceId` is not the beneficiary's invoice to the applicant in the credit's currency,
    /// or its outstanding amount is below the amount claimed.
    error LetterOfCreditInvoiceMismatch(uint256 lcId, uint256 invoiceId);

    // ───────────────────────────── Application and issuance ─────────────────────────────

    /// @notice The applicant (caller) applies for a credit on `creditTerms`; returns its id (ids start at 1).
    /// @dev Caller: authorized `CORPORATE_ROLE`. Beneficiary: an authorized corporate other than the caller.
    /// Issuing and advising bank (and the confirming bank when set): authorized `BANK_ROLE`. The currency: a
    /// settlement token the invoice registry accepts. Reverts `LetterOfCreditInvalid*` on malformed terms.
    /// The expiry day may be today at the earliest.
    function applyForCredit(Terms calldata creditTerms) external returns (uint256 lcId);

    /// @notice The issuing bank declines an application, or the applicant withdraws it: `Applied → Cancelled`.
    function cancelApplication(uint256 lcId) external;

    /// @notice The issuing bank issues the credit, escrowing `marginAmount` from the applicant (at most the
    /// credit amount): `Applied → Issued`.
    /// @dev The applicant must have approved this contract for `marginAmount` in the credit's currency. From now on
    /// the bank is irrevocably bound (Art. 7(b)).
    function issue(uint256 lcId, uint256 marginAmount) external;

    /// @notice The advising bank advises the credit to the beneficiary: `Issued → Advised` (Art. 9).
    function advise(uint256 lcId) external;

    // ───────────────────────────── Amendment and cancellation ─────────────────────────────

    /// @notice The issuing bank proposes an amendment; nothing changes until the beneficiary accepts (Art. 10).
    /// @dev Credit `Issued` or `Advised`; one amendment pending at a time. The amended ceiling may not fall
    /// below what is drawn and reserved.
    function proposeAmendment(uint256 lcId, Amendment calldata amendment) external;

    /// @notice The beneficiary accepts the pending amendment in full (Art. 10(e): no partial acceptance).
    function acceptAmendment(uint256 lcId) external;

    /// @notice The beneficiary rejects the pending amendment; the terms stay in force.
    function rejectAmendment(uint256 lcId) external;

    /// @notice The issuing bank asks the beneficiary to agree to cancel an `Issued` or `Advised` credit.
    function requestCancellation(uint256 lcId) external;

    /// @notice The confirming bank of a confirmed credit agrees to the requested cancellation (Art. 10(a)).
    function agreeToCancellation(uint256 lcId) external;

    /// @notice The beneficiary agrees: the credit is `Cancelled` and the held margin is released.
    /// @dev Needs no open presentation and, for a confirmed credit, the confirming bank's agreement first
    /// (Art. 10(a)). Deferred payments already accepted stay payable.
    function consentToCancellation(uint256 lcId) external;

    // ───────────────────────────── Presentation ─────────────────────────────

    /// @notice The beneficiary presents `documents` for `amount`, for goods shipped on `shipmentDate`.
    /// @dev Credit `Advised` (or `Expired` after being advised: the presentation is then `Expired`-discrepant).
    /// Computes the on-chain discrepancies now and records them. Returns the presentation id (from 1).
    /// Documents that include a commercial invoice revert `LetterOfCreditInvoiceRequired`: they are
    /// presented with `presentWithInvoice`.
    function present(uint256 lcId, Document[] calldata documents, uint40 shipmentDate, uint96 amount)
        external
        returns (uint256 presentationId);

    /// @notice As `present`, with registered invoice `invoiceId` (the documents must include the commercial
    /// invoice), on which a lien is taken for the issuing bank with the beneficiary's consent while the
    /// presentation is open or accepted (released on refusal or payment). The lien reserves the invoice: it
    /// routes nothing to the bank, and the buyer's direct payments may not eat into `amount`. When the
    /// presentation is paid, its amount is recorded as paid on the invoice
    /// (`IInvoiceLiens.recordSettlement`) before the lien is released, so the invoice reads `Paid` once the
    /// credit has paid its face amount.
    /// @dev The invoice must be the beneficiary's on the applicant, in the credit's currency, with at least
    /// `amount` unpaid (`LetterOfCreditInvoiceMismatch`), and unliened (`InvoiceRegistryLienAlreadyHeld`
    /// names where it is financed or presented). The beneficiary and the issuing bank, the lien's parties,
    /// must be active (`ParticipantRegistryParticipantFrozen` and the like, from `takeLien`).
    function presentWithInvoice(
        uint256 lcId,
        Document[] calldata documents,
        uint40 shipmentDate,
        uint96 amount,
        uint256 invoiceId
    ) external returns (uint256 presentationId);

    // ───────────────────────────── Examination ─────────────────────────────

    /// @notice The issuing bank examines a presentation within five banking days: with no discrepancy (the
    /// on-chain codes or `bankDiscrepancies`) it becomes `Compliant`, otherwise `Discrepant` (notice given,
    /// documents held pending the applicant's waiver, Art. 16(b), (c)). A compliant presentation must still
    /// be honoured by the same deadline.
    /// @dev `bankDiscrepancies` may hold only `DISCREPANCY_INCONSISTENT_DATA`
    /// (`LetterOfCreditInvalidDiscrepancies`).
    function examine(uint256 lcId, uint256 presentationId, uint8 bankDiscrepancies) external;

    /// @notice The applicant waives the discrepancies of a `Discrepant` presentation: `Discrepant → Waived`.
    function waive(uint256 lcId, uint256 presentationId) external;

    /// @notice The issuing bank refuses a `Discrepant` presentation: `Discrepant → Refused` (Art. 16(c), (d)).
    function refuse(uint256 lcId, uint256 presentationId) external;

    // ───────────────────────────── Honour and payment ─────────────────────────────

    /// @notice The issuing bank honours a `Compliant`, `Waived` or `Precluded` presentation. Sight payment:
    /// the beneficiary is paid from the bank's tokens now (`Paid`). Deferred payment: the acceptance and
    /// maturity are recorded (`Honoured`). The margin share is applied to the bank.
    /// @dev The bank must have approved this contract for the amount in the credit's currency.
    function honour(uint256 lcId, uint256 presentationId) external;

    /// @notice The beneficiary claims a `Precluded` presentation (Art. 16(f)); it is honoured as by `honour`.
    function claimPreclusion(uint256 lcId, uint256 presentationId) external;

    /// @notice Any active participant pays a matured deferred payment from the issuing bank's tokens:
    /// `Honoured → Paid`.
    function payAtMaturity(uint256 lcId, uint256 presentationId) external;

    // ───────────────────────────── Margin ─────────────────────────────

    /// @notice Any active participant releases the held margin to the applicant once the credit is
    /// `Expired`, `Exhausted` or `Cancelled` and no presentation is open.
    function releaseMargin(uint256 lcId) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The state of credit `lcId` now (`Expired`, `Exhausted` derived from time and drawings).
    function state(uint256 lcId) external view returns (CreditState);

    /// @notice The state of a presentation now (`Precluded` derived from time).
    function presentationState(uint256 lcId, uint256 presentationId) external view returns (PresentationState);

    /// @notice The applicant of credit `lcId`.
    function applicantOf(uint256 lcId) external view returns (address);

    /// @notice The current terms of credit `lcId` (amendments accepted so far included).
    function terms(uint256 lcId) external view returns (Terms memory);

    /// @notice Presentation `presentationId` of credit `lcId`.
    function presentation(uint256 lcId, uint256 presentationId) external view returns (PresentationView memory);

    /// @notice How many presentations credit `lcId` has had, and how many are open.
    function presentationCounts(uint256 lcId) external view returns (uint256 total, uint256 open);

    /// @notice Drawn, reserved and available amounts of credit `lcId`.
    function drawings(uint256 lcId) external view returns (Drawings memory);

    /// @notice The applicant's margin of credit `lcId`.
    function margin(uint256 lcId) external view returns (Margin memory);

    /// @notice The pending amendment of credit `lcId` (`pending` false when none) and the number of the
    /// latest amendment proposed.
    function pendingAmendment(uint256 lcId)
        external
        view
        returns (bool pending, uint256 amendmentNumber, Amendment memory amendment);

    /// @notice Whether the issuing bank has asked for cancellation of credit `lcId`, and whether the
    /// confirming bank (if any) has agreed.
    function cancellationRequested(uint256 lcId) external view returns (bool requested, bool confirmingBankAgreed);

    /// @notice The discrepancy codes a presentation with these facts would get if presented now.
    function previewDiscrepancies(uint256 lcId, uint40 shipmentDate, uint96 amount, uint8 documents)
        external
        view
        returns (uint8);

    /// @notice The number of credits applied for so far (the latest id).
    function creditCount() external view returns (uint256);

    /// @notice The participant registry this contract asks.
    function registry() external view returns (address);

    /// @notice The invoice registry whose liens presentations take.
    function invoiceRegistry() external view returns (address);

    /// @notice The presentation whose lien `invoiceId` carries (zeros when none).
    function presentationOfInvoice(uint256 invoiceId) external view returns (uint256 lcId, uint256 presentationId);
}
