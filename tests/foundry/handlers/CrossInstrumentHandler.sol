// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {Vm} from "../utils/Vm.sol";
import {InvoiceRegistry} from "../../../contracts/InvoiceRegistry.sol";
import {LetterOfCredit} from "../../../contracts/LetterOfCredit.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {PayableCertificates} from "../../../contracts/PayableCertificates.sol";
import {ReceivableFinancing} from "../../../contracts/ReceivableFinancing.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {IInvoiceLiens} from "../../../contracts/interfaces/IInvoiceLiens.sol";
import {IInvoiceRegistry} from "../../../contracts/interfaces/IInvoiceRegistry.sol";
import {ILetterOfCredit} from "../../../contracts/interfaces/ILetterOfCredit.sol";
import {IPayableCertificates} from "../../../contracts/interfaces/IPayableCertificates.sol";
import {IReceivableFinancing} from "../../../contracts/interfaces/IReceivableFinancing.sol";

/// @notice One handler over a shared pool of invoices that drives every instrument that can take a lien on
/// them — receivable financing and reverse-factoring programmes, letters of credit (presentations with and
/// without invoices), payable certificates — plus the buyers' payments in the registry, assignments of
/// receivables, freezes of participants and instruments, and time.
///
/// **Every action is valid when made** (`fail_on_revert`): it picks its objects from the pools, bounds its
/// amounts, and predicts from the contracts' views every condition the call needs (states, freezes,
/// parties active, balances); when one does not hold it skips (counted). An unexpected revert is a
/// liveness bug. Attacks that must fail (`attemptDoubleFinancing`, the bank's coded discrepancies) are
/// made under try/catch and any success is counted as a violation.
///
/// **Ghost accounting** (read by the invariants):
/// - *value advanced against an invoice* (`exposure`): for each invoice, the sum over instruments of
///   (1) each `Active` or `Defaulted` financing's principal not yet repaid, `advance - min(repaid, advance)`;
///   (2) each letter-of-credit presentation naming the invoice that is `Honoured` (deferred payment accepted)
///   and not yet `Paid`: its amount; (3) each certificate of the invoice's tree that a bank discounted and
///   that is not yet `Settled`: the proceeds the bank paid (`discountedProceeds`; a split passes them to
///   the children pro rata). *Value committed* adds what a lien reserves without advancing: an open
///   presentation's amount, a certificate tree's amount.
/// - *buyer payments*: every `pay` is replayed against its `InvoicePaid` event and the balances it moved:
///   the split adds up, the financier's share is exactly `min(amount, owed)` of an advancing financing and
///   zero for any other lien, and each party received what the event says (`paymentViolations`).
/// - *freezes*: a hash of each frozen participant's holdings (USD, CNY, invoice tokens), the live
///   certificate amounts it holds, and a hash of each frozen instrument's record, taken when it was frozen.
/// - *calls*: per action, how often forge called it and how often it skipped (`callSummary`).
/// - *touched invoices*: the invoices the latest action touched (`touchedInvoices`), so that the per-call
///   check reads only those; the test checks every invoice at the end of each run.
contract CrossInstrumentHandler is Test {
    // ───────────────────────────── Types ─────────────────────────────

    struct Platform {
        ParticipantRegistry registry;
        SettlementToken usd;
        SettlementToken cny;
        InvoiceRegistry invoices;
        ReceivableFinancing financing;
        LetterOfCredit lc;
        PayableCertificates certificates;
        address regulator;
    }

    enum Action {
        RegisterInvoice,
        ConfirmInvoice,
        AssignInvoice,
        PayInvoice,
        ApplyForFinancing,
        OpenProgramme,
        AcceptOrCloseProgramme,
        ApplyUnderProgramme,
        ApproveFinancing,
        RejectOrWithdrawFinancing,
        RepayFinancing,
        RecordRepayment,
        MarkDefault,
        ClaimRecourse,
        OpenCredit,
        Present,
        PresentWithInvoice,
        Examine,
        Waive,
        Refuse,
        Honour,
        ClaimPreclusion,
        PayAtMaturity,
        ReleaseMargin,
        OfferCertificate,
        AcceptOffer,
        CloseOffer,
        SplitCertificate,
        TransferCertificate,
        RequestDiscount,
        AcceptDiscount,
        SettleCertificate,
        FreezeParticipant,
        UnfreezeParticipant,
        FreezeInstrument,
        UnfreezeInstrument,
        Warp,
        JumpToNextDeadline,
        AttemptDoubleFinancing,
        AttemptFinancingAboveUnpaid,
        AttemptOnFrozen
    }

    uint256 internal constant ACTION_COUNT = 41;

    /// @dev What a buyer's payment should do, predicted before it is made.
    struct PaymentPlan {
        uint256 invoiceId;
        SettlementToken token;
        address buyer;
        address owner;
        address financier;
        uint256 amount;
        uint256 toFinancier;
        bool advancing; // an Active/Defaulted financing holds the lien and is owed something
    }

    struct FrozenInstrument {
        address instrument;
        uint256 id;
        bytes32 snapshot;
    }

    // ───────────────────────────── Limits ─────────────────────────────

    uint256 internal constant MAX_INVOICES = 12;
    uint256 internal constant MAX_FINANCINGS = 24;
    uint256 internal constant MAX_PROGRAMMES = 3;
    uint256 internal constant MAX_CREDITS = 4;
    uint256 internal constant MAX_PRESENTATIONS = 6;
    uint256 internal constant MAX_CERTIFICATES = 40;
    uint256 internal constant MAX_ELAPSED = 300 days; // within the world's one-year KYC
    uint8 internal constant DOCS_INVOICE_AND_TRANSPORT = 3; // CommercialInvoice | TransportDocument
    uint8 internal constant DOCS_TRANSPORT = 2;
    uint8 internal constant DOCS_TRANSPORT_AND_PACKING = 6;

    // ───────────────────────────── Platform and parties ─────────────────────────────

    ParticipantRegistry internal immutable registry;
    SettlementToken internal immutable usd;
    SettlementToken internal immutable cny;
    InvoiceRegistry internal immutable invoices;
    ReceivableFinancing internal immutable financing;
    LetterOfCredit internal immutable lc;
    PayableCertificates internal immutable certificates;
    address internal immutable regulator;

    /// @dev [seller 0, seller 1, buyer 0, buyer 1]: invoices run from a seller to a buyer; any corporate may
    /// later own one (assignment) or hold certificates.
    address[4] internal corporates;
    address[2] internal banks;

    // ───────────────────────────── Pools ─────────────────────────────

    uint256[] public invoiceIds;
    mapping(uint256 invoiceId => uint256) internal _invoiceSlot; // index + 1
    uint256[] public financingIds;
    uint256[] public programmeIds;
    uint256[] public creditIds;
    uint256[] public certificateIds;
    uint256[] public rootIds;
    uint256 internal _invoiceNonce;

    // Per invoice, the instrument records that may claim it (so one invoice is checked without a full scan).
    mapping(uint256 invoiceId => uint256[]) internal _financingsOf;
    mapping(uint256 invoiceId => uint256[]) internal _presentationsOf; // lcId << 128 | presentationId
    mapping(uint256 invoiceId => uint256[]) internal _certificatesOf; // every certificate of its trees
    mapping(uint256 lcId => address) public creditCurrency;

    // The invoices the latest action touched (checked after it; every invoice is checked at the end of a run).
    uint256[] internal _touched;
    uint256 internal _touchedAt;
    uint256 internal _callNumber;

    // ───────────────────────────── Ghosts ─────────────────────────────

    mapping(uint256 certificateId => uint256) public discountedProceeds;
    mapping(address party => bytes32) public frozenPartySnapshot;
    mapping(address party => uint256) public frozenPartyCertificates;
    FrozenInstrument[] internal _frozenInstruments;
    uint256 public elapsed;

    uint256 public buyerPayments;
    uint256 public paidToFinanciers;
    uint256 public paidToOwners;
    uint256 public paymentViolations;
    string public lastPaymentViolation;
    uint256 public forbiddenSuccesses;
    string public lastForbiddenSuccess;

    uint256[ACTION_COUNT] internal _calls;
    uint256[ACTION_COUNT] internal _skips;

    // Scratch for the eligibility scans that need a second argument (set just before the scan).
    address internal _programmeBuyer;
    uint256 internal _credit;

    constructor(Platform memory p, address[2] memory sellers, address[2] memory buyers, address[2] memory banks_) {
        registry = p.registry;
        usd = p.usd;
        cny = p.cny;
        invoices = p.invoices;
        financing = p.financing;
        lc = p.lc;
        certificates = p.certificates;
        regulator = p.regulator;
        corporates = [sellers[0], sellers[1], buyers[0], buyers[1]];
        banks = banks_;
    }

    // ═════════════════════════════ Actions (forge's targets) ═════════════════════════════

    // ───────────────────────────── Invoices and buyer payments ─────────────────────────────

    function registerInvoice(uint256 partiesSeed, uint256 face, uint256 dueIn, bool confirm) external {
        _count(Action.RegisterInvoice, _registerInvoice(partiesSeed, face, dueIn, confirm));
    }

    function confirmInvoice(uint256 invoiceSeed) external {
        _count(Action.ConfirmInvoice, _confirmInvoice(invoiceSeed));
    }

    /// @dev The owner assigns the receivable to another corporate (ERC-721 transfer, before any lien).
    function assignInvoice(uint256 invoiceSeed, uint256 toSeed) external {
        _count(Action.AssignInvoice, _assignInvoice(invoiceSeed, toSeed));
    }

    /// @dev The buyer pays part or all of what may be paid directly (what no lien has committed).
    function payInvoice(uint256 invoiceSeed, uint256 amountSeed) external {
        _count(Action.PayInvoice, _payInvoice(invoiceSeed, amountSeed));
    }

    // ───────────────────────────── Receivable financing ─────────────────────────────

    function applyForFinancing(uint256 invoiceSeed, uint256 bankSeed, uint256 amountSeed) external {
        _count(Action.ApplyForFinancing, _applyForFinancing(invoiceSeed, bankSeed, amountSeed));
    }

    function openProgramme(uint256 partiesSeed, uint256 rateSeed, uint256 limitSeed, bool accept) external {
        _count(Action.OpenProgramme, _openProgramme(partiesSeed, rateSeed, limitSeed, accept));
    }

    function acceptOrCloseProgramme(uint256 programmeSeed, uint256 mode) external {
        _count(Action.AcceptOrCloseProgramme, _acceptOrCloseProgramme(programmeSeed, mode));
    }

    function applyUnderProgramme(uint256 invoiceSeed, uint256 programmeSeed, uint256 amountSeed) external {
        _count(Action.ApplyUnderProgramme, _applyUnderProgramme(invoiceSeed, programmeSeed, amountSeed));
    }

    function approveFinancing(uint256 financingSeed, uint256 advanceSeed, uint256 rateSeed, uint256 maturitySeed)
        external
    {
        _count(Action.ApproveFinancing, _approveFinancing(financingSeed, advanceSeed, rateSeed, maturitySeed));
    }

    function rejectOrWithdrawFinancing(uint256 financingSeed, bool bySeller) external {
        _count(Action.RejectOrWithdrawFinancing, _rejectOrWithdraw(financingSeed, bySeller));
    }

    /// @dev The seller repays the bank directly.
    function repayFinancing(uint256 financingSeed, uint256 amountSeed) external {
        _count(Action.RepayFinancing, _repayFinancing(financingSeed, amountSeed));
    }

    /// @dev The bank records a repayment received off chain.
    function recordRepayment(uint256 financingSeed, uint256 amountSeed) external {
        _count(Action.RecordRepayment, _recordRepayment(financingSeed, amountSeed));
    }

    function markDefault(uint256 financingSeed) external {
        _count(Action.MarkDefault, _markDefault(financingSeed));
    }

    function claimRecourse(uint256 financingSeed) external {
        _count(Action.ClaimRecourse, _claimRecourse(financingSeed));
    }

    // ───────────────────────────── Letters of credit ─────────────────────────────

    function openCredit(uint256 partiesSeed, uint256 amountSeed, uint256 shapeSeed, uint256 marginSeed) external {
        _count(Action.OpenCredit, _openCredit(partiesSeed, amountSeed, shapeSeed, marginSeed));
    }

    /// @dev Documents without a commercial invoice.
    function present(uint256 creditSeed, uint256 amountSeed, uint256 shipSeed, bool packingList) external {
        _count(Action.Present, _present(creditSeed, amountSeed, shipSeed, packingList));
    }

    /// @dev Documents with the commercial invoice, naming a registered invoice of the beneficiary on the
    /// applicant (its lien is taken for the issuing bank).
    function presentWithInvoice(uint256 creditSeed, uint256 invoiceSeed, uint256 amountSeed, uint256 shipSeed)
        external
    {
        _count(Action.PresentWithInvoice, _presentWithInvoice(creditSeed, invoiceSeed, amountSeed, shipSeed));
    }

    function examine(uint256 presentationSeed, uint256 mode) external {
        _count(Action.Examine, _examine(presentationSeed, mode));
    }

    function waive(uint256 presentationSeed) external {
        _count(Action.Waive, _waive(presentationSeed));
    }

    function refuse(uint256 presentationSeed) external {
        _count(Action.Refuse, _refuse(presentationSeed));
    }

    function honour(uint256 presentationSeed) external {
        _count(Action.Honour, _honour(presentationSeed, false));
    }

    function claimPreclusion(uint256 presentationSeed) external {
        _count(Action.ClaimPreclusion, _honour(presentationSeed, true));
    }

    function payAtMaturity(uint256 presentationSeed) external {
        _count(Action.PayAtMaturity, _payAtMaturity(presentationSeed));
    }

    function releaseMargin(uint256 creditSeed) external {
        _count(Action.ReleaseMargin, _releaseMargin(creditSeed));
    }

    // ───────────────────────────── Payable certificates ─────────────────────────────

    function offerCertificate(uint256 invoiceSeed, uint256 amountSeed, uint256 maturitySeed) external {
        _count(Action.OfferCertificate, _offerCertificate(invoiceSeed, amountSeed, maturitySeed));
    }

    function acceptOffer(uint256 invoiceSeed) external {
        _count(Action.AcceptOffer, _acceptOffer(invoiceSeed));
    }

    function closeOffer(uint256 invoiceSeed, bool bySeller) external {
        _count(Action.CloseOffer, _closeOffer(invoiceSeed, bySeller));
    }

    function splitCertificate(uint256 certificateSeed, uint256 cutSeed, uint256 holderSeed, bool three) external {
        _count(Action.SplitCertificate, _splitCertificate(certificateSeed, cutSeed, holderSeed, three));
    }

    function transferCertificate(uint256 certificateSeed, uint256 toSeed) external {
        _count(Action.TransferCertificate, _transferCertificate(certificateSeed, toSeed));
    }

    function requestDiscount(uint256 certificateSeed, uint256 bankSeed, uint256 rateSeed) external {
        _count(Action.RequestDiscount, _requestDiscount(certificateSeed, bankSeed, rateSeed));
    }

    function acceptDiscount(uint256 certificateSeed) external {
        _count(Action.AcceptDiscount, _acceptDiscount(certificateSeed));
    }

    function settleCertificate(uint256 certificateSeed, bool byHolder) external {
        _count(Action.SettleCertificate, _settleCertificate(certificateSeed, byHolder));
    }

    // ───────────────────────────── Supervision and time ─────────────────────────────

    function freezeParticipant(uint256 partySeed) external {
        _count(Action.FreezeParticipant, _freezeParticipant(partySeed));
    }

    function unfreezeParticipant(uint256 partySeed) external {
        _count(Action.UnfreezeParticipant, _unfreezeParticipant(partySeed));
    }

    function freezeInstrument(uint256 kindSeed, uint256 idSeed) external {
        _count(Action.FreezeInstrument, _freezeInstrument(kindSeed, idSeed));
    }

    function unfreezeInstrument(uint256 seed) external {
        _count(Action.UnfreezeInstrument, _unfreezeInstrument(seed));
    }

    function warp(uint256 secondsSeed) external {
        _count(Action.Warp, _warp(secondsSeed));
    }

    /// @dev Time moves to just past the next deadline of the world (a certificate's maturity or grace, a
    /// financing's default date, an invoice's, a presentation's examination deadline or deferred maturity,
    /// a credit's expiry), so that what only time unlocks is reached within a run.
    function jumpToNextDeadline(uint256 secondsSeed) external {
        _count(Action.JumpToNextDeadline, _jumpToNextDeadline(secondsSeed));
    }

    /// @dev Tries to pledge an invoice that carries a lien through another instrument, or to pay past what the
    /// lien has committed: every attempt must be refused.
    function attemptDoubleFinancing(uint256 invoiceSeed, uint256 kindSeed) external {
        _count(Action.AttemptDoubleFinancing, _attemptDoubleFinancing(invoiceSeed, kindSeed));
    }

    /// @dev Tries to finance more than is unpaid on an invoice (L2): applying for it must be refused.
    function attemptFinancingAboveUnpaid(uint256 invoiceSeed, uint256 excessSeed) external {
        _count(Action.AttemptFinancingAboveUnpaid, _attemptFinancingAboveUnpaid(invoiceSeed, excessSeed));
    }

    /// @dev Tries to move a frozen participant's money, or to change a frozen instrument, by the paths the
    /// handler's valid actions never take (they skip frozen parties): every attempt must be refused.
    function attemptOnFrozen(uint256 seed, uint256 kindSeed) external {
        _count(Action.AttemptOnFrozen, _attemptOnFrozen(seed, kindSeed));
    }

    // ═════════════════════════════ Views for the invariants ═════════════════════════════

    function invoiceCount() external view returns (uint256) {
        return invoiceIds.length;
    }

    function financingCount() external view returns (uint256) {
        return financingIds.length;
    }

    function creditCount() external view returns (uint256) {
        return creditIds.length;
    }

    function certificateCount() external view returns (uint256) {
        return certificateIds.length;
    }

    function parties() public view returns (address[6] memory) {
        return [corporates[0], corporates[1], corporates[2], corporates[3], banks[0], banks[1]];
    }

    function frozenInstrumentCount() external view returns (uint256) {
        return _frozenInstruments.length;
    }

    function frozenInstrument(uint256 i) external view returns (address instrument, uint256 id, bytes32 snapshot) {
        FrozenInstrument memory f = _frozenInstruments[i];
        return (f.instrument, f.id, f.snapshot);
    }

    /// @notice For invoice `invoiceId` of the pool: the value advanced against it, the value committed to
    /// instruments (advanced, or reserved by an open presentation or a certificate tree), and what is unpaid
    /// on it (see the contract notes for the definitions).
    function exposure(uint256 invoiceId) external view returns (uint256 advanced, uint256 committed, uint256 unpaid) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceId);
        unpaid = inv.faceAmount - inv.paidAmount;
        (uint256 a, uint256 c) = _financingExposure(invoiceId);
        advanced += a;
        committed += c;
        (a, c) = _creditExposure(invoiceId);
        advanced += a;
        committed += c;
        (a, c) = _certificateExposure(invoiceId);
        advanced += a;
        committed += c;
    }

    /// @notice The invoices the latest action touched (empty after an action that touched none).
    function touchedInvoices() external view returns (uint256[] memory) {
        if (_callNumber == 0 || _touchedAt != _callNumber - 1) return new uint256[](0);
        return _touched;
    }

    /// @notice A hash of the money and receivables `party` holds: USD, CNY and invoice tokens.
    function partySnapshot(address party) public view returns (bytes32) {
        return keccak256(abi.encode(usd.balanceOf(party), cny.balanceOf(party), invoices.balanceOf(party)));
    }

    /// @notice The sum of the amounts of the live certificates `party` holds (a full scan).
    function certificatesHeld(address party) public view returns (uint256 held) {
        for (uint256 i; i < certificateIds.length; ++i) {
            IPayableCertificates.CertificateView memory c = certificates.certificate(certificateIds[i]);
            if (c.holder == party && _live(c.state)) held += c.amount;
        }
    }

    /// @notice A hash of the record of instrument `id` of contract `instrument`: what no action may change
    /// while the regulator holds it frozen (time-derived states are left out, except letter-of-credit
    /// presentations, whose deadlines a freeze extends, so their derived state is frozen too).
    function instrumentSnapshot(address instrument, uint256 id) public view returns (bytes32) {
        if (instrument == address(invoices)) {
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
            return keccak256(abi.encode(inv.seller, inv.paidAmount, inv.lienInstrument, inv.lienFinancier));
        }
        if (instrument == address(financing)) return keccak256(abi.encode(financing.financing(id)));
        if (instrument == address(lc)) return _creditSnapshot(id);
        return _treeSnapshot(id);
    }

    /// @notice Calls per action over this run: the name, how often forge called it, how often it skipped.
    function callSummary()
        external
        view
        returns (string[] memory names, uint256[] memory calls, uint256[] memory skips)
    {
        names = new string[](ACTION_COUNT);
        calls = new uint256[](ACTION_COUNT);
        skips = new uint256[](ACTION_COUNT);
        string[ACTION_COUNT] memory all = _actionNames();
        for (uint256 i; i < ACTION_COUNT; ++i) {
            names[i] = all[i];
            calls[i] = _calls[i];
            skips[i] = _skips[i];
        }
    }

    // ═════════════════════════════ Bootstrap ═════════════════════════════

    /// @notice The opening position every run starts from (not a target, not counted): six invoices between
    /// the sellers and buyers in both currencies (five confirmed), two credits that match some of them, an
    /// open reverse-factoring programme, and a certificate tree, a financing and a presentation under way;
    /// so that forge's 64 calls per run reach deep states.
    function bootstrap() external {
        _registerInvoice(0 | (0 << 8) | (1 << 16), 100_000_00, 40 days, true); // exporter -> importer, USD
        _registerInvoice(0 | (0 << 8) | (1 << 16), 250_000_00, 70 days, true); // exporter -> importer, USD
        _registerInvoice(1 | (1 << 8) | (0 << 16), 80_000_00, 30 days, true); // supplier -> buyerDe, CNY
        _registerInvoice(1 | (1 << 8) | (0 << 16), 120_000_00, 60 days, false); // supplier -> buyerDe, CNY
        _registerInvoice(0 | (1 << 8) | (1 << 16), 60_000_00, 50 days, true); // exporter -> buyerDe, USD
        _registerInvoice(1 | (0 << 8) | (1 << 16), 90_000_00, 80 days, true); // supplier -> importer, USD
        // importer for exporter at the US bank, USD, ±5%, partial drawings, sight, invoice required
        _openCredit(0 | (0 << 8) | (1 << 16), 300_000_00, 5 | (1 << 8) | (1 << 10) | (1 << 12) | (30 << 16), 30_000_00);
        // buyerDe for supplier at the CN bank, CNY 75,000 exact, one drawing, deferred, invoice required, margin
        _openCredit(1 | (1 << 8) | (0 << 16), 75_000_00, (1 << 9) | (1 << 12) | (40 << 16), 15_000_00);
        _openProgramme(0 | (1 << 8), 300, 500_000_00, true); // importer's programme at the US bank
        // Already under way: a certificate tree on invoice 4, a financing under the programme on invoice 5,
        // a presentation with invoice 2 under the CNY credit.
        vm.prank(corporates[3]);
        certificates.offer(invoiceIds[4], 40_000_00, uint64(block.timestamp + 14 days));
        _acceptOffer(4);
        vm.prank(corporates[1]);
        _recordFinancing(invoiceIds[5], financing.applyUnderProgramme(invoiceIds[5], programmeIds[0], 60_000_00));
        vm.prank(banks[1]);
        financing.approve(financingIds[0], 60_000_00, 300, uint64(block.timestamp + 10 days), "terms");
        _presentWithInvoice(1, 2, 72_000_00 + 1, 1 days); // 96% of the credit: one drawing, not all of it
    }

    // ═════════════════════════════ Invoices ═════════════════════════════

    function _registerInvoice(uint256 partiesSeed, uint256 face, uint256 dueIn, bool confirm) internal returns (bool) {
        if (invoiceIds.length >= MAX_INVOICES) return false;
        address seller = corporates[partiesSeed % 2];
        address buyer = corporates[2 + (partiesSeed >> 8) % 2];
        if (!_active(seller) || !_active(buyer)) return false;
        address currency = (partiesSeed >> 16) % 3 == 0 ? address(cny) : address(usd);
        uint256 nonce = ++_invoiceNonce;
        vm.prank(seller);
        uint256 id = invoices.register(
            buyer,
            currency,
            invoiceNumber("XI-", nonce),
            bound(face, 1_000_00, 1_000_000_00),
            uint64(block.timestamp),
            uint64(block.timestamp + bound(dueIn, 10 days, 90 days)),
            keccak256(abi.encode("invoice", nonce))
        );
        invoiceIds.push(id);
        _invoiceSlot[id] = invoiceIds.length;
        _touch(id);
        if (confirm) {
            vm.prank(buyer);
            invoices.confirm(id);
        }
        return true;
    }

    function _confirmInvoice(uint256 seed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _confirmable);
        if (!found) return false;
        vm.prank(invoices.invoice(id).buyer);
        invoices.confirm(id);
        _touch(id);
        return true;
    }

    function _assignInvoice(uint256 seed, uint256 toSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _assignable);
        if (!found) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        address to = corporates[toSeed % 4];
        if (to == inv.seller || to == inv.buyer || !_active(to)) return false;
        vm.prank(inv.seller);
        invoices.transferFrom(inv.seller, to, id);
        _touch(id);
        return true;
    }

    function _payInvoice(uint256 seed, uint256 amountSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _payableByBuyer);
        if (!found) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        (, uint256 payableDirectly, uint256 financingId) = _payableDirectly(id, inv);
        PaymentPlan memory plan;
        plan.invoiceId = id;
        plan.token = SettlementToken(inv.currency);
        plan.buyer = inv.buyer;
        plan.owner = inv.seller;
        plan.financier = inv.lienFinancier;
        plan.amount = bound(amountSeed, 1, payableDirectly);
        if (financingId != 0) {
            uint256 owedNow = financing.owed(financingId);
            plan.advancing = owedNow != 0;
            plan.toFinancier = plan.amount < owedNow ? plan.amount : owedNow;
        }
        _executePayment(plan);
        _touch(id);
        return true;
    }

    /// @dev Pays, then checks the payment against its event and the balances it moved (invariant d).
    function _executePayment(PaymentPlan memory plan) internal {
        uint256[3] memory before = [
            plan.token.balanceOf(plan.buyer), plan.token.balanceOf(plan.owner), _balanceOf(plan.token, plan.financier)
        ];
        vm.recordLogs();
        vm.prank(plan.buyer);
        invoices.pay(plan.invoiceId, plan.amount);
        (bool found, uint256 amount, uint256 toFinancier, uint256 toOwner) = _invoicePaidEvent(vm.getRecordedLogs());
        ++buyerPayments;
        paidToFinanciers += toFinancier;
        paidToOwners += toOwner;
        if (!found) return _paymentViolation("no InvoicePaid event");
        if (amount != plan.amount || toFinancier + toOwner != amount) {
            return _paymentViolation("split does not add up");
        }
        if (toFinancier != 0 && !plan.advancing) return _paymentViolation("paid a financier that advanced nothing");
        if (toFinancier != plan.toFinancier) return _paymentViolation("financier share is not min(amount, owed)");
        if (plan.token.balanceOf(plan.buyer) + amount != before[0]) return _paymentViolation("buyer debited wrongly");
        if (plan.token.balanceOf(plan.owner) != before[1] + toOwner) {
            return _paymentViolation("owner credited wrongly");
        }
        // A certificate tree's lien names the seller itself as its financier: its share is the owner's.
        if (plan.financier != plan.owner && _balanceOf(plan.token, plan.financier) != before[2] + toFinancier) {
            return _paymentViolation("financier credited wrongly");
        }
    }

    function _invoicePaidEvent(Vm.Log[] memory logs)
        internal
        view
        returns (bool found, uint256 amount, uint256 toFinancier, uint256 toOwner)
    {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(invoices) || logs[i].topics[0] != IInvoiceRegistry.InvoicePaid.selector) {
                continue;
            }
            (amount, toFinancier, toOwner,) = abi.decode(logs[i].data, (uint256, uint256, uint256, uint256));
            return (true, amount, toFinancier, toOwner);
        }
    }

    /// @dev What the buyer may pay directly now: the whole outstanding amount, less what a presentation or a
    /// certificate tree holding the lien has committed. `ok` is false when the lien's instrument is frozen
    /// (its hook refuses every payment). `financingId` is the financing holding the lien, if any.
    function _payableDirectly(uint256 id, IInvoiceLiens.InvoiceView memory inv)
        internal
        view
        returns (bool ok, uint256 payable_, uint256 financingId)
    {
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        if (inv.lienInstrument == address(0)) return (true, outstanding, 0);
        uint256 committed;
        if (inv.lienInstrument == address(financing)) {
            financingId = financing.activeFinancingOf(id);
            if (_frozen(address(financing), financingId)) return (false, 0, 0);
        } else if (inv.lienInstrument == address(lc)) {
            (uint256 lcId, uint256 pid) = lc.presentationOfInvoice(id);
            if (_frozen(address(lc), lcId)) return (false, 0, 0);
            committed = lc.presentation(lcId, pid).amount;
        } else {
            uint256 rootId = certificates.rootOfInvoice(id);
            if (_frozen(address(certificates), rootId)) return (false, 0, 0);
            committed = certificates.certificate(rootId).amount;
        }
        return (true, outstanding > committed ? outstanding - committed : 0, financingId);
    }

    // ═════════════════════════════ Receivable financing ═════════════════════════════

    function _applyForFinancing(uint256 seed, uint256 bankSeed, uint256 amountSeed) internal returns (bool) {
        if (financingIds.length >= MAX_FINANCINGS) return false;
        (bool found, uint256 id) = _scan(invoiceIds, seed, _financeableBySeller);
        address bank = banks[bankSeed % 2];
        if (!found || !_active(bank)) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        vm.prank(inv.seller);
        _recordFinancing(
            id, financing.applyForFinancing(id, bank, bound(amountSeed, 1, inv.faceAmount - inv.paidAmount))
        );
        return true;
    }

    function _openProgramme(uint256 partiesSeed, uint256 rateSeed, uint256 limitSeed, bool accept)
        internal
        returns (bool)
    {
        if (programmeIds.length >= MAX_PROGRAMMES) return false;
        address buyer = corporates[2 + partiesSeed % 2];
        address bank = banks[(partiesSeed >> 8) % 2];
        if (!_active(buyer) || !_active(bank)) return false;
        vm.prank(buyer);
        uint256 programmeId = financing.proposeProgramme(
            bank, uint16(bound(rateSeed, 0, 2_000)), bound(limitSeed, 1_000_00, 5_000_000_00)
        );
        programmeIds.push(programmeId);
        if (accept) {
            vm.prank(bank);
            financing.acceptProgramme(programmeId);
        }
        return true;
    }

    function _acceptOrCloseProgramme(uint256 seed, uint256 mode) internal returns (bool) {
        if (programmeIds.length == 0) return false;
        uint256 programmeId = programmeIds[seed % programmeIds.length];
        IReceivableFinancing.Programme memory p = financing.programme(programmeId);
        bool proposed = p.state == IReceivableFinancing.ProgrammeState.Proposed;
        if (!proposed && p.state != IReceivableFinancing.ProgrammeState.Open) return false;
        if (proposed && mode % 3 != 0) {
            if (!_active(p.bank)) return false;
            vm.prank(p.bank);
            financing.acceptProgramme(programmeId);
            return true;
        }
        if (mode % 5 != 0) return false; // closing ends a programme for good: rarely
        address closer = mode % 2 == 0 ? p.bank : p.buyer;
        if (!_active(closer)) return false;
        vm.prank(closer);
        financing.closeProgramme(programmeId);
        return true;
    }

    function _applyUnderProgramme(uint256 seed, uint256 programmeSeed, uint256 amountSeed) internal returns (bool) {
        if (financingIds.length >= MAX_FINANCINGS || programmeIds.length == 0) return false;
        uint256 programmeId = programmeIds[programmeSeed % programmeIds.length];
        IReceivableFinancing.Programme memory p = financing.programme(programmeId);
        if (p.state != IReceivableFinancing.ProgrammeState.Open || !_active(p.bank)) return false;
        _programmeBuyer = p.buyer;
        (bool found, uint256 id) = _scan(invoiceIds, seed, _financeableUnderProgramme);
        if (!found) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        vm.prank(inv.seller);
        _recordFinancing(
            id, financing.applyUnderProgramme(id, programmeId, bound(amountSeed, 1, inv.faceAmount - inv.paidAmount))
        );
        return true;
    }

    function _approveFinancing(uint256 seed, uint256 advanceSeed, uint256 rateSeed, uint256 maturitySeed)
        internal
        returns (bool)
    {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _approvable);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(f.invoiceId);
        uint256 maxAdvance = _min(f.amount, inv.faceAmount - inv.paidAmount);
        uint16 rate = uint16(bound(rateSeed, 0, 2_000));
        uint256 programmeId = financing.programmeOf(financingId);
        if (programmeId != 0) {
            IReceivableFinancing.Programme memory p = financing.programme(programmeId);
            rate = p.rateBps;
            maxAdvance = _min(maxAdvance, p.limit - p.used);
        }
        uint256 advance = bound(advanceSeed, 1, _min(maxAdvance, SettlementToken(inv.currency).balanceOf(f.bank)));
        vm.prank(f.bank);
        financing.approve(
            financingId, advance, rate, uint64(block.timestamp + bound(maturitySeed, 5 days, 90 days)), "terms"
        );
        _touch(f.invoiceId);
        return true;
    }

    function _rejectOrWithdraw(uint256 seed, bool bySeller) internal returns (bool) {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _appliedUnfrozen);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        address caller = bySeller ? f.seller : f.bank;
        if (!_active(caller)) return false;
        vm.prank(caller);
        if (bySeller) financing.withdraw(financingId);
        else financing.reject(financingId, "declined");
        _touch(f.invoiceId);
        return true;
    }

    function _repayFinancing(uint256 seed, uint256 amountSeed) internal returns (bool) {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _repayableBySeller);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        uint256 amount = _repayment(financingId, f, amountSeed);
        if (amount == 0 || _tokenOf(f.invoiceId).balanceOf(f.seller) < amount) return false;
        vm.prank(f.seller);
        financing.repay(financingId, amount);
        _touch(f.invoiceId);
        return true;
    }

    function _recordRepayment(uint256 seed, uint256 amountSeed) internal returns (bool) {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _openWithActiveBank);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        uint256 amount = _repayment(financingId, f, amountSeed);
        if (amount == 0) return false;
        vm.prank(f.bank);
        financing.recordRepayment(financingId, amount, "wire");
        _touch(f.invoiceId);
        return true;
    }

    /// @dev A repayment of 1 ..= owed (three times in four at most half of it, so financings also live on to
    /// default); a full one releases the lien, which a frozen invoice refuses: then one unit less.
    function _repayment(uint256 financingId, IReceivableFinancing.Financing memory f, uint256 amountSeed)
        internal
        view
        returns (uint256 amount)
    {
        uint256 owedNow = financing.owed(financingId);
        if (owedNow == 0) return 0;
        amount = bound(amountSeed, 1, amountSeed % 4 == 0 || owedNow == 1 ? owedNow : owedNow / 2);
        if (amount == owedNow && _frozen(address(invoices), f.invoiceId)) amount = owedNow - 1;
    }

    function _markDefault(uint256 seed) internal returns (bool) {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _defaultable);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        vm.prank(f.bank);
        financing.markDefault(financingId);
        _touch(f.invoiceId);
        return true;
    }

    function _claimRecourse(uint256 seed) internal returns (bool) {
        (bool found, uint256 financingId) = _scan(financingIds, seed, _recoverable);
        if (!found) return false;
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        vm.prank(f.bank);
        financing.claimRecourse(financingId);
        _touch(f.invoiceId);
        return true;
    }

    // ═════════════════════════════ Letters of credit ═════════════════════════════

    function _openCredit(uint256 partiesSeed, uint256 amountSeed, uint256 shapeSeed, uint256 marginSeed)
        internal
        returns (bool)
    {
        if (creditIds.length >= MAX_CREDITS) return false;
        ILetterOfCredit.Terms memory t = _terms(partiesSeed, amountSeed, shapeSeed);
        address applicant = corporates[2 + partiesSeed % 2];
        if (t.beneficiary == applicant) return false;
        if (!_active(applicant) || !_active(t.beneficiary) || !_active(t.issuingBank) || !_active(t.advisingBank)) {
            return false;
        }
        uint256 margin = bound(marginSeed, 0, t.amount);
        if (SettlementToken(t.currency).balanceOf(applicant) < margin) return false;
        vm.prank(applicant);
        uint256 lcId = lc.applyForCredit(t);
        vm.prank(t.issuingBank);
        lc.issue(lcId, margin);
        vm.prank(t.advisingBank);
        lc.advise(lcId);
        creditIds.push(lcId);
        creditCurrency[lcId] = t.currency;
        return true;
    }

    /// @dev `shapeSeed` bits: 0..7 tolerance (mod 11), 8 partial drawings, 9 deferred payment, 10..11 currency
    /// (CNY when 0 mod 3), 12 commercial invoice required, 16.. expiry (20 + n mod 60 days), 24.. deferred days.
    function _terms(uint256 partiesSeed, uint256 amountSeed, uint256 shapeSeed)
        internal
        view
        returns (ILetterOfCredit.Terms memory t)
    {
        uint256 bankIndex = (partiesSeed >> 16) % 2;
        uint256 expiryDay = block.timestamp / 1 days + 20 + (shapeSeed >> 16) % 60;
        bool deferred = (shapeSeed >> 9) & 1 == 1;
        // Mostly a seller as beneficiary (the invoices run from sellers), sometimes any corporate.
        t.beneficiary = corporates[(partiesSeed >> 8) % ((partiesSeed >> 12) % 4 == 0 ? 4 : 2)];
        t.issuingBank = banks[bankIndex];
        t.advisingBank = banks[1 - bankIndex];
        t.currency = ((shapeSeed >> 10) & 3) % 3 == 0 ? address(cny) : address(usd);
        t.amount = uint96(bound(amountSeed, 1_000_00, 1_000_000_00));
        t.tolerancePercent = uint8((shapeSeed & 0xff) % 11);
        t.expiryDate = uint40(expiryDay * 1 days);
        t.latestShipmentDate = uint40((expiryDay - 10) * 1 days);
        t.partialShipmentsAllowed = (shapeSeed >> 8) & 1 == 1;
        t.availability =
            deferred ? ILetterOfCredit.Availability.DeferredPayment : ILetterOfCredit.Availability.SightPayment;
        t.deferredPaymentDays = deferred ? uint16(5 + (shapeSeed >> 24) % 26) : 0;
        t.requiredDocuments = (shapeSeed >> 12) & 1 == 1 ? DOCS_INVOICE_AND_TRANSPORT : DOCS_TRANSPORT;
    }

    function _present(uint256 creditSeed, uint256 amountSeed, uint256 shipSeed, bool packingList)
        internal
        returns (bool)
    {
        (bool found, uint256 lcId) = _scan(creditIds, creditSeed, _presentable);
        if (!found) return false;
        uint96 amount = _presentationAmount(lcId, amountSeed, type(uint256).max);
        vm.prank(lc.terms(lcId).beneficiary);
        lc.present(
            lcId,
            _documents(lcId, packingList ? DOCS_TRANSPORT_AND_PACKING : DOCS_TRANSPORT),
            _shipment(shipSeed),
            amount
        );
        return true;
    }

    function _presentWithInvoice(uint256 creditSeed, uint256 invoiceSeed, uint256 amountSeed, uint256 shipSeed)
        internal
        returns (bool)
    {
        uint256 n = creditIds.length;
        for (uint256 k; k < n; ++k) {
            uint256 lcId = creditIds[(creditSeed % n + k) % n];
            if (!_presentable(lcId)) continue;
            _credit = lcId;
            (bool matched, uint256 invoiceId) = _scan(invoiceIds, invoiceSeed, _presentableUnderCredit);
            if (!matched) continue;
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceId);
            uint96 amount = _presentationAmount(lcId, amountSeed, inv.faceAmount - inv.paidAmount);
            vm.prank(inv.seller);
            uint256 pid = lc.presentWithInvoice(
                lcId, _documents(lcId, DOCS_INVOICE_AND_TRANSPORT), _shipment(shipSeed), amount, invoiceId
            );
            _presentationsOf[invoiceId].push(lcId << 128 | pid);
            _touch(invoiceId);
            return true;
        }
        return false;
    }

    /// @dev The bank sometimes first tries to declare a coded discrepancy (the contract's own: refused, M2),
    /// then examines with or without the documentary one.
    function _examine(uint256 seed, uint256 mode) internal returns (bool) {
        (bool found, uint256 lcId, uint256 pid) = _scanPresentations(seed, _examinable);
        if (!found) return false;
        address bank = lc.terms(lcId).issuingBank;
        uint8 documentary = mode % 2 == 0 ? 0 : lc.DISCREPANCY_INCONSISTENT_DATA();
        if (mode % 4 == 1) {
            uint8 coded = uint8(1 << ((mode >> 2) % 6));
            vm.prank(bank);
            try lc.examine(lcId, pid, coded) {
                _forbidden("the bank declared a coded discrepancy");
                _touchPresentation(lcId, pid);
                return true;
            } catch {}
        }
        vm.prank(bank);
        lc.examine(lcId, pid, documentary);
        _touchPresentation(lcId, pid);
        return true;
    }

    function _waive(uint256 seed) internal returns (bool) {
        (bool found, uint256 lcId, uint256 pid) = _scanPresentations(seed, _waivable);
        if (!found) return false;
        vm.prank(lc.applicantOf(lcId));
        lc.waive(lcId, pid);
        _touchPresentation(lcId, pid);
        return true;
    }

    function _refuse(uint256 seed) internal returns (bool) {
        (bool found, uint256 lcId, uint256 pid) = _scanPresentations(seed, _refusable);
        if (!found) return false;
        vm.prank(lc.terms(lcId).issuingBank);
        lc.refuse(lcId, pid);
        _touchPresentation(lcId, pid);
        return true;
    }

    /// @dev The bank honours a Compliant, Waived or Precluded presentation, or the beneficiary claims a
    /// Precluded one.
    function _honour(uint256 seed, bool byBeneficiary) internal returns (bool) {
        (bool found, uint256 lcId, uint256 pid) = _scanPresentations(seed, byBeneficiary ? _claimable : _honourable);
        if (!found) return false;
        ILetterOfCredit.Terms memory t = lc.terms(lcId);
        vm.prank(byBeneficiary ? t.beneficiary : t.issuingBank);
        if (byBeneficiary) lc.claimPreclusion(lcId, pid);
        else lc.honour(lcId, pid);
        _touchPresentation(lcId, pid);
        return true;
    }

    function _payAtMaturity(uint256 seed) internal returns (bool) {
        (bool found, uint256 lcId, uint256 pid) = _scanPresentations(seed, _matured);
        if (!found) return false;
        vm.prank(lc.terms(lcId).beneficiary);
        lc.payAtMaturity(lcId, pid);
        _touchPresentation(lcId, pid);
        return true;
    }

    function _releaseMargin(uint256 seed) internal returns (bool) {
        (bool found, uint256 lcId) = _scan(creditIds, seed, _marginReleasable);
        if (!found) return false;
        vm.prank(lc.applicantOf(lcId));
        lc.releaseMargin(lcId);
        return true;
    }

    // ═════════════════════════════ Payable certificates ═════════════════════════════

    function _offerCertificate(uint256 seed, uint256 amountSeed, uint256 maturitySeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _offerable);
        if (!found) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        vm.prank(inv.buyer);
        certificates.offer(
            id,
            bound(amountSeed, 1, inv.faceAmount - inv.paidAmount),
            uint64(bound(maturitySeed, block.timestamp + 1, inv.dueDate))
        );
        _touch(id);
        return true;
    }

    function _acceptOffer(uint256 seed) internal returns (bool) {
        if (certificateIds.length >= MAX_CERTIFICATES) return false;
        (bool found, uint256 id) = _scan(invoiceIds, seed, _acceptable);
        if (!found) return false;
        vm.prank(invoices.invoice(id).seller);
        uint256 rootId = certificates.acceptOffer(id);
        rootIds.push(rootId);
        certificateIds.push(rootId);
        _certificatesOf[id].push(rootId);
        _touch(id);
        return true;
    }

    function _closeOffer(uint256 seed, bool bySeller) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _offerPending);
        if (!found) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        address caller = bySeller ? inv.seller : inv.buyer;
        if (!_active(caller)) return false;
        vm.prank(caller);
        if (bySeller) certificates.declineOffer(id);
        else certificates.withdrawOffer(id);
        _touch(id);
        return true;
    }

    function _splitCertificate(uint256 seed, uint256 cutSeed, uint256 holderSeed, bool three) internal returns (bool) {
        uint256 count = three ? 3 : 2;
        if (certificateIds.length + count > MAX_CERTIFICATES) return false;
        (bool found, uint256 id) = _scan(certificateIds, seed, _holderMayAct);
        if (!found) return false;
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        if (c.amount < count) return false;
        uint256[] memory amounts = new uint256[](count);
        address[] memory holders = new address[](count);
        uint256 left = c.amount;
        for (uint256 i; i < count; ++i) {
            amounts[i] =
                i == count - 1 ? left : bound(uint256(keccak256(abi.encode(cutSeed, i))), 1, left - (count - 1 - i));
            left -= amounts[i];
            holders[i] = corporates[uint256(keccak256(abi.encode(holderSeed, i))) % 4];
            if (!_active(holders[i])) return false;
        }
        vm.prank(c.holder);
        uint256 first = certificates.split(id, amounts, holders);
        _passProceedsToChildren(id, c.amount, first, amounts);
        for (uint256 i; i < count; ++i) {
            _certificatesOf[c.invoiceId].push(first + i);
        }
        _touch(c.invoiceId);
        return true;
    }

    /// @dev A discounted certificate's proceeds pass to its children pro rata (the last takes the remainder).
    function _passProceedsToChildren(uint256 parentId, uint256 parentAmount, uint256 first, uint256[] memory amounts)
        internal
    {
        uint256 proceeds = discountedProceeds[parentId];
        delete discountedProceeds[parentId];
        uint256 left = proceeds;
        for (uint256 i; i < amounts.length; ++i) {
            certificateIds.push(first + i);
            uint256 share = i == amounts.length - 1 ? left : proceeds * amounts[i] / parentAmount;
            left -= share;
            if (share != 0) discountedProceeds[first + i] = share;
        }
    }

    function _transferCertificate(uint256 seed, uint256 toSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(certificateIds, seed, _holderMayAct);
        if (!found) return false;
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        address to = parties()[toSeed % 6];
        if (to == c.holder || !_active(to)) return false;
        vm.prank(c.holder);
        certificates.transfer(id, to);
        _touch(c.invoiceId);
        return true;
    }

    function _requestDiscount(uint256 seed, uint256 bankSeed, uint256 rateSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(certificateIds, seed, _holderMayAct);
        if (!found) return false;
        address holder = certificates.certificate(id).holder;
        address bank = banks[bankSeed % 2];
        if (bank == holder) bank = banks[1 - bankSeed % 2];
        if (!_active(bank)) return false;
        vm.prank(holder);
        certificates.requestDiscount(id, bank, uint16(bound(rateSeed, 1, 2_000)));
        return true;
    }

    function _acceptDiscount(uint256 seed) internal returns (bool) {
        (bool found, uint256 id) = _scan(certificateIds, seed, _discountable);
        if (!found) return false;
        IPayableCertificates.DiscountRequest memory r = certificates.discountRequest(id);
        vm.prank(r.bank);
        discountedProceeds[id] = certificates.acceptDiscount(id, r.rateBps);
        _touch(certificates.certificate(id).invoiceId);
        return true;
    }

    function _settleCertificate(uint256 seed, bool byHolder) internal returns (bool) {
        (bool found, uint256 id) = _scan(certificateIds, seed, _settleable);
        if (!found) return false;
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        uint256[] memory one = new uint256[](1);
        one[0] = id;
        vm.prank(byHolder ? c.holder : c.issuer);
        certificates.settle(one);
        delete discountedProceeds[id];
        _touch(c.invoiceId);
        return true;
    }

    // ═════════════════════════════ Supervision and time ═════════════════════════════

    /// @dev One call in four: a frozen party stops most flows, so freezes stay the exception.
    function _freezeParticipant(uint256 seed) internal returns (bool) {
        if ((seed >> 8) % 4 != 0) return false;
        address party = parties()[seed % 6];
        if (registry.participant(party).frozen) return false;
        frozenPartySnapshot[party] = partySnapshot(party);
        frozenPartyCertificates[party] = certificatesHeld(party);
        vm.prank(regulator);
        registry.freezeParticipant(party, "AML");
        return true;
    }

    function _unfreezeParticipant(uint256 seed) internal returns (bool) {
        address[6] memory all = parties();
        for (uint256 k; k < 6; ++k) {
            address party = all[(seed % 6 + k) % 6];
            if (!registry.participant(party).frozen) continue;
            vm.prank(regulator);
            registry.unfreezeParticipant(party, "cleared");
            return true;
        }
        return false;
    }

    /// @dev One call in three (see `_freezeParticipant`).
    function _freezeInstrument(uint256 kindSeed, uint256 idSeed) internal returns (bool) {
        if ((kindSeed >> 8) % 3 != 0) return false;
        (address instrument, uint256[] storage pool) = _instrumentPool(kindSeed);
        if (pool.length == 0) return false;
        uint256 id = pool[idSeed % pool.length];
        if (_frozen(instrument, id)) return false;
        _frozenInstruments.push(FrozenInstrument(instrument, id, instrumentSnapshot(instrument, id)));
        vm.prank(regulator);
        registry.freezeInstrument(instrument, id, "AML");
        return true;
    }

    function _unfreezeInstrument(uint256 seed) internal returns (bool) {
        uint256 n = _frozenInstruments.length;
        if (n == 0) return false;
        uint256 i = seed % n;
        FrozenInstrument memory f = _frozenInstruments[i];
        _frozenInstruments[i] = _frozenInstruments[n - 1];
        _frozenInstruments.pop();
        vm.prank(regulator);
        registry.unfreezeInstrument(f.instrument, f.id, "cleared");
        return true;
    }

    function _warp(uint256 secondsSeed) internal returns (bool) {
        return _advance(bound(secondsSeed, 1 hours, 20 days));
    }

    function _jumpToNextDeadline(uint256 secondsSeed) internal returns (bool) {
        uint256 next = _nextDeadline();
        if (next == type(uint256).max) return false;
        return _advance(next - block.timestamp + bound(secondsSeed, 0, 1 hours));
    }

    function _advance(uint256 step) internal returns (bool) {
        if (elapsed + step > MAX_ELAPSED) return false;
        elapsed += step;
        vm.warp(block.timestamp + step);
        return true;
    }

    /// @dev The earliest future time at which something in the pools changes by itself.
    function _nextDeadline() internal view returns (uint256 next) {
        next = type(uint256).max;
        uint256 invoiceGrace = invoices.gracePeriod();
        uint256 certificateGrace = certificates.gracePeriod();
        for (uint256 i; i < invoiceIds.length; ++i) {
            next = _earliest(next, uint256(invoices.invoice(invoiceIds[i]).dueDate) + invoiceGrace + 1);
        }
        for (uint256 i; i < financingIds.length; ++i) {
            IReceivableFinancing.Financing memory f = financing.financing(financingIds[i]);
            if (f.state == IReceivableFinancing.FinancingState.Active) {
                next = _earliest(next, uint256(f.maturity) + invoiceGrace + 1);
            }
        }
        for (uint256 i; i < rootIds.length; ++i) {
            uint256 maturity = certificates.tree(rootIds[i]).maturity;
            next = _earliest(_earliest(next, maturity), maturity + certificateGrace);
        }
        for (uint256 i; i < creditIds.length; ++i) {
            next = _earliest(next, _nextCreditDeadline(creditIds[i]));
        }
    }

    function _nextCreditDeadline(uint256 lcId) internal view returns (uint256 next) {
        next = (uint256(lc.terms(lcId).expiryDate) / 1 days + 1) * 1 days;
        (uint256 total,) = lc.presentationCounts(lcId);
        for (uint256 pid = 1; pid <= total; ++pid) {
            ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
            if (p.state == ILetterOfCredit.PresentationState.Honoured) next = _earliest(next, p.maturityDate);
            else next = _earliest(next, uint256(p.examinationDeadline) + 1);
        }
    }

    /// @dev The earlier of `current` and `candidate`, counting only a `candidate` still in the future.
    function _earliest(uint256 current, uint256 candidate) internal view returns (uint256) {
        return candidate > block.timestamp && candidate < current ? candidate : current;
    }

    // ═════════════════════════════ Attacks ═════════════════════════════

    function _attemptDoubleFinancing(uint256 seed, uint256 kindSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _liened);
        if (!found) return false;
        _touch(id);
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        uint256 kind = kindSeed % 4;
        if (kind == 0) {
            vm.prank(inv.seller);
            try financing.applyForFinancing(id, banks[(kindSeed >> 8) % 2], 1) {
                _forbidden("applied to finance a liened invoice");
            } catch {}
        } else if (kind == 1) {
            _attemptPresentation(id, inv);
        } else if (kind == 2) {
            vm.prank(inv.buyer);
            try certificates.offer(id, 1, inv.dueDate) {
                _forbidden("offered a certificate on a liened invoice");
            } catch {}
        } else {
            (bool ok, uint256 payableDirectly,) = _payableDirectly(id, inv);
            if (!ok || payableDirectly >= inv.faceAmount - inv.paidAmount) return false; // nothing committed
            vm.prank(inv.buyer);
            try invoices.pay(id, payableDirectly + 1) {
                _forbidden("a direct payment ate into what a lien committed");
            } catch {}
        }
        return true;
    }

    function _attemptFinancingAboveUnpaid(uint256 seed, uint256 excessSeed) internal returns (bool) {
        (bool found, uint256 id) = _scan(invoiceIds, seed, _financeableBySeller);
        address bank = banks[excessSeed % 2];
        if (!found || !_active(bank)) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        uint256 above = inv.faceAmount - inv.paidAmount + bound(excessSeed, 1, inv.paidAmount + 1);
        vm.prank(inv.seller);
        try financing.applyForFinancing(id, bank, above) {
            _forbidden("applied to finance more than is unpaid");
        } catch {}
        return true;
    }

    function _attemptOnFrozen(uint256 seed, uint256 kindSeed) internal returns (bool) {
        if (kindSeed % 2 == 0 && _frozenInstruments.length != 0) {
            FrozenInstrument memory f = _frozenInstruments[seed % _frozenInstruments.length];
            _attemptOnFrozenInstrument(f.instrument, f.id);
            return true;
        }
        address[6] memory all = parties();
        for (uint256 k; k < 6; ++k) {
            address party = all[(seed % 6 + k) % 6];
            if (!registry.participant(party).frozen) continue;
            _attemptOnFrozenParty(party, kindSeed >> 1);
            return true;
        }
        return false;
    }

    /// @dev The frozen party sends money itself, or a buyer pays an invoice it is party to, or a certificate
    /// of a tree on such an invoice is settled: whatever succeeds must leave its holdings as they were.
    function _attemptOnFrozenParty(address party, uint256 kind) internal {
        bytes32 before = partySnapshot(party);
        kind %= 3;
        if (kind == 0) {
            vm.prank(party);
            try usd.transfer(banks[0] == party ? banks[1] : banks[0], 1) {} catch {}
        } else {
            for (uint256 i; i < invoiceIds.length; ++i) {
                IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceIds[i]);
                if (inv.seller != party && inv.buyer != party && inv.lienFinancier != party) continue;
                if (kind == 1 && _payableState(inv.state)) {
                    vm.prank(inv.buyer);
                    try invoices.pay(invoiceIds[i], 1) {} catch {}
                    _touch(invoiceIds[i]);
                    break;
                }
                if (kind == 2 && inv.lienInstrument == address(certificates)) {
                    _attemptSettlement(inv.buyer, invoiceIds[i], false);
                    _touch(invoiceIds[i]);
                    break;
                }
            }
        }
        if (partySnapshot(party) != before) _forbidden("a frozen participant's money or invoices moved");
    }

    /// @dev Tries to settle a live certificate of the tree on `invoiceId`; `mustFail` when the tree is frozen.
    function _attemptSettlement(address issuer, uint256 invoiceId, bool mustFail) internal {
        uint256[] storage ids = _certificatesOf[invoiceId];
        for (uint256 j; j < ids.length; ++j) {
            if (!_live(certificates.state(ids[j]))) continue;
            uint256[] memory one = new uint256[](1);
            one[0] = ids[j];
            vm.prank(issuer);
            try certificates.settle(one) {
                if (mustFail) _forbidden("a frozen certificate tree was settled");
                delete discountedProceeds[ids[j]];
            } catch {}
            return;
        }
    }

    /// @dev The transition that would change the frozen instrument: a payment of the invoice, a repayment of
    /// the financing, a refusal or honour of the credit's presentation, a settlement of the tree.
    function _attemptOnFrozenInstrument(address instrument, uint256 id) internal {
        if (instrument == address(invoices)) {
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
            if (inv.faceAmount == inv.paidAmount) return;
            vm.prank(inv.buyer);
            try invoices.pay(id, 1) {
                _forbidden("a frozen invoice was paid");
            } catch {}
        } else if (instrument == address(financing)) {
            IReceivableFinancing.Financing memory f = financing.financing(id);
            vm.prank(f.seller);
            try financing.repay(id, 1) {
                _forbidden("a frozen financing was repaid");
            } catch {}
            uint256 invoiceId = f.invoiceId;
            IInvoiceLiens.InvoiceView memory inv = invoices.invoice(invoiceId);
            if (financing.activeFinancingOf(invoiceId) != id || inv.faceAmount == inv.paidAmount) return;
            vm.prank(inv.buyer);
            try invoices.pay(invoiceId, 1) {
                _forbidden("a buyer payment repaid a frozen financing");
            } catch {}
        } else if (instrument == address(lc)) {
            (uint256 total,) = lc.presentationCounts(id);
            if (total == 0) return;
            vm.prank(lc.terms(id).issuingBank);
            try lc.honour(id, total) {
                _forbidden("a frozen credit honoured a presentation");
            } catch {}
        } else {
            _attemptSettlement(_issuerOfTree(id), certificates.tree(id).invoiceId, true);
        }
    }

    function _issuerOfTree(uint256 rootId) internal view returns (address issuer) {
        return invoices.invoice(certificates.tree(rootId).invoiceId).buyer;
    }

    /// @dev Under a credit of the invoice's parties if there is one, else under any credit.
    function _attemptPresentation(uint256 id, IInvoiceLiens.InvoiceView memory inv) internal {
        uint256 n = creditIds.length;
        if (n == 0) return;
        uint256 lcId = creditIds[0];
        for (uint256 i; i < n; ++i) {
            ILetterOfCredit.Terms memory t = lc.terms(creditIds[i]);
            if (t.beneficiary == inv.seller && t.currency == inv.currency) lcId = creditIds[i];
        }
        vm.prank(inv.seller);
        try lc.presentWithInvoice(lcId, _documents(lcId, DOCS_INVOICE_AND_TRANSPORT), uint40(block.timestamp), 1, id) {
            _forbidden("presented a liened invoice under a credit");
        } catch {}
    }

    // ═════════════════════════════ Eligibility (what each call needs, from the views) ═════════════════════════════

    // Invoices

    function _confirmable(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        return
            inv.state == IInvoiceLiens.InvoiceState.Registered && _active(inv.buyer) && !_frozen(address(invoices), id);
    }

    function _assignable(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        return _unliened(inv.state) && _active(inv.seller) && !_frozen(address(invoices), id);
    }

    /// @dev The buyer can pay something now: a payable state, nothing frozen on the way, every payee active.
    function _payableByBuyer(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        if (!_payableState(inv.state) || _frozen(address(invoices), id)) return false;
        (bool ok, uint256 payableDirectly, uint256 financingId) = _payableDirectly(id, inv);
        if (!ok || payableDirectly == 0 || !_active(inv.buyer) || !_active(inv.seller)) return false;
        if (financingId != 0 && financing.owed(financingId) != 0 && !_active(inv.lienFinancier)) return false;
        return SettlementToken(inv.currency).balanceOf(inv.buyer) >= payableDirectly;
    }

    function _financeableBySeller(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        return _financeable(inv) && _active(inv.seller);
    }

    function _financeableUnderProgramme(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        return inv.buyer == _programmeBuyer && _financeable(inv) && _active(inv.seller);
    }

    function _offerable(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        return inv.state == IInvoiceLiens.InvoiceState.Confirmed && inv.dueDate > block.timestamp && _active(inv.buyer)
            && certificates.offerOf(id).amount == 0;
    }

    function _offerPending(uint256 id) internal view returns (bool) {
        IPayableCertificates.CertificateOffer memory o = certificates.offerOf(id);
        return o.amount != 0 && o.rootId == 0;
    }

    /// @dev The offer's terms still hold (re-checked at acceptance) and the lien can be taken.
    function _acceptable(uint256 id) internal view returns (bool) {
        if (!_offerPending(id)) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        IPayableCertificates.CertificateOffer memory o = certificates.offerOf(id);
        return inv.state == IInvoiceLiens.InvoiceState.Confirmed && o.amount <= inv.faceAmount - inv.paidAmount
            && o.maturity > block.timestamp && _active(inv.seller) && _active(inv.buyer)
            && !_frozen(address(invoices), id);
    }

    /// @dev An invoice the credit `_credit` may be drawn against: the beneficiary's on the applicant, in the
    /// credit's currency, unliened, unfrozen, neither paid nor defaulted; the issuing bank, which takes the
    /// lien, active.
    function _presentableUnderCredit(uint256 id) internal view returns (bool) {
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(id);
        ILetterOfCredit.Terms memory t = lc.terms(_credit);
        return inv.seller == t.beneficiary && inv.buyer == lc.applicantOf(_credit) && inv.currency == t.currency
            && _unliened(inv.state) && !_frozen(address(invoices), id) && _active(t.issuingBank);
    }

    function _liened(uint256 id) internal view returns (bool) {
        return invoices.invoice(id).lienFinancier != address(0);
    }

    // Financings

    /// @dev Everything `approve` checks: the application, the bank, the invoice still financeable by the
    /// applicant, the programme still open with room, the lien takeable.
    function _approvable(uint256 financingId) internal view returns (bool) {
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        if (f.state != IReceivableFinancing.FinancingState.Applied || _frozen(address(financing), financingId)) {
            return false;
        }
        if (!_active(f.bank) || !_active(f.seller)) return false;
        IInvoiceLiens.InvoiceView memory inv = invoices.invoice(f.invoiceId);
        if (inv.seller != f.seller || !_financeable(inv) || _frozen(address(invoices), f.invoiceId)) return false;
        if (SettlementToken(inv.currency).balanceOf(f.bank) == 0) return false;
        uint256 programmeId = financing.programmeOf(financingId);
        if (programmeId == 0) return true;
        IReceivableFinancing.Programme memory p = financing.programme(programmeId);
        return p.state == IReceivableFinancing.ProgrammeState.Open && p.limit > p.used;
    }

    function _appliedUnfrozen(uint256 financingId) internal view returns (bool) {
        return financing.financing(financingId).state == IReceivableFinancing.FinancingState.Applied
            && !_frozen(address(financing), financingId);
    }

    function _repayableBySeller(uint256 financingId) internal view returns (bool) {
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        return _open(f.state) && !_frozen(address(financing), financingId) && _active(f.seller) && _active(f.bank);
    }

    function _openWithActiveBank(uint256 financingId) internal view returns (bool) {
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        return _open(f.state) && !_frozen(address(financing), financingId) && _active(f.bank);
    }

    function _defaultable(uint256 financingId) internal view returns (bool) {
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        if (f.state != IReceivableFinancing.FinancingState.Active || _frozen(address(financing), financingId)) {
            return false;
        }
        bool overdue = invoices.state(f.invoiceId) == IInvoiceLiens.InvoiceState.Defaulted
            || block.timestamp > uint256(f.maturity) + invoices.gracePeriod();
        return overdue && _active(f.bank);
    }

    function _recoverable(uint256 financingId) internal view returns (bool) {
        IReceivableFinancing.Financing memory f = financing.financing(financingId);
        if (f.state != IReceivableFinancing.FinancingState.Defaulted || _frozen(address(financing), financingId)) {
            return false;
        }
        if (!_active(f.bank) || !_active(f.seller) || _frozen(address(invoices), f.invoiceId)) return false;
        return _tokenOf(f.invoiceId).balanceOf(f.seller) >= financing.owed(financingId);
    }

    // Credits and presentations

    /// @dev Advised (every credit here is) or expired, not exhausted, unfrozen, with room for one more
    /// presentation, its beneficiary active.
    function _presentable(uint256 lcId) internal view returns (bool) {
        ILetterOfCredit.CreditState s = lc.state(lcId);
        if (s != ILetterOfCredit.CreditState.Advised && s != ILetterOfCredit.CreditState.Expired) return false;
        (uint256 total,) = lc.presentationCounts(lcId);
        return total < MAX_PRESENTATIONS && !_frozen(address(lc), lcId) && _active(lc.terms(lcId).beneficiary);
    }

    function _marginReleasable(uint256 lcId) internal view returns (bool) {
        ILetterOfCredit.CreditState s = lc.state(lcId);
        if (
            s != ILetterOfCredit.CreditState.Expired && s != ILetterOfCredit.CreditState.Exhausted
                && s != ILetterOfCredit.CreditState.Cancelled
        ) return false;
        (, uint256 open) = lc.presentationCounts(lcId);
        return open == 0 && lc.margin(lcId).held != 0 && !_frozen(address(lc), lcId) && _active(lc.applicantOf(lcId));
    }

    function _examinable(uint256 lcId, uint256 pid) internal view returns (bool) {
        return lc.presentationState(lcId, pid) == ILetterOfCredit.PresentationState.Presented
            && _active(lc.terms(lcId).issuingBank);
    }

    function _waivable(uint256 lcId, uint256 pid) internal view returns (bool) {
        if (lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Discrepant) return false;
        return lc.presentation(lcId, pid).discrepancies & lc.DISCREPANCY_OVER_TOLERANCE() == 0
            && _active(lc.applicantOf(lcId));
    }

    function _refusable(uint256 lcId, uint256 pid) internal view returns (bool) {
        if (lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Discrepant) return false;
        ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
        return _active(lc.terms(lcId).issuingBank) && (!p.hasInvoice || !_frozen(address(invoices), p.invoiceId));
    }

    function _honourable(uint256 lcId, uint256 pid) internal view returns (bool) {
        ILetterOfCredit.PresentationState s = lc.presentationState(lcId, pid);
        if (
            s != ILetterOfCredit.PresentationState.Compliant && s != ILetterOfCredit.PresentationState.Waived
                && s != ILetterOfCredit.PresentationState.Precluded
        ) return false;
        ILetterOfCredit.Terms memory t = lc.terms(lcId);
        return _active(t.issuingBank) && _honourFeasible(lcId, pid, t);
    }

    function _claimable(uint256 lcId, uint256 pid) internal view returns (bool) {
        if (lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Precluded) return false;
        ILetterOfCredit.Terms memory t = lc.terms(lcId);
        return _active(t.beneficiary) && _honourFeasible(lcId, pid, t);
    }

    function _matured(uint256 lcId, uint256 pid) internal view returns (bool) {
        if (lc.presentationState(lcId, pid) != ILetterOfCredit.PresentationState.Honoured) return false;
        ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
        return block.timestamp >= p.maturityDate && _paysOut(lc.terms(lcId), p);
    }

    /// @dev Whatever honour moves: the sight payment (bank to beneficiary, then the invoice's record and
    /// lien) and the margin share (the credit's escrow to the bank).
    function _honourFeasible(uint256 lcId, uint256 pid, ILetterOfCredit.Terms memory t) internal view returns (bool) {
        ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
        if (t.availability == ILetterOfCredit.Availability.SightPayment && !_paysOut(t, p)) return false;
        return _marginShare(lcId, t, p.amount) == 0 || _active(t.issuingBank);
    }

    function _paysOut(ILetterOfCredit.Terms memory t, ILetterOfCredit.PresentationView memory p)
        internal
        view
        returns (bool)
    {
        if (!_active(t.issuingBank) || !_active(t.beneficiary)) return false;
        if (SettlementToken(t.currency).balanceOf(t.issuingBank) < p.amount) return false;
        return !p.hasInvoice || !_frozen(address(invoices), p.invoiceId);
    }

    /// @dev The margin share honouring `amount` more would apply (as `LetterOfCredit._applyMargin`).
    function _marginShare(uint256 lcId, ILetterOfCredit.Terms memory t, uint256 amount)
        internal
        view
        returns (uint256)
    {
        ILetterOfCredit.Margin memory m = lc.margin(lcId);
        if (m.held == 0) return 0;
        uint256 drawn = lc.drawings(lcId).drawn + amount;
        uint256 target = drawn >= t.amount ? m.escrowed : m.escrowed * drawn / t.amount;
        if (target <= m.applied) return 0;
        return _min(target - m.applied, m.held);
    }

    // Certificates

    /// @dev Active (before maturity), its tree unfrozen, its holder active.
    function _holderMayAct(uint256 id) internal view returns (bool) {
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        return c.state == IPayableCertificates.CertificateState.Active && !_frozen(address(certificates), c.rootId)
            && _active(c.holder);
    }

    function _discountable(uint256 id) internal view returns (bool) {
        IPayableCertificates.DiscountRequest memory r = certificates.discountRequest(id);
        if (r.bank == address(0) || !_holderMayAct(id) || !_active(r.bank)) return false;
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        try certificates.discountProceeds(c.amount, c.maturity, r.rateBps) returns (uint256 proceeds, uint256) {
            return SettlementToken(c.currency).balanceOf(r.bank) >= proceeds;
        } catch {
            return false; // the discount would take the whole amount
        }
    }

    /// @dev Due or defaulted, its tree unfrozen, the core enterprise and the holder active and the core
    /// enterprise able to pay; the last piece of a tree also records on the invoice, which must be unfrozen.
    function _settleable(uint256 id) internal view returns (bool) {
        IPayableCertificates.CertificateView memory c = certificates.certificate(id);
        if (
            c.state != IPayableCertificates.CertificateState.Due
                && c.state != IPayableCertificates.CertificateState.Defaulted
        ) {
            return false;
        }
        if (_frozen(address(certificates), c.rootId) || !_active(c.issuer) || !_active(c.holder)) return false;
        if (SettlementToken(c.currency).balanceOf(c.issuer) < c.amount) return false;
        bool treePaid =
            certificates.tree(c.rootId).settledAmount + c.amount == certificates.certificate(c.rootId).amount;
        return !treePaid || !_frozen(address(invoices), c.invoiceId);
    }

    // ═════════════════════════════ Ghost accounting ═════════════════════════════

    function _financingExposure(uint256 invoiceId) internal view returns (uint256 advanced, uint256 committed) {
        uint256[] storage ids = _financingsOf[invoiceId];
        for (uint256 j; j < ids.length; ++j) {
            IReceivableFinancing.Financing memory f = financing.financing(ids[j]);
            if (!_open(f.state)) continue;
            uint256 principal = f.repaidAmount >= f.amount ? 0 : f.amount - f.repaidAmount;
            advanced += principal;
            committed += principal;
        }
    }

    function _creditExposure(uint256 invoiceId) internal view returns (uint256 advanced, uint256 committed) {
        uint256[] storage keys = _presentationsOf[invoiceId];
        for (uint256 j; j < keys.length; ++j) {
            (uint256 lcId, uint256 pid) = (keys[j] >> 128, uint128(keys[j]));
            ILetterOfCredit.PresentationState state = lc.presentationState(lcId, pid);
            if (state == ILetterOfCredit.PresentationState.Refused || state == ILetterOfCredit.PresentationState.Paid) {
                continue;
            }
            uint256 amount = lc.presentation(lcId, pid).amount;
            if (state == ILetterOfCredit.PresentationState.Honoured) advanced += amount;
            committed += amount;
        }
    }

    function _certificateExposure(uint256 invoiceId) internal view returns (uint256 advanced, uint256 committed) {
        uint256[] storage ids = _certificatesOf[invoiceId];
        for (uint256 j; j < ids.length; ++j) {
            uint256 proceeds = discountedProceeds[ids[j]];
            if (proceeds != 0 && _live(certificates.state(ids[j]))) advanced += proceeds;
        }
        uint256 rootId = certificates.rootOfInvoice(invoiceId);
        if (rootId != 0) committed += certificates.certificate(rootId).amount;
    }

    function _creditSnapshot(uint256 lcId) internal view returns (bytes32 h) {
        ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
        ILetterOfCredit.Margin memory m = lc.margin(lcId);
        (uint256 total, uint256 open) = lc.presentationCounts(lcId);
        h = keccak256(abi.encode(d.drawn, d.reserved, m.held, m.applied, m.released, total, open));
        for (uint256 pid = 1; pid <= total; ++pid) {
            h = keccak256(abi.encode(h, lc.presentationState(lcId, pid)));
        }
    }

    function _treeSnapshot(uint256 rootId) internal view returns (bytes32 h) {
        IPayableCertificates.Tree memory t = certificates.tree(rootId);
        h = keccak256(abi.encode(t.settledAmount));
        uint256[] storage ids = _certificatesOf[t.invoiceId];
        for (uint256 j; j < ids.length; ++j) {
            IPayableCertificates.CertificateView memory c = certificates.certificate(ids[j]);
            if (c.rootId != rootId) continue;
            bool split = c.state == IPayableCertificates.CertificateState.Split;
            h = keccak256(abi.encode(h, c.certificateId, c.holder, c.amount, _live(c.state), split));
        }
    }

    function _paymentViolation(string memory reason) internal {
        ++paymentViolations;
        lastPaymentViolation = reason;
    }

    function _forbidden(string memory reason) internal {
        ++forbiddenSuccesses;
        lastForbiddenSuccess = reason;
    }

    function _count(Action action, bool made) internal {
        ++_calls[uint256(action)];
        if (!made) ++_skips[uint256(action)];
        ++_callNumber;
    }

    function _touchPresentation(uint256 lcId, uint256 pid) internal {
        ILetterOfCredit.PresentationView memory p = lc.presentation(lcId, pid);
        if (p.hasInvoice) _touch(p.invoiceId);
    }

    function _recordFinancing(uint256 invoiceId, uint256 financingId) internal {
        financingIds.push(financingId);
        _financingsOf[invoiceId].push(financingId);
        _touch(invoiceId);
    }

    function _touch(uint256 invoiceId) internal {
        if (_touchedAt != _callNumber) {
            delete _touched;
            _touchedAt = _callNumber;
        }
        _touched.push(invoiceId);
    }

    // ═════════════════════════════ Picking ═════════════════════════════

    /// @dev The first id of `pool`, from position `seed` on (wrapping), that is `eligible`.
    function _scan(uint256[] storage pool, uint256 seed, function(uint256) internal view returns (bool) eligible)
        internal
        view
        returns (bool, uint256)
    {
        uint256 n = pool.length;
        if (n == 0) return (false, 0);
        uint256 start = seed % n;
        for (uint256 k; k < n; ++k) {
            uint256 id = pool[(start + k) % n];
            if (eligible(id)) return (true, id);
        }
        return (false, 0);
    }

    /// @dev The first presentation (of an unfrozen credit), from a position `seed` picks, that is `eligible`.
    function _scanPresentations(uint256 seed, function(uint256, uint256) internal view returns (bool) eligible)
        internal
        view
        returns (bool, uint256, uint256)
    {
        uint256 n = creditIds.length;
        if (n == 0) return (false, 0, 0);
        uint256 first = seed % n;
        for (uint256 k; k < n; ++k) {
            uint256 lcId = creditIds[(first + k) % n];
            if (_frozen(address(lc), lcId)) continue;
            (uint256 total,) = lc.presentationCounts(lcId);
            if (total == 0) continue;
            uint256 start = (seed >> 8) % total;
            for (uint256 j; j < total; ++j) {
                uint256 pid = 1 + (start + j) % total;
                if (eligible(lcId, pid)) return (true, lcId, pid);
            }
        }
        return (false, 0, 0);
    }

    function _instrumentPool(uint256 kindSeed) internal view returns (address, uint256[] storage) {
        uint256 kind = kindSeed % 4;
        if (kind == 0) return (address(invoices), invoiceIds);
        if (kind == 1) return (address(financing), financingIds);
        if (kind == 2) return (address(lc), creditIds);
        return (address(certificates), rootIds);
    }

    // ═════════════════════════════ Small helpers ═════════════════════════════

    /// @dev Mostly within what the credit still has available, every fifth time up to 20% beyond its ceiling
    /// (an over-tolerance presentation); never above `cap`.
    function _presentationAmount(uint256 lcId, uint256 seed, uint256 cap) internal view returns (uint96) {
        ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
        uint256 upper = seed % 5 == 0 ? d.ceiling + d.ceiling / 5 + 1 : (d.available == 0 ? 1 : d.available);
        return uint96(bound(seed, 1, _min(upper, cap)));
    }

    function _shipment(uint256 seed) internal view returns (uint40) {
        return uint40(block.timestamp - bound(seed, 0, 25 days));
    }

    function _documents(uint256 lcId, uint8 docs) internal pure returns (ILetterOfCredit.Document[] memory list) {
        uint256 n;
        for (uint8 i; i < 6; ++i) {
            if (docs & (1 << i) != 0) ++n;
        }
        list = new ILetterOfCredit.Document[](n);
        n = 0;
        for (uint8 i; i < 6; ++i) {
            if (docs & (1 << i) != 0) {
                list[n++] = ILetterOfCredit.Document(ILetterOfCredit.DocumentType(i), keccak256(abi.encode(lcId, i)));
            }
        }
    }

    function _active(address account) internal view returns (bool) {
        return registry.isActive(account);
    }

    function _frozen(address instrument, uint256 id) internal view returns (bool) {
        return registry.isInstrumentFrozen(instrument, id);
    }

    function _tokenOf(uint256 invoiceId) internal view returns (SettlementToken) {
        return SettlementToken(invoices.invoice(invoiceId).currency);
    }

    function _balanceOf(SettlementToken token, address account) internal view returns (uint256) {
        return account == address(0) ? 0 : token.balanceOf(account);
    }

    /// @dev Confirmed, without a lien, neither paid nor defaulted.
    function _financeable(IInvoiceLiens.InvoiceView memory inv) internal pure returns (bool) {
        return inv.lienFinancier == address(0) && inv.state == IInvoiceLiens.InvoiceState.Confirmed;
    }

    function _unliened(IInvoiceLiens.InvoiceState s) internal pure returns (bool) {
        return s == IInvoiceLiens.InvoiceState.Registered || s == IInvoiceLiens.InvoiceState.Confirmed;
    }

    function _payableState(IInvoiceLiens.InvoiceState s) internal pure returns (bool) {
        return s == IInvoiceLiens.InvoiceState.Registered || s == IInvoiceLiens.InvoiceState.Confirmed
            || s == IInvoiceLiens.InvoiceState.Financed || s == IInvoiceLiens.InvoiceState.Defaulted;
    }

    function _open(IReceivableFinancing.FinancingState s) internal pure returns (bool) {
        return s == IReceivableFinancing.FinancingState.Active || s == IReceivableFinancing.FinancingState.Defaulted;
    }

    function _live(IPayableCertificates.CertificateState s) internal pure returns (bool) {
        return s == IPayableCertificates.CertificateState.Active || s == IPayableCertificates.CertificateState.Due
            || s == IPayableCertificates.CertificateState.Defaulted;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _actionNames() internal pure returns (string[ACTION_COUNT] memory) {
        return [
            string("registerInvoice"),
            "confirmInvoice",
            "assignInvoice",
            "payInvoice",
            "applyForFinancing",
            "openProgramme",
            "acceptOrCloseProgramme",
            "applyUnderProgramme",
            "approveFinancing",
            "rejectOrWithdrawFinancing",
            "repayFinancing",
            "recordRepayment",
            "markDefault",
            "claimRecourse",
            "openCredit",
            "present",
            "presentWithInvoice",
            "examine",
            "waive",
            "refuse",
            "honour",
            "claimPreclusion",
            "payAtMaturity",
            "releaseMargin",
            "offerCertificate",
            "acceptOffer",
            "closeOffer",
            "splitCertificate",
            "transferCertificate",
            "requestDiscount",
            "acceptDiscount",
            "settleCertificate",
            "freezeParticipant",
            "unfreezeParticipant",
            "freezeInstrument",
            "unfreezeInstrument",
            "warp",
            "jumpToNextDeadline",
            "attemptDoubleFinancing",
            "attemptFinancingAboveUnpaid",
            "attemptOnFrozen"
        ];
    }
}
