//! The API catalog: which qualified Python names block, load models, open connections, and what
//! one call costs. The knowledge lives in `data/apis.toml`; this module only loads, validates and
//! looks it up. Rules ask the catalog, they never match API names themselves.

use rustc_hash::FxHashMap as HashMap;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::wildcard::{Patterns, Star};

/// What a call does that makes it costly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    Sleep,
    Network,
    Disk,
    Subprocess,
    FsWalk,
    Db,
    Redis,
    Browser,
    Input,
    ModelLoad,
    Connection,
    Socket,
    Executor,
    Cpu,
    Regex,
    Serialization,
    ConfigParse,
    Import,
    Deepcopy,
    /// Waits for another thread's work to finish (`Thread.join`, `Future.result`,
    /// `Event.wait`): the caller does nothing while it waits, for as long as the other work takes.
    Wait,
    /// No I/O at all: a method of an I/O client that only computes locally, listed so that a
    /// wildcard entry of its client (`botocore.client.BaseClient.*`) does not cover it. No rule
    /// reports it.
    Local,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Sleep => "sleep",
            Effect::Network => "network",
            Effect::Disk => "disk",
            Effect::Subprocess => "subprocess",
            Effect::FsWalk => "fs-walk",
            Effect::Db => "db",
            Effect::Redis => "redis",
            Effect::Browser => "browser",
            Effect::Input => "input",
            Effect::ModelLoad => "model-load",
            Effect::Connection => "connection",
            Effect::Socket => "socket",
            Effect::Executor => "executor",
            Effect::Cpu => "cpu",
            Effect::Regex => "regex",
            Effect::Serialization => "serialization",
            Effect::ConfigParse => "config-parse",
            Effect::Import => "import",
            Effect::Deepcopy => "deepcopy",
            Effect::Wait => "wait",
            Effect::Local => "local",
        }
    }

    /// Effects that block the calling thread while waiting on something outside the CPU.
    pub fn is_blocking_io(self) -> bool {
        matches!(
            self,
            Effect::Sleep
                | Effect::Network
                | Effect::Disk
                | Effect::Subprocess
                | Effect::FsWalk
                | Effect::Db
                | Effect::Redis
                | Effect::Browser
                | Effect::Input
        )
    }
}

/// One catalog entry, exactly as written in `data/apis.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiEntry {
    pub name: String,
    pub effect: Effect,
    pub low_ms: f64,
    pub high_ms: f64,
    #[serde(default)]
    pub arg_seconds: Option<usize>,
    #[serde(default)]
    pub memory_mb: Option<f64>,
    /// Literal-argument substring -> resident MB, checked in the order written.
    #[serde(default)]
    pub sizes: Option<toml::Table>,
    #[serde(default)]
    pub returns: Option<String>,
    /// First literal argument -> the type returned for it, before `returns`
    /// (`boto3.client("dynamodb")` returns a DynamoDB client).
    #[serde(default)]
    pub returns_for: Option<toml::Table>,
    /// The call returns the module its first string literal names
    /// (`importlib.import_module("torch")` returns `torch`; `__import__("a.b")` returns `a`),
    /// so that what is called on the result resolves like an `import` of it.
    #[serde(default)]
    pub returns_module: Option<ReturnsModule>,
    #[serde(default)]
    pub timeout_kw: bool,
    /// The first positional argument (or `url=`) is the URL the call sends a request to: its
    /// host says whether the request stays on this machine or network, or goes to a public
    /// host (`data/endpoints.toml`).
    #[serde(default)]
    pub url_arg: bool,
    /// The call's first argument is the address of the peer that later receives on the same
    /// object wait for (`zmq.Socket.connect`): a receive on a socket connected to a local
    /// peer waits at most the local figure of `data/endpoints.toml` (the peer's own work is
    /// reported in the peer's service).
    #[serde(default)]
    pub peer_arg: bool,
    /// The call returns a lazy iterator: the work happens as it is iterated, wherever that is
    /// (`Path.rglob`, `os.walk`, `os.scandir`).
    #[serde(default)]
    pub lazy: bool,
    /// The method that leaving a `with` block calls on what the call returns, when it does
    /// I/O (a `sqlite3` connection commits: `sqlite3.Connection.commit`).
    #[serde(default)]
    pub exit: Option<String>,
    /// A blocking receive that waits at most the socket's `RCVTIMEO` (ZMQ), when the code sets
    /// one; for ever otherwise.
    #[serde(default)]
    pub rcvtimeo: bool,
    #[serde(default)]
    pub async_alternative: Option<String>,
    /// The method that releases what the call returns (`close`, `quit`, `shutdown`, `term`): set
    /// on calls that open a file, socket, browser or pool that stays open until released.
    #[serde(default)]
    pub release: Option<String>,
    /// Set on calls that make logging append to a file that is never rotated: the parameter that
    /// names the file (`filename`). The call logs to a file when that keyword or a positional
    /// argument is given.
    #[serde(default)]
    pub log_file: Option<String>,
    /// Keywords that hand the object what this entry costs for (`transport=`: an `httpx`
    /// client then uses that transport's pool and SSL context; `app=`: it calls the app
    /// in-process). A call that passes one is not this entry, unless the keyword's value is
    /// built in place by a call that is not in-process (`transport=httpx.HTTPTransport()`
    /// builds a pool of its own); a value built by an entry whose effect is `local`
    /// (`httpx.ASGITransport(app=app)`) or not built there (`transport=self.transport`) is.
    #[serde(default)]
    pub unless_keyword: Vec<String>,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
    /// The library function that does the work, when the API's own name does not lead to it
    /// (`git.Repo.remotes.*.pull` is `git.remote.Remote.pull`): where a library summary is
    /// looked for when the library is installed.
    #[serde(default)]
    pub implemented_by: Option<String>,
    /// Set only on the entries a run adds for calls into installed libraries (`deps`): the
    /// library frames from the called function to the blocking call inside it.
    #[serde(skip)]
    pub through: Vec<LibraryFrame>,
}

/// One frame inside an installed library: the module's path in site-packages, the line of the
/// call made there, and the function making it.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryFrame {
    pub path: String,
    pub line: u32,
    pub function: String,
}

/// Which module a call that imports by name returns (`returns_module`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnsModule {
    /// The module named (`importlib.import_module("a.b")` is `a.b`).
    Named,
    /// Its top-level package (`__import__("a.b")` is `a`).
    TopLevel,
}

/// The module a call importing `literal` returns: `None` unless the literal is an absolute
/// dotted name (a relative `".sub"` depends on the `package=` argument).
fn module_named(kind: ReturnsModule, literal: &str) -> Option<&str> {
    let valid = literal.split('.').all(super::is_identifier);
    if !valid {
        return None;
    }
    match kind {
        ReturnsModule::Named => Some(literal),
        ReturnsModule::TopLevel => literal.split('.').next(),
    }
}

impl ApiEntry {
    /// An entry with its name, effect, `(low_ms, high_ms)` range and source, and every optional
    /// field unset (configuration builds its entries from this).
    pub fn new(
        name: String,
        effect: Effect,
        (low_ms, high_ms): (f64, f64),
        source: String,
    ) -> Self {
        ApiEntry {
            name,
            effect,
            low_ms,
            high_ms,
            arg_seconds: None,
            memory_mb: None,
            sizes: None,
            returns: None,
            returns_for: None,
            returns_module: None,
            timeout_kw: false,
            url_arg: false,
            peer_arg: false,
            lazy: false,
            exit: None,
            rcvtimeo: false,
            async_alternative: None,
            release: None,
            log_file: None,
            unless_keyword: Vec::new(),
            source,
            note: None,
            implemented_by: None,
            through: Vec::new(),
        }
    }

    /// Resident memory for a model load, from the first literal argument when the table knows it.
    pub fn memory_for(&self, literal: Option<&str>) -> Option<f64> {
        if let (Some(sizes), Some(lit)) = (&self.sizes, literal) {
            let lit = lit.to_ascii_lowercase();
            for (key, mb) in sizes {
                if lit.contains(&key.to_ascii_lowercase()) {
                    return mb.as_float().or_else(|| mb.as_integer().map(|i| i as f64));
                }
            }
        }
        self.memory_mb
    }

    /// The type of the value the call returns, when the catalog knows it. Constructors (entries
    /// whose last segment starts with an upper-case letter) return their own type.
    pub fn returned_type(&self) -> Option<&str> {
        self.returned_type_for(None)
    }

    /// The returned type when the call's first literal argument is `literal`: its
    /// `returns_for` entry, else `returned_type`.
    pub fn returned_type_for<'a>(&'a self, literal: Option<&'a str>) -> Option<&'a str> {
        if let (Some(kind), Some(lit)) = (self.returns_module, literal) {
            return module_named(kind, lit);
        }
        if let (Some(table), Some(lit)) = (&self.returns_for, literal)
            && let Some(t) = table.get(lit).and_then(|v| v.as_str())
        {
            return Some(t);
        }
        if let Some(r) = &self.returns {
            return Some(r);
        }
        let last = self.name.rsplit('.').next().unwrap_or(&self.name);
        last.starts_with(|c: char| c.is_ascii_uppercase())
            .then_some(self.name.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    api: Vec<ApiEntry>,
}

/// The loaded catalog: exact names in a hash map, `*` patterns in one glob set.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<ApiEntry>,
    exact: HashMap<String, u32>,
    /// The names with `*` (one dotted segment each), compiled together.
    patterns: Patterns,
    /// The entry of each pattern, in the set's order.
    pattern_ids: Vec<u32>,
    /// The last segment of every name that can match, unless `open_last_heads` lets it.
    last_segments: rustc_hash::FxHashSet<String>,
    /// First segments of patterns that end in `*` (`botocore` of `botocore.client.X.*`): any
    /// last segment may match under them.
    open_last_heads: rustc_hash::FxHashSet<String>,
    /// A pattern starting and ending with `*` matches names the two sets cannot rule out.
    open_both: bool,
    log_file_params: Vec<String>,
    /// Every entry's `unless_keyword`, once each.
    unless_keywords: Vec<String>,
}

/// An entry of the catalog a run audits with. Only `Catalog::lookup` makes one, and a run has
/// one catalog (the shipped entries with the configured ones merged in), so an id always
/// indexes the catalog that rules are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiId(NonZeroU32);

impl ApiId {
    /// The id of the entry at `index`, stored plus one so that an absent id (`Option<ApiId>`,
    /// in every call record) takes no room of its own.
    fn new(index: u32) -> ApiId {
        ApiId(NonZeroU32::MIN.saturating_add(index))
    }

    fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }

    /// The id as the module cache writes it (`facts::call_codec`); an entry is read back only
    /// under the catalog it was written with (the cache's key).
    pub(crate) fn raw(self) -> u32 {
        self.0.get()
    }

    /// The id [`ApiId::raw`] gave, `None` for 0.
    pub(crate) fn from_raw(raw: u32) -> Option<ApiId> {
        NonZeroU32::new(raw).map(ApiId)
    }
}

static SHIPPED: &str = include_str!("../../data/apis.toml");

/// The entries of `data/apis.toml`, parsed once per process.
fn shipped() -> &'static [ApiEntry] {
    static ENTRIES: std::sync::OnceLock<Vec<ApiEntry>> = std::sync::OnceLock::new();
    ENTRIES.get_or_init(|| {
        toml::from_str::<CatalogFile>(SHIPPED)
            .expect("data/apis.toml is validated by the test suite")
            .api
    })
}

impl Catalog {
    /// The catalog to audit with: the shipped entries, then `extra` (configured entries), which
    /// win over a shipped entry of the same name. Only configuration loading and the audit
    /// driver build one; rules and hooks are handed it.
    pub fn with_extensions(extra: &[ApiEntry]) -> Catalog {
        let mut entries = shipped().to_vec();
        entries.extend(extra.iter().cloned());
        Catalog::from_entries(entries)
    }

    /// Builds the lookup tables. A later entry with the same name replaces an earlier one, so a
    /// user's table merged after the built-in one wins.
    fn from_entries(entries: Vec<ApiEntry>) -> Catalog {
        let mut exact = HashMap::with_capacity_and_hasher(entries.len(), Default::default());
        let mut patterns: Vec<(&str, u32)> = Vec::new();
        let mut last_segments = rustc_hash::FxHashSet::default();
        let mut open_last_heads = rustc_hash::FxHashSet::default();
        let mut open_both = false;
        let mut log_file_params: Vec<String> =
            entries.iter().filter_map(|e| e.log_file.clone()).collect();
        log_file_params.sort();
        log_file_params.dedup();
        let mut unless_keywords: Vec<String> = entries
            .iter()
            .flat_map(|e| e.unless_keyword.iter().cloned())
            .collect();
        unless_keywords.sort();
        unless_keywords.dedup();
        for (i, e) in entries.iter().enumerate() {
            let first = e.name.split('.').next().unwrap_or("");
            let last = e.name.rsplit('.').next().unwrap_or("");
            match (first.contains('*'), last.contains('*')) {
                (_, false) => {
                    last_segments.insert(last.to_owned());
                }
                (false, true) => {
                    open_last_heads.insert(first.to_owned());
                }
                (true, true) => open_both = true,
            }
            if e.name.contains('*') {
                // As for exact names, a later entry replaces one of the same name.
                match patterns.iter_mut().find(|(name, _)| *name == e.name) {
                    Some(slot) => slot.1 = i as u32,
                    None => patterns.push((&e.name, i as u32)),
                }
            } else {
                exact.insert(e.name.clone(), i as u32);
            }
        }
        let pattern_ids = patterns.iter().map(|&(_, id)| id).collect();
        let patterns = Patterns::new(patterns.iter().map(|&(name, _)| name), Star::Segment);
        Catalog {
            entries,
            exact,
            patterns,
            pattern_ids,
            last_segments,
            open_last_heads,
            open_both,
            log_file_params,
            unless_keywords,
        }
    }

    /// This catalog with `extra` entries after its own: every id of this catalog stays valid,
    /// and an extra entry wins a lookup of its name. The audit driver adds the entries of calls
    /// into installed libraries this way (`deps`).
    pub fn extended(&self, extra: Vec<ApiEntry>) -> Catalog {
        let mut entries = self.entries.clone();
        entries.extend(extra);
        Catalog::from_entries(entries)
    }

    /// The parameters that name a log file (`filename`), from every entry's `log_file`.
    pub fn log_file_params(&self) -> &[String] {
        &self.log_file_params
    }

    /// The position of `keyword` among every entry's `unless_keyword`, if it is one.
    pub fn unless_keyword_index(&self, keyword: &str) -> Option<u8> {
        let i = self.unless_keywords.iter().position(|k| k == keyword)?;
        u8::try_from(i).ok()
    }

    /// Whether a call that matches `id` and passes the `unless_keyword` at `keyword` (an index
    /// from `unless_keyword_index`) is handed what the entry costs for: the keyword's value is
    /// not built in place (`built` is `None`), or is built by an in-process entry.
    pub fn handed_over(&self, id: ApiId, keyword: u8, built: Option<Option<ApiId>>) -> bool {
        let Some(k) = self.unless_keywords.get(usize::from(keyword)) else {
            return false;
        };
        self.get(id).unless_keyword.contains(k)
            && match built {
                None => true,
                Some(inner) => inner.is_some_and(|i| self.get(i).effect == Effect::Local),
            }
    }

    pub fn entries(&self) -> &[ApiEntry] {
        &self.entries
    }

    pub fn get(&self, id: ApiId) -> &ApiEntry {
        &self.entries[id.index()]
    }

    /// Whether a name whose first segment is `first` and last is `last` can match an entry: a
    /// cheap test before building the name.
    pub fn could_match(&self, first: &str, last: &str) -> bool {
        self.open_both || self.last_segments.contains(last) || self.open_last_heads.contains(first)
    }

    /// Looks a fully qualified name up: exact first, then `*` patterns (one segment each).
    pub fn lookup(&self, qualified: &str) -> Option<ApiId> {
        if let Some(&i) = self.exact.get(qualified) {
            return Some(ApiId::new(i));
        }
        self.patterns
            .first_match(qualified)
            .map(|i| ApiId::new(self.pattern_ids[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Catalog {
        Catalog::with_extensions(&[])
    }

    /// `implemented_by` names a function of the same installed package, never a pattern.
    #[test]
    fn implementations_are_in_the_apis_own_package() {
        let c = builtin();
        let mut n = 0;
        for e in c.entries() {
            if let Some(i) = &e.implemented_by {
                let top = |s: &str| s.split('.').next().unwrap_or_default().to_owned();
                assert_eq!(top(i), top(&e.name), "{}", e.name);
                assert!(!i.contains('*') && i.contains('.'), "{}: {i}", e.name);
                n += 1;
            }
        }
        assert!(n >= 3);
    }

    /// `import_module("a.b")` returns `a.b`, `__import__("a.b")` returns `a`; a name that is
    /// not an absolute dotted module name returns nothing known.
    #[test]
    fn imports_by_name_return_the_module_named() {
        let c = builtin();
        let get = |n: &str| c.get(c.lookup(n).unwrap());
        let named = get("importlib.import_module");
        assert_eq!(
            named.returned_type_for(Some("torch.hub")),
            Some("torch.hub")
        );
        assert_eq!(named.returned_type_for(Some(".sibling")), None);
        assert_eq!(named.returned_type_for(Some("plugins/x")), None);
        assert_eq!(named.returned_type_for(None), None);
        assert_eq!(
            get("__import__").returned_type_for(Some("torch.hub")),
            Some("torch")
        );
    }

    #[test]
    fn builtin_catalog_loads() {
        assert!(builtin().entries().len() > 10);
    }

    /// A `with` block's exit method is an entry of its own, and only receives wait on a
    /// socket's receive timeout.
    #[test]
    fn exits_name_entries_and_rcvtimeo_marks_receives() {
        let c = builtin();
        for e in c.entries() {
            if let Some(exit) = &e.exit {
                assert!(
                    c.lookup(exit).is_some(),
                    "{}: exit {exit} is no entry",
                    e.name
                );
            }
            if e.rcvtimeo {
                let last = e.name.rsplit('.').next().unwrap_or_default();
                assert!(
                    last.starts_with("recv"),
                    "{}: rcvtimeo on a non-receive",
                    e.name
                );
            }
        }
        assert!(c.entries().iter().any(|e| e.exit.is_some()));
        assert!(c.entries().iter().filter(|e| e.rcvtimeo).count() >= 5);
    }

    #[test]
    fn builtin_names_sorted_and_unique() {
        let c = builtin();
        let names: Vec<&str> = c.entries().iter().map(|e| e.name.as_str()).collect();
        for w in names.windows(2) {
            assert!(
                w[0] < w[1],
                "catalog not sorted or duplicated: {} / {}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn builtin_ranges_and_sources_are_sane() {
        for e in builtin().entries() {
            assert!(e.low_ms >= 0.0, "{}: negative low_ms", e.name);
            assert!(e.low_ms <= e.high_ms, "{}: low_ms > high_ms", e.name);
            assert!(!e.source.trim().is_empty(), "{}: no source", e.name);
            if let Some(script) = e.source.strip_prefix("measured: ") {
                let script = script.split_whitespace().next().unwrap_or("");
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
                assert!(path.exists(), "{}: cites missing script {script}", e.name);
            }
            if e.effect == Effect::ModelLoad {
                assert!(
                    e.memory_mb.is_some() || e.sizes.is_some(),
                    "{}: model without memory",
                    e.name
                );
            }
        }
    }

    #[test]
    fn lookup_agrees_with_pattern_matching() {
        let c = builtin();
        let found = |n: &str| c.lookup(n).map(|id| c.get(id).name.as_str());
        assert_eq!(
            found("transformers.AutoModel.from_pretrained"),
            Some("transformers.*.from_pretrained")
        );
        assert_eq!(found("transformers.from_pretrained"), None);
        assert_eq!(found("transformers.a.b.from_pretrained"), None);
        assert_eq!(found("transformers.AutoModel.from_pretrainedx"), None);
        assert_eq!(
            found("botocore.client.BaseClient.get_object"),
            Some("botocore.client.BaseClient.*")
        );
        assert_eq!(found("botocore.client.BaseClient"), None);
        assert_eq!(found("botocore.client.BaseClient.a.b"), None);
    }

    /// A configured entry wins over a shipped one of the same name, `*` patterns included.
    #[test]
    fn later_entries_replace_earlier_patterns() {
        let shipped = builtin();
        let pattern = "botocore.client.BaseClient.*";
        let name = "botocore.client.BaseClient.get_object";
        let first = shipped.lookup(name).unwrap();
        assert_eq!(shipped.get(first).name, pattern);
        let mut entries = shipped.entries().to_vec();
        entries.push(shipped.get(first).clone());
        let last = entries.len() - 1;
        let extended = Catalog::from_entries(entries);
        assert_eq!(extended.lookup(name), Some(ApiId::new(last as u32)));
    }

    #[test]
    fn could_match_never_rules_out_a_match() {
        let c = builtin();
        for e in c.entries() {
            let name = e.name.replace('*', "Anything");
            let first = name.split('.').next().unwrap();
            let last = name.rsplit('.').next().unwrap();
            assert!(c.lookup(&name).is_some(), "{name}");
            assert!(c.could_match(first, last), "{name}");
        }
        assert!(!c.could_match("mymodule", "no_such_method_anywhere"));
    }
}
