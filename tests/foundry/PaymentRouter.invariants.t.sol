// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {World} from "./utils/World.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {PaymentRouter} from "../../contracts/PaymentRouter.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";
import {IPaymentRouter} from "../../contracts/interfaces/IPaymentRouter.sol";

/// @notice Drives the router with signed quotes, some of which must fail (expired, reused, over the
/// limit, frozen beneficiary, bank short of the quote currency, tampered, another payer's quote), and
/// records after every attempt whether the two legs moved together.
contract PaymentRouterHandler is Test {
    PaymentRouter public immutable router;
    ParticipantRegistry public immutable registry;
    SettlementToken public immutable cny;
    SettlementToken public immutable usd;
    address public immutable regulator;
    uint256 internal immutable bankKey;
    address public immutable bank;
    address[] internal payers;
    address[] internal beneficiaries;

    uint256 public constant RATE = 1385e14; // 0.1385 USD per CNY, minor units per minor unit, 1e18 scale
    uint256 public constant LIMIT = 1_000_000_00;

    // Ghost accounting: what successful payments should have moved, and one-legged attempts seen.
    uint256 public ghostBaseToBank;
    uint256 public ghostQuoteFromBank;
    uint256 public ghostPayments;
    uint256 public ghostFailures;
    uint256 public oneLeggedMoves;
    uint256 public nextNonce = 1;
    uint256 public lastUsedNonce;

    constructor(
        PaymentRouter router_,
        ParticipantRegistry registry_,
        SettlementToken cny_,
        SettlementToken usd_,
        address regulator_,
        uint256 bankKey_,
        address[] memory payers_,
        address[] memory beneficiaries_
    ) {
        router = router_;
        registry = registry_;
        cny = cny_;
        usd = usd_;
        regulator = regulator_;
        bankKey = bankKey_;
        bank = vm.addr(bankKey_);
        payers = payers_;
        beneficiaries = beneficiaries_;
    }

    /// @dev One quoted payment. `mode` picks the failure to provoke (0–3: none; 4: expired; 5: reused
    /// nonce; 6: over the limit; 7: frozen beneficiary; 8: bank drained of USD; 9: tampered rate; 10: a
    /// quote the bank signed for the other payer).
    function payQuoted(uint256 payerSeed, uint256 beneficiarySeed, uint256 amount, uint256 mode) external {
        address payer = payers[payerSeed % payers.length];
        address beneficiary = beneficiaries[beneficiarySeed % beneficiaries.length];
        mode = mode % 11;
        amount = bound(amount, 8, LIMIT);
        if (mode == 6) amount = LIMIT + 1 + (amount % 1000);

        IPaymentRouter.FxQuote memory quote = IPaymentRouter.FxQuote({
            bank: bank,
            payer: mode == 10 ? payers[(payerSeed % payers.length + 1) % payers.length] : payer,
            baseToken: address(cny),
            quoteToken: address(usd),
            rate: RATE,
            maxBaseAmount: LIMIT,
            expiry: uint64(block.timestamp + (mode == 4 ? 0 : 1 hours)),
            nonce: mode == 5 && lastUsedNonce != 0 ? lastUsedNonce : nextNonce++
        });
        bytes memory signature = _sign(quote);
        if (mode == 4) vm.warp(block.timestamp + 1);
        if (mode == 9) quote.rate = RATE + 1;
        if (mode == 7) _setFrozen(beneficiary, true);
        uint256 parked;
        if (mode == 8) {
            parked = usd.balanceOf(bank);
            vm.prank(bank);
            usd.transfer(payer, parked);
        }

        uint256[4] memory before = _balances(payer, beneficiary);
        vm.prank(payer);
        try router.payWithQuote(quote, signature, beneficiary, amount, "GDDS", keccak256(abi.encode(quote.nonce))) returns (
            uint256 quoteAmount
        ) {
            ghostBaseToBank += amount;
            ghostQuoteFromBank += quoteAmount;
            ghostPayments++;
            lastUsedNonce = quote.nonce;
        } catch {
            ghostFailures++;
        }
        uint256[4] memory afterwards = _balances(payer, beneficiary);
        bool baseMoved = afterwards[0] != before[0] || afterwards[1] != before[1];
        bool quoteMoved = afterwards[2] != before[2] || afterwards[3] != before[3];
        if (baseMoved != quoteMoved) oneLeggedMoves++;

        if (mode == 7) _setFrozen(beneficiary, false);
        if (mode == 8) {
            vm.prank(payer);
            usd.transfer(bank, parked);
        }
    }

    /// @dev The bank withdraws one quote nonce of its current word.
    function invalidate(uint256 bit) external {
        vm.prank(bank);
        router.invalidateQuoteNonces(nextNonce >> 8, uint256(1) << (bit % 256));
    }

    function _sign(IPaymentRouter.FxQuote memory quote) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(bankKey, router.hashQuote(quote));
        return abi.encodePacked(r, s, v);
    }

    /// @dev payer CNY, bank CNY, bank USD, beneficiary USD.
    function _balances(address payer, address beneficiary) internal view returns (uint256[4] memory b) {
        b = [cny.balanceOf(payer), cny.balanceOf(bank), usd.balanceOf(bank), usd.balanceOf(beneficiary)];
    }

    function _setFrozen(address account, bool frozen) internal {
        vm.prank(regulator);
        if (frozen) registry.freezeParticipant(account, "test");
        else registry.unfreezeParticipant(account, "test");
    }
}

/// @notice Invariants of `PaymentRouter`: a payment never moves one leg without the other, and the
/// bank's balances move by exactly what the successful payments say. The bank is the world's US bank
/// (its key is the one `makeAddr("bankUs")` derives), the payers are the US and DE importers and the
/// beneficiaries the CN corporates.
contract PaymentRouterInvariantTest is World {
    uint256 internal constant FUNDS = 1e15;

    PaymentRouterHandler internal handler;
    address internal bank;
    uint256 internal bankCnyStart;
    uint256 internal bankUsdStart;

    function setUp() public {
        _deployWorld();
        uint256 bankKey = uint256(keccak256(bytes("bankUs")));
        bank = vm.addr(bankKey);
        require(bank == bankUs, "bank key");
        address[] memory payers = new address[](2);
        address[] memory beneficiaries = new address[](2);
        (payers[0], payers[1]) = (importer, buyerDe);
        (beneficiaries[0], beneficiaries[1]) = (exporter, supplier);

        vm.startPrank(bank);
        for (uint256 i; i < 2; ++i) {
            cny.mint(payers[i], FUNDS, "deposit");
        }
        usd.mint(bank, FUNDS, "reserve");
        vm.stopPrank();

        handler = new PaymentRouterHandler(router, registry, cny, usd, regulator, bankKey, payers, beneficiaries);
        bankCnyStart = cny.balanceOf(bank);
        bankUsdStart = usd.balanceOf(bank);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](2);
        selectors[0] = PaymentRouterHandler.payQuoted.selector;
        selectors[1] = PaymentRouterHandler.invalidate.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice The handler really pays (mode 0) and really provokes each failure (modes 4 to 10).
    function test_handlerPaysAndProvokesEachFailure() public {
        handler.payQuoted(0, 0, 100_000_00, 0);
        vm.assertEq(handler.ghostPayments(), 1, "paid");
        for (uint256 mode = 4; mode < 11; ++mode) {
            handler.payQuoted(mode, mode, 100_000_00, mode);
            vm.assertEq(handler.ghostFailures(), mode - 3, "failed");
        }
        vm.assertEq(handler.ghostPayments(), 1, "no failure paid");
        vm.assertEq(handler.oneLeggedMoves(), 0, "atomic");
    }

    /// @notice Every rule of the payment router below, checked after each call of one campaign (forge runs
    /// one campaign per invariant function: one function checks them all for the price of one).
    function invariant_paymentRouterRules() public view {
        _paymentNeverMovesOneLegWithoutTheOther();
        _bankBalancesMatchSuccessfulPayments();
        _quoteLegsNeverExceedTheRate();
    }

    /// @notice Atomicity: no attempt, successful or failed, ever moved one leg alone.
    function _paymentNeverMovesOneLegWithoutTheOther() internal view {
        vm.assertEq(handler.oneLeggedMoves(), 0, "one-legged payment");
    }

    /// @notice The bank received exactly the base legs and paid exactly the quote legs of the payments.
    function _bankBalancesMatchSuccessfulPayments() internal view {
        vm.assertEq(cny.balanceOf(bank) - bankCnyStart, handler.ghostBaseToBank(), "bank CNY");
        vm.assertEq(bankUsdStart - usd.balanceOf(bank), handler.ghostQuoteFromBank(), "bank USD");
    }

    /// @notice The converted amount never exceeds base × rate (rounding is in the bank's favour).
    function _quoteLegsNeverExceedTheRate() internal view {
        vm.assertLe(handler.ghostQuoteFromBank() * 1e18, handler.ghostBaseToBank() * handler.RATE(), "rate");
    }
}
