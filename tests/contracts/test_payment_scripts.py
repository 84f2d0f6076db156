"""The bank and corporate scripts `fx_quote` and `certificates`, run through click against the test chain.

Each command runs in-process with click's CliRunner on the chain the tests already use (passed as the
connected provider), against a deployment recorded in a temporary folder. Accounts are Ape test
accounts (`TEST::<index>`, in the order of `scripts._common.TEST_ROLES`).
"""

from __future__ import annotations

import json

import pytest
import script_runs

from scripts import _common
from scripts._common import TEST_ROLES, purpose_code, record_deployment, text_hash
from scripts._fx import ZERO_ADDRESS, FxQuote, sign_quote_with_account
from scripts._payments import certificate_world
from scripts.certificates import cli as certificates_cli
from scripts.fx_quote import cli as fx_cli

DAY = 24 * 3600


def router_address(platform) -> str:
    return platform["PaymentRouter"].address


def account_arg(role: str) -> str:
    return f"TEST::{TEST_ROLES.index(role)}"


@pytest.fixture(scope="module")
def desk(platform):
    """The deployed certificates and an invoice desk on their invoice registry."""
    return certificate_world(platform)


@pytest.fixture(autouse=True)
def deployment(tmp_path, monkeypatch, platform, desk):
    """The platform recorded where the scripts look for it (a temporary folder, not the dev chain's)."""
    monkeypatch.setattr(_common, "DEPLOYMENTS_DIR", tmp_path)
    record_deployment(platform, start_block=0)


@pytest.fixture
def run(chain):
    def invoke(cli, *args: str):
        return script_runs.invoke(chain, cli, list(args), obj={"provider": chain.provider})

    return invoke


# ───────────────────────────── fx_quote ─────────────────────────────


def test_fx_quote_sign_prints_a_quote_the_router_pays(run, tmp_path, chain, platform, cny, usd, bank_us, importer,
                                                     exporter):
    out = tmp_path / "quote.json"
    result = run(fx_cli, "sign", "--account", account_arg("bank_us"), "--payer", importer.address, "--base", "CNY",
                 "--quote", "USD", "--rate", "0.1385", "--max-amount", "1000000.00", "--nonce", "41",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert payload["pair"] == "CNY/USD" and payload["quote"]["rate"] == 1385 * 10**14
    assert payload["quote"]["maxBaseAmount"] == 1_000_000_00 and payload["quote"]["bank"] == bank_us.address
    assert payload["quote"]["payer"] == importer.address
    assert json.loads(run(fx_cli, "verify", str(out), "--payer", importer.address).output)["valid"] is True
    assert payload["typedData"]["primaryType"] == "FxQuote"
    assert payload["typedData"]["domain"]["verifyingContract"] == router_address(platform)

    router = platform["PaymentRouter"]
    cny.approve(router.address, 100_000_00, sender=importer)
    usd.approve(router.address, 13_850_00, sender=bank_us)
    before = usd.balanceOf(exporter.address)
    router.payWithQuote(FxQuote(**payload["quote"]).as_tuple(), bytes.fromhex(payload["signature"][2:]),
                        exporter.address, 100_000_00, purpose_code("GDDS"), text_hash("inv-script"), sender=importer)
    assert usd.balanceOf(exporter.address) - before == 13_850_00

    verified = run(fx_cli, "verify", str(out))
    assert verified.exit_code == 1  # the nonce is spent now
    assert "PaymentRouterQuoteNonceUsed" in verified.output


def test_fx_quote_verify_accepts_fresh_quote_and_withdraw_refuses_it(run, tmp_path, exporter2):
    out = tmp_path / "quote.json"
    signed = run(fx_cli, "sign", "--account", account_arg("bank_cn"), "--payer", exporter2.address, "--base", "USD",
                 "--quote", "EUR", "--rate", "0.92", "--max-amount", "500.00", "--nonce", "7", "--out", str(out))
    assert signed.exit_code == 0, signed.output
    fresh = run(fx_cli, "verify", str(out))
    assert fresh.exit_code == 0 and '"valid": true' in fresh.output

    withdrawn = run(fx_cli, "withdraw", "--account", account_arg("bank_cn"), "--nonce", "7", "--yes")
    assert withdrawn.exit_code == 0, withdrawn.output
    stale = run(fx_cli, "verify", str(out))
    assert stale.exit_code == 1 and "PaymentRouterQuoteNonceUsed" in stale.output
    again = run(fx_cli, "sign", "--account", account_arg("bank_cn"), "--payer", exporter2.address, "--base", "USD",
                "--quote", "EUR", "--rate", "0.92", "--max-amount", "500.00", "--nonce", "7")
    assert again.exit_code == 1 and "already used" in again.output


def test_fx_quote_sign_requires_a_payer_and_refuses_payer_zero(run, tmp_path):
    # The router refuses an open quote (payer zero: anyone could use it up), so the desk never signs one.
    common = ("sign", "--account", account_arg("bank_cn"), "--base", "CNY", "--quote", "USD", "--rate", "0.1385",
              "--max-amount", "100.00", "--nonce", "8")
    missing = run(fx_cli, *common)
    assert missing.exit_code == 2 and "--payer" in missing.output
    zero = run(fx_cli, *common, "--payer", ZERO_ADDRESS, "--out", str(tmp_path / "open.json"))
    assert zero.exit_code == 2 and "open quote" in zero.output
    assert not (tmp_path / "open.json").exists()
    garbage = run(fx_cli, *common, "--payer", "importer")
    assert garbage.exit_code == 2 and "not an address" in garbage.output


def test_fx_quote_sign_refuses_a_payer_that_is_not_an_active_participant(run, chain, registry, regulator, outsider,
                                                                         importer):
    common = ("sign", "--account", account_arg("bank_us"), "--base", "CNY", "--quote", "USD", "--rate", "0.1385",
              "--max-amount", "100.00", "--nonce", "9")
    unknown = run(fx_cli, *common, "--payer", outsider.address)
    assert unknown.exit_code == 1 and "not an active participant" in unknown.output
    registry.freezeParticipant(importer.address, text_hash("AML"), sender=regulator)
    frozen = run(fx_cli, *common, "--payer", importer.address)
    assert frozen.exit_code == 1 and importer.address in frozen.output


def test_fx_quote_verify_refuses_an_open_quote_and_one_made_out_to_another_payer(run, tmp_path, chain, platform,
                                                                                 bank_us, importer, exporter):
    router = platform["PaymentRouter"]
    cny, usd = platform["SettlementTokenCNY"], platform["SettlementTokenUSD"]
    out = tmp_path / "quote.json"
    assert run(fx_cli, "sign", "--account", account_arg("bank_us"), "--payer", importer.address, "--base", "CNY",
               "--quote", "USD", "--rate", "0.1385", "--max-amount", "10.00", "--nonce", "12",
               "--out", str(out)).exit_code == 0
    other = run(fx_cli, "verify", str(out), "--payer", exporter.address)
    assert other.exit_code == 1 and "PaymentRouterQuoteNotForPayer" in other.output
    assert importer.address in other.output

    # A quote file from before payers were required: open, and refused.
    open_quote = FxQuote(bank_us.address, ZERO_ADDRESS, cny.address, usd.address, 1385 * 10**14, 10_00,
                         chain.pending_timestamp + 900, 13)
    signature = sign_quote_with_account(open_quote, bank_us, chain.chain_id, router.address)
    legacy = tmp_path / "open.json"
    legacy.write_text(json.dumps({"quote": open_quote.as_message(), "signature": "0x" + signature.hex()}))
    refused = run(fx_cli, "verify", str(legacy))
    assert refused.exit_code == 1 and "PaymentRouterQuoteNotForPayer" in refused.output


def test_fx_quote_usage_errors_exit_2(run, importer):
    unknown = run(fx_cli, "sign", "--account", account_arg("bank_cn"), "--payer", importer.address, "--base", "XAU",
                  "--quote", "USD", "--rate", "1", "--max-amount", "1", "--nonce", "1")
    assert unknown.exit_code == 2 and "XAU" in unknown.output
    too_precise = run(fx_cli, "sign", "--account", account_arg("bank_cn"), "--payer", importer.address, "--base",
                      "CNY", "--quote", "USD", "--rate", "0.1", "--max-amount", "1.001", "--nonce", "1")
    assert too_precise.exit_code == 2
    missing = run(fx_cli, "sign", "--account", account_arg("bank_cn"), "--base", "CNY")
    assert missing.exit_code == 2


# ───────────────────────────── certificates ─────────────────────────────


@pytest.fixture
def certificate(chain, desk, usd, importer, exporter, supplier3):
    """A certificate of 500,000.00 USD at 60 days (offered by the importer, accepted by the exporter), split
    so supplier3 holds 200,000.00 of it."""
    certs = desk.certificates
    maturity = chain.pending_timestamp + 60 * DAY
    invoice = desk.confirmed(exporter, importer, usd, 600_000_00, maturity)
    certs.offer(invoice, 500_000_00, maturity, sender=importer)
    [issued] = certs.CertificateIssued.from_receipt(certs.acceptOffer(invoice, sender=exporter))
    receipt = certs.split(issued.certificateId, [200_000_00, 300_000_00], [supplier3.address, exporter.address],
                          sender=exporter)
    children = [e.certificateId for e in certs.CertificateCreated.from_receipt(receipt)]
    return {"root": issued.certificateId, "children": children, "maturity": maturity}


def test_certificates_discount_then_settle_at_maturity(run, chain, desk, usd, certificate, bank_cn, supplier3,
                                                      exporter, importer):
    certs = desk.certificates
    piece, other = certificate["children"]
    shown = run(certificates_cli, "show", str(piece))
    assert shown.exit_code == 0 and json.loads(shown.output)["state"] == "Active"

    requested = run(certificates_cli, "request-discount", str(piece), "--account", account_arg("supplier3"),
                    "--bank", bank_cn.address, "--rate-bps", "600")
    assert requested.exit_code == 0, requested.output
    before = usd.balanceOf(supplier3.address)
    discounted = run(certificates_cli, "discount", str(piece), "--account", account_arg("bank_cn"),
                     "--rate-bps", "600", "--yes")
    assert discounted.exit_code == 0, discounted.output
    assert certs.certificate(piece).holder == bank_cn.address
    assert usd.balanceOf(supplier3.address) > before

    early = run(certificates_cli, "settle", str(piece), str(other), "--account", account_arg("importer"), "--yes")
    assert early.exit_code == 1 and "PayableCertificatesUnexpectedState" in early.output

    chain.mine(timestamp=certificate["maturity"])
    bank_before = usd.balanceOf(bank_cn.address)
    settled = run(certificates_cli, "settle", str(piece), str(other), "--account", account_arg("importer"), "--yes")
    assert settled.exit_code == 0, settled.output
    assert "paid in full" in settled.output
    assert usd.balanceOf(bank_cn.address) - bank_before == 200_000_00
    assert [certs.state(c) for c in (piece, other)] == [5, 5]

    twice = run(certificates_cli, "settle", str(piece), "--account", account_arg("importer"), "--yes")
    assert twice.exit_code == 1 and "PayableCertificatesUnexpectedState" in twice.output


def test_certificates_discount_without_request_is_refused_by_name(run, certificate):
    piece = certificate["children"][0]
    result = run(certificates_cli, "discount", str(piece), "--account", account_arg("bank_us"), "--rate-bps", "600",
                 "--yes")
    assert result.exit_code == 1
    assert "PayableCertificatesNoDiscountRequest" in result.output


def test_certificates_nested_refusal_is_named_and_unknown_id_is_a_usage_error(run, certificate, outsider):
    piece = certificate["children"][0]
    not_a_bank = run(certificates_cli, "request-discount", str(piece), "--account", account_arg("supplier3"),
                     "--bank", outsider.address, "--rate-bps", "600")
    # The registry's one check: the named bank must hold BANK_ROLE (an outsider holds none).
    assert not_a_bank.exit_code == 1 and "AccessControlUnauthorizedAccount" in not_a_bank.output
    assert run(certificates_cli, "show", "99999").exit_code == 2
