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

/// `10,000`: a count with thousands separators.
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        grouped.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// The first 8 characters of a long identifier (an import's), enough to tell it apart on a
/// page; the whole of it stays in links and titles.
pub fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// `12 s`, `3 min 05 s`, `1 h 02 min`: how long something still takes.
pub fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as i64;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// `1 order`, `3 orders`.
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
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
        assert_eq!(count(10_000, "order", "orders"), "10,000 orders");
        assert_eq!(number(10_000), "10,000");
        assert_eq!(number(999), "999");
        assert_eq!(number(-1_234_567), "-1,234,567");
        assert_eq!(short_id("01JDZX4Q8W5M3K2N1P0R9S8T7V"), "01JDZX4Q");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn durations_are_rounded_to_what_a_person_reads() {
        assert_eq!(duration(-3.0), "0 s");
        assert_eq!(duration(12.4), "12 s");
        assert_eq!(duration(185.0), "3 min 05 s");
        assert_eq!(duration(3_725.0), "1 h 02 min");
    }
}
