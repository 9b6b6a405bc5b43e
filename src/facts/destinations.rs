//! Where a value points, for the cost model to tell where a request or a socket goes
//! (`Project::destinations`): the first argument of a call and what functions return, read
//! through literals, f-strings, configuration reads (`cfg.get("host", "localhost")`,
//! `os.getenv("API_URL", "http://localhost:8080")`, `entry["host"]`), names bound to one in the
//! same function (or at module level), `self.attr` stored once in the class, and the call whose
//! result it is (`send(address_of(name))`).
//!
//! A configuration read keeps its key: the project reads the values the system's manifests
//! give that key. Nothing else is guessed: an expression outside this list is unknown.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use super::collect::Collector;
use super::names::{dotted_name, is_dotted, keyword, str_literal, truncate};
use super::{FuncId, Name, Resolution, Value};

/// Longest text kept for a value.
const MAX_TEXT: usize = 200;

/// How far back among the calls just recorded the call an expression makes is looked for.
const RECENT_CALLS: usize = 64;

/// What the collector learns about destinations while it walks a module.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Names bound to a value in a function (or at module level, function 0), by function and
    /// the name's number in the binding log (no copy of its text): the latest binding seen;
    /// `None` after a binding to something not understood (it shadows).
    locals: HashMap<(FuncId, u32), Option<Value>>,
    /// `self.attr` stored in a class's methods: its value when every store agrees.
    attrs: HashMap<u32, HashMap<String, Option<Value>>>,
    /// Each function's return values; `None` once one return is not understood.
    returns: HashMap<FuncId, Option<Vec<Value>>>,
    /// Call index and argument position → what the argument holds.
    args: Vec<(u32, u8, Value)>,
    /// Call index and argument position → the name given there, for the calls that pass
    /// arguments after it.
    names: Vec<(u32, u8, Name)>,
}

impl Value {
    /// Whether the value may say where something goes: an address, a configuration read or
    /// another call's result; or which known model a load reads.
    fn may_point(&self) -> bool {
        self.key.is_some()
            || self.param.is_some()
            || self.from_call.is_some()
            || self
                .text
                .as_deref()
                .is_some_and(|t| t.contains("://") || names_model(t))
    }
}

/// A text that names a small model `data/models.toml` knows (`"silero_vad.onnx"`): kept like
/// an address, at any argument position, so that the load it reaches is costed by that model.
fn names_model(t: &str) -> bool {
    crate::knowledge::models::Models::shipped().names(t)
}

/// A configuration key: a short identifier-like literal (`host`, `ALERT_WEBHOOK`, `api.url`).
fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn text(s: &str) -> Option<Name> {
    Some(Name::from(truncate(s, MAX_TEXT).as_str()))
}

/// The span of the host in `scheme://[user@]host[:port]/...`, as byte offsets.
fn host_span(s: &str) -> Option<(usize, usize)> {
    let start = s.find("://")? + 3;
    let rest = &s[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = &authority[host_start..];
    let host_end = if host.starts_with('[') {
        host.find(']').map_or(host.len(), |i| i + 1)
    } else {
        host.rfind(':').unwrap_or(host.len())
    };
    Some((start + host_start, start + host_start + host_end))
}

impl Collector<'_> {
    /// What `expr` holds as a destination, or `None` when nothing about it is known.
    pub(super) fn dest_value(&self, expr: &Expr, depth: u32) -> Option<Value> {
        if depth > 6 {
            return None;
        }
        match expr {
            Expr::StringLiteral(s) => Some(Value {
                text: text(s.value.to_str()),
                ..Value::default()
            }),
            Expr::FString(f) => Some(self.fstring_value(f, depth)),
            Expr::Name(n) => {
                let name = n.id.as_str();
                let id = self.bindings.name_id(name);
                let local = |f: FuncId| id.and_then(|id| self.dest.locals.get(&(f, id)));
                match local(self.func) {
                    Some(v) => v.clone(),
                    None if self.func != 0 => {
                        let params = &self.facts.functions[self.func as usize].params;
                        if let Some(i) = params.iter().position(|p| p == n.id.as_str()) {
                            return u8::try_from(i).ok().map(|i| Value {
                                param: Some(i),
                                ..Value::default()
                            });
                        }
                        match local(0) {
                            Some(v) => v.clone(),
                            None => self.constants.get(name).map(|t| Value {
                                text: text(t),
                                ..Value::default()
                            }),
                        }
                    }
                    None => None,
                }
            }
            Expr::Attribute(a) if matches!(&*a.value, Expr::Name(b) if b.id.as_str() == "self") => {
                let class = self.method_class(self.func)?;
                self.dest
                    .attrs
                    .get(&class)?
                    .get(a.attr.id.as_str())
                    .cloned()
                    .flatten()
            }
            Expr::Subscript(s) => {
                let key = str_literal(&s.slice).filter(|k| is_key(k))?;
                let receiver = dotted_name(&s.value)?;
                let config = self.patterns.is_config_receiver(&receiver)
                    || self.resolve_head(&receiver) == "os.environ";
                config.then(|| Value {
                    key: Some(Name::from(key)),
                    ..Value::default()
                })
            }
            Expr::Call(c) => self.config_read(c).or_else(|| {
                self.call_at(c.range()).map(|i| Value {
                    from_call: Some(i),
                    ..Value::default()
                })
            }),
            _ => None,
        }
    }

    /// An f-string: its literal parts, and each interpolation's text where known (`{}`
    /// otherwise); the key of the interpolation in the host, if any.
    fn fstring_value(&self, f: &ast::ExprFString, depth: u32) -> Value {
        let mut out = String::new();
        let mut keys: Vec<(usize, usize, Name)> = Vec::new();
        let mut element = |out: &mut String, el: &ast::InterpolatedStringElement| match el {
            ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
            ast::InterpolatedStringElement::Interpolation(i) => {
                let start = out.len();
                let v = self.dest_value(&i.expression, depth + 1);
                match v.as_ref().and_then(|v| v.text.as_deref()) {
                    Some(t) if !t.is_empty() => out.push_str(t),
                    _ => out.push_str("{}"),
                }
                if let Some(k) = v.and_then(|v| v.key) {
                    keys.push((start, out.len(), k));
                }
            }
        };
        for part in f.value.iter() {
            match part {
                ast::FStringPart::Literal(l) => out.push_str(&l.value),
                ast::FStringPart::FString(fs) => {
                    for el in fs.elements.iter() {
                        element(&mut out, el);
                    }
                }
            }
        }
        let key = match host_span(&out) {
            Some((hs, he)) => keys
                .into_iter()
                .find(|(s, e, _)| *s < he.max(hs + 1) && *e > hs)
                .map(|(.., k)| k),
            // `f"{base_url}/v1/chat"`: the interpolation the text starts with holds the whole
            // address.
            None => keys.into_iter().find(|(s, ..)| *s == 0).map(|(.., k)| k),
        };
        Value {
            text: text(&out),
            key,
            from_call: None,
            param: None,
        }
    }

    /// `x.get("key", "default")`, `os.getenv("KEY", "default")`, `os.environ.get(...)`: the
    /// key, and the default when it is a string.
    fn config_read(&self, c: &ast::ExprCall) -> Option<Value> {
        // Most calls are not reads: look at the method's name before building any text.
        let method = match &*c.func {
            Expr::Attribute(a) => a.attr.id.as_str(),
            Expr::Name(n) => n.id.as_str(),
            _ => return None,
        };
        if !matches!(method, "get" | "getenv") {
            return None;
        }
        let callee = dotted_name(&c.func)?;
        let resolved = self.resolve_head(&callee);
        let env = matches!(resolved.as_str(), "os.getenv" | "os.environ.get");
        if !env && !callee.ends_with(".get") {
            return None;
        }
        let key = str_literal(c.arguments.args.first()?).filter(|k| is_key(k))?;
        // The manifests' values count for a read on configuration; elsewhere (`msg.get("url")`)
        // only the default the code gives does.
        let receiver = callee.rsplit_once('.').map_or("", |(r, _)| r);
        let config = env || self.patterns.is_config_receiver(receiver);
        let default = c
            .arguments
            .args
            .get(1)
            .or_else(|| keyword(c, "default"))
            .and_then(str_literal)
            .filter(|d| !d.is_empty());
        if !config && default.is_none() {
            return None;
        }
        Some(Value {
            text: default.and_then(text),
            key: config.then(|| Name::from(key)),
            from_call: None,
            param: None,
        })
    }

    /// The index of the call record made by the call expression at `range`, among the calls
    /// just recorded in this function.
    fn call_at(&self, range: TextRange) -> Option<u32> {
        let from = self.facts.calls.len().saturating_sub(RECENT_CALLS);
        let last = super::calls::Which::Last;
        self.recorded_call(from, range.start(), last)
            .map(|i| i as u32)
    }

    /// An assignment: a name or `self.attr` now holds `value`'s destination, if any.
    pub(super) fn note_dest_assign(&mut self, target: &Expr, value: &Expr) {
        match target {
            Expr::Name(n) => {
                // Any text is kept (`host = "localhost"` fills `f"http://{host}"`); what may
                // point somewhere is filtered where it is used.
                let v = self.dest_value(value, 0);
                let id = self.bindings.number(n.id.as_str());
                self.dest.locals.insert((self.func, id), v);
            }
            Expr::Attribute(a) if matches!(&*a.value, Expr::Name(b) if b.id.as_str() == "self") => {
                let Some(class) = self.method_class(self.func) else {
                    return;
                };
                // A parameter is the storing method's own: read elsewhere it means nothing.
                let v = self
                    .dest_value(value, 0)
                    .filter(|v| v.may_point() && v.param.is_none());
                let slot = self
                    .dest
                    .attrs
                    .entry(class)
                    .or_default()
                    .entry(a.attr.id.to_string())
                    .or_insert_with(|| v.clone());
                if *slot != v {
                    *slot = None;
                }
            }
            _ => {}
        }
    }

    /// A `return`: what the function returns, if it may point somewhere.
    pub(super) fn note_dest_return(&mut self, value: Option<&Expr>) {
        let v = value
            .and_then(|e| self.dest_value(e, 0))
            .filter(Value::may_point);
        let slot = self
            .dest
            .returns
            .entry(self.func)
            .or_insert_with(|| Some(Vec::new()));
        match (slot.as_mut(), v) {
            (Some(all), Some(v)) => {
                if !all.contains(&v) && all.len() < 8 {
                    all.push(v);
                }
            }
            _ => *slot = None,
        }
    }

    /// A call just recorded: what its positional arguments (the first also as `url=`) hold,
    /// where they may point somewhere. A parameter is kept only after an argument given by
    /// name (`to_thread(f, url)`, `run_in_executor(None, f, url)`: passed on to `f`); a parameter
    /// passed straight to the call is its record's `url_param`.
    pub(super) fn note_dest_arg(&mut self, call: &ast::ExprCall, index: u32) {
        let args = &call.arguments.args;
        // Positions of the arguments given by a (dotted) name; their text is built only when
        // a later argument is passed on with them, which few calls do.
        let mut names: Vec<u8> = Vec::new();
        let mut found: Vec<(u8, Value)> = Vec::new();
        for (pos, arg) in args.iter().take(8).enumerate() {
            let pos = pos as u8;
            // Most arguments cannot point anywhere: skip them before building a value.
            let cheap_no = match arg {
                Expr::StringLiteral(s) => {
                    let t = s.value.to_str();
                    !t.contains("://") && !names_model(t)
                }
                Expr::NumberLiteral(_)
                | Expr::BooleanLiteral(_)
                | Expr::NoneLiteral(_)
                | Expr::List(_)
                | Expr::Dict(_)
                | Expr::Tuple(_)
                | Expr::Lambda(_)
                | Expr::Compare(_)
                | Expr::BinOp(_) => true,
                _ => false,
            };
            if !cheap_no && let Some(v) = self.dest_value(arg, 0).filter(Value::may_point) {
                found.push((pos, v));
            }
            if matches!(arg, Expr::Name(_) | Expr::Attribute(_)) && is_dotted(arg) {
                names.push(pos);
            }
        }
        if args.is_empty()
            && let Some(v) = keyword(call, "url")
                .and_then(|a| self.dest_value(a, 0))
                .filter(Value::may_point)
        {
            found.push((0, v));
        }
        let first_name = names.first().copied();
        let passed_on = |pos: u8| first_name.is_some_and(|c| pos > c);
        found.retain(|(pos, v)| v.param.is_none() || passed_on(*pos));
        if let Some(last) = found
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| passed_on(*p))
            .max()
        {
            self.dest
                .names
                .extend(names.into_iter().filter(|p| *p < last).filter_map(|p| {
                    let name = dotted_name(&args[p as usize])?;
                    Some((index, p, Name::from(name.as_str())))
                }));
        }
        self.dest
            .args
            .extend(found.into_iter().map(|(p, v)| (index, p, v)));
    }

    /// Moves what was learnt into the module's facts, once its calls are resolved: a value that
    /// is only another call's result is kept when that call may be the project's.
    pub(super) fn finish_destinations(&mut self) {
        let calls = &self.facts.calls;
        let useful = |v: &Value| {
            v.key.is_some()
                || v.text
                    .as_deref()
                    .is_some_and(|t| t.contains("://") || names_model(t))
                || v.from_call.is_some_and(|i| {
                    calls.get(i as usize).is_some_and(|c| {
                        c.api.is_none()
                            && matches!(
                                c.resolution,
                                Resolution::Local | Resolution::Import | Resolution::SelfMethod
                            )
                    })
                })
        };
        // The calls whose argument can matter: a request or a connection (catalog `url_arg`,
        // `peer_arg`), or a call that may be the project's (its callers' arguments are followed).
        let catalog = self.catalog;
        let reads_arg = |i: u32| {
            calls.get(i as usize).is_some_and(|c| match c.api {
                Some(api) => {
                    let e = catalog.get(api);
                    e.url_arg || e.peer_arg
                }
                None => c.resolution != Resolution::Unresolved,
            })
        };
        // Arguments after a callable are passed on to it only by the calls that run a callable
        // elsewhere with the arguments after it (`to_thread(f, x)`, `run_in_executor(None, f,
        // x)`, `pool.submit(f, x)`; `contexts.toml` offload functions and methods, and the
        // background methods).
        let patterns = self.patterns;
        let passes_on = |i: u32| {
            calls.get(i as usize).is_some_and(|c| {
                patterns.is_offload(&c.target)
                    || patterns
                        .background_methods
                        .iter()
                        .any(|m| c.target.rsplit('.').next() == Some(m.as_str()))
            })
        };
        let mut names: Vec<(u32, u8, Name)> = std::mem::take(&mut self.dest.names)
            .into_iter()
            .filter(|(i, ..)| passes_on(*i))
            .collect();
        names.sort_by_key(|(i, p, _)| (*i, *p));
        // The position of the first argument given by name, by call.
        let first_name = |i: u32| {
            let at = names.partition_point(|(c, ..)| *c < i);
            names.get(at).filter(|(c, ..)| *c == i).map(|(_, p, _)| *p)
        };
        let same_module = |i: u32| {
            calls.get(i as usize).is_some_and(|c| {
                c.api.is_none()
                    && matches!(c.resolution, Resolution::Local | Resolution::SelfMethod)
            })
        };
        let mut args: Vec<(u32, u8, Value)> = std::mem::take(&mut self.dest.args)
            .into_iter()
            .filter(|(i, p, v)| {
                let on = first_name(*i).is_some_and(|c| c < *p);
                if v.param.is_some() {
                    on
                } else if v.from_call.is_some() && !on && *p != 0 && !same_module(*i) {
                    // Another call's result is followed for a first argument, or for any
                    // argument of a call to a function of this module.
                    false
                } else {
                    (on || reads_arg(*i)) && useful(v)
                }
            })
            .collect();
        args.sort_by_key(|(i, p, _)| (*i, *p));
        names.retain(|(c, q, _)| {
            let at = args.partition_point(|(i, ..)| i < c);
            args[at..]
                .iter()
                .take_while(|(i, ..)| i == c)
                .any(|(_, p, _)| p > q)
        });
        self.facts.arg_names = names;
        let mut returns: Vec<(FuncId, Value)> = std::mem::take(&mut self.dest.returns)
            .into_iter()
            .filter_map(|(f, vs)| vs.map(|vs| (f, vs)))
            .filter(|(_, vs)| !vs.is_empty() && vs.iter().all(useful))
            .flat_map(|(f, vs)| vs.into_iter().map(move |v| (f, v)))
            .collect();
        returns.sort_by_key(|(f, _)| *f);
        self.facts.arg_values = args;
        self.facts.return_values = returns;
    }
}

#[cfg(test)]
mod tests {
    use super::host_span;

    #[test]
    fn host_spans() {
        let s = "tcp://localhost:5550";
        let (a, b) = host_span(s).unwrap();
        assert_eq!(&s[a..b], "localhost");
        let s = "http://u:p@{}:80/x";
        let (a, b) = host_span(s).unwrap();
        assert_eq!(&s[a..b], "{}");
        let s = "http://[::1]:80/";
        let (a, b) = host_span(s).unwrap();
        assert_eq!(&s[a..b], "[::1]");
        assert_eq!(host_span("/tmp/x"), None);
    }
}
