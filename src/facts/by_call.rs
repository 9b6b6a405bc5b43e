//! What only some calls have, kept beside a module's call records rather than in each of them:
//! a call record is paid for by every call site (327,153 on the standard library), and a field
//! that few calls fill costs its full size in all of them. The first string literal (44,814
//! calls there), the name the result is bound to (57,054) and the callables passed by reference
//! (142,914 calls, 187,871 callables) were 32 bytes of every record: an `Option<Name>` each and
//! a boxed slice. Here they are sorted by call index and found by binary search.

use serde::{Deserialize, Serialize};

use super::{Name, Resolution};

/// A value for some of a module's calls: the calls' indices, ascending, and a value each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByCall<T> {
    calls: Vec<u32>,
    values: Vec<T>,
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallableArgs {
    calls: Vec<u32>,
    ends: Vec<u32>,
    args: Vec<(Name, Resolution)>,
}

impl CallableArgs {
    /// The callables call `index` passes (none for most calls).
    pub fn get(&self, index: u32) -> &[(Name, Resolution)] {
        let Ok(i) = self.calls.binary_search(&index) else {
            return &[];
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.args
            .get(start as usize..self.ends[i] as usize)
            .unwrap_or(&[])
    }

    /// The calls that pass callables, in call order, each with its callables: a walk over
    /// every call reads them without a search per call.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[(Name, Resolution)])> {
        self.calls
            .iter()
            .zip(&self.ends)
            .scan(0, |start, (&call, &end)| {
                let args = self.args.get(*start as usize..end as usize).unwrap_or(&[]);
                *start = end;
                Some((call, args))
            })
    }

    /// Builds the array from each call's callables, in call order (exact-size).
    pub(crate) fn from_calls<'a>(
        per_call: impl Iterator<Item = &'a mut Vec<(Name, Resolution)>>,
    ) -> CallableArgs {
        let mut out = CallableArgs::default();
        for (i, args) in per_call.enumerate() {
            if args.is_empty() {
                continue;
            }
            out.args.append(args);
            out.calls.push(i as u32);
            out.ends.push(out.args.len() as u32);
        }
        out.calls.shrink_to_fit();
        out.ends.shrink_to_fit();
        out.args.shrink_to_fit();
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
