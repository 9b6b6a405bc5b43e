//! Context patterns: which calls receive work, offload, start background jobs, and which names
//! mark handlers and startup code. Defaults come from `data/contexts.toml`; configuration may
//! extend them.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextPatterns {
    pub receive_methods: Vec<String>,
    pub reply_methods: Vec<String>,
    pub queue_receivers: Vec<String>,
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
}

static BUILTIN: &str = include_str!("../../data/contexts.toml");

impl ContextPatterns {
    pub fn builtin() -> ContextPatterns {
        toml::from_str(BUILTIN).expect("data/contexts.toml is validated by the test suite")
    }

    /// Whether a module at this path (relative to the audited root, `/`-separated) is code that
    /// no service runs: tests, scripts, examples, docs, benchmarks, backup copies.
    pub fn is_tooling_path(&self, path: &str) -> bool {
        let mut parts: Vec<&str> = path.split('/').collect();
        let file = parts.pop().unwrap_or("");
        any_match(&self.tooling_files, file)
            || parts.iter().any(|d| any_match(&self.tooling_dirs, d))
    }

    /// Whether a call with this target answers the sender (`sock.send_json(...)`).
    pub fn is_reply(&self, target: &str) -> bool {
        let method = last_segment(target);
        self.reply_methods.iter().any(|m| m == method)
    }

    /// Whether a call with this target and callee text receives work.
    pub fn is_receive(&self, target: &str, text: &str) -> bool {
        let method = last_segment(target);
        if self.receive_methods.iter().any(|m| m == method) {
            return true;
        }
        if method == "get" || method == "get_nowait" {
            let receiver = receiver_name(text);
            return any_match(&self.queue_receivers, &receiver.to_ascii_lowercase());
        }
        false
    }

    pub fn is_offload(&self, target: &str) -> bool {
        self.offload_functions.iter().any(|f| f == target)
            || self
                .offload_methods
                .iter()
                .any(|m| m == last_segment(target))
    }

    pub fn is_background(&self, target: &str) -> bool {
        self.background_functions.iter().any(|f| f == target)
            || self
                .background_methods
                .iter()
                .any(|m| m == last_segment(target))
    }

    pub fn is_route_registration(&self, target: &str) -> bool {
        self.route_registrations
            .iter()
            .any(|m| m == last_segment(target))
    }

    pub fn is_handler_name(&self, name: &str) -> bool {
        any_match(&self.handler_names, name) && !any_match(&self.handler_exclude, name)
    }

    pub fn is_startup_name(&self, name: &str) -> bool {
        any_match(&self.startup_names, name)
    }

    /// A coroutine that runs at server start or stop, by name or decorator.
    pub fn is_lifespan(&self, name: &str, decorators: &[String]) -> bool {
        any_match(&self.lifespan_names, name)
            || decorators
                .iter()
                .any(|d| any_match(&self.startup_decorators, d))
    }

    pub fn is_route_decorator(&self, decorator: &str) -> bool {
        any_match(&self.route_decorators, decorator)
    }
}

pub fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// `self.jobs.get` -> `jobs`; `q.get` -> `q`.
fn receiver_name(text: &str) -> &str {
    let mut parts = text.rsplit('.');
    parts.next();
    parts.next().unwrap_or("")
}

fn any_match(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| wildcard_match(p, name))
}

/// `*` matches any run of characters (including dots); everything else is literal.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let Some(first_star) = pattern.find('*') else {
        return pattern == name;
    };
    let last_star = pattern.rfind('*').unwrap_or(first_star);
    let (first, last) = (&pattern[..first_star], &pattern[last_star + 1..]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    if first_star < last_star {
        for mid in pattern[first_star + 1..last_star].split('*') {
            match rest.find(mid) {
                Some(i) => rest = &rest[i + mid.len()..],
                None => return false,
            }
        }
    }
    true
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
            &p.tooling_dirs,
            &p.tooling_files,
            &p.nonblocking_args,
            &p.nonblocking_keywords,
            &p.offload_functions,
            &p.route_decorators,
        ] {
            let mut sorted = list.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(&sorted, list);
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("handle_*", "handle_request"));
        assert!(wildcard_match("*_request", "handle_request"));
        assert!(wildcard_match("*.get", "fastapi.FastAPI.get"));
        assert!(!wildcard_match("*.get", "get"));
        assert!(wildcard_match("load*", "load"));
        assert!(!wildcard_match("handle_*", "handler"));
        let p = ContextPatterns::builtin();
        assert!(p.is_handler_name("handle_request"));
        assert!(!p.is_handler_name("_make_request"));
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
