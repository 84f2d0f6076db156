// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

import {IInvoiceLiens} from "./interfaces/IInvoiceLiens.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {IInvoicePaymentHook} from "./interfaces/IInvoicePaymentHook.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title InvoiceRegistry
/// @notice See `IInvoiceRegistry`. Surprises, stated up front:
/// - the token id is the duplicate key (not a counter);
/// - `Defaulted` and `Paid` are derived, never stored; the grace period applies to every invoice at once;
/// - a buyer payment calls the lien instrument's hook (a trusted, operator-registered contract) before
///   the registry's own effects, under a transient reentrancy lock that every state-changing function
///   (and every token transfer) honours: a hook that calls back into the registry reverts;
/// - `takeLien` trusts the registered instrument to have checked its own parties (it is an audited
///   contract of the platform); the registry checks what only it can: that the consenting creditor owns
///   the invoice, and that no other lien exists.
contract InvoiceRegistry is IInvoiceRegistry, ERC2771Context, ERC721, ReentrancyGuardTransient {
    // ───────────────────────────── Storage ─────────────────────────────

    /// @dev Written once at registration; later transitions only flip `flags` (a warm rewrite).
    /// Slot: buyer (20) + faceAmount (6) + dueDate (4) + currencyIndex (1) + flags (1) = 32 bytes.
    struct InvoiceData {
        address buyer;
        uint48 faceAmount;
        uint32 dueDate;
        uint8 currencyIndex;
        uint8 flags;
    }

    /// @dev Zero until the first lien or payment.
    /// Slot: paidAmount (6) + lienFinancier (20) + lienInstrumentIndex (1) = 27 bytes.
    struct InvoiceBook {
        uint48 paidAmount;
        address lienFinancier;
        uint8 lienInstrumentIndex;
    }

    /// @dev Slot: index (1) + registered (1).
    struct InstrumentEntry {
        uint8 index;
        bool registered;
    }

    /// @dev Slot: index (1) + accepted (1).
    struct CurrencyEntry {
        uint8 index;
        bool accepted;
    }

    uint8 private constant FLAG_CONFIRMED = 1;
    uint8 private constant FLAG_CANCELLED = 2;
    uint8 private constant FLAG_CUSTOMS_ATTESTED = 4;
    uint8 private constant FLAG_CUSTOMS_MISMATCH = 8;

    bytes4 private constant PURPOSE_GOODS = "GDDS";

    /// @dev One bit per byte of a word: 0x0101…01. Byte-wise arithmetic on invoice numbers (SWAR).
    uint256 private constant BYTE_ONES = 0x0101010101010101010101010101010101010101010101010101010101010101;
    uint256 private constant BYTE_HIGH_BITS = BYTE_ONES * 0x80;

    IParticipantRegistry private immutable _registry;
    /// @dev Immutable: every state check derives `Defaulted` from it, and a stored value would cost a cold
    /// read in every transition. A grace period fixed at deployment also cannot change an invoice's terms
    /// after registration.
    uint32 private immutable _gracePeriod;

    // One slot: instrumentCount (1) + currencyCount (1).
    uint8 private _instrumentCount;
    uint8 private _currencyCount;

    mapping(uint256 invoiceId => InvoiceData) private _invoices;
    mapping(uint256 invoiceId => InvoiceBook) private _books;
    mapping(address instrument => InstrumentEntry) private _instruments;
    mapping(uint8 index => address instrument) private _instrumentAt;
    mapping(address token => CurrencyEntry) private _currencies;
    mapping(uint8 index => address token) private _currencyAt;
    mapping(uint256 invoiceId => address attester) private _customsAttesters;

    // ───────────────────────────── Constructor ─────────────────────────────

    /// @param registry_ The participant registry.
    /// @param gracePeriod_ Seconds after the due date before an unpaid invoice defaults.
    /// @param trustedForwarder The ERC-2771 forwarder that relays participants' signed requests.
    constructor(IParticipantRegistry registry_, uint32 gracePeriod_, address trustedForwarder)
        ERC721("tradefin invoice", "TFINV")
        ERC2771Context(trustedForwarder)
    {
        _registry = registry_;
        _gracePeriod = gracePeriod_;
        emit GracePeriodSet(gracePeriod_);
    }

    // ───────────────────────────── Operator ─────────────────────────────

    /// @inheritdoc IInvoiceRegistry
    function setInstrument(address instrument, bool registered) external {
        _registry.requireAuthorized(_msgSender(), Roles.OPERATOR);
        if (registered) {
            if (!ERC165Checker.supportsInterface(instrument, type(IInvoicePaymentHook).interfaceId)) {
                revert InvoiceRegistryMissingPaymentHook(instrument);
            }
            _registry.requireAuthorized(instrument, Roles.INSTRUMENT);
        }
        InstrumentEntry memory entry = _instruments[instrument];
        if (entry.index == 0) {
            entry.index = _nextIndex(_instrumentCount);
            _instrumentCount = entry.index;
            _instrumentAt[entry.index] = instrument;
        }
        entry.registered = registered;
        _instruments[instrument] = entry;
        emit InstrumentSet(instrument, registered);
    }

    /// @inheritdoc IInvoiceRegistry
    function setCurrency(address token, bool accepted) external {
        _registry.requireAuthorized(_msgSender(), Roles.OPERATOR);
        CurrencyEntry memory entry = _currencies[token];
        if (entry.index == 0) {
            entry.index = _nextIndex(_currencyCount);
            _currencyCount = entry.index;
            _currencyAt[entry.index] = token;
        }
        entry.accepted = accepted;
        _currencies[token] = entry;
        emit CurrencySet(token, entry.index, accepted);
    }

    // ───────────────────────────── Registration ─────────────────────────────

    /// @inheritdoc IInvoiceRegistry
    function register(
        address buyer,
        address currency,
        bytes32 invoiceNumber,
        uint256 faceAmount,
        uint64 issueDate,
        uint64 dueDate,
        bytes32 documentHash
    ) external returns (uint256 invoiceId) {
        bytes32 sellerIdentity = _corporateIdentity(_msgSender());
        bytes32 buyerIdentity = _corporateIdentity(buyer);
        invoiceId = _register(
            sellerIdentity,
            buyerIdentity,
            InvoiceInput(buyer, currency, invoiceNumber, faceAmount, issueDate, dueDate, documentHash)
        );
    }

    /// @inheritdoc IInvoiceRegistry
    function registerBatch(InvoiceInput[] calldata invoices) external returns (uint256[] memory invoiceIds) {
        bytes32 sellerIdentity = _corporateIdentity(_msgSender());
        invoiceIds = new uint256[](invoices.length);
        address lastBuyer = address(0);
        bytes32 buyerIdentity = bytes32(0);
        for (uint256 i; i < invoices.length; ++i) {
            InvoiceInput calldata input = invoices[i];
            // Every position's buyer is checked: a zero buyer (never an authorized corporate) is refused
            // wherever it stands, the first position included (audit L3).
            if (i == 0 || input.buyer != lastBuyer) {
                buyerIdentity = _corporateIdentity(input.buyer);
                lastBuyer = input.buyer;
            }
            invoiceIds[i] = _register(sellerIdentity, buyerIdentity, input);
        }
    }

    // ───────────────────────────── Confirmation and customs ─────────────────────────────

    /// @inheritdoc IInvoiceRegistry
    function confirm(uint256 invoiceId) external nonReentrant {
        InvoiceData memory data = _existing(invoiceId);
        address buyer = _msgSender();
        if (buyer != data.buyer) revert InvoiceRegistryNotBuyer(invoiceId, buyer);
        _registry.requireAuthorized(buyer, Roles.CORPORATE);
        _requireNotFrozen(invoiceId);
        _requireState(invoiceId, data, _books[invoiceId], _bit(InvoiceState.Registered));

        _invoices[invoiceId].flags = data.flags | FLAG_CONFIRMED;
        emit InvoiceConfirmed(invoiceId, buyer);
    }

    /// @inheritdoc IInvoiceRegistry
    function attestCustoms(uint256 invoiceId, bytes32 declarationHash, uint256 declaredAmount)
        external
        nonReentrant
    {
        InvoiceData memory data = _existing(invoiceId);
        address attester = _msgSender();
        _registry.requireAuthorized(attester, Roles.ATTESTER);
        _requireNotFrozen(invoiceId);
        _requireState(
            invoiceId, data, _books[invoiceId], _bit(InvoiceState.Registered) | _bit(InvoiceState.Confirmed)
        );
        address previous = _customsAttesters[invoiceId];
        // A declaration is replaced only by its own attester or by a customs authority (audit L7).
        if (previous != address(0) && previous != attester && !_registry.isAuthorized(attester, Roles.CUSTOMS)) {
            revert InvoiceRegistryNotCustomsAttester(invoiceId, previous, attester);
        }

        bool matched = declaredAmount == data.faceAmount;
        uint8 flags = (data.flags & ~FLAG_CUSTOMS_MISMATCH) | FLAG_CUSTOMS_ATTESTED;
        if (!matched) flags |= FLAG_CUSTOMS_MISMATCH;
        _invoices[invoiceId].flags = flags;
        if (previous != attester) _customsAttesters[invoiceId] = attester;
        emit CustomsAttested(invoiceId, attester, declarationHash, declaredAmount, data.faceAmount, matched);
    }

    // ───────────────────────────── Liens ─────────────────────────────

    /// @inheritdoc IInvoiceLiens
    function takeLien(uint256 invoiceId, address creditor, address financier) external nonReentrant {
        InstrumentEntry memory entry = _instruments[msg.sender];
        if (!entry.registered) revert InvoiceRegistryUnauthorizedInstrument(msg.sender);
        _registry.requireAuthorized(msg.sender, Roles.INSTRUMENT);
        InvoiceData memory data = _existing(invoiceId);
        InvoiceBook memory book = _books[invoiceId];
        if (book.lienFinancier != address(0)) {
            revert InvoiceRegistryLienAlreadyHeld(
                invoiceId, _instrumentAt[book.lienInstrumentIndex], book.lienFinancier
            );
        }
        _requireNotFrozen(invoiceId);
        _requireState(invoiceId, data, book, _bit(InvoiceState.Registered) | _bit(InvoiceState.Confirmed));
        // Nobody pledges another's receivable: the party that consented in the instrument owns it (M3).
        address owner = _ownerOf(invoiceId);
        if (creditor != owner) revert InvoiceRegistryCreditorMismatch(invoiceId, owner, creditor);
        if (financier == address(0)) revert InvoiceRegistryNoLien(invoiceId, financier);
        // A frozen, unknown or lapsed party neither pledges nor receives a pledge.
        _registry.requireActive(creditor);
        _registry.requireActive(financier);

        book.lienFinancier = financier;
        book.lienInstrumentIndex = entry.index;
        _books[invoiceId] = book;
        emit LienTaken(invoiceId, msg.sender, financier);
    }

    /// @inheritdoc IInvoiceLiens
    function releaseLien(uint256 invoiceId) external nonReentrant {
        _existing(invoiceId);
        InvoiceBook memory book = _books[invoiceId];
        if (book.lienFinancier == address(0) || _instrumentAt[book.lienInstrumentIndex] != msg.sender) {
            revert InvoiceRegistryNoLien(invoiceId, msg.sender);
        }
        _requireNotFrozen(invoiceId);

        address financier = book.lienFinancier;
        book.lienFinancier = address(0);
        book.lienInstrumentIndex = 0;
        _books[invoiceId] = book;
        emit LienReleased(invoiceId, msg.sender, financier);
    }

    /// @inheritdoc IInvoiceLiens
    function recordSettlement(uint256 invoiceId, uint256 amount) external nonReentrant {
        InvoiceData memory data = _existing(invoiceId);
        InvoiceBook memory book = _books[invoiceId];
        if (book.lienFinancier == address(0) || _instrumentAt[book.lienInstrumentIndex] != msg.sender) {
            revert InvoiceRegistryNoLien(invoiceId, msg.sender);
        }
        _requireNotFrozen(invoiceId);
        uint256 outstanding = uint256(data.faceAmount) - book.paidAmount;
        if (amount == 0 || amount > outstanding) revert InvoiceRegistryInvalidSettlement(invoiceId, amount, outstanding);

        book.paidAmount += uint48(amount); // amount <= outstanding < 2**48
        _books[invoiceId].paidAmount = book.paidAmount;
        emit InvoiceSettledByInstrument(invoiceId, msg.sender, amount, book.paidAmount);
    }

    // ───────────────────────────── Cancellation ─────────────────────────────

    /// @inheritdoc IInvoiceRegistry
    function cancel(uint256 invoiceId, bytes32 reasonCode) external nonReentrant {
        InvoiceData memory data = _existing(invoiceId);
        address seller = _msgSender();
        if (seller != _ownerOf(invoiceId)) revert InvoiceRegistryNotSeller(invoiceId, seller);
        _registry.requireAuthorized(seller, Roles.CORPORATE);
        _requireNotFrozen(invoiceId);
        InvoiceBook memory book = _books[invoiceId];
        _requireState(invoiceId, data, book, _bit(InvoiceState.Registered) | _bit(InvoiceState.Confirmed));
        if (book.paidAmount != 0) revert InvoiceRegistryPaymentsReceived(invoiceId, book.paidAmount);

        _invoices[invoiceId].flags = data.flags | FLAG_CANCELLED;
        emit InvoiceCancelled(invoiceId, seller, reasonCode);
    }

    // ───────────────────────────── Payment ─────────────────────────────

    /// @inheritdoc IInvoiceRegistry
    // The lien instrument's hook is called before the book is written (it must see the invoice as it was);
    // it is an operator-registered contract called under the registry's lock, so it cannot re-enter.
    // slither-disable-next-line reentrancy-no-eth: nonReentrant, and the hook target is a registered instrument
    function pay(uint256 invoiceId, uint256 amount) external nonReentrant {
        InvoiceData memory data = _existing(invoiceId);
        address buyer = _msgSender();
        if (buyer != data.buyer) revert InvoiceRegistryNotBuyer(invoiceId, buyer);
        // The buyer's activity (and every payee's) is checked by the settlement token on the transfer itself.
        _requireNotFrozen(invoiceId);
        InvoiceBook memory book = _books[invoiceId];
        _requireState(
            invoiceId,
            data,
            book,
            _bit(InvoiceState.Registered) | _bit(InvoiceState.Confirmed) | _bit(InvoiceState.Financed)
                | _bit(InvoiceState.Defaulted)
        );
        uint256 outstanding = uint256(data.faceAmount) - book.paidAmount;
        if (amount == 0) revert InvoiceRegistryInvalidAmount(amount);
        if (amount > outstanding) revert InvoiceRegistryOverpayment(invoiceId, amount, outstanding);

        address financier = book.lienFinancier;
        (address instrument, uint256 toFinancier, bool release) = _lienShare(invoiceId, book, amount, outstanding);

        book.paidAmount += uint48(amount); // amount <= outstanding < 2**48
        if (release) {
            book.lienFinancier = address(0);
            book.lienInstrumentIndex = 0;
        }
        _books[invoiceId] = book;

        emit InvoicePaid(invoiceId, buyer, amount, toFinancier, amount - toFinancier, book.paidAmount);
        if (release) emit LienReleased(invoiceId, instrument, financier);

        _settle(ISettlementToken(_currencyAt[data.currencyIndex]), buyer, invoiceId, financier, toFinancier, amount);
    }

    // ───────────────────────────── Views ─────────────────────────────

    /// @inheritdoc IInvoiceLiens
    function invoice(uint256 invoiceId) external view returns (InvoiceView memory view_) {
        InvoiceData memory data = _invoices[invoiceId];
        InvoiceBook memory book = _books[invoiceId];
        view_.state = _stateOf(data, book);
        if (view_.state == InvoiceState.None) return view_;
        view_.seller = _ownerOf(invoiceId);
        view_.buyer = data.buyer;
        view_.currency = _currencyAt[data.currencyIndex];
        view_.faceAmount = data.faceAmount;
        view_.paidAmount = book.paidAmount;
        view_.dueDate = data.dueDate;
        if (book.lienFinancier != address(0)) {
            view_.lienInstrument = _instrumentAt[book.lienInstrumentIndex];
            view_.lienFinancier = book.lienFinancier;
        }
    }

    /// @inheritdoc IInvoiceRegistry
    function state(uint256 invoiceId) external view returns (InvoiceState) {
        return _stateOf(_invoices[invoiceId], _books[invoiceId]);
    }

    /// @inheritdoc IInvoiceRegistry
    function invoiceKey(address seller, address buyer, bytes32 invoiceNumber) external view returns (bytes32) {
        return _key(_registry.identityHashOf(seller), _registry.identityHashOf(buyer), _canonical(invoiceNumber));
    }

    /// @inheritdoc IInvoiceRegistry
    function canonicalInvoiceNumber(bytes32 invoiceNumber) external pure returns (bytes32) {
        return _canonical(invoiceNumber);
    }

    /// @inheritdoc IInvoiceRegistry
    function customsAttesterOf(uint256 invoiceId) external view returns (address) {
        return _customsAttesters[invoiceId];
    }

    /// @inheritdoc IInvoiceRegistry
    function customsOf(uint256 invoiceId) external view returns (bool attested, bool matched) {
        uint8 flags = _invoices[invoiceId].flags;
        attested = flags & FLAG_CUSTOMS_ATTESTED != 0;
        matched = attested && flags & FLAG_CUSTOMS_MISMATCH == 0;
    }

    /// @inheritdoc IInvoiceRegistry
    function gracePeriod() external view returns (uint32) {
        return _gracePeriod;
    }

    /// @inheritdoc IInvoiceRegistry
    function isInstrument(address instrument) external view returns (bool) {
        return _instruments[instrument].registered;
    }

    /// @inheritdoc IInvoiceRegistry
    function isCurrency(address token) external view returns (bool) {
        return _currencies[token].accepted;
    }

    /// @inheritdoc IInvoiceRegistry
    function participantRegistry() external view returns (address) {
        return address(_registry);
    }

    // ───────────────────────────── Token transfers ─────────────────────────────

    /// @dev Assignment of a receivable: only `Registered` or `Confirmed` (no lien), unfrozen, from an
    /// authorized corporate to an authorized corporate that is not the debtor's identity; an approved
    /// operator moving it must be active (audit H3: a frozen or lapsed owner, or an operator it approved
    /// earlier, cannot hand the receivable to an accomplice). Mints pass straight through (registration has
    /// checked everything).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0)) {
            if (_reentrancyGuardEntered()) revert ReentrancyGuardReentrantCall();
            InvoiceData memory data = _invoices[tokenId];
            _requireNotFrozen(tokenId);
            _requireState(
                tokenId, data, _books[tokenId], _bit(InvoiceState.Registered) | _bit(InvoiceState.Confirmed)
            );
            _registry.requireAuthorized(from, Roles.CORPORATE);
            bytes32 toIdentity = _corporateIdentity(to);
            if (auth != address(0) && auth != from) _registry.requireActive(auth);
            if (toIdentity == _registry.identityHashOf(data.buyer)) revert InvoiceRegistrySameParty(toIdentity);
        }
        return super._update(to, tokenId, auth);
    }

    // ───────────────────────────── Internals ─────────────────────────────

    function _register(bytes32 sellerIdentity, bytes32 buyerIdentity, InvoiceInput memory input)
        private
        returns (uint256 invoiceId)
    {
        if (sellerIdentity == buyerIdentity) revert InvoiceRegistrySameParty(sellerIdentity);
        CurrencyEntry memory currency = _currencies[input.currency];
        if (!currency.accepted) revert InvoiceRegistryUnsupportedCurrency(input.currency);
        if (input.faceAmount == 0 || input.faceAmount > type(uint48).max) {
            revert InvoiceRegistryInvalidAmount(input.faceAmount);
        }
        if (input.dueDate <= block.timestamp || input.dueDate > type(uint32).max) {
            revert InvoiceRegistryInvalidDueDate(input.dueDate, block.timestamp);
        }
        bytes32 invoiceNumber = _canonical(input.invoiceNumber);
        bytes32 key = _key(sellerIdentity, buyerIdentity, invoiceNumber);
        invoiceId = uint256(key);
        if (_invoices[invoiceId].buyer != address(0)) revert InvoiceRegistryAlreadyRegistered(key, invoiceId);

        _invoices[invoiceId] = InvoiceData({
            buyer: input.buyer,
            faceAmount: uint48(input.faceAmount),
            dueDate: uint32(input.dueDate),
            currencyIndex: currency.index,
            flags: 0
        });
        address seller = _msgSender();
        emit InvoiceRegistered(
            invoiceId,
            seller,
            input.buyer,
            input.currency,
            input.faceAmount,
            input.issueDate,
            input.dueDate,
            invoiceNumber,
            input.documentHash
        );
        _mint(seller, invoiceId);
    }

    /// @dev What the lien's financier is owed out of `amount`, asked of the lien instrument (a trusted,
    /// operator-registered contract that implements the hook, called while the registry is locked; it may
    /// revert to refuse the payment). No lien: nothing.
    function _lienShare(uint256 invoiceId, InvoiceBook memory book, uint256 amount, uint256 outstanding)
        private
        returns (address instrument, uint256 toFinancier, bool release)
    {
        if (book.lienFinancier == address(0)) return (address(0), 0, false);
        instrument = _instrumentAt[book.lienInstrumentIndex];
        (toFinancier, release) = IInvoicePaymentHook(instrument).onInvoicePayment(invoiceId, amount, outstanding);
        if (toFinancier > amount) toFinancier = amount;
    }

    /// @dev Moves the buyer's payment: `toFinancier` to the financier, the rest to the invoice owner (a payment
    /// shared by both moves in one token call). A settlement token returns true or reverts, so its boolean
    /// result carries nothing (hence the `unused-return` exclusions).
    function _settle(
        ISettlementToken token,
        address buyer,
        uint256 invoiceId,
        address financier,
        uint256 toFinancier,
        uint256 amount
    ) private {
        uint256 toOwner = amount - toFinancier;
        if (toOwner == 0) {
            // slither-disable-next-line unused-return: a settlement token returns true or reverts
            token.transferFromWithPurpose(buyer, financier, toFinancier, PURPOSE_GOODS, bytes32(invoiceId));
        } else if (toFinancier == 0) {
            // slither-disable-next-line unused-return: a settlement token returns true or reverts
            token.transferFromWithPurpose(buyer, _ownerOf(invoiceId), toOwner, PURPOSE_GOODS, bytes32(invoiceId));
        } else {
            // slither-disable-next-line unused-return: a settlement token returns true or reverts
            token.transferFromWithPurposeSplit(
                buyer, financier, toFinancier, _ownerOf(invoiceId), toOwner, PURPOSE_GOODS, bytes32(invoiceId)
            );
        }
    }

    /// @dev The identity of an authorized corporate (`requireAuthorized(account, CORPORATE_ROLE)`).
    function _corporateIdentity(address account) private view returns (bytes32) {
        _registry.requireAuthorized(account, Roles.CORPORATE);
        return _registry.identityHashOf(account);
    }

    /// @dev The canonical invoice number (see `canonicalInvoiceNumber`), byte-wise on the whole word: every
    /// byte below 0x80, so adding a constant below 0x80 to each byte never carries into the next one.
    function _canonical(bytes32 invoiceNumber) private pure returns (bytes32) {
        uint256 w = uint256(invoiceNumber);
        if (w & BYTE_HIGH_BITS != 0) revert InvoiceRegistryInvalidInvoiceNumber(invoiceNumber);
        uint256 nonZero = (w + BYTE_ONES * 0x7F) & BYTE_HIGH_BITS; // byte >= 0x01
        uint256 printable = (w + BYTE_ONES * 0x5F) & ~(w + BYTE_ONES * 0x01) & BYTE_HIGH_BITS; // 0x21..0x7E
        // Every character printable, the first byte a character, and the characters a prefix (zero padding
        // after them): no byte's marker without the marker of the byte before it, but the first byte's.
        if (nonZero != printable || (nonZero & ~(nonZero >> 8)) != 1 << 255) {
            revert InvoiceRegistryInvalidInvoiceNumber(invoiceNumber);
        }
        uint256 lower = (w + BYTE_ONES * 0x1F) & ~(w + BYTE_ONES * 0x05) & BYTE_HIGH_BITS; // 0x61..0x7A
        return bytes32(w - (lower >> 2)); // 0x80 >> 2 == 0x20: 'a' - 'A'
    }

    function _existing(uint256 invoiceId) private view returns (InvoiceData memory data) {
        data = _invoices[invoiceId];
        if (data.buyer == address(0)) revert InvoiceRegistryUnknownInvoice(invoiceId);
    }

    function _requireNotFrozen(uint256 invoiceId) private view {
        if (_registry.isInstrumentFrozen(address(this), invoiceId)) revert InvoiceRegistryFrozen(invoiceId);
    }

    function _requireState(uint256 invoiceId, InvoiceData memory data, InvoiceBook memory book, bytes32 expected)
        private
        view
    {
        InvoiceState current = _stateOf(data, book);
        if (_bit(current) & expected == 0) revert InvoiceRegistryUnexpectedState(invoiceId, current, expected);
    }

    /// @dev Cancelled > Paid > Defaulted > Financed > Confirmed > Registered. A financed invoice past due
    /// plus grace reads `Defaulted` (its lien is still visible in `invoice()`).
    function _stateOf(InvoiceData memory data, InvoiceBook memory book) private view returns (InvoiceState) {
        if (data.buyer == address(0)) return InvoiceState.None;
        if (data.flags & FLAG_CANCELLED != 0) return InvoiceState.Cancelled;
        if (book.paidAmount >= data.faceAmount) return InvoiceState.Paid;
        if (block.timestamp > uint256(data.dueDate) + _gracePeriod) return InvoiceState.Defaulted;
        if (book.lienFinancier != address(0)) return InvoiceState.Financed;
        if (data.flags & FLAG_CONFIRMED != 0) return InvoiceState.Confirmed;
        return InvoiceState.Registered;
    }

    function _key(bytes32 sellerIdentity, bytes32 buyerIdentity, bytes32 invoiceNumber)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(sellerIdentity, buyerIdentity, invoiceNumber));
    }

    function _bit(InvoiceState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _nextIndex(uint8 count) private pure returns (uint8) {
        if (count == type(uint8).max) revert InvoiceRegistryTooManyEntries();
        return count + 1;
    }

    // ───────────────────────────── ERC-2771 ─────────────────────────────

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
