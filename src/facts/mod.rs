//! Compact per-module facts: what the project stage and the rules need once the AST is dropped.
//!
//! A module is visited once (`collect`); the result holds its imports, definitions, every call
//! site with its resolved qualified name and local context, and the candidates that AST-level
//! rules raised. Nothing here knows about other modules: linking happens in `project`.

mod bindings;
mod branches;
pub mod by_call;
mod call_codec;
mod calls;
pub mod collect;
mod destinations;
mod function_codec;
pub mod hooks;
mod implicit;
pub mod kinds;
pub mod marks;
// The interner's arena: thin pointers to texts that are never freed (see the module).
#[allow(unsafe_code)]
pub mod name;
pub mod names;
pub mod once;
mod operators;
pub mod packed;
mod receive_helpers;
pub mod suppressions;
mod values;
mod waits;

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::knowledge::catalog::ApiId;
pub use by_call::{ByCall, CallableArgs, Callables};
pub use implicit::{Implicit, ImplicitKind};
pub use name::Name;
pub use once::OnceGuard;

/// Index of a function inside its module's `functions`; 0 is the module body itself.
pub type FuncId = u32;

/// Facts about one Python module.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModuleFacts {
    /// Path relative to the audited root, `/`-separated.
    pub path: String,
    /// Dotted module name derived from the path (`pkg/mod.py` -> `pkg.mod`).
    pub module: String,
    pub is_package: bool,
    pub lines: u32,
    pub syntax_error: Option<SyntaxErrorInfo>,
    /// How the file was decoded when it was not plain UTF-8.
    pub decode_note: Option<String>,
    pub imports: Vec<Import>,
    #[serde(with = "function_codec")]
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    #[serde(with = "call_codec")]
    pub calls: Vec<Call>,
    /// What only some calls have (`by_call.rs`; read through [`ModuleFacts::str_arg`],
    /// [`ModuleFacts::assigned_to`] and [`ModuleFacts::callable_args`]): each call's first
    /// string literal, truncated (model names, patterns, paths), ...
    pub str_args: ByCall<Name>,
    /// ... the name its result is bound to (`x = ...`, `self.x = ...`), as source text, ...
    pub assigned: ByCall<Name>,
    /// ... and the callables it passes by reference.
    pub callables: CallableArgs,
    /// Names bound at module level to an instance of a known type (`client = Client()`).
    pub globals: Vec<(String, String)>,
    /// Directories this module adds to `sys.path`, relative to the audited root.
    pub sys_path: Vec<String>,
    /// Whether the module has an `if __name__ == "__main__":` block.
    pub has_main: bool,
    /// Functions and methods used as values (`HANDLERS = {"a": on_a}`, `cb=self.on_msg`),
    /// resolved like call targets: they are live even when nothing calls them directly.
    pub refs: Vec<(FuncId, Name, Resolution)>,
    /// Calls Python makes without `f()` at the site (`for` over an object, attribute reads
    /// that may be properties, calls through dispatch tables), resolved like call targets.
    #[serde(default)]
    pub implicit: Vec<Implicit>,
    /// What a call's positional arguments (the first one also as `url=`) hold where they may
    /// name a destination (`facts/destinations.rs`), by call index and position, sorted: only
    /// arguments that are an address, a configuration read or another call's result, or a
    /// parameter passed on to a callable the call is given (`to_thread(f, url)`).
    #[serde(default)]
    pub arg_values: Vec<(u32, u8, Value)>,
    /// The positional arguments given by name before such an argument (`f` in
    /// `to_thread(f, url)`), by call index and position, sorted: which callable the arguments
    /// after it are passed on to.
    #[serde(default)]
    pub arg_names: Vec<(u32, u8, Name)>,
    /// What functions return where it may name a destination, by function, sorted; a function
    /// with one return the collector cannot read has none.
    #[serde(default)]
    pub return_values: Vec<(FuncId, Value)>,
    /// Findings raised by AST-level rules, before the project decides their context.
    pub candidates: Vec<Candidate>,
    /// `# perfaudit: ignore[...]` and `# noqa` comments, applied after the rules run.
    #[serde(default)]
    pub suppressions: Vec<suppressions::Suppression>,
    /// Lines that run once because a flag guards them (`if not self._started: ...;
    /// self._started = True`; `once.rs`), in walk order.
    #[serde(default)]
    pub once_guards: Vec<OnceGuard>,
    /// The functions that set a flag back to `False`, with the flag's last segment, sorted
    /// (constructors and module-level code left out): a guard on such a flag runs again after
    /// each reset, unless the function runs once.
    #[serde(default)]
    pub flag_resets: Vec<(FuncId, Name)>,
}

/// What a value holds as far as a destination goes (`facts/destinations.rs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// Its text: a literal, or an f-string with each interpolation filled with the default of
    /// the configuration read it is (`{cfg.get('host', 'localhost')}`), `{}` where unknown.
    pub text: Option<Name>,
    /// The configuration key it is read from: of the whole value (`options.get("webhook")`,
    /// a URL), or of the interpolation in its host (`f"http://{cfg['host']}:80"`, a host).
    pub key: Option<Name>,
    /// The call (index in the module's calls) whose result it is.
    pub from_call: Option<u32>,
    /// The enclosing function's parameter (index in its `params`) it is: what its callers
    /// pass there. Kept only for an argument passed on to a callable (`to_thread(f, url)`).
    pub param: Option<u8>,
}

impl ModuleFacts {
    /// The walk is over. Every module's facts stay in memory until the end of the run: give
    /// back what the vectors grew by and will not use.
    pub(crate) fn finish(&mut self) {
        once::finish(&mut self.once_guards, &mut self.flag_resets);
        self.calls.shrink_to_fit();
        self.functions.shrink_to_fit();
        self.candidates.shrink_to_fit();
        self.imports.shrink_to_fit();
        self.classes.shrink_to_fit();
        self.refs.shrink_to_fit();
    }

    /// The index of `call` in this module's calls, `None` when it is not one of them.
    pub fn call_index(&self, call: &Call) -> Option<u32> {
        let offset = (call as *const Call as usize).wrapping_sub(self.calls.as_ptr() as usize);
        let i = offset / std::mem::size_of::<Call>();
        (offset.is_multiple_of(std::mem::size_of::<Call>())
            && self.calls.get(i).is_some_and(|c| std::ptr::eq(c, call)))
        .then_some(i as u32)
    }

    /// The index of `call`, which must be one of this module's calls: asked with another
    /// module's call, the accessors below would answer "none" (a test build says so).
    fn own_index(&self, call: &Call) -> Option<u32> {
        let i = self.call_index(call);
        debug_assert!(
            i.is_some(),
            "{}: asked about another module's call",
            self.path
        );
        i
    }

    /// The first positional string literal `call` (one of this module's calls) passes,
    /// truncated (model names, patterns, paths).
    pub fn str_arg(&self, call: &Call) -> Option<&Name> {
        self.str_args.get(self.own_index(call)?)
    }

    /// The name `call`'s result is bound to (`x = ...`, `self.x = ...`), as source text.
    pub fn assigned_to(&self, call: &Call) -> Option<&Name> {
        self.assigned.get(self.own_index(call)?)
    }

    /// The callables `call` passes by reference (`to_thread(fn)`, `Thread(target=fn)`, and
    /// any name or attribute passed positionally), resolved like targets.
    pub fn callable_args(&self, call: &Call) -> Callables<'_> {
        self.own_index(call)
            .map_or(Callables::default(), |i| self.callables.get(i))
    }

    /// What call `index`'s argument at `position` holds, where it may name a destination.
    pub fn arg_value(&self, index: u32, position: u8) -> Option<&Value> {
        let i = self
            .arg_values
            .binary_search_by_key(&(index, position), |(c, p, _)| (*c, *p))
            .ok()?;
        Some(&self.arg_values[i].2)
    }

    /// The positional arguments of call `index` given by name, with their positions.
    pub fn arg_names(&self, index: u32) -> impl Iterator<Item = (u8, &Name)> {
        let start = self.arg_names.partition_point(|(c, ..)| *c < index);
        self.arg_names[start..]
            .iter()
            .take_while(move |(c, ..)| *c == index)
            .map(|(_, p, n)| (*p, n))
    }

    /// The calls closures make of a parameter of the function they are defined in, with that
    /// parameter's position: `f(*a)` in `g` of `def run(f, *a): def g(): return f(*a)`. A
    /// closure's own parameter of the same name shadows the outer one. A module without nested
    /// functions has none, and its calls are not walked.
    pub fn closure_calls_of_params(&self) -> impl Iterator<Item = (&Call, usize)> {
        let nested = self.functions.iter().any(|f| f.kind == FnKind::Nested);
        let calls = if nested { &self.calls[..] } else { &[] };
        calls.iter().filter_map(move |call| {
            let g = &self.functions[call.func as usize];
            let (FnKind::Nested, Some(parent)) = (g.kind, g.parent) else {
                return None;
            };
            if call.resolution != Resolution::Unresolved || g.params.contains(&call.target) {
                return None;
            }
            let outer = &self.functions[parent as usize];
            let position = outer.params.iter().position(|p| *p == call.target)?;
            Some((call, position))
        })
    }

    /// What `func` returns, where it may name a destination (one value per return).
    pub fn return_values(&self, func: FuncId) -> impl Iterator<Item = &Value> {
        let start = self.return_values.partition_point(|(f, _)| *f < func);
        self.return_values[start..]
            .iter()
            .take_while(move |(f, _)| *f == func)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyntaxErrorInfo {
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub count: u32,
}

/// `import a.b as c` binds `c` -> `a.b`; `from a import b` binds `b` -> `a.b`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub local: Name,
    pub target: Name,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FnKind {
    Module,
    Function,
    Method,
    Nested,
    Lambda,
    /// The body of `if __name__ == "__main__":`.
    Main,
}

impl FnKind {
    /// A number per kind, as the caches write it (`function_codec.rs`) and the link interface
    /// hashes it (`project/graph/links.rs`).
    pub fn code(self) -> u8 {
        match self {
            FnKind::Module => 0,
            FnKind::Function => 1,
            FnKind::Method => 2,
            FnKind::Nested => 3,
            FnKind::Lambda => 4,
            FnKind::Main => 5,
        }
    }

    /// The kind [`FnKind::code`] gave.
    pub fn from_code(code: u8) -> Option<FnKind> {
        Some(match code {
            0 => FnKind::Module,
            1 => FnKind::Function,
            2 => FnKind::Method,
            3 => FnKind::Nested,
            4 => FnKind::Lambda,
            5 => FnKind::Main,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    /// Interned: `__init__`, `run`, `get`, ... repeat across a project.
    pub name: Name,
    /// `Class.method`, `outer.inner`, `<module>`, `<lambda>` (with its line).
    pub qualname: String,
    pub kind: FnKind,
    pub class: Option<u32>,
    pub parent: Option<FuncId>,
    pub is_async: bool,
    /// Decorators as resolved dotted names (`fastapi.FastAPI.get` style when resolvable, else text).
    /// Exact-size slices, here and in `params`: a `Vec`'s capacity is 8 bytes more of each of
    /// the 63,294 functions of the standard library, which nothing grows after the walk.
    pub decorators: Box<[String]>,
    /// Parameter names in order (`self` included), for callables passed through them; interned
    /// (`self` alone is a third of them).
    pub params: Box<[Name]>,
    pub line: u32,
    pub end_line: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Class {
    pub name: String,
    pub qualname: String,
    /// Base classes as resolved dotted names.
    pub bases: Vec<String>,
    pub line: u32,
    /// `self.attr = Type(...)` anywhere in the class: attribute -> qualified type.
    pub attr_types: Vec<(String, String)>,
}

/// How a call's target name was resolved inside its module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// Through an import or a builtin: `target` is a fully qualified external or project name.
    Import,
    /// A function or class defined in this module: `target` is `module.name[.attr]`.
    Local,
    /// `self.m()` / `cls.m()`: `target` is `module.Class.m`; the project resolves inheritance.
    SelfMethod,
    /// Through an inferred variable or attribute type: `target` is `Type.method`.
    Inferred,
    /// Not resolved: `target` is the dotted source text.
    Unresolved,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    pub func: FuncId,
    pub target: Name,
    pub resolution: Resolution,
    pub line: u32,
    pub column: u32,
    /// Where the call ends (read through `end_line()` and `end_column()`): lines after `line`
    /// and the column, or [`FAR`] and the end in `extra` when either does not fit in 16 bits
    /// (none of the standard library's 327,153 calls; 22,225 span lines).
    end_lines: u16,
    end_col: u16,
    /// The catalog entry the target matches, if any.
    pub api: Option<ApiId>,
    /// Enclosing `for` loops and comprehensions within one execution of the function (a
    /// `while` loop, or a `for` loop over received messages, is not a bounded repetition).
    pub loop_depth: u8,
    /// The yes/no facts of the call, one bit each (read through the accessors below).
    flags: CallFlags,
    /// What few calls have (read through the accessors below), boxed apart so that the
    /// record every call site pays for stays small; `None` when all of it is empty.
    extra: Option<Box<CallExtra>>,
    /// Normalised source text of the call's callee, for messages and fingerprints.
    pub text: Name,
}

/// No call (an index into a module's calls that is none).
const NO_CALL: u32 = u32::MAX;

/// `Call::end_lines` when the end is kept in `CallExtra::end`.
const FAR: u16 = u16::MAX;

/// A call's end as (lines after its start, column) when both fit in a record's 16 bits.
fn near_end(line: u32, end_line: u32, end_column: u32) -> Option<(u16, u16)> {
    let lines = u16::try_from(end_line.checked_sub(line)?)
        .ok()
        .filter(|&l| l != FAR)?;
    Some((lines, u16::try_from(end_column).ok()?))
}

/// The yes/no facts of a call as bits of one `u16` (twelve `bool`s took 12 bytes of every call
/// record, and their alignment padding more).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFlags(u16);

impl CallFlags {
    /// Inside a `while` loop that receives work (`recv*`, `queue.get`, `accept`, ...).
    pub const IN_RECV_LOOP: CallFlags = CallFlags(1);
    /// That receive loop also answers the sender (`send*`, `reply`, `put`, ...): it serves
    /// requests, rather than consuming events.
    pub const RECV_REPLIES: CallFlags = CallFlags(1 << 1);
    /// Inside a `while` loop of its function: repeated for as long as the loop runs (a polling
    /// or serving loop), not a bounded number of times per execution.
    pub const IN_WHILE: CallFlags = CallFlags(1 << 2);
    /// Inside an `except` handler of its function, or an `if` branch taken on an HTTP error
    /// status (`if r.status_code == 429:`): runs only after a failure.
    pub const IN_EXCEPT: CallFlags = CallFlags(1 << 3);
    /// Inside an `if` branch that only calls things and then `continue`s: it runs when the
    /// condition holds (back-pressure, an idle wait), not on every iteration.
    pub const IN_SKIP_BRANCH: CallFlags = CallFlags(1 << 4);
    /// Inside an `if p is None:` branch for a parameter `p` whose default is `None`: it runs
    /// only for callers that leave `p` out (a CLI prompt behind an optional argument).
    pub const IN_FALLBACK: CallFlags = CallFlags(1 << 5);
    /// The call is awaited.
    pub const AWAITED: CallFlags = CallFlags(1 << 6);
    /// The call is a whole expression statement: whatever it returns is dropped.
    pub const BARE: CallFlags = CallFlags(1 << 7);
    /// The call is the context expression of a `with` statement (it will be closed).
    pub const IN_WITH: CallFlags = CallFlags(1 << 8);
    /// Whether `timeout=` was passed.
    pub const HAS_TIMEOUT: CallFlags = CallFlags(1 << 9);
    /// An argument makes the call return at once (`os.WNOHANG`, `zmq.NOBLOCK`, `block=False`).
    pub const NONBLOCKING: CallFlags = CallFlags(1 << 10);
    /// Whether the first argument is not a literal (a dynamic pattern, path, ...).
    pub const DYNAMIC_FIRST_ARG: CallFlags = CallFlags(1 << 11);

    pub fn contains(self, flag: CallFlags) -> bool {
        self.0 & flag.0 == flag.0
    }

    /// Sets `flag` when `on` (never clears it: facts only accumulate).
    pub fn insert_if(&mut self, flag: CallFlags, on: bool) {
        if on {
            self.0 |= flag.0;
        }
    }
}

/// The facts of a call that few calls have: a sleep's seconds, a literal timeout, callables
/// passed by reference, a retry loop, ... (`Call::extra_mut` fills them in).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallExtra {
    /// The index (in its function's `params`) of the parameter passed as the first argument
    /// or `url=`: what the function's callers pass there is what this call receives.
    pub url_param: Option<u8>,
    /// What the receiver of a method call is known to hold (`Path("~").rglob(...)` -> `~`).
    pub receiver_hint: Option<Name>,
    /// Seconds given literally to a sleep-like call (catalog `arg_seconds`).
    pub seconds: Option<f64>,
    /// The literal `timeout=` in seconds (a `(connect, read)` pair summed): how long the call
    /// can wait at worst.
    pub timeout_s: Option<f64>,
    /// The name a `with` statement binds the call's result to (`with connect() as conn`).
    pub with_as: Option<Name>,
    /// A blocking receive's socket timeout, set by the code before it (`RCVTIMEO`), in
    /// seconds; negative when it is set to wait for ever.
    pub recv_timeout_s: Option<f64>,
    /// The retry loop around the call: a `for` loop over a literal `range(n)` that exits on
    /// success and sleeps between attempts.
    pub retry: Option<Retry>,
    /// How many times the `for` loops around it repeat it, when every one of them iterates a
    /// literal `range(...)`; `None` when any bound is unknown (or there is no loop).
    pub loop_bound: Option<u32>,
    /// The call whose result is this method call's receiver (`conn.execute(...)` for
    /// `conn.execute(...).fetchall()`), as an index into the module's calls plus one (4,534 of
    /// the standard library's 327,153 calls; read through `Call::receiver_call`). Here and in
    /// `end`, no `Option` padding: the box stays within mimalloc's 112-byte blocks.
    pub receiver_call: Option<NonZeroU32>,
    /// The end (line, column) of a call whose record cannot hold it (`Call::end_lines`); line
    /// 0 (lines count from 1) when the record holds it.
    pub end: (u32, u32),
}

impl CallExtra {
    fn is_empty(&self) -> bool {
        self.url_param.is_none()
            && self.receiver_hint.is_none()
            && self.seconds.is_none()
            && self.timeout_s.is_none()
            && self.with_as.is_none()
            && self.recv_timeout_s.is_none()
            && self.retry.is_none()
            && self.loop_bound.is_none()
            && self.receiver_call.is_none()
            && self.end.0 == 0
    }

    /// Boxed, or `None` when there is nothing to keep.
    pub fn boxed(self) -> Option<Box<CallExtra>> {
        (!self.is_empty()).then(|| Box::new(self))
    }
}

/// The accessors of a record's yes/no facts (`CallFlags`).
macro_rules! flag_accessors {
    ($ty:ty: $($name:ident => $flag:ident),* $(,)?) => {
        impl $ty {
            $(
                #[doc = concat!("See [`CallFlags::", stringify!($flag), "`].")]
                pub fn $name(&self) -> bool {
                    self.flags.contains(CallFlags::$flag)
                }
            )*
        }
    };
}

/// The facts a candidate shares with a call: where it sits (a receive loop, a `while`, an
/// `except` handler, a skip or fallback branch).
macro_rules! placement_accessors {
    ($($ty:ty),+) => {
        $(
            flag_accessors!($ty:
                in_recv_loop => IN_RECV_LOOP,
                recv_replies => RECV_REPLIES,
                in_while => IN_WHILE,
                in_except => IN_EXCEPT,
                in_skip_branch => IN_SKIP_BRANCH,
                in_fallback => IN_FALLBACK,
            );
        )+
    };
}

placement_accessors!(Call, Candidate);

flag_accessors!(Call:
    awaited => AWAITED,
    bare => BARE,
    in_with => IN_WITH,
    has_timeout => HAS_TIMEOUT,
    nonblocking => NONBLOCKING,
    dynamic_first_arg => DYNAMIC_FIRST_ARG,
);

impl Call {
    /// Sets `flag` when `on`, while the module is collected.
    pub(crate) fn flag_if(&mut self, flag: CallFlags, on: bool) {
        self.flags.insert_if(flag, on);
    }

    /// The call whose result is this method call's receiver, as an index into the module's
    /// calls.
    pub fn receiver_call(&self) -> Option<u32> {
        self.extra
            .as_ref()
            .and_then(|e| e.receiver_call)
            .map(|i| i.get() - 1)
    }

    /// The line the call ends on.
    pub fn end_line(&self) -> u32 {
        match (self.end_lines, &self.extra) {
            (FAR, Some(e)) => e.end.0,
            (lines, _) => self.line + u32::from(lines),
        }
    }

    /// The column the call ends at.
    pub fn end_column(&self) -> u32 {
        match (self.end_lines, &self.extra) {
            (FAR, Some(e)) => e.end.1,
            _ => u32::from(self.end_col),
        }
    }

    /// See [`CallExtra::loop_bound`]: few calls sit in loops over literal ranges only.
    pub fn loop_bound(&self) -> Option<u32> {
        self.extra.as_ref().and_then(|e| e.loop_bound)
    }

    pub fn url_param(&self) -> Option<u8> {
        self.extra.as_ref().and_then(|e| e.url_param)
    }

    pub fn receiver_hint(&self) -> Option<&Name> {
        self.extra.as_ref().and_then(|e| e.receiver_hint.as_ref())
    }

    pub fn seconds(&self) -> Option<f64> {
        self.extra.as_ref().and_then(|e| e.seconds)
    }

    pub fn timeout_s(&self) -> Option<f64> {
        self.extra.as_ref().and_then(|e| e.timeout_s)
    }

    pub fn with_as(&self) -> Option<&Name> {
        self.extra.as_ref().and_then(|e| e.with_as.as_ref())
    }

    pub fn recv_timeout_s(&self) -> Option<f64> {
        self.extra.as_ref().and_then(|e| e.recv_timeout_s)
    }

    pub fn retry(&self) -> Option<Retry> {
        self.extra.as_ref().and_then(|e| e.retry)
    }

    /// The rare facts, to fill in while the module is collected (boxed on first use).
    pub(crate) fn extra_mut(&mut self) -> &mut CallExtra {
        self.extra.get_or_insert_with(Default::default)
    }
}

/// A retry loop: how many attempts, and how long the pauses of one attempt sleep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    pub attempts: u32,
    pub backoff_s: f64,
}

/// How a lambda passed as an argument appears among a call's `callable_args`: `<lambda>#ID`,
/// the id of its function in the same module.
pub fn lambda_ref(id: FuncId) -> String {
    format!("<lambda>#{id}")
}

/// The function id of a `callable_args` entry made by [`lambda_ref`].
pub fn lambda_id(text: &str) -> Option<FuncId> {
    text.strip_prefix("<lambda>#")?.parse().ok()
}

/// A finding raised by an AST-level rule, in its local context only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    /// The hook's code (interned: a handful of codes over every candidate).
    pub code: Name,
    pub func: FuncId,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub loop_depth: u8,
    /// The local context it was raised in, as a call's: the loop, branch and handler bits of
    /// [`CallFlags`] (read through the accessors below).
    flags: CallFlags,
    pub mark: marks::Mark,
    pub text: String,
    pub api: Option<ApiId>,
}

impl Candidate {
    /// Sets `flag` when `on`, while the module is collected.
    pub(crate) fn flag_if(&mut self, flag: CallFlags, on: bool) {
        self.flags.insert_if(flag, on);
    }

    /// A candidate raised outside any loop, branch or handler (the walk marks those after).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        code: &str,
        func: FuncId,
        (line, column): (u32, u32),
        (end_line, end_column): (u32, u32),
        loop_depth: u8,
        mark: marks::Mark,
        text: String,
        api: Option<ApiId>,
    ) -> Candidate {
        Candidate {
            code: Name::from(code),
            func,
            line,
            column,
            end_line,
            end_column,
            loop_depth,
            flags: CallFlags::default(),
            mark,
            text,
            api,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every call site of the project keeps one record for the whole run: what few calls have
    /// stays in `CallExtra`, behind one pointer; names are one pointer each, yes/no facts one
    /// bit each.
    /// Each yes/no fact has a bit of its own: setting one never reads as another.
    #[test]
    fn call_flags_are_distinct_bits() {
        let all = [
            CallFlags::IN_RECV_LOOP,
            CallFlags::RECV_REPLIES,
            CallFlags::IN_WHILE,
            CallFlags::IN_EXCEPT,
            CallFlags::IN_SKIP_BRANCH,
            CallFlags::IN_FALLBACK,
            CallFlags::AWAITED,
            CallFlags::BARE,
            CallFlags::IN_WITH,
            CallFlags::HAS_TIMEOUT,
            CallFlags::NONBLOCKING,
            CallFlags::DYNAMIC_FIRST_ARG,
        ];
        for (i, &set) in all.iter().enumerate() {
            let mut flags = CallFlags::default();
            flags.insert_if(set, false);
            assert_eq!(flags, CallFlags::default());
            flags.insert_if(set, true);
            for (j, &other) in all.iter().enumerate() {
                assert_eq!(flags.contains(other), i == j, "flag {i} reads as flag {j}");
            }
        }
    }

    #[test]
    fn call_record_stays_compact() {
        let size = std::mem::size_of::<Call>();
        assert!(size <= 48, "Call is {size} bytes");
    }
}
