//! What an AST hook tells its rule about a candidate, typed: the module pass records a `Mark`
//! on each candidate, the cache stores it (its format version follows this enum), and the
//! rule's project half matches on it. Nothing here decides a finding.

use serde::{Deserialize, Serialize};

use super::Name;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    /// A detail the rule names in its message: the callee, the variable, the logging call.
    Note(String),
    /// A loop that searches `iter` for a match on every iteration of an outer loop.
    Search { iter: String },
    /// The body of a `try:` whose `except ImportError` makes the import optional.
    OptionalImport,
    /// An assignment guarded by a test of its own target: kept for reuse, not rebuilt.
    LazyInit,
    /// A model load guarded by a "not loaded yet" test of `key`.
    Lazy { key: String },
    /// `key` is reset (set to `None`, deleted, cleared), so a guarded load runs again.
    Reset { key: String },
    /// A logging call names its file with the keyword `param`.
    LogFileKeyword { param: String },
    /// A memoising decorator (`lru_cache`, `cache`) without a bound, with the function's
    /// parameters.
    Memo {
        decorator: Name,
        params: Box<[String]>,
    },
    /// Names a nested function or lambda takes out of its scope (returned or stored).
    Escapes { names: Vec<String> },
    /// A call with only literal arguments, repeated in a loop (the arguments as written).
    PureCall { args: String },
    /// A load of an artefact with these arguments (the same signature loads the same thing).
    Artifact { args: String },
    /// What happens to a container.
    Container(ContainerOp),
}

/// The operations on long-lived containers that PA204 and PA207 put together. Their texts are
/// interned `Name`s (the same keys and operations recur): a `Grow` held three `String`s, which
/// made every candidate's `Mark` 72 bytes; now 32 (31,013 candidates on the standard library).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerOp {
    /// A class body (its span tells which class a module-level name belongs to).
    Class,
    /// `key` is created as a container of `kind` (`dict`, `list`, `set`, `deque`, ...).
    Init { key: Name, kind: Name },
    /// `key` is bound to something else.
    Assign { key: Name },
    /// `key` grows (`how`: `[]=`, `.append`, `+=`, ...), storing `value`.
    Grow { key: Name, how: Name, value: Name },
    /// Something is removed from `key` (`how`: `.pop`, `del`, `slice`, `trim`, ...).
    Evict { key: Name, how: Name },
    /// `len(key)` is compared: the container is bounded by a check.
    Bound { key: Name },
    /// `key` is handed to another name, which may evict from it.
    Alias { key: Name },
    /// A function binds these names locally (shadowing module containers).
    Locals { names: Vec<String> },
    /// A `global` name rebound in a function.
    Reset { key: Name },
}

impl ContainerOp {
    /// The container the operation is about, if it names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ContainerOp::Init { key, .. }
            | ContainerOp::Assign { key }
            | ContainerOp::Grow { key, .. }
            | ContainerOp::Evict { key, .. }
            | ContainerOp::Bound { key }
            | ContainerOp::Alias { key }
            | ContainerOp::Reset { key } => Some(key),
            ContainerOp::Class | ContainerOp::Locals { .. } => None,
        }
    }
}

impl Mark {
    /// The detail of a `Note`, or an empty string.
    pub fn note(&self) -> &str {
        match self {
            Mark::Note(s) => s,
            _ => "",
        }
    }

    pub fn container(&self) -> Option<&ContainerOp> {
        match self {
            Mark::Container(op) => Some(op),
            _ => None,
        }
    }
}
