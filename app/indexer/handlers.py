"""From (contract type, event name) to a small function that turns one decoded event into typed rows.

Every event also lands in `chain_events` whatever its contract (the worker does that); a handler only
adds the typed view. Adding an instrument is adding its rows here:

    @handles("LetterOfCredit", "LetterOfCreditIssued")
    def _lc_issued(e: EventContext) -> None: ...

Handlers change state rows through `e.store` (journaled for reorgs) and link the event to the audit
trail of the instruments it concerns with `e.link(uid)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from app.core.enums import (
    CertificateState,
    CreditState,
    DocumentType,
    FinancingState,
    KycStatus,
    ParticipantKind,
    PresentationState,
    name_of,
)
from app.core.states import (
    can_be_precluded,
    examined_state,
    presentation_deadline,
    stored_credit_state,
    stored_invoice_state,
)
from app.db.index_models import NO_KYC
from app.indexer.store import Store
from app.schemas.index import CONTRACT_OF_KIND

# The version of what these handlers write: raised when they come to write rows an earlier version did not
# write from the same events, which only a rebuild of the index from the deployment block fills in (the
# worker's `Indexer.rebuild_if_outdated`). 2: instruments record who named each document hash
# (`details.document_namers`), which the read grants come from (`app.services.document_access`). 3: credits read
# `Exhausted`, presentations carry their examination deadline in `due_at` (`app.core.states`), an invoice a credit
# paid reads `Paid`.
INDEX_VERSION = 3

ZERO = "0x0000000000000000000000000000000000000000"

# Instrument kinds as they appear in uids (`invoice:<id>`) and routes (`/v1/instruments/invoice`),
# with the deployed contract that holds them.
INSTRUMENT_KIND_OF_CONTRACT = {contract: kind for kind, contract in CONTRACT_OF_KIND.items()}


def ascii_of(value: str | None) -> str:
    """A `bytesN` code from an event (0x-hex) as its ASCII letters (`0x5553` → `US`)."""
    if not value:
        return ""
    return bytes.fromhex(value[2:]).rstrip(b"\0").decode("ascii", "replace")


def day_of(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def uid(kind: str, instrument_id: int | str) -> str:
    return f"{kind}:{instrument_id}"


@dataclass
class RangeState:
    """What handlers share across the events of one range (beyond the database)."""

    contract_names: dict[str, str]  # address → deployed name
    contract_types: dict[str, str]  # address → contract type
    # (tx hash, token) → the transfer row the token's follow-up events (PaymentTransfer...) complete.
    last_transfer: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    transfers: list[dict[str, Any]] = field(default_factory=list)  # new transfers (for the alert rules)
    financings: list[dict[str, Any]] = field(default_factory=list)  # new liens (for the alert rules)


@dataclass
class EventContext:
    store: Store
    range: RangeState
    event_id: int
    block_number: int
    timestamp: int
    tx_hash: str
    log_index: int
    address: str
    contract: str  # deployed name
    name: str
    args: dict[str, Any]
    actor: str | None
    linked: set[str] = field(default_factory=set)  # instruments this event is already linked to

    def link(self, instrument_uid: str) -> None:
        """Put this event in the audit trail of `instrument_uid` (once, however many of its arguments name
        it: settling a root certificate names it as both `certificateId` and `rootId`)."""
        if instrument_uid in self.linked:
            return
        self.linked.add(instrument_uid)
        self.store.append("instrument_events", {"instrument": instrument_uid, "event_id": self.event_id,
                                                "block_number": self.block_number})

    def currency_of(self, token: str) -> str | None:
        row = self.store.get("idx_currencies", token)
        if row is not None:
            return row["currency"]
        name = self.range.contract_names.get(token, "")
        return name.removeprefix("SettlementToken") if name.startswith("SettlementToken") else None


Handler = Callable[[EventContext], None]
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(contract_type: str, event: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[(contract_type, event)] = fn
        return fn

    return register


# ───────────────────────────── Participants ─────────────────────────────

# A legal identity (`identityHash`) may have several wallets: the first registered, the others linked by the
# operator (`linkWallet`: `ParticipantRegistered` then `WalletLinked`). KYC and freezes belong to the
# identity, so every wallet's row carries the same values. KYC is per bank: each bank's own attestation is a
# row of `idx_kyc_attestations`; the identity is valid until the latest approved expiry, which the registry
# announces with `KycValidityChanged` after any attestation that moves it and after the regulator's
# revocation (`KycRevokedByRegulator`, which turns every attestation to `Revoked`).

FREEZE_FIELDS = ("frozen", "freeze_reason", "frozen_by", "frozen_at")


@handles("ParticipantRegistry", "ParticipantRegistered")
def _participant_registered(e: EventContext) -> None:
    a = e.args
    account, identity_hash = a["account"], a["identityHash"]
    kind = name_of(ParticipantKind, a["kind"])
    row = {"address": account, "kind": kind, "jurisdiction": ascii_of(a["jurisdiction"]),
           "identity_hash": identity_hash, "frozen": False, "freeze_reason": None, "frozen_by": None,
           "frozen_at": None, "kyc_status": NO_KYC, "kyc_expiry": 0, "kyc_bank": None,
           "registered_block": e.block_number}
    identity = e.store.get("idx_identities", identity_hash)
    if identity is None:
        identity = {"identity_hash": identity_hash, "kind": kind, "wallets": [], "links": [], "kyc_banks": [],
                    "kyc_valid_until": 0, "kyc_status": NO_KYC, "kyc_bank": None, "last_kyc_status": NO_KYC,
                    "last_kyc_bank": None, "revoked_by": None, "revoke_reason": None, "revoked_at": None,
                    "registered_block": e.block_number, "updated_block": e.block_number}
    else:
        # A linked wallet: the registry copies the identity's KYC validity and freeze to it.
        row.update({f: identity[f] for f in ("kyc_status", "kyc_bank")}, kyc_expiry=identity["kyc_valid_until"])
        sibling = e.store.get("idx_participants", identity["wallets"][0]) if identity["wallets"] else None
        if sibling is not None:
            row.update({f: sibling[f] for f in FREEZE_FIELDS})
    if account not in identity["wallets"]:
        identity = {**identity, "wallets": [*identity["wallets"], account], "updated_block": e.block_number}
    e.store.put("idx_identities", identity)
    e.store.put("idx_participants", row)


@handles("ParticipantRegistry", "WalletLinked")
def _wallet_linked(e: EventContext) -> None:
    a = e.args
    identity = e.store.get("idx_identities", a["identityHash"])
    if identity is None:
        return
    link = {"wallet": a["wallet"], "existing": a["existing"], "block_number": e.block_number,
            "timestamp": e.timestamp}
    wallets = identity["wallets"] if a["wallet"] in identity["wallets"] else [*identity["wallets"], a["wallet"]]
    e.store.put("idx_identities", {**identity, "wallets": wallets, "links": [*identity["links"], link],
                                   "updated_block": e.block_number})


def _identity_of(e: EventContext, account: str) -> dict[str, Any] | None:
    row = e.store.get("idx_participants", account)
    return e.store.get("idx_identities", row["identity_hash"]) if row is not None else None


def _apply_kyc(e: EventContext, identity: dict[str, Any]) -> None:
    """Derive the identity's KYC standing from its validity and attestations, write it, and copy it to
    every wallet of the identity."""
    valid_until = identity["kyc_valid_until"]
    if valid_until > 0:
        status, bank = KycStatus.Approved.name, None
        for candidate in identity["kyc_banks"]:
            attestation = e.store.get("idx_kyc_attestations", identity["identity_hash"], candidate)
            if attestation and attestation["status"] == KycStatus.Approved.name \
                    and attestation["expiry"] == valid_until:
                bank = candidate
                break
    else:
        status, bank = identity["last_kyc_status"], identity["last_kyc_bank"]
    identity = {**identity, "kyc_status": status, "kyc_bank": bank, "updated_block": e.block_number}
    e.store.put("idx_identities", identity)
    for wallet in identity["wallets"]:
        row = e.store.get("idx_participants", wallet)
        if row is not None:
            e.store.put("idx_participants", {**row, "kyc_status": status, "kyc_expiry": valid_until, "kyc_bank": bank})


@handles("ParticipantRegistry", "KycAttested")
def _kyc_attested(e: EventContext) -> None:
    """The bank's own attestation; the identity's validity follows in `KycValidityChanged` when it moves."""
    a = e.args
    identity = _identity_of(e, a["account"])
    if identity is None:
        return
    status = name_of(KycStatus, a["status"])
    e.store.put("idx_kyc_attestations", {
        "identity_hash": identity["identity_hash"], "bank": a["bank"], "account": a["account"], "status": status,
        "expiry": a["expiry"], "evidence_hash": a["evidenceHash"], "attested_at": e.timestamp,
        "attested_block": e.block_number, "revoked_by": None,
    })
    banks = identity["kyc_banks"] if a["bank"] in identity["kyc_banks"] else [*identity["kyc_banks"], a["bank"]]
    _apply_kyc(e, {**identity, "kyc_banks": banks, "last_kyc_status": status, "last_kyc_bank": a["bank"]})


@handles("ParticipantRegistry", "KycRevokedByRegulator")
def _kyc_revoked_by_regulator(e: EventContext) -> None:
    a = e.args
    identity = _identity_of(e, a["account"])
    if identity is None:
        return
    for bank in identity["kyc_banks"]:
        attestation = e.store.get("idx_kyc_attestations", identity["identity_hash"], bank)
        if attestation is not None:
            e.store.put("idx_kyc_attestations", {**attestation, "status": KycStatus.Revoked.name, "expiry": 0,
                                                 "revoked_by": a["regulator"]})
    _apply_kyc(e, {**identity, "last_kyc_status": KycStatus.Revoked.name, "last_kyc_bank": None,
                   "revoked_by": a["regulator"], "revoke_reason": a["reasonCode"], "revoked_at": e.timestamp})


@handles("ParticipantRegistry", "KycValidityChanged")
def _kyc_validity_changed(e: EventContext) -> None:
    identity = e.store.get("idx_identities", e.args["identityHash"])
    if identity is not None:
        _apply_kyc(e, {**identity, "kyc_valid_until": e.args["validUntil"]})


def _participant_freeze(e: EventContext, frozen: bool) -> None:
    row = e.store.get("idx_participants", e.args["account"])
    if row is not None:
        e.store.put("idx_participants", {**row, "frozen": frozen, "freeze_reason": e.args["reasonCode"],
                                         "frozen_by": e.args["regulator"], "frozen_at": e.timestamp})


@handles("ParticipantRegistry", "ParticipantFrozen")
def _participant_frozen(e: EventContext) -> None:
    _participant_freeze(e, True)


@handles("ParticipantRegistry", "ParticipantUnfrozen")
def _participant_unfrozen(e: EventContext) -> None:
    _participant_freeze(e, False)


def _instrument_freeze(e: EventContext, frozen: bool) -> None:
    a = e.args
    e.store.put("idx_frozen_instruments", {
        "contract": a["instrument"], "instrument_id": str(a["instrumentId"]), "frozen": frozen,
        "reason": a["reasonCode"], "regulator": a["regulator"], "changed_at": e.timestamp,
        "changed_block": e.block_number,
    })
    kind = INSTRUMENT_KIND_OF_CONTRACT.get(e.range.contract_types.get(a["instrument"], ""))
    if kind is not None:
        key = uid(kind, a["instrumentId"])
        e.link(key)
        row = e.store.get("idx_instruments", key)
        if row is not None:
            if kind == "letter_of_credit" and frozen != row["frozen"]:
                _move_deadlines(e, row, frozen)
            details = {**row["details"], "frozen_since": e.timestamp if frozen else None} \
                if kind == "letter_of_credit" else row["details"]
            e.store.put("idx_instruments", {**row, "frozen": frozen, "details": details,
                                            "updated_block": e.block_number, "updated_at": e.timestamp})


@handles("ParticipantRegistry", "InstrumentFrozen")
def _instrument_frozen(e: EventContext) -> None:
    _instrument_freeze(e, True)


@handles("ParticipantRegistry", "InstrumentUnfrozen")
def _instrument_unfrozen(e: EventContext) -> None:
    _instrument_freeze(e, False)


# ───────────────────────────── Money ─────────────────────────────

def _move_balance(e: EventContext, account: str, currency: str, delta: int) -> None:
    row = e.store.get("idx_balances", account, currency)
    amount = (row["amount"] if row else 0) + delta
    e.store.put("idx_balances", {"address": account, "currency": currency, "amount": amount,
                                 "updated_block": e.block_number})


def _jurisdiction(e: EventContext, account: str) -> str | None:
    row = e.store.get("idx_participants", account) if account != ZERO else None
    return row["jurisdiction"] if row else None


@handles("SettlementToken", "Transfer")
def _token_transfer(e: EventContext) -> None:
    currency = e.currency_of(e.address) or "???"
    sender, receiver, value = e.args["from"], e.args["to"], e.args["value"]
    if sender != ZERO:
        _move_balance(e, sender, currency, -value)
    if receiver != ZERO:
        _move_balance(e, receiver, currency, value)
    kind = "mint" if sender == ZERO else "burn" if receiver == ZERO else "transfer"
    from_j, to_j = _jurisdiction(e, sender), _jurisdiction(e, receiver)
    row = e.store.append("idx_transfers", {
        "event_id": e.event_id, "block_number": e.block_number, "timestamp": e.timestamp,
        "day": day_of(e.timestamp), "tx_hash": e.tx_hash, "token": e.address, "currency": currency,
        "from_address": sender, "to_address": receiver, "amount": value, "kind": kind, "purpose_code": None,
        "reference": None, "from_jurisdiction": from_j, "to_jurisdiction": to_j,
        "cross_border": kind == "transfer" and from_j is not None and to_j is not None and from_j != to_j,
        "large_value": False,
    })
    e.range.last_transfer[(e.tx_hash, e.address)] = row
    if kind == "transfer":
        e.range.transfers.append(row)


def _current_transfer(e: EventContext) -> dict[str, Any] | None:
    return e.range.last_transfer.get((e.tx_hash, e.address))


@handles("SettlementToken", "PaymentTransfer")
def _payment_transfer(e: EventContext) -> None:
    row = _current_transfer(e)
    if row is not None:
        row["purpose_code"] = ascii_of(e.args["purposeCode"]) or None
        row["reference"] = e.args["paymentReference"]


@handles("SettlementToken", "CrossBorderTransfer")
def _cross_border(e: EventContext) -> None:
    row = _current_transfer(e)
    if row is not None:
        row.update(cross_border=True, from_jurisdiction=ascii_of(e.args["fromJurisdiction"]),
                   to_jurisdiction=ascii_of(e.args["toJurisdiction"]),
                   purpose_code=ascii_of(e.args["purposeCode"]) or row["purpose_code"])


@handles("SettlementToken", "LargeValueReported")
def _large_value(e: EventContext) -> None:
    a = e.args
    row = _current_transfer(e)
    if row is not None:
        row["large_value"] = True
    e.store.append("idx_large_value_reports", {
        "event_id": e.event_id, "block_number": e.block_number, "timestamp": e.timestamp, "tx_hash": e.tx_hash,
        "currency": ascii_of(a["currency"]), "from_address": a["from"], "to_address": a["to"], "amount": a["amount"],
        "threshold": a["threshold"], "purpose_code": ascii_of(a["purposeCode"]) or None,
        "reference": a["paymentReference"],
    })


@handles("SettlementToken", "DepositMinted")
def _deposit_minted(e: EventContext) -> None:
    row = _current_transfer(e)
    if row is not None:
        row["reference"] = e.args["paymentReference"]


@handles("SettlementToken", "DepositBurned")
def _deposit_burned(e: EventContext) -> None:
    _deposit_minted(e)


@handles("SettlementToken", "LargeValueThresholdSet")
def _threshold_set(e: EventContext) -> None:
    currency = e.currency_of(e.address) or "???"
    e.store.put("idx_currencies", {"token": e.address, "currency": currency,
                                   "large_value_threshold": e.args["threshold"]})


# ───────────────────────────── Invoices and liens ─────────────────────────────

def invoice_state(details: dict[str, Any]) -> str:
    """The invoice's stored state from its facts (`app.core.states`: the queries add `Defaulted`)."""
    return stored_invoice_state(details["cancelled"], details["paid_amount"], details["face_amount"],
                                details["lien_financier"], details["confirmed"]).name


def _invoice(e: EventContext, id_arg: str = "invoiceId") -> tuple[str, dict[str, Any] | None]:
    key = uid("invoice", e.args[id_arg])
    e.link(key)
    return key, e.store.get("idx_instruments", key)


def _save_invoice(e: EventContext, row: dict[str, Any], details: dict[str, Any]) -> None:
    e.store.put("idx_instruments", {**row, "details": details, "state": invoice_state(details),
                                    "updated_block": e.block_number, "updated_at": e.timestamp})


def _namers_of(instrument: dict[str, Any] | None) -> dict[str, str]:
    """Who put each document hash an instrument carries on chain (hash → namer): what an instrument that
    carries the same documents (a financing or a certificate of the invoice) inherits."""
    return dict((instrument or {}).get("details", {}).get("document_namers") or {})


def _add_party(e: EventContext, instrument_uid: str, kind: str, participant: str, role: str, created_at: int,
               new: bool = False) -> None:
    e.store.put("idx_instrument_parties", {"instrument": instrument_uid, "participant": participant, "role": role,
                                           "kind": kind, "created_at": created_at}, new=new)


@handles("InvoiceRegistry", "InvoiceRegistered")
def _invoice_registered(e: EventContext) -> None:
    a = e.args
    key = uid("invoice", a["invoiceId"])
    e.link(key)
    details = {
        "seller": a["seller"], "buyer": a["buyer"], "currency_token": a["currency"], "face_amount": a["faceAmount"],
        "paid_amount": 0, "issue_date": a["issueDate"], "due_date": a["dueDate"], "invoice_number": a["invoiceNumber"],
        "document_hash": a["documentHash"], "confirmed": False, "cancelled": False, "customs": None,
        "lien_instrument": None, "lien_financier": None,
        # Who put each document hash on chain (`app.services.document_access`): the registering seller, for
        # good; an assignee of the invoice (below, `seller` changes) names nothing.
        "document_namers": {a["documentHash"]: a["seller"]},
    }
    e.store.put("idx_instruments", {
        "uid": key, "kind": "invoice", "instrument_id": str(a["invoiceId"]), "contract": e.address,
        "state": invoice_state(details), "currency": e.currency_of(a["currency"]), "amount": a["faceAmount"],
        "document_hash": a["documentHash"], "due_at": a["dueDate"], "frozen": False,
        "created_block": e.block_number, "created_at": e.timestamp, "updated_block": e.block_number,
        "updated_at": e.timestamp, "details": details,
    }, new=True)
    _add_party(e, key, "invoice", a["seller"], "seller", e.timestamp, new=True)
    _add_party(e, key, "invoice", a["buyer"], "buyer", e.timestamp, new=True)


@handles("InvoiceRegistry", "Transfer")
def _invoice_assigned(e: EventContext) -> None:
    """ERC-721 transfer: a mint is the registration itself; otherwise the receivable is assigned."""
    if e.args["from"] == ZERO or e.args["to"] == ZERO:
        key = uid("invoice", e.args["tokenId"])
        e.link(key)
        return
    key, row = _invoice(e, "tokenId")
    if row is not None:
        _save_invoice(e, row, {**row["details"], "seller": e.args["to"]})
        _add_party(e, key, "invoice", e.args["to"], "seller", row["created_at"])


@handles("InvoiceRegistry", "InvoiceConfirmed")
def _invoice_confirmed(e: EventContext) -> None:
    _, row = _invoice(e)
    if row is not None:
        _save_invoice(e, row, {**row["details"], "confirmed": True})


@handles("InvoiceRegistry", "CustomsAttested")
def _customs_attested(e: EventContext) -> None:
    key, row = _invoice(e)
    if row is not None:
        a = e.args
        customs = {"attester": a["attester"], "declaration_hash": a["declarationHash"],
                   "declared_amount": a["declaredAmount"], "matched": a["matched"]}
        _save_invoice(e, row, {**row["details"], "customs": customs})
        # The attester follows the invoice; it reads none of its documents (`document_access.READER_ROLES`).
        _add_party(e, key, "invoice", a["attester"], "attester", row["created_at"])


@handles("InvoiceRegistry", "InvoiceCancelled")
def _invoice_cancelled(e: EventContext) -> None:
    _, row = _invoice(e)
    if row is not None:
        _save_invoice(e, row, {**row["details"], "cancelled": True, "cancel_reason": e.args["reasonCode"]})


@handles("InvoiceRegistry", "InvoicePaid")
def _invoice_paid(e: EventContext) -> None:
    _, row = _invoice(e)
    if row is not None:
        _save_invoice(e, row, {**row["details"], "paid_amount": e.args["paidAmount"]})


@handles("InvoiceRegistry", "InvoiceSettledByInstrument")
def _invoice_settled_by_instrument(e: EventContext) -> None:
    """An instrument paid the invoice (a credit's presentation that named it): paid as by its buyer."""
    _, row = _invoice(e)
    if row is not None:
        _save_invoice(e, row, {**row["details"], "paid_amount": e.args["paidAmount"]})


@handles("InvoiceRegistry", "LienTaken")
def _lien_taken(e: EventContext) -> None:
    key, row = _invoice(e)
    a = e.args
    seller = row["details"]["seller"] if row else None
    lien = e.store.put("idx_liens", {
        "taken_event_id": e.event_id, "invoice_id": str(a["invoiceId"]), "instrument": a["instrument"],
        "financier": a["financier"], "seller": seller, "amount": row["amount"] if row else None,
        "currency": row["currency"] if row else None, "taken_block": e.block_number, "taken_at": e.timestamp,
        "released_event_id": None, "released_at": None,
    }, new=True)
    e.range.financings.append({**lien, "event_id": e.event_id})
    if row is not None:
        _save_invoice(e, row, {**row["details"], "lien_instrument": a["instrument"],
                               "lien_financier": a["financier"], "lien_event_id": e.event_id})
        _add_party(e, key, "invoice", a["financier"], "financier", row["created_at"])


@handles("InvoiceRegistry", "LienReleased")
def _lien_released(e: EventContext) -> None:
    _, row = _invoice(e)
    if row is None:
        return
    taken = row["details"].get("lien_event_id")
    if taken is not None:
        lien = e.store.get("idx_liens", taken)
        if lien is not None:
            e.store.put("idx_liens", {**lien, "released_event_id": e.event_id, "released_at": e.timestamp})
    _save_invoice(e, row, {**row["details"], "lien_instrument": None, "lien_financier": None, "lien_event_id": None})


@handles("InvoiceRegistry", "GracePeriodSet")
def _grace_period_set(e: EventContext) -> None:
    e.store.put("idx_contract_parameters", {"contract": e.address, "name": "gracePeriod",
                                            "value": e.args["gracePeriod"]})


@handles("InvoiceRegistry", "InstrumentSet")
def _instrument_set(e: EventContext) -> None:
    """The operator (de)registered a lien instrument (every one implements the payment hook): kept as the
    registry's parameter `lienInstrument:<address>` (1 registered, 0 no longer)."""
    e.store.put("idx_contract_parameters", {"contract": e.address, "name": f"lienInstrument:{e.args['instrument']}",
                                            "value": 1 if e.args["registered"] else 0})


# ───────────────────────────── Receivable financing ─────────────────────────────

def _financing(e: EventContext) -> tuple[str, dict[str, Any] | None]:
    key = uid("financing", e.args["financingId"])
    e.link(key)
    return key, e.store.get("idx_instruments", key)


def _save(e: EventContext, row: dict[str, Any], state: IntEnum | None = None, columns: dict[str, Any] | None = None,
          **details: Any) -> None:
    """Write an instrument back with a new state (its contract's enum member, stored by name; None: unchanged),
    column values and detail fields."""
    e.store.put("idx_instruments", {**row, **(columns or {}),
                                    "state": state.name if state is not None else row["state"],
                                    "details": {**row["details"], **details},
                                    "updated_block": e.block_number, "updated_at": e.timestamp})


@handles("ReceivableFinancing", "FinancingApplied")
def _financing_applied(e: EventContext) -> None:
    a = e.args
    key = uid("financing", a["financingId"])
    e.link(key)
    e.link(uid("invoice", a["invoiceId"]))
    invoice = e.store.get("idx_instruments", uid("invoice", a["invoiceId"]))
    details = {"invoice_id": str(a["invoiceId"]), "seller": a["seller"], "bank": a["bank"],
               "buyer": invoice["details"]["buyer"] if invoice else None, "requested_amount": a["requestedAmount"],
               "programme_id": str(a["programmeId"]), "advance_amount": None, "rate_bps": None, "maturity": None,
               "terms_hash": None, "repaid": 0, "outstanding": None, "reason_code": None,
               "document_namers": _namers_of(invoice)}
    e.store.put("idx_instruments", {
        "uid": key, "kind": "financing", "instrument_id": str(a["financingId"]), "contract": e.address,
        "state": FinancingState.Applied.name, "currency": invoice["currency"] if invoice else None,
        "amount": a["requestedAmount"],
        "document_hash": invoice["document_hash"] if invoice else None, "due_at": None, "frozen": False,
        "created_block": e.block_number, "created_at": e.timestamp, "updated_block": e.block_number,
        "updated_at": e.timestamp, "details": details,
    }, new=True)
    _add_party(e, key, "financing", a["seller"], "seller", e.timestamp, new=True)
    _add_party(e, key, "financing", a["bank"], "bank", e.timestamp, new=True)
    if details["buyer"]:  # follows the financing of its invoice; reads none of its documents (`READER_ROLES`)
        _add_party(e, key, "financing", details["buyer"], "buyer", e.timestamp, new=True)


@handles("ReceivableFinancing", "FinancingApproved")
def _financing_approved(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        a = e.args
        _save(e, row, FinancingState.Active, {"amount": a["advanceAmount"], "due_at": a["maturity"]},
              advance_amount=a["advanceAmount"], rate_bps=a["rateBps"], maturity=a["maturity"],
              terms_hash=a["termsHash"],  # the agreement, named by the approving bank
              document_namers={**_namers_of(row), a["termsHash"]: a["bank"]})


@handles("ReceivableFinancing", "FinancingRejected")
def _financing_rejected(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        _save(e, row, FinancingState.Rejected, reason_code=e.args["reasonCode"])


@handles("ReceivableFinancing", "FinancingWithdrawn")
def _financing_withdrawn(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        _save(e, row, FinancingState.Withdrawn)


@handles("ReceivableFinancing", "FinancingRepaid")
def _financing_repaid(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        _save(e, row, None, repaid=row["details"]["repaid"] + e.args["amount"], outstanding=e.args["outstanding"])


@handles("ReceivableFinancing", "FinancingDefaulted")
def _financing_defaulted(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        _save(e, row, FinancingState.Defaulted, outstanding=e.args["outstanding"])


@handles("ReceivableFinancing", "RecourseClaimed")
def _recourse_claimed(e: EventContext) -> None:
    _, row = _financing(e)
    if row is not None:
        _save(e, row, None, recourse_claimed=e.args["amount"])


@handles("ReceivableFinancing", "FinancingClosed")
def _financing_closed(e: EventContext) -> None:
    _, row = _financing(e)
    e.link(uid("invoice", e.args["invoiceId"]))
    if row is not None:
        _save(e, row, FinancingState.Closed, repaid=e.args["totalRepaid"], outstanding=0)


# ───────────────────────────── Payable certificates ─────────────────────────────

def _certificate(e: EventContext, id_arg: str = "certificateId") -> tuple[str, dict[str, Any] | None]:
    key = uid("certificate", e.args[id_arg])
    e.link(key)
    return key, e.store.get("idx_instruments", key)


def _new_certificate(e: EventContext, certificate_id: int, holder: str, amount: int, details: dict[str, Any],
                     currency: str | None, due_at: int | None, document_hash: str | None) -> str:
    key = uid("certificate", certificate_id)
    e.link(key)
    e.store.put("idx_instruments", {
        "uid": key, "kind": "certificate", "instrument_id": str(certificate_id), "contract": e.address,
        "state": CertificateState.Active.name, "currency": currency, "amount": amount, "document_hash": document_hash,
        "due_at": due_at,
        "frozen": False, "created_block": e.block_number, "created_at": e.timestamp,
        "updated_block": e.block_number, "updated_at": e.timestamp, "details": {**details, "holder": holder},
    }, new=True)
    _add_party(e, key, "certificate", holder, "holder", e.timestamp, new=True)
    if details.get("issuer") and details["issuer"] != holder:
        _add_party(e, key, "certificate", details["issuer"], "issuer", e.timestamp, new=True)
    return key


@handles("PayableCertificates", "CertificateOffered")
def _certificate_offered(e: EventContext) -> None:
    """The buyer offered its seller a certificate against the invoice: nothing is pledged until the seller
    accepts, so the offer lives on the invoice (`details.certificate_offer`), in the invoice's trail."""
    a = e.args
    _, invoice = _invoice(e)
    if invoice is not None:
        offer = {"issuer": a["issuer"], "seller": a["seller"], "amount": a["amount"], "maturity": a["maturity"],
                 "offered_at": e.timestamp, "offered_block": e.block_number, "offered_event_id": e.event_id}
        _save_invoice(e, invoice, {**invoice["details"], "certificate_offer": offer})


@handles("PayableCertificates", "CertificateOfferClosed")
def _certificate_offer_closed(e: EventContext) -> None:
    """Withdrawn by the buyer or declined by the seller (`by`): the invoice keeps the last closed offer."""
    _, invoice = _invoice(e)
    if invoice is not None:
        offer = invoice["details"].get("certificate_offer") or {}
        closed = {**offer, "closed_by": e.args["by"], "closed_at": e.timestamp}
        _save_invoice(e, invoice, {**invoice["details"], "certificate_offer": None,
                                   "certificate_offer_closed": closed})


@handles("PayableCertificates", "CertificateIssued")
def _certificate_issued(e: EventContext) -> None:
    """The seller accepted the buyer's offer: the root certificate is issued (its lien follows in
    `LienTaken`) and the offer is spent."""
    a = e.args
    invoice_key = uid("invoice", a["invoiceId"])
    e.link(invoice_key)
    invoice = e.store.get("idx_instruments", invoice_key)
    offer = (invoice["details"].get("certificate_offer") if invoice else None) or {}
    _new_certificate(e, a["certificateId"], a["holder"], a["amount"],
                     {"invoice_id": str(a["invoiceId"]), "issuer": a["issuer"], "parent_id": None,
                      "root_id": str(a["certificateId"]), "maturity": a["maturity"], "discounted_by": None,
                      "offered_at": offer.get("offered_at"), "accepted_at": e.timestamp,
                      "document_namers": _namers_of(invoice)},
                     e.currency_of(a["currency"]), a["maturity"], invoice["document_hash"] if invoice else None)
    if offer.get("offered_event_id") is not None:
        # The offer opens the certificate's trail. (Recorded at this block: a reorganisation that drops the
        # acceptance drops this link with it.)
        e.store.append("instrument_events", {"instrument": uid("certificate", a["certificateId"]),
                                             "event_id": offer["offered_event_id"], "block_number": e.block_number})
    if invoice is not None:
        _save_invoice(e, invoice, {**invoice["details"], "certificate_offer": None,
                                   "certificate_root_id": str(a["certificateId"])})


@handles("PayableCertificates", "CertificateCreated")
def _certificate_created(e: EventContext) -> None:
    """A child of a split: the parent becomes `Split`; the child inherits the tree's issuer and maturity."""
    a = e.args
    _, parent = _certificate(e, "parentId")
    details = {"invoice_id": None, "issuer": None, "parent_id": str(a["parentId"]), "root_id": str(a["rootId"]),
               "maturity": None, "discounted_by": None}
    currency = due_at = document_hash = None
    if parent is not None:
        details.update(invoice_id=parent["details"]["invoice_id"], issuer=parent["details"]["issuer"],
                       maturity=parent["details"]["maturity"], document_namers=_namers_of(parent))
        currency, due_at, document_hash = parent["currency"], parent["due_at"], parent["document_hash"]
        if parent["state"] != CertificateState.Split.name:
            _save(e, parent, CertificateState.Split)
    child = _new_certificate(e, a["certificateId"], a["holder"], a["amount"], details, currency, due_at, document_hash)
    if parent is not None:  # the parent's parties may follow what became of it
        _add_party(e, child, "certificate", parent["details"]["holder"], "parent_holder", e.timestamp)


@handles("PayableCertificates", "CertificateTransferred")
def _certificate_transferred(e: EventContext) -> None:
    key, row = _certificate(e)
    if row is not None:
        _save(e, row, None, holder=e.args["to"])
        _add_party(e, key, "certificate", e.args["to"], "holder", row["created_at"])
        _add_party(e, key, "certificate", e.args["from"], "former_holder", row["created_at"])


@handles("PayableCertificates", "DiscountRequested")
def _discount_requested(e: EventContext) -> None:
    key, row = _certificate(e)
    if row is not None:
        _add_party(e, key, "certificate", e.args["bank"], "discount_bank", row["created_at"])


@handles("PayableCertificates", "DiscountRequestCancelled")
def _discount_cancelled(e: EventContext) -> None:
    _certificate(e)


@handles("PayableCertificates", "CertificateDiscounted")
def _certificate_discounted(e: EventContext) -> None:
    key, row = _certificate(e)
    if row is not None:
        a = e.args
        _save(e, row, None, holder=a["bank"], discounted_by=a["bank"], discount_rate_bps=a["rateBps"],
              discount_proceeds=a["proceeds"])
        _add_party(e, key, "certificate", a["bank"], "holder", row["created_at"])
        _add_party(e, key, "certificate", a["seller"], "former_holder", row["created_at"])


@handles("PayableCertificates", "CertificateSettled")
def _certificate_settled(e: EventContext) -> None:
    _, row = _certificate(e)
    e.link(uid("certificate", e.args["rootId"]))
    if row is not None:
        _save(e, row, CertificateState.Settled, settled_amount=e.args["amount"])


@handles("PayableCertificates", "CertificateTreePaid")
def _certificate_tree_paid(e: EventContext) -> None:
    _, row = _certificate(e, "rootId")
    e.link(uid("invoice", e.args["invoiceId"]))
    if row is not None:
        _save(e, row, None, tree_paid=e.args["amount"])


@handles("PayableCertificates", "CertificateTreeDefaulted")
def _certificate_tree_defaulted(e: EventContext) -> None:
    _, row = _certificate(e, "rootId")
    e.link(uid("invoice", e.args["invoiceId"]))
    if row is not None:
        _save(e, row, None, tree_defaulted=True, tree_outstanding=e.args["outstanding"])


# ───────────────────────────── Cross-currency payments ─────────────────────────────

@handles("PaymentRouter", "PaymentSettled")
def _payment_settled(e: EventContext) -> None:
    """A payment at a bank's FX quote: one instrument per event, id `<tx hash>-<log index>`."""
    a = e.args
    key = uid("payment", f"{e.tx_hash}-{e.log_index}")
    e.link(key)
    e.store.put("idx_instruments", {
        "uid": key, "kind": "payment", "instrument_id": f"{e.tx_hash}-{e.log_index}", "contract": e.address,
        "state": "Settled", "currency": e.currency_of(a["baseToken"]), "amount": a["baseAmount"],
        "document_hash": None, "due_at": None, "frozen": False, "created_block": e.block_number,
        "created_at": e.timestamp, "updated_block": e.block_number, "updated_at": e.timestamp,
        "details": {"payer": a["payer"], "beneficiary": a["beneficiary"], "bank": a["bank"],
                    "base_currency": e.currency_of(a["baseToken"]), "quote_currency": e.currency_of(a["quoteToken"]),
                    "base_amount": a["baseAmount"], "quote_amount": a["quoteAmount"], "rate": a["rate"],
                    "quote_nonce": a["quoteNonce"], "purpose_code": ascii_of(a["purposeCode"]) or None,
                    "reference": a["paymentReference"]},
    }, new=True)
    for role in ("payer", "beneficiary", "bank"):
        _add_party(e, key, "payment", a[role], role, e.timestamp, new=True)


# ───────────────────────────── Letters of credit and presentations ─────────────────────────────

def _credit(e: EventContext) -> tuple[str, dict[str, Any] | None]:
    key = uid("letter_of_credit", e.args["lcId"])
    e.link(key)
    return key, e.store.get("idx_instruments", key)


def _presentation(e: EventContext) -> tuple[str, dict[str, Any] | None]:
    _credit(e)
    key = uid("presentation", f"{e.args['lcId']}-{e.args['presentationId']}")
    e.link(key)
    return key, e.store.get("idx_instruments", key)


@handles("LetterOfCredit", "CreditApplied")
def _credit_applied(e: EventContext) -> None:
    a, terms = e.args, e.args["terms"]
    key = uid("letter_of_credit", a["lcId"])
    e.link(key)
    e.store.put("idx_instruments", {
        "uid": key, "kind": "letter_of_credit", "instrument_id": str(a["lcId"]), "contract": e.address,
        "state": CreditState.Applied.name, "currency": e.currency_of(terms["currency"]), "amount": terms["amount"],
        "document_hash": None, "due_at": terms["expiryDate"], "frozen": False, "created_block": e.block_number,
        "created_at": e.timestamp, "updated_block": e.block_number, "updated_at": e.timestamp,
        "details": {"applicant": a["applicant"], **terms, "margin": 0, "amendments": [], "drawn": 0},
    }, new=True)
    for role, participant in _credit_parties({"applicant": a["applicant"], **terms}).items():
        _add_party(e, key, "letter_of_credit", participant, role, e.timestamp, new=True)


def _move_deadlines(e: EventContext, credit: dict[str, Any], frozen: bool) -> None:
    """The examination deadlines of a credit's presentations while the regulator freezes it
    (`LetterOfCredit._deadline` adds the seconds frozen since the presentation): a deadline not yet passed when
    the credit is frozen is suspended (`due_at` none: no preclusion while frozen); on unfreezing, every deadline
    moves on by the seconds frozen."""
    since = credit["details"].get("frozen_since")
    for n in range(1, credit["details"].get("presentation_count", 0) + 1):
        row = e.store.get("idx_instruments", uid("presentation", f"{credit['instrument_id']}-{n}"))
        if row is None or not can_be_precluded(row["details"]["discrepancies"]):
            continue
        d = row["details"]
        if frozen:
            if row["due_at"] is not None and row["due_at"] >= e.timestamp:
                _save(e, row, None, {"due_at": None}, deadline_suspended=True)
        elif since is not None:
            shift = d.get("frozen_seconds", 0) + e.timestamp - since
            _save(e, row, None, {"due_at": presentation_deadline(d["presented_at"], d.get("waived_at"), shift)},
                  frozen_seconds=shift, deadline_suspended=False)


def _save_credit(e: EventContext, row: dict[str, Any], state: CreditState | None,
                 columns: dict[str, Any] | None = None, **details: Any) -> None:
    """`_save` for a credit, which reads `Exhausted` once drawn (`app.core.states.stored_credit_state`)."""
    merged = {**row, **(columns or {}), "details": {**row["details"], **details}}
    stored = stored_credit_state(state if state is not None else CreditState[row["state"]],
                                 merged["details"]["drawn"], merged["amount"],
                                 merged["details"]["partialShipmentsAllowed"])
    _save(e, row, stored, columns, **details)


def _credit_parties(details: dict[str, Any]) -> dict[str, str]:
    parties = {"applicant": details["applicant"], "beneficiary": details["beneficiary"],
               "issuing_bank": details["issuingBank"], "advising_bank": details["advisingBank"],
               "confirming_bank": details["confirmingBank"]}
    return {role: p for role, p in parties.items() if p and p != ZERO}


def _credit_state(state: CreditState | None, **details: Any) -> Handler:
    def handler(e: EventContext) -> None:
        _, row = _credit(e)
        if row is not None:
            _save_credit(e, row, state, **{k: (e.args[v] if isinstance(v, str) and v in e.args else v)
                                           for k, v in details.items()})
    return handler


for _event, _state, _details in (
        ("ApplicationCancelled", CreditState.Cancelled, {"cancelled_by": "by"}),
        ("CreditIssued", CreditState.Issued, {"margin": "margin"}),
        ("CreditAdvised", CreditState.Advised, {}),
        ("CancellationRequested", None, {"cancellation_requested": True}),
        ("CancellationAgreedByConfirmingBank", None, {"cancellation_agreed_by_confirming_bank": True}),
        ("CreditCancelled", CreditState.Cancelled, {}),
        ("MarginApplied", None, {"margin_applied": "amount"}),
        ("MarginReleased", None, {"margin_released": "amount"})):
    handles("LetterOfCredit", _event)(_credit_state(_state, **_details))


@handles("LetterOfCredit", "AmendmentProposed")
def _amendment_proposed(e: EventContext) -> None:
    _, row = _credit(e)
    if row is not None:
        proposal = {"number": e.args["amendmentNumber"], **e.args["amendment"], "status": "Proposed"}
        _save(e, row, None, amendments=[*row["details"]["amendments"], proposal])


def _amendment_decided(e: EventContext, accepted: bool) -> None:
    _, row = _credit(e)
    if row is None:
        return
    amendments = [dict(a) for a in row["details"]["amendments"]]
    columns: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for a in amendments:
        if a["number"] == e.args["amendmentNumber"]:
            a["status"] = "Accepted" if accepted else "Rejected"
            if accepted:
                columns = {"amount": a["amount"], "due_at": a["expiryDate"]}
                details = {"amount": a["amount"], "expiryDate": a["expiryDate"],
                           "latestShipmentDate": a["latestShipmentDate"], "requiredDocuments": a["requiredDocuments"]}
    _save_credit(e, row, None, columns, amendments=amendments, **details)


@handles("LetterOfCredit", "AmendmentAccepted")
def _amendment_accepted(e: EventContext) -> None:
    _amendment_decided(e, True)


@handles("LetterOfCredit", "AmendmentRejected")
def _amendment_rejected(e: EventContext) -> None:
    _amendment_decided(e, False)


@handles("LetterOfCredit", "DocumentsPresented")
def _documents_presented(e: EventContext) -> None:
    a = e.args
    _, credit = _credit(e)
    key = uid("presentation", f"{a['lcId']}-{a['presentationId']}")
    e.link(key)
    documents = [{"type": name_of(DocumentType, d["docType"]), "hash": d["documentHash"]} for d in a["documents"]]
    # Only the credit's beneficiary presents (the contract's check): it names the documents.
    presenter = credit["details"]["beneficiary"] if credit else e.actor
    # The bank's examination deadline (a presentation over tolerance is never precluded); the credit cannot be
    # frozen now (presenting under a frozen credit reverts).
    due_at = presentation_deadline(e.timestamp, None, 0) if can_be_precluded(a["discrepancies"]) else None
    e.store.put("idx_instruments", {
        "uid": key, "kind": "presentation", "instrument_id": f"{a['lcId']}-{a['presentationId']}",
        "contract": e.address, "state": PresentationState.Presented.name,
        "currency": credit["currency"] if credit else None,
        "amount": a["amount"], "document_hash": documents[0]["hash"] if documents else None, "due_at": due_at,
        "frozen": False, "created_block": e.block_number, "created_at": e.timestamp,
        "updated_block": e.block_number, "updated_at": e.timestamp,
        "details": {"lc_id": str(a["lcId"]), "shipment_date": a["shipmentDate"], "discrepancies": a["discrepancies"],
                    "documents": documents, "invoice_id": None, "presented_at": e.timestamp,
                    "document_namers": {d["hash"]: presenter for d in documents} if presenter else {}},
    }, new=True)
    if credit is not None:  # the credit's parties are the presentation's
        _save(e, credit, None, presentation_count=max(credit["details"].get("presentation_count", 0),
                                                      a["presentationId"]))
        for role, participant in _credit_parties(credit["details"]).items():
            _add_party(e, key, "presentation", participant, role, e.timestamp, new=True)


@handles("LetterOfCredit", "PresentationInvoiceLinked")
def _presentation_invoice(e: EventContext) -> None:
    """`presentWithInvoice`: the presentation names its registered invoice, whose lien follows (for the
    issuing bank, reserving the invoice; `LienTaken`). The invoice names the presentation back."""
    key, row = _presentation(e)
    invoice_key = uid("invoice", e.args["invoiceId"])
    e.link(invoice_key)
    if row is not None:
        _save(e, row, None, invoice_id=str(e.args["invoiceId"]))
    invoice = e.store.get("idx_instruments", invoice_key)
    if invoice is not None:
        _save_invoice(e, invoice, {**invoice["details"], "presentation": key.removeprefix("presentation:")})


def _presentation_state(state: PresentationState, **details: str) -> Handler:
    def handler(e: EventContext) -> None:
        _, row = _presentation(e)
        if row is not None:
            _save(e, row, state, **{k: e.args[v] for k, v in details.items()})
    return handler


for _event, _state, _details in (
        ("PresentationRefused", PresentationState.Refused, {"refused_discrepancies": "discrepancies"}),
        ("PreclusionClaimed", PresentationState.Precluded, {"claimed_by": "beneficiary"}),
        ("PresentationHonoured", PresentationState.Honoured,
         {"honoured_amount": "amount", "maturity_date": "maturityDate"})):
    handles("LetterOfCredit", _event)(_presentation_state(_state, **_details))


@handles("LetterOfCredit", "DiscrepanciesWaived")
def _discrepancies_waived(e: EventContext) -> None:
    """The applicant waived: the bank has five banking days from the waiver, if that is later."""
    _, row = _presentation(e)
    if row is not None:
        d = row["details"]
        due_at = presentation_deadline(d["presented_at"], e.timestamp, d.get("frozen_seconds", 0)) \
            if can_be_precluded(d["discrepancies"]) else None
        _save(e, row, PresentationState.Waived, {"due_at": due_at}, waived_by=e.args["applicant"],
              waived_at=e.timestamp)


@handles("LetterOfCredit", "PresentationExamined")
def _presentation_examined(e: EventContext) -> None:
    _, row = _presentation(e)
    if row is not None:
        _save(e, row, examined_state(e.args["discrepancies"] | row["details"]["discrepancies"]),
              bank_discrepancies=e.args["discrepancies"])


@handles("LetterOfCredit", "PresentationPaid")
def _presentation_paid(e: EventContext) -> None:
    _, row = _presentation(e)
    credit_key = uid("letter_of_credit", e.args["lcId"])
    credit = e.store.get("idx_instruments", credit_key)
    if row is not None:
        _save(e, row, PresentationState.Paid, paid_amount=e.args["amount"], paid_by=e.args["payer"])
    if credit is not None:
        _save_credit(e, credit, None, drawn=credit["details"]["drawn"] + e.args["amount"])
