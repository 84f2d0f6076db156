// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {UcpCalendar} from "../../contracts/libraries/UcpCalendar.sol";

/// @notice Banking-day arithmetic behind Art. 14(b): five banking days skip Saturday and Sunday.
contract UcpCalendarTest is Test {
    /// @dev 2026-11-26 was a Thursday.
    uint256 internal constant THURSDAY = 20_783;

    function test_thursday_isTheKnownWeekday() public pure {
        require(!UcpCalendar.isWeekend(THURSDAY) && UcpCalendar.isWeekend(THURSDAY + 2) && UcpCalendar.isWeekend(THURSDAY + 3), "weekday");
    }

    function test_fiveBankingDaysAfterThursday_isNextThursday() public pure {
        require(UcpCalendar.addBankingDays(THURSDAY, 5) == THURSDAY + 7, "Thu + 5 banking days");
    }

    function test_fiveBankingDaysAfterSaturday_isNextFriday() public pure {
        require(UcpCalendar.addBankingDays(THURSDAY + 2, 5) == THURSDAY + 8, "Sat + 5 banking days");
    }

    function test_fuzz_addBankingDays_landsOnAWeekdayAndSpansAtMostNineDays(uint32 daySeed) public pure {
        uint256 day = daySeed;
        uint256 deadline = UcpCalendar.addBankingDays(day, 5);
        require(!UcpCalendar.isWeekend(deadline), "deadline on a banking day");
        require(deadline >= day + 5 && deadline <= day + 9, "five banking days span 5..9 calendar days");
        uint256 banking;
        for (uint256 d = day + 1; d <= deadline; ++d) {
            if (!UcpCalendar.isWeekend(d)) ++banking;
        }
        require(banking == 5, "exactly five banking days counted");
    }

    function test_fuzz_dayBounds(uint40 t) public pure {
        uint256 d = UcpCalendar.day(t);
        require(UcpCalendar.startOf(d) <= t && t <= UcpCalendar.endOf(d), "t within its day");
    }
}
