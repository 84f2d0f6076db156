"""The two error tables: node messages → kinds, and decoded reverts → HTTP status (every error of the build)."""

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak

from app.chain.abi import AbiRegistry
from app.chain.errors import NodeErrorKind, RpcError, classify_node_error
from app.core.config import ROOT
from app.core.enums import FinancingState, InvoiceState
from app.services.answers import REVERT_STATUS, revert_status

BUILD = ROOT / ".build" / "__local__.json"
PLATFORM_CONTRACTS = ("ParticipantRegistry", "SettlementToken", "InvoiceRegistry", "ReceivableFinancing",
                      "LetterOfCredit", "PaymentRouter", "PayableCertificates")
LC = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BANK = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.mark.parametrize("message,kind", [
    ("nonce too low", NodeErrorKind.NONCE_TOO_LOW),
    ("transaction already imported", NodeErrorKind.ALREADY_KNOWN),
    ("already known", NodeErrorKind.ALREADY_KNOWN),
    ("replacement transaction underpriced", NodeErrorKind.REPLACEMENT_UNDERPRICED),
    ("insufficient funds for gas * price + value", NodeErrorKind.INSUFFICIENT_FUNDS),
    (("Sender doesn't have enough funds to send tx. The max upfront cost is: 2100000000 and the sender's account "
      "only has: 0"), NodeErrorKind.INSUFFICIENT_FUNDS),  # Hardhat (EDR), the devnet of `make run`
    ("Nonce too high. Expected nonce to be 0 but got 1. Note that transactions can't be queued when automining.",
     NodeErrorKind.NONCE_TOO_HIGH),
    ("max fee per gas less than block base fee", NodeErrorKind.FEE_TOO_LOW),
    ("execution reverted: custom error 0x665fe42f", NodeErrorKind.REVERTED),
    ("something new", NodeErrorKind.UNKNOWN),
])
def test_node_messages_map_to_kinds(message, kind):
    assert classify_node_error(message) is kind


# The HTTP status of every custom error of the build, by kind: 403 the caller may not act (authority, or not the
# party), 404 an unknown thing, 409 the chain's state refuses it now, 422 the request itself is invalid.
# Exhaustive: a contract error added or removed fails `test_every_error_of_the_build_has_its_status_here`.
EXPECTED_STATUS: dict[str, int] = {
    # OpenZeppelin (through the platform's contracts) and the forwarder
    "AccessControlBadConfirmation": 403, "AccessControlUnauthorizedAccount": 403,
    "ERC20InsufficientAllowance": 409, "ERC20InsufficientBalance": 409, "ERC20InvalidApprover": 422,
    "ERC20InvalidReceiver": 422, "ERC20InvalidSender": 422, "ERC20InvalidSpender": 422,
    "ERC2771ForwarderExpiredRequest": 409, "ERC2771ForwarderInvalidSigner": 422,
    "ERC2771ForwarderMismatchedValue": 422, "ERC2771ForwarderNoRefundReceiver": 409, "ERC2771UntrustfulTarget": 422,
    "ERC721IncorrectOwner": 403, "ERC721InsufficientApproval": 403, "ERC721InvalidApprover": 422,
    "ERC721InvalidOperator": 422, "ERC721InvalidOwner": 422, "ERC721InvalidReceiver": 422, "ERC721InvalidSender": 422,
    "ERC721NonexistentToken": 404, "FailedCall": 409, "InsufficientBalance": 409, "InvalidAccountNonce": 409,
    "InvalidShortString": 422, "ReentrancyGuardReentrantCall": 409, "StringTooLong": 422,
    # ParticipantRegistry: the one authority check answers 403
    "ParticipantRegistryAlreadyRegistered": 409, "ParticipantRegistryCannotFreezeRegulator": 422,
    "ParticipantRegistryFreezeUnchanged": 409, "ParticipantRegistryIdentityTaken": 409,
    "ParticipantRegistryInvalidIdentity": 422, "ParticipantRegistryInvalidJurisdiction": 422,
    "ParticipantRegistryInvalidKycExpiry": 422, "ParticipantRegistryInvalidKycStatus": 422,
    "ParticipantRegistryInvalidParticipant": 422, "ParticipantRegistryKycNotValid": 403,
    "ParticipantRegistryParticipantFrozen": 403, "ParticipantRegistryTooManyEntries": 409,
    "ParticipantRegistryUnexpectedKind": 422, "ParticipantRegistryUnknownParticipant": 404,
    # SettlementToken
    "SettlementTokenInactiveParty": 403, "SettlementTokenZeroAmount": 422,
    # InvoiceRegistry
    "InvoiceRegistryAlreadyRegistered": 409, "InvoiceRegistryCreditorMismatch": 409, "InvoiceRegistryFrozen": 409,
    "InvoiceRegistryInvalidAmount": 422, "InvoiceRegistryInvalidDueDate": 422,
    "InvoiceRegistryInvalidInvoiceNumber": 422, "InvoiceRegistryInvalidSettlement": 422,
    "InvoiceRegistryLienAlreadyHeld": 409, "InvoiceRegistryMissingPaymentHook": 422, "InvoiceRegistryNoLien": 409,
    "InvoiceRegistryNotBuyer": 403, "InvoiceRegistryNotCustomsAttester": 403, "InvoiceRegistryNotSeller": 403,
    "InvoiceRegistryOverpayment": 409, "InvoiceRegistryPaymentsReceived": 409, "InvoiceRegistrySameParty": 422,
    "InvoiceRegistryTooManyEntries": 422, "InvoiceRegistryUnauthorizedInstrument": 403,
    "InvoiceRegistryUnexpectedState": 409, "InvoiceRegistryUnknownInvoice": 404,
    "InvoiceRegistryUnsupportedCurrency": 422,
    # ReceivableFinancing
    "ReceivableFinancingAboveOutstanding": 409, "ReceivableFinancingCustomsMatchRequired": 409,
    "ReceivableFinancingFrozen": 409, "ReceivableFinancingInvalidAdvance": 422, "ReceivableFinancingInvalidAmount": 422,
    "ReceivableFinancingInvalidMaturity": 422, "ReceivableFinancingInvalidRate": 422,
    "ReceivableFinancingInvoiceLiened": 409, "ReceivableFinancingInvoiceNotConfirmed": 409,
    "ReceivableFinancingNotBank": 403, "ReceivableFinancingNotInvoiceRegistry": 403,
    "ReceivableFinancingNotOverdue": 409, "ReceivableFinancingNotProgrammeBuyer": 422,
    "ReceivableFinancingNotProgrammeParty": 403, "ReceivableFinancingNotSeller": 403,
    "ReceivableFinancingOverpayment": 409, "ReceivableFinancingProgrammeLimitExceeded": 409,
    "ReceivableFinancingProgrammeRateMismatch": 409, "ReceivableFinancingUnexpectedProgrammeState": 409,
    "ReceivableFinancingUnexpectedState": 409, "ReceivableFinancingUnknownFinancing": 404,
    "ReceivableFinancingUnknownProgramme": 404,
    # LetterOfCredit
    "LetterOfCreditAmendmentBelowCommitted": 409, "LetterOfCreditAmendmentPending": 409,
    "LetterOfCreditConfirmingBankAgreementMissing": 409, "LetterOfCreditFrozen": 409,
    "LetterOfCreditInvalidAmount": 422, "LetterOfCreditInvalidAvailability": 422, "LetterOfCreditInvalidCurrency": 422,
    "LetterOfCreditInvalidDates": 422, "LetterOfCreditInvalidDiscrepancies": 422, "LetterOfCreditInvalidDocument": 422,
    "LetterOfCreditInvalidDocumentSet": 422, "LetterOfCreditInvalidParties": 422,
    "LetterOfCreditInvalidPresentationAmount": 422, "LetterOfCreditInvalidShipmentDate": 422,
    "LetterOfCreditInvalidTolerance": 422, "LetterOfCreditInvoiceDocumentRequired": 422,
    "LetterOfCreditInvoiceMismatch": 409, "LetterOfCreditInvoiceRequired": 422,
    "LetterOfCreditInvoiceUnderPresentation": 409, "LetterOfCreditNoCancellationRequest": 409,
    "LetterOfCreditNoMarginHeld": 409, "LetterOfCreditNoPendingAmendment": 409, "LetterOfCreditNonexistent": 404,
    "LetterOfCreditNonexistentPresentation": 404, "LetterOfCreditNotInvoiceRegistry": 403,
    "LetterOfCreditNotMatured": 409, "LetterOfCreditOpenPresentations": 409, "LetterOfCreditUnauthorizedCaller": 403,
    "LetterOfCreditUnexpectedPresentationState": 409, "LetterOfCreditUnexpectedState": 409,
    "LetterOfCreditWaiverNotAllowed": 409,
    # PaymentRouter
    "PaymentRouterMissingPurposeCode": 422, "PaymentRouterQuoteAmountExceeded": 409, "PaymentRouterQuoteExpired": 409,
    "PaymentRouterQuoteNonceUsed": 409, "PaymentRouterQuoteNotForPayer": 403, "PaymentRouterQuoteSameCurrency": 422,
    "PaymentRouterQuoteSignerMismatch": 422, "PaymentRouterQuoteZeroRate": 422, "PaymentRouterTransferFailed": 409,
    "PaymentRouterZeroAmount": 422,
    # PayableCertificates
    "PayableCertificatesAmountExceedsInvoice": 409, "PayableCertificatesDefaultAlreadyRecorded": 409,
    "PayableCertificatesDiscountExceedsAmount": 422, "PayableCertificatesDiscountRateMismatch": 409,
    "PayableCertificatesFrozen": 409, "PayableCertificatesInvalidChildCount": 422,
    "PayableCertificatesInvalidMaturity": 422, "PayableCertificatesInvalidRate": 422,
    "PayableCertificatesInvoiceNotConfirmed": 409, "PayableCertificatesLengthMismatch": 422,
    "PayableCertificatesMaturityAfterDueDate": 409, "PayableCertificatesNoDiscountRequest": 409,
    "PayableCertificatesNoOffer": 409, "PayableCertificatesNotHolder": 403, "PayableCertificatesNotInvoiceBuyer": 403,
    "PayableCertificatesNotInvoiceRegistry": 403, "PayableCertificatesNotInvoiceSeller": 403,
    "PayableCertificatesNotSettlementParty": 403, "PayableCertificatesOfferPending": 409,
    "PayableCertificatesPayThroughCertificates": 409, "PayableCertificatesSplitSumMismatch": 422,
    "PayableCertificatesUnexpectedState": 409, "PayableCertificatesZeroAmount": 422,
}
# Solidity's built-in errors, and names the naming convention maps for contracts still to come.
NOT_IN_ANY_ABI = {"Error": 409, "Panic": 409, "SomeFutureContractExpired": 409, "SomeFutureContractUnknownThing": 404,
                  "SomeFutureContractNotOwner": 403, "SomeFutureContractInvalidInput": 422}
# Removed by the hardening of issue 11: their answers must not linger in the table.
REMOVED = ("ParticipantRegistryInactiveParticipant", "ParticipantRegistryNotKycBank", "SettlementTokenNotBank",
           "SettlementTokenNotRegulator", "ReceivableFinancingRequestAboveFace", "LetterOfCreditInvoicesUnavailable")


@pytest.fixture(scope="module")
def abi() -> AbiRegistry:
    if not BUILD.exists():
        pytest.skip("contracts not compiled (make compile)")
    return AbiRegistry.from_build(BUILD)


@pytest.mark.parametrize("name,status", sorted((EXPECTED_STATUS | NOT_IN_ANY_ABI).items()))
def test_reverts_map_to_statuses(name, status):
    assert revert_status(name) == status


def test_every_error_of_the_build_has_its_status_here(abi):
    errors = abi.error_names()
    assert errors - EXPECTED_STATUS.keys() == set(), "new custom errors: give each its status in EXPECTED_STATUS"
    assert EXPECTED_STATUS.keys() - errors == set(), "errors no contract has any more: remove them"


def test_the_explicit_table_names_only_errors_that_exist(abi):
    stale = set(REVERT_STATUS) - abi.error_names() - {"Error", "Panic"}
    assert stale == set(), f"REVERT_STATUS names errors no contract has: {sorted(stale)}"
    assert not set(REMOVED) & abi.error_names()


def test_the_authority_check_answers_403(abi):
    for name in ("AccessControlUnauthorizedAccount", "ParticipantRegistryParticipantFrozen",
                 "ParticipantRegistryKycNotValid"):
        assert revert_status(name) == 403, name


def test_a_decoded_error_speaks_the_domain(abi):
    """Enum arguments answer their names, a role its name, and the contract's NatSpec is the message."""
    liened = abi.decode_error(selector("ReceivableFinancingInvoiceLiened(uint256,address,address)")
                              + abi_encode(["uint256", "address", "address"], [7, LC, BANK]), {LC: "LetterOfCredit"})
    assert liened is not None and liened.args == {"invoiceId": 7, "instrument": LC, "financier": BANK}
    assert liened.notice == (f"The invoice is already liened: through LetterOfCredit ({LC}), for {BANK} "
                             "(financed or presented elsewhere).")
    state = abi.decode_error(selector("ReceivableFinancingInvoiceNotConfirmed(uint256,uint8)")
                             + abi_encode(["uint256", "uint8"], [7, InvoiceState.Financed]))
    assert state is not None and state.args == {"invoiceId": 7, "invoiceState": "Financed"}
    unexpected = abi.decode_error(
        selector("ReceivableFinancingUnexpectedState(uint256,uint8,bytes32)")
        + abi_encode(["uint256", "uint8", "bytes32"],
                     [7, FinancingState.Withdrawn, (1 << FinancingState.Applied).to_bytes(32, "big")]))
    assert unexpected is not None and unexpected.args == {"financingId": 7, "current": "Withdrawn",
                                                          "expectedStates": ["Applied"]}
    role = abi.decode_error(selector("AccessControlUnauthorizedAccount(address,bytes32)")
                            + abi_encode(["address", "bytes32"], [BANK, keccak(text="BANK_ROLE")]))
    assert role is not None and role.args == {"account": BANK, "neededRole": "BANK_ROLE"}
    assert role.notice.startswith(f"{BANK} may not do this: it lacks BANK_ROLE")


def test_every_error_of_the_platform_says_what_happened(abi):
    """Each custom error of tradefin's own contracts has a NatSpec notice, so no answer is a bare name."""
    ours = [e for e in abi._errors.values() if e.name.startswith(PLATFORM_CONTRACTS)]
    assert ours and [e.name for e in ours if not e.notice] == []


def test_revert_data_comes_from_the_error_object():
    error = RpcError.from_json({"code": 3, "message": "execution reverted: custom error 0x665fe42f",
                                "data": "0x665fe42f" + "00" * 32})
    assert error.kind is NodeErrorKind.REVERTED
    assert error.revert_data == bytes.fromhex("665fe42f" + "00" * 32)
    assert RpcError.from_json({"code": -32003, "message": "nonce too low"}).revert_data is None
