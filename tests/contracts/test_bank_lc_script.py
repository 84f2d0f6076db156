"""The bank's letter-of-credit script (`ape run bank_lc ...`), run through click against the test chain.

Exit codes: 0 done, 1 refused or reverted (reason printed), 2 usage error.
"""

from __future__ import annotations

import pytest
import script_runs
from lc_world import AMOUNT, LATEST_SHIPMENT, MAX_ALLOWANCE, Credits, next_monday

import scripts._common as common
from app.core.enums import Availability, CreditState, PresentationState
from scripts._letters_of_credit import DAY
from scripts.bank_lc import cli


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(platform, registry, regulator, outsider, supplier1, accounts, networks):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def lc(platform):
    return platform["LetterOfCredit"]


@pytest.fixture(scope="module")
def approvals(lc, usd, importer, bank_us):
    usd.approve(lc.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(lc.address, MAX_ALLOWANCE, sender=bank_us)


@pytest.fixture
def deployment(platform, tmp_path, monkeypatch):
    """The platform's addresses recorded where the script looks for them (a temporary folder)."""
    monkeypatch.setattr(common, "DEPLOYMENTS_DIR", tmp_path)
    common.record_deployment(platform, start_block=0)


@pytest.fixture
def credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, approvals) -> Credits:
    return Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))


@pytest.fixture
def run(networks, accounts, chain, deployment):
    """Runs `bank_lc` with the given arguments as the test account `as_`; returns (exit code, output)."""
    # The script runs on this session's chain: Ape's CLI takes an already connected provider from the click
    # context object. Naming the network instead (`--network ethereum:local:foundry`) would start a second,
    # empty Anvil; `none` tells the network option not to pick a provider of its own.
    session = {"provider": networks.provider}

    def _run(*args: object, as_=None) -> tuple[int, str]:
        argv = [str(a) for a in args] + ["--network", "none"]
        if as_ is not None:
            argv += ["--account", f"TEST::{_index(accounts, as_)}"]
        result = script_runs.invoke(chain, cli, argv, obj=dict(session))
        return result.exit_code, result.output

    return _run


def _index(accounts, account) -> int:
    return [a.address for a in accounts].index(account.address)


def test_issue_and_advise_with_preflight_checks(credits, lc, run, bank_us, bank_cn):
    lc_id = credits.apply()

    code, out = run("issue", lc_id, "--margin", AMOUNT // 10, "--yes", as_=bank_cn)
    assert code == 1 and "is not the issuing bank" in out
    code, out = run("issue", lc_id, "--margin", AMOUNT // 10, "--yes", as_=bank_us)
    assert code == 0, out
    assert "Issued letter of credit" in out and lc.margin(lc_id).held == AMOUNT // 10
    code, out = run("advise", lc_id, "--yes", as_=bank_cn)
    assert code == 0, out
    code, out = run("show", lc_id)
    assert code == 0 and "Advised" in out


def test_issue_asks_for_confirmation(credits, run, bank_us, lc):
    lc_id = credits.apply()
    code, out = run("issue", lc_id, as_=bank_us)  # CliRunner answers the prompt with nothing: "no"
    assert code == 1 and "not confirmed" in out
    assert lc.state(lc_id) == CreditState.Applied


def test_examine_refuses_a_late_shipment_then_honours_a_compliant_presentation(credits, lc, usd, run, bank_us,
                                                                               exporter):
    lc_id = credits.open()
    late = credits.present(lc_id, day=12, shipment_day=LATEST_SHIPMENT + 1, amount=AMOUNT // 2)

    code, out = run("examine", lc_id, late, "--decision", "compliant", "--yes", as_=bank_us)
    assert code == 1 and "LATE_SHIPMENT" in out
    code, out = run("examine", lc_id, late, "--decision", "refuse", "--yes", as_=bank_us)
    assert code == 0, out
    assert "Refused" in out and lc.presentationState(lc_id, late) == PresentationState.Refused

    clean = credits.present(lc_id, day=12, amount=AMOUNT // 2)
    code, out = run("examine", lc_id, clean, "--decision", "compliant", "--yes", as_=bank_us)
    assert code == 0 and "Compliant" in out
    deadline = lc.presentation(lc_id, clean).examinationDeadline
    assert f"honour by {deadline}" in out
    before = usd.balanceOf(exporter.address)
    code, out = run("honour", lc_id, clean, "--yes", as_=bank_us)
    assert code == 0 and "Paid" in out
    assert usd.balanceOf(exporter.address) == before + AMOUNT // 2


def test_hold_with_bank_codes_then_refuse(credits, lc, run, bank_us):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12)
    code, out = run("examine", lc_id, presentation_id, "--decision", "hold", "--yes", as_=bank_us)
    assert code == 1 and "--codes" in out
    code, out = run("examine", lc_id, presentation_id, "--decision", "hold", "--codes", "INCONSISTENT_DATA",
                    "--yes", as_=bank_us)
    assert code == 0 and "Discrepant" in out
    code, out = run("examine", lc_id, presentation_id, "--decision", "refuse", "--yes", as_=bank_us)
    assert code == 0 and lc.presentationState(lc_id, presentation_id) == PresentationState.Refused


def test_usage_errors_exit_with_two(credits, run, bank_us):
    lc_id = credits.open()
    code, _ = run("examine", lc_id, 1, "--decision", "maybe", as_=bank_us)
    assert code == 2
    code, out = run("examine", lc_id, 1, "--decision", "hold", "--codes", "LATE_LUNCH", as_=bank_us)
    assert code == 2 and "unknown discrepancy code" in out


@pytest.mark.parametrize("codes", ["OVER_TOLERANCE", "INCONSISTENT_DATA,LATE_SHIPMENT"])
def test_the_bank_may_declare_only_inconsistent_data(credits, lc, run, bank_us, codes):
    """The coded discrepancies are the contract's (audit M2): the script refuses them as a usage error
    before anything is sent."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12)
    code, out = run("examine", lc_id, presentation_id, "--decision", "hold", "--codes", codes, "--yes",
                    as_=bank_us)
    assert code == 2 and "declares only INCONSISTENT_DATA" in out
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented


def test_show_names_the_presented_invoice_and_the_deadline(credits, lc, run):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12)
    view = lc.presentation(lc_id, presentation_id)
    code, out = run("show", lc_id, presentation_id)
    assert code == 0, out
    assert f"decide and honour by {view.examinationDeadline}" in out
    assert f"invoice {hex(view.invoiceId)}" in out


def test_without_a_recorded_deployment_the_script_is_a_usage_error(run, tmp_path, monkeypatch):
    monkeypatch.setattr(common, "DEPLOYMENTS_DIR", tmp_path / "empty")
    code, out = run("show", 1)
    assert code == 2 and "no LetterOfCredit deployment" in out


def test_a_revert_prints_the_custom_error_name(credits, lc, registry, regulator, run, bank_cn):
    lc_id = credits.apply()
    lc.issue(lc_id, 0, sender=credits.issuing_bank)
    registry.freezeInstrument(lc.address, lc_id, b"\x01" * 32, sender=regulator)
    code, out = run("advise", lc_id, "--yes", as_=bank_cn)
    assert code == 1 and "LetterOfCreditFrozen" in out


def test_pay_a_matured_deferred_payment(credits, lc, usd, run, bank_us, exporter, supplier1, outsider):
    lc_id = credits.open(availability=int(Availability.DeferredPayment), deferredPaymentDays=30)
    presentation_id = credits.present(lc_id, day=12, shipment_day=3)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    code, out = run("honour", lc_id, presentation_id, "--yes", as_=bank_us)
    assert code == 0 and "Honoured" in out

    code, out = run("pay", lc_id, presentation_id, "--yes", as_=supplier1)
    assert code == 1 and "matures at" in out
    credits.mine_at((credits.base + 3 + 30) * DAY)
    # Any active participant may send the payment; a stranger is refused before anything is sent.
    code, out = run("pay", lc_id, presentation_id, "--yes", as_=outsider)
    assert code == 1 and "not an active participant" in out
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Honoured
    before = usd.balanceOf(exporter.address)
    code, out = run("pay", lc_id, presentation_id, "--yes", as_=supplier1)
    assert code == 0, out
    assert usd.balanceOf(exporter.address) == before + AMOUNT
