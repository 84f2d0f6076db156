// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {Forwarder} from "../../../contracts/Forwarder.sol";
import {InvoiceRegistry} from "../../../contracts/InvoiceRegistry.sol";
import {LetterOfCredit} from "../../../contracts/LetterOfCredit.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {PayableCertificates} from "../../../contracts/PayableCertificates.sol";
import {PaymentRouter} from "../../../contracts/PaymentRouter.sol";
import {ReceivableFinancing} from "../../../contracts/ReceivableFinancing.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice The platform and the demo world of DESIGN §1 for every forge test, deployed in the order of
/// `scripts/_common.py::deploy_platform`: the forwarder, the registry, USD and CNY tokens, the invoice registry,
/// receivable financing, letters of credit, the payment router and payable certificates; every instrument
/// contract registered as an `Instrument` participant, the tokens accepted for invoices, the three lien
/// instruments registered with the invoice registry.
///
/// Participants: an operator (this test's `operator`), a regulator, a bank in CN and one in US, KYC'd corporates
/// in CN (exporter, supplier), US (importer) and DE (buyerDe), a customs attester (with `CUSTOMS_ROLE`) and a
/// carrier attester, and an outsider who is never registered. Every bank and corporate starts with
/// `INITIAL_BALANCE` of USD and CNY and has approved every instrument contract for both without limit.
abstract contract World is Test {
    uint256 internal constant INITIAL_BALANCE = 10_000_000_00;
    uint48 internal constant KYC_PERIOD = 365 days;
    uint32 internal constant INVOICE_GRACE_PERIOD = 7 days;
    uint256 internal constant CERTIFICATE_GRACE_PERIOD = 30 days;

    Forwarder internal forwarder;
    ParticipantRegistry internal registry;
    SettlementToken internal usd;
    SettlementToken internal cny;
    InvoiceRegistry internal invoices;
    ReceivableFinancing internal financing;
    LetterOfCredit internal lc;
    PaymentRouter internal router;
    PayableCertificates internal certificates;

    address internal operator = makeAddr("operator");
    address internal regulator = makeAddr("regulator");
    address internal bankCn = makeAddr("bankCn");
    address internal bankUs = makeAddr("bankUs");
    address internal exporter = makeAddr("exporter"); // CN
    address internal supplier = makeAddr("supplier"); // CN
    address internal importer = makeAddr("importer"); // US
    address internal buyerDe = makeAddr("buyerDe"); // DE
    address internal customs = makeAddr("customs"); // CN attester, customs authority
    address internal carrier = makeAddr("carrier"); // CN attester
    address internal outsider = makeAddr("outsider"); // never registered

    /// @dev Starts at a realistic time (2027-01-15, a Friday) unless the test has warped already.
    function _deployWorld() internal {
        if (block.timestamp < 1_700_000_000) vm.warp(1_800_000_000);
        forwarder = new Forwarder();
        registry = new ParticipantRegistry(operator, "SG", keccak256("LEI-OPERATOR"), address(forwarder));
        usd = new SettlementToken("tradefin USD deposit", "USD", 2, registry, address(forwarder));
        cny = new SettlementToken("tradefin CNY deposit", "CNY", 2, registry, address(forwarder));
        invoices = new InvoiceRegistry(registry, INVOICE_GRACE_PERIOD, address(forwarder));
        financing = new ReceivableFinancing(registry, invoices, address(forwarder));
        lc = new LetterOfCredit(registry, invoices, address(forwarder));
        router = new PaymentRouter(registry, address(forwarder));
        certificates = new PayableCertificates(registry, invoices, CERTIFICATE_GRACE_PERIOD, address(forwarder));

        _register(address(invoices), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        _register(address(financing), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        _register(address(lc), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        _register(address(router), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        _register(address(certificates), IParticipantRegistry.ParticipantKind.Instrument, "SG");
        vm.startPrank(operator);
        invoices.setCurrency(address(usd), true);
        invoices.setCurrency(address(cny), true);
        invoices.setInstrument(address(financing), true);
        invoices.setInstrument(address(lc), true);
        invoices.setInstrument(address(certificates), true);
        vm.stopPrank();

        _register(regulator, IParticipantRegistry.ParticipantKind.Regulator, "CN");
        _register(bankCn, IParticipantRegistry.ParticipantKind.Bank, "CN");
        _register(bankUs, IParticipantRegistry.ParticipantKind.Bank, "US");
        _register(customs, IParticipantRegistry.ParticipantKind.Attester, "CN");
        _register(carrier, IParticipantRegistry.ParticipantKind.Attester, "CN");
        bytes32 customsRole = registry.CUSTOMS_ROLE();
        vm.prank(operator);
        registry.grantRole(customsRole, customs);
        _registerCorporate(exporter, "CN", bankCn);
        _registerCorporate(supplier, "CN", bankCn);
        _registerCorporate(importer, "US", bankUs);
        _registerCorporate(buyerDe, "DE", bankUs);

        address[6] memory funded = [bankCn, bankUs, exporter, supplier, importer, buyerDe];
        for (uint256 i; i < funded.length; ++i) {
            _fund(funded[i]);
        }
    }

    function _register(address account, IParticipantRegistry.ParticipantKind kind, bytes2 jurisdiction) internal {
        vm.prank(operator);
        registry.registerParticipant(account, kind, jurisdiction, keccak256(abi.encode(account)));
    }

    function _registerCorporate(address account, bytes2 jurisdiction, address bank) internal {
        _register(account, IParticipantRegistry.ParticipantKind.Corporate, jurisdiction);
        vm.prank(bank);
        registry.attestKyc(
            account,
            IParticipantRegistry.KycStatus.Approved,
            uint48(block.timestamp + KYC_PERIOD),
            keccak256(abi.encode("kyc", account))
        );
    }

    /// @dev Mints `INITIAL_BALANCE` of USD and CNY to `account` (by bank CN) and approves every instrument.
    function _fund(address account) internal {
        SettlementToken[2] memory tokens = [usd, cny];
        address[5] memory spenders =
            [address(invoices), address(financing), address(lc), address(router), address(certificates)];
        for (uint256 t; t < tokens.length; ++t) {
            vm.prank(bankCn);
            tokens[t].mint(account, INITIAL_BALANCE, keccak256(abi.encode("deposit", account)));
            for (uint256 s; s < spenders.length; ++s) {
                vm.prank(account);
                tokens[t].approve(spenders[s], type(uint256).max);
            }
        }
    }

    function _freeze(address account) internal {
        vm.prank(regulator);
        registry.freezeParticipant(account, keccak256("AML"));
    }

    function _freezeInstrument(address instrument, uint256 id) internal {
        vm.prank(regulator);
        registry.freezeInstrument(instrument, id, keccak256("AML"));
    }

    function _unfreezeInstrument(address instrument, uint256 id) internal {
        vm.prank(regulator);
        registry.unfreezeInstrument(instrument, id, keccak256("AML"));
    }

    /// @dev An invoice of `seller` on `buyer` in USD, registered and (when `confirm`) confirmed.
    function _invoice(address seller, address buyer, bytes32 number, uint256 face, uint64 dueDate, bool confirm)
        internal
        returns (uint256 invoiceId)
    {
        vm.prank(seller);
        invoiceId = invoices.register(
            buyer, address(usd), number, face, uint64(block.timestamp), dueDate, keccak256(abi.encode(number))
        );
        if (confirm) {
            vm.prank(buyer);
            invoices.confirm(invoiceId);
        }
    }
}
