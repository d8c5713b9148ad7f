//! Turning the file's bytes into text: UTF-8 (with or without a byte-order mark) or
//! Shift_JIS as Excel writes it, detected by strict decoding rather than guessed.

use std::borrow::Cow;
use std::fmt;

use encoding_rs::{DecoderResult, SHIFT_JIS};

use super::lines::line_of_offset;
use super::FileProblem;

pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How the file's bytes were (or are to be) turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileEncoding {
    Utf8,
    /// UTF-8 starting with a byte order mark, as Excel's "CSV UTF-8" saves it.
    Utf8Bom,
    /// Shift_JIS as Windows and Excel write it (CP932 / Windows-31J).
    ShiftJis,
}

impl FileEncoding {
    /// The name stored with the import and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FileEncoding::Utf8 => "utf-8",
            FileEncoding::Utf8Bom => "utf-8-bom",
            FileEncoding::ShiftJis => "shift_jis",
        }
    }

    /// The `?encoding=` parameter, case-insensitive. `utf-8-bom` (what `as_str` gives) is
    /// accepted too, so an import stored half-way can be read again the way it was read.
    /// The `?encoding=` value: one of `PARAM_NAMES`, in any case (`UTF-8`, `Shift_JIS`).
    pub fn parse_param(text: &str) -> Result<FileEncoding, String> {
        PARAM_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, encoding)| *encoding)
            .ok_or_else(|| format!("unknown encoding '{text}': use utf-8 or shift_jis"))
    }

    /// The JSON Schema of `?encoding=`: one of `PARAM_NAMES` in any case, which JSON Schema
    /// can say only as a pattern (its regular expressions have no case-insensitive flag).
    pub fn param_schema() -> utoipa::openapi::Object {
        let names = PARAM_NAMES.map(|(name, _)| name);
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(any_case_pattern(&names)))
            .description(Some(format!("One of {}, in any case.", names.join(", "))))
            .examples(["utf-8", "shift_jis"])
            .build()
    }

    /// How the encoding is named to a person.
    fn label(self) -> &'static str {
        match self {
            FileEncoding::Utf8 | FileEncoding::Utf8Bom => "UTF-8",
            FileEncoding::ShiftJis => "Shift_JIS",
        }
    }
}

/// The names `?encoding=` takes: the two encodings, and the names other tools give them.
/// `^(?:[uU][tT][fF]-8|…)$`: exactly one of `names`, each letter in either case.
fn any_case_pattern(names: &[&str]) -> String {
    let alternatives: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .map(|c| match c {
                    c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase()),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

const PARAM_NAMES: [(&str, FileEncoding); 10] = [
    ("utf-8", FileEncoding::Utf8),
    ("utf8", FileEncoding::Utf8),
    ("utf-8-sig", FileEncoding::Utf8Bom),
    ("utf-8-bom", FileEncoding::Utf8Bom),
    ("shift_jis", FileEncoding::ShiftJis),
    ("shift-jis", FileEncoding::ShiftJis),
    ("sjis", FileEncoding::ShiftJis),
    ("cp932", FileEncoding::ShiftJis),
    ("windows-31j", FileEncoding::ShiftJis),
    ("ms932", FileEncoding::ShiftJis),
];

impl fmt::Display for FileEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text of the file, and how it was decoded.
pub(super) fn decode(
    bytes: &[u8],
    explicit: Option<FileEncoding>,
) -> Result<(FileEncoding, Cow<'_, str>), FileProblem> {
    let after_bom = bytes.strip_prefix(UTF8_BOM);
    match explicit {
        // Asked for UTF-8: a BOM, if there is one, is UTF-8's own and not part of the text.
        // The encoding reported is what the file holds, so reading it again gives the same.
        Some(FileEncoding::Utf8 | FileEncoding::Utf8Bom) => {
            let (encoding, body) = match after_bom {
                Some(body) => (FileEncoding::Utf8Bom, body),
                None => (FileEncoding::Utf8, bytes),
            };
            match std::str::from_utf8(body) {
                Ok(text) => Ok((encoding, Cow::Borrowed(text))),
                Err(err) => Err(not_in_encoding(FileEncoding::Utf8, body, err.valid_up_to())),
            }
        }
        Some(FileEncoding::ShiftJis) => decode_shift_jis(bytes)
            .map(|text| (FileEncoding::ShiftJis, text))
            .map_err(|bad_at| not_in_encoding(FileEncoding::ShiftJis, bytes, bad_at)),
        None => {
            if let Some(body) = after_bom {
                return match std::str::from_utf8(body) {
                    Ok(text) => Ok((FileEncoding::Utf8Bom, Cow::Borrowed(text))),
                    Err(err) => Err(FileProblem(format!(
                        "the file starts with a UTF-8 byte order mark but is not valid UTF-8 (line {})",
                        line_of_offset(body, err.valid_up_to())
                    ))),
                };
            }
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok((FileEncoding::Utf8, Cow::Borrowed(text)));
            }
            decode_shift_jis(bytes).map(|text| (FileEncoding::ShiftJis, text)).map_err(|_| {
                FileProblem(
                    "the file's encoding is not recognised: it is neither UTF-8 nor Shift_JIS; save it as \
                     UTF-8 or Shift_JIS, or give the encoding with ?encoding=utf-8|shift_jis"
                        .into(),
                )
            })
        }
    }
}

/// Strict Shift_JIS: `Err` with the offset of the first byte that does not decode, rather
/// than a replacement character in a customer's name.
fn decode_shift_jis(bytes: &[u8]) -> Result<Cow<'_, str>, usize> {
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text),
        None => Err(first_bad_shift_jis_byte(bytes)),
    }
}

/// Only on the failure path: decodes again into a small buffer to find where it failed.
fn first_bad_shift_jis_byte(bytes: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut buffer = [0u8; 4096];
    let mut offset = 0;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(rest, &mut buffer, true);
        offset += read;
        match result {
            DecoderResult::OutputFull => continue,
            DecoderResult::InputEmpty => return offset,
            DecoderResult::Malformed(bad, after) => {
                return offset.saturating_sub(usize::from(bad) + usize::from(after));
            }
        }
    }
}

fn not_in_encoding(encoding: FileEncoding, bytes: &[u8], bad_at: usize) -> FileProblem {
    FileProblem(format!(
        "the file is not valid {} (line {}); check the encoding, or leave ?encoding= out to detect it",
        encoding.label(),
        line_of_offset(bytes, bad_at)
    ))
}
