// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "./utils/World.sol";
import {IPayableCertificates} from "../../contracts/interfaces/IPayableCertificates.sol";

/// @notice Fuzzed rounding of the two money formulas: FX conversion and certificate discounting. Both
/// must round in the bank's favour by less than one minor unit, never against it.
contract PaymentsArithmeticTest is World {
    function setUp() public {
        _deployWorld();
    }

    /// @notice quoteAmount = floor(base × rate / 1e18): never more than the exact value, less by < 1 unit.
    function test_fuzz_convert_roundsDownByLessThanOneMinorUnit(uint256 baseAmount, uint256 rate) public view {
        baseAmount = bound(baseAmount, 1, type(uint96).max);
        rate = bound(rate, 1, type(uint128).max);
        uint256 quoteAmount = router.convert(baseAmount, rate);
        vm.assertLe(quoteAmount * 1e18, baseAmount * rate, "never above the exact value");
        vm.assertGe((quoteAmount + 1) * 1e18, baseAmount * rate + 1, "less than one unit below");
    }

    /// @notice proceeds = floor(amount × (1 − rate × days / 365)) with days rounded up: the bank never pays
    /// more than the exact discounted value at the whole number of days, and less by under one unit.
    function test_fuzz_discountProceeds_roundInTheBanksFavour(uint256 amount, uint256 rateBps, uint256 secondsLeft)
        public
    {
        _assertDiscountProceeds(
            bound(amount, 1, type(uint56).max), bound(rateBps, 1, 10_000), bound(secondsLeft, 1, 400 days)
        );
    }

    /// @notice The rule above at a day's boundary: a whole day counts one, a day and a second two; and a discount
    /// of 20.0002 units is taken as 21 (1,000.01 at 3.65% for two days: proceeds 999.80).
    function test_discountProceeds_countsAStartedDayAndRoundsDown() public {
        _assertDiscountProceeds(1_000_01, 365, 1 days);
        _assertDiscountProceeds(1_000_01, 365, 1 days + 1);
        (uint256 proceeds, uint256 daysToMaturity) =
            certificates.discountProceeds(1_000_01, block.timestamp + 1 days + 1, 365);
        vm.assertEq(daysToMaturity, 2, "a started day counts");
        vm.assertEq(proceeds, 999_80, "the discount rounded up, the proceeds down");
    }

    function _assertDiscountProceeds(uint256 amount, uint256 rateBps, uint256 secondsLeft) private {
        uint256 maturity = block.timestamp + secondsLeft;
        uint256 expectedDays = (secondsLeft + 1 days - 1) / 1 days;
        uint256 keptPerYear = 3_650_000 > rateBps * expectedDays ? 3_650_000 - rateBps * expectedDays : 0;
        uint256 exactFloor = amount * keptPerYear / 3_650_000;

        if (exactFloor == 0) {
            vm.expectRevert();
            certificates.discountProceeds(amount, maturity, rateBps);
            return;
        }
        (uint256 proceeds, uint256 daysToMaturity) = certificates.discountProceeds(amount, maturity, rateBps);
        vm.assertEq(daysToMaturity, expectedDays, "a started day counts as a whole day");
        vm.assertEq(proceeds, exactFloor, "proceeds are the exact value rounded down");
        vm.assertLe(proceeds, amount, "never above face");
    }

    /// @notice A discount that would take the whole amount is refused with its named error.
    function test_discountProceeds_failsWhenDiscountTakesEverything() public {
        vm.expectRevert(
            abi.encodeWithSelector(IPayableCertificates.PayableCertificatesDiscountExceedsAmount.selector, 100, 100)
        );
        certificates.discountProceeds(100, block.timestamp + 365 days, 10_000);
    }
}
