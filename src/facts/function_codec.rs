//! How a module's functions are written to the module cache: one block of records and one text
//! with their qualified names and decorators, not one serde value per field.
//!
//! Why hand-written (measured, `bench/PROFILE.md`, fifteenth step): after the call records
//! (`call_codec.rs`), the functions were the costliest part of decoding a cache entry (56 M
//! instructions of a run with one file changed on the standard library's 63,294 functions):
//! each qualified name and decorator a string read and validated on its own, each parameter
//! a name read through the thread's table. Here the text is validated once per module.
//!
//! A record is 29 bytes little-endian: the name's index in the entry's name table, the class,
//! the parent, the first and last line, the qualified name's length in the text, the decorator
//! and parameter counts (`u16` each), and one byte of bits (kind in bits 0–2, whether there
//! is a class, a parent, whether it is `async`); then a `u32` per parameter (a name index) and
//! per decorator (its length in the text). Human-readable formats (JSON, in tests) and a write
//! without a name table get the plain list.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::packed::{Bytes, u16_at, u32_at};
use super::{FnKind, Function, Name, name};

/// Bytes of a record before its parameters and decorators.
const FIXED: usize = 29;
const HAS_CLASS: u8 = 1 << 3;
const HAS_PARENT: u8 = 1 << 4;
const IS_ASYNC: u8 = 1 << 5;

#[derive(Serialize)]
enum Written<'a> {
    Plain(&'a [Function]),
    Packed {
        count: u32,
        records: Bytes<'a>,
        text: &'a str,
    },
}

#[derive(Deserialize)]
enum Read<'a> {
    Plain(Vec<Function>),
    Packed {
        count: u32,
        #[serde(borrow)]
        records: &'a [u8],
        text: &'a str,
    },
}

/// The block and the text for `functions`; `None` when a function has more than 65,535
/// decorators or parameters (then the plain list is written).
fn encode(
    functions: &[Function],
    index: &mut dyn FnMut(&Name) -> u32,
) -> Option<(Vec<u8>, String)> {
    let mut out = Vec::with_capacity(functions.len() * (FIXED + 8));
    let mut text = String::new();
    for f in functions {
        let decorators = u16::try_from(f.decorators.len()).ok()?;
        let params = u16::try_from(f.params.len()).ok()?;
        for v in [
            index(&f.name),
            f.class.unwrap_or(0),
            f.parent.unwrap_or(0),
            f.line,
            f.end_line,
            f.qualname.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&decorators.to_le_bytes());
        out.extend_from_slice(&params.to_le_bytes());
        let mut bits = f.kind.code();
        if f.class.is_some() {
            bits |= HAS_CLASS;
        }
        if f.parent.is_some() {
            bits |= HAS_PARENT;
        }
        if f.is_async {
            bits |= IS_ASYNC;
        }
        out.push(bits);
        text.push_str(&f.qualname);
        for p in &f.params {
            out.extend_from_slice(&index(p).to_le_bytes());
        }
        for d in &f.decorators {
            out.extend_from_slice(&(d.len() as u32).to_le_bytes());
            text.push_str(d);
        }
    }
    Some((out, text))
}

/// The functions of a block; `None` when it is damaged (cut records, a name outside the table,
/// lengths outside the text or not on a character boundary, an unknown kind).
fn decode(count: u32, mut block: &[u8], text: &str, names: &[Name]) -> Option<Vec<Function>> {
    // Not more than the block can hold, whatever a damaged count says.
    let mut functions = Vec::with_capacity((count as usize).min(block.len() / FIXED));
    let mut at = 0usize;
    let mut take = |len: u32| {
        let s = text.get(at..at + len as usize)?;
        at += len as usize;
        Some(s)
    };
    while !block.is_empty() {
        let r = block.get(..FIXED)?;
        let bits = r[28];
        let decorators = u16_at(r, 24) as usize;
        let params = u16_at(r, 26) as usize;
        let rest = block.get(FIXED..FIXED + 4 * (params + decorators))?;
        let qualname = take(u32_at(r, 20))?.to_owned();
        // Collected into exact-size vectors: through `Option` an iterator gives no size, and
        // the vector would grow and then shrink into the box.
        let mut param_names = Vec::with_capacity(params);
        for c in rest[..4 * params].chunks_exact(4) {
            param_names.push(names.get(u32_at(c, 0) as usize)?.clone());
        }
        let mut decorator_texts = Vec::with_capacity(decorators);
        for c in rest[4 * params..].chunks_exact(4) {
            decorator_texts.push(take(u32_at(c, 0))?.to_owned());
        }
        functions.push(Function {
            name: names.get(u32_at(r, 0) as usize)?.clone(),
            qualname,
            kind: FnKind::from_code(bits & 7)?,
            class: (bits & HAS_CLASS != 0).then(|| u32_at(r, 4)),
            parent: (bits & HAS_PARENT != 0).then(|| u32_at(r, 8)),
            is_async: bits & IS_ASYNC != 0,
            decorators: decorator_texts.into_boxed_slice(),
            params: param_names.into_boxed_slice(),
            line: u32_at(r, 12),
            end_line: u32_at(r, 16),
        });
        block = &block[FIXED + rest.len()..];
    }
    (at == text.len() && functions.len() == count as usize).then_some(functions)
}

pub(super) fn serialize<S: Serializer>(functions: &[Function], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return functions.serialize(s);
    }
    match name::with_write_index(|index| index.and_then(|index| encode(functions, index))) {
        Some((block, text)) => Written::Packed {
            count: functions.len() as u32,
            records: Bytes(&block),
            text: &text,
        }
        .serialize(s),
        None => Written::Plain(functions).serialize(s),
    }
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Function>, D::Error> {
    if d.is_human_readable() {
        return Vec::<Function>::deserialize(d);
    }
    match Read::deserialize(d)? {
        Read::Plain(functions) => Ok(functions),
        Read::Packed {
            count,
            records,
            text,
        } => name::with_read_table(|names| decode(count, records, text, names?))
            .ok_or_else(|| D::Error::custom("damaged function records")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::name::{NameTable, read_with_table, write_with_table};

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        functions: Vec<Function>,
    }

    fn json(f: &[Function]) -> String {
        serde_json::to_string(f).unwrap()
    }

    /// Every kind, optional field, decorator and parameter reads back as written (non-ASCII
    /// names included), packed under a name table and plain without one; damage is an error.
    #[test]
    fn functions_round_trip_and_damage_is_an_error() {
        let kinds = [
            FnKind::Module,
            FnKind::Function,
            FnKind::Method,
            FnKind::Nested,
            FnKind::Lambda,
            FnKind::Main,
        ];
        let functions: Vec<Function> = (0..24u32)
            .map(|i| Function {
                name: Name::new(&format!("f{}", i % 5)),
                qualname: format!("Klasse{}.größe_{i}", i % 3),
                kind: kinds[i as usize % kinds.len()],
                class: (i % 2 == 0).then_some(i / 2),
                parent: (i % 3 == 0).then_some(0),
                is_async: i % 4 == 1,
                decorators: (0..i % 3).map(|d| format!("app.route{d}")).collect(),
                params: (0..i % 4).map(|p| Name::new(&format!("p{p}"))).collect(),
                line: i * 10,
                end_line: i * 10 + 9,
            })
            .collect();
        let holder = Holder { functions };
        let (bytes, table) = write_with_table(|| postcard::to_stdvec(&holder).unwrap());
        let names = NameTable::names(&table.texts, &table.ends).unwrap();
        let back: Holder = read_with_table(names.clone(), || postcard::from_bytes(&bytes).unwrap());
        assert_eq!(json(&back.functions), json(&holder.functions));
        let plain = postcard::to_stdvec(&holder).unwrap();
        let back: Holder = postcard::from_bytes(&plain).unwrap();
        assert_eq!(json(&back.functions), json(&holder.functions));

        let mut index = |n: &Name| names.iter().position(|m| m == n).unwrap() as u32;
        let (block, text) = encode(&holder.functions, &mut index).unwrap();
        let n = holder.functions.len() as u32;
        assert!(decode(n, &block, &text, &names).is_some());
        assert!(decode(n + 1, &block, &text, &names).is_none());
        assert!(decode(n, &block[..block.len() - 1], &text, &names).is_none());
        assert!(decode(n, &block, &text[..text.len() - 1], &names).is_none());
        assert!(decode(n, &block, &text, &names[..1]).is_none());
        let mut bad = block;
        bad[28] |= 7;
        assert!(decode(n, &bad, &text, &names).is_none());
    }
}
