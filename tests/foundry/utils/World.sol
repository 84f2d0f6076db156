// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice The demo world of DESIGN §1 for forge tests: an operator, a regulator, a bank in CN and one
/// in US, KYC'd corporates in CN, US and DE, an outsider who is never registered, and a USD token.
/// Every bank and corporate starts with `INITIAL_BALANCE`.
abstract contract World is Test {
    uint256 internal constant INITIAL_BALANCE = 10_000_000_00;
    uint48 internal constant KYC_PERIOD = 30 days;

    ParticipantRegistry internal registry;
    SettlementToken internal usd;

    address internal operator = makeAddr("operator");
    address internal regulator = makeAddr("regulator");
    address internal bankCn = makeAddr("bankCn");
    address internal bankUs = makeAddr("bankUs");
    address internal exporter = makeAddr("exporter"); // CN
    address internal supplier = makeAddr("supplier"); // CN
    address internal importer = makeAddr("importer"); // US
    address internal buyerDe = makeAddr("buyerDe"); // DE
    address internal outsider = makeAddr("outsider"); // never registered

    function _deployWorld() internal {
        registry = new ParticipantRegistry(operator, "SG", keccak256("LEI-OPERATOR"));
        usd = new SettlementToken("tradefin USD deposit", "USD", 2, registry);

        _register(regulator, IParticipantRegistry.ParticipantKind.Regulator, "CN");
        _register(bankCn, IParticipantRegistry.ParticipantKind.Bank, "CN");
        _register(bankUs, IParticipantRegistry.ParticipantKind.Bank, "US");
        _registerCorporate(exporter, "CN", bankCn);
        _registerCorporate(supplier, "CN", bankCn);
        _registerCorporate(importer, "US", bankUs);
        _registerCorporate(buyerDe, "DE", bankUs);

        _mint(bankCn, bankCn);
        _mint(bankUs, bankUs);
        _mint(bankCn, exporter);
        _mint(bankCn, supplier);
        _mint(bankUs, importer);
        _mint(bankUs, buyerDe);
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

    function _mint(address bank, address to) internal {
        vm.prank(bank);
        usd.mint(to, INITIAL_BALANCE, keccak256(abi.encode("deposit", to)));
    }

    function _freeze(address account) internal {
        vm.prank(regulator);
        registry.freezeParticipant(account, keccak256("AML"));
    }
}
