// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {LetterOfCreditHandler} from "./handlers/LetterOfCreditHandler.sol";
import {LetterOfCredit} from "../../contracts/LetterOfCredit.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {IInvoiceLiens} from "../../contracts/interfaces/IInvoiceLiens.sol";
import {ILetterOfCredit} from "../../contracts/interfaces/ILetterOfCredit.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";

/// @notice UCP 600 money invariants of `LetterOfCredit` under random lifecycles:
/// - the total honoured under a credit never exceeds its amount plus tolerance;
/// - no payment without a compliant, waived or precluded presentation;
/// - escrowed margin is always held, applied or released, never lost.
contract LetterOfCreditInvariantTest is Test {
    uint256 internal constant FUNDS = 1e15;

    LetterOfCredit internal lc;
    SettlementToken internal usd;
    LetterOfCreditHandler internal handler;
    address internal applicant = makeAddr("applicant");
    address internal beneficiary = makeAddr("beneficiary");
    address internal issuingBank = makeAddr("issuingBank");
    address internal advisingBank = makeAddr("advisingBank");

    function setUp() public {
        vm.warp(1_800_000_000);
        address operator = makeAddr("operator");
        ParticipantRegistry registry = new ParticipantRegistry(operator, "SG", keccak256("operator"));
        usd = new SettlementToken("tradefin USD deposit", "USD", 2, registry);
        lc = new LetterOfCredit(registry, IInvoiceLiens(address(0)));

        vm.startPrank(operator);
        registry.registerParticipant(issuingBank, IParticipantRegistry.ParticipantKind.Bank, "US", keccak256("b1"));
        registry.registerParticipant(advisingBank, IParticipantRegistry.ParticipantKind.Bank, "CN", keccak256("b2"));
        registry.registerParticipant(applicant, IParticipantRegistry.ParticipantKind.Corporate, "US", keccak256("a"));
        registry.registerParticipant(beneficiary, IParticipantRegistry.ParticipantKind.Corporate, "CN", keccak256("b"));
        registry.registerParticipant(address(lc), IParticipantRegistry.ParticipantKind.Instrument, "SG", keccak256("lc"));
        vm.stopPrank();

        vm.startPrank(issuingBank);
        uint48 kycExpiry = uint48(block.timestamp + 3650 days);
        registry.attestKyc(applicant, IParticipantRegistry.KycStatus.Approved, kycExpiry, keccak256("kyc-a"));
        registry.attestKyc(beneficiary, IParticipantRegistry.KycStatus.Approved, kycExpiry, keccak256("kyc-b"));
        usd.mint(issuingBank, FUNDS, bytes32(0));
        usd.mint(applicant, FUNDS, bytes32(0));
        usd.approve(address(lc), type(uint256).max);
        vm.stopPrank();
        vm.prank(applicant);
        usd.approve(address(lc), type(uint256).max);

        handler = new LetterOfCreditHandler(lc, usd, applicant, beneficiary, issuingBank, advisingBank);
        targetContract(address(handler));
    }

    /// @notice Total honoured (drawn) under each credit never exceeds its amount plus tolerance, and equals
    /// what the handler saw honoured.
    function invariant_totalHonouredWithinAmountPlusTolerance() public view {
        uint256 n = handler.creditCount();
        for (uint256 i; i < n; ++i) {
            uint256 lcId = handler.creditIds(i);
            ILetterOfCredit.Drawings memory d = lc.drawings(lcId);
            vm.assertLe(d.drawn + d.reserved, d.ceiling, "drawn + reserved <= amount + tolerance");
            vm.assertEq(d.drawn, handler.ghostHonoured(lcId), "drawn == honoured");
        }
    }

    /// @notice Only compliant, waived or precluded presentations were honoured, and the beneficiary received
    /// exactly the payments of honoured presentations.
    function invariant_noPaymentWithoutCompliantWaivedOrPrecludedPresentation() public view {
        vm.assertEq(handler.ghostForbiddenHonours(), 0, "honour from a forbidden state");
        vm.assertEq(usd.balanceOf(beneficiary), handler.ghostPaid(), "beneficiary paid only for honoured presentations");
    }

    /// @notice Per credit, escrowed == held + applied + released; the contract holds exactly the held margins;
    /// the applicant and the bank account for every unit applied or released.
    function invariant_marginHeldAppliedOrReleasedNeverLost() public view {
        uint256 n = handler.creditCount();
        uint256 held;
        uint256 applied;
        uint256 escrowed;
        uint256 released;
        for (uint256 i; i < n; ++i) {
            ILetterOfCredit.Margin memory m = lc.margin(handler.creditIds(i));
            vm.assertEq(m.escrowed, m.held + m.applied + m.released, "escrowed == held + applied + released");
            held += m.held;
            applied += m.applied;
            escrowed += m.escrowed;
            released += m.released;
        }
        vm.assertEq(usd.balanceOf(address(lc)), held, "contract holds exactly the held margins");
        vm.assertEq(usd.balanceOf(applicant), FUNDS - escrowed + released, "applicant: escrowed less released");
        vm.assertEq(usd.balanceOf(issuingBank), FUNDS - handler.ghostPaid() + applied, "bank: paid less applied");
    }
}
