// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title UCP 600 day arithmetic on unix time.
/// @notice Days are UTC days: `day(t) = t / 1 days`. Banking days are Monday to Friday; no holiday
/// calendar is kept on chain (UCP 600 Art. 2 leaves banking days to each bank; weekends are the common
/// ground). Unix day 0 (1 January 1970) was a Thursday.
library UcpCalendar {
    uint256 internal constant DAY = 1 days;

    /// @notice The UTC day number of unix time `t`.
    function day(uint256 t) internal pure returns (uint256) {
        return t / DAY;
    }

    /// @notice The first second of UTC day `d`.
    function startOf(uint256 d) internal pure returns (uint256) {
        return d * DAY;
    }

    /// @notice The last second of UTC day `d`.
    function endOf(uint256 d) internal pure returns (uint256) {
        return (d + 1) * DAY - 1;
    }

    /// @notice Whether UTC day `d` is a Saturday or a Sunday.
    function isWeekend(uint256 d) internal pure returns (bool) {
        // (d + 3) % 7: Monday 0, ..., Friday 4, Saturday 5, Sunday 6 (day 0 was a Thursday: 3).
        return (d + 3) % 7 >= 5;
    }

    /// @notice Day `d` if it is a banking day, else the next banking day (a presentation received on a
    /// weekend counts from the next banking day: UCP 600 Art. 33 and 14(b)).
    function firstBankingDayFrom(uint256 d) internal pure returns (uint256) {
        while (isWeekend(d)) {
            unchecked {
                ++d;
            }
        }
        return d;
    }

    /// @notice The `n`-th banking day following day `d` (Art. 14(b): "following the day of presentation").
    /// @dev At most `n + 2 * (n / 5 + 1)` iterations; callers pass `n = 5`.
    function addBankingDays(uint256 d, uint256 n) internal pure returns (uint256) {
        while (n != 0) {
            unchecked {
                ++d;
            }
            if (!isWeekend(d)) {
                unchecked {
                    --n;
                }
            }
        }
        return d;
    }
}
