// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IInvoiceLiens} from "./interfaces/IInvoiceLiens.sol";
import {ILetterOfCredit} from "./interfaces/ILetterOfCredit.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {UcpCalendar} from "./libraries/UcpCalendar.sol";

/// @title LetterOfCredit
/// @notice Every documentary letter of credit of tradefin, by id, with UCP 600 checked where the data is
/// on chain. See `ILetterOfCredit` for the rules, the boundary conventions and the state diagrams.
/// @dev Table of contents: constants · storage · constructor · application and issuance · amendment and
/// cancellation · presentation · examination · honour and payment · margin · views · internals.
///
/// Surprising on purpose:
/// - `Expired`, `Exhausted` and `Precluded` are never stored; `state` and `presentationState` derive them
///   from `block.timestamp` and the drawings, as OpenZeppelin's Governor derives its proposal states.
/// - This contract holds applicants' margins, so the operator registers it as a participant (the token
///   only moves money between active participants). Without a margin it never holds money.
/// - Honour pulls the issuing bank's tokens under its allowance; the applicant's balance is never read.
/// - Every rule that reads the clock works on whole UTC days (or, for maturity, on a day's first second):
///   the few seconds a block proposer can shift `block.timestamp` cannot move a UCP 600 deadline in a
///   meaningful way, hence the `slither-disable-next-line timestamp` notes below.
contract LetterOfCredit is ILetterOfCredit, ReentrancyGuardTransient {
    using UcpCalendar for uint256;

    // ───────────────────────────── Constants ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_LATE_SHIPMENT = 1 << 0;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_LATE_PRESENTATION = 1 << 1;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_EXPIRED = 1 << 2;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_OVER_TOLERANCE = 1 << 3;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_PARTIAL_NOT_ALLOWED = 1 << 4;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_MISSING_DOCUMENT = 1 << 5;
    /// @inheritdoc ILetterOfCredit
    uint8 public constant DISCREPANCY_INCONSISTENT_DATA = 1 << 6;

    uint8 private constant _ALL_DISCREPANCIES = (1 << 7) - 1;
    uint8 private constant _ALL_DOCUMENTS = (1 << 6) - 1;
    uint8 private constant _DEFAULT_PRESENTATION_DAYS = 21; // Art. 14(c)
    uint8 private constant _MAX_TOLERANCE_PERCENT = 10; // Art. 30(a): "about"
    uint8 private constant _UNSTATED_LOWER_TOLERANCE_PERCENT = 5; // Art. 30(c)
    uint256 private constant _EXAMINATION_BANKING_DAYS = 5; // Art. 14(b)
    bytes4 private constant _PURPOSE_GOODS = "GDDS"; // ISO 20022: purchase and sale of goods
    bytes4 private constant _PURPOSE_TRADE = "TRAD"; // ISO 20022: trade services (margin movements)

    // ───────────────────────────── Storage ─────────────────────────────

    /// @dev One credit in seven slots. Fields written after application share slots that application
    /// already made non-zero, so issuing and honouring pay 2,900 gas per write, not 22,100.
    /// slot 0: applicant 20 + expiryDate 5 + latestShipmentDate 5 + state 1 + partialShipmentsAllowed 1 = 32
    /// slot 1: beneficiary 20 + availability 1 + tolerancePercent 1 + requiredDocuments 1
    ///         + presentationPeriodDays 1 + deferredPaymentDays 2 + presentationCount 2 + openPresentations 2
    ///         + cancellationRequested 1 + marginReleased 1 = 32
    /// slot 2: issuingBank 20 + amount 12 = 32
    /// slot 3: advisingBank 20 + margin 12 = 32 (margin written at issuance)
    /// slot 4: currency 20 + marginApplied 12 = 32 (written when a drawing is honoured)
    /// slot 5: confirmingBank 20 + confirmingBankAgreedToCancel 1 = 21 (zero when unconfirmed: never written)
    /// slot 6: drawn 16 + reserved 16 = 32 (first written by the first presentation)
    /// The uint16 counters cap a credit at 65,535 presentations (checked arithmetic reverts beyond).
    struct Credit {
        address applicant;
        uint40 expiryDate;
        uint40 latestShipmentDate;
        CreditState state;
        bool partialShipmentsAllowed;
        address beneficiary;
        Availability availability;
        uint8 tolerancePercent;
        uint8 requiredDocuments;
        uint8 presentationPeriodDays;
        uint16 deferredPaymentDays;
        uint16 presentationCount;
        uint16 openPresentations;
        bool cancellationRequested;
        bool marginReleased;
        address issuingBank;
        uint96 amount;
        address advisingBank;
        uint96 margin;
        address currency;
        uint96 marginApplied;
        address confirmingBank;
        bool confirmingBankAgreedToCancel;
        uint128 drawn;
        uint128 reserved;
    }

    /// @dev One presentation.
    /// slot 0: amount 12 + shipmentDate 5 + presentedAt 5 + maturityDate 5 + state 1 + documents 1
    ///         + discrepancies 1 + hasInvoice 1 = 31
    /// slot 1: invoiceId 32 (written only when an invoice is presented)
    struct Presentation {
        uint96 amount;
        uint40 shipmentDate;
        uint40 presentedAt;
        uint40 maturityDate;
        PresentationState state;
        uint8 documents;
        uint8 discrepancies;
        bool hasInvoice;
        uint256 invoiceId;
    }

    /// @dev The amendment awaiting the beneficiary's answer.
    /// slot 0: amount 12 + expiryDate 5 + latestShipmentDate 5 + requiredDocuments 1 + number 2 + pending 1 = 26
    struct PendingAmendment {
        uint96 amount;
        uint40 expiryDate;
        uint40 latestShipmentDate;
        uint8 requiredDocuments;
        uint16 number;
        bool pending;
    }

    IParticipantRegistry private immutable _registry;
    IInvoiceLiens private immutable _invoiceRegistry;

    uint256 private _creditCount;
    mapping(uint256 lcId => Credit) private _credits;
    mapping(uint256 lcId => mapping(uint256 presentationId => Presentation)) private _presentations;
    mapping(uint256 lcId => PendingAmendment) private _amendments;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry.
    /// @param invoiceRegistry_ The invoice registry whose liens presentations take; zero if none is deployed
    /// (then `presentWithInvoice` reverts `LetterOfCreditInvoicesUnavailable`).
    constructor(IParticipantRegistry registry_, IInvoiceLiens invoiceRegistry_) {
        _registry = registry_;
        _invoiceRegistry = invoiceRegistry_;
    }

    // ───────────────────────────── Application and issuance ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function applyForCredit(Terms calldata t) external returns (uint256 lcId) {
        _registry.requireActive(msg.sender, IParticipantRegistry.ParticipantKind.Corporate);
        _registry.requireActive(t.beneficiary, IParticipantRegistry.ParticipantKind.Corporate);
        _registry.requireActive(t.issuingBank, IParticipantRegistry.ParticipantKind.Bank);
        _registry.requireActive(t.advisingBank, IParticipantRegistry.ParticipantKind.Bank);
        if (t.confirmingBank != address(0)) {
            _registry.requireActive(t.confirmingBank, IParticipantRegistry.ParticipantKind.Bank);
        }
        if (t.beneficiary == msg.sender) revert LetterOfCreditInvalidParties(msg.sender, t.beneficiary);
        if (t.currency == address(0)) revert LetterOfCreditInvalidCurrency(t.currency);
        if (t.amount == 0) revert LetterOfCreditInvalidAmount(t.amount);
        if (t.tolerancePercent > _MAX_TOLERANCE_PERCENT) revert LetterOfCreditInvalidTolerance(t.tolerancePercent);
        _checkDates(t.expiryDate, t.latestShipmentDate);
        if ((t.availability == Availability.DeferredPayment) != (t.deferredPaymentDays != 0)) {
            revert LetterOfCreditInvalidAvailability(t.availability, t.deferredPaymentDays);
        }
        _checkDocumentSet(t.requiredDocuments);

        lcId = ++_creditCount;
        Credit storage c = _credits[lcId];
        c.applicant = msg.sender;
        c.expiryDate = t.expiryDate;
        c.latestShipmentDate = t.latestShipmentDate;
        c.state = CreditState.Applied;
        c.partialShipmentsAllowed = t.partialShipmentsAllowed;
        c.beneficiary = t.beneficiary;
        c.availability = t.availability;
        c.tolerancePercent = t.tolerancePercent;
        c.requiredDocuments = t.requiredDocuments;
        c.presentationPeriodDays =
            t.presentationPeriodDays == 0 ? _DEFAULT_PRESENTATION_DAYS : t.presentationPeriodDays;
        c.deferredPaymentDays = t.deferredPaymentDays;
        c.issuingBank = t.issuingBank;
        c.amount = t.amount;
        c.advisingBank = t.advisingBank;
        c.currency = t.currency;
        if (t.confirmingBank != address(0)) c.confirmingBank = t.confirmingBank;

        emit CreditApplied(lcId, msg.sender, t.issuingBank, t);
    }

    /// @inheritdoc ILetterOfCredit
    function cancelApplication(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireCreditState(lcId, c, CreditState.Applied);
        _requireNotFrozen(lcId);
        if (msg.sender != c.applicant && msg.sender != c.issuingBank) {
            revert LetterOfCreditUnauthorizedCaller(lcId, msg.sender, c.applicant);
        }
        _registry.requireActive(msg.sender, IParticipantRegistry.ParticipantKind.None);

        c.state = CreditState.Cancelled;
        emit ApplicationCancelled(lcId, msg.sender);
    }

    /// @inheritdoc ILetterOfCredit
    function issue(uint256 lcId, uint256 marginAmount) external nonReentrant {
        Credit storage c = _credit(lcId);
        _requireCreditState(lcId, c, CreditState.Applied);
        _requireNotFrozen(lcId);
        address applicant = c.applicant;
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);
        _registry.requireActive(applicant, IParticipantRegistry.ParticipantKind.Corporate);
        if (marginAmount > c.amount) revert LetterOfCreditInvalidAmount(marginAmount);

        c.state = CreditState.Issued;
        if (marginAmount != 0) c.margin = uint96(marginAmount);
        emit CreditIssued(lcId, msg.sender, marginAmount);

        if (marginAmount != 0) {
            // A settlement token returns true or reverts.
            // slither-disable-next-line unused-return
            ISettlementToken(c.currency).transferFromWithPurpose(
                applicant, address(this), marginAmount, _PURPOSE_TRADE, _reference(lcId, 0)
            );
        }
    }

    /// @inheritdoc ILetterOfCredit
    function advise(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireCreditState(lcId, c, CreditState.Issued);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.advisingBank, IParticipantRegistry.ParticipantKind.Bank);

        c.state = CreditState.Advised;
        emit CreditAdvised(lcId, msg.sender);
    }

    // ───────────────────────────── Amendment and cancellation ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function proposeAmendment(uint256 lcId, Amendment calldata a) external {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);
        PendingAmendment storage p = _amendments[lcId];
        if (p.pending) revert LetterOfCreditAmendmentPending(lcId);
        _checkAmendment(lcId, c, a.amount, a.expiryDate, a.latestShipmentDate, a.requiredDocuments);

        uint16 number = p.number + 1;
        _amendments[lcId] = PendingAmendment({
            amount: a.amount,
            expiryDate: a.expiryDate,
            latestShipmentDate: a.latestShipmentDate,
            requiredDocuments: a.requiredDocuments,
            number: number,
            pending: true
        });
        emit AmendmentProposed(lcId, number, a);
    }

    /// @inheritdoc ILetterOfCredit
    function acceptAmendment(uint256 lcId) external {
        (Credit storage c, PendingAmendment storage p) = _answerAmendment(lcId);
        // The terms may have moved since the proposal (drawings, time): check again before they bind.
        _checkAmendment(lcId, c, p.amount, p.expiryDate, p.latestShipmentDate, p.requiredDocuments);

        c.amount = p.amount;
        c.expiryDate = p.expiryDate;
        c.latestShipmentDate = p.latestShipmentDate;
        c.requiredDocuments = p.requiredDocuments;
        p.pending = false;
        emit AmendmentAccepted(lcId, p.number);
    }

    /// @inheritdoc ILetterOfCredit
    function rejectAmendment(uint256 lcId) external {
        (, PendingAmendment storage p) = _answerAmendment(lcId);
        p.pending = false;
        emit AmendmentRejected(lcId, p.number);
    }

    /// @inheritdoc ILetterOfCredit
    function requestCancellation(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);

        c.cancellationRequested = true;
        emit CancellationRequested(lcId, msg.sender);
    }

    /// @inheritdoc ILetterOfCredit
    function agreeToCancellation(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.confirmingBank, IParticipantRegistry.ParticipantKind.Bank);
        if (!c.cancellationRequested) revert LetterOfCreditNoCancellationRequest(lcId);

        c.confirmingBankAgreedToCancel = true;
        emit CancellationAgreedByConfirmingBank(lcId, msg.sender);
    }

    /// @inheritdoc ILetterOfCredit
    function consentToCancellation(uint256 lcId) external nonReentrant {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, IParticipantRegistry.ParticipantKind.Corporate);
        if (!c.cancellationRequested) revert LetterOfCreditNoCancellationRequest(lcId);
        if (c.confirmingBank != address(0) && !c.confirmingBankAgreedToCancel) {
            revert LetterOfCreditConfirmingBankAgreementMissing(lcId, c.confirmingBank);
        }
        if (c.openPresentations != 0) revert LetterOfCreditOpenPresentations(lcId, c.openPresentations);

        c.state = CreditState.Cancelled;
        emit CreditCancelled(lcId, msg.sender);
        _releaseMargin(lcId, c);
    }

    // ───────────────────────────── Presentation ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function present(uint256 lcId, Document[] calldata documents, uint40 shipmentDate, uint96 amount)
        external
        returns (uint256)
    {
        return _present(lcId, documents, shipmentDate, amount);
    }

    /// @inheritdoc ILetterOfCredit
    function presentWithInvoice(
        uint256 lcId,
        Document[] calldata documents,
        uint40 shipmentDate,
        uint96 amount,
        uint256 invoiceId
    ) external nonReentrant returns (uint256 presentationId) {
        if (address(_invoiceRegistry) == address(0)) revert LetterOfCreditInvoicesUnavailable();
        Credit storage c = _credit(lcId);
        IInvoiceLiens.InvoiceView memory inv = _invoiceRegistry.invoice(invoiceId);
        if (
            inv.seller != c.beneficiary || inv.buyer != c.applicant || inv.currency != c.currency
                || inv.faceAmount < inv.paidAmount + amount
        ) revert LetterOfCreditInvoiceMismatch(lcId, invoiceId);
        presentationId = _present(lcId, documents, shipmentDate, amount);

        Presentation storage p = _presentations[lcId][presentationId];
        p.hasInvoice = true;
        p.invoiceId = invoiceId;
        emit PresentationInvoiceLinked(lcId, presentationId, invoiceId);

        _invoiceRegistry.takeLien(invoiceId, c.issuingBank);
    }

    // ───────────────────────────── Examination ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function examine(uint256 lcId, uint256 presentationId, uint8 bankDiscrepancies) external {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        _requirePresentationState(lcId, presentationId, p, _bit(PresentationState.Presented));
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);
        if (bankDiscrepancies & ~_ALL_DISCREPANCIES != 0) revert LetterOfCreditInvalidDiscrepancies(bankDiscrepancies);

        uint8 discrepancies = p.discrepancies | bankDiscrepancies;
        p.discrepancies = discrepancies;
        p.state = discrepancies == 0 ? PresentationState.Compliant : PresentationState.Discrepant;
        emit PresentationExamined(lcId, presentationId, discrepancies);
    }

    /// @inheritdoc ILetterOfCredit
    function waive(uint256 lcId, uint256 presentationId) external {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        _requirePresentationState(lcId, presentationId, p, _bit(PresentationState.Discrepant));
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.applicant, IParticipantRegistry.ParticipantKind.Corporate);
        if (p.discrepancies & DISCREPANCY_OVER_TOLERANCE != 0) {
            revert LetterOfCreditWaiverNotAllowed(lcId, presentationId, p.discrepancies);
        }

        p.state = PresentationState.Waived;
        emit DiscrepanciesWaived(lcId, presentationId, msg.sender);
    }

    /// @inheritdoc ILetterOfCredit
    function refuse(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        _requirePresentationState(lcId, presentationId, p, _bit(PresentationState.Discrepant));
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);

        p.state = PresentationState.Refused;
        c.openPresentations -= 1;
        if (p.discrepancies & DISCREPANCY_OVER_TOLERANCE == 0) c.reserved -= p.amount;
        emit PresentationRefused(lcId, presentationId, p.discrepancies);

        if (p.hasInvoice) _invoiceRegistry.releaseLien(p.invoiceId);
    }

    // ───────────────────────────── Honour and payment ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function honour(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        PresentationState from = _requirePresentationState(
            lcId,
            presentationId,
            p,
            _bit(PresentationState.Compliant) | _bit(PresentationState.Waived) | _bit(PresentationState.Precluded)
        );
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, IParticipantRegistry.ParticipantKind.Bank);
        _honour(lcId, presentationId, c, p, from);
    }

    /// @inheritdoc ILetterOfCredit
    function claimPreclusion(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        _requirePresentationState(lcId, presentationId, p, _bit(PresentationState.Precluded));
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, IParticipantRegistry.ParticipantKind.Corporate);
        emit PreclusionClaimed(lcId, presentationId, msg.sender);
        _honour(lcId, presentationId, c, p, PresentationState.Precluded);
    }

    /// @inheritdoc ILetterOfCredit
    function payAtMaturity(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        _requirePresentationState(lcId, presentationId, p, _bit(PresentationState.Honoured));
        _requireNotFrozen(lcId);
        // slither-disable-next-line timestamp
        if (block.timestamp < p.maturityDate) revert LetterOfCreditNotMatured(lcId, presentationId, p.maturityDate);

        p.state = PresentationState.Paid;
        emit PresentationPaid(lcId, presentationId, c.issuingBank, p.amount);
        _pay(lcId, presentationId, c, p);
    }

    // ───────────────────────────── Margin ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function releaseMargin(uint256 lcId) external nonReentrant {
        Credit storage c = _credit(lcId);
        _requireCreditStates(
            lcId,
            c,
            _bit(CreditState.Expired) | _bit(CreditState.Exhausted) | _bit(CreditState.Cancelled)
        );
        _requireNotFrozen(lcId);
        if (c.openPresentations != 0) revert LetterOfCreditOpenPresentations(lcId, c.openPresentations);
        if (c.marginReleased || c.margin == c.marginApplied) revert LetterOfCreditNoMarginHeld(lcId);
        _releaseMargin(lcId, c);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function state(uint256 lcId) public view returns (CreditState) {
        return _state(_credit(lcId));
    }

    /// @inheritdoc ILetterOfCredit
    function presentationState(uint256 lcId, uint256 presentationId) external view returns (PresentationState) {
        (, Presentation storage p) = _presentationOf(lcId, presentationId);
        return _presentationState(p);
    }

    /// @inheritdoc ILetterOfCredit
    function applicantOf(uint256 lcId) external view returns (address) {
        return _credit(lcId).applicant;
    }

    /// @inheritdoc ILetterOfCredit
    function terms(uint256 lcId) external view returns (Terms memory) {
        Credit storage c = _credit(lcId);
        return Terms({
            beneficiary: c.beneficiary,
            issuingBank: c.issuingBank,
            advisingBank: c.advisingBank,
            confirmingBank: c.confirmingBank,
            currency: c.currency,
            amount: c.amount,
            tolerancePercent: c.tolerancePercent,
            expiryDate: c.expiryDate,
            latestShipmentDate: c.latestShipmentDate,
            presentationPeriodDays: c.presentationPeriodDays,
            partialShipmentsAllowed: c.partialShipmentsAllowed,
            availability: c.availability,
            deferredPaymentDays: c.deferredPaymentDays,
            requiredDocuments: c.requiredDocuments
        });
    }

    /// @inheritdoc ILetterOfCredit
    function presentation(uint256 lcId, uint256 presentationId) external view returns (PresentationView memory) {
        (, Presentation storage p) = _presentationOf(lcId, presentationId);
        return PresentationView({
            state: _presentationState(p),
            amount: p.amount,
            shipmentDate: p.shipmentDate,
            presentedAt: p.presentedAt,
            examinationDeadline: uint40(_examinationDeadline(p)),
            maturityDate: p.maturityDate,
            documents: p.documents,
            discrepancies: p.discrepancies,
            hasInvoice: p.hasInvoice,
            invoiceId: p.invoiceId
        });
    }

    /// @inheritdoc ILetterOfCredit
    function presentationCounts(uint256 lcId) external view returns (uint256 total, uint256 open) {
        Credit storage c = _credit(lcId);
        return (c.presentationCount, c.openPresentations);
    }

    /// @inheritdoc ILetterOfCredit
    function drawings(uint256 lcId) external view returns (Drawings memory) {
        Credit storage c = _credit(lcId);
        uint256 ceiling = _ceiling(c.amount, c.tolerancePercent);
        uint256 committed = uint256(c.drawn) + c.reserved;
        return Drawings({
            amount: c.amount,
            ceiling: ceiling,
            drawn: c.drawn,
            reserved: c.reserved,
            available: committed >= ceiling ? 0 : ceiling - committed
        });
    }

    /// @inheritdoc ILetterOfCredit
    function margin(uint256 lcId) external view returns (Margin memory m) {
        Credit storage c = _credit(lcId);
        m.escrowed = c.margin;
        m.applied = c.marginApplied;
        uint256 rest = m.escrowed - m.applied;
        if (c.marginReleased) m.released = rest;
        else m.held = rest;
    }

    /// @inheritdoc ILetterOfCredit
    function pendingAmendment(uint256 lcId)
        external
        view
        returns (bool pending, uint256 amendmentNumber, Amendment memory amendment)
    {
        _credit(lcId);
        PendingAmendment storage p = _amendments[lcId];
        amendment = Amendment({
            amount: p.amount,
            expiryDate: p.expiryDate,
            latestShipmentDate: p.latestShipmentDate,
            requiredDocuments: p.requiredDocuments
        });
        return (p.pending, p.number, amendment);
    }

    /// @inheritdoc ILetterOfCredit
    function cancellationRequested(uint256 lcId) external view returns (bool requested, bool confirmingBankAgreed) {
        Credit storage c = _credit(lcId);
        return (c.cancellationRequested, c.confirmingBankAgreedToCancel);
    }

    /// @inheritdoc ILetterOfCredit
    function previewDiscrepancies(uint256 lcId, uint40 shipmentDate, uint96 amount, uint8 documents)
        external
        view
        returns (uint8)
    {
        return _discrepancies(_credit(lcId), shipmentDate, amount, documents);
    }

    /// @inheritdoc ILetterOfCredit
    function creditCount() external view returns (uint256) {
        return _creditCount;
    }

    /// @inheritdoc ILetterOfCredit
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ILetterOfCredit
    function invoiceRegistry() external view returns (address) {
        return address(_invoiceRegistry);
    }

    // ───────────────────────────── Internals: transitions ─────────────────────────────

    function _present(uint256 lcId, Document[] calldata documents, uint40 shipmentDate, uint96 amount)
        private
        returns (uint256 presentationId)
    {
        Credit storage c = _credit(lcId);
        // Presentable once advised, also after expiry (the presentation then carries `Expired`).
        CreditState current = _state(c);
        if (c.state != CreditState.Advised || (current != CreditState.Advised && current != CreditState.Expired)) {
            revert LetterOfCreditUnexpectedState(lcId, current, _bit(CreditState.Advised) | _bit(CreditState.Expired));
        }
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, IParticipantRegistry.ParticipantKind.Corporate);
        if (amount == 0) revert LetterOfCreditInvalidPresentationAmount(amount);
        uint256 today = block.timestamp.day();
        // slither-disable-next-line timestamp
        if (uint256(shipmentDate).day() > today) revert LetterOfCreditInvalidShipmentDate(shipmentDate, today);
        uint8 presented = _documentSet(documents);

        uint8 discrepancies = _discrepancies(c, shipmentDate, amount, presented);
        presentationId = ++c.presentationCount;
        c.openPresentations += 1;
        if (discrepancies & DISCREPANCY_OVER_TOLERANCE == 0) c.reserved += amount;
        _presentations[lcId][presentationId] = Presentation({
            amount: amount,
            shipmentDate: shipmentDate,
            presentedAt: uint40(block.timestamp),
            maturityDate: 0,
            state: PresentationState.Presented,
            documents: presented,
            discrepancies: discrepancies,
            hasInvoice: false,
            invoiceId: 0
        });
        emit DocumentsPresented(lcId, presentationId, amount, shipmentDate, discrepancies, documents);
    }

    /// @dev Honours a presentation whose state the caller checked: sight pays now, deferred accepts.
    function _honour(
        uint256 lcId,
        uint256 presentationId,
        Credit storage c,
        Presentation storage p,
        PresentationState from
    ) private {
        uint96 amount = p.amount;
        uint40 maturity = 0; // sight payment has no maturity
        bool sight = c.availability == Availability.SightPayment;
        if (sight) {
            p.state = PresentationState.Paid;
        } else {
            maturity = uint40(UcpCalendar.startOf(uint256(p.shipmentDate).day() + c.deferredPaymentDays));
            p.state = PresentationState.Honoured;
            p.maturityDate = maturity;
        }
        c.openPresentations -= 1;
        c.reserved -= amount;
        uint128 drawn = c.drawn + amount;
        c.drawn = drawn;
        uint256 marginShare = _applyMargin(c, drawn);

        emit PresentationHonoured(lcId, presentationId, from, amount, maturity);
        if (marginShare != 0) emit MarginApplied(lcId, marginShare);

        if (sight) {
            emit PresentationPaid(lcId, presentationId, c.issuingBank, amount);
            _pay(lcId, presentationId, c, p);
        }
        if (marginShare != 0) {
            // A settlement token returns true or reverts.
            // slither-disable-next-line unused-return
            ISettlementToken(c.currency).transferWithPurpose(
                c.issuingBank, marginShare, _PURPOSE_TRADE, _reference(lcId, presentationId)
            );
        }
    }

    /// @dev Moves the presentation's amount from the issuing bank to the beneficiary; records it as paid on
    /// the presented invoice and frees the invoice.
    function _pay(uint256 lcId, uint256 presentationId, Credit storage c, Presentation storage p) private {
        // A settlement token returns true or reverts.
        // slither-disable-next-line unused-return
        ISettlementToken(c.currency).transferFromWithPurpose(
            c.issuingBank, c.beneficiary, p.amount, _PURPOSE_GOODS, _reference(lcId, presentationId)
        );
        if (p.hasInvoice) _settleInvoice(p.invoiceId, p.amount);
    }

    /// @dev Records `paid` against the presented invoice, capped at what is still outstanding (the buyer may
    /// have paid part of it in the registry meanwhile: that money went to the issuing bank as the lien's
    /// financier), then releases the presentation's lien.
    function _settleInvoice(uint256 invoiceId, uint256 paid) private {
        IInvoiceLiens.InvoiceView memory inv = _invoiceRegistry.invoice(invoiceId);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        uint256 settled = paid < outstanding ? paid : outstanding;
        if (settled != 0) _invoiceRegistry.recordSettlement(invoiceId, settled);
        _invoiceRegistry.releaseLien(invoiceId);
    }

    /// @dev Raises the applied margin to `margin * drawn / amount` (rounded down, at most the margin);
    /// returns the increase. Never lowers it (an amendment may raise `amount` after a drawing).
    function _applyMargin(Credit storage c, uint256 drawn) private returns (uint256 share) {
        uint256 escrowed = c.margin;
        if (escrowed == 0) return 0;
        uint256 target = drawn >= c.amount ? escrowed : escrowed * drawn / c.amount;
        uint256 applied = c.marginApplied;
        if (target <= applied) return 0;
        share = target - applied;
        c.marginApplied = uint96(target);
    }

    /// @dev Releases whatever margin is held to the applicant (no-op when none is held).
    function _releaseMargin(uint256 lcId, Credit storage c) private {
        if (c.marginReleased) return;
        uint256 held = uint256(c.margin) - c.marginApplied;
        if (held == 0) return;
        c.marginReleased = true;
        emit MarginReleased(lcId, held);
        // A settlement token returns true or reverts.
        // slither-disable-next-line unused-return
        ISettlementToken(c.currency).transferWithPurpose(c.applicant, held, _PURPOSE_TRADE, _reference(lcId, 0));
    }

    function _answerAmendment(uint256 lcId) private view returns (Credit storage c, PendingAmendment storage p) {
        c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, IParticipantRegistry.ParticipantKind.Corporate);
        p = _amendments[lcId];
        if (!p.pending) revert LetterOfCreditNoPendingAmendment(lcId);
    }

    // ───────────────────────────── Internals: rules ─────────────────────────────

    /// @dev The on-chain discrepancy codes of a presentation with these facts, made now.
    function _discrepancies(Credit storage c, uint256 shipmentDate, uint256 amount, uint8 documents)
        private
        view
        returns (uint8 codes)
    {
        uint256 today = block.timestamp.day();
        uint256 shipmentDay = shipmentDate.day();
        if (shipmentDay > uint256(c.latestShipmentDate).day()) codes |= DISCREPANCY_LATE_SHIPMENT;
        // slither-disable-next-line timestamp
        if (today > shipmentDay + c.presentationPeriodDays) codes |= DISCREPANCY_LATE_PRESENTATION;
        // slither-disable-next-line timestamp
        if (today > uint256(c.expiryDate).day()) codes |= DISCREPANCY_EXPIRED;

        uint256 creditAmount = c.amount;
        uint256 committed = uint256(c.drawn) + c.reserved;
        if (committed + amount > _ceiling(creditAmount, c.tolerancePercent)) codes |= DISCREPANCY_OVER_TOLERANCE;
        if (!c.partialShipmentsAllowed) {
            uint256 lower = c.tolerancePercent == 0 ? _UNSTATED_LOWER_TOLERANCE_PERCENT : c.tolerancePercent;
            if (committed != 0 || amount < creditAmount - creditAmount * lower / 100) {
                codes |= DISCREPANCY_PARTIAL_NOT_ALLOWED;
            }
        }
        if (c.requiredDocuments & ~documents != 0) codes |= DISCREPANCY_MISSING_DOCUMENT;
    }

    /// @dev Amount plus tolerance, rounded down.
    function _ceiling(uint256 amount, uint8 tolerancePercent) private pure returns (uint256) {
        return amount + amount * tolerancePercent / 100;
    }

    function _checkDates(uint40 expiryDate, uint40 latestShipmentDate) private view {
        uint256 today = block.timestamp.day();
        uint256 expiryDay = uint256(expiryDate).day();
        // slither-disable-next-line timestamp
        if (expiryDay < today || uint256(latestShipmentDate).day() > expiryDay) {
            revert LetterOfCreditInvalidDates(expiryDate, latestShipmentDate, today);
        }
    }

    function _checkDocumentSet(uint8 documents) private pure {
        if (documents == 0 || documents & ~_ALL_DOCUMENTS != 0) revert LetterOfCreditInvalidDocumentSet(documents);
    }

    function _checkAmendment(
        uint256 lcId,
        Credit storage c,
        uint96 amount,
        uint40 expiryDate,
        uint40 latestShipmentDate,
        uint8 requiredDocuments
    ) private view {
        if (amount == 0) revert LetterOfCreditInvalidAmount(amount);
        _checkDates(expiryDate, latestShipmentDate);
        _checkDocumentSet(requiredDocuments);
        uint256 ceiling = _ceiling(amount, c.tolerancePercent);
        uint256 committed = uint256(c.drawn) + c.reserved;
        if (ceiling < committed) revert LetterOfCreditAmendmentBelowCommitted(lcId, ceiling, committed);
    }

    /// @dev The set of presented document types; reverts on an empty list or a zero hash.
    function _documentSet(Document[] calldata documents) private pure returns (uint8 set) {
        uint256 n = documents.length;
        if (n == 0) revert LetterOfCreditInvalidDocument(0);
        for (uint256 i; i < n; ++i) {
            if (documents[i].documentHash == bytes32(0)) revert LetterOfCreditInvalidDocument(i);
            set |= uint8(1 << uint8(documents[i].docType));
        }
    }

    // ───────────────────────────── Internals: states and checks ─────────────────────────────

    function _state(Credit storage c) private view returns (CreditState) {
        CreditState stored = c.state;
        if (stored == CreditState.Cancelled) return stored;
        if (stored == CreditState.Issued || stored == CreditState.Advised) {
            uint128 drawn = c.drawn;
            if (drawn != 0 && (drawn >= c.amount || !c.partialShipmentsAllowed)) return CreditState.Exhausted;
        }
        // slither-disable-next-line timestamp
        if (block.timestamp.day() > uint256(c.expiryDate).day()) return CreditState.Expired;
        return stored;
    }

    function _presentationState(Presentation storage p) private view returns (PresentationState) {
        PresentationState stored = p.state;
        if (stored != PresentationState.Presented || p.discrepancies & DISCREPANCY_OVER_TOLERANCE != 0) return stored;
        // slither-disable-next-line timestamp
        return block.timestamp > _examinationDeadline(p) ? PresentationState.Precluded : stored;
    }

    /// @dev The last second of the fifth banking day following the day of presentation (Art. 14(b)).
    function _examinationDeadline(Presentation storage p) private view returns (uint256) {
        return UcpCalendar.endOf(UcpCalendar.addBankingDays(uint256(p.presentedAt).day(), _EXAMINATION_BANKING_DAYS));
    }

    function _credit(uint256 lcId) private view returns (Credit storage c) {
        c = _credits[lcId];
        if (c.state == CreditState.None) revert LetterOfCreditNonexistent(lcId);
    }

    function _presentationOf(uint256 lcId, uint256 presentationId)
        private
        view
        returns (Credit storage c, Presentation storage p)
    {
        c = _credit(lcId);
        p = _presentations[lcId][presentationId];
        if (p.state == PresentationState.None) revert LetterOfCreditNonexistentPresentation(lcId, presentationId);
    }

    function _requireCreditState(uint256 lcId, Credit storage c, CreditState expected) private view {
        _requireCreditStates(lcId, c, _bit(expected));
    }

    function _requireCreditStates(uint256 lcId, Credit storage c, bytes32 expectedStates) private view {
        CreditState current = _state(c);
        if (_bit(current) & expectedStates == 0) revert LetterOfCreditUnexpectedState(lcId, current, expectedStates);
    }

    /// @dev Issued or Advised, and neither expired nor exhausted.
    function _requireOperative(uint256 lcId, Credit storage c) private view {
        _requireCreditStates(lcId, c, _bit(CreditState.Issued) | _bit(CreditState.Advised));
    }

    function _requirePresentationState(
        uint256 lcId,
        uint256 presentationId,
        Presentation storage p,
        bytes32 expectedStates
    ) private view returns (PresentationState current) {
        current = _presentationState(p);
        if (_bit(current) & expectedStates == 0) {
            revert LetterOfCreditUnexpectedPresentationState(lcId, presentationId, current, expectedStates);
        }
    }

    function _requireCaller(uint256 lcId, address expected, IParticipantRegistry.ParticipantKind kind) private view {
        if (msg.sender != expected) revert LetterOfCreditUnauthorizedCaller(lcId, msg.sender, expected);
        _registry.requireActive(msg.sender, kind);
    }

    function _requireNotFrozen(uint256 lcId) private view {
        if (_registry.isInstrumentFrozen(address(this), lcId)) revert LetterOfCreditFrozen(lcId);
    }

    function _bit(CreditState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _bit(PresentationState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    /// @dev Payment reference: credit id in the high 128 bits, presentation id (0: the credit itself) low.
    function _reference(uint256 lcId, uint256 presentationId) private pure returns (bytes32) {
        return bytes32((lcId << 128) | presentationId);
    }
}
