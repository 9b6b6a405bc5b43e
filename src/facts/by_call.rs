//! What only some calls have, kept beside a module's call records rather than in each of them:
//! a call record is paid for by every call site (327,153 on the standard library), and a field
//! that few calls fill costs its full size in all of them. The first string literal (44,814
//! calls there), the name the result is bound to (57,054) and the callables passed by reference
//! (142,914 calls, 187,871 callables) were 32 bytes of every record: an `Option<Name>` each and
//! a boxed slice. Here they are sorted by call index and found by binary search.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Name, Resolution, packed};

/// A value for some of a module's calls: the calls' indices, ascending, and a value each.
/// In the module cache, a column of names is one block of (call, name index) pairs
/// (`facts::packed`): read field by field, each pair was a variable-length integer and a name
/// read through the thread's table.
#[derive(Debug, Clone, PartialEq)]
pub struct ByCall<T> {
    calls: Vec<u32>,
    values: Vec<T>,
}

/// [`ByCall`]'s plain serde shape (JSON, a write without a name table), written ...
#[derive(Serialize)]
struct PlainRef<'a> {
    calls: &'a [u32],
    values: &'a [Name],
}

/// ... and read.
#[derive(Deserialize)]
struct PlainByCall {
    calls: Vec<u32>,
    values: Vec<Name>,
}

impl Serialize for ByCall<Name> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plain = PlainRef {
            calls: &self.calls,
            values: &self.values,
        };
        packed::serialize_with_names(&plain, s, |index| {
            let mut block = Vec::with_capacity(self.calls.len() * 8);
            for (call, value) in self.calls.iter().zip(&self.values) {
                block.extend_from_slice(&call.to_le_bytes());
                block.extend_from_slice(&index(value).to_le_bytes());
            }
            block
        })
    }
}

impl<'de> Deserialize<'de> for ByCall<Name> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByCall<Name>, D::Error> {
        let plain = packed::deserialize_with_names(d, |block, names| {
            if !block.len().is_multiple_of(8) {
                return None;
            }
            let mut out = PlainByCall {
                calls: Vec::with_capacity(block.len() / 8),
                values: Vec::with_capacity(block.len() / 8),
            };
            for r in block.chunks_exact(8) {
                out.calls.push(packed::u32_at(r, 0));
                out.values
                    .push(names.get(packed::u32_at(r, 4) as usize)?.clone());
            }
            Some(out)
        })?;
        Ok(ByCall {
            calls: plain.calls,
            values: plain.values,
        })
    }
}

impl<T> Default for ByCall<T> {
    fn default() -> Self {
        ByCall {
            calls: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<T> ByCall<T> {
    /// The value of call `index`, if it has one.
    pub fn get(&self, index: u32) -> Option<&T> {
        let i = self.calls.binary_search(&index).ok()?;
        self.values.get(i)
    }

    /// Builds the column from one optional value per call, in call order (exact-size).
    pub(crate) fn from_calls(values: impl Iterator<Item = Option<T>>) -> ByCall<T> {
        let mut out = ByCall::default();
        for (i, v) in values.enumerate() {
            if let Some(v) = v {
                out.calls.push(i as u32);
                out.values.push(v);
            }
        }
        out.calls.shrink_to_fit();
        out.values.shrink_to_fit();
        out
    }

    /// How many calls have a value.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// The callables each call passes by reference (`to_thread(fn)`, `Thread(target=fn)`, and any
/// name or attribute passed positionally), resolved like targets: for each call that passes
/// any, its index and where its callables end in one array.
/// In the module cache the callables are one block of (name index, resolution) records
/// (`facts::packed`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallableArgs {
    #[serde(with = "packed::u32s")]
    calls: Vec<u32>,
    #[serde(with = "packed::u32s")]
    ends: Vec<u32>,
    #[serde(with = "callables")]
    args: Args,
}

/// The callables of every call, their names and resolutions in two arrays: a
/// `(Name, Resolution)` pair is padded to 16 bytes, the two apart take 9 (the standard
/// library's 187,871 callables: 2.9 -> 1.6 MiB).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Args {
    names: Vec<Name>,
    resolutions: Vec<Resolution>,
}

impl Args {
    fn slice(&self, start: u32, end: u32) -> Callables<'_> {
        let range = start as usize..end as usize;
        match (self.names.get(range.clone()), self.resolutions.get(range)) {
            (Some(names), Some(resolutions)) => Callables { names, resolutions },
            _ => Callables::default(),
        }
    }
}

/// The callables one call passes: each as its name and its resolution (`iter`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Callables<'a> {
    names: &'a [Name],
    resolutions: &'a [Resolution],
}

impl<'a> Callables<'a> {
    pub fn iter(
        self,
    ) -> std::iter::Zip<std::slice::Iter<'a, Name>, std::slice::Iter<'a, Resolution>> {
        self.names.iter().zip(self.resolutions)
    }

    pub fn first(self) -> Option<(&'a Name, &'a Resolution)> {
        self.iter().next()
    }

    pub fn is_empty(self) -> bool {
        self.names.is_empty()
    }

    pub fn len(self) -> usize {
        self.names.len()
    }
}

impl<'a> IntoIterator for Callables<'a> {
    type Item = (&'a Name, &'a Resolution);
    type IntoIter = std::iter::Zip<std::slice::Iter<'a, Name>, std::slice::Iter<'a, Resolution>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The callables' block: per callable, its name's index and its resolution.
mod callables {
    use super::Args;
    use super::packed;
    use serde::{Deserializer, Serializer};

    const RECORD: usize = 5;

    pub fn serialize<S: Serializer>(args: &Args, s: S) -> Result<S::Ok, S::Error> {
        packed::serialize_with_names(args, s, |index| {
            let mut block = Vec::with_capacity(args.names.len() * RECORD);
            for (name, resolution) in args.names.iter().zip(&args.resolutions) {
                block.extend_from_slice(&index(name).to_le_bytes());
                block.push(packed::resolution_byte(*resolution));
            }
            block
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Args, D::Error> {
        packed::deserialize_with_names(d, |block, names| {
            if !block.len().is_multiple_of(RECORD) {
                return None;
            }
            let count = block.len() / RECORD;
            let mut args = Args {
                names: Vec::with_capacity(count),
                resolutions: Vec::with_capacity(count),
            };
            for r in block.chunks_exact(RECORD) {
                args.names
                    .push(names.get(packed::u32_at(r, 0) as usize)?.clone());
                args.resolutions.push(packed::resolution_of(r[4])?);
            }
            Some(args)
        })
    }
}

impl CallableArgs {
    /// The callables call `index` passes (none for most calls).
    pub fn get(&self, index: u32) -> Callables<'_> {
        let Ok(i) = self.calls.binary_search(&index) else {
            return Callables::default();
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.args.slice(start, self.ends[i])
    }

    /// The calls that pass callables, in call order, each with its callables: a walk over
    /// every call reads them without a search per call.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Callables<'_>)> {
        self.calls
            .iter()
            .zip(&self.ends)
            .scan(0, |start, (&call, &end)| {
                let args = self.args.slice(*start, end);
                *start = end;
                Some((call, args))
            })
    }

    /// Builds the array from each call's callables, in call order (exact-size).
    pub(crate) fn from_calls<'a>(
        per_call: impl Iterator<Item = &'a mut Vec<(Name, Resolution)>>,
    ) -> CallableArgs {
        let per_call: Vec<_> = per_call.collect();
        let count = per_call.iter().map(|args| args.len()).sum();
        let mut out = CallableArgs {
            args: Args {
                names: Vec::with_capacity(count),
                resolutions: Vec::with_capacity(count),
            },
            ..CallableArgs::default()
        };
        for (i, args) in per_call.into_iter().enumerate() {
            if args.is_empty() {
                continue;
            }
            for (name, resolution) in args.drain(..) {
                out.args.names.push(name);
                out.args.resolutions.push(resolution);
            }
            out.calls.push(i as u32);
            out.ends.push(out.args.names.len() as u32);
        }
        out.calls.shrink_to_fit();
        out.ends.shrink_to_fit();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_call_index() {
        let col = ByCall::from_calls(
            [None, Some(Name::new("a")), None, Some(Name::new("b"))].into_iter(),
        );
        assert_eq!(col.len(), 2);
        assert_eq!(col.get(0), None);
        assert_eq!(col.get(1).map(Name::as_str), Some("a"));
        assert_eq!(col.get(2), None);
        assert_eq!(col.get(3).map(Name::as_str), Some("b"));
        assert_eq!(col.get(9), None);
        assert!(ByCall::<Name>::default().get(0).is_none());
    }

    /// Both columns read back as written: packed under a name table, plain without one, and
    /// in JSON; a cut block is an error.
    #[test]
    fn columns_round_trip_packed_and_plain() {
        use crate::facts::name::{NameTable, read_with_table, write_with_table};
        let col = ByCall::from_calls(
            [
                None,
                Some(Name::new("a")),
                Some(Name::new("b")),
                None,
                Some(Name::new("a")),
            ]
            .into_iter(),
        );
        let f = |s: &str, r| (Name::new(s), r);
        let mut per_call = [
            vec![f("a", Resolution::Local), f("x.y", Resolution::Inferred)],
            vec![],
            vec![f("c", Resolution::Unresolved)],
        ];
        let args = CallableArgs::from_calls(per_call.iter_mut());
        let value = (col, args);
        let (bytes, table) = write_with_table(|| postcard::to_stdvec(&value).unwrap());
        let names = NameTable::names(&table.texts, &table.ends).unwrap();
        let back: (ByCall<Name>, CallableArgs) =
            read_with_table(names.clone(), || postcard::from_bytes(&bytes).unwrap());
        assert_eq!(back, value);
        let plain = postcard::to_stdvec(&value).unwrap();
        assert_eq!(
            postcard::from_bytes::<(ByCall<Name>, CallableArgs)>(&plain).unwrap(),
            value
        );
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(
            serde_json::from_str::<(ByCall<Name>, CallableArgs)>(&json).unwrap(),
            value
        );
        let cut: Result<(ByCall<Name>, CallableArgs), _> =
            read_with_table(names, || postcard::from_bytes(&bytes[..bytes.len() - 3]));
        assert!(cut.is_err());
    }

    #[test]
    fn callables_are_sliced_by_call() {
        let f = |s: &str| (Name::new(s), Resolution::Unresolved);
        let mut per_call = [vec![f("a"), f("b")], vec![], vec![f("c")], vec![]];
        let args = CallableArgs::from_calls(per_call.iter_mut());
        let texts = |i: u32| {
            args.get(i)
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(0), ["a", "b"]);
        assert!(texts(1).is_empty());
        assert_eq!(texts(2), ["c"]);
        assert!(texts(3).is_empty());
        assert!(texts(7).is_empty());
        let walked: Vec<(u32, usize)> = args.iter().map(|(c, a)| (c, a.len())).collect();
        assert_eq!(walked, [(0, 2), (2, 1)]);
    }
}
