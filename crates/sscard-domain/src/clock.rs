//! Time for the rules: unix milliseconds in, calendar dates in China Standard Time out.
//!
//! The domain never reads the system clock. Callers hold a [`Clock`] and pass
//! `now_ms` into every decision, so tests can move time (dormant sweep, the
//! automatic lift of a temporary loss, QR expiry) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;
/// China Standard Time (UTC+8, no daylight saving): the calendar every card office works in.
pub const CHINA_OFFSET_S: i32 = 8 * 3600;

/// A source of "now". Implementations must be cheap and thread-safe.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// A clock that only moves when told to; for tests and `jobs run --as-of`.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(now_ms: i64) -> Self {
        Self(AtomicI64::new(now_ms))
    }
    /// A clock standing at 09:00 China time on `date`.
    pub fn at_date(date: Date) -> Self {
        Self::new(start_of_day_ms(date) + 9 * 3_600_000)
    }
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * DAY_MS, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn china() -> UtcOffset {
    // The constant is in range (|8h| < 26h), so this cannot fail; fall back to UTC to stay panic-free.
    UtcOffset::from_whole_seconds(CHINA_OFFSET_S).unwrap_or(UtcOffset::UTC)
}

/// The calendar date in China at `ms` (unix milliseconds).
pub fn china_date(ms: i64) -> Date {
    let secs = ms.div_euclid(1000);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH).to_offset(china()).date()
}

/// Unix milliseconds of 00:00 China time on `date`.
pub fn start_of_day_ms(date: Date) -> i64 {
    date.midnight().assume_offset(china()).unix_timestamp() * 1000
}

/// `date` plus whole months, clamping the day to the month's end (Jan 31 + 1 month = Feb 28/29).
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() as i64 * 12 + (date.month() as i64 - 1) + months as i64;
    let year = total.div_euclid(12) as i32;
    let month = time::Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(time::Month::January);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// `date` plus whole years (Feb 29 becomes Feb 28 in a common year).
pub fn add_years(date: Date, years: u32) -> Date {
    add_months(date, years * 12)
}

/// Whole years from `birth` to `on` (an age).
pub fn years_between(birth: Date, on: Date) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Counts working days (Monday to Friday) after `from` up to and including `to`.
/// Public holidays are not modelled; the count is therefore generous to the office.
pub fn working_days_between(from: Date, to: Date) -> u32 {
    let mut count = 0u32;
    let mut day = from;
    // Bounded: at most ten years of days are walked.
    for _ in 0..3660 {
        if day >= to {
            break;
        }
        day += Duration::days(1);
        if !matches!(day.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn china_date_rolls_over_at_utc_16() {
        let midnight_cn = start_of_day_ms(date!(2026 - 11 - 24));
        assert_eq!(china_date(midnight_cn), date!(2026 - 11 - 24));
        assert_eq!(china_date(midnight_cn - 1), date!(2026 - 11 - 23));
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 08 - 15), 6), date!(2027 - 02 - 15));
        assert_eq!(add_years(date!(2024 - 02 - 29), 10), date!(2034 - 02 - 28));
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(years_between(date!(2010 - 11 - 25), date!(2026 - 11 - 24)), 15);
        assert_eq!(years_between(date!(2010 - 11 - 24), date!(2026 - 11 - 24)), 16);
    }

    #[test]
    fn working_days_skip_weekends() {
        // Fri 2026-11-20 -> Fri 2026-11-27: Mon..Fri = 5 working days.
        assert_eq!(working_days_between(date!(2026 - 11 - 20), date!(2026 - 11 - 27)), 5);
    }
}
