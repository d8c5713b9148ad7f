//! Where each record of the file starts, in lines as an editor counts them, and cells made
//! one line.

use super::FileProblem;

/// A cell as one line: a line break inside a quoted cell (Alt+Enter in Excel) or a tab
/// becomes a space. The API refuses control characters in names (an e-mail could not carry
/// them), and a break in a spreadsheet cell is layout, not content.
pub(super) fn without_line_breaks(field: &str) -> String {
    let mut one_line = String::with_capacity(field.len());
    for part in field.split(|c: char| c.is_control()).filter(|part| !part.is_empty()) {
        if !one_line.is_empty() {
            one_line.push(' ');
        }
        one_line.push_str(part);
    }
    one_line
}

/// Reads the next record into `record` and returns the line it starts on.
pub(super) fn next_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
    lines: &mut LineCounter<'_>,
) -> Result<Option<i64>, FileProblem> {
    let from = reader.position().byte();
    match reader.read_record(record) {
        Ok(true) => Ok(Some(lines.line_of_record_after(from))),
        Ok(false) => Ok(None),
        // Reading from a slice of valid UTF-8 with flexible lengths leaves `csv` nothing to
        // fail on; should it anyway, the file cannot be trusted as a whole.
        Err(err) => Err(FileProblem(format!("the file cannot be read as CSV: {err}"))),
    }
}

/// 1-based line of a byte offset. Safe on undecoded bytes: neither UTF-8 nor Shift_JIS uses
/// CR or LF inside a multi-byte character.
pub(super) fn line_of_offset(bytes: &[u8], offset: usize) -> i64 {
    let mut counter = LineCounter::new(bytes);
    counter.advance_to(offset.min(bytes.len()));
    counter.line
}

/// The physical line where each record starts, counted incrementally (records come in
/// order, so the file is scanned once). CRLF, LF and a lone CR each end one line, as they
/// do for `csv`.
pub(super) struct LineCounter<'t> {
    text: &'t [u8],
    /// Line breaks before `offset` are counted in `line`.
    offset: usize,
    line: i64,
}

impl<'t> LineCounter<'t> {
    pub(super) fn new(text: &'t [u8]) -> Self {
        LineCounter { text, offset: 0, line: 1 }
    }

    /// `csv` reports where the previous record ended (right after the byte that ended it,
    /// which for CRLF is the CR). The next record starts after any further line breaks:
    /// the rest of a CRLF and blank lines, which `csv` skips. No record starts with a line
    /// break (an empty first field is followed by a comma, a quoted one by a quote).
    pub(super) fn line_of_record_after(&mut self, ended_at: u64) -> i64 {
        let mut start = usize::try_from(ended_at).unwrap_or(usize::MAX).max(self.offset).min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        self.advance_to(start);
        self.line
    }

    fn advance_to(&mut self, to: usize) {
        let from = self.offset.min(to);
        let breaks = self
            .text
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|&(i, &byte)| byte == b'\n' || (byte == b'\r' && self.text.get(from + i + 1) != Some(&b'\n')));
        self.line += i64::try_from(breaks.count()).unwrap_or(i64::MAX);
        self.offset = to.max(self.offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counter_counts_crlf_lf_and_lone_cr_as_one_line_each() {
        assert_eq!(line_of_offset(b"a\r\nb\nc\rd", 8), 4);
        assert_eq!(line_of_offset(b"a\r\nb", 2), 1);
        assert_eq!(line_of_offset(b"a\r\nb", 3), 2);
        assert_eq!(line_of_offset(b"", 10), 1);
    }
}
