"""Shared steps of the receivables tests: register an invoice, read ids from events, move chain time, and a
conforming lien instrument for tests that must call the registry's lien functions directly."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_utils import keccak

from app.core.enums import ParticipantKind
from scripts._common import ROOT

DAY = 24 * 3600
YEAR = 365 * DAY
ZERO_ADDRESS = "0x" + "00" * 20


def invoice_number(text: str) -> bytes:
    """An invoice number as the registry's `bytes32` (ASCII, left-aligned, zero-padded)."""
    return text.encode("ascii").ljust(32, b"\0")


def document_hash(text: str) -> bytes:
    return keccak(text=f"document:{text}")


def now(chain: Any) -> int:
    """The timestamp the next transaction will carry (eth-tester: head+1, Anvil: head)."""
    return chain.pending_timestamp


def advance_to(chain: Any, timestamp: int) -> None:
    """Mine a block at `timestamp`, so that views and the next transaction see at least that time."""
    chain.mine(timestamp=timestamp)


def states_bitmap(*states: int) -> bytes:
    """The `expectedStates` bitmap of the contracts' `...UnexpectedState` errors (bit `1 << state`)."""
    value = 0
    for s in states:
        value |= 1 << s
    return value.to_bytes(32, "big")


def register_invoice(chain: Any, invoices: Any, seller: Any, buyer: Any, currency: Any, number: str, face: int,
                     due_in: int = 90 * DAY) -> int:
    """Register an invoice from `seller` on `buyer` due `due_in` seconds from now; return its id read from
    `InvoiceRegistered`."""
    issue = now(chain)
    due_date = issue + due_in
    receipt = invoices.register(buyer.address, currency.address, invoice_number(number), face, issue, due_date,
                                document_hash(number), sender=seller)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    return int(event.invoiceId)


def confirmed_invoice(chain: Any, invoices: Any, seller: Any, buyer: Any, currency: Any, number: str, face: int,
                      due_in: int = 90 * DAY) -> int:
    """Register an invoice and have the buyer confirm it."""
    invoice_id = register_invoice(chain, invoices, seller, buyer, currency, number, face, due_in)
    invoices.confirm(invoice_id, sender=buyer)
    return invoice_id


# ───────────────────────────── A conforming lien instrument ─────────────────────────────

# Every lien instrument implements `IInvoicePaymentHook` (ERC-165) and is an `Instrument` participant; the real
# instruments take liens only inside their own flows. This double forwards the lien calls of whoever calls it
# (so a test can take, release and record directly) and answers the payment hook with what the test says the
# financier is owed: a lien that only reserves the invoice is owed nothing. Built with `implementsHook = false`
# it is a contract that does not conform (ERC-165 without the hook).
LIEN_DOUBLE_SOURCE = """
// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface IInvoicePaymentHook {
    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256 outstanding)
        external
        returns (uint256 toFinancier, bool releaseLien);
}

interface IInvoiceLienCalls {
    function takeLien(uint256 invoiceId, address creditor, address financier) external;
    function releaseLien(uint256 invoiceId) external;
    function recordSettlement(uint256 invoiceId, uint256 amount) external;
}

contract LienInstrumentDouble is IInvoicePaymentHook {
    event HookCalled(uint256 invoiceId, uint256 amount, uint256 outstanding, uint256 toFinancier, bool releaseLien);

    IInvoiceLienCalls public immutable registry;
    bool public immutable implementsHook;
    mapping(uint256 invoiceId => uint256) public owedOf;
    uint256 public overstatement;

    constructor(IInvoiceLienCalls registry_, bool implementsHook_) {
        registry = registry_;
        implementsHook = implementsHook_;
    }

    function supportsInterface(bytes4 interfaceId) external view returns (bool) {
        return interfaceId == 0x01ffc9a7
            || (implementsHook && interfaceId == type(IInvoicePaymentHook).interfaceId);
    }

    /// What the lien's financier is owed on `invoiceId` (it has advanced value); zero: the lien only reserves.
    function setOwed(uint256 invoiceId, uint256 owed) external {
        owedOf[invoiceId] = owed;
    }

    /// Added to every answer of the hook, to see the registry cap it.
    function setOverstatement(uint256 extra) external {
        overstatement = extra;
    }

    function takeLien(uint256 invoiceId, address creditor, address financier) external {
        registry.takeLien(invoiceId, creditor, financier);
    }

    function releaseLien(uint256 invoiceId) external {
        registry.releaseLien(invoiceId);
    }

    function recordSettlement(uint256 invoiceId, uint256 amount) external {
        registry.recordSettlement(invoiceId, amount);
    }

    function onInvoicePayment(uint256 invoiceId, uint256 amount, uint256 outstanding)
        external
        returns (uint256 toFinancier, bool releaseLien)
    {
        require(msg.sender == address(registry), "only the invoice registry");
        uint256 owed = owedOf[invoiceId];
        toFinancier = amount < owed ? amount : owed;
        owedOf[invoiceId] = owed - toFinancier;
        releaseLien = owed != 0 && toFinancier == owed;
        emit HookCalled(invoiceId, amount, outstanding, toFinancier, releaseLien);
        toFinancier += overstatement;
    }
}
"""


@lru_cache(maxsize=1)
def _lien_double_container() -> Any:
    """The double compiled once per session by the project's solc shim (as `bench/devnet.py` does)."""
    import solcx
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    out = solcx.compile_standard({
        "language": "Solidity",
        "sources": {"LienInstrumentDouble.sol": {"content": LIEN_DOUBLE_SOURCE}},
        "settings": {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun",
                     "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}},
    }, solc_binary=str(ROOT / "tools" / "bin" / "solc"))
    compiled = out["contracts"]["LienInstrumentDouble.sol"]["LienInstrumentDouble"]
    return ContractContainer(ContractType.model_validate({
        "contractName": "LienInstrumentDouble",
        "abi": compiled["abi"],
        "deploymentBytecode": {"bytecode": "0x" + compiled["evm"]["bytecode"]["object"]},
        "runtimeBytecode": {"bytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"]},
    }))


def deploy_lien_double(operator: Any, registry: Any, invoices: Any, *, implements_hook: bool = True,
                       participant: bool = True, lien_instrument: bool = True) -> Any:
    """A `LienInstrumentDouble` on `invoices`, registered (by default) as an `Instrument` participant and as a
    lien instrument, the way `deploy_platform` registers the real ones."""
    double = operator.deploy(_lien_double_container(), invoices.address, implements_hook)
    if participant:
        registry.registerParticipant(double.address, ParticipantKind.Instrument,
                                     registry.jurisdictionOf(operator.address),
                                     keccak(text=f"instrument:LienInstrumentDouble:{double.address}"),
                                     sender=operator)
    if lien_instrument:
        invoices.setInstrument(double.address, True, sender=operator)
    return double
