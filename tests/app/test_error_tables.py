"""The two error tables: node messages → kinds, and decoded reverts → HTTP status."""

import pytest

from app.chain.errors import NodeErrorKind, RpcError, classify_node_error, revert_status


@pytest.mark.parametrize("message,kind", [
    ("nonce too low", NodeErrorKind.NONCE_TOO_LOW),
    ("transaction already imported", NodeErrorKind.ALREADY_KNOWN),
    ("already known", NodeErrorKind.ALREADY_KNOWN),
    ("replacement transaction underpriced", NodeErrorKind.REPLACEMENT_UNDERPRICED),
    ("insufficient funds for gas * price + value", NodeErrorKind.INSUFFICIENT_FUNDS),
    ("max fee per gas less than block base fee", NodeErrorKind.FEE_TOO_LOW),
    ("execution reverted: custom error 0x665fe42f", NodeErrorKind.REVERTED),
    ("something new", NodeErrorKind.UNKNOWN),
])
def test_node_messages_map_to_kinds(message, kind):
    assert classify_node_error(message) is kind


@pytest.mark.parametrize("name,status", [
    ("ParticipantRegistryAlreadyRegistered", 409),
    ("InvoiceRegistryAlreadyRegistered", 409),
    ("InvoiceRegistryUnknownInvoice", 404),
    ("ERC721NonexistentToken", 404),
    ("InvoiceRegistryNotBuyer", 403),
    ("AccessControlUnauthorizedAccount", 403),
    ("SettlementTokenInactiveParty", 403),
    ("InvoiceRegistryInvalidDueDate", 422),
    ("SettlementTokenZeroAmount", 422),
    ("LetterOfCreditUnexpectedState", 409),
    ("SomeFutureContractExpired", 409),
    ("ReceivableFinancingInvoiceNotConfirmed", 409),
    ("ReceivableFinancingNotOverdue", 409),
    ("ReceivableFinancingNotBank", 403),
    ("ReceivableFinancingUnknownFinancing", 404),
    ("PayableCertificatesInvoiceNotConfirmed", 409),
    ("PayableCertificatesNotHolder", 403),
    ("PayableCertificatesSplitSumMismatch", 422),
])
def test_reverts_map_to_statuses(name, status):
    assert revert_status(name) == status


def test_revert_data_comes_from_the_error_object():
    error = RpcError.from_json({"code": 3, "message": "execution reverted: custom error 0x665fe42f",
                                "data": "0x665fe42f" + "00" * 32})
    assert error.kind is NodeErrorKind.REVERTED
    assert error.revert_data == bytes.fromhex("665fe42f" + "00" * 32)
    assert RpcError.from_json({"code": -32003, "message": "nonce too low"}).revert_data is None
