// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {IInvoiceLiens} from "./interfaces/IInvoiceLiens.sol";
import {IInvoicePaymentHook} from "./interfaces/IInvoicePaymentHook.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {ILetterOfCredit} from "./interfaces/ILetterOfCredit.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";
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
/// - This contract holds applicants' margins, each credit in its own account (`_marginHeld`): the token
///   balance of this contract always equals the sum of what it holds for each credit. Without a margin it
///   never holds money.
/// - A presentation's invoice lien reserves the invoice but routes nothing to the issuing bank: the payment
///   hook answers zero and refuses a direct payment that would eat into the presented amount.
/// - Honour pulls the issuing bank's tokens under its allowance; the applicant's balance is never read.
/// - Every rule that reads the clock works on whole UTC days (or, for maturity, on a day's first second):
///   the few seconds a block proposer can shift `block.timestamp` cannot move a UCP 600 deadline in a
///   meaningful way, hence the `slither-disable-next-line timestamp` notes below.
contract LetterOfCredit is ILetterOfCredit, IInvoicePaymentHook, ERC2771Context, ERC165, ReentrancyGuardTransient {
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

    uint8 private constant _ALL_DOCUMENTS = (1 << 6) - 1;
    uint8 private constant _COMMERCIAL_INVOICE = uint8(1) << uint8(DocumentType.CommercialInvoice);
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

    /// @dev What a presentation's deadlines need besides its own slot; written only when non-zero (a credit
    /// frozen before the presentation, or a waiver), so the common presentation pays nothing for it.
    /// slot 0: frozenAtPresentation 6 + waivedAt 5 = 11
    struct PresentationClock {
        uint48 frozenAtPresentation; // the credit's total frozen seconds when the documents were presented
        uint40 waivedAt; // when the applicant waived the discrepancies
    }

    IParticipantRegistry private immutable _registry;
    IInvoiceRegistry private immutable _invoiceRegistry;

    uint256 private _creditCount;
    mapping(uint256 lcId => Credit) private _credits;
    mapping(uint256 lcId => mapping(uint256 presentationId => Presentation)) private _presentations;
    mapping(uint256 lcId => mapping(uint256 presentationId => PresentationClock)) private _clocks;
    mapping(uint256 lcId => PendingAmendment) private _amendments;
    /// @dev The presentation holding each invoice's lien: `_reference(lcId, presentationId)`.
    mapping(uint256 invoiceId => bytes32 presentationKey) private _invoicePresentations;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry.
    /// @param invoiceRegistry_ The invoice registry: the settlement tokens it accepts are the credits'
    /// currencies, and commercial-invoice presentations take its liens.
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(IParticipantRegistry registry_, IInvoiceRegistry invoiceRegistry_, address trustedForwarder)
        ERC2771Context(trustedForwarder)
    {
        _registry = registry_;
        _invoiceRegistry = invoiceRegistry_;
    }

    // ───────────────────────────── Application and issuance ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function applyForCredit(Terms calldata t) external returns (uint256 lcId) {
        address applicant = _msgSender();
        _registry.requireAuthorized(applicant, Roles.CORPORATE);
        _registry.requireAuthorized(t.beneficiary, Roles.CORPORATE);
        _registry.requireAuthorized(t.issuingBank, Roles.BANK);
        _registry.requireAuthorized(t.advisingBank, Roles.BANK);
        if (t.confirmingBank != address(0)) _registry.requireAuthorized(t.confirmingBank, Roles.BANK);
        if (t.beneficiary == applicant) revert LetterOfCreditInvalidParties(applicant, t.beneficiary);
        if (!_invoiceRegistry.isCurrency(t.currency)) revert LetterOfCreditInvalidCurrency(t.currency);
        if (t.amount == 0) revert LetterOfCreditInvalidAmount(t.amount);
        if (t.tolerancePercent > _MAX_TOLERANCE_PERCENT) revert LetterOfCreditInvalidTolerance(t.tolerancePercent);
        _checkDates(t.expiryDate, t.latestShipmentDate);
        if ((t.availability == Availability.DeferredPayment) != (t.deferredPaymentDays != 0)) {
            revert LetterOfCreditInvalidAvailability(t.availability, t.deferredPaymentDays);
        }
        _checkDocumentSet(t.requiredDocuments);

        lcId = ++_creditCount;
        Credit storage c = _credits[lcId];
        c.applicant = applicant;
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

        emit CreditApplied(lcId, applicant, t.issuingBank, t);
    }

    /// @inheritdoc ILetterOfCredit
    function cancelApplication(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireCreditState(lcId, c, CreditState.Applied);
        _requireNotFrozen(lcId);
        address caller = _msgSender();
        if (caller != c.applicant && caller != c.issuingBank) {
            revert LetterOfCreditUnauthorizedCaller(lcId, caller, c.applicant);
        }
        _registry.requireActive(caller);

        c.state = CreditState.Cancelled;
        emit ApplicationCancelled(lcId, caller);
    }

    /// @inheritdoc ILetterOfCredit
    function issue(uint256 lcId, uint256 marginAmount) external nonReentrant {
        Credit storage c = _credit(lcId);
        _requireCreditState(lcId, c, CreditState.Applied);
        _requireNotFrozen(lcId);
        address applicant = c.applicant;
        _requireCaller(lcId, c.issuingBank, Roles.BANK);
        _registry.requireAuthorized(applicant, Roles.CORPORATE);
        if (marginAmount > c.amount) revert LetterOfCreditInvalidAmount(marginAmount);

        c.state = CreditState.Issued;
        if (marginAmount != 0) c.margin = uint96(marginAmount);
        emit CreditIssued(lcId, c.issuingBank, marginAmount);

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
        _requireCaller(lcId, c.advisingBank, Roles.BANK);

        c.state = CreditState.Advised;
        emit CreditAdvised(lcId, c.advisingBank);
    }

    // ───────────────────────────── Amendment and cancellation ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function proposeAmendment(uint256 lcId, Amendment calldata a) external {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.issuingBank, Roles.BANK);
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
        _requireCaller(lcId, c.issuingBank, Roles.BANK);

        c.cancellationRequested = true;
        emit CancellationRequested(lcId, c.issuingBank);
    }

    /// @inheritdoc ILetterOfCredit
    function agreeToCancellation(uint256 lcId) external {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.confirmingBank, Roles.BANK);
        if (!c.cancellationRequested) revert LetterOfCreditNoCancellationRequest(lcId);

        c.confirmingBankAgreedToCancel = true;
        emit CancellationAgreedByConfirmingBank(lcId, c.confirmingBank);
    }

    /// @inheritdoc ILetterOfCredit
    function consentToCancellation(uint256 lcId) external nonReentrant {
        Credit storage c = _credit(lcId);
        _requireOperative(lcId, c);
        _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, Roles.CORPORATE);
        if (!c.cancellationRequested) revert LetterOfCreditNoCancellationRequest(lcId);
        if (c.confirmingBank != address(0) && !c.confirmingBankAgreedToCancel) {
            revert LetterOfCreditConfirmingBankAgreementMissing(lcId, c.confirmingBank);
        }
        if (c.openPresentations != 0) revert LetterOfCreditOpenPresentations(lcId, c.openPresentations);

        c.state = CreditState.Cancelled;
        emit CreditCancelled(lcId, c.beneficiary);
        _releaseMargin(lcId, c);
    }

    // ───────────────────────────── Presentation ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function present(uint256 lcId, Document[] calldata documents, uint40 shipmentDate, uint96 amount)
        external
        returns (uint256)
    {
        // A commercial invoice is presented with its registered invoice, whose lien the presentation takes:
        // documents alone could draw against an invoice financed elsewhere (audit M6).
        if (_documentSet(documents) & _COMMERCIAL_INVOICE != 0) revert LetterOfCreditInvoiceRequired(lcId);
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
        Credit storage c = _credit(lcId);
        if (_documentSet(documents) & _COMMERCIAL_INVOICE == 0) {
            revert LetterOfCreditInvoiceDocumentRequired(lcId, invoiceId);
        }
        IInvoiceLiens.InvoiceView memory inv = _invoiceRegistry.invoice(invoiceId);
        if (
            inv.seller != c.beneficiary || inv.buyer != c.applicant || inv.currency != c.currency
                || inv.faceAmount < inv.paidAmount + amount
        ) revert LetterOfCreditInvoiceMismatch(lcId, invoiceId);
        presentationId = _present(lcId, documents, shipmentDate, amount);

        Presentation storage p = _presentations[lcId][presentationId];
        p.hasInvoice = true;
        p.invoiceId = invoiceId;
        _invoicePresentations[invoiceId] = _reference(lcId, presentationId);
        emit PresentationInvoiceLinked(lcId, presentationId, invoiceId);

        // The beneficiary, presenting, consents to the lien; it reserves the invoice against every other
        // instrument (one lien at a time) and routes nothing to the bank (see `onInvoicePayment`).
        _invoiceRegistry.takeLien(invoiceId, c.beneficiary, c.issuingBank);
    }

    // ───────────────────────────── Examination ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function examine(uint256 lcId, uint256 presentationId, uint8 bankDiscrepancies) external {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        _requirePresentationState(lcId, presentationId, p, frozenTime, _bit(PresentationState.Presented));
        _requireCaller(lcId, c.issuingBank, Roles.BANK);
        // The bank declares only documentary discrepancies; the coded ones are the contract's (audit M2).
        if (bankDiscrepancies & ~DISCREPANCY_INCONSISTENT_DATA != 0) {
            revert LetterOfCreditInvalidDiscrepancies(bankDiscrepancies);
        }

        uint8 discrepancies = p.discrepancies | bankDiscrepancies;
        p.discrepancies = discrepancies;
        p.state = discrepancies == 0 ? PresentationState.Compliant : PresentationState.Discrepant;
        emit PresentationExamined(lcId, presentationId, discrepancies);
    }

    /// @inheritdoc ILetterOfCredit
    function waive(uint256 lcId, uint256 presentationId) external {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        _requirePresentationState(lcId, presentationId, p, frozenTime, _bit(PresentationState.Discrepant));
        _requireCaller(lcId, c.applicant, Roles.CORPORATE);
        if (p.discrepancies & DISCREPANCY_OVER_TOLERANCE != 0) {
            revert LetterOfCreditWaiverNotAllowed(lcId, presentationId, p.discrepancies);
        }

        p.state = PresentationState.Waived;
        _clocks[lcId][presentationId].waivedAt = uint40(block.timestamp);
        emit DiscrepanciesWaived(lcId, presentationId, c.applicant);
    }

    /// @inheritdoc ILetterOfCredit
    function refuse(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        _requirePresentationState(lcId, presentationId, p, frozenTime, _bit(PresentationState.Discrepant));
        _requireCaller(lcId, c.issuingBank, Roles.BANK);

        p.state = PresentationState.Refused;
        c.openPresentations -= 1;
        // Only the contract's own codes decide whether the presentation reserved (the bank may add only
        // INCONSISTENT_DATA), so the reserve taken at presentation is the reserve given back here.
        if (p.discrepancies & DISCREPANCY_OVER_TOLERANCE == 0) c.reserved -= p.amount;
        emit PresentationRefused(lcId, presentationId, p.discrepancies);

        if (p.hasInvoice) _releaseInvoice(p.invoiceId);
    }

    // ───────────────────────────── Honour and payment ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function honour(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        PresentationState from = _requirePresentationState(
            lcId,
            presentationId,
            p,
            frozenTime,
            _bit(PresentationState.Compliant) | _bit(PresentationState.Waived) | _bit(PresentationState.Precluded)
        );
        _requireCaller(lcId, c.issuingBank, Roles.BANK);
        _honour(lcId, presentationId, c, p, from);
    }

    /// @inheritdoc ILetterOfCredit
    function claimPreclusion(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        _requirePresentationState(lcId, presentationId, p, frozenTime, _bit(PresentationState.Precluded));
        _requireCaller(lcId, c.beneficiary, Roles.CORPORATE);
        emit PreclusionClaimed(lcId, presentationId, c.beneficiary);
        _honour(lcId, presentationId, c, p, PresentationState.Precluded);
    }

    /// @inheritdoc ILetterOfCredit
    function payAtMaturity(uint256 lcId, uint256 presentationId) external nonReentrant {
        (Credit storage c, Presentation storage p) = _presentationOf(lcId, presentationId);
        uint256 frozenTime = _requireNotFrozen(lcId);
        _requirePresentationState(lcId, presentationId, p, frozenTime, _bit(PresentationState.Honoured));
        _registry.requireActive(_msgSender());
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
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
        _registry.requireActive(_msgSender());
        if (c.openPresentations != 0) revert LetterOfCreditOpenPresentations(lcId, c.openPresentations);
        if (_marginHeld(c) == 0) revert LetterOfCreditNoMarginHeld(lcId);
        _releaseMargin(lcId, c);
    }

    // ───────────────────────────── Invoice payment hook ─────────────────────────────

    /// @notice The buyer pays, in the invoice registry, an invoice presented under a credit: nothing goes to
    /// the issuing bank (its lien only reserves the invoice; the bank pays the beneficiary through the
    /// credit), and a payment that would leave less outstanding than the presented amount is refused with
    /// `LetterOfCreditInvoiceUnderPresentation` (that part is paid through the credit).
    /// @dev Caller: the invoice registry only. A frozen credit refuses every payment of its invoices.
    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256 outstanding)
        external
        view
        returns (uint256 toFinancier, bool releaseLien)
    {
        if (msg.sender != address(_invoiceRegistry)) revert LetterOfCreditNotInvoiceRegistry(msg.sender);
        bytes32 key = _invoicePresentations[invoiceId];
        uint256 lcId = uint256(key) >> 128;
        uint256 presentationId = uint128(uint256(key));
        _requireNotFrozen(lcId);
        uint256 committed = _presentations[lcId][presentationId].amount;
        if (amount + committed > outstanding) {
            revert LetterOfCreditInvoiceUnderPresentation(
                lcId, presentationId, invoiceId, outstanding > committed ? outstanding - committed : 0
            );
        }
        return (0, false);
    }

    /// @notice ERC-165: this contract implements the invoice payment hook (the invoice registry checks it
    /// when the operator registers this contract as a lien instrument).
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IInvoicePaymentHook).interfaceId
            || interfaceId == type(ILetterOfCredit).interfaceId || super.supportsInterface(interfaceId);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc ILetterOfCredit
    function state(uint256 lcId) public view returns (CreditState) {
        return _state(_credit(lcId));
    }

    /// @inheritdoc ILetterOfCredit
    function presentationState(uint256 lcId, uint256 presentationId) external view returns (PresentationState) {
        (, Presentation storage p) = _presentationOf(lcId, presentationId);
        return _presentationState(lcId, presentationId, p, _frozenTime(lcId));
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
        uint256 frozenTime = _frozenTime(lcId);
        return PresentationView({
            state: _presentationState(lcId, presentationId, p, frozenTime),
            amount: p.amount,
            shipmentDate: p.shipmentDate,
            presentedAt: p.presentedAt,
            examinationDeadline: uint40(_deadline(lcId, presentationId, p, frozenTime)),
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
        m.held = _marginHeld(c);
        m.released = m.escrowed - m.applied - m.held;
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

    /// @inheritdoc ILetterOfCredit
    function presentationOfInvoice(uint256 invoiceId) external view returns (uint256 lcId, uint256 presentationId) {
        bytes32 key = _invoicePresentations[invoiceId];
        return (uint256(key) >> 128, uint128(uint256(key)));
    }

    // ───────────────────────────── Internals: transitions ─────────────────────────────

    function _present(uint256 lcId, Document[] calldata documents, uint40 shipmentDate, uint96 amount)
        private
        returns (uint256 presentationId)
    {
        Credit storage c = _credit(lcId);
        uint256 frozenTime = _checkPresentable(lcId, c, shipmentDate, amount);
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
        // The examination period runs from now; time the credit was frozen before does not extend it.
        if (frozenTime != 0) _clocks[lcId][presentationId].frozenAtPresentation = uint48(frozenTime);
        emit DocumentsPresented(lcId, presentationId, amount, shipmentDate, discrepancies, documents);
    }

    /// @dev The checks of a presentation: the credit advised (also after expiry: the presentation then carries
    /// `Expired`), not frozen, the caller its beneficiary, a non-zero amount, a shipment not in the future.
    /// Returns the seconds the credit was frozen so far.
    function _checkPresentable(uint256 lcId, Credit storage c, uint40 shipmentDate, uint96 amount)
        private
        view
        returns (uint256 frozenTime)
    {
        CreditState current = _state(c);
        if (c.state != CreditState.Advised || (current != CreditState.Advised && current != CreditState.Expired)) {
            revert LetterOfCreditUnexpectedState(lcId, current, _bit(CreditState.Advised) | _bit(CreditState.Expired));
        }
        frozenTime = _requireNotFrozen(lcId);
        _requireCaller(lcId, c.beneficiary, Roles.CORPORATE);
        if (amount == 0) revert LetterOfCreditInvalidPresentationAmount(amount);
        uint256 today = block.timestamp.day();
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
        if (uint256(shipmentDate).day() > today) revert LetterOfCreditInvalidShipmentDate(shipmentDate, today);
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

    /// @dev Records `paid` against the presented invoice (the hook kept at least that much outstanding, the
    /// cap is a second guard), then releases the presentation's lien.
    function _settleInvoice(uint256 invoiceId, uint256 paid) private {
        IInvoiceLiens.InvoiceView memory inv = _invoiceRegistry.invoice(invoiceId);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        uint256 settled = paid < outstanding ? paid : outstanding;
        if (settled != 0) _invoiceRegistry.recordSettlement(invoiceId, settled);
        _releaseInvoice(invoiceId);
    }

    function _releaseInvoice(uint256 invoiceId) private {
        delete _invoicePresentations[invoiceId];
        _invoiceRegistry.releaseLien(invoiceId);
    }

    /// @dev Raises the applied margin towards `margin * drawn / amount` (rounded down, at most the margin),
    /// taking only from what this credit still holds (audit H1: never after its release, never from another
    /// credit's escrow); returns the increase. Never lowers it (an amendment may raise `amount`).
    function _applyMargin(Credit storage c, uint256 drawn) private returns (uint256 share) {
        uint256 held = _marginHeld(c);
        if (held == 0) return 0;
        uint256 escrowed = c.margin;
        uint256 target = drawn >= c.amount ? escrowed : escrowed * drawn / c.amount;
        uint256 applied = c.marginApplied;
        if (target <= applied) return 0;
        share = target - applied;
        if (share > held) share = held;
        c.marginApplied = uint96(applied + share);
    }

    /// @dev What this credit holds in escrow now: its margin, less what was applied, nothing once released.
    /// The contract's token balance is the sum of this over every credit.
    function _marginHeld(Credit storage c) private view returns (uint256) {
        if (c.marginReleased) return 0;
        return uint256(c.margin) - c.marginApplied;
    }

    /// @dev Releases whatever margin is held to the applicant (no-op when none is held).
    function _releaseMargin(uint256 lcId, Credit storage c) private {
        uint256 held = _marginHeld(c);
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
        _requireCaller(lcId, c.beneficiary, Roles.CORPORATE);
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
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
        if (today > shipmentDay + c.presentationPeriodDays) codes |= DISCREPANCY_LATE_PRESENTATION;
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
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
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
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
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
        if (block.timestamp.day() > uint256(c.expiryDate).day()) return CreditState.Expired;
        return stored;
    }

    /// @dev `Presented`, `Compliant` and `Waived` presentations read `Precluded` once their deadline has
    /// passed (Art. 16(f); audit M1: marking a presentation compliant does not stop the clock). A claim
    /// beyond the ceiling (`OverTolerance`) is outside the undertaking and never precluded.
    function _presentationState(uint256 lcId, uint256 presentationId, Presentation storage p, uint256 frozenTime)
        private
        view
        returns (PresentationState)
    {
        PresentationState stored = p.state;
        if (stored == PresentationState.Presented) {
            if (p.discrepancies & DISCREPANCY_OVER_TOLERANCE != 0) return stored;
        } else if (stored != PresentationState.Compliant && stored != PresentationState.Waived) {
            return stored;
        }
        // slither-disable-next-line timestamp: UCP 600 deadlines are whole banking days; seconds of drift cannot move one
        return block.timestamp > _deadline(lcId, presentationId, p, frozenTime) ? PresentationState.Precluded : stored;
    }

    /// @dev The bank's deadline for a presentation: the last second of the fifth banking day following the
    /// day of presentation (Art. 14(b)); a presentation received on a Saturday or Sunday counts from the next
    /// banking day (audit L4). A waived presentation is due five banking days after the waiver, if that is
    /// later. The deadline is extended by the time the credit was frozen since the presentation (audit L5).
    function _deadline(uint256 lcId, uint256 presentationId, Presentation storage p, uint256 frozenTime)
        private
        view
        returns (uint256 deadline)
    {
        PresentationClock memory clock = _clocks[lcId][presentationId];
        deadline = _bankingDeadline(p.presentedAt);
        if (clock.waivedAt != 0) {
            uint256 afterWaiver = _bankingDeadline(clock.waivedAt);
            if (afterWaiver > deadline) deadline = afterWaiver;
        }
        deadline += frozenTime - clock.frozenAtPresentation;
    }

    /// @dev The last second of the fifth banking day following the day of `t` (or, when `t` falls on a
    /// weekend, following the next banking day).
    function _bankingDeadline(uint256 t) private pure returns (uint256) {
        uint256 received = UcpCalendar.firstBankingDayFrom(t.day());
        return UcpCalendar.endOf(UcpCalendar.addBankingDays(received, _EXAMINATION_BANKING_DAYS));
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
        uint256 frozenTime,
        bytes32 expectedStates
    ) private view returns (PresentationState current) {
        current = _presentationState(lcId, presentationId, p, frozenTime);
        if (_bit(current) & expectedStates == 0) {
            revert LetterOfCreditUnexpectedPresentationState(lcId, presentationId, current, expectedStates);
        }
    }

    /// @dev The caller is `expected`, authorized for `role` (the one check of the participant registry).
    function _requireCaller(uint256 lcId, address expected, bytes32 role) private view {
        address caller = _msgSender();
        if (caller != expected) revert LetterOfCreditUnauthorizedCaller(lcId, caller, expected);
        _registry.requireAuthorized(caller, role);
    }

    /// @dev Reverts while the regulator holds the credit frozen; returns the seconds it was frozen so far.
    function _requireNotFrozen(uint256 lcId) private view returns (uint256 frozenTime) {
        bool frozen;
        (frozen, frozenTime) = _registry.instrumentFreeze(address(this), lcId);
        if (frozen) revert LetterOfCreditFrozen(lcId);
    }

    /// @dev The seconds the credit has been frozen so far, the current freeze included.
    function _frozenTime(uint256 lcId) private view returns (uint256 frozenTime) {
        // slither-disable-next-line unused-return: only the frozen time is asked for here
        (, frozenTime) = _registry.instrumentFreeze(address(this), lcId);
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
