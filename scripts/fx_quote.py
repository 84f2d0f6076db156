"""A bank's FX desk: sign a firm quote for a currency pair, check a quote, withdraw one.

    ape run fx_quote sign --account bank_us --payer 0x... --base CNY --quote USD --rate 0.1385 \\
        --max-amount 1000000.00 --valid-for 900 --nonce 17 [--out quote.json]
    ape run fx_quote verify quote.json [--payer 0x...]
    ape run fx_quote withdraw --account bank_us --nonce 17 [--yes]

`sign` prints the quote as JSON: its fields, the signature and the digest, which the payer submits with
`PaymentRouter.payWithQuote`, and the full EIP-712 typed data (what `eth_signTypedData_v4` or a bank's
signing device takes). Signing sends no transaction. A quote is made out to one payer, who alone may use
it: `--payer` is required (the router refuses an open quote, which anyone could use up for one minor
unit), and a payer that is not an active participant is refused before signing (its payment would be).
Exit codes: 0 done, 1 refused (quote invalid, or a reverted transaction: the custom error's name is
printed), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option
from ape.exceptions import ContractLogicError

from scripts._cli import EXIT_REFUSED, fail_usage, load_contracts, print_json, refuse
from scripts._fx import (
    RATE_SCALE,
    FxQuote,
    quote_payer,
    rate_from_decimal,
    recover_quote_signer,
    sign_quote_with_account,
    typed_data,
)


def _token(contracts: dict[str, Any], code: str) -> Any:
    name = f"SettlementToken{code.upper()}"
    if name not in contracts:
        known = sorted(n.removeprefix("SettlementToken") for n in contracts if n.startswith("SettlementToken"))
        fail_usage(f"no settlement token for {code!r} (known: {', '.join(known)})")
    return contracts[name]


def _payer(payer: str) -> str:
    try:
        return quote_payer(payer)
    except ValueError as err:
        fail_usage(f"--payer: {err}")


def _minor_units(amount: str, decimals: int) -> int:
    try:
        value = Decimal(amount) * (10**decimals)
    except InvalidOperation:
        fail_usage(f"not an amount: {amount!r}")
    if value != value.to_integral_value() or value <= 0:
        fail_usage(f"{amount} is not a positive amount with at most {decimals} decimals")
    return int(value)


@click.group()
def cli() -> None:
    """A bank's FX quotes for PaymentRouter (EIP-712)."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--base", "base_code", required=True, help="Currency the payer pays (ISO 4217), e.g. CNY.")
@click.option("--quote", "quote_code", required=True, help="Currency the beneficiary receives, e.g. USD.")
@click.option("--rate", required=True, help="Units of the quote currency per unit of the base, e.g. 0.1385.")
@click.option("--max-amount", required=True, help="Largest base amount the quote covers, in units, e.g. 1000000.00.")
@click.option("--valid-for", type=click.IntRange(min=1), default=900, show_default=True, help="Seconds.")
@click.option("--nonce", type=click.IntRange(min=0), required=True, help="The bank's quote nonce (unused).")
@click.option("--payer", required=True, help="The payer the quote is made out to: only it may use the quote.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON here.")
def sign(provider, account, base_code, quote_code, rate, max_amount, valid_for, nonce, payer, out) -> None:
    """Sign a firm quote and print it as JSON."""
    from ape import chain

    payer = _payer(payer)
    contracts = load_contracts(chain.chain_id, ("PaymentRouter", "ParticipantRegistry"))
    router = contracts["PaymentRouter"]
    base, quote_token = _token(contracts, base_code), _token(contracts, quote_code)
    if base.address == quote_token.address:
        fail_usage("base and quote currencies must differ")
    base_decimals = base.decimals()  # read once: the rate and the maximum amount both scale by it
    try:
        int_rate = rate_from_decimal(rate, base_decimals, quote_token.decimals())
    except InvalidOperation:
        fail_usage(f"not a rate: {rate!r}")
    if int_rate == 0:
        fail_usage(f"rate {rate} rounds to zero")
    if router.isQuoteNonceUsed(account.address, nonce):
        click.echo(f"refused: nonce {nonce} of {account.address} is already used or withdrawn", err=True)
        sys.exit(EXIT_REFUSED)
    if not contracts["ParticipantRegistry"].isActive(payer):
        click.echo(f"refused: payer {payer} is not an active participant (its payment would be refused)", err=True)
        sys.exit(EXIT_REFUSED)

    quote = FxQuote(
        bank=account.address,
        payer=payer,
        baseToken=base.address,
        quoteToken=quote_token.address,
        rate=int_rate,
        maxBaseAmount=_minor_units(max_amount, base_decimals),
        expiry=chain.pending_timestamp + valid_for,
        nonce=nonce,
    )
    signature = sign_quote_with_account(quote, account, chain.chain_id, router.address)
    payload = {
        "chainId": chain.chain_id,
        "router": router.address,
        "pair": f"{base_code.upper()}/{quote_code.upper()}",
        "rateScale": RATE_SCALE,
        "quote": quote.as_message(),
        "signature": "0x" + signature.hex(),
        "digest": "0x" + bytes(router.hashQuote(quote.as_tuple())).hex(),
        "typedData": typed_data(quote, chain.chain_id, router.address),  # for eth_signTypedData_v4 / HSMs
    }
    print_json(payload)
    if out is not None:
        out.write_text(json.dumps(payload, indent=2) + "\n")


@cli.command(cls=ConnectedProviderCommand)
@click.argument("quote_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--payer", help="Also check that the quote is made out to this payer.")
def verify(provider, quote_file, payer) -> None:
    """Check a signed quote: signer, payer, expiry, nonce. Exit 1 when it would be refused."""
    from ape import chain

    payload = json.loads(quote_file.read_text())
    try:
        quote = FxQuote(**payload["quote"])
        signature = bytes.fromhex(payload["signature"].removeprefix("0x"))
        open_quote = int(quote.payer, 16) == 0
    except (KeyError, TypeError, ValueError) as err:
        fail_usage(f"not a quote file: {err}")
    expected_payer = None if payer is None else _payer(payer)
    router = load_contracts(chain.chain_id, ("PaymentRouter",))["PaymentRouter"]
    signer = recover_quote_signer(quote, signature, chain.chain_id, router.address)
    problems = []
    if signer != quote.bank:
        problems.append(f"PaymentRouterQuoteSignerMismatch (signed by {signer})")
    if open_quote:
        problems.append("PaymentRouterQuoteNotForPayer (no payer named: the router refuses an open quote)")
    elif expected_payer is not None and quote.payer.lower() != expected_payer.lower():
        problems.append(f"PaymentRouterQuoteNotForPayer (made out to {quote.payer})")
    if chain.pending_timestamp > quote.expiry:
        problems.append("PaymentRouterQuoteExpired")
    if router.isQuoteNonceUsed(quote.bank, quote.nonce):
        problems.append("PaymentRouterQuoteNonceUsed")
    print_json({"bank": quote.bank, "payer": quote.payer, "signer": signer, "expiry": quote.expiry,
                "nonce": quote.nonce, "valid": not problems, "problems": problems})
    if problems:
        sys.exit(EXIT_REFUSED)


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--nonce", type=click.IntRange(min=0), required=True, help="The quote nonce to withdraw.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def withdraw(provider, account, nonce, yes) -> None:
    """Withdraw an outstanding quote by invalidating its nonce (irreversible)."""
    from ape import chain

    contracts = load_contracts(chain.chain_id, ("PaymentRouter",))
    router = contracts["PaymentRouter"]
    if not yes:
        click.confirm(f"Withdraw quote nonce {nonce} of {account.address}? This cannot be undone", abort=True)
    try:
        router.invalidateQuoteNonces(nonce >> 8, 1 << (nonce & 0xFF), sender=account)
    except ContractLogicError as err:
        refuse(err)
    click.echo(f"withdrawn: nonce {nonce} of {account.address}")
