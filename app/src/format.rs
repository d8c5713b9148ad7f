//! How values are shown to people: yen with separators, times in Japan time. The server
//! render and the browser use these same functions, so hydration finds identical text.

use chrono::{DateTime, Utc};
use platform::japan_time::OFFSET as JAPAN;
use platform::Yen;

pub fn yen(amount: Yen) -> String {
    amount.display_jpy()
}

/// `2026-11-22 15:04` in Japan time (UTC+9, no daylight saving), the operations team's clock.
pub fn japan_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&JAPAN).format("%Y-%m-%d %H:%M").to_string()
}

/// With seconds, for timelines where several steps happen within a minute.
pub fn japan_time_precise(at: DateTime<Utc>) -> String {
    at.with_timezone(&JAPAN).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `1 order`, `3 orders`.
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_japan_time() {
        let at: DateTime<Utc> = "2026-11-22T15:30:05Z".parse().unwrap();
        assert_eq!(japan_time(at), "2026-11-23 00:30");
        assert_eq!(japan_time_precise(at), "2026-11-23 00:30:05");
    }

    #[test]
    fn amounts_and_counts_read_naturally() {
        assert_eq!(yen(Yen::new(179_600)), "¥179,600");
        assert_eq!(count(1, "order", "orders"), "1 order");
        assert_eq!(count(0, "order", "orders"), "0 orders");
    }
}
