//! How a module's call records are written to the module cache: one block of fixed-size
//! records, not one serde value per field.
//!
//! Why hand-written (measured, `bench/PROFILE.md`, fifteenth step): a run with one file changed
//! decodes every module's cache entry, and the call records were most of it. Read field by
//! field through serde, each record cost twelve variable-length integers read byte by byte
//! (each through the format's bounds check and error path) and two names read through the
//! thread's table one access at a time. As one block, a record is read with fixed-offset loads
//! and its names looked up in the table borrowed once per module.
//!
//! The block holds, per call, 32 bytes little-endian: the function, the target's and the
//! callee text's indices in the entry's name table, line, column, catalog id (0 for none), the
//! end (lines after the start, column), the flags, and one byte with the resolution (low bits)
//! and whether the call has a [`CallExtra`] (high bit). The extras follow as one list, in call
//! order, read the ordinary way (few calls have one). Human-readable formats (JSON, in tests)
//! and a write without a name table get the plain list of records.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::packed::{Bytes, resolution_byte, resolution_of, u16_at, u32_at};
use super::{Call, CallExtra, CallFlags, Name, name};
use crate::knowledge::catalog::ApiId;

/// Bytes per record in the block.
const RECORD: usize = 32;
/// The high bit of the last byte: the call has a [`CallExtra`].
const HAS_EXTRA: u8 = 0x80;

/// What is written; [`Read`] is the same shape, read back.
#[derive(Serialize)]
enum Written<'a> {
    Plain(&'a [Call]),
    Packed {
        records: Bytes<'a>,
        extras: Vec<&'a CallExtra>,
    },
}

#[derive(Deserialize)]
enum Read<'a> {
    Plain(Vec<Call>),
    Packed {
        #[serde(borrow)]
        records: &'a [u8],
        extras: Vec<CallExtra>,
    },
}

/// The block for `calls`, each name written through `index`.
fn encode(calls: &[Call], index: &mut dyn FnMut(&Name) -> u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(calls.len() * RECORD);
    for c in calls {
        out.extend_from_slice(&c.func.to_le_bytes());
        out.extend_from_slice(&index(&c.target).to_le_bytes());
        out.extend_from_slice(&index(&c.text).to_le_bytes());
        out.extend_from_slice(&c.line.to_le_bytes());
        out.extend_from_slice(&c.column.to_le_bytes());
        out.extend_from_slice(&c.api.map_or(0, ApiId::raw).to_le_bytes());
        out.extend_from_slice(&c.end_lines.to_le_bytes());
        out.extend_from_slice(&c.end_col.to_le_bytes());
        out.extend_from_slice(&c.flags.0.to_le_bytes());
        out.push(c.loop_depth);
        let extra = if c.extra.is_some() { HAS_EXTRA } else { 0 };
        out.push(resolution_byte(c.resolution) | extra);
    }
    out
}

/// The calls of a block, names looked up in `names`; `None` when the block is damaged (a size
/// that is not whole records, a name outside the table, an unknown resolution, an extra too
/// many or too few).
fn decode(records: &[u8], extras: Vec<CallExtra>, names: &[Name]) -> Option<Vec<Call>> {
    if !records.len().is_multiple_of(RECORD) {
        return None;
    }
    let mut extras = extras.into_iter();
    let mut calls = Vec::with_capacity(records.len() / RECORD);
    for r in records.chunks_exact(RECORD) {
        let r: &[u8; RECORD] = r.try_into().ok()?;
        let u32_at = |i: usize| u32_at(r, i);
        let u16_at = |i: usize| u16_at(r, i);
        let name = |i: usize| names.get(u32_at(i) as usize).cloned();
        let last = r[31];
        let extra = if last & HAS_EXTRA != 0 {
            Some(Box::new(extras.next()?))
        } else {
            None
        };
        calls.push(Call {
            func: u32_at(0),
            target: name(4)?,
            text: name(8)?,
            line: u32_at(12),
            column: u32_at(16),
            api: ApiId::from_raw(u32_at(20)),
            end_lines: u16_at(24),
            end_col: u16_at(26),
            flags: CallFlags(u16_at(28)),
            loop_depth: r[30],
            resolution: resolution_of(last & !HAS_EXTRA)?,
            extra,
        });
    }
    extras.next().is_none().then_some(calls)
}

pub(super) fn serialize<S: Serializer>(calls: &[Call], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return calls.serialize(s);
    }
    // The block is made inside the table's borrow; the extras, whose names take it again,
    // after it.
    match name::with_write_index(|index| index.map(|index| encode(calls, index))) {
        Some(block) => Written::Packed {
            records: Bytes(&block),
            extras: calls.iter().filter_map(|c| c.extra.as_deref()).collect(),
        }
        .serialize(s),
        None => Written::Plain(calls).serialize(s),
    }
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Call>, D::Error> {
    if d.is_human_readable() {
        return Vec::<Call>::deserialize(d);
    }
    match Read::deserialize(d)? {
        Read::Plain(calls) => Ok(calls),
        Read::Packed { records, extras } => {
            name::with_read_table(|names| decode(records, extras, names?))
                .ok_or_else(|| D::Error::custom("damaged call records"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::name::{NameTable, read_with_table, write_with_table};

    fn call(i: u32, extra: Option<CallExtra>) -> Call {
        Call {
            func: i,
            target: Name::new(&format!("mod.f{}", i % 3)),
            resolution: resolution_of((i % 5) as u8).unwrap(),
            line: 10 + i,
            column: i * 7,
            end_lines: (i % 2) as u16,
            end_col: 40,
            api: ApiId::from_raw(i % 4),
            loop_depth: (i % 3) as u8,
            flags: CallFlags((i * 37) as u16),
            extra: extra.map(Box::new),
            text: Name::new(&format!("f{}", i % 3)),
        }
    }

    fn json(calls: &[Call]) -> String {
        serde_json::to_string(calls).unwrap()
    }

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        calls: Vec<Call>,
    }

    /// Written with a table, every field and extra reads back as it was; written without
    /// one, the plain list does.
    #[test]
    fn records_round_trip_packed_and_plain() {
        let extra = CallExtra {
            with_as: Some(Name::new("conn")),
            seconds: Some(0.5),
            end: (70_000, 3),
            ..CallExtra::default()
        };
        let calls: Vec<Call> = (0..40)
            .map(|i| call(i, (i % 9 == 4).then(|| extra.clone())))
            .collect();
        let holder = Holder { calls };
        let (bytes, table) = write_with_table(|| postcard::to_stdvec(&holder).unwrap());
        let names = NameTable::names(&table.texts, &table.ends).expect("a valid table");
        let back: Holder = read_with_table(names, || postcard::from_bytes(&bytes).unwrap());
        assert_eq!(json(&back.calls), json(&holder.calls));
        let plain = postcard::to_stdvec(&holder).unwrap();
        let back: Holder = postcard::from_bytes(&plain).unwrap();
        assert_eq!(json(&back.calls), json(&holder.calls));
    }

    /// A name index outside the table, a missing extra and a cut block are errors, not calls.
    #[test]
    fn damaged_blocks_are_errors() {
        let names = [Name::new("a"), Name::new("b")];
        let mut index = |n: &Name| names.iter().position(|m| m == n).unwrap() as u32;
        let one = vec![Call {
            target: names[0].clone(),
            text: names[1].clone(),
            ..call(0, None)
        }];
        let block = encode(&one, &mut index);
        assert!(decode(&block, vec![], &names).is_some());
        assert!(decode(&block, vec![], &names[..1]).is_none());
        assert!(decode(&block[..RECORD - 1], vec![], &names).is_none());
        assert!(decode(&block, vec![CallExtra::default()], &names).is_none());
        let mut flagged = block.clone();
        flagged[RECORD - 1] |= HAS_EXTRA;
        assert!(decode(&flagged, vec![], &names).is_none());
        let mut unknown = block;
        unknown[RECORD - 1] = 9;
        assert!(decode(&unknown, vec![], &names).is_none());
    }
}
