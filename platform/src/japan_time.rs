//! The operations team's clock: Japan Standard Time, UTC+9 all year (Japan has no daylight
//! saving time). The Order Service counts "orders today" by it and the dashboard shows every
//! time in it.

use chrono::{DateTime, FixedOffset, NaiveTime, Utc};

pub const OFFSET: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// Midnight of `now`'s day in Japan, as a UTC instant.
pub fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now.with_timezone(&OFFSET).date_naive().and_time(NaiveTime::MIN);
    // A fixed offset maps every local time to exactly one instant.
    midnight.and_local_timezone(OFFSET).single().map_or(now, |start| start.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_starts_at_midnight_in_japan() {
        let late_evening_utc: DateTime<Utc> = "2026-11-22T16:30:00Z".parse().unwrap(); // 01:30 on the 23rd in Japan
        assert_eq!(start_of_day(late_evening_utc), "2026-11-22T15:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let morning_utc: DateTime<Utc> = "2026-11-22T02:00:00Z".parse().unwrap(); // 11:00 on the 22nd
        assert_eq!(start_of_day(morning_utc), "2026-11-21T15:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }
}
