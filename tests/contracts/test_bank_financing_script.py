"""The bank's financing desk script (`ape run bank_financing ...`), run through click against the test chain.

Exit codes: 0 done, 1 refused or reverted (reason printed), 2 usage error.

Running the script (a `ConnectedProviderCommand`) makes Ape skip the per-test snapshot restore that follows
(the test's state stays on the chain), so every test works on fresh invoices and applications, and a test that
changes the shared world (a bank's role, freeze or customs policy) puts it back itself.
"""

from __future__ import annotations

import itertools

import pytest
import script_runs
from receivables_helpers import DAY, advance_to, confirmed_invoice, now

import scripts._common as common
from app.core.enums import FinancingState
from scripts._common import INVOICE_GRACE_PERIOD, text_hash
from scripts.bank_financing import cli

FACE = 50_000_00
_numbers = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def invoices(platform, registry, operator, regulator, bank_cn, bank_us, exporter, importer, accounts, networks):
    """The registry; wider-scoped fixtures are resolved here, before Ape's per-test snapshots."""
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def financing(platform):
    return platform["ReceivableFinancing"]


@pytest.fixture(scope="module", autouse=True)
def allowances(financing, invoices, usd, exporter, importer):
    usd.approve(financing.address, 2**255, sender=exporter)  # recourse agreement
    usd.approve(invoices.address, 2**255, sender=importer)


@pytest.fixture
def deployment(platform, tmp_path, monkeypatch):
    """The platform's addresses recorded where the script looks for them (a temporary folder)."""
    monkeypatch.setattr(common, "DEPLOYMENTS_DIR", tmp_path)
    common.record_deployment(platform, start_block=0)


@pytest.fixture
def run(networks, accounts, chain, deployment):
    """Runs `bank_financing` with `args` as the test account `as_`; returns (exit code, output)."""
    network = _network_of_this_session(networks.provider)

    def _run(*args: object, as_=None) -> tuple[int, str]:
        argv = [str(a) for a in args] + ["--network", network]
        if as_ is not None:
            argv += ["--account", f"TEST::{[a.address for a in accounts].index(as_.address)}"]
        result = script_runs.invoke(chain, cli, argv)
        return result.exit_code, result.output

    return _run


def _network_of_this_session(provider) -> str:
    """Anvil is reached by its URI (naming the provider would start a second, empty Anvil); the embedded
    eth-tester chain is shared in-process under its own name."""
    uri = getattr(provider, "http_uri", None)
    if provider.name != "test" and uri:
        return f"{provider.network.ecosystem.name}:{provider.network.name}:{uri}"
    return provider.network_choice


@pytest.fixture
def application(chain, invoices, financing, usd, exporter, importer, bank_cn):
    """A confirmed invoice of the exporter and its application to bank_cn: (invoice id, financing id)."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, f"S-{next(_numbers)}", FACE, 30 * DAY)
    receipt = financing.applyForFinancing(invoice_id, bank_cn.address, 40_000_00, sender=exporter)
    return invoice_id, int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)


def _approve_args(chain, financing_id: int, advance: int = 40_000_00) -> list[object]:
    return ["approve", financing_id, "--advance", advance, "--rate-bps", 700, "--maturity",
            now(chain) + 30 * DAY, "--terms", "FA-2026-7", "--yes"]


def test_pending_lists_the_applications_for_this_bank(application, run, bank_cn, bank_us):
    _, financing_id = application
    code, out = run("pending", as_=bank_cn)
    assert code == 0, out
    assert f"financing {financing_id}:" in out
    assert "USD 40,000.00" in out and "customs declaration: none" in out
    code, out = run("pending", as_=bank_us)
    assert (code, f"financing {financing_id}:" in out) == (0, False)


def test_approve_pays_the_advance_and_takes_the_lien(chain, application, run, financing, invoices, usd, bank_cn,
                                                     exporter):
    invoice_id, financing_id = application
    before = usd.balanceOf(exporter.address)
    code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
    assert code == 0, out
    assert "Approved financing" in out
    assert financing.financing(financing_id).state == FinancingState.Active
    assert usd.balanceOf(exporter.address) == before + 40_000_00
    assert invoices.invoice(invoice_id).lienFinancier == bank_cn.address


def test_approve_is_refused_for_another_bank_and_a_second_bank_is_told_the_invoice_is_liened(
        chain, application, run, bank_us, bank_cn, financing, exporter):
    invoice_id, financing_id = application
    code, out = run(*_approve_args(chain, financing_id), as_=bank_us)
    assert code == 1 and "REFUSED" in out
    # The seller also applied to bank_us; bank_cn finances first, then bank_us is told where the lien is.
    receipt = financing.applyForFinancing(invoice_id, bank_us.address, 40_000_00, sender=exporter)
    second = int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)
    assert run(*_approve_args(chain, financing_id), as_=bank_cn)[0] == 0
    code, out = run(*_approve_args(chain, second), as_=bank_us)
    assert code == 1
    assert "REFUSED" in out and "ReceivableFinancingInvoiceLiened" in out
    assert "liened through ReceivableFinancing" in out and bank_cn.address in out
    assert financing.financing(second).state == FinancingState.Applied
    code, out = run("pending", as_=bank_us)
    assert code == 0 and f"LIENED through ReceivableFinancing for {bank_cn.address}" in out


def test_approve_is_refused_above_what_the_buyer_left_unpaid(chain, application, run, invoices, financing,
                                                             importer, bank_cn):
    invoice_id, financing_id = application
    invoices.pay(invoice_id, 20_000_00, sender=importer)  # FACE 50,000: 30,000 left unpaid
    code, out = run("pending", as_=bank_cn)
    assert code == 0 and "unpaid USD 30,000.00" in out
    code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
    assert code == 1
    assert "REFUSED" in out and "ReceivableFinancingAboveOutstanding" in out
    assert financing.financing(financing_id).state == FinancingState.Applied
    code, out = run(*_approve_args(chain, financing_id, advance=30_000_00), as_=bank_cn)
    assert code == 0, out
    assert financing.financing(financing_id).amount == 30_000_00


def test_approve_is_refused_under_a_closed_programme(chain, run, invoices, financing, usd, importer, exporter,
                                                     bank_cn):
    receipt = financing.proposeProgramme(bank_cn.address, 400, 100_000_00, sender=importer)
    programme_id = int(financing.ProgrammeProposed.from_receipt(receipt)[0].programmeId)
    financing.acceptProgramme(programme_id, sender=bank_cn)
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, f"S-{next(_numbers)}", FACE, 30 * DAY)
    receipt = financing.applyUnderProgramme(invoice_id, programme_id, 40_000_00, sender=exporter)
    financing_id = int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)
    financing.closeProgramme(programme_id, sender=importer)
    code, out = run("approve", financing_id, "--advance", 40_000_00, "--rate-bps", 400, "--maturity",
                    now(chain) + 30 * DAY, "--yes", as_=bank_cn)
    assert code == 1
    assert "is Closed, must be Open" in out and "ReceivableFinancingUnexpectedProgrammeState" in out
    assert financing.financing(financing_id).state == FinancingState.Applied


def test_a_bank_that_may_not_act_is_refused_with_the_registrys_reason(chain, application, run, registry, operator,
                                                                      regulator, financing, bank_cn):
    _, financing_id = application
    bank_role, reason = registry.BANK_ROLE(), text_hash("SANCTIONS")
    try:  # the world is restored by hand: running the script defeats Ape's per-test snapshot (see the module doc)
        registry.freezeParticipant(bank_cn.address, reason, sender=regulator)
        frozen = f"ParticipantRegistryParticipantFrozen(account={bank_cn.address})".lower()
        code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
        assert code == 1 and frozen in out.lower()
        code, out = run("reject", financing_id, "--reason", "X", "--yes", as_=bank_cn)
        assert code == 1 and frozen in out.lower()
        registry.unfreezeParticipant(bank_cn.address, reason, sender=regulator)
        registry.revokeRole(bank_role, bank_cn.address, sender=operator)
        code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
        assert code == 1
        assert (f"AccessControlUnauthorizedAccount(account={bank_cn.address}, neededRole=0x{bank_role.hex()})".lower()
                in out.lower())
        assert financing.financing(financing_id).state == FinancingState.Applied
    finally:
        if registry.participant(bank_cn.address).frozen:
            registry.unfreezeParticipant(bank_cn.address, reason, sender=regulator)
        if not registry.hasRole(bank_role, bank_cn.address):
            registry.grantRole(bank_role, bank_cn.address, sender=operator)


def test_a_bank_requiring_a_customs_match_is_refused_without_one(chain, application, run, financing, bank_cn):
    _, financing_id = application
    financing.setCustomsMatchRequired(True, sender=bank_cn)
    try:  # restored by hand, as above
        code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
        assert code == 1 and "ReceivableFinancingCustomsMatchRequired" in out
        assert financing.financing(financing_id).state == FinancingState.Applied
    finally:
        financing.setCustomsMatchRequired(False, sender=bank_cn)


def test_approve_reports_the_contract_error_when_the_chain_refuses(chain, application, run, bank_cn, registry,
                                                                   regulator, financing):
    _, financing_id = application
    registry.freezeInstrument(financing.address, financing_id, b"SANCTIONS".ljust(32, b"\0"), sender=regulator)
    code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
    assert code == 1
    assert "REVERTED: ReceivableFinancingFrozen" in out


def test_errors_of_the_invoice_registry_are_named_too(chain, application, run, bank_cn, registry, regulator,
                                                     invoices):
    invoice_id, financing_id = application
    registry.freezeInstrument(invoices.address, invoice_id, b"AML-HOLD".ljust(32, b"\0"), sender=regulator)
    code, out = run(*_approve_args(chain, financing_id), as_=bank_cn)
    assert code == 1
    assert "REVERTED: InvoiceRegistryFrozen" in out


def test_reject_records_the_reason(application, run, financing, bank_cn):
    _, financing_id = application
    code, out = run("reject", financing_id, "--reason", "CREDIT-LIMIT", "--yes", as_=bank_cn)
    assert code == 0, out
    assert financing.financing(financing_id).state == FinancingState.Rejected
    code, out = run("reject", financing_id, "--reason", "CREDIT-LIMIT", "--yes", as_=bank_cn)
    assert code == 1 and "is Rejected, must be Applied" in out


def test_repay_records_an_off_chain_repayment(chain, application, run, financing, bank_cn):
    _, financing_id = application
    assert run(*_approve_args(chain, financing_id), as_=bank_cn)[0] == 0
    code, out = run("repay", financing_id, "--amount", 10_000_00, "--reference", "MT103-0001", "--yes",
                    as_=bank_cn)
    assert code == 0, out
    assert financing.financing(financing_id).repaidAmount == 10_000_00
    code, out = run("repay", financing_id, "--amount", 10**12, "--reference", "X", "--yes", as_=bank_cn)
    assert code == 1 and "above what is owed" in out


def test_default_waits_for_the_overdue_date_then_recovers_from_the_seller(chain, application, run, financing,
                                                                          invoices, bank_cn, usd, exporter):
    invoice_id, financing_id = application
    assert run(*_approve_args(chain, financing_id), as_=bank_cn)[0] == 0
    code, out = run("default", financing_id, "--yes", as_=bank_cn)
    assert code == 1 and "not overdue" in out
    advance_to(chain, invoices.invoice(invoice_id).dueDate + INVOICE_GRACE_PERIOD + 1)
    before = usd.balanceOf(exporter.address)
    code, out = run("default", financing_id, "--recourse", "--yes", as_=bank_cn)
    assert code == 0, out
    assert "declared in default" in out and "Recovered" in out
    assert financing.financing(financing_id).state == FinancingState.Closed
    assert usd.balanceOf(exporter.address) < before


def test_usage_errors_exit_with_code_2(run, bank_cn):
    code, _ = run("approve", 1, "--rate-bps", 700, "--maturity", "2030-01-01", "--yes", as_=bank_cn)
    assert code == 2
    code, _ = run("approve", 1, "--advance", 1, "--rate-bps", 700, "--maturity", "someday", "--yes", as_=bank_cn)
    assert code == 2
