//! What the caches' blocks of fixed-size records share (`facts/call_codec.rs`, the link cache's
//! edges in `project/graph/edge_codec.rs`): a block is written as one byte string and read back
//! borrowed, each record with fixed-offset little-endian loads.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Name, Resolution, name};

/// A block's bytes, written as one byte string (not a sequence of `u8`s, each a value of its
/// own); read back as `&[u8]`.
pub struct Bytes<'a>(pub &'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// The `u32` at `i` of a record.
pub fn u32_at(r: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]])
}

/// The `u16` at `i` of a record.
pub fn u16_at(r: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([r[i], r[i + 1]])
}

/// A column written as a block when a name table is being written (the module cache) and as
/// its plain serde value otherwise (JSON in tests, a write without a table): which one is
/// written first.
#[derive(Serialize)]
enum Written<'a, T: ?Sized> {
    Plain(&'a T),
    Packed(Bytes<'a>),
}

#[derive(Deserialize)]
enum Read<'a, T> {
    Plain(T),
    Packed(#[serde(borrow)] &'a [u8]),
}

/// Writes `plain` as the block `encode` makes of it, each name as its index in the table being
/// written, or as itself when there is no table or the format is human-readable.
pub fn serialize_with_names<S: Serializer, T: Serialize + ?Sized>(
    plain: &T,
    s: S,
    encode: impl FnOnce(&mut dyn FnMut(&Name) -> u32) -> Vec<u8>,
) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return plain.serialize(s);
    }
    match name::with_write_index(|index| index.map(encode)) {
        Some(block) => Written::<T>::Packed(Bytes(&block)).serialize(s),
        None => Written::Plain(plain).serialize(s),
    }
}

/// Reads what [`serialize_with_names`] wrote, a block through `decode` with the table being
/// read (`None` from it: a damaged block, an error).
pub fn deserialize_with_names<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    decode: impl FnOnce(&[u8], &[Name]) -> Option<T>,
) -> Result<T, D::Error> {
    if d.is_human_readable() {
        return T::deserialize(d);
    }
    match Read::<T>::deserialize(d)? {
        Read::Plain(v) => Ok(v),
        Read::Packed(block) => name::with_read_table(|names| decode(block, names?))
            .ok_or_else(|| D::Error::custom("damaged packed column")),
    }
}

/// A `Vec<u32>` as one block of little-endian `u32`s (plain in human-readable formats).
pub mod u32s {
    use super::{Bytes, u32_at};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return v.serialize(s);
        }
        let block: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        Bytes(&block).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        if d.is_human_readable() {
            return Vec::<u32>::deserialize(d);
        }
        let block = <&[u8]>::deserialize(d)?;
        if !block.len().is_multiple_of(4) {
            return Err(D::Error::custom("damaged u32 column"));
        }
        Ok(block.chunks_exact(4).map(|c| u32_at(c, 0)).collect())
    }
}

/// A `Resolution` as one byte of a record.
pub fn resolution_byte(r: Resolution) -> u8 {
    match r {
        Resolution::Import => 0,
        Resolution::Local => 1,
        Resolution::SelfMethod => 2,
        Resolution::Inferred => 3,
        Resolution::Unresolved => 4,
    }
}

/// The `Resolution` [`resolution_byte`] gave.
pub fn resolution_of(b: u8) -> Option<Resolution> {
    Some(match b {
        0 => Resolution::Import,
        1 => Resolution::Local,
        2 => Resolution::SelfMethod,
        3 => Resolution::Inferred,
        4 => Resolution::Unresolved,
        _ => return None,
    })
}
