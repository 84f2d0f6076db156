"""The read side derives each instrument's state once (`app.core.states`), and it is the contracts' view: after
every step of `scripts/demo.py` (through the real gateway, its indexer and Anvil), and as time passes over an
invoice's due date and grace period, a credit's expiry day and a presentation's examination deadline, frozen by
the regulator for part of it. "The contract's view" is its view function (`state`, `presentationState`) called
at the last indexed block, whose timestamp is the read side's "now"; the list filter by state must agree too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_utils import keccak
from gateway_world import settings_for
from indexer_world import IndexerChain
from sqlalchemy import create_engine, select
from web3 import Web3
from web3.logs import DISCARD

from app.core.enums import CreditState, InvoiceState, PresentationState
from app.core.states import DAY
from app.db.index_models import Instrument
from app.services import index_queries as q

ROOT = Path(__file__).resolve().parents[2]
ZERO = "0x" + "00" * 20
ENUM_OF_KIND = {"invoice": InvoiceState, "letter_of_credit": CreditState, "presentation": PresentationState}


def contract_state(contracts: dict[str, Any], uid: str, block: int) -> str:
    """The state the instrument's contract answers at `block`."""
    kind, instrument_id = uid.split(":", 1)
    if kind == "invoice":
        value = contracts["InvoiceRegistry"].functions.state(int(instrument_id)).call(block_identifier=block)
    elif kind == "letter_of_credit":
        value = contracts["LetterOfCredit"].functions.state(int(instrument_id)).call(block_identifier=block)
    else:
        lc_id, presentation_id = map(int, instrument_id.split("-"))
        value = contracts["LetterOfCredit"].functions.presentationState(lc_id, presentation_id).call(
            block_identifier=block)
    return ENUM_OF_KIND[kind](value).name


def assert_index_reads_as_the_contracts(engine: Any, contracts: dict[str, Any], regulator: str, uids: list[str],
                                        context: str) -> int:
    """Each instrument's state in the index, by id and in the list filtered by that state, is its contract's at
    the last indexed block. Returns that block."""
    with engine.connect() as conn:
        block = q.indexed_block(conn)
    for uid in uids:
        kind, instrument_id = uid.split(":", 1)
        indexed = q.get_instrument(engine, regulator, kind, instrument_id)["state"]
        expected = contract_state(contracts, uid, block)
        assert indexed == expected, f"{context}: {uid} reads {indexed} in the index, {expected} on chain at {block}"
        listed = q.list_instruments(engine, regulator, kind, q.InstrumentFilter(state=expected, limit=500))["items"]
        assert uid in {i["uid"] for i in listed}, f"{context}: {uid} is not listed as {expected}"
    return block


# ───────────────────────────── Time passes (an indexer of its own, on its own Anvil) ─────────────────────────────

@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexerChain]:
    with IndexerChain.start(tmp_path_factory.mktemp("read-states")) as w:
        yield w


def _present(world: IndexerChain, lc_id: int, amount: int, tag: str) -> int:
    letters = world.contracts["LetterOfCredit"]
    receipt = world.send("exporter", letters.functions.present(
        lc_id, [(1, keccak(text=f"bill {tag}")), (2, keccak(text=f"packing list {tag}"))], world.now() - DAY, amount))
    (presented,) = letters.events.DocumentsPresented().process_receipt(receipt, errors=DISCARD)
    return presented["args"]["presentationId"]


def test_time_turns_states_on_the_index_exactly_as_in_the_contracts(chain: IndexerChain) -> None:
    world, letters, registry = chain, chain.contracts["LetterOfCredit"], chain.contracts["ParticipantRegistry"]
    invoices = world.contracts["InvoiceRegistry"]
    indexer = world.indexer()
    regulator = world.address("regulator")
    uids: list[str] = []

    def check(context: str) -> int:
        indexer.sync()
        return assert_index_reads_as_the_contracts(indexer.engine, world.contracts, regulator, uids, context)

    registered = world.register_invoice("exporter", "importer", "USD", 10_000_00, "TIME-REG")
    confirmed = world.register_invoice("exporter", "importer", "USD", 20_000_00, "TIME-CONF")
    world.send("importer", invoices.functions.confirm(confirmed))
    uids += [f"invoice:{registered}", f"invoice:{confirmed}"]
    now = world.now()
    terms = (world.roles["exporter"], world.roles["bank_us"], world.roles["bank_cn"], ZERO, world.token("USD").address,
             100_000_00, 5, now + 30 * DAY, now + 20 * DAY, 21, True, 0, 0, 0b110)
    receipt = world.send("importer", letters.functions.applyForCredit(terms))
    (applied,) = letters.events.CreditApplied().process_receipt(receipt, errors=DISCARD)
    lc_id = applied["args"]["lcId"]
    world.send("bank_us", letters.functions.issue(lc_id, 0))
    world.send("bank_cn", letters.functions.advise(lc_id))
    uids.append(f"letter_of_credit:{lc_id}")
    compliant = _present(world, lc_id, 30_000_00, "compliant")
    world.send("bank_us", letters.functions.examine(lc_id, compliant, 0))
    unexamined = _present(world, lc_id, 20_000_00, "unexamined")
    over = _present(world, lc_id, 200_000_00, "over tolerance")  # beyond the credit: never precluded
    uids += [f"presentation:{lc_id}-{n}" for n in (compliant, unexamined, over)]
    check("before time passes")

    # Two days, then the regulator freezes the credit for four: the examination clock stops.
    world.mine_at(world.now() + 2 * DAY)
    world.send("regulator", registry.functions.freezeInstrument(letters.address, lc_id, keccak(text="AML")))
    check("credit frozen")
    world.mine_at(world.now() + 4 * DAY)
    world.send("regulator", registry.functions.unfreezeInstrument(letters.address, lc_id, keccak(text="CLEARED")))
    check("credit unfrozen")
    # Walk a day at a time past every deadline: examination (moved by the freeze), invoice due date plus grace,
    # the credit's expiry day.
    for day in range(1, 100):
        world.mine_at(world.now() + DAY)
        world.rpc("evm_mine", [])
        check(f"day {day} after the freeze")
    states = {uid: q.get_instrument(indexer.engine, regulator, *uid.split(":", 1))["state"] for uid in uids}
    assert states == {f"invoice:{registered}": "Defaulted", f"invoice:{confirmed}": "Defaulted",
                      f"letter_of_credit:{lc_id}": "Expired", f"presentation:{lc_id}-{compliant}": "Precluded",
                      f"presentation:{lc_id}-{unexamined}": "Precluded", f"presentation:{lc_id}-{over}": "Presented"}


# ───────────────────────────── The demo, step by step (the gateway's indexer) ─────────────────────────────

def test_after_every_step_of_the_demo_the_index_reads_as_the_contracts(gateway, world, api) -> None:  # type: ignore[no-untyped-def]
    """The demo's own checks run as they do in `make demo`; after each of its writes (refused ones included), once
    the gateway's indexer has the write's block, every invoice, credit and presentation created since the demo
    began reads as its contract's view."""
    from scripts.demo import Demo, load_keys

    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    abis = {name: ct["abi"] for name, ct in json.loads((ROOT / ".build" / "__local__.json").read_text())
            ["contractTypes"].items()}
    contracts = {name: w3.eth.contract(address=world.addresses[name], abi=abis[name])
                 for name in ("InvoiceRegistry", "LetterOfCredit")}
    engine = create_engine(settings_for(world.env()).resolved_database_url)
    regulator = world.roles["regulator"]
    start_block = w3.eth.block_number
    checked: list[str] = []

    class CheckedDemo(Demo):
        def write(self, role: str, path: str, slug: str, **kwargs: Any) -> Any:  # type: ignore[override]
            answer = super().write(role, path, slug, **kwargs)
            self.wait_for_index()
            with engine.connect() as conn:
                uids = list(conn.execute(select(Instrument.uid).where(
                    Instrument.created_block > start_block,
                    Instrument.kind.in_(("invoice", "letter_of_credit", "presentation")))).scalars())
            assert_index_reads_as_the_contracts(engine, contracts, regulator, uids,
                                                f"after step {self.step_number} ({role} POST {path})")
            checked.append(slug)
            return answer

    try:
        with httpx.Client(base_url=gateway.url, timeout=60.0) as client:
            CheckedDemo(client, world.rpc_url, load_keys(world.data_dir / "gateway-api-keys.json"), "states").run()
    finally:  # the demo sets the USD large-value threshold: other modules' payments must not be reported
        r = api.post("regulator", "/v1/supervision/large-value-threshold", json={"currency": "USD", "threshold": 0})
        assert r.status_code == 200, r.text
    assert {"invoice-confirm", "lc-examine-compliant", "lc-honour", "cert-accept"} <= set(checked)
    engine.dispose()
