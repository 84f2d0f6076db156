"""A bank's letter-of-credit desk: issue, advise, examine, honour, pay matured deferred payments.

    ape run bank_lc show LC_ID [PRESENTATION_ID]          --network ... (read only)
    ape run bank_lc issue LC_ID [--margin MINOR_UNITS]    --account BANK
    ape run bank_lc advise LC_ID                          --account ADVISING_BANK
    ape run bank_lc examine LC_ID PRESENTATION_ID --decision compliant|hold|refuse [--codes INCONSISTENT_DATA]
    ape run bank_lc honour LC_ID PRESENTATION_ID          --account ISSUING_BANK
    ape run bank_lc pay LC_ID PRESENTATION_ID             --account ANY_ACTIVE_PARTICIPANT

Amounts are integers in minor units. Every command checks its preconditions before it sends anything,
asks for confirmation before an irreversible step (unless `--yes`), and exits with a code a scheduler can
rely on: 0 done, 1 refused (a precondition failed or the contract reverted: the custom error is printed),
2 usage error (bad arguments, no deployment recorded for this chain).

The bank declares only the documentary discrepancy, INCONSISTENT_DATA (Art. 14(d)); the coded ones are
computed by the contract at presentation. A presentation found compliant must still be honoured by its
deadline (the end of the fifth banking day, later after a waiver or a freeze): past it, the beneficiary
claims preclusion (Art. 16(f)).
"""

from __future__ import annotations

from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from app.core.enums import Availability, CreditState, Discrepancy, PresentationState
from scripts._cli import DeskToken, Refused, desk_command, yes_option
from scripts._common import load_deployment
from scripts._letters_of_credit import describe_discrepancies, parse_discrepancies


def _letters() -> Any:
    """The deployed LetterOfCredit of the connected chain (usage error when none is recorded)."""
    from ape import Contract, chain, project

    chain_id = chain.chain_id
    deployment = load_deployment(chain_id)
    if deployment is None or "LetterOfCredit" not in deployment.get("contracts", {}):
        raise click.UsageError(f"no LetterOfCredit deployment recorded for chain {chain_id}")
    return Contract(deployment["contracts"]["LetterOfCredit"], contract_type=project.LetterOfCredit.contract_type)



def _confirm(question: str, yes: bool) -> None:
    if not yes and not click.confirm(question, default=False):
        raise Refused("not confirmed by the operator")


def _credit_state(lc: Any, lc_id: int) -> CreditState:
    if not 1 <= lc_id <= lc.creditCount():
        raise Refused(f"no letter of credit {lc_id}")
    return CreditState(lc.state(lc_id))


def _presentation(lc: Any, lc_id: int, presentation_id: int) -> Any:
    _credit_state(lc, lc_id)
    total, _ = lc.presentationCounts(lc_id)
    if not 1 <= presentation_id <= total:
        raise Refused(f"no presentation {presentation_id} under letter of credit {lc_id}")
    return lc.presentation(lc_id, presentation_id)


BANK_DISCREPANCY = Discrepancy.INCONSISTENT_DATA  # the only code the bank declares (audit M2)


def _require_state(actual: Any, expected: set[Any], what: str) -> None:
    if actual not in expected:
        wanted = " or ".join(sorted(s.name for s in expected))
        raise Refused(f"{what} is {actual.name}, must be {wanted}")


def _require_sender(account: Any, expected: str, role: str) -> None:
    if account.address != expected:
        raise Refused(f"{account.address} is not the {role} ({expected})")


def _require_active(lc: Any, account: Any) -> None:
    """The contract accepts this call from an active participant only (registered, not frozen, KYC valid)."""
    from ape import Contract, project

    registry = Contract(lc.registry(), contract_type=project.ParticipantRegistry.contract_type)
    if not registry.isActive(account.address):
        raise Refused(f"{account.address} is not an active participant of the platform")



@click.group()
def cli() -> None:
    """Letter-of-credit operations for issuing and advising banks (UCP 600)."""


# ───────────────────────────── Read only ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@click.argument("lc_id", type=int)
@click.argument("presentation_id", type=int, required=False)
@desk_command
def show(lc_id: int, presentation_id: int | None) -> None:
    """Print a credit's state, drawings and margin (and one presentation)."""
    lc = _letters()
    state = _credit_state(lc, lc_id)
    terms = lc.terms(lc_id)
    token = DeskToken(terms.currency)
    drawings, margin = lc.drawings(lc_id), lc.margin(lc_id)
    click.echo(f"Letter of credit {lc_id}: {state.name}")
    click.echo(f"  amount {token.show(terms.amount)}, tolerance {terms.tolerancePercent}%, "
               f"{Availability(terms.availability).name}")
    click.echo(f"  drawn {drawings.drawn}, reserved {drawings.reserved}, available {drawings.available}")
    click.echo(f"  margin escrowed {margin.escrowed}, held {margin.held}, applied {margin.applied}, "
               f"released {margin.released}")
    if presentation_id is not None:
        p = _presentation(lc, lc_id, presentation_id)
        click.echo(f"Presentation {presentation_id}: {PresentationState(p.state).name}, amount {p.amount}")
        click.echo(f"  discrepancies: {', '.join(describe_discrepancies(p.discrepancies)) or 'none'}")
        click.echo(f"  decide and honour by {p.examinationDeadline}, maturity {p.maturityDate or '-'}")
        if p.hasInvoice:
            click.echo(f"  invoice {hex(p.invoiceId)} (lien reserved for the issuing bank)")


# ───────────────────────────── Issuing and advising ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("lc_id", type=int)
@click.option("--margin", type=click.IntRange(min=0), default=0, show_default=True,
              help="Applicant's margin to escrow, in minor units.")
@yes_option
@desk_command
def issue(account: Any, lc_id: int, margin: int, yes: bool) -> None:
    """Issue an applied credit as its issuing bank (irrevocable from now on, Art. 7(b))."""
    lc = _letters()
    _require_state(_credit_state(lc, lc_id), {CreditState.Applied}, f"letter of credit {lc_id}")
    terms = lc.terms(lc_id)
    _require_sender(account, terms.issuingBank, "issuing bank")
    token = DeskToken(terms.currency)
    if margin:
        applicant = lc.applicantOf(lc_id)
        if token.contract.allowance(applicant, lc.address) < margin:
            raise Refused(f"the applicant {applicant} has not approved the margin of {token.show(margin)}")
    _confirm(f"Issue letter of credit {lc_id} for {token.show(terms.amount)} with margin "
             f"{token.show(margin)}? This undertaking is irrevocable.", yes)
    lc.issue(lc_id, margin, sender=account)
    click.echo(f"Issued letter of credit {lc_id}; margin escrowed: {token.show(margin)}")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("lc_id", type=int)
@yes_option
@desk_command
def advise(account: Any, lc_id: int, yes: bool) -> None:
    """Advise an issued credit to the beneficiary as its advising bank (Art. 9)."""
    lc = _letters()
    _require_state(_credit_state(lc, lc_id), {CreditState.Issued}, f"letter of credit {lc_id}")
    _require_sender(account, lc.terms(lc_id).advisingBank, "advising bank")
    _confirm(f"Advise letter of credit {lc_id} to the beneficiary?", yes)
    lc.advise(lc_id, sender=account)
    click.echo(f"Advised letter of credit {lc_id}")


# ───────────────────────────── Examination ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("lc_id", type=int)
@click.argument("presentation_id", type=int)
@click.option("--decision", type=click.Choice(["compliant", "hold", "refuse"]), required=True,
              help="compliant; hold (notice of discrepancies, documents held pending the applicant's "
                   "waiver); refuse (notice and final refusal).")
@click.option("--codes", default="", help=f"Discrepancies the bank found in the documents: "
                                          f"{BANK_DISCREPANCY.name} (Art. 14(d)); the other codes are the "
                                          f"contract's.")
@yes_option
@desk_command
def examine(account: Any, lc_id: int, presentation_id: int, decision: str, codes: str,
            yes: bool) -> None:
    """Examine a presentation within five banking days (Art. 14(b), 16)."""
    try:
        bank_codes = parse_discrepancies([c for c in codes.split(",") if c.strip()])
    except KeyError as unknown:
        raise click.BadParameter(f"unknown discrepancy code {unknown}", param_hint="--codes") from None
    coded_codes = int(bank_codes) & ~int(BANK_DISCREPANCY)
    if coded_codes:
        coded = ", ".join(describe_discrepancies(coded_codes))
        raise click.BadParameter(f"the bank declares only {BANK_DISCREPANCY.name}; {coded} is found by the "
                                 f"contract at presentation", param_hint="--codes")
    if decision == "compliant" and bank_codes:
        raise click.BadParameter("a compliant decision names no discrepancy", param_hint="--codes")

    lc = _letters()
    p = _presentation(lc, lc_id, presentation_id)
    state = PresentationState(p.state)
    _require_sender(account, lc.terms(lc_id).issuingBank, "issuing bank")
    if decision == "refuse" and state == PresentationState.Discrepant:
        _refuse(lc, account, lc_id, presentation_id, p.discrepancies, yes)
        return
    _require_state(state, {PresentationState.Presented}, f"presentation {presentation_id}")
    onchain = p.discrepancies
    if decision == "compliant" and onchain:
        raise Refused("the presentation carries discrepancies found on chain: "
                      f"{', '.join(describe_discrepancies(onchain))}; decide hold or refuse")
    if decision != "compliant" and not (onchain | bank_codes):
        raise Refused("no discrepancy found on chain: name the bank's discrepancies with --codes")

    all_codes = onchain | bank_codes
    verdict = (PresentationState.Compliant.name if decision == "compliant"
               else f"{PresentationState.Discrepant.name}: {', '.join(describe_discrepancies(all_codes))}")
    _confirm(f"Declare presentation {presentation_id} of letter of credit {lc_id} {verdict}?", yes)
    lc.examine(lc_id, presentation_id, bank_codes, sender=account)
    click.echo(f"Presentation {presentation_id}: {PresentationState(lc.presentationState(lc_id, presentation_id)).name}")
    if decision == "compliant":
        click.echo(f"  honour by {p.examinationDeadline}; past it the beneficiary may claim preclusion")
    if decision == "refuse":
        _refuse(lc, account, lc_id, presentation_id, all_codes, yes=True)


def _refuse(lc: Any, account: Any, lc_id: int, presentation_id: int, discrepancies: int, yes: bool) -> None:
    _confirm(f"Refuse presentation {presentation_id} of letter of credit {lc_id}? This is final.", yes)
    lc.refuse(lc_id, presentation_id, sender=account)
    click.echo(f"Presentation {presentation_id}: {PresentationState.Refused.name} "
               f"({', '.join(describe_discrepancies(discrepancies))})")


# ───────────────────────────── Honour and payment ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("lc_id", type=int)
@click.argument("presentation_id", type=int)
@yes_option
@desk_command
def honour(account: Any, lc_id: int, presentation_id: int, yes: bool) -> None:
    """Honour a compliant, waived or precluded presentation (sight: pay now; deferred: accept)."""
    lc = _letters()
    p = _presentation(lc, lc_id, presentation_id)
    _require_state(PresentationState(p.state),
                   {PresentationState.Compliant, PresentationState.Waived, PresentationState.Precluded},
                   f"presentation {presentation_id}")
    terms = lc.terms(lc_id)
    _require_sender(account, terms.issuingBank, "issuing bank")
    token = DeskToken(terms.currency)
    sight = Availability(terms.availability) == Availability.SightPayment
    if sight:
        _require_funds(token, account.address, lc.address, p.amount)
    action = f"Pay {token.show(p.amount)} now" if sight else f"Accept a deferred payment of {token.show(p.amount)}"
    _confirm(f"{action} for presentation {presentation_id} of letter of credit {lc_id}?", yes)
    lc.honour(lc_id, presentation_id, sender=account)
    after = lc.presentation(lc_id, presentation_id)
    state = PresentationState(after.state).name  # Paid at sight, Honoured for a deferred payment
    if sight:
        click.echo(f"Presentation {presentation_id}: {state} {token.show(p.amount)} to {terms.beneficiary}")
    else:
        click.echo(f"Presentation {presentation_id}: {state}, payable at maturity {after.maturityDate}")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("lc_id", type=int)
@click.argument("presentation_id", type=int)
@yes_option
@desk_command
def pay(account: Any, lc_id: int, presentation_id: int, yes: bool) -> None:
    """Pay a matured deferred payment from the issuing bank's funds (any active participant may send this)."""
    lc = _letters()
    p = _presentation(lc, lc_id, presentation_id)
    _require_state(PresentationState(p.state), {PresentationState.Honoured}, f"presentation {presentation_id}")
    _require_active(lc, account)
    from ape import chain

    now = chain.blocks.head.timestamp
    if now < p.maturityDate:
        raise Refused(f"presentation {presentation_id} matures at {p.maturityDate}, now is {now}")
    terms = lc.terms(lc_id)
    token = DeskToken(terms.currency)
    _require_funds(token, terms.issuingBank, lc.address, p.amount)
    _confirm(f"Pay {token.show(p.amount)} from {terms.issuingBank} to {terms.beneficiary}?", yes)
    lc.payAtMaturity(lc_id, presentation_id, sender=account)
    click.echo(f"Presentation {presentation_id}: {PresentationState.Paid.name} {token.show(p.amount)} to "
               f"{terms.beneficiary}")


def _require_funds(token: DeskToken, bank: str, spender: str, amount: int) -> None:
    if token.contract.balanceOf(bank) < amount:
        raise Refused(f"the issuing bank's balance is below {token.show(amount)}")
    if token.contract.allowance(bank, spender) < amount:
        raise Refused(f"the issuing bank has not approved the letter-of-credit contract for {token.show(amount)}")
