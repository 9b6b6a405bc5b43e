//! How the link cache writes a module's edges: one block of fixed-size records
//! (`facts::packed`), not one serde value per field.
//!
//! Why hand-written (measured, `bench/PROFILE.md`, fifteenth step): a run with one file changed
//! reads every kept module's edges back (the standard library's 177,514), and read field by field
//! through serde each edge was eight variable-length integers and three enum tags, read byte by
//! byte: 96 M instructions, a tenth of the run. As a block an edge is fixed-offset loads.
//!
//! A record is 33 bytes little-endian: the calling node, the callee, the line, the label, the
//! dispatch class and the receiver's class (module and class each; `u32::MAX` for none, as in
//! memory), and one byte with the kind (bits 0–1), the confidence (bits 2–3) and the
//! receiver's kind (bits 4–5).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use super::{Edge, EdgeKind, ReceiverKind};
use crate::facts::packed::{Bytes, u32_at};
use crate::finding::Confidence;
use crate::project::resolve::ClassRef;

/// Bytes per record.
const RECORD: usize = 33;

fn kind_bits(k: EdgeKind) -> u8 {
    match k {
        EdgeKind::Call => 0,
        EdgeKind::Offload => 1,
        EdgeKind::Spawn => 2,
        EdgeKind::Import => 3,
    }
}

fn kind_of(b: u8) -> EdgeKind {
    match b & 3 {
        0 => EdgeKind::Call,
        1 => EdgeKind::Offload,
        2 => EdgeKind::Spawn,
        _ => EdgeKind::Import,
    }
}

fn confidence_bits(c: Confidence) -> u8 {
    match c {
        Confidence::Possible => 0,
        Confidence::Probable => 1,
        Confidence::Definite => 2,
    }
}

fn confidence_of(b: u8) -> Option<Confidence> {
    Some(match b & 3 {
        0 => Confidence::Possible,
        1 => Confidence::Probable,
        2 => Confidence::Definite,
        _ => return None,
    })
}

fn receiver_bits(r: ReceiverKind) -> u8 {
    match r {
        ReceiverKind::Fresh => 0,
        ReceiverKind::Same => 1,
        ReceiverKind::Built => 2,
        ReceiverKind::Typed => 3,
    }
}

fn receiver_of(b: u8) -> ReceiverKind {
    match b & 3 {
        0 => ReceiverKind::Fresh,
        1 => ReceiverKind::Same,
        2 => ReceiverKind::Built,
        _ => ReceiverKind::Typed,
    }
}

fn encode(edges: &[(u32, Edge)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(edges.len() * RECORD);
    for (from, e) in edges {
        for v in [
            *from,
            e.to,
            e.line,
            e.label,
            e.dispatch.module,
            e.dispatch.class,
            e.receiver_class.module,
            e.receiver_class.class,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.push(
            kind_bits(e.kind)
                | confidence_bits(e.confidence) << 2
                | receiver_bits(e.receiver_kind) << 4,
        );
    }
    out
}

/// The edges of a block; `None` when it is not whole records or a confidence is unknown.
fn decode(block: &[u8]) -> Option<Vec<(u32, Edge)>> {
    if !block.len().is_multiple_of(RECORD) {
        return None;
    }
    let mut edges = Vec::with_capacity(block.len() / RECORD);
    for r in block.chunks_exact(RECORD) {
        let r: &[u8; RECORD] = r.try_into().ok()?;
        let bits = r[32];
        let class = |i: usize| ClassRef {
            module: u32_at(r, i),
            class: u32_at(r, i + 4),
        };
        edges.push((
            u32_at(r, 0),
            Edge {
                to: u32_at(r, 4),
                line: u32_at(r, 8),
                label: u32_at(r, 12),
                dispatch: class(16),
                receiver_class: class(24),
                kind: kind_of(bits),
                confidence: confidence_of(bits >> 2)?,
                receiver_kind: receiver_of(bits >> 4),
            },
        ));
    }
    Some(edges)
}

pub fn serialize<S: Serializer>(edges: &[(u32, Edge)], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_newtype_struct("Edges", &Bytes(&encode(edges)))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, Edge)>, D::Error> {
    #[derive(Deserialize)]
    struct Edges<'a>(#[serde(borrow)] &'a [u8]);
    let Edges(block) = Edges::deserialize(d)?;
    decode(block).ok_or_else(|| D::Error::custom("damaged edge records"))
}

#[cfg(test)]
mod tests {
    use super::super::{NO_CLASS, NO_LABEL, Receiver};
    use super::*;

    #[derive(serde::Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        edges: Vec<(u32, Edge)>,
    }

    /// Every field of every kind, confidence and receiver reads back as it was, "none"s and
    /// zeros included; a cut block or an unknown confidence is an error.
    #[test]
    fn edges_round_trip_and_damage_is_an_error() {
        let class = ClassRef {
            module: 0,
            class: 3,
        };
        let mut edges = Vec::new();
        for (i, kind) in [
            EdgeKind::Call,
            EdgeKind::Offload,
            EdgeKind::Spawn,
            EdgeKind::Import,
        ]
        .into_iter()
        .enumerate()
        {
            for confidence in [
                Confidence::Possible,
                Confidence::Probable,
                Confidence::Definite,
            ] {
                for receiver in [
                    Receiver::Fresh,
                    Receiver::Same,
                    Receiver::Built(class),
                    Receiver::Typed(NO_CLASS),
                ] {
                    let label = if i % 2 == 0 { NO_LABEL } else { 0 };
                    let dispatch = (i == 1).then_some(class);
                    let e = Edge::new(
                        7,
                        12 + i as u32,
                        kind,
                        confidence,
                        dispatch,
                        receiver,
                        label,
                    );
                    edges.push((i as u32, e));
                }
            }
        }
        let holder = Holder { edges };
        let bytes = postcard::to_stdvec(&holder).unwrap();
        let back: Holder = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(format!("{:?}", back.edges), format!("{:?}", holder.edges));
        let block = encode(&holder.edges);
        assert!(decode(&block[..RECORD + 1]).is_none());
        let mut bad = block;
        bad[32] |= 3 << 2;
        assert!(decode(&bad).is_none());
    }
}
