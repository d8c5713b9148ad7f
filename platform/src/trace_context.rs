//! W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/): the trace a request
//! belongs to, passed from service to service — on every peer call and every outbox delivery —
//! so that one request can be followed across the three services' logs by its `trace_id`.
//!
//! Written here rather than taken from OpenTelemetry: the services export no spans, they only
//! carry the context on and log it, and for that the header's 55 characters are all there is.

use std::fmt;

/// The `traceparent` header's name.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// One span's place in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: u128,
    /// This span's id: the `parent-id` of the calls it makes.
    span_id: u64,
    flags: u8,
}

impl TraceContext {
    /// The start of a new trace (for a request that came without a valid `traceparent`),
    /// sampled.
    pub fn new_root() -> TraceContext {
        TraceContext { trace_id: nonzero(rand::random), span_id: nonzero(rand::random), flags: 0x01 }
    }

    /// A span of the same trace below this one: what a service handling a call, or making one,
    /// continues with.
    pub fn child(&self) -> TraceContext {
        TraceContext { span_id: nonzero(rand::random), ..*self }
    }

    /// Reads a `traceparent` header value. `None` for anything the specification says to
    /// ignore: a wrong length or character, all-zero ids, version `ff`, or a version-00 header
    /// with more fields. (A later version's extra fields are allowed and skipped.)
    pub fn parse(header: &str) -> Option<TraceContext> {
        let header = header.trim();
        let mut fields = header.split('-');
        let version = fields.next().filter(|v| v.len() == 2).and_then(|v| u8::from_str_radix(v, 16).ok())?;
        if version == 0xff || !is_lower_hex(&header[..2]) {
            return None;
        }
        let trace_id = fields.next().filter(|f| f.len() == 32 && is_lower_hex(f))?;
        let span_id = fields.next().filter(|f| f.len() == 16 && is_lower_hex(f))?;
        let flags = fields.next().filter(|f| f.len() == 2 && is_lower_hex(f))?;
        if version == 0 && fields.next().is_some() {
            return None;
        }
        let trace_id = u128::from_str_radix(trace_id, 16).ok().filter(|id| *id != 0)?;
        let span_id = u64::from_str_radix(span_id, 16).ok().filter(|id| *id != 0)?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceContext { trace_id, span_id, flags })
    }

    /// The trace's id as logs show it (32 lowercase hex digits).
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

/// The header value, version 00: `00-{trace_id}-{span_id}-{flags}`.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{:032x}-{:016x}-{:02x}", self.trace_id, self.span_id, self.flags)
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A random id that is not zero (zero means "invalid" in the specification).
fn nonzero<T: PartialEq + Default>(random: impl Fn() -> T) -> T {
    loop {
        let id = random();
        if id != T::default() {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_header_is_read_and_written_back_unchanged() {
        let context = TraceContext::parse(EXAMPLE).expect("the specification's example");
        assert_eq!(context.to_string(), EXAMPLE);
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn a_child_keeps_the_trace_and_flags_with_a_span_of_its_own() {
        let parent = TraceContext::parse(EXAMPLE).unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.to_string(), parent.to_string());
        assert!(child.to_string().ends_with("-01"));
        assert_eq!(TraceContext::parse(&child.to_string()), Some(child));
    }

    #[test]
    fn what_the_specification_says_to_ignore_is_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
        // A later version may add fields after the four it shares with 00.
        assert!(TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").is_some());
    }

    #[test]
    fn new_traces_are_sampled_and_distinct() {
        let (a, b) = (TraceContext::new_root(), TraceContext::new_root());
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(a.to_string().ends_with("-01"));
        assert_eq!(TraceContext::parse(&a.to_string()), Some(a));
    }
}
