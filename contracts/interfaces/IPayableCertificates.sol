// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvoiceLiens} from "./IInvoiceLiens.sol";

/// @title Payable certificates: a core enterprise's confirmed payable, split down its supply chain.
/// @notice A core enterprise (the buyer of a confirmed invoice) offers a certificate to its tier-1
/// supplier (the invoice's seller) for up to the invoice's open amount, payable in the invoice's currency
/// at a maturity no later than the invoice's due date; the supplier accepts it (consenting to the lien: the
/// debtor cannot pledge its creditor's receivable, nor reschedule its own debt), and the certificate is
/// issued and takes the invoice's lien. A holder may
/// transfer a certificate whole, or split it into children for its own suppliers, any number of tiers
/// down; a child records its parent and its root, and the children of a split always sum to the
/// parent. A holder may discount a certificate at a bank before maturity: the bank pays
/// `amount × (1 − rate × days / 365)` and becomes the holder. From maturity the core enterprise pays
/// each live certificate's holder exactly its amount, once; when everything is paid the lien is
/// released. Unpaid after maturity plus the grace period, every live certificate of the tree reads
/// `Defaulted`.
///
/// **Why a custom tree, not ERC-721 or ERC-1155.** ERC-1155 would make pieces of one root fungible and
/// lose which supplier tier received which piece from whom, which DESIGN §7 asks us to keep. ERC-721
/// would keep one token per piece, but adds what a permissioned payable does not want: an owner slot and
/// a balance slot per piece and holder (fresh 22,100-gas writes for every new supplier, which breaks the
/// split budget), `safeTransfer` receiver callbacks into arbitrary code, and operator approvals that let
/// a third party move a supplier's claim. Here a piece is one packed storage slot (plus one lineage slot
/// per split); holders are always active registry participants; every move is a named transition with its
/// own event.
///
/// **Vocabulary.** A *root* is an issued certificate; its *tree* is the root and all its descendants.
/// A *live* certificate is a leaf of the tree (never split): its holder is owed its amount. The live
/// certificates of a tree always sum to the root's amount. `Split` certificates are history.
///
/// **Freezing.** The regulator freezes a whole tree through the registry's
/// `freezeInstrument(address(this), rootId, reason)`; every transition of the tree then reverts.
///
/// **Discount arithmetic.** `days = ceil((maturity − now) / 1 day)` (a started day counts as a whole
/// day); `discount = ceil(amount × rateBps × days / (10,000 × 365))`; `proceeds = amount − discount`.
/// Both roundings favour the discounting bank, by less than one minor unit and one day.
///
/// **Direct invoice payments may not eat into the tree.** The contract implements the invoice registry's
/// `IInvoicePaymentHook`: a buyer paying the invoice in the registry may pay only the part the certificate
/// does not cover (it goes to the invoice's owner); more reverts `PayableCertificatesPayThroughCertificates`,
/// because that money would reach the tier-1 supplier past the suppliers and banks who now hold the pieces.
/// The core enterprise pays the tree through `settle`; the lien is released when the last piece is paid.
///
/// **The invoice registry's book.** When the last piece of a tree is paid, the contract records the
/// tree's amount as paid on the invoice (`IInvoiceLiens.recordSettlement`) before releasing the lien, so
/// the registry shows the invoice `Paid` (or partly paid, when the certificate covered only part of it)
/// and never `Defaulted` for money the core enterprise paid through the certificates.
///
/// **Money.** Amounts are minor units of the invoice's settlement token. Discount proceeds move from
/// the bank to the seller, and settlements from the core enterprise to each holder, with the token's
/// `transferFromWithPurpose` (purpose `TRAD` for a discount, `SUPP` for a settlement; the reference is
/// the certificate id), so the bank and the core enterprise approve this contract beforehand.
interface IPayableCertificates {
    // ───────────────────────────── Types ─────────────────────────────

    /// @notice What is stored about a certificate's own life (time-based states are derived).
    enum CertificateStatus {
        Live, // a leaf: its holder is owed its amount
        Split, // replaced by its children
        Settled // its holder has been paid
    }

    /// @notice A certificate's state as derived now (the Governor pattern).
    enum CertificateState {
        None, // unknown id
        Active, // live, before maturity: may be transferred, split or discounted
        Split, // replaced by its children
        Due, // live, at or after maturity, within the grace period: the core enterprise should pay
        Defaulted, // live, unpaid after maturity plus grace: visible to every holder; late payment allowed
        Settled // its holder has been paid
    }

    /// @notice Per-certificate storage, one slot.
    /// @dev holder (20) + amount (7) + status (1) + siblingIndex (2) = 30 bytes. A child's parent and root
    /// are not repeated per child: the children of one split have consecutive ids and share one `Lineage`
    /// slot, stored under the first child's id (`certificateId − siblingIndex`). A root has no lineage.
    struct Certificate {
        address holder;
        uint56 amount; // minor units; at most 2^56 − 1 (7.2e16: 720 trillion in a two-decimal currency)
        CertificateStatus status;
        uint16 siblingIndex; // position among the children of its split (0 for a root and a first child)
    }

    /// @notice The parent and root shared by the children of one split; one slot.
    /// @dev parentId (8) + rootId (8) = 16 bytes. Zero under any id that is not a split's first child.
    struct Lineage {
        uint64 parentId;
        uint64 rootId;
    }

    /// @notice Per-tree storage, written once at issue; two slots.
    /// @dev slot 0: currency (20) + maturity (4) + defaultRecorded (1) + settledAmount (7) = 32 bytes.
    /// slot 1: invoiceId (32). The issuer is not stored: it is the invoice's buyer, read from the invoice
    /// registry when needed (the invoice's parties never change).
    struct Tree {
        address currency; // the invoice's settlement token
        uint32 maturity; // unix seconds (uint32 lasts until 2106)
        bool defaultRecorded; // `recordDefault` was called
        uint56 settledAmount; // paid to holders so far (minor units)
        uint256 invoiceId; // the invoice whose lien the tree holds
    }

    /// @notice A holder's standing request to discount one certificate at one bank; one slot.
    /// @dev bank (20) + rateBps (2) = 22 bytes.
    struct DiscountRequest {
        address bank;
        uint16 rateBps; // annual discount rate in basis points
    }

    /// @notice A certificate as a holder, a bank or the gateway reads it.
    struct CertificateView {
        uint256 certificateId;
        uint256 rootId; // equals certificateId for a root
        uint256 parentId; // zero for a root
        address holder;
        uint256 amount;
        CertificateState state;
        address issuer;
        address currency;
        uint64 maturity;
        uint256 invoiceId;
    }

    /// @notice A core enterprise's offer of a certificate against one invoice and, once its seller accepted it,
    /// the tree it became; one slot per invoice.
    /// @dev amount (7) + maturity (4) + rootId (8) = 19 bytes. Pending while `rootId` is zero; once accepted it
    /// names the tree holding the invoice's lien (the payment hook reads the tree's amount from here, in the
    /// slot the offer already paid for); cleared when the offer is withdrawn or declined, or the tree is paid.
    struct CertificateOffer {
        uint56 amount;
        uint32 maturity;
        uint64 rootId;
    }

    // ───────────────────────────── Events ─────────────────────────────

    /// @notice `issuer` (the buyer of `invoiceId`) offered its seller `seller` a certificate for `amount`
    /// due at `maturity`.
    event CertificateOffered(
        uint256 indexed invoiceId, address indexed issuer, address indexed seller, uint256 amount, uint64 maturity
    );

    /// @notice The offer on `invoiceId` ended without a certificate: withdrawn by the issuer or declined by
    /// the seller (`by`).
    event CertificateOfferClosed(uint256 indexed invoiceId, address indexed by);

    /// @notice `issuer` issued root certificate `certificateId` to `holder` against `invoiceId`.
    event CertificateIssued(
        uint256 indexed certificateId,
        uint256 indexed invoiceId,
        address indexed issuer,
        address holder,
        address currency,
        uint256 amount,
        uint64 maturity
    );

    /// @notice Child `certificateId` of `parentId` (tree `rootId`) was created for `holder` by a split.
    /// @dev The split's own record: its first `CertificateCreated` marks `parentId` as `Split` (one event per
    /// child, none for the parent, keeps a two-way split within its gas budget).
    event CertificateCreated(
        uint256 indexed certificateId, uint256 indexed parentId, address indexed holder, uint256 rootId, uint256 amount
    );

    /// @notice `certificateId` passed from `from` to `to` (not used for discounts).
    event CertificateTransferred(uint256 indexed certificateId, address indexed from, address indexed to);

    /// @notice `holder` asked `bank` to discount `certificateId` at `rateBps` a year.
    event DiscountRequested(uint256 indexed certificateId, address indexed holder, address indexed bank, uint16 rateBps);

    /// @notice `holder` withdrew its discount request on `certificateId` at `bank`.
    event DiscountRequestCancelled(uint256 indexed certificateId, address indexed holder, address indexed bank);

    /// @notice `bank` discounted `certificateId`: it paid `proceeds` to `seller` for `amount` due in
    /// `daysToMaturity` days at `rateBps`, and is now the holder.
    event CertificateDiscounted(
        uint256 indexed certificateId,
        address indexed seller,
        address indexed bank,
        uint16 rateBps,
        uint256 daysToMaturity,
        uint256 amount,
        uint256 proceeds
    );

    /// @notice The core enterprise paid `amount` to `holder` for live certificate `certificateId`.
    event CertificateSettled(
        uint256 indexed certificateId, uint256 indexed rootId, address indexed holder, uint256 amount
    );

    /// @notice Every live certificate of tree `rootId` is paid; the lien on `invoiceId` is released.
    event CertificateTreePaid(uint256 indexed rootId, uint256 indexed invoiceId, uint256 amount);

    /// @notice Tree `rootId` is unpaid after maturity plus grace; `outstanding` is still owed.
    event CertificateTreeDefaulted(uint256 indexed rootId, uint256 indexed invoiceId, uint256 outstanding);

    // ───────────────────────────── Errors ─────────────────────────────

    /// @notice `certificateId` is in `current`; the transition needs one of the states set in
    /// `expectedStates` (bit `1 << uint8(state)`, as in OpenZeppelin's Governor).
    error PayableCertificatesUnexpectedState(uint256 certificateId, CertificateState current, bytes32 expectedStates);

    /// @notice `certificateId` is held by `holder`, not by `caller`.
    error PayableCertificatesNotHolder(uint256 certificateId, address holder, address caller);

    /// @notice Only the invoice's buyer `buyer` may offer against invoice `invoiceId`; `caller` is not it.
    error PayableCertificatesNotInvoiceBuyer(uint256 invoiceId, address buyer, address caller);

    /// @notice Only the invoice's seller (owner) `seller` may accept or decline; `caller` is not it.
    error PayableCertificatesNotInvoiceSeller(uint256 invoiceId, address seller, address caller);

    /// @notice Invoice `invoiceId` is in `state`; a certificate needs a `Confirmed` (so unliened) invoice.
    error PayableCertificatesInvoiceNotConfirmed(uint256 invoiceId, IInvoiceLiens.InvoiceState state);

    /// @notice No certificate is offered on invoice `invoiceId`.
    error PayableCertificatesNoOffer(uint256 invoiceId);

    /// @notice A certificate offered on invoice `invoiceId` awaits its seller's answer.
    error PayableCertificatesOfferPending(uint256 invoiceId);

    /// @notice `maturity` is after the invoice's due date `dueDate`: the debtor may not reschedule its debt.
    error PayableCertificatesMaturityAfterDueDate(uint256 maturity, uint256 dueDate);

    /// @notice Only the invoice registry may call the payment hook.
    error PayableCertificatesNotInvoiceRegistry(address caller);

    /// @notice `amount` is above the invoice's open amount `available`.
    error PayableCertificatesAmountExceedsInvoice(uint256 amount, uint256 available);

    /// @notice An amount is zero.
    error PayableCertificatesZeroAmount();

    /// @notice `maturity` is not after the current time `now_`, or is after 2106 (uint32 seconds).
    error PayableCertificatesInvalidMaturity(uint256 maturity, uint256 now_);

    /// @notice A split needs between 2 and `maxChildren` children; `childCount` were given.
    error PayableCertificatesInvalidChildCount(uint256 childCount, uint256 maxChildren);

    /// @notice `amounts` and `holders` differ in length.
    error PayableCertificatesLengthMismatch(uint256 amounts, uint256 holders);

    /// @notice The children's amounts sum to `childrenSum`, not to the parent's `parentAmount`.
    error PayableCertificatesSplitSumMismatch(uint256 parentAmount, uint256 childrenSum);

    /// @notice The regulator froze tree `rootId`.
    error PayableCertificatesFrozen(uint256 rootId);

    /// @notice The annual discount rate `rateBps` is zero or above 10,000 (100%).
    error PayableCertificatesInvalidRate(uint256 rateBps);

    /// @notice `certificateId` has no discount request for `bank`.
    error PayableCertificatesNoDiscountRequest(uint256 certificateId, address bank);

    /// @notice The holder asked for `requestedBps`; the bank accepted at `acceptedBps`.
    error PayableCertificatesDiscountRateMismatch(uint256 certificateId, uint256 requestedBps, uint256 acceptedBps);

    /// @notice The discount `discount` would consume the whole `amount` (rate × days ≥ 365 × 100%).
    error PayableCertificatesDiscountExceedsAmount(uint256 amount, uint256 discount);

    /// @notice `caller` is neither the holder of `certificateId` nor the core enterprise that owes it.
    error PayableCertificatesNotSettlementParty(uint256 certificateId, address caller);

    /// @notice The default of tree `rootId` was already recorded.
    error PayableCertificatesDefaultAlreadyRecorded(uint256 rootId);

    /// @notice Invoice `invoiceId` is pledged to certificate tree `rootId`: a direct payment may take at most
    /// `payableDirectly`; pay the tree's holders through `settle`.
    error PayableCertificatesPayThroughCertificates(uint256 invoiceId, uint256 rootId, uint256 payableDirectly);

    // ───────────────────────────── Core enterprise ─────────────────────────────

    /// @notice Offers the seller of the caller's confirmed invoice `invoiceId` a certificate for `amount` due
    /// at `maturity`; nothing is pledged until the seller accepts.
    /// @dev Caller: the invoice's buyer, authorized `CORPORATE_ROLE`. The invoice must be `Confirmed` and
    /// lien-free, with no offer pending; `amount` at most what is unpaid (and below 2^56); `maturity` after
    /// now and no later than the invoice's due date. Emits `CertificateOffered`.
    function offer(uint256 invoiceId, uint256 amount, uint64 maturity) external;

    /// @notice Withdraws the caller's pending offer on `invoiceId`. Emits `CertificateOfferClosed`.
    /// @dev Caller: the invoice's buyer, active.
    function withdrawOffer(uint256 invoiceId) external;

    // ───────────────────────────── Sellers ─────────────────────────────

    /// @notice Accepts the certificate offered on the caller's invoice `invoiceId`: the root certificate is
    /// issued to the caller and takes the invoice's lien with the caller's consent.
    /// @dev Caller: the invoice's seller (owner), authorized `CORPORATE_ROLE`. The offer's terms are checked
    /// again (invoice `Confirmed` and lien-free, amount at most what is unpaid, maturity after now and no
    /// later than the due date); the issuer must still be authorized. Emits `CertificateIssued`.
    /// @return certificateId The new root's id (also its tree's id).
    function acceptOffer(uint256 invoiceId) external returns (uint256 certificateId);

    /// @notice Declines the certificate offered on the caller's invoice `invoiceId`. Emits
    /// `CertificateOfferClosed`.
    /// @dev Caller: the invoice's seller (owner), active.
    function declineOffer(uint256 invoiceId) external;

    // ───────────────────────────── Holders ─────────────────────────────

    /// @notice Transfers `certificateId` whole to `to`, an active participant.
    /// @dev Caller: the holder, active. State `Active`. Withdraws any discount request. Emits `CertificateTransferred`.
    function transfer(uint256 certificateId, address to) external;

    /// @notice Splits `certificateId` into children of `amounts` held by `holders`.
    /// @dev Caller: the holder, active. State `Active`. 2 to `MAX_CHILDREN` children, non-zero amounts summing to
    /// the parent's; every holder active. The parent becomes `Split`. Emits one `CertificateCreated` per
    /// child.
    /// @return firstChildId The first child's id; the others follow consecutively.
    function split(uint256 certificateId, uint256[] calldata amounts, address[] calldata holders)
        external
        returns (uint256 firstChildId);

    /// @notice Asks `bank` to discount `certificateId` at `rateBps` a year; replaces any earlier request.
    /// @dev Caller: the holder, active. State `Active`. `bank` authorized `BANK_ROLE`; 0 < rateBps ≤ 10,000.
    /// Emits `DiscountRequested`.
    function requestDiscount(uint256 certificateId, address bank, uint16 rateBps) external;

    /// @notice Withdraws the caller's discount request on `certificateId`. Emits `DiscountRequestCancelled`.
    /// @dev Caller: the requesting holder, active. The certificate's tree unfrozen.
    function cancelDiscountRequest(uint256 certificateId) external;

    // ───────────────────────────── Banks ─────────────────────────────

    /// @notice Discounts `certificateId` at the holder's request: pays the holder the proceeds and becomes
    /// the holder.
    /// @dev Caller: the requested bank, authorized `BANK_ROLE`. State `Active` (so strictly before maturity). `rateBps` must
    /// equal the request's (the bank states what it agrees to). Emits `CertificateDiscounted`, then pays.
    /// @return proceeds What the bank paid (rounded down; see the discount arithmetic above).
    function acceptDiscount(uint256 certificateId, uint16 rateBps) external returns (uint256 proceeds);

    // ───────────────────────────── Settlement ─────────────────────────────

    /// @notice Pays each of `certificateIds` its amount, from its tree's core enterprise to its holder.
    /// @dev Caller, per certificate: its tree's core enterprise, or its holder (pulling under the core
    /// enterprise's allowance), active. State `Due` or `Defaulted` (late payment is accepted). Each certificate
    /// becomes `Settled` (never paid twice) and emits `CertificateSettled`; a tree whose every live
    /// certificate is settled emits `CertificateTreePaid`, records the tree's amount as paid on the invoice
    /// (`IInvoiceLiens.recordSettlement`) and releases the invoice lien.
    function settle(uint256[] calldata certificateIds) external;

    /// @notice Records that tree `rootId` is unpaid after maturity plus grace (any active participant may
    /// call).
    /// @dev The `Defaulted` state is visible without this call; the call puts it in the event log. The tree
    /// must be unfrozen (`PayableCertificatesFrozen`). Emits `CertificateTreeDefaulted`.
    function recordDefault(uint256 rootId) external;

    // ───────────────────────────── Views ─────────────────────────────

    /// @notice The most children one split may create.
    function MAX_CHILDREN() external view returns (uint256);

    /// @notice Seconds after maturity before an unpaid tree reads `Defaulted`.
    function gracePeriod() external view returns (uint256);

    /// @notice The invoice registry whose liens this contract takes.
    function invoiceRegistry() external view returns (address);

    /// @notice The participant registry this contract asks.
    function registry() external view returns (address);

    /// @notice The state of `certificateId` now.
    function state(uint256 certificateId) external view returns (CertificateState);

    /// @notice `certificateId` with its tree's terms and its state now.
    function certificate(uint256 certificateId) external view returns (CertificateView memory);

    /// @notice The tree `rootId`'s stored terms and settlement progress.
    function tree(uint256 rootId) external view returns (Tree memory);

    /// @notice The parent and root of `certificateId` (both zero for a root or an unknown id).
    function lineage(uint256 certificateId) external view returns (Lineage memory);

    /// @notice The standing discount request on `certificateId` (bank zero: none).
    function discountRequest(uint256 certificateId) external view returns (DiscountRequest memory);

    /// @notice What a bank would pay for `amount` due at `maturity` at `rateBps`, discounting now.
    /// @return proceeds `amount − discount`, rounded down.
    /// @return daysToMaturity Whole days, a started day counting as one.
    function discountProceeds(uint256 amount, uint256 maturity, uint256 rateBps)
        external
        view
        returns (uint256 proceeds, uint256 daysToMaturity);

    /// @notice The id the next certificate will get.
    function nextCertificateId() external view returns (uint256);

    /// @notice The certificate offered on `invoiceId`: awaiting its seller while `rootId` is zero, accepted
    /// (its tree holds the lien) otherwise; all zero when none.
    function offerOf(uint256 invoiceId) external view returns (CertificateOffer memory);

    /// @notice The root of the certificate tree holding the lien on `invoiceId` (zero when none).
    function rootOfInvoice(uint256 invoiceId) external view returns (uint256);
}
