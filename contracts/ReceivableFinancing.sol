// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {IInvoiceLiens} from "./interfaces/IInvoiceLiens.sol";
import {IInvoicePaymentHook} from "./interfaces/IInvoicePaymentHook.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableFinancing} from "./interfaces/IReceivableFinancing.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ReceivableFinancing
/// @notice See `IReceivableFinancing`. Surprises, stated up front:
/// - interest accrues on the full advance until the financing closes, past maturity too, rounded down;
/// - a buyer payment closes the financing inside the invoice registry's `pay` (through the payment hook),
///   and the registry releases the lien itself; every other closing path calls `releaseLien` here;
/// - money never rests in this contract: advances and repayments move between participants directly;
/// - the debt is capped at `2**48 - 1` minor units (see the interface), so `repaidAmount` always fits.
contract ReceivableFinancing is IReceivableFinancing, ERC2771Context, ERC165 {
    uint256 private constant BPS = 10_000;
    uint256 private constant YEAR = 365 days;
    bytes4 private constant PURPOSE_LOAN = "LOAN";
    bytes4 private constant PURPOSE_LOAN_REPAYMENT = "LOAR";

    IParticipantRegistry private immutable _registry;
    IInvoiceRegistry private immutable _invoices;

    // One slot: financingCount (8) + programmeCount (4).
    uint64 private _financingCount;
    uint32 private _programmeCount;

    mapping(uint256 financingId => Financing) private _financings;
    mapping(uint256 invoiceId => uint256 financingId) private _activeFinancingOf;
    mapping(uint256 financingId => uint256 programmeId) private _programmeOf;
    mapping(uint256 programmeId => Programme) private _programmes;
    mapping(address bank => bool) private _customsMatchRequired;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry.
    /// @param invoices_ The invoice registry whose liens this contract takes (the operator registers this
    /// contract there as an instrument).
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(IParticipantRegistry registry_, IInvoiceRegistry invoices_, address trustedForwarder)
        ERC2771Context(trustedForwarder)
    {
        _registry = registry_;
        _invoices = invoices_;
    }

    // ───────────────────────────── Programmes (reverse factoring) ─────────────────────────────

    /// @inheritdoc IReceivableFinancing
    function proposeProgramme(address bank, uint16 rateBps, uint256 limit) external returns (uint256 programmeId) {
        address buyer = _msgSender();
        _registry.requireAuthorized(buyer, Roles.CORPORATE);
        _registry.requireAuthorized(bank, Roles.BANK);
        _checkRate(rateBps);
        _checkAmount(limit);

        programmeId = ++_programmeCount;
        _programmes[programmeId] = Programme({
            buyer: buyer,
            rateBps: rateBps,
            state: ProgrammeState.Proposed,
            used: 0,
            bank: bank,
            limit: uint48(limit)
        });
        emit ProgrammeProposed(programmeId, buyer, bank, rateBps, limit);
    }

    /// @inheritdoc IReceivableFinancing
    function acceptProgramme(uint256 programmeId) external {
        Programme storage p = _existingProgramme(programmeId);
        address bank = _msgSender();
        if (bank != p.bank) revert ReceivableFinancingNotProgrammeParty(programmeId, bank);
        _registry.requireAuthorized(bank, Roles.BANK);
        _requireProgrammeState(programmeId, p.state, _bit(ProgrammeState.Proposed));

        p.state = ProgrammeState.Open;
        emit ProgrammeOpened(programmeId, bank);
    }

    /// @inheritdoc IReceivableFinancing
    function closeProgramme(uint256 programmeId) external {
        Programme storage p = _existingProgramme(programmeId);
        address caller = _msgSender();
        if (caller != p.bank && caller != p.buyer) revert ReceivableFinancingNotProgrammeParty(programmeId, caller);
        _registry.requireActive(caller);
        _requireProgrammeState(
            programmeId, p.state, _bit(ProgrammeState.Proposed) | _bit(ProgrammeState.Open)
        );

        p.state = ProgrammeState.Closed;
        emit ProgrammeClosed(programmeId, caller);
    }

    // ───────────────────────────── Application ─────────────────────────────

    /// @inheritdoc IReceivableFinancing
    function applyForFinancing(uint256 invoiceId, address bank, uint256 requestedAmount)
        external
        returns (uint256 financingId)
    {
        _registry.requireAuthorized(_msgSender(), Roles.CORPORATE);
        _registry.requireAuthorized(bank, Roles.BANK);
        financingId = _apply(invoiceId, _invoices.invoice(invoiceId), bank, requestedAmount, 0, 0);
    }

    /// @inheritdoc IReceivableFinancing
    function applyUnderProgramme(uint256 invoiceId, uint256 programmeId, uint256 requestedAmount)
        external
        returns (uint256 financingId)
    {
        _registry.requireAuthorized(_msgSender(), Roles.CORPORATE);
        Programme memory p = _existingProgramme(programmeId);
        _requireProgrammeState(programmeId, p.state, _bit(ProgrammeState.Open));
        _registry.requireAuthorized(p.bank, Roles.BANK);
        IInvoiceLiens.InvoiceView memory inv = _invoices.invoice(invoiceId);
        if (inv.buyer != p.buyer) revert ReceivableFinancingNotProgrammeBuyer(programmeId, inv.buyer);
        financingId = _apply(invoiceId, inv, p.bank, requestedAmount, programmeId, p.rateBps);
    }

    /// @inheritdoc IReceivableFinancing
    function withdraw(uint256 financingId) external {
        Financing storage f = _existingFinancing(financingId);
        address seller = _msgSender();
        if (seller != f.seller) revert ReceivableFinancingNotSeller(f.invoiceId, seller);
        _registry.requireAuthorized(seller, Roles.CORPORATE);
        _requireNotFrozen(financingId);
        _requireState(financingId, f.state, _bit(FinancingState.Applied));

        f.state = FinancingState.Withdrawn;
        emit FinancingWithdrawn(financingId, seller);
    }

    // ───────────────────────────── Decision ─────────────────────────────

    /// @inheritdoc IReceivableFinancing
    function approve(uint256 financingId, uint256 advanceAmount, uint16 rateBps, uint64 maturity, bytes32 termsHash)
        external
    {
        Financing memory f = _existingFinancing(financingId);
        _checkBankAction(financingId, f, _bit(FinancingState.Applied));
        if (advanceAmount == 0 || advanceAmount > f.amount) {
            revert ReceivableFinancingInvalidAdvance(advanceAmount, f.amount);
        }
        _checkRate(rateBps);
        if (maturity <= block.timestamp || maturity > type(uint32).max) {
            revert ReceivableFinancingInvalidMaturity(maturity, block.timestamp);
        }
        uint256 programmeId = f.underProgramme ? _programmeOf[financingId] : 0;
        if (programmeId != 0) _checkProgrammeTerms(programmeId, rateBps, advanceAmount);
        IInvoiceLiens.InvoiceView memory inv = _checkFinanceable(f.invoiceId, f.seller, f.bank, advanceAmount);

        f.state = FinancingState.Active;
        f.disbursedAt = uint32(block.timestamp);
        f.amount = uint48(advanceAmount); // <= requested <= face < 2**48
        f.rateBps = rateBps;
        f.maturity = uint32(maturity);
        _financings[financingId] = f;
        _activeFinancingOf[f.invoiceId] = financingId;
        if (programmeId != 0) _programmes[programmeId].used += uint48(advanceAmount); // <= limit < 2**48
        emit FinancingApproved(financingId, f.bank, f.seller, advanceAmount, rateBps, uint32(maturity), termsHash);

        _invoices.takeLien(f.invoiceId, f.seller, f.bank);
        // slither-disable-next-line unused-return: a settlement token returns true or reverts
        ISettlementToken(inv.currency).transferFromWithPurpose(
            f.bank, f.seller, advanceAmount, PURPOSE_LOAN, bytes32(financingId)
        );
    }

    /// @inheritdoc IReceivableFinancing
    function reject(uint256 financingId, bytes32 reasonCode) external {
        Financing storage f = _existingFinancing(financingId);
        _checkBankAction(financingId, f, _bit(FinancingState.Applied));

        f.state = FinancingState.Rejected;
        emit FinancingRejected(financingId, f.bank, reasonCode);
    }

    /// @inheritdoc IReceivableFinancing
    function setCustomsMatchRequired(bool required) external {
        address bank = _msgSender();
        _registry.requireAuthorized(bank, Roles.BANK);
        _customsMatchRequired[bank] = required;
        emit CustomsPolicySet(bank, required);
    }

    // ───────────────────────────── Repayment ─────────────────────────────

    /// @inheritdoc IInvoicePaymentHook
    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256)
        external
        returns (uint256 toFinancier, bool releaseLien)
    {
        if (msg.sender != address(_invoices)) revert ReceivableFinancingNotInvoiceRegistry(msg.sender);
        uint256 financingId = _activeFinancingOf[invoiceId];
        if (financingId == 0) return (0, false);
        // A frozen financing is neither repaid nor closed by the buyer's payment (audit L1): the whole
        // payment waits until the regulator unfreezes it.
        _requireNotFrozen(financingId);
        uint256 owedNow = _owedNow(_financings[financingId]);
        toFinancier = amount < owedNow ? amount : owedNow;
        releaseLien = _recordRepayment(financingId, invoiceId, toFinancier, owedNow, msg.sender, bytes32(invoiceId));
        // The registry moves the money and releases the lien when `releaseLien` is true.
    }

    /// @inheritdoc IReceivableFinancing
    function repay(uint256 financingId, uint256 amount) external {
        Financing storage f = _existingFinancing(financingId);
        address payer = _msgSender();
        _registry.requireActive(payer);
        _requireNotFrozen(financingId);
        _requireState(financingId, f.state, _bit(FinancingState.Active) | _bit(FinancingState.Defaulted));
        uint256 invoiceId = f.invoiceId;
        address bank = f.bank;

        bool closed = _recordRepayment(financingId, invoiceId, amount, _owedNow(f), payer, bytes32(0));

        _collect(invoiceId, payer, bank, amount, financingId);
        if (closed) _invoices.releaseLien(invoiceId);
    }

    /// @inheritdoc IReceivableFinancing
    function recordRepayment(uint256 financingId, uint256 amount, bytes32 paymentReference) external {
        Financing storage f = _existingFinancing(financingId);
        _checkBankAction(financingId, f, _bit(FinancingState.Active) | _bit(FinancingState.Defaulted));

        uint256 invoiceId = f.invoiceId;

        bool closed = _recordRepayment(financingId, invoiceId, amount, _owedNow(f), f.bank, paymentReference);

        if (closed) _invoices.releaseLien(invoiceId);
    }

    // ───────────────────────────── Default and recourse ─────────────────────────────

    /// @inheritdoc IReceivableFinancing
    function markDefault(uint256 financingId) external {
        Financing storage f = _existingFinancing(financingId);
        _checkBankAction(financingId, f, _bit(FinancingState.Active));
        if (_invoices.state(f.invoiceId) != IInvoiceLiens.InvoiceState.Defaulted) {
            uint256 defaultsAt = uint256(f.maturity) + _invoices.gracePeriod();
            if (block.timestamp <= defaultsAt) revert ReceivableFinancingNotOverdue(financingId, defaultsAt);
        }

        f.state = FinancingState.Defaulted;
        emit FinancingDefaulted(financingId, f.bank, _owedNow(f));
    }

    /// @inheritdoc IReceivableFinancing
    function claimRecourse(uint256 financingId) external {
        Financing storage f = _existingFinancing(financingId);
        _checkBankAction(financingId, f, _bit(FinancingState.Defaulted));
        uint256 invoiceId = f.invoiceId;
        address seller = f.seller;
        uint256 owedNow = _owedNow(f);

        _recordRepayment(financingId, invoiceId, owedNow, owedNow, seller, bytes32(0));
        emit RecourseClaimed(financingId, seller, owedNow);

        _collect(invoiceId, seller, f.bank, owedNow, financingId);
        _invoices.releaseLien(invoiceId);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IReceivableFinancing
    function financing(uint256 financingId) external view returns (Financing memory) {
        return _financings[financingId];
    }

    /// @inheritdoc IReceivableFinancing
    function owed(uint256 financingId) external view returns (uint256) {
        return _owedNow(_financings[financingId]);
    }

    /// @inheritdoc IReceivableFinancing
    function owedAt(uint256 financingId, uint256 timestamp) external view returns (uint256) {
        return _owedAt(_financings[financingId], timestamp < block.timestamp ? block.timestamp : timestamp);
    }

    /// @inheritdoc IReceivableFinancing
    function interest(uint256 advance, uint256 rateBps, uint256 elapsed) public pure returns (uint256) {
        return advance * rateBps * elapsed / (BPS * YEAR);
    }

    /// @inheritdoc IReceivableFinancing
    function activeFinancingOf(uint256 invoiceId) external view returns (uint256) {
        return _activeFinancingOf[invoiceId];
    }

    /// @inheritdoc IReceivableFinancing
    function programmeOf(uint256 financingId) external view returns (uint256) {
        return _programmeOf[financingId];
    }

    /// @inheritdoc IReceivableFinancing
    function programme(uint256 programmeId) external view returns (Programme memory) {
        return _programmes[programmeId];
    }

    /// @inheritdoc IReceivableFinancing
    function customsMatchRequired(address bank) external view returns (bool) {
        return _customsMatchRequired[bank];
    }

    /// @inheritdoc IReceivableFinancing
    function financingCount() external view returns (uint256) {
        return _financingCount;
    }

    /// @inheritdoc IReceivableFinancing
    function invoiceRegistry() external view returns (address) {
        return address(_invoices);
    }

    /// @notice ERC-165: this contract implements the invoice payment hook (the registry checks it).
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IInvoicePaymentHook).interfaceId
            || interfaceId == type(IReceivableFinancing).interfaceId || super.supportsInterface(interfaceId);
    }

    // ───────────────────────────── Internals ─────────────────────────────

    function _apply(
        uint256 invoiceId,
        IInvoiceLiens.InvoiceView memory inv,
        address bank,
        uint256 requestedAmount,
        uint256 programmeId,
        uint16 rateBps
    ) private returns (uint256 financingId) {
        address seller = _msgSender();
        if (inv.seller != seller) revert ReceivableFinancingNotSeller(invoiceId, seller);
        _requireFinanceableState(invoiceId, inv);
        if (requestedAmount == 0) revert ReceivableFinancingInvalidAmount(requestedAmount);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        if (requestedAmount > outstanding) {
            revert ReceivableFinancingAboveOutstanding(invoiceId, requestedAmount, outstanding);
        }

        financingId = ++_financingCount;
        _financings[financingId] = Financing({
            invoiceId: invoiceId,
            seller: seller,
            state: FinancingState.Applied,
            disbursedAt: 0,
            repaidAmount: 0,
            underProgramme: programmeId != 0,
            bank: bank,
            amount: uint48(requestedAmount), // <= outstanding <= face < 2**48
            rateBps: rateBps,
            maturity: 0
        });
        if (programmeId != 0) _programmeOf[financingId] = programmeId;
        emit FinancingApplied(financingId, invoiceId, seller, bank, requestedAmount, programmeId);
    }

    /// @dev The invoice must still be the applicant's, unliened, `Confirmed` (so unpaid, not defaulted), with at
    /// least `advance` unpaid (audit L2), and match the bank's customs policy (the latest declaration).
    function _checkFinanceable(uint256 invoiceId, address seller, address bank, uint256 advance)
        private
        view
        returns (IInvoiceLiens.InvoiceView memory inv)
    {
        inv = _invoices.invoice(invoiceId);
        if (inv.seller != seller) revert ReceivableFinancingNotSeller(invoiceId, seller);
        _requireFinanceableState(invoiceId, inv);
        uint256 outstanding = inv.faceAmount - inv.paidAmount;
        if (advance > outstanding) revert ReceivableFinancingAboveOutstanding(invoiceId, advance, outstanding);
        if (_customsMatchRequired[bank]) {
            // Only the match decides here (an attested mismatch and no attestation are both refused).
            // slither-disable-next-line unused-return
            (, bool matched) = _invoices.customsOf(invoiceId);
            if (!matched) revert ReceivableFinancingCustomsMatchRequired(invoiceId);
        }
    }

    /// @dev A liened invoice is named as such (a second bank learns where the lien is), any other state as
    /// itself.
    function _requireFinanceableState(uint256 invoiceId, IInvoiceLiens.InvoiceView memory inv) private pure {
        if (inv.lienFinancier != address(0)) {
            revert ReceivableFinancingInvoiceLiened(invoiceId, inv.lienInstrument, inv.lienFinancier);
        }
        if (inv.state != IInvoiceLiens.InvoiceState.Confirmed) {
            revert ReceivableFinancingInvoiceNotConfirmed(invoiceId, inv.state);
        }
    }

    /// @dev The programme must still be `Open` (audit L6: a closed programme approves nothing), at its rate,
    /// within its limit.
    function _checkProgrammeTerms(uint256 programmeId, uint16 rateBps, uint256 advanceAmount) private view {
        Programme memory p = _programmes[programmeId];
        _requireProgrammeState(programmeId, p.state, _bit(ProgrammeState.Open));
        if (rateBps != p.rateBps) revert ReceivableFinancingProgrammeRateMismatch(programmeId, p.rateBps, rateBps);
        if (uint256(p.used) + advanceAmount > p.limit) {
            revert ReceivableFinancingProgrammeLimitExceeded(programmeId, p.used, advanceAmount, p.limit);
        }
    }

    /// @dev Books `amount` repaid out of `owedNow`; closes the financing when that repays it in full.
    /// Effects and events only: the caller moves the money and releases the lien.
    function _recordRepayment(
        uint256 financingId,
        uint256 invoiceId,
        uint256 amount,
        uint256 owedNow,
        address payer,
        bytes32 paymentReference
    ) private returns (bool closed) {
        // slither-disable-next-line incorrect-equality: an input check on an amount, not a balance
        if (amount == 0) revert ReceivableFinancingInvalidAmount(amount);
        if (amount > owedNow) revert ReceivableFinancingOverpayment(financingId, amount, owedNow);
        Financing storage f = _financings[financingId];
        // The debt is capped at 2**48 - 1 (`_owedAt`), so what is repaid never exceeds it.
        uint48 repaid = uint48(uint256(f.repaidAmount) + amount);
        // Overpayment was refused above, so exactly what is owed closes the financing; `owedNow` is computed
        // from the financing's own books, not from a token balance anyone can move.
        // slither-disable-next-line incorrect-equality
        closed = amount == owedNow;
        f.repaidAmount = repaid;
        if (closed) {
            f.state = FinancingState.Closed;
            delete _activeFinancingOf[invoiceId];
            if (f.underProgramme) _programmes[_programmeOf[financingId]].used -= f.amount;
        }
        emit FinancingRepaid(financingId, payer, amount, owedNow - amount, paymentReference);
        if (closed) emit FinancingClosed(financingId, invoiceId, repaid);
    }

    /// @dev Moves `amount` of the invoice's currency from `payer` to `bank` as a loan repayment.
    function _collect(uint256 invoiceId, address payer, address bank, uint256 amount, uint256 financingId) private {
        // slither-disable-next-line unused-return: a settlement token returns true or reverts
        ISettlementToken(_invoices.invoice(invoiceId).currency).transferFromWithPurpose(
            payer, bank, amount, PURPOSE_LOAN_REPAYMENT, bytes32(financingId)
        );
    }

    function _owedNow(Financing storage f) private view returns (uint256) {
        return _owedAt(f, block.timestamp);
    }

    /// @dev Reads slots 1 and 2 of the financing only (not the invoice id). The debt (advance plus interest)
    /// is capped at `2**48 - 1`, the width of `repaidAmount`.
    function _owedAt(Financing storage f, uint256 time) private view returns (uint256) {
        FinancingState current = f.state;
        if (current != FinancingState.Active && current != FinancingState.Defaulted) return 0;
        uint256 advance = f.amount;
        uint256 debt = advance + interest(advance, f.rateBps, time - f.disbursedAt);
        if (debt > type(uint48).max) debt = type(uint48).max;
        return debt - f.repaidAmount;
    }

    /// @dev The caller is the financing's bank, authorized; the financing is unfrozen and in an expected state.
    function _checkBankAction(uint256 financingId, Financing memory f, bytes32 expectedStates) private view {
        address bank = _msgSender();
        if (bank != f.bank) revert ReceivableFinancingNotBank(financingId, bank);
        _registry.requireAuthorized(bank, Roles.BANK);
        _requireNotFrozen(financingId);
        _requireState(financingId, f.state, expectedStates);
    }

    function _existingFinancing(uint256 financingId) private view returns (Financing storage f) {
        f = _financings[financingId];
        if (f.state == FinancingState.None) revert ReceivableFinancingUnknownFinancing(financingId);
    }

    function _existingProgramme(uint256 programmeId) private view returns (Programme storage p) {
        p = _programmes[programmeId];
        if (p.state == ProgrammeState.None) revert ReceivableFinancingUnknownProgramme(programmeId);
    }

    function _requireNotFrozen(uint256 financingId) private view {
        if (_registry.isInstrumentFrozen(address(this), financingId)) revert ReceivableFinancingFrozen(financingId);
    }

    function _requireState(uint256 financingId, FinancingState current, bytes32 expectedStates) private pure {
        if (_bit(current) & expectedStates == 0) {
            revert ReceivableFinancingUnexpectedState(financingId, current, expectedStates);
        }
    }

    function _requireProgrammeState(uint256 programmeId, ProgrammeState current, bytes32 expectedStates)
        private
        pure
    {
        if (_bit(current) & expectedStates == 0) {
            revert ReceivableFinancingUnexpectedProgrammeState(programmeId, current, expectedStates);
        }
    }

    function _checkRate(uint256 rateBps) private pure {
        if (rateBps > BPS) revert ReceivableFinancingInvalidRate(rateBps);
    }

    function _checkAmount(uint256 amount) private pure {
        if (amount == 0 || amount > type(uint48).max) revert ReceivableFinancingInvalidAmount(amount);
    }

    function _bit(FinancingState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _bit(ProgrammeState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }
}
