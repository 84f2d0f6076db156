"""The `certificates` script's offer commands: the core enterprise offers, its supplier shows and accepts (or
declines), the core enterprise may withdraw; run through click against the test chain.

Exit codes: 0 done, 1 refused (the contract reverted, its custom error printed; or confirmation declined),
2 usage error. Accounts are Ape test accounts (`TEST::<index>`, in the order of `scripts._common.TEST_ROLES`).
"""

from __future__ import annotations

import json

import pytest
import script_runs

from scripts import _common
from scripts._common import TEST_ROLES, record_deployment
from scripts._payments import certificate_world
from scripts.certificates import cli

DAY = 24 * 3600
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
FACE = 600_000_00
AMOUNT = 500_000_00


def account_arg(role: str) -> str:
    return f"TEST::{TEST_ROLES.index(role)}"


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(platform, registry, operator, regulator, outsider, supplier1, accounts, networks):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def desk(platform):
    return certificate_world(platform)


@pytest.fixture(autouse=True)
def deployment(tmp_path, monkeypatch, platform, desk):
    """The platform recorded where the script looks for it (a temporary folder, not the dev chain's)."""
    monkeypatch.setattr(_common, "DEPLOYMENTS_DIR", tmp_path)
    record_deployment(platform, start_block=0)


@pytest.fixture
def run(chain):
    def invoke(*args: object, input: str | None = None):
        return script_runs.invoke(chain, cli, [str(a) for a in args], obj={"provider": chain.provider}, input=input)

    return invoke


@pytest.fixture
def due(chain) -> int:
    return chain.pending_timestamp + 60 * DAY


@pytest.fixture
def invoice(desk, usd, importer, exporter, due) -> int:
    """The exporter's confirmed invoice to the importer: USD 600,000.00 due in 60 days."""
    return desk.confirmed(exporter, importer, usd, FACE, due)


def test_offer_show_and_accept_issue_the_certificate_with_the_sellers_consent(run, desk, invoice, importer,
                                                                              exporter, due):
    certs, invoices = desk.certificates, desk.invoices
    offered = run("offer", hex(invoice), "--amount", AMOUNT, "--maturity", due, "--account",
                  account_arg("importer"), "--yes")
    assert offered.exit_code == 0, offered.output
    assert "awaiting" in offered.output and tuple(certs.offerOf(invoice)) == (AMOUNT, due, 0)

    shown = run("show-offer", hex(invoice))
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.output)
    assert view == {"invoiceId": hex(invoice), "pending": True, "issuer": importer.address,
                    "seller": exporter.address, "amount": AMOUNT, "maturity": due, "invoiceState": "Confirmed",
                    "unpaid": FACE, "dueDate": due, "rootId": 0}

    declined_prompt = run("accept-offer", str(invoice), "--account", account_arg("exporter"), input="n\n")
    assert declined_prompt.exit_code == 1 and invoices.invoice(invoice).lienFinancier == ZERO_ADDRESS

    accepted = run("accept-offer", str(invoice), "--account", account_arg("exporter"), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    root_id = certs.rootOfInvoice(invoice)
    assert f"accepted: certificate {root_id} of {AMOUNT}" in accepted.output
    assert certs.certificate(root_id).holder == exporter.address
    assert invoices.invoice(invoice).lienInstrument == certs.address
    after = json.loads(run("show-offer", hex(invoice)).output)
    assert (after["pending"], after["invoiceState"], after["rootId"]) == (False, "Financed", root_id)


def test_only_the_seller_accepts_and_the_revert_is_named(run, desk, invoice, due):
    run("offer", hex(invoice), "--amount", AMOUNT, "--maturity", due, "--account", account_arg("importer"),
        "--yes")
    refused = run("accept-offer", hex(invoice), "--account", account_arg("supplier1"), "--yes")
    assert refused.exit_code == 1 and "PayableCertificatesNotInvoiceSeller" in refused.output
    assert desk.certificates.rootOfInvoice(invoice) == 0


def test_an_offer_past_the_due_date_is_refused(run, desk, invoice, due):
    refused = run("offer", hex(invoice), "--amount", AMOUNT, "--maturity", due + 1, "--account",
                  account_arg("importer"), "--yes")
    assert refused.exit_code == 1 and "PayableCertificatesMaturityAfterDueDate" in refused.output
    assert tuple(desk.certificates.offerOf(invoice)) == (0, 0, 0)


def test_decline_and_withdraw_close_the_offer(run, desk, invoice, due):
    certs = desk.certificates
    for role, command, outcome in (("exporter", "decline-offer", "declined"),
                                   ("importer", "withdraw-offer", "withdrawn")):
        run("offer", hex(invoice), "--amount", AMOUNT, "--maturity", due, "--account", account_arg("importer"),
            "--yes")
        closed = run(command, hex(invoice), "--account", account_arg(role))
        assert closed.exit_code == 0 and outcome in closed.output
        assert tuple(certs.offerOf(invoice)) == (0, 0, 0)
    nothing = run("accept-offer", hex(invoice), "--account", account_arg("exporter"), "--yes")
    assert nothing.exit_code == 1 and "no certificate is offered" in nothing.output
    again = run("withdraw-offer", hex(invoice), "--account", account_arg("importer"))
    assert again.exit_code == 1 and "PayableCertificatesNoOffer" in again.output


def test_usage_errors_exit_with_two(run):
    assert run("show-offer", "not-an-id").exit_code == 2
    unknown = run("show-offer", hex(12345))
    assert unknown.exit_code == 2 and "unknown invoice" in unknown.output
    missing = run("offer", hex(12345), "--amount", 1, "--account", account_arg("importer"), "--yes")
    assert missing.exit_code == 2
