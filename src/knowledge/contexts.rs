//! Context patterns: which calls receive work, offload, start background jobs, and which names
//! mark handlers and startup code. Defaults come from `data/contexts.toml`; configuration may
//! extend them.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use serde::Deserialize;

use super::wildcard::{NameFilter, Patterns, Star};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextPatterns {
    pub receive_methods: Vec<String>,
    pub reply_methods: Vec<String>,
    /// Reply methods that, called on the queue the loop receives from, feed the loop itself.
    pub requeue_methods: Vec<String>,
    /// The process's console (`sys.stdout`): writing there answers nobody.
    pub console_receivers: Vec<String>,
    pub poll_methods: Vec<String>,
    pub queue_receivers: Vec<String>,
    /// What a configuration object is called (`config`, `self.options`, `settings`): a read
    /// of a literal key on one (`options.get("alert_webhook")`) is looked up in the values the
    /// system's manifests give that key.
    pub config_receivers: Vec<String>,
    /// Where a service keeps what its requests share (`request.app.state.model`): a model
    /// load stored there on a request path is a swap, paid by the request that changes it.
    pub shared_state: Vec<String>,
    pub queue_functions: Vec<String>,
    pub offload_functions: Vec<String>,
    pub offload_methods: Vec<String>,
    pub background_functions: Vec<String>,
    pub background_methods: Vec<String>,
    pub route_registrations: Vec<String>,
    pub handler_names: Vec<String>,
    pub handler_exclude: Vec<String>,
    pub startup_names: Vec<String>,
    pub route_decorators: Vec<String>,
    pub lifespan_names: Vec<String>,
    pub startup_decorators: Vec<String>,
    pub tooling_dirs: Vec<String>,
    pub tooling_files: Vec<String>,
    pub nonblocking_args: Vec<String>,
    pub nonblocking_keywords: Vec<String>,
    pub zero_timeouts: Vec<String>,
    pub default_wrappers: Vec<String>,
    pub callable_keywords: Vec<String>,
    pub property_decorators: Vec<String>,
    /// Decorators that memoise the result (`functools.lru_cache`): what the function calls
    /// runs once per distinct argument.
    pub memoising_decorators: Vec<String>,
    pub loop_callbacks: Vec<String>,
    pub exit_callbacks: Vec<String>,
    pub subscriptions: Vec<String>,
    pub division_types: Vec<String>,
    pub same_type_attributes: Vec<String>,
    /// The wildcard lists above compiled, and the lists of call names gathered into two maps,
    /// on first use: the lists are complete by then (configuration extends them right after
    /// loading).
    #[serde(skip)]
    compiled: Compiled,
}

/// The lists matched with `*` wildcards (`*` = any run of characters) and the call-name
/// lists, compiled once.
#[derive(Default)]
struct Compiled(OnceLock<Sets>);

struct Sets {
    tooling_files: Patterns,
    tooling_dirs: Patterns,
    queue_receivers: Patterns,
    config_receivers: Patterns,
    shared_state: Patterns,
    handler_names: Patterns,
    handler_exclude: Patterns,
    startup_names: Patterns,
    lifespan_names: Patterns,
    startup_decorators: Patterns,
    route_decorators: Patterns,
    subscriptions: Patterns,
    /// What a call does by its whole target (`asyncio.to_thread`) and by its method
    /// (`run_in_executor`): one lookup each instead of a scan of every list per call.
    by_target: FxHashMap<Box<str>, CallRoles>,
    by_method: FxHashMap<Box<str>, CallRoles>,
    /// The keys of both maps: most calls are in neither, and the filter says so without
    /// hashing (`call_roles` cost 73 M instructions on the standard library before it).
    role_names: NameFilter,
    /// `zero_timeouts` split into the name and the timeout's index, asked per call site.
    zero_timeouts: Vec<(String, Option<usize>)>,
    /// The last segments of `nonblocking_args`, compared with every positional argument that
    /// names something (taking them at each comparison cost 3 byte searches per argument).
    nonblocking_lasts: Vec<String>,
    /// The lists as compiled, to catch a list changed after its first use.
    #[cfg(debug_assertions)]
    sources: Vec<Vec<String>>,
}

/// A copy starts uncompiled, so a clone whose lists are extended compiles its own.
impl Clone for Compiled {
    fn clone(&self) -> Compiled {
        Compiled::default()
    }
}

/// Derived from the lists, so it adds nothing to `ContextPatterns`' `Debug` (a cache key).
impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("-")
    }
}

static BUILTIN: &str = include_str!("../../data/contexts.toml");

impl ContextPatterns {
    pub fn builtin() -> ContextPatterns {
        toml::from_str(BUILTIN).expect("data/contexts.toml is validated by the test suite")
    }

    fn wildcard_lists(&self) -> [&Vec<String>; 12] {
        [
            &self.tooling_files,
            &self.tooling_dirs,
            &self.queue_receivers,
            &self.config_receivers,
            &self.shared_state,
            &self.handler_names,
            &self.handler_exclude,
            &self.startup_names,
            &self.lifespan_names,
            &self.startup_decorators,
            &self.route_decorators,
            &self.subscriptions,
        ]
    }

    /// The call-name lists, with the role each gives and whether it names a call's whole
    /// target or its method (the last segment).
    fn role_lists(&self) -> [(&Vec<String>, CallRoles, bool); 7] {
        const METHOD: bool = true;
        [
            (&self.offload_functions, CallRoles::OFFLOAD, !METHOD),
            (&self.background_functions, CallRoles::BACKGROUND, !METHOD),
            (&self.exit_callbacks, CallRoles::EXIT_CALLBACK, !METHOD),
            (&self.offload_methods, CallRoles::OFFLOAD, METHOD),
            (&self.background_methods, CallRoles::BACKGROUND, METHOD),
            (&self.loop_callbacks, CallRoles::LOOP_CALLBACK, METHOD),
            (
                &self.route_registrations,
                CallRoles::ROUTE_REGISTRATION,
                METHOD,
            ),
        ]
    }

    fn sets(&self) -> &Sets {
        let sets = self.compiled.0.get_or_init(|| {
            let [
                tooling_files,
                tooling_dirs,
                queue_receivers,
                config_receivers,
                shared_state,
                handler_names,
                handler_exclude,
                startup_names,
                lifespan_names,
                startup_decorators,
                route_decorators,
                subscriptions,
            ] = self
                .wildcard_lists()
                .map(|l| Patterns::new(l.iter().map(String::as_str), Star::Any));
            let mut by_target: FxHashMap<Box<str>, CallRoles> = FxHashMap::default();
            let mut by_method: FxHashMap<Box<str>, CallRoles> = FxHashMap::default();
            for (list, role, method) in self.role_lists() {
                let map = if method {
                    &mut by_method
                } else {
                    &mut by_target
                };
                for name in list {
                    map.entry(name.as_str().into()).or_default().0 |= role.0;
                }
            }
            Sets {
                tooling_files,
                tooling_dirs,
                queue_receivers,
                config_receivers,
                shared_state,
                handler_names,
                handler_exclude,
                startup_names,
                lifespan_names,
                startup_decorators,
                route_decorators,
                subscriptions,
                role_names: by_target.keys().chain(by_method.keys()).fold(
                    NameFilter::default(),
                    |mut f, k| {
                        f.insert(k);
                        f
                    },
                ),
                by_target,
                by_method,
                zero_timeouts: self
                    .zero_timeouts
                    .iter()
                    .filter_map(|entry| split_last(entry, b':'))
                    .map(|(name, index)| (name.to_owned(), index.parse().ok()))
                    .collect(),
                nonblocking_lasts: self
                    .nonblocking_args
                    .iter()
                    .map(|a| last_segment(a).to_owned())
                    .collect(),
                #[cfg(debug_assertions)]
                sources: self.compiled_lists(),
            }
        });
        #[cfg(debug_assertions)]
        assert!(
            sets.sources == self.compiled_lists(),
            "a wildcard list of ContextPatterns changed after its first use"
        );
        sets
    }

    #[cfg(debug_assertions)]
    fn compiled_lists(&self) -> Vec<Vec<String>> {
        let wildcards = self.wildcard_lists().into_iter();
        let roles = self.role_lists().into_iter().map(|(l, _, _)| l);
        let zero = [&self.zero_timeouts, &self.nonblocking_args].into_iter();
        wildcards.chain(roles).chain(zero).cloned().collect()
    }

    /// What a call with this target does with its callable arguments, by the call-name lists.
    pub fn call_roles(&self, target: &str) -> CallRoles {
        let sets = self.sets();
        let get = |map: &FxHashMap<Box<str>, CallRoles>, key: &str| {
            if sets.role_names.may_contain(key) {
                map.get(key).copied().unwrap_or_default()
            } else {
                CallRoles::default()
            }
        };
        let whole = get(&sets.by_target, target);
        let method = get(&sets.by_method, last_segment(target));
        CallRoles(whole.0 | method.0)
    }

    /// Whether a module at this path (relative to the audited root, `/`-separated) is code that
    /// no service runs: tests, scripts, examples, docs, benchmarks, backup copies.
    pub fn is_tooling_path(&self, path: &str) -> bool {
        let mut parts: Vec<&str> = path.split('/').collect();
        let file = parts.pop().unwrap_or("");
        let sets = self.sets();
        sets.tooling_files.is_match(file) || parts.iter().any(|d| sets.tooling_dirs.is_match(d))
    }

    /// Whether an object so named holds configuration (`config`, `self.options`): the last
    /// segment of its dotted text, lower-cased, against `config_receivers`.
    pub fn is_config_receiver(&self, text: &str) -> bool {
        self.sets()
            .config_receivers
            .is_match(&last_segment(text).to_ascii_lowercase())
    }

    /// Whether a value assigned to this target (its source text) is kept where every later
    /// request shares it (`request.app.state.embedder`).
    pub fn is_shared_state(&self, target: &str) -> bool {
        self.sets().shared_state.is_match(target)
    }

    /// Whether a call with this target answers the sender (`sock.send_json(...)`).
    pub fn is_reply(&self, target: &str) -> bool {
        let method = last_segment(target);
        self.reply_methods.iter().any(|m| m == method)
    }

    /// Whether a call written `text` in a receive loop answers the sender: a reply method, not
    /// on the process's console (`sys.stdout.write`), nor putting work back on a queue the loop
    /// takes its work from (`sources`: `self.queue` of `self.queue.get()`), which feeds the loop
    /// itself.
    pub fn answers(&self, text: &str, sources: &[&str]) -> bool {
        if !self.is_reply(text) {
            return false;
        }
        let Some((receiver, method)) = split_last(text, b'.') else {
            return true;
        };
        if self.console_receivers.iter().any(|c| c == receiver) {
            return false;
        }
        !(self.requeue_methods.iter().any(|m| m == method) && sources.contains(&receiver))
    }

    /// Whether a call with this target waits for work without taking it (`poller.poll(...)`).
    pub fn is_poll(&self, target: &str) -> bool {
        let method = last_segment(target);
        self.poll_methods.iter().any(|m| m == method)
    }

    /// Whether an argument whose name ends in `last` may be one of `nonblocking_args`.
    pub fn may_be_nonblocking_arg(&self, last: &str) -> bool {
        self.sets().nonblocking_lasts.iter().any(|l| l == last)
    }

    /// Whether a call whose last segment is `method` may receive work: `is_receive` can only
    /// be true when this is.
    pub fn may_receive(&self, method: &str) -> bool {
        self.receive_methods.iter().any(|m| m == method)
            || method == "get"
            || method == "get_nowait"
    }

    /// Whether a call with this target and callee text receives work.
    pub fn is_receive(&self, target: &str, text: &str) -> bool {
        let method = last_segment(target);
        if self.receive_methods.iter().any(|m| m == method) {
            return true;
        }
        if method == "get" || method == "get_nowait" {
            let receiver = receiver_name(text);
            return self
                .sets()
                .queue_receivers
                .is_match(&receiver.to_ascii_lowercase());
        }
        false
    }

    /// The index of the positional timeout of a call written `text` that returns at once when
    /// it is a literal 0 (`poller.poll(0)`), if it has one. `resolve` gives the call's resolved
    /// name; it is asked only when a dotted entry (`select.select`) ends like the call, so most
    /// calls cost a comparison of last segments.
    pub fn zero_timeout_index(
        &self,
        text: &str,
        resolve: impl FnOnce() -> String,
    ) -> Option<usize> {
        let last = last_segment(text);
        let (name, index) = self
            .sets()
            .zero_timeouts
            .iter()
            .find(|(name, _)| last_segment_is(name, last))?;
        let hit = !name.contains('.') || resolve() == *name;
        hit.then_some(*index).flatten()
    }

    /// Whether a call written `text` takes the next item of work from the queue its first
    /// argument names (`heapq.heappop(self.jobs)`). `resolve` (the call's resolved name) and
    /// `queue` (its first argument as written) are asked only when the call's last segment is
    /// that of a `queue_functions` entry, so most calls cost a comparison.
    pub fn takes_from_queue(
        &self,
        text: &str,
        resolve: impl FnOnce() -> String,
        queue: impl FnOnce() -> Option<String>,
    ) -> bool {
        let last = last_segment(text);
        if !self
            .queue_functions
            .iter()
            .any(|f| last_segment_is(f, last))
        {
            return false;
        }
        let function = resolve();
        self.queue_functions.contains(&function)
            && queue().is_some_and(|q| {
                self.sets()
                    .queue_receivers
                    .is_match(&last_segment(&q).to_ascii_lowercase())
            })
    }

    pub fn is_offload(&self, target: &str) -> bool {
        self.call_roles(target).offload()
    }

    pub fn is_background(&self, target: &str) -> bool {
        self.call_roles(target).background()
    }

    /// A decorator that makes a method a property getter (`property`, `cached_property`).
    pub fn is_property_decorator(&self, decorator: &str) -> bool {
        self.property_decorators.iter().any(|d| d == decorator)
    }

    /// A decorator that memoises what the function returns (`functools.lru_cache`).
    pub fn is_memoising_decorator(&self, decorator: &str) -> bool {
        self.memoising_decorators.iter().any(|d| d == decorator)
    }

    /// A call that runs its callable argument on the event loop later (`loop.call_soon(cb)`,
    /// `fut.add_done_callback(cb)`), by method name.
    pub fn is_loop_callback(&self, target: &str) -> bool {
        self.call_roles(target).loop_callback()
    }

    /// A call that runs its callable argument once, at exit or on a signal
    /// (`atexit.register(fn)`, `signal.signal(sig, handler)`).
    pub fn is_exit_callback(&self, target: &str) -> bool {
        self.call_roles(target).exit_callback()
    }

    /// A call that subscribes its callable argument to messages (`bus.subscribe("t", fn)`),
    /// matched on the call's source text: it runs once per message.
    pub fn is_subscription(&self, text: &str) -> bool {
        self.sets().subscriptions.is_match(text)
    }

    pub fn is_route_registration(&self, target: &str) -> bool {
        self.call_roles(target).route_registration()
    }

    pub fn is_handler_name(&self, name: &str) -> bool {
        let sets = self.sets();
        sets.handler_names.is_match(name) && !sets.handler_exclude.is_match(name)
    }

    pub fn is_startup_name(&self, name: &str) -> bool {
        self.sets().startup_names.is_match(name)
    }

    /// A coroutine that runs at server start or stop, by name or decorator.
    pub fn is_lifespan(&self, name: &str, decorators: &[String]) -> bool {
        let sets = self.sets();
        sets.lifespan_names.is_match(name)
            || decorators
                .iter()
                .any(|d| sets.startup_decorators.is_match(d))
    }

    pub fn is_route_decorator(&self, decorator: &str) -> bool {
        self.sets().route_decorators.is_match(decorator)
    }
}

/// The roles a call's name gives it (`ContextPatterns::call_roles`), as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallRoles(u8);

impl CallRoles {
    const OFFLOAD: CallRoles = CallRoles(1);
    const BACKGROUND: CallRoles = CallRoles(2);
    const EXIT_CALLBACK: CallRoles = CallRoles(4);
    const LOOP_CALLBACK: CallRoles = CallRoles(8);
    const ROUTE_REGISTRATION: CallRoles = CallRoles(16);

    fn has(self, role: CallRoles) -> bool {
        self.0 & role.0 != 0
    }
    /// Runs its callable arguments on a worker thread.
    pub fn offload(self) -> bool {
        self.has(CallRoles::OFFLOAD)
    }
    /// Starts its callable arguments as a background job.
    pub fn background(self) -> bool {
        self.has(CallRoles::BACKGROUND)
    }
    /// Runs its callable argument once, at exit or on a signal.
    pub fn exit_callback(self) -> bool {
        self.has(CallRoles::EXIT_CALLBACK)
    }
    /// Runs its callable argument on the event loop later.
    pub fn loop_callback(self) -> bool {
        self.has(CallRoles::LOOP_CALLBACK)
    }
    /// Registers its callable argument as a request handler.
    pub fn route_registration(self) -> bool {
        self.has(CallRoles::ROUTE_REGISTRATION)
    }
}

pub fn last_segment(dotted: &str) -> &str {
    split_last(dotted, b'.').map_or(dotted, |(_, last)| last)
}

/// `text` split at its last `sep` (an ASCII byte), searching bytes from the end: these texts
/// are short and split per call site, where `str::rsplit`'s generic searcher costs several
/// times more.
pub fn split_last(text: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = text.as_bytes().iter().rposition(|&b| b == sep)?;
    Some((&text[..i], &text[i + 1..]))
}

/// `text` split at its first `sep` (an ASCII byte): `str::split_once` without the generic
/// searcher, for the same short texts.
pub fn split_first(text: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = text.as_bytes().iter().position(|&b| b == sep)?;
    Some((&text[..i], &text[i + 1..]))
}

/// `last_segment(dotted) == last` for a `last` without dots, without searching `dotted` for
/// its last dot: called per call site and list entry.
fn last_segment_is(dotted: &str, last: &str) -> bool {
    dotted
        .strip_suffix(last)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// `self.jobs.get` -> `jobs`; `q.get` -> `q`.
fn receiver_name(text: &str) -> &str {
    split_last(text, b'.').map_or("", |(head, _)| last_segment(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_patterns_load_and_are_sorted() {
        let p = ContextPatterns::builtin();
        for list in [
            &p.receive_methods,
            &p.reply_methods,
            &p.requeue_methods,
            &p.console_receivers,
            &p.poll_methods,
            &p.tooling_dirs,
            &p.tooling_files,
            &p.nonblocking_args,
            &p.nonblocking_keywords,
            &p.callable_keywords,
            &p.property_decorators,
            &p.memoising_decorators,
            &p.loop_callbacks,
            &p.exit_callbacks,
            &p.subscriptions,
            &p.division_types,
            &p.same_type_attributes,
            &p.offload_functions,
            &p.route_decorators,
        ] {
            let mut sorted = list.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(&sorted, list);
        }
    }

    fn wildcard_match(pattern: &str, name: &str) -> bool {
        Patterns::new([pattern], Star::Any).is_match(name)
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("handle_*", "handle_request"));
        assert!(wildcard_match("*_request", "handle_request"));
        assert!(wildcard_match("*.get", "fastapi.FastAPI.get"));
        assert!(!wildcard_match("*.get", "get"));
        assert!(wildcard_match("load*", "load"));
        assert!(!wildcard_match("handle_*", "handler"));
        assert!(wildcard_match("handle_*", "handle_x"));
        assert!(!wildcard_match("handle_*", "on_message"));
        let p = ContextPatterns::builtin();
        assert!(p.is_handler_name("handle_request"));
        assert!(p.is_handler_name("on_message"));
        assert!(!p.is_handler_name("handler"));
        assert!(!p.is_handler_name("_make_request"));
        assert!(p.is_startup_name("load"));
        assert!(p.is_startup_name("load_model"));
        assert!(p.is_route_decorator("fastapi.FastAPI.get"));
        assert!(p.is_route_decorator("app.get"));
        assert!(!p.is_route_decorator("get"));
        assert!(p.is_lifespan("boot", &["fastapi.FastAPI.on_event".to_owned()]));
        assert!(p.is_tooling_path("pkg/tests/x.py"));
        assert!(p.is_tooling_path("pkg/conftest.py"));
        assert!(p.is_tooling_path("pkg/app_test.py"));
        assert!(!p.is_tooling_path("pkg/app.py"));
    }

    /// Configuration extends the lists of a fresh copy; a clone compiles its own.
    #[test]
    fn extended_lists_are_matched() {
        let p = ContextPatterns::builtin();
        assert!(!p.is_handler_name("serve_rpc"));
        let mut q = p.clone();
        q.handler_names.push("serve_*".to_owned());
        assert!(q.is_handler_name("serve_rpc"));
        assert!(!p.is_handler_name("serve_rpc"));
    }

    /// A call's roles come from its whole target and from its method; a configured name counts.
    #[test]
    fn call_roles() {
        let p = ContextPatterns::builtin();
        assert!(p.is_offload("asyncio.to_thread"));
        assert!(p.is_offload("loop.run_in_executor"));
        assert!(!p.is_offload("to_thread"));
        assert!(!p.is_offload("run_in_executor.x"));
        assert!(p.is_exit_callback("atexit.register"));
        assert!(!p.is_exit_callback("x.atexit.register"));
        assert!(p.is_loop_callback("fut.add_done_callback"));
        assert!(!p.call_roles("requests.get").offload());
        let mut q = p.clone();
        q.offload_methods.push("submit_blocking".to_owned());
        q.loop_callbacks.push("submit_blocking".to_owned());
        let roles = q.call_roles("pool.submit_blocking");
        assert!(roles.offload() && roles.loop_callback() && !roles.background());
        assert!(!p.is_offload("pool.submit_blocking"));
    }

    #[test]
    fn split_last_is_rsplit_once() {
        for text in ["a.b.c", "abc", ".a", "a.", "", "é.ü.x", "poll:0", "a.b:c:3"] {
            assert_eq!(split_last(text, b'.'), text.rsplit_once('.'), "{text}");
            assert_eq!(split_last(text, b':'), text.rsplit_once(':'), "{text}");
            assert_eq!(split_first(text, b'.'), text.split_once('.'), "{text}");
            let last = text.rsplit('.').next().unwrap_or(text);
            assert_eq!(last_segment(text), last, "{text}");
            let mut parts = text.rsplit('.');
            parts.next();
            assert_eq!(receiver_name(text), parts.next().unwrap_or(""), "{text}");
        }
    }

    #[test]
    fn last_segment_is_last_segment() {
        for dotted in [
            "heapq.heappop",
            "heappop",
            "x.heappop",
            "xheappop",
            "heappop.x",
            "a.",
            "",
        ] {
            for last in ["heappop", "x", ""] {
                assert_eq!(
                    last_segment_is(dotted, last),
                    last_segment(dotted) == last,
                    "{dotted} {last}"
                );
            }
        }
    }

    #[test]
    fn receive_detection() {
        let p = ContextPatterns::builtin();
        assert!(p.is_receive("zmq.Socket.recv_json", "self.socket.recv_json"));
        assert!(p.is_receive("self.jobs.get", "self.jobs.get"));
        assert!(p.is_receive("queue.Queue.get", "self.request_queue.get"));
        assert!(!p.is_receive("requests.get", "requests.get"));
        assert!(!p.is_receive("dict.get", "self.cache.get"));
    }
}
