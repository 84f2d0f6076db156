// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {IInvoiceLiens} from "./interfaces/IInvoiceLiens.sol";
import {IInvoicePaymentHook} from "./interfaces/IInvoicePaymentHook.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IPayableCertificates} from "./interfaces/IPayableCertificates.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title PayableCertificates
/// @notice Splittable payable certificates of core enterprises, backed by invoice liens (DESIGN §7).
/// @dev Table of contents: constants · storage · constructor · core enterprise (offer) · sellers (accept) · holders
/// (transfer, split, discount request) · banks (discount) · settlement · invoice registry hook · views ·
/// internals.
///
/// Time-based states (`Due`, `Defaulted`) are derived in `state()` from the tree's maturity and the
/// grace period, as OpenZeppelin's Governor derives proposal states; each transition names the states
/// it accepts and reverts `PayableCertificatesUnexpectedState(id, current, expectedStates)` otherwise.
///
/// Surprising on purpose: the contract never holds money. A discount moves the bank's tokens straight
/// to the selling holder and a settlement moves the core enterprise's tokens straight to each holder,
/// so a frozen holder blocks only its own payment, never the rest of the tree.
contract PayableCertificates is
    ReentrancyGuardTransient,
    ERC2771Context,
    ERC165,
    IPayableCertificates,
    IInvoicePaymentHook
{
    // ───────────────────────────── Constants ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    uint256 public constant MAX_CHILDREN = 16;

    /// @dev ISO 20022 ExternalPurpose1Code: TRAD (trade services) for discount proceeds, SUPP (supplier
    /// payment) for settlement at maturity.
    bytes4 private constant PURPOSE_DISCOUNT = "TRAD";
    bytes4 private constant PURPOSE_SETTLEMENT = "SUPP";

    /// @dev Basis points in one (10,000) times days in the discount year (365).
    uint256 private constant BPS_DAYS_PER_YEAR = 10_000 * 365;

    bytes32 private constant ACTIVE = bytes32(uint256(1) << uint8(CertificateState.Active));
    bytes32 private constant PAYABLE =
        bytes32((uint256(1) << uint8(CertificateState.Due)) | (uint256(1) << uint8(CertificateState.Defaulted)));
    bytes32 private constant DEFAULTED = bytes32(uint256(1) << uint8(CertificateState.Defaulted));

    // ───────────────────────────── Storage ─────────────────────────────

    IParticipantRegistry private immutable _registry;
    IInvoiceLiens private immutable _invoices;
    uint256 private immutable _gracePeriod;

    /// @dev Starts at 1 (0 means "no parent"), so no issue ever pays for a fresh counter slot.
    uint256 private _nextId = 1;

    mapping(uint256 certificateId => Certificate) private _certificates;
    /// @dev Under the first child's id of each split.
    mapping(uint256 firstChildId => Lineage) private _lineages;
    mapping(uint256 rootId => Tree) private _trees;
    /// @dev Keyed by the requesting holder too: a request lapses by itself when the certificate moves.
    mapping(uint256 certificateId => mapping(address holder => DiscountRequest)) private _discountRequests;
    mapping(uint256 invoiceId => CertificateOffer) private _offers;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry.
    /// @param invoices_ The invoice registry; the operator must register this contract as a lien instrument.
    /// @param gracePeriod_ Seconds after maturity before an unpaid tree reads `Defaulted`.
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(IParticipantRegistry registry_, IInvoiceLiens invoices_, uint256 gracePeriod_, address trustedForwarder)
        ERC2771Context(trustedForwarder)
    {
        _registry = registry_;
        _invoices = invoices_;
        _gracePeriod = gracePeriod_;
    }

    // ───────────────────────────── Core enterprise ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function offer(uint256 invoiceId, uint256 amount, uint64 maturity) external {
        address issuer = _msgSender();
        IInvoiceLiens.InvoiceView memory inv = _invoices.invoice(invoiceId);
        if (inv.buyer != issuer) revert PayableCertificatesNotInvoiceBuyer(invoiceId, inv.buyer, issuer);
        _registry.requireAuthorized(issuer, Roles.CORPORATE);
        _checkTerms(invoiceId, inv, amount, maturity);
        if (_offers[invoiceId].amount != 0) revert PayableCertificatesOfferPending(invoiceId);

        _offers[invoiceId] = CertificateOffer({amount: uint56(amount), maturity: uint32(maturity), rootId: 0});
        emit CertificateOffered(invoiceId, issuer, inv.seller, amount, maturity);
    }

    /// @inheritdoc IPayableCertificates
    function withdrawOffer(uint256 invoiceId) external {
        address issuer = _msgSender();
        IInvoiceLiens.InvoiceView memory inv = _invoices.invoice(invoiceId);
        if (inv.buyer != issuer) revert PayableCertificatesNotInvoiceBuyer(invoiceId, inv.buyer, issuer);
        _closeOffer(invoiceId, issuer);
    }

    // ───────────────────────────── Sellers ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function acceptOffer(uint256 invoiceId) external returns (uint256 certificateId) {
        address seller = _msgSender();
        IInvoiceLiens.InvoiceView memory inv = _invoices.invoice(invoiceId);
        if (inv.seller != seller) revert PayableCertificatesNotInvoiceSeller(invoiceId, inv.seller, seller);
        _registry.requireAuthorized(seller, Roles.CORPORATE);
        CertificateOffer memory o = _offers[invoiceId];
        if (o.amount == 0 || o.rootId != 0) revert PayableCertificatesNoOffer(invoiceId);
        _checkTerms(invoiceId, inv, o.amount, o.maturity);
        _registry.requireAuthorized(inv.buyer, Roles.CORPORATE);

        certificateId = _nextId++;
        _offers[invoiceId].rootId = uint64(certificateId); // ids stay far below 2^64
        _certificates[certificateId] =
            Certificate({holder: seller, amount: o.amount, status: CertificateStatus.Live, siblingIndex: 0});
        _trees[certificateId] = Tree({
            currency: inv.currency,
            maturity: o.maturity,
            defaultRecorded: false,
            settledAmount: 0,
            invoiceId: invoiceId
        });

        emit CertificateIssued(certificateId, invoiceId, inv.buyer, seller, inv.currency, o.amount, o.maturity);

        // The seller, accepting, consents to the lien (audit M3): the tree reserves the invoice.
        _invoices.takeLien(invoiceId, seller, seller);
    }

    /// @inheritdoc IPayableCertificates
    function declineOffer(uint256 invoiceId) external {
        address seller = _msgSender();
        IInvoiceLiens.InvoiceView memory inv = _invoices.invoice(invoiceId);
        if (inv.seller != seller) revert PayableCertificatesNotInvoiceSeller(invoiceId, inv.seller, seller);
        _closeOffer(invoiceId, seller);
    }

    // ───────────────────────────── Holders ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function transfer(uint256 certificateId, address to) external {
        (Certificate storage c,) = _holderAction(certificateId);
        _registry.requireActive(to);
        address from = c.holder;

        delete _discountRequests[certificateId][from];
        c.holder = to;

        emit CertificateTransferred(certificateId, from, to);
    }

    /// @inheritdoc IPayableCertificates
    function split(uint256 certificateId, uint256[] calldata amounts, address[] calldata holders)
        external
        returns (uint256 firstChildId)
    {
        uint256 count = amounts.length;
        if (count < 2 || count > MAX_CHILDREN) revert PayableCertificatesInvalidChildCount(count, MAX_CHILDREN);
        if (holders.length != count) revert PayableCertificatesLengthMismatch(count, holders.length);
        (Certificate storage parent, uint256 rootId) = _holderAction(certificateId);

        uint256 sum = 0;
        for (uint256 i; i < count; ++i) {
            if (amounts[i] == 0) revert PayableCertificatesZeroAmount();
            sum += amounts[i];
            _registry.requireActive(holders[i]);
        }
        uint256 parentAmount = parent.amount;
        if (sum != parentAmount) revert PayableCertificatesSplitSumMismatch(parentAmount, sum);

        // Every child amount is at most the parent's, so it fits in uint56; ids stay far below 2^64.
        firstChildId = _nextId;
        _nextId = firstChildId + count;
        parent.status = CertificateStatus.Split;
        _lineages[firstChildId] = Lineage({parentId: uint64(certificateId), rootId: uint64(rootId)});
        for (uint256 i; i < count; ++i) {
            _certificates[firstChildId + i] = Certificate({
                holder: holders[i],
                amount: uint56(amounts[i]),
                status: CertificateStatus.Live,
                siblingIndex: uint16(i)
            });
            emit CertificateCreated(firstChildId + i, certificateId, holders[i], rootId, amounts[i]);
        }
    }

    /// @inheritdoc IPayableCertificates
    function requestDiscount(uint256 certificateId, address bank, uint16 rateBps) external {
        (Certificate storage c,) = _holderAction(certificateId);
        if (rateBps == 0 || rateBps > 10_000) revert PayableCertificatesInvalidRate(rateBps);
        _registry.requireAuthorized(bank, Roles.BANK);
        address holder = c.holder;

        _discountRequests[certificateId][holder] = DiscountRequest({bank: bank, rateBps: rateBps});

        emit DiscountRequested(certificateId, holder, bank, rateBps);
    }

    /// @inheritdoc IPayableCertificates
    function cancelDiscountRequest(uint256 certificateId) external {
        address holder = _msgSender();
        _registry.requireActive(holder);
        address bank = _discountRequests[certificateId][holder].bank;
        if (bank == address(0)) revert PayableCertificatesNoDiscountRequest(certificateId, address(0));
        // A frozen tree stays as the regulator found it, its pending requests included.
        _requireNotFrozen(_rootOf(_certificates[certificateId], certificateId));

        delete _discountRequests[certificateId][holder];

        emit DiscountRequestCancelled(certificateId, holder, bank);
    }

    // ───────────────────────────── Banks ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function acceptDiscount(uint256 certificateId, uint16 rateBps) external nonReentrant returns (uint256 proceeds) {
        Certificate storage c = _certificates[certificateId];
        uint256 rootId = _rootOf(c, certificateId);
        Tree storage t = _trees[rootId];
        _requireState(certificateId, _stateOf(c, t), ACTIVE);
        _requireNotFrozen(rootId);
        address bank = _msgSender();
        _registry.requireAuthorized(bank, Roles.BANK);
        address seller = c.holder;
        _checkDiscountRequest(certificateId, seller, bank, rateBps);
        uint256 amount = c.amount;
        uint256 daysToMaturity;
        (proceeds, daysToMaturity) = _discountProceeds(amount, t.maturity, rateBps);

        delete _discountRequests[certificateId][seller];
        c.holder = bank;

        emit CertificateDiscounted(certificateId, seller, bank, rateBps, daysToMaturity, amount, proceeds);

        _transferFrom(t.currency, bank, seller, proceeds, PURPOSE_DISCOUNT, certificateId);
    }

    // ───────────────────────────── Settlement ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function settle(uint256[] calldata certificateIds) external nonReentrant {
        _registry.requireActive(_msgSender());
        for (uint256 i; i < certificateIds.length; ++i) {
            _settleOne(certificateIds[i]);
        }
    }

    /// @inheritdoc IPayableCertificates
    function recordDefault(uint256 rootId) external {
        _registry.requireActive(_msgSender());
        Certificate storage root = _certificates[rootId];
        if (root.amount == 0 || _rootOf(root, rootId) != rootId) {
            revert PayableCertificatesUnexpectedState(rootId, CertificateState.None, DEFAULTED);
        }
        _requireNotFrozen(rootId);
        Tree storage t = _trees[rootId];
        if (t.defaultRecorded) revert PayableCertificatesDefaultAlreadyRecorded(rootId);
        uint256 outstanding = root.amount - t.settledAmount;
        if (outstanding == 0 || block.timestamp < uint256(t.maturity) + _gracePeriod) {
            revert PayableCertificatesUnexpectedState(rootId, _stateOf(root, t), DEFAULTED);
        }

        t.defaultRecorded = true;

        emit CertificateTreeDefaulted(rootId, t.invoiceId, outstanding);
    }

    // ───────────────────────────── Invoice registry hook ─────────────────────────────

    /// @notice A direct payment of an invoice pledged to a certificate tree may take only the part the tree
    /// does not cover, and goes to the invoice's owner (nothing to a financier: the lien reserves the
    /// invoice for the tree's holders, who are paid through `settle`). More reverts
    /// `PayableCertificatesPayThroughCertificates`; a frozen tree refuses every payment.
    /// @dev Called by the invoice registry inside `pay`; reverting makes that payment revert. The tree's
    /// settlements are recorded on the invoice only when the tree is paid, so the registry's `outstanding`
    /// still includes the whole tree amount until then.
    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256 outstanding)
        external
        view
        returns (uint256, bool)
    {
        if (msg.sender != address(_invoices)) revert PayableCertificatesNotInvoiceRegistry(msg.sender);
        CertificateOffer memory tree_ = _offers[invoiceId]; // accepted: its tree holds the lien
        uint256 rootId = tree_.rootId;
        _requireNotFrozen(rootId);
        uint256 committed = tree_.amount; // the root's amount
        if (amount + committed > outstanding) {
            revert PayableCertificatesPayThroughCertificates(
                invoiceId, rootId, outstanding > committed ? outstanding - committed : 0
            );
        }
        return (0, false);
    }

    /// @notice ERC-165: this contract implements `IInvoicePaymentHook` (read by the invoice registry when
    /// the operator registers it as an instrument).
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IInvoicePaymentHook).interfaceId || super.supportsInterface(interfaceId);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IPayableCertificates
    function gracePeriod() external view returns (uint256) {
        return _gracePeriod;
    }

    /// @inheritdoc IPayableCertificates
    function invoiceRegistry() external view returns (address) {
        return address(_invoices);
    }

    /// @inheritdoc IPayableCertificates
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IPayableCertificates
    function state(uint256 certificateId) external view returns (CertificateState) {
        Certificate storage c = _certificates[certificateId];
        return _stateOf(c, _trees[_rootOf(c, certificateId)]);
    }

    /// @inheritdoc IPayableCertificates
    function certificate(uint256 certificateId) external view returns (CertificateView memory v) {
        Certificate storage c = _certificates[certificateId];
        if (c.amount == 0) return v; // unknown: all zero, state None
        uint256 rootId = _rootOf(c, certificateId);
        Tree storage t = _trees[rootId];
        v = CertificateView({
            certificateId: certificateId,
            rootId: rootId,
            parentId: _lineages[certificateId - c.siblingIndex].parentId,
            holder: c.holder,
            amount: c.amount,
            state: _stateOf(c, t),
            issuer: _invoices.invoice(t.invoiceId).buyer,
            currency: t.currency,
            maturity: t.maturity,
            invoiceId: t.invoiceId
        });
    }

    /// @inheritdoc IPayableCertificates
    function tree(uint256 rootId) external view returns (Tree memory) {
        return _trees[rootId];
    }

    /// @inheritdoc IPayableCertificates
    function lineage(uint256 certificateId) external view returns (Lineage memory) {
        Certificate storage c = _certificates[certificateId];
        if (c.amount == 0) return Lineage(0, 0);
        return _lineages[certificateId - c.siblingIndex];
    }

    /// @inheritdoc IPayableCertificates
    function discountRequest(uint256 certificateId) external view returns (DiscountRequest memory) {
        return _discountRequests[certificateId][_certificates[certificateId].holder];
    }

    /// @inheritdoc IPayableCertificates
    function discountProceeds(uint256 amount, uint256 maturity, uint256 rateBps)
        external
        view
        returns (uint256 proceeds, uint256 daysToMaturity)
    {
        return _discountProceeds(amount, maturity, rateBps);
    }

    /// @inheritdoc IPayableCertificates
    function nextCertificateId() external view returns (uint256) {
        return _nextId;
    }

    /// @inheritdoc IPayableCertificates
    function offerOf(uint256 invoiceId) external view returns (CertificateOffer memory) {
        return _offers[invoiceId];
    }

    /// @inheritdoc IPayableCertificates
    function rootOfInvoice(uint256 invoiceId) external view returns (uint256) {
        return _offers[invoiceId].rootId;
    }

    // ───────────────────────────── Internals ─────────────────────────────

    /// @dev Pays one live certificate from its tree's core enterprise to its holder.
    function _settleOne(uint256 certificateId) private {
        Certificate storage c = _certificates[certificateId];
        uint256 rootId = _rootOf(c, certificateId);
        Tree storage t = _trees[rootId];
        _requireState(certificateId, _stateOf(c, t), PAYABLE);
        uint256 invoiceId = t.invoiceId;
        address issuer = _invoices.invoice(invoiceId).buyer;
        address holder = c.holder;
        _requireSettlementParty(certificateId, issuer, holder);
        _requireNotFrozen(rootId);

        uint256 amount = c.amount;
        c.status = CertificateStatus.Settled;
        uint256 settled = t.settledAmount + amount;
        t.settledAmount = uint56(settled); // never above the root amount, which fits in uint56
        bool treePaid = settled == _certificates[rootId].amount;

        emit CertificateSettled(certificateId, rootId, holder, amount);
        if (treePaid) emit CertificateTreePaid(rootId, invoiceId, settled);

        _transferFrom(t.currency, issuer, holder, amount, PURPOSE_SETTLEMENT, certificateId);
        if (treePaid) {
            // The tree's amount was at most the invoice's outstanding amount at issue, and direct payments
            // in the registry may take only the part the tree does not cover (`onInvoicePayment`): it fits.
            delete _offers[invoiceId];
            _invoices.recordSettlement(invoiceId, settled);
            _invoices.releaseLien(invoiceId);
        }
    }

    /// @dev Moves money with the settlement token; the reference is the certificate id. The token is an
    /// invoice currency the operator accepted in the invoice registry, i.e. a tradefin settlement token,
    /// which reverts on failure and otherwise returns true: its return value carries no information.
    function _transferFrom(address token, address from, address to, uint256 amount, bytes4 purpose, uint256 id)
        private
    {
        // slither-disable-next-line unused-return: a settlement token returns true or reverts (SettlementToken, OpenZeppelin ERC-20)
        ISettlementToken(token).transferFromWithPurpose(from, to, amount, purpose, bytes32(id));
    }

    /// @dev The checks every holder action shares: the certificate is `Active`, the caller holds it and is
    /// active, and its tree is not frozen. Returns the certificate and its root id.
    function _holderAction(uint256 certificateId) private view returns (Certificate storage c, uint256 rootId) {
        c = _certificates[certificateId];
        rootId = _rootOf(c, certificateId);
        _requireState(certificateId, _stateOf(c, _trees[rootId]), ACTIVE);
        address caller = _msgSender();
        if (c.holder != caller) revert PayableCertificatesNotHolder(certificateId, c.holder, caller);
        _requireNotFrozen(rootId);
        _registry.requireActive(caller);
    }

    function _requireSettlementParty(uint256 certificateId, address issuer, address holder) private view {
        address caller = _msgSender();
        if (caller != issuer && caller != holder) revert PayableCertificatesNotSettlementParty(certificateId, caller);
    }

    /// @dev The holder `seller` asked `bank` to discount `certificateId` at exactly `rateBps`.
    function _checkDiscountRequest(uint256 certificateId, address seller, address bank, uint16 rateBps)
        private
        view
    {
        DiscountRequest memory request = _discountRequests[certificateId][seller];
        if (request.bank != bank) revert PayableCertificatesNoDiscountRequest(certificateId, bank);
        if (request.rateBps != rateBps) {
            revert PayableCertificatesDiscountRateMismatch(certificateId, request.rateBps, rateBps);
        }
    }

    /// @dev A certificate's terms against its invoice: `Confirmed` (so unliened), an amount of 1 ..= what is
    /// unpaid, a maturity after now and no later than the invoice's due date (the debtor does not
    /// reschedule its own debt).
    function _checkTerms(uint256 invoiceId, IInvoiceLiens.InvoiceView memory inv, uint256 amount, uint256 maturity)
        private
        view
    {
        if (inv.state != IInvoiceLiens.InvoiceState.Confirmed) {
            revert PayableCertificatesInvoiceNotConfirmed(invoiceId, inv.state);
        }
        if (amount == 0) revert PayableCertificatesZeroAmount();
        uint256 available = inv.faceAmount - inv.paidAmount;
        if (amount > available) revert PayableCertificatesAmountExceedsInvoice(amount, available);
        // slither-disable-next-line timestamp: maturity is a calendar date; seconds of drift cannot matter
        if (maturity <= block.timestamp) revert PayableCertificatesInvalidMaturity(maturity, block.timestamp);
        if (maturity > inv.dueDate) revert PayableCertificatesMaturityAfterDueDate(maturity, inv.dueDate);
    }

    function _closeOffer(uint256 invoiceId, address by) private {
        _registry.requireActive(by);
        CertificateOffer memory o = _offers[invoiceId];
        if (o.amount == 0 || o.rootId != 0) revert PayableCertificatesNoOffer(invoiceId);
        delete _offers[invoiceId];
        emit CertificateOfferClosed(invoiceId, by);
    }

    /// @dev A root has no lineage record, so its lookup reads zero.
    function _rootOf(Certificate storage c, uint256 certificateId) private view returns (uint256) {
        uint256 rootId = _lineages[certificateId - c.siblingIndex].rootId;
        return rootId == 0 ? certificateId : rootId;
    }

    function _stateOf(Certificate storage c, Tree storage t) private view returns (CertificateState) {
        if (c.amount == 0) return CertificateState.None;
        CertificateStatus status = c.status;
        if (status == CertificateStatus.Split) return CertificateState.Split;
        if (status == CertificateStatus.Settled) return CertificateState.Settled;
        uint256 maturity = t.maturity;
        if (block.timestamp < maturity) return CertificateState.Active;
        if (block.timestamp < maturity + _gracePeriod) return CertificateState.Due;
        return CertificateState.Defaulted;
    }

    function _requireState(uint256 certificateId, CertificateState current, bytes32 expectedStates) private pure {
        if (bytes32(uint256(1) << uint8(current)) & expectedStates == bytes32(0)) {
            revert PayableCertificatesUnexpectedState(certificateId, current, expectedStates);
        }
    }

    function _requireNotFrozen(uint256 rootId) private view {
        if (_registry.isInstrumentFrozen(address(this), rootId)) revert PayableCertificatesFrozen(rootId);
    }

    /// @dev days = ceil((maturity − now) / 1 day); discount = ceil(amount × rateBps × days / 3,650,000).
    function _discountProceeds(uint256 amount, uint256 maturity, uint256 rateBps)
        private
        view
        returns (uint256 proceeds, uint256 daysToMaturity)
    {
        daysToMaturity = maturity > block.timestamp ? Math.ceilDiv(maturity - block.timestamp, 1 days) : 0;
        uint256 discount = Math.mulDiv(amount, rateBps * daysToMaturity, BPS_DAYS_PER_YEAR, Math.Rounding.Ceil);
        if (discount >= amount) revert PayableCertificatesDiscountExceedsAmount(amount, discount);
        proceeds = amount - discount;
    }
}
