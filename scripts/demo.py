"""The full cross-border story through the gateway's HTTP API, step by step, as each party would do it.

    .venv/bin/python scripts/demo.py [--url http://127.0.0.1:8000] [--keys .data/gateway-api-keys.json]
                                     [--rpc-url http://127.0.0.1:8545] [--run-id ID]

Run it against the gateway that `make run` starts (it writes the demo world's API keys to the keys file).
Plain HTTP (httpx), no Ape: every write carries a fresh `Idempotency-Key` derived from the run id, and every
invoice number includes the run id, so the demo can be run again on the same chain. Dates come from the
chain (the latest block's timestamp over JSON-RPC), never from the wall clock.

1. the exporter (CN) uploads an invoice document and registers the invoice to the importer (US), who confirms
   (the chain records the invoice number in upper case, its one canonical form);
2. the exporter finances it at bank_cn (advance paid, lien taken); financing it again at bank_us is 409
   `ReceivableFinancingInvoiceLiened` (naming the lien), and registering the same invoice number again is 409
   `InvoiceRegistryAlreadyRegistered`;
3. a sight letter of credit importer → exporter (issuing bank_us, advising bank_cn): a commercial invoice is
   presented only with its registered invoice (422 without), a presentation missing a document is refused, the
   importer may not pay directly what a presentation claims (409), a compliant one is honoured and paid, and
   the invoice reads paid;
4. a cross-currency payment: the exporter pays CNY, the importer receives USD at bank_cn's signed quote (made
   out for the exporter);
5. a payable certificate offered by the core enterprise (importer) and accepted by its tier-1 supplier, split
   down three supplier tiers, one piece discounted at bank_cn;
6. the regulator sets the USD large-value threshold, the importer sends several transfers just under it, and
   the regulator reads flows, large-value reports, refused duplicate registrations and alerts;
7. the exporter reads its invoice's audit trail and verifies the invoice document against the chain.

`--own-keys`: every bank and corporate acts with a key of its own that the gateway never sees (ERC-2771 signed
requests: each write is prepared, signed here and relayed by the gateway, `app/client/signing.py`). Section 0
gives each its own wallet: the operator links a wallet of the participant's own key to its legal identity (same
kind, jurisdiction, KYC; the suppliers are registered with theirs), issues its API key, and the banks fund the
new wallets from their own. The keys are derived from the run id, so a repeated run replays its answers.

Exit codes: 0 every expected outcome happened (expected refusals included), 1 one did not (the step and what
was expected are printed), 2 usage error (no keys file, gateway or node unreachable).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

# Run as a file (`python scripts/demo.py`): the repository's `app` package names the demo world.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.client.signing import check_typed_data, sign
from app.demo_world import SUPPLIERS

DAY = 86_400
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_KEYS = Path(os.environ.get("TRADEFIN_DATA_DIR", ".data")) / "gateway-api-keys.json"
DEFAULT_RPC = os.environ.get("TRADEFIN_RPC_URL",
                             f"http://127.0.0.1:{os.environ.get('TRADEFIN_RPC_PORT', '8545')}")

# The demo's figures, in minor units.
INVOICE_FACE = 120_000_00  # USD 120,000.00 (USD has 2 decimals on the demo chain)
FINANCING_REQUESTED = 100_000_00
FINANCING_ADVANCE = 96_000_00
LC_AMOUNT = 80_000_00
LC_INVOICE_FACE = LC_AMOUNT  # the invoice the credit's documents include, drawn in full
LC_MARGIN = 8_000_00
FX_CNY = 350_000_00
FX_RATE = "0.1385"
CERTIFICATE_FACE = 60_000_00
LARGE_VALUE_THRESHOLD = 50_000_00
STRUCTURED_TRANSFERS = (48_500_00, 49_200_00, 49_900_00)
ALERT_QUIET_SECONDS = 86_400  # the indexer's default `alert_quiet_seconds`: one alert per rule and party a day


# The roles that act with keys of their own under `--own-keys` (the operator, the regulator and customs stay
# custodial).
OWN_KEY_ROLES = ("bank_cn", "bank_us", "exporter", "importer", *SUPPLIERS)
CURRENCY_CODES = ("USD", "CNY", "EUR")
OWN_WALLET_FUNDS = 10_000_000_00  # minor units of each currency, as make run funds the demo world


@dataclass(frozen=True)
class OwnKey:
    address: str
    private_key: bytes
    api_key: str = ""


def own_key(run_id: str, role: str) -> bytes:
    """The role's own key for this run (derived from the run id: a repeated run replays its answers)."""
    return hashlib.sha256(f"tradefin demo own key {run_id} {role}".encode()).digest()


class DemoFailure(Exception):
    """An outcome the story expects did not happen."""


class UsageError(Exception):
    """The demo cannot start: missing keys file, unreachable gateway or node."""


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def result(self) -> dict[str, Any]:
        return self.body["result"] if isinstance(self.body, dict) and "result" in self.body else self.body

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None


@dataclass
class Demo:
    http: httpx.Client
    rpc_url: str
    keys: dict[str, dict[str, str]]
    run_id: str
    step_number: int = 0
    last_block: int = 0
    # What later steps refer to: the exporter's invoice, its registration body and its document hash.
    invoice_id: str = ""
    invoice_body: dict[str, Any] = field(default_factory=dict)
    document_hash: str = ""
    # Each currency's minor-unit exponent (its token's `decimals()`), from the gateway's balances answer.
    decimals: dict[str, int] = field(default_factory=dict)
    # `--own-keys`: the roles acting with keys of their own, and the write routes that have a `:prepare` form.
    own: dict[str, OwnKey] = field(default_factory=dict)
    own_keys: bool = False
    _signed_routes: list[re.Pattern[str]] = field(default_factory=list)

    # ─────────────────────────── plumbing ───────────────────────────

    def address(self, role: str) -> str:
        return self.own[role].address if role in self.own else self.keys[role]["address"]

    def headers(self, role: str) -> dict[str, str]:
        api_key = self.own[role].api_key if role in self.own else self.keys[role]["api_key"]
        return {"Authorization": f"Bearer {api_key}"}

    def chain_now(self) -> int:
        """The latest block's timestamp: the chain's "now", the only clock the contracts know."""
        try:
            answer = httpx.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                                                    "params": ["latest", False]}, timeout=10).json()
        except httpx.HTTPError as exc:
            raise UsageError(f"the node at {self.rpc_url} is unreachable ({exc}); pass --rpc-url") from exc
        return int(answer["result"]["timestamp"], 16)

    def section(self, title: str) -> None:
        print(f"\n══ {title} " + "═" * max(0, 100 - len(title)), flush=True)

    def write(self, role: str, path: str, slug: str, *, expect: int | tuple[int, ...] = (200, 201),
              error: str | None = None, says: str = "", **kwargs: Any) -> Answer:
        """POST as `role` with the Idempotency-Key `demo-<run id>-<slug>`; check the status (and the custom
        error's name when a refusal is expected) and print the step."""
        self.step_number += 1
        headers = self.headers(role) | {"Idempotency-Key": f"demo-{self.run_id}-{slug}"} | kwargs.pop("headers", {})
        if role in self.own and self._signed(path):
            response = self._signed_write(role, path, headers, kwargs.get("json", {}))
            says = f"{says} (signed with its own key, relayed)"
        else:
            response = self.http.post(path, headers=headers, **kwargs)
        answer = Answer(response.status_code, _json(response))
        self._print(role, "POST", path, says, answer)
        expected = (expect,) if isinstance(expect, int) else expect
        if answer.status not in expected or (error is not None and answer.error_code != error):
            wanted = f"{'/'.join(map(str, expected))}" + (f" {error}" if error else "")
            raise DemoFailure(f"step {self.step_number} ({role} POST {path}): expected {wanted}, "
                              f"got {answer.status} {json.dumps(answer.body)[:400]}")
        if isinstance(answer.body, dict) and isinstance(answer.body.get("block_number"), int):
            self.last_block = max(self.last_block, answer.body["block_number"])
        return answer

    def _signed(self, path: str) -> bool:
        """`path` is a write route with a `:prepare` form (an on-chain write; documents and API keys are not)."""
        if not self._signed_routes:
            spec = self.http.get("/openapi.json").json()
            self._signed_routes = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p.removesuffix(":prepare")) + "$")
                                   for p in spec["paths"] if p.endswith(":prepare")]
        return any(pattern.match(path) for pattern in self._signed_routes)

    def _signed_write(self, role: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
        """Prepare the write, check and sign what the gateway answers with the role's own key, submit it."""
        key = headers["Idempotency-Key"]
        prepared = self.http.post(path + ":prepare", json=body, headers=headers | {"Idempotency-Key": f"{key}-p"})
        if prepared.status_code != 200:
            return prepared  # refused as the write itself would be
        typed = prepared.json()["typed_data"]
        check_typed_data(typed, self.own[role].address)
        return self.http.post("/v1/signed-requests", headers=headers, json={
            "typed_data": typed, "signature": sign(typed, self.own[role].private_key)})

    def own_wallets(self) -> None:
        """`--own-keys`: a wallet of its own key for each bank and corporate, its API key, and its funds."""
        self.section("0. Own keys: each bank and corporate gets a wallet of a key the gateway never sees")
        from eth_account import Account

        keys = {role: own_key(self.run_id, role) for role in OWN_KEY_ROLES}
        for role, key in keys.items():
            address = Account.from_key(key).address
            self.own[role] = OwnKey(address, key)
            if role not in SUPPLIERS:  # linked to its registered identity: same kind, jurisdiction, KYC
                self.write("operator", f"/v1/participants/{self.keys[role]['address']}/wallets", f"own-{role}",
                           expect=201, says=f"links {role}'s own wallet {address[:10]}… to its identity",
                           json={"wallet": address})
                self._issue_own_api_key(role)  # the suppliers' once registered (section 0)
        for bank in ("bank_cn", "bank_us"):
            for code in CURRENCY_CODES:
                self.write(bank, "/v1/deposits/mint", f"own-reserve-{bank}-{code}", expect=201,
                           says=f"{bank} funds its own wallet ({code})", json={
                               "currency": code, "to": self.address(bank), "amount": OWN_WALLET_FUNDS,
                               "reference": f"own reserve {self.run_id}"})

    def _issue_own_api_key(self, role: str) -> None:
        own = self.own[role]
        issued = self.http.post("/v1/api-keys", headers=self.headers("operator"),
                                json={"participant": own.address, "label": f"demo {self.run_id} {role} own key"})
        if issued.status_code != 201:
            raise DemoFailure(f"API key of {role}'s own wallet: {issued.status_code} {issued.text[:300]}")
        self.own[role] = OwnKey(own.address, own.private_key, issued.json()["api_key"])

    def fund_own_corporates(self) -> None:
        for role in SUPPLIERS:
            self._issue_own_api_key(role)
        for role in ("exporter", "importer", *SUPPLIERS):
            for code in CURRENCY_CODES:
                self.write("bank_cn", "/v1/deposits/mint", f"own-deposit-{role}-{code}", expect=201,
                           says=f"bank_cn credits {role}'s own wallet ({code})", json={
                               "currency": code, "to": self.address(role), "amount": OWN_WALLET_FUNDS,
                               "reference": f"own deposit {self.run_id}"})

    def read(self, role: str, path: str, says: str = "", params: dict[str, Any] | None = None,
             quiet: bool = False) -> Any:
        response = self.http.get(path, headers=self.headers(role), params=params)
        answer = Answer(response.status_code, _json(response))
        if not quiet:
            self.step_number += 1
            self._print(role, "GET", path, says, answer, show_result=False)
        if answer.status != 200:
            raise DemoFailure(f"{role} GET {path}: expected 200, got {answer.status} {json.dumps(answer.body)[:400]}")
        return answer.body

    def _print(self, role: str, method: str, path: str, says: str, answer: Answer, show_result: bool = True) -> None:
        print(f"[{self.step_number:>2}] {role:<9} {method:<4} {path}" + (f"  — {says}" if says else ""))
        body = answer.body
        if answer.error_code is not None:
            error = body["error"]
            details = json.dumps(error.get("details") or {}, default=str)
            print(f"     {answer.status}  refused: {error['code']}  {error.get('message', '')}  {details[:300]}")
        elif isinstance(body, dict) and "tx_hash" in body:
            print(f"     {answer.status}  tx {body['tx_hash']}  block {body['block_number']}")
            if show_result:
                print(f"     result {_compact(body.get('result'))}")
        elif show_result:
            print(f"     {answer.status}  {_compact(body)}")
        else:
            print(f"     {answer.status}")

    def wait_for_index(self, timeout: float = 30.0) -> None:
        """The read side answers from the indexer's database: wait until it has the demo's last block."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.read("regulator", "/v1/index/status", quiet=True)
            if (status.get("block_number") or 0) >= self.last_block:
                print(f"     (indexer at block {status['block_number']}, {status['events']} events)")
                return
            if time.monotonic() > deadline:
                raise DemoFailure(f"the indexer did not reach block {self.last_block} within {timeout:.0f} s "
                                  f"(at {status.get('block_number')})")
            time.sleep(0.25)

    def approve(self, role: str, currency: str, spender: str, amount: int) -> None:
        self.write(role, "/v1/approvals", f"approve-{role}-{currency}-{spender}", says=f"allows {spender} "
                   f"to move {currency}", json={"currency": currency, "spender": spender, "amount": amount})

    def balance(self, role: str, currency: str) -> int:
        balances = self.read(role, "/v1/balances", quiet=True)["balances"]
        self.decimals |= {b["currency"]: b["decimals"] for b in balances}
        return next((b["amount"] for b in balances if b["currency"] == currency), 0)

    def units(self, currency: str, amount: int) -> str:
        """`amount` minor units of `currency` in whole units (`120,000.00`), scaled by the token's own `decimals()`
        as the gateway's balances answer gives it (asked once)."""
        if currency not in self.decimals:
            self.balance("operator", currency)
        places = self.decimals[currency]
        return f"{Decimal(amount).scaleb(-places):,.{places}f}"

    # ─────────────────────────── 0. suppliers onboarded ───────────────────────────

    def onboard_suppliers(self) -> None:
        """Register and KYC the tier suppliers through the API when this chain does not have them yet."""
        self.section("0. Supplier tiers onboarded (operator registers, bank_cn attests KYC), if missing")
        now = self.chain_now()
        for role, jurisdiction in SUPPLIERS.items():
            address = self.address(role)
            response = self.http.get(f"/v1/participants/{address}", headers=self.headers("operator"))
            record = _json(response)
            if response.status_code == 404:
                self.write("operator", "/v1/participants", f"register-{role}", expect=201,
                           says=f"registers {role} ({jurisdiction})",
                           json={"address": address, "kind": "Corporate", "jurisdiction": jurisdiction,
                                 "identity_hash": _sha256_hex(f"demo identity of {role}")})
            elif response.status_code != 200:
                raise DemoFailure(f"reading participant {role}: {response.status_code} {response.text[:300]}")
            if response.status_code == 404 or not record.get("active"):
                self.write("bank_cn", f"/v1/participants/{address}/kyc", f"kyc-{role}", expect=200,
                           says=f"attests {role}'s KYC", json={"status": "Approved", "expiry": now + 365 * DAY,
                                                                "evidence_hash": _sha256_hex(f"kyc file {role}")})
            else:
                print(f"     {role:<9} already registered and active ({record['jurisdiction']})")

    # ─────────────────────────── 1. invoice ───────────────────────────

    def invoice(self) -> None:
        self.section("1. Exporter (CN) invoices the importer (US); the importer confirms the debt")
        document = (f"COMMERCIAL INVOICE {self.run_id}\nSeller: exporter (CN)\nBuyer: importer (US)\n"
                    f"Goods: 4,000 solar inverters, FOB Shanghai\n"
                    f"Amount: USD {self.units('USD', INVOICE_FACE)}\n").encode()
        self.step_number += 1
        response = self.http.post("/v1/documents", headers=self.headers("exporter") |
                                  {"Content-Type": "text/plain"}, content=document)
        uploaded = Answer(response.status_code, _json(response))
        self._print("exporter", "POST", "/v1/documents", "uploads the invoice document", uploaded)
        expected_hash = "0x" + hashlib.sha256(document).hexdigest()
        if uploaded.status not in (200, 201) or uploaded.body.get("sha256", expected_hash).lower() != expected_hash:
            raise DemoFailure(f"document upload: expected 201 with {expected_hash}, got {uploaded.status} "
                              f"{uploaded.body}")
        now = self.chain_now()
        self.document_hash = expected_hash
        self.invoice_body = {
            "buyer": self.address("importer"), "currency": "USD", "invoice_number": f"INV-DEMO-{self.run_id}",
            "face_amount": INVOICE_FACE, "issue_date": now, "due_date": now + 90 * DAY,
            "document_hash": expected_hash}
        registered = self.write("exporter", "/v1/invoices", "invoice-register", expect=201,
                                says="registers the invoice to the importer", json=self.invoice_body)
        _expect(registered.result["invoice_number"] == self.invoice_body["invoice_number"].upper(),
                f"the chain recorded {registered.result['invoice_number']}, not the canonical (upper-case) "
                f"{self.invoice_body['invoice_number'].upper()}")
        invoice_id = registered.result["invoice_id"]
        self.invoice_id = invoice_id
        self.write("importer", f"/v1/invoices/{invoice_id}/confirm", "invoice-confirm", expect=200,
                   says="confirms the debt")

    # ─────────────────────────── 2. financing ───────────────────────────

    def financing(self) -> None:
        self.section("2. Exporter finances the invoice at bank_cn; double financing and re-registration are refused")
        invoice_id = self.invoice_id
        self.approve("bank_cn", "USD", "ReceivableFinancing", FINANCING_ADVANCE)
        applied = self.write("exporter", "/v1/financings", "financing-apply-bank-cn", expect=201,
                             says="applies for financing at bank_cn",
                             json={"invoice_id": invoice_id, "bank": self.address("bank_cn"),
                                   "requested_amount": FINANCING_REQUESTED})
        financing_id = applied.result["financing_id"]
        before = self.balance("exporter", "USD")
        approved = self.write("bank_cn", f"/v1/financings/{financing_id}/approve", "financing-approve",
                              expect=200, says="approves: pays the advance, takes the lien",
                              json={"advance_amount": FINANCING_ADVANCE, "rate_bps": 650,
                                    "maturity": self.chain_now() + 85 * DAY,
                                    "terms_hash": _sha256_hex(f"facility letter {self.run_id}")})
        received = self.balance("exporter", "USD") - before
        _expect(received == FINANCING_ADVANCE, f"the exporter received {received}, not the advance "
                f"{FINANCING_ADVANCE}")
        print(f"     exporter's USD balance +{self.units('USD', received)} (advance), "
              f"rate {approved.result['rate_bps']} bps")
        self.write("exporter", "/v1/financings", "financing-apply-bank-us", expect=409,
                   error="ReceivableFinancingInvoiceLiened",
                   says="tries to finance the same invoice at bank_us (double financing)",
                   json={"invoice_id": invoice_id, "bank": self.address("bank_us"),
                         "requested_amount": FINANCING_REQUESTED})
        self.write("exporter", "/v1/invoices", "invoice-register-again", expect=409,
                   error="InvoiceRegistryAlreadyRegistered", says="registers the same invoice number again",
                   json=self.invoice_body)

    # ─────────────────────────── 3. letter of credit ───────────────────────────

    def letter_of_credit(self) -> None:
        self.section("3. Letter of credit importer → exporter: issuing bank_us, advising bank_cn")
        base = "/v1/letters-of-credit"
        self.approve("importer", "USD", "LetterOfCredit", LC_MARGIN)
        self.approve("bank_us", "USD", "LetterOfCredit", LC_AMOUNT)
        now = self.chain_now()
        applied = self.write("importer", base, "lc-apply", expect=201, says="applies for a sight credit", json={
            "beneficiary": self.address("exporter"), "issuing_bank": self.address("bank_us"),
            "advising_bank": self.address("bank_cn"), "currency": "USD", "amount": LC_AMOUNT,
            "expiry_date": now + 60 * DAY, "latest_shipment_date": now + 30 * DAY,
            "required_documents": ["CommercialInvoice", "TransportDocument", "PackingList"]})
        lc = applied.result["lc_id"]
        self.write("bank_us", f"{base}/{lc}/issue", "lc-issue", expect=200, says="issues, escrowing the margin",
                   json={"margin_amount": LC_MARGIN})
        self.write("bank_cn", f"{base}/{lc}/advise", "lc-advise", expect=200, says="advises the beneficiary")

        # The commercial invoice presented under the credit is a registered invoice of the exporter to the
        # importer: the presentation names it, and its lien keeps it from being financed or paid twice.
        now = self.chain_now()
        commercial_invoice = self._lc_documents("CommercialInvoice")[0]["sha256"]
        lc_invoice = self.write("exporter", "/v1/invoices", "lc-invoice-register", expect=201,
                                says="registers the invoice the credit's documents include", json={
                                    "buyer": self.address("importer"), "currency": "USD",
                                    "invoice_number": f"INV-LC-{self.run_id}", "face_amount": LC_INVOICE_FACE,
                                    "issue_date": now, "due_date": now + 60 * DAY,
                                    "document_hash": commercial_invoice}).result["invoice_id"]
        shipped = self.chain_now() - DAY
        self.write("exporter", f"{base}/{lc}/presentations", "lc-present-unnamed-invoice", expect=422,
                   error="ValidationError", says="presents a commercial invoice without naming the registered one",
                   json={"documents": self._lc_documents("CommercialInvoice", "TransportDocument", "PackingList"),
                         "shipment_date": shipped, "amount": LC_AMOUNT})
        first = self.write("exporter", f"{base}/{lc}/presentations", "lc-present-discrepant", expect=201,
                           says="presents without the packing list", json={
                               "documents": self._lc_documents("CommercialInvoice", "TransportDocument"),
                               "shipment_date": shipped, "amount": LC_AMOUNT, "invoice_id": lc_invoice})
        _expect("MISSING_DOCUMENT" in first.result["discrepancies"],
                f"the chain did not find the missing document: {first.result['discrepancies']}")
        pid = first.result["presentation_id"]
        self.write("bank_us", f"{base}/{lc}/presentations/{pid}/examine", "lc-examine-discrepant", expect=200,
                   says="examines: discrepant", json={"bank_discrepancies": []})
        refused = self.write("bank_us", f"{base}/{lc}/presentations/{pid}/refuse", "lc-refuse", expect=200,
                             says="refuses the discrepant presentation (the invoice's lien is released)")
        _expect(refused.result["state"] == "Refused", f"presentation state {refused.result['state']}, not Refused")

        second = self.write("exporter", f"{base}/{lc}/presentations", "lc-present-compliant", expect=201,
                            says="presents a complete set, naming the invoice again", json={
                                "documents": self._lc_documents("CommercialInvoice", "TransportDocument",
                                                                "PackingList"),
                                "shipment_date": shipped, "amount": LC_AMOUNT, "invoice_id": lc_invoice})
        pid = second.result["presentation_id"]
        self.approve("importer", "USD", "InvoiceRegistry", LC_INVOICE_FACE)
        self.write("importer", f"/v1/invoices/{lc_invoice}/payments", "lc-invoice-pay-presented", expect=409,
                   error="LetterOfCreditInvoiceUnderPresentation",
                   says="tries to pay the invoice directly, into the amount presented under the credit",
                   json={"amount": LC_INVOICE_FACE})
        examined = self.write("bank_us", f"{base}/{lc}/presentations/{pid}/examine", "lc-examine-compliant",
                              expect=200, says="examines: compliant", json={"bank_discrepancies": []})
        _expect(examined.result["state"] == "Compliant", f"examined as {examined.result['state']}, not Compliant")
        before = self.balance("exporter", "USD")
        paid = self.write("bank_us", f"{base}/{lc}/presentations/{pid}/honour", "lc-honour", expect=200,
                          says="honours at sight and pays the beneficiary")
        _expect(paid.result["state"] == "Paid", f"presentation state {paid.result['state']}, not Paid")
        received = self.balance("exporter", "USD") - before
        _expect(received == LC_AMOUNT, f"the beneficiary received {received}, not {LC_AMOUNT}")
        print(f"     exporter's USD balance +{self.units('USD', received)} (margin applied "
              f"{self.units('USD', paid.result.get('margin_applied', 0))})")
        self.write("importer", f"/v1/invoices/{lc_invoice}/payments", "lc-invoice-pay-after", expect=409,
                   error="InvoiceRegistryUnexpectedState",
                   says="tries to pay the invoice again: the credit's payment was recorded on it, it reads Paid",
                   json={"amount": 1})

    def _lc_documents(self, *types: str) -> list[dict[str, str]]:
        return [{"type": t, "sha256": _sha256_hex(f"{t} for credit of run {self.run_id}")} for t in types]

    # ─────────────────────────── 4. FX payment ───────────────────────────

    def fx_payment(self) -> None:
        self.section("4. Cross-currency payment: exporter pays CNY, importer receives USD at bank_cn's quote")
        self.approve("exporter", "CNY", "PaymentRouter", FX_CNY)
        self.approve("bank_cn", "USD", "PaymentRouter", FX_CNY)  # ample: USD out is ~14% of the CNY in
        self.step_number += 1
        terms = {"payer": self.address("exporter"), "base_currency": "CNY", "quote_currency": "USD", "rate": FX_RATE,
                 "max_base_amount": FX_CNY}
        if "bank_cn" in self.own:  # the bank signs the quote with its own key
            prepared = self.http.post("/v1/fx-quotes:prepare", headers=self.headers("bank_cn"), json=terms)
            body = _json(prepared)
            if prepared.status_code == 200:
                body = {"quote": body["quote"], "signature": sign(body["typed_data"], self.own["bank_cn"].private_key)}
            signed = Answer(201 if prepared.status_code == 200 else prepared.status_code, body)
            path, says = "/v1/fx-quotes:prepare", f"signs a CNY→USD quote at {FX_RATE} with its own key"
        else:
            response = self.http.post("/v1/fx-quotes", headers=self.headers("bank_cn"), json=terms)
            signed = Answer(response.status_code, _json(response))
            path, says = "/v1/fx-quotes", f"signs a CNY→USD quote at {FX_RATE} (nothing on chain)"
        self._print("bank_cn", "POST", path, says, signed)
        _expect(signed.status == 201, f"the quote was not signed: {signed.status} {signed.body}")
        before = self.balance("importer", "USD")
        paid = self.write("exporter", "/v1/payments/fx", "fx-pay", expect=201,
                          says=f"pays CNY {self.units('CNY', FX_CNY)} to the importer at the quote",
                          json={"quote": signed.body["quote"], "signature": signed.body["signature"],
                                "beneficiary": self.address("importer"), "base_amount": FX_CNY,
                                "purpose_code": "SUPP", "reference": f"FX-{self.run_id}"})
        received = self.balance("importer", "USD") - before
        _expect(received == paid.result["quote_amount"] > 0,
                f"the importer received {received} USD, the payment says {paid.result['quote_amount']}")
        print(f"     importer's USD balance +{self.units('USD', received)}")

    # ─────────────────────────── 5. certificate tiers ───────────────────────────

    def certificates(self) -> None:
        self.section("5. Payable certificate: core enterprise (importer) offers, supplier1 accepts → supplier2 → "
                     "supplier3")
        now = self.chain_now()
        registered = self.write("supplier1", "/v1/invoices", "cert-invoice-register", expect=201,
                                says="tier-1 supplier invoices the core enterprise", json={
                                    "buyer": self.address("importer"), "currency": "USD",
                                    "invoice_number": f"INV-T1-{self.run_id}", "face_amount": CERTIFICATE_FACE,
                                    "issue_date": now, "due_date": now + 120 * DAY,
                                    "document_hash": _sha256_hex(f"tier-1 invoice {self.run_id}")})
        invoice_id = registered.result["invoice_id"]
        self.write("importer", f"/v1/invoices/{invoice_id}/confirm", "cert-invoice-confirm", expect=200,
                   says="core enterprise confirms")
        self.write("importer", "/v1/certificates/offers", "cert-offer", expect=201,
                   says="offers supplier1 a certificate against the invoice (nothing pledged yet)",
                   json={"invoice_id": invoice_id, "amount": CERTIFICATE_FACE, "maturity": self.chain_now() + 90 * DAY})
        issued = self.write("supplier1", f"/v1/certificates/offers/{invoice_id}/accept", "cert-accept", expect=201,
                            says="accepts: the certificate is issued to it and takes the invoice's lien")
        root = issued.result["certificate_id"]
        tier1 = self.write("supplier1", f"/v1/certificates/{root}/split", "cert-split-1", expect=200,
                           says="pays supplier2 with 40,000.00, keeps 20,000.00",
                           json={"parts": [{"holder": self.address("supplier2"), "amount": 40_000_00},
                                           {"holder": self.address("supplier1"), "amount": 20_000_00}]})
        to_supplier2 = tier1.result["children"][0]["certificate_id"]
        tier2 = self.write("supplier2", f"/v1/certificates/{to_supplier2}/split", "cert-split-2", expect=200,
                           says="pays supplier3 with 15,000.00, keeps 25,000.00",
                           json={"parts": [{"holder": self.address("supplier3"), "amount": 15_000_00},
                                           {"holder": self.address("supplier2"), "amount": 25_000_00}]})
        _expect(tier2.result["root_id"] == root, f"the tier-2 split's root is {tier2.result['root_id']}, not {root}")
        to_supplier3 = tier2.result["children"][0]["certificate_id"]
        self.write("supplier3", f"/v1/certificates/{to_supplier3}/discount-request", "cert-discount-request",
                   expect=200, says="asks bank_cn to discount its piece at 500 bps",
                   json={"bank": self.address("bank_cn"), "rate_bps": 500})
        self.approve("bank_cn", "USD", "PayableCertificates", 15_000_00)
        before = self.balance("supplier3", "USD")
        self.write("bank_cn", f"/v1/certificates/{to_supplier3}/discount", "cert-discount", expect=200,
                   says="discounts it, paying supplier3 now", json={"rate_bps": 500})
        proceeds = self.balance("supplier3", "USD") - before
        _expect(0 < proceeds <= 15_000_00, f"supplier3 received {proceeds}, expected discounted proceeds")
        print(f"     supplier3's USD balance +{self.units('USD', proceeds)} "
              f"({self.units('USD', 15_000_00)} less discount)")

    # ─────────────────────────── 6. supervision ───────────────────────────

    def supervision(self) -> None:
        self.section("6. Regulator: a large-value threshold, transfers just under it, and the supervision view")
        self.write("regulator", "/v1/supervision/large-value-threshold", "large-value-threshold", expect=200,
                   says=f"sets the USD reporting threshold at {self.units('USD', LARGE_VALUE_THRESHOLD)}",
                   json={"currency": "USD", "threshold": LARGE_VALUE_THRESHOLD})
        first_block, first_time = None, self.chain_now()
        for n, amount in enumerate(STRUCTURED_TRANSFERS, start=1):
            paid = self.write("importer", "/v1/payments", f"structuring-{n}", expect=201,
                              says=f"pays the exporter USD {self.units('USD', amount)}, just under the threshold",
                              json={"currency": "USD", "to": self.address("exporter"), "amount": amount,
                                    "purpose_code": "GDDS", "reference": f"PO-{self.run_id}-{n}"})
            _expect(paid.result["large_value_reported"] is False, "a transfer under the threshold was reported")
            first_block = first_block or paid.body["block_number"]
        self.wait_for_index()

        flows = self.read("regulator", "/v1/supervision/flows", "flows by corridor, currency and day",
                          params={"cross_border_only": "true"})["items"]
        for flow in flows:
            print(f"       {flow['corridor']:<6} {flow['currency']} {flow['day']}  {flow['transfers']:>3} transfers  "
                  f"{self.units(flow['currency'], flow['total']):>16}  large-value {flow['large_value_transfers']}")
        corridors = {f["corridor"] for f in flows}
        _expect({"CN-US", "US-CN"} <= corridors, f"the demo's corridors CN-US and US-CN are not both in {corridors}")

        reports = self.read("regulator", "/v1/supervision/large-value-reports", "large-value reports",
                            params={"currency": "USD", "limit": 5})["items"]
        for report in reports:
            print(f"       block {report['block_number']}  {report['from_address'][:10]}… → "
                  f"{report['to_address'][:10]}…  "
                  f"{self.units(report['currency'], report['amount'])} ≥ "
                  f"{self.units(report['currency'], report['threshold'])}")
        if not reports:
            print("       (none yet: nothing at or above the threshold since it was set)")

        duplicates = self.read("regulator", "/v1/supervision/duplicate-registrations",
                               "registrations refused as duplicates")["items"]
        for duplicate in duplicates[:5]:
            print(f"       {duplicate['at']}  {duplicate['participant'][:10]}…  {duplicate['error']}")
        _expect(any(d["error"] == "InvoiceRegistryAlreadyRegistered" for d in duplicates),
                "the refused re-registration is not among the duplicate registrations")

        alert = self._structuring_alert(first_block or 0, first_time)
        print(f"       alert #{alert['id']} {alert['rule']}: {alert['summary']}")
        print(f"       evidence (event ids): {alert['evidence']}  measures {_compact(alert['measures'])}")

    def _structuring_alert(self, since_block: int, since_time: int, timeout: float = 20.0) -> dict[str, Any]:
        """The structuring alert on the importer raised by this run's transfers (the rules run as the indexer
        stores new blocks). After an alert the rule stays quiet on the same party for a day of chain time
        (`alert_quiet_seconds`), so a re-run within that day finds the earlier run's alert instead."""
        started = time.monotonic()
        quiet = False
        while True:
            alerts = self.read("regulator", "/v1/supervision/alerts", "structuring alerts on the importer",
                               params={"rule": "structuring", "subject": self.address("importer")},
                               quiet=quiet)["items"]
            quiet = True
            fresh = [a for a in alerts if a["block_number"] >= since_block]
            if fresh:
                return fresh[0]
            standing = [a for a in alerts if a["timestamp"] >= since_time - ALERT_QUIET_SECONDS]
            if standing and time.monotonic() - started > 2.0:  # the index is caught up: give the rules 2 s
                print(f"       (this run's transfers fall in the quiet period of alert #{standing[0]['id']} "
                      f"raised at block {standing[0]['block_number']}: the rule does not repeat itself "
                      f"within {ALERT_QUIET_SECONDS} s on the same party)")
                return standing[0]
            if time.monotonic() - started > timeout:
                raise DemoFailure(f"no structuring alert on the importer since block {since_block} "
                                  f"within {timeout:.0f} s")
            time.sleep(0.5)

    # ─────────────────────────── 7. audit trail ───────────────────────────

    def audit_trail(self) -> None:
        self.section("7. Exporter: the invoice's audit trail, and its document verified against the chain")
        invoice_id = self.invoice_id
        trail = self.read("exporter", f"/v1/instruments/invoice/{invoice_id}/trail", "audit trail of the invoice")
        for event in trail["events"]:
            actor = (event["actor"] or "-")[:10]
            print(f"       block {event['block_number']:>6}  log {event['log_index']:>3}  {event['tx_hash'][:12]}…  "
                  f"{(event['contract'] or '?'):<20} {event['event']:<28} by {actor}…")
        names = {e["event"] for e in trail["events"]}
        _expect({"InvoiceRegistered", "InvoiceConfirmed"} <= names,
                f"the trail lacks the registration or confirmation: {sorted(names)}")
        document_hash = self.document_hash
        verified = self.read("exporter", f"/v1/documents/{document_hash}/verify", "verifies the invoice document")
        for anchor in verified["anchors"]:
            print(f"       anchored by {anchor['kind']} {anchor['id'][:16]}… ({anchor['contract']}) "
                  f"event {anchor['event']} at block {anchor['block_number']}")
        _expect(verified["anchored"] and any(a["id"] == invoice_id for a in verified["anchors"]),
                f"the document {document_hash} is not anchored by invoice {invoice_id}")

    # ─────────────────────────── the story ───────────────────────────

    def run(self) -> None:
        if self.own_keys:
            self.own_wallets()
        self.onboard_suppliers()
        if self.own_keys:
            self.fund_own_corporates()
        self.invoice()
        self.financing()
        self.letter_of_credit()
        self.fx_payment()
        self.certificates()
        self.supervision()
        self.audit_trail()


# ─────────────────────────── helpers and entry point ───────────────────────────


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"raw": response.text[:300]}


def _compact(value: Any) -> str:
    text = json.dumps(value, default=str, separators=(", ", ": "))
    return text if len(text) <= 400 else text[:397] + "..."


def _sha256_hex(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


def load_keys(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        raise UsageError(f"no API keys file at {path}: start the platform with `make run` (it writes the file), "
                         f"or pass --keys")
    keys = json.loads(path.read_text())
    missing = [r for r in ("operator", "regulator", "bank_cn", "bank_us", "exporter", "importer", *SUPPLIERS)
               if r not in keys]
    if missing:
        raise UsageError(f"{path} has no API key for {', '.join(missing)}")
    return keys


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the gateway (default {DEFAULT_URL})")
    parser.add_argument("--keys", type=Path, default=DEFAULT_KEYS, help=f"API keys file (default {DEFAULT_KEYS})")
    parser.add_argument("--rpc-url", default=DEFAULT_RPC,
                        help=f"the node, read for the chain's time (default {DEFAULT_RPC})")
    parser.add_argument("--own-keys", action="store_true", help="every bank and corporate signs its writes with a "
                        "key of its own the gateway never sees (relayed signed requests)")
    parser.add_argument("--run-id", default=None, help="names this run's idempotency keys and invoice numbers "
                        "(default: random); repeating one replays that run's answers")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    run_id = args.run_id or secrets.token_hex(4)
    try:
        keys = load_keys(args.keys)
        with httpx.Client(base_url=args.url, timeout=60.0) as client:
            try:
                health = client.get("/health").json()
            except httpx.HTTPError as exc:
                raise UsageError(f"the gateway at {args.url} is unreachable ({exc}); is `make run` up?") from exc
            print(f"tradefin demo, run {run_id}: gateway {args.url} (chain {health.get('chain_id')}, "
                  f"ready {health.get('chain_ready')}), node {args.rpc_url}")
            demo = Demo(client, args.rpc_url, keys, run_id, own_keys=args.own_keys)
            demo.run()
    except UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    except DemoFailure as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"\nDEMO FAILED: the gateway stopped answering: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"\ndemo run {run_id} complete: every expected outcome happened ({demo.step_number} steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
