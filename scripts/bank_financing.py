"""A bank's receivable financing desk: review applications, approve or reject, record repayments, default.

    ape run bank_financing pending                                    --account BANK [--network ...]
    ape run bank_financing approve FINANCING_ID --advance N --rate-bps R --maturity UNIX|YYYY-MM-DD
                                   [--terms TEXT] [--yes]            --account BANK
    ape run bank_financing reject FINANCING_ID --reason CODE [--yes] --account BANK
    ape run bank_financing repay FINANCING_ID --amount N --reference REF [--yes]   --account BANK
    ape run bank_financing default FINANCING_ID [--recourse] [--yes] --account BANK

`repay` records a repayment the bank received off chain (e.g. by wire); buyer payments through the invoice
registry repay the bank automatically. Amounts are integers in minor units. Every command checks its
preconditions before sending, asks before an irreversible step (unless `--yes`), and exits with a code a
scheduler can rely on: 0 done, 1 refused (precondition failed or the contract reverted: the custom error's
name is printed), 2 usage error (bad arguments, no deployment recorded for this chain).

A refused precondition names the contract error the chain would answer, e.g. `ReceivableFinancingInvoiceLiened`
when another bank (or another instrument) holds the invoice's lien, `ReceivableFinancingAboveOutstanding` when
the buyer has paid part of the invoice since the application, or the registry's reason when the bank itself may
not act (`AccessControlUnauthorizedAccount`, `ParticipantRegistryParticipantFrozen`).
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option
from eth_utils import keccak

from app.core.enums import FinancingState, InvoiceState, ProgrammeState
from scripts._cli import DeskToken, Refused, desk_command, yes_option
from scripts._common import load_deployment

ZERO_ADDRESS = "0x" + "00" * 20


# ───────────────────────────── Chain access ─────────────────────────────


def _contract(name: str) -> Any:
    """The deployed contract `name` of the connected chain (usage error when none is recorded)."""
    from ape import Contract, project

    chain_id = _node_chain_id()
    deployment = load_deployment(chain_id)
    if deployment is None or name not in deployment.get("contracts", {}):
        raise click.UsageError(f"no {name} deployment recorded for chain {chain_id}")
    return Contract(deployment["contracts"][name], contract_type=project.get_contract(name).contract_type)


def _contract_name(address: str) -> str:
    """The recorded name of the deployed contract at `address`, or the address itself."""
    deployment = load_deployment(_node_chain_id()) or {}
    for name, recorded in deployment.get("contracts", {}).items():
        if recorded.lower() == str(address).lower():
            return name
    return str(address)


def _node_chain_id() -> int:
    """The chain id the node itself reports. Ape's `chain.chain_id` answers the configured id of the
    `local` network (1337) when a node is reached by URI, e.g. an Anvil devnet (31337)."""
    from ape import networks

    return int(networks.provider.web3.eth.chain_id)




def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _code(text: str) -> bytes:
    """A reason or reference as `bytes32`: ASCII right-padded when it fits, else its keccak256."""
    raw = text.encode("utf-8")
    return raw.ljust(32, b"\0") if len(raw) <= 32 else keccak(raw)


def _parse_time(value: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is neither unix seconds nor YYYY-MM-DD") from exc


def _financing_of(financing: Any, financing_id: int, bank: Any) -> Any:
    """Financing `financing_id`, which must exist and belong to `bank`."""
    if not 1 <= financing_id <= financing.financingCount():
        raise Refused(f"no financing {financing_id}")
    f = financing.financing(financing_id)
    if f.bank != bank.address:
        raise Refused(f"financing {financing_id} is with {f.bank}, not {bank.address}")
    return f


def _require_bank(bank: Any) -> None:
    """The bank must be authorized for BANK_ROLE now (role held, active, not frozen); otherwise the registry's
    own reason, as the financing contract would revert with it."""
    registry = _contract("ParticipantRegistry")
    role = registry.BANK_ROLE()
    if registry.isAuthorized(bank.address, role):
        return
    reason = _view_revert(registry, "requireAuthorized", bank.address, role)
    raise Refused(f"{bank.address} may not act as a bank now" + (f": {reason}" if reason else ""))


def _view_revert(contract: Any, method: str, *args: Any) -> str | None:
    """The custom error the view `contract.method(*args)` reverts with, as `Name(arg=value, ...)` decoded by
    selector from the contract's own ABI (None when it does not revert). A raw `eth_call`: Ape hands a view
    call's revert over decoded on eth-tester but without its selector on Anvil."""
    from ape import networks
    from eth_abi import decode
    from eth_tester.exceptions import TransactionFailed
    from web3.exceptions import ContractLogicError

    calldata = bytes(getattr(contract, method).encode_input(*args))
    try:
        networks.provider.web3.eth.call({"to": str(contract.address), "data": "0x" + calldata.hex()})
    except (ContractLogicError, TransactionFailed) as revert:
        data = _revert_bytes(revert)
        for error in contract.contract_type.errors:
            if data[:4] == keccak(text=error.selector)[:4]:
                values = decode([i.canonical_type for i in error.inputs], data[4:])
                return f"{error.name}(" + ", ".join(f"{i.name}={_shown(v)}" for i, v in zip(error.inputs, values)) + ")"
        return str(revert)
    return None


def _revert_bytes(revert: Exception) -> bytes:
    """Revert data from web3 (`.data`, hex: a node such as Anvil) or eth-tester (`execution reverted: b'...'`)."""
    data = getattr(revert, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    text = str(revert.args[0]) if revert.args else ""
    text = text.removeprefix("execution reverted: ")
    return ast.literal_eval(text) if text.startswith(("b'", 'b"')) else b""


def _shown(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _require_financeable(financing: Any, invoices: Any, f: Any, bank: Any, advance: int) -> Any:
    """The checks of `ReceivableFinancing.approve` on the invoice, in the contract's order; the invoice."""
    invoice = invoices.invoice(f.invoiceId)
    if invoice.seller != f.seller:
        raise Refused(f"invoice {f.invoiceId:#x} now belongs to {invoice.seller}, not the applicant {f.seller} "
                      f"(ReceivableFinancingNotSeller)")
    if invoice.lienFinancier != ZERO_ADDRESS:
        raise Refused(f"invoice {f.invoiceId:#x} is liened through {_contract_name(invoice.lienInstrument)} for "
                      f"{invoice.lienFinancier} (ReceivableFinancingInvoiceLiened)")
    if invoice.state != InvoiceState.Confirmed:
        raise Refused(f"invoice {f.invoiceId:#x} is {InvoiceState(invoice.state).name}, must be "
                      f"{InvoiceState.Confirmed.name} (ReceivableFinancingInvoiceNotConfirmed)")
    unpaid = invoice.faceAmount - invoice.paidAmount
    if advance > unpaid:
        raise Refused(f"advance {advance} is above what is still unpaid on invoice {f.invoiceId:#x} ({unpaid}) "
                      f"(ReceivableFinancingAboveOutstanding)")
    if financing.customsMatchRequired(bank.address) and not invoices.customsOf(f.invoiceId)[1]:
        raise Refused(f"this bank requires a matching customs declaration and invoice {f.invoiceId:#x} has none "
                      f"(ReceivableFinancingCustomsMatchRequired)")
    return invoice


def _require_programme_terms(financing: Any, financing_id: int, f: Any, rate_bps: int, advance: int) -> None:
    """Under a reverse factoring programme: still open, at its rate, within its limit."""
    if not f.underProgramme:
        return
    programme_id = financing.programmeOf(financing_id)
    p = financing.programme(programme_id)
    if p.state != ProgrammeState.Open:
        raise Refused(f"programme {programme_id} is {ProgrammeState(p.state).name}, must be "
                      f"{ProgrammeState.Open.name} (ReceivableFinancingUnexpectedProgrammeState)")
    if rate_bps != p.rateBps:
        raise Refused(f"programme {programme_id} finances at {p.rateBps} bps, not {rate_bps} "
                      f"(ReceivableFinancingProgrammeRateMismatch)")
    if p.used + advance > p.limit:
        raise Refused(f"programme {programme_id} has {p.limit - p.used} of its limit left, below {advance} "
                      f"(ReceivableFinancingProgrammeLimitExceeded)")


def _require_state(financing_id: int, f: Any, *expected: FinancingState) -> None:
    state = FinancingState(f.state)
    if state not in expected:
        wanted = " or ".join(s.name for s in expected)
        raise Refused(f"financing {financing_id} is {state.name}, must be {wanted}")


def _confirm(question: str, yes: bool) -> None:
    if not yes and not click.confirm(question, default=False):
        raise Refused("not confirmed")


@click.group()
def cli() -> None:
    """Receivable financing operations for banks (DESIGN §5)."""


# ───────────────────────────── Review ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@desk_command
def pending(account: Any) -> None:
    """List the applications waiting for this bank's decision."""
    financing, invoices = _contract("ReceivableFinancing"), _contract("InvoiceRegistry")
    rows = 0
    for financing_id in range(1, financing.financingCount() + 1):
        f = financing.financing(financing_id)
        if f.bank != account.address or f.state != FinancingState.Applied:
            continue
        invoice = invoices.invoice(f.invoiceId)
        token = DeskToken(invoice.currency)
        attested, matched = invoices.customsOf(f.invoiceId)
        customs = "matched" if matched else ("MISMATCH" if attested else "none")
        if attested:
            customs += f" (declared by {invoices.customsAttesterOf(f.invoiceId)})"
        programme = financing.programmeOf(financing_id) if f.underProgramme else 0
        click.echo(f"financing {financing_id}: seller {f.seller} requests {token.show(f.amount)}")
        click.echo(f"  invoice {f.invoiceId:#x}: {InvoiceState(invoice.state).name}, face "
                   f"{token.show(invoice.faceAmount)}, unpaid "
                   f"{token.show(invoice.faceAmount - invoice.paidAmount)}, due {_date(invoice.dueDate)}, "
                   f"buyer {invoice.buyer}")
        if invoice.lienFinancier != ZERO_ADDRESS:
            click.echo(f"  LIENED through {_contract_name(invoice.lienInstrument)} for {invoice.lienFinancier}")
        click.echo(f"  customs declaration: {customs}"
                   + (f"; programme {programme} at {f.rateBps} bps" if programme else ""))
        rows += 1
    click.echo(f"{rows} application(s) pending for {account.address}")


# ───────────────────────────── Decision ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("financing_id", type=int)
@click.option("--advance", type=click.IntRange(min=1), required=True, help="Advance in minor units.")
@click.option("--rate-bps", type=click.IntRange(0, 10_000), required=True, help="Annual rate, basis points.")
@click.option("--maturity", required=True, help="Maturity: unix seconds or YYYY-MM-DD (UTC).")
@click.option("--terms", default="", help="Text of the agreement reference; its hash goes on chain.")
@yes_option
@desk_command
def approve(account: Any, financing_id: int, advance: int, rate_bps: int, maturity: str, terms: str,
            yes: bool) -> None:
    """Approve an application: pay the advance to the seller and take the invoice's lien."""
    maturity_at = _parse_time(maturity)
    financing, invoices = _contract("ReceivableFinancing"), _contract("InvoiceRegistry")
    f = _financing_of(financing, financing_id, account)
    _require_bank(account)
    _require_state(financing_id, f, FinancingState.Applied)
    if advance > f.amount:
        raise Refused(f"advance {advance} is above the requested {f.amount} (ReceivableFinancingInvalidAdvance)")
    _require_programme_terms(financing, financing_id, f, rate_bps, advance)
    invoice = _require_financeable(financing, invoices, f, account, advance)
    token = DeskToken(invoice.currency)
    _confirm(f"Pay {token.show(advance)} to {f.seller} at {rate_bps} bps until {_date(maturity_at)} "
             f"and take the lien on invoice {f.invoiceId:#x}?", yes)
    if token.contract.allowance(account.address, financing.address) < advance:
        token.contract.approve(financing.address, advance, sender=account)
    financing.approve(financing_id, advance, rate_bps, maturity_at, keccak(text=terms), sender=account)
    click.echo(f"Approved financing {financing_id}: advanced {token.show(advance)} to {f.seller}")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("financing_id", type=int)
@click.option("--reason", required=True, help="Reason code, e.g. CREDIT-LIMIT.")
@yes_option
@desk_command
def reject(account: Any, financing_id: int, reason: str, yes: bool) -> None:
    """Reject an application with a reason code."""
    financing = _contract("ReceivableFinancing")
    f = _financing_of(financing, financing_id, account)
    _require_bank(account)
    _require_state(financing_id, f, FinancingState.Applied)
    _confirm(f"Reject financing {financing_id} ({reason})?", yes)
    financing.reject(financing_id, _code(reason), sender=account)
    click.echo(f"Rejected financing {financing_id}: {reason}")


# ───────────────────────────── Repayment and default ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("financing_id", type=int)
@click.option("--amount", type=click.IntRange(min=1), required=True, help="Amount received, minor units.")
@click.option("--reference", required=True, help="Payment reference of the off-chain receipt.")
@yes_option
@desk_command
def repay(account: Any, financing_id: int, amount: int, reference: str, yes: bool) -> None:
    """Record a repayment the bank received off chain."""
    financing, invoices = _contract("ReceivableFinancing"), _contract("InvoiceRegistry")
    f = _financing_of(financing, financing_id, account)
    _require_bank(account)
    _require_state(financing_id, f, FinancingState.Active, FinancingState.Defaulted)
    token = DeskToken(invoices.invoice(f.invoiceId).currency)
    owed = financing.owed(financing_id)
    if amount > owed:
        raise Refused(f"amount {amount} is above what is owed now ({owed}) (ReceivableFinancingOverpayment)")
    _confirm(f"Record {token.show(amount)} received for financing {financing_id} (ref {reference})?", yes)
    financing.recordRepayment(financing_id, amount, _code(reference), sender=account)
    state = FinancingState(financing.financing(financing_id).state)
    click.echo(f"Recorded {token.show(amount)} on financing {financing_id}; now {state.name}, owed "
               f"{token.show(financing.owed(financing_id))}")


@cli.command(name="default", cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("financing_id", type=int)
@click.option("--recourse", is_flag=True, help="Also recover what is owed from the seller.")
@yes_option
@desk_command
def default_(account: Any, financing_id: int, recourse: bool, yes: bool) -> None:
    """Declare a financing in default (invoice defaulted, or past maturity plus grace); with --recourse,
    pull what is owed from the seller and close it."""
    from ape import chain

    financing, invoices = _contract("ReceivableFinancing"), _contract("InvoiceRegistry")
    f = _financing_of(financing, financing_id, account)
    _require_bank(account)
    _require_state(financing_id, f, FinancingState.Active, FinancingState.Defaulted)
    token = DeskToken(invoices.invoice(f.invoiceId).currency)
    if f.state == FinancingState.Active:
        defaults_at = f.maturity + invoices.gracePeriod()
        invoice_defaulted = invoices.state(f.invoiceId) == InvoiceState.Defaulted
        if not invoice_defaulted and chain.pending_timestamp <= defaults_at:
            raise Refused(f"financing {financing_id} is not overdue before {_date(defaults_at)} "
                          f"(ReceivableFinancingNotOverdue)")
        _confirm(f"Declare financing {financing_id} in default?", yes)
        financing.markDefault(financing_id, sender=account)
        click.echo(f"Financing {financing_id} declared in default; owed "
                   f"{token.show(financing.owed(financing_id))}")
    if recourse:
        _confirm(f"Recover about {token.show(financing.owed(financing_id))} from the seller {f.seller}?", yes)
        receipt = financing.claimRecourse(financing_id, sender=account)
        recovered = financing.RecourseClaimed.from_receipt(receipt)[0].amount
        click.echo(f"Recovered {token.show(recovered)} from {f.seller}; financing {financing_id} closed")
    elif f.state == FinancingState.Defaulted:
        raise Refused(f"financing {financing_id} is already {FinancingState.Defaulted.name} "
                      "(use --recourse to recover)")


if __name__ == "__main__":  # `ape run bank_financing` imports `cli`; direct runs go through it too
    cli()
