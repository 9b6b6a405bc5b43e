//! Reading a Python file into text: UTF-8 (BOM allowed), else its PEP 263 coding cookie, else a
//! lossy decode. Each fallback is reported as a diagnostic; none aborts the run.

use std::borrow::Cow;

/// The decoded text and how it was obtained.
pub struct Decoded {
    pub text: String,
    /// A note for the user when the file was not plain UTF-8.
    pub note: Option<String>,
}

/// Why a file could not be turned into text at all.
#[derive(Debug)]
pub enum DecodeError {
    Utf16,
    /// Control characters make up this share (%) of the file's first bytes.
    Binary(usize),
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode_owned(bytes.to_vec())
}

/// [`decode`], taking the bytes: a UTF-8 file (nearly every one) becomes its text without a
/// copy.
pub fn decode_owned(bytes: Vec<u8>) -> Result<Decoded, DecodeError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DecodeError::Utf16);
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => return Ok(Decoded { text, note: None }),
        Err(e) => e.into_bytes(),
    };
    let bytes = bytes.as_slice();
    let cookie = coding_cookie(bytes);
    if cookie.is_none()
        && let Some(share) = binary_share(bytes)
    {
        // Analysing noise would only print garbage: the file is skipped, not scanned.
        return Err(DecodeError::Binary(share));
    }
    if let Some(label) = cookie {
        let norm = normalise_codec(&label);
        if is_latin1(&norm) {
            return Ok(Decoded {
                text: bytes.iter().map(|&b| b as char).collect(),
                note: Some(format!("decoded as {label} (coding cookie)")),
            });
        }
        if let Some(enc) = encoding_rs::Encoding::for_label(norm.as_bytes()) {
            let (text, _, had_errors) = enc.decode(bytes);
            let note = if had_errors {
                format!("decoded as {label} (coding cookie) with replacement characters")
            } else {
                format!("decoded as {label} (coding cookie)")
            };
            return Ok(Decoded {
                text: text.into_owned(),
                note: Some(note),
            });
        }
    }
    let text = match String::from_utf8_lossy(bytes) {
        Cow::Owned(s) => s,
        Cow::Borrowed(s) => s.to_owned(),
    };
    Ok(Decoded {
        text,
        note: Some("not valid UTF-8 and no usable coding cookie: decoded lossily".to_owned()),
    })
}

/// How many bytes of a file's head are looked at to tell binary data from text.
const BINARY_SAMPLE: usize = 8192;

/// For a file that is not UTF-8: the percentage of control bytes (other than tab, line ends
/// and form feed) in its first 8 KiB, when it is high enough (10%) that the file is not text.
/// Random bytes give about 12%; source code with a stray Latin-1 byte gives 0. A valid UTF-8
/// file is never binary here: a NUL in one is a syntax error the parser reports.
fn binary_share(bytes: &[u8]) -> Option<usize> {
    let sample = &bytes[..bytes.len().min(BINARY_SAMPLE)];
    if sample.is_empty() {
        return None;
    }
    let controls = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
        .count();
    let share = controls * 100 / sample.len();
    (share >= 10).then_some(share)
}

/// The codec named by a `coding[:=]` comment on line 1 or 2 (PEP 263): the first `coding`
/// followed by `:` or `=` and a name, as Python's `coding[:=][ \t]*([-\w.]+)` finds it. Line 2
/// counts only when line 1 is a comment or blank, as in Python's tokenizer.
fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            if trimmed.trim().is_empty() {
                continue;
            }
            return None;
        }
        for (pos, _) in trimmed.match_indices("coding") {
            let Some(rest) = trimmed[pos + 6..].strip_prefix([':', '=']) else {
                continue;
            };
            let name: String = rest
                .trim_start_matches([' ', '\t'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !name.is_empty() {
                return Some(name);
            }
        }
    }
    None
}

fn normalise_codec(label: &str) -> String {
    let mut s = label.to_ascii_lowercase().replace('_', "-");
    if let Some(stripped) = s.strip_suffix("-sig") {
        s = stripped.to_owned();
    }
    s
}

fn is_latin1(norm: &str) -> bool {
    matches!(
        norm,
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "latin" | "8859" | "cp819"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_noise_is_refused() {
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(matches!(decode(&noise), Err(DecodeError::Binary(_))));
        // A stray Latin-1 byte in code is not binary.
        let d = decode(b"x = 1  # caf\xe9\n").unwrap();
        assert_eq!(d.text, "x = 1  # caf\u{fffd}\n");
    }

    #[test]
    fn utf8_passes_through() {
        let d = decode("x = 'é'\n".as_bytes()).unwrap();
        assert_eq!(d.text, "x = 'é'\n");
        assert!(d.note.is_none());
    }

    #[test]
    fn latin1_cookie_is_decoded_by_hand() {
        let d = decode(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n").unwrap();
        assert!(d.text.contains('é'));
        assert!(d.note.unwrap().contains("latin-1"));
    }

    #[test]
    fn koi8_cookie_goes_through_encoding_rs() {
        let d = decode(b"# coding: koi8-r\nx = '\xc1'\n").unwrap();
        assert!(d.text.contains('а'));
    }

    #[test]
    fn cookie_on_line_two_after_a_comment_that_says_coding() {
        // Python's own test data (Lib/test/encoded_modules) starts like this.
        let d = decode(b"# test iso-8859-1 encoding\n# -*- encoding: iso-8859-1 -*-\nx = '\xe9'\n")
            .unwrap();
        assert!(d.text.contains('é'), "{}", d.text);
        assert_eq!(d.note.unwrap(), "decoded as iso-8859-1 (coding cookie)");
        let d = decode(b"# vim: set fileencoding=koi8-r :\nx = '\xc1'\n").unwrap();
        assert!(d.text.contains('а'));
    }

    #[test]
    fn cookie_on_line_two_after_code_does_not_count() {
        let d = decode(b"x = 1\n# coding: latin-1\ny = '\xe9'\n").unwrap();
        assert!(d.note.unwrap().contains("lossily"));
    }

    #[test]
    fn invalid_bytes_without_cookie_are_lossy() {
        let d = decode(b"x = '\xff'\n").unwrap();
        assert!(d.text.contains('\u{FFFD}'));
        assert!(d.note.unwrap().contains("lossily"));
    }

    #[test]
    fn utf16_is_refused() {
        assert!(decode(b"\xff\xfex\x00").is_err());
    }
}
