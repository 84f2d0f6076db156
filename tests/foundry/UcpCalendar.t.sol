// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "./utils/World.sol";
import {UcpCalendar} from "../../contracts/libraries/UcpCalendar.sol";

/// @notice Banking-day arithmetic behind Art. 14(b): five banking days skip Saturday and Sunday, and a
/// presentation received on a weekend counts from the next banking day (Art. 33).
/// @dev A pure library: the world's addresses are there, nothing needs deploying.
contract UcpCalendarTest is World {
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

    function test_firstBankingDayFrom_movesOnlyWeekendsToMonday() public pure {
        require(UcpCalendar.firstBankingDayFrom(THURSDAY) == THURSDAY, "Thursday stays");
        require(UcpCalendar.firstBankingDayFrom(THURSDAY + 1) == THURSDAY + 1, "Friday stays");
        require(UcpCalendar.firstBankingDayFrom(THURSDAY + 2) == THURSDAY + 4, "Saturday -> Monday");
        require(UcpCalendar.firstBankingDayFrom(THURSDAY + 3) == THURSDAY + 4, "Sunday -> Monday");
    }

    function test_fuzz_firstBankingDayFrom_isTheFirstWeekdayOnOrAfter(uint32 daySeed) public pure {
        uint256 day = daySeed;
        uint256 first = UcpCalendar.firstBankingDayFrom(day);
        require(!UcpCalendar.isWeekend(first) && first >= day && first <= day + 2, "first banking day");
        for (uint256 d = day; d < first; ++d) {
            require(UcpCalendar.isWeekend(d), "no banking day skipped");
        }
    }

    function test_fuzz_dayBounds(uint40 t) public pure {
        uint256 d = UcpCalendar.day(t);
        require(UcpCalendar.startOf(d) <= t && t <= UcpCalendar.endOf(d), "t within its day");
    }
}
