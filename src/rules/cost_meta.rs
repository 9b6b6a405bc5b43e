//! What each rule says about its cost (`RuleMeta::cost`), and `perfaudit rule CODE`'s account
//! of it: where the figure for one occurrence comes from, how loops scale it, the frequency
//! cap and the worst cases that apply, rendered with the figures of the catalog.

use super::cost::fmt_range;
use crate::knowledge::catalog::{ApiEntry, Catalog, Effect};

/// Where a rule's figure for one occurrence comes from.
#[derive(Debug, Clone, Copy)]
pub enum CostFrom {
    /// The catalog range of the call's entry, for entries with one of these effects.
    Catalog(&'static [Effect]),
    /// The catalog range of these named entries (an operation the rule recognises itself).
    Entries(&'static [&'static str]),
    /// No latency estimate: the band is the rule's own measure, described here.
    Band(&'static str),
}

/// How the loops around a site scale its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Each loop around the site, and each loop around a call on its chain, repeats it.
    Loops,
    /// Paid once per process by the first request that reaches it: loops do not repeat it.
    FirstRequest,
    /// Not a latency: nothing scales.
    None,
}

/// How a rule's findings are costed, for `perfaudit rule CODE`: each rule states where the
/// figure for one occurrence comes from, how loops scale it and which worst cases apply; the
/// frequency cap is the cost model's, the same for every rule.
#[derive(Debug, Clone, Copy)]
pub struct CostMeta {
    pub from: CostFrom,
    pub scaling: Scaling,
    /// Whether the rule states a worst case where the code does (a `timeout=`, a `RCVTIMEO`,
    /// a retry count × backoff).
    pub worst: bool,
    /// Whether what the function then does with what it created is costed with it.
    pub follow_on: bool,
}

impl CostMeta {
    /// A catalog call of these effects, repeated by loops, with a worst case where stated.
    pub const fn calls(effects: &'static [Effect]) -> CostMeta {
        CostMeta {
            from: CostFrom::Catalog(effects),
            scaling: Scaling::Loops,
            worst: true,
            follow_on: false,
        }
    }

    /// Named catalog entries, repeated by loops, with no worst case of their own.
    pub const fn entries(names: &'static [&'static str]) -> CostMeta {
        CostMeta {
            from: CostFrom::Entries(names),
            scaling: Scaling::Loops,
            worst: false,
            follow_on: false,
        }
    }

    /// No latency: the band is the rule's measure.
    pub const fn band(why: &'static str) -> CostMeta {
        CostMeta {
            from: CostFrom::Band(why),
            scaling: Scaling::None,
            worst: false,
            follow_on: false,
        }
    }

    /// The same figure, scaled otherwise.
    pub const fn scaled(self, scaling: Scaling) -> CostMeta {
        CostMeta { scaling, ..self }
    }

    /// The creation, then what the function does with what it created (follow-on I/O).
    pub const fn then_on_it(self) -> CostMeta {
        CostMeta {
            follow_on: true,
            ..self
        }
    }

    /// The same figure, with no worst case of its own.
    pub const fn no_worst(self) -> CostMeta {
        CostMeta {
            worst: false,
            ..self
        }
    }
}

/// How many catalog entries `perfaudit rule` names as examples of a rule's figure.
const EXAMPLES: usize = 4;

/// The entries a rule's figure comes from: measured ones first, the shortest (most familiar)
/// names first among them.
fn cost_entries<'c>(meta: &CostMeta, catalog: &'c Catalog) -> Vec<&'c ApiEntry> {
    let mut entries: Vec<&ApiEntry> = match meta.from {
        CostFrom::Catalog(effects) => catalog
            .entries()
            .iter()
            .filter(|e| effects.contains(&e.effect))
            .collect(),
        CostFrom::Entries(names) => names
            .iter()
            .filter_map(|n| catalog.lookup(n).map(|id| catalog.get(id)))
            .collect(),
        CostFrom::Band(_) => Vec::new(),
    };
    entries.sort_by_key(|e| (!e.source.starts_with("measured:"), e.name.len()));
    entries
}

/// `perfaudit rule CODE`'s account of how that rule's cost is computed, step by step, with the
/// figures of the catalog the run would use.
pub fn explain(code: &str, meta: &CostMeta, catalog: &Catalog) -> String {
    let mut out = String::from("## How the cost is computed\n\n");
    let entries = cost_entries(meta, catalog);
    let step1 = match meta.from {
        CostFrom::Band(why) => {
            format!("1. **No latency estimate.** {why} The finding carries a band and no estimate.")
        }
        CostFrom::Catalog(effects) => {
            let names: Vec<String> = effects
                .iter()
                .map(|e| format!("`{}`", e.as_str()))
                .collect();
            format!(
                "1. **One call** costs the catalog range of its entry: {} {} with the {} \
                 effect{}. The band is read from the typical value, the geometric mean of the \
                 range.{}{}",
                entries.len(),
                if entries.len() == 1 {
                    "entry"
                } else {
                    "entries"
                },
                names.join(" or "),
                examples(&entries),
                literal_note(&entries),
                destination_note(&entries)
            )
        }
        CostFrom::Entries(_) => format!(
            "1. **One occurrence** costs the catalog range of the operation it repeats{}. The \
             band is read from the typical value, the geometric mean of the range.",
            examples(&entries)
        ),
    };
    out.push_str(&step1);
    if meta.follow_on {
        out.push_str(
            " **Then what the function does with it**: the catalog calls made on what it \
             created, later in the same function (`conn.execute(...)`, `conn.commit()`, \
             `sock.recv_json()`, `session.get(...)`, and calls on what those return, \
             `.fetchall()`), each costed for its arguments, are added to the creation; a \
             `sqlite3` connection used as a `with` block adds the commit at its end unless \
             every statement is a literal `SELECT`; a call in a loop the creation is not in \
             counts that loop (its literal bound, else ×10). A pool adds the wait at the end of \
             its `with` block for one task of the work it is handed (`pool.map(fn, ...)`, \
             `pool.submit(fn, ...)`): the catalog calls of that function or lambda, following \
             project calls three deep.",
        );
        let e = crate::knowledge::endpoints::Endpoints::shipped();
        out.push_str(&format!(
            " A request or a receive among them is narrowed by where it goes when the address \
             is known (a request's URL; for a receive, the address its socket's `connect` was \
             given), read as for a request (`perfaudit rule PA102`): at most {} to a local peer, \
             the peer's own work not counted; at least {} to a public host.",
            super::cost::fmt_ms(e.local.high_ms.unwrap_or(0.0)),
            super::cost::fmt_ms(e.remote.low_ms.unwrap_or(0.0)),
        ));
    }
    out.push_str("\n2. ");
    out.push_str(match meta.scaling {
        Scaling::Loops => {
            "**× the loop repetition.** Each `for` loop or comprehension around the site in its \
             own function, and each loop around a call on the chain in a caller (shown as \
             \"× N in caller `f` (line L)\", or \"× n (unknown)\" when its bound is not a \
             literal), repeats it: by the product of their literal `range(n)` bounds when \
             every one has one, else ×10 once (the documented default, nesting counted \
             once). Only per-request costs are multiplied. A `while` loop, or a loop over received \
             messages, is the request itself, never a repetition. A `for` loop over a literal \
             `range(n)` that exits on success and sleeps between attempts is a retry loop: one \
             attempt is the typical cost, all of them the worst."
        }
        Scaling::FirstRequest => {
            "**Not repeated by loops.** It is paid once per process, by the first request \
             that reaches it; later calls find it done."
        }
        Scaling::None => "**Nothing is multiplied**: no latency is estimated.",
    });
    out.push_str(
        "\n3. **The frequency caps the band** (the execution query decides the frequency): \
         `per-request` code can be critical; `per-call` (a coroutine no known request entry \
         reaches), `per-failure` (an `except` handler), `conditional` (a guarded branch that \
         skips the iteration) and `first-request` costs are medium at most; `periodic` (a \
         polling round) is low at most; `once`, `background` and `tooling` are information.",
    );
    out.push_str("\n4. ");
    out.push_str(&worst_step(meta, &entries));
    out.push_str(&format!(
        "\n\nEach {code} finding states these steps in its `cost:` line (the `basis` of its \
         estimate in JSON).\n"
    ));
    out
}

fn examples(entries: &[&ApiEntry]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    // One example per distinct figure: `httpx.get`, `httpx.post`, ... share theirs.
    let mut seen: Vec<(f64, f64, &str)> = Vec::new();
    let shown: Vec<String> = entries
        .iter()
        .filter(|e| {
            let key = (e.low_ms, e.high_ms, e.source.as_str());
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .take(EXAMPLES)
        .map(|e| {
            format!(
                "`{}` {} ({})",
                e.name,
                fmt_range(e.low_ms, e.high_ms),
                e.source
            )
        })
        .collect();
    let more = entries.len().saturating_sub(EXAMPLES);
    let tail = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(", e.g. {}{tail}", shown.join("; "))
}

/// How the destination narrows the range of the entries that take a URL, and of the receives
/// on a socket whose peer is known (`data/endpoints.toml`, `Project::destinations`).
fn destination_note(entries: &[&ApiEntry]) -> String {
    let urls: Vec<&str> = entries
        .iter()
        .filter(|e| e.url_arg)
        .map(|e| e.name.as_str())
        .collect();
    let receives: Vec<&str> = entries
        .iter()
        .filter(|e| e.rcvtimeo)
        .map(|e| e.name.as_str())
        .collect();
    let which = match (urls.first(), receives.first()) {
        (Some(u), Some(r)) => format!(
            "for {} of these entries (e.g. `{u}`, by its URL, and `{r}`, by the address its \
             socket connected to)",
            urls.len() + receives.len()
        ),
        (Some(u), None) => format!("for {} of these entries (e.g. `{u}`)", urls.len()),
        (None, Some(r)) => format!(
            "for {} of these entries (e.g. `{r}`, by the address its socket connected to)",
            receives.len()
        ),
        (None, None) => return String::new(),
    };
    let e = crate::knowledge::endpoints::Endpoints::shipped();
    format!(
        " Where the call goes narrows the range {which}, when the address is known: a literal \
         or a constant; an f-string whose host is known; a read of a key \
         (`entry.get(\"host\", \"localhost\")`), by the default the code gives and, on \
         configuration (`self.options.get(\"alert_webhook\")`, `os.getenv(\"API_URL\")`; \
         `config_receivers` in `data/contexts.toml`), by every value the system's manifests \
         give the key; what a project function returns; or a \
         parameter that every caller fills with one of these (directly or through \
         `to_thread(f, address)`). To a local host (loopback, a private address, a service \
         name without a dot) at most {}, the peer's own work not counted (it is reported in \
         the peer's service); to a public host at least {}; an unknown host, or one that is \
         local for some callers and public for others, keeps the whole range.",
        super::cost::fmt_ms(e.local.high_ms.unwrap_or(0.0)),
        super::cost::fmt_ms(e.remote.low_ms.unwrap_or(0.0)),
    )
}

fn literal_note(entries: &[&ApiEntry]) -> String {
    let literal: Vec<String> = entries
        .iter()
        .filter(|e| e.arg_seconds.is_some())
        .take(EXAMPLES)
        .map(|e| format!("`{}`", e.name))
        .collect();
    if literal.is_empty() {
        String::new()
    } else {
        format!(
            " A literal duration replaces the range for {} (`time.sleep(0.5)` costs 500 ms); \
             a computed one keeps the range.",
            literal.join(", ")
        )
    }
}

fn worst_step(meta: &CostMeta, entries: &[&ApiEntry]) -> String {
    if !meta.worst && meta.follow_on {
        return "**The worst case is that of what it then does**, shown beside the band: a \
                literal `timeout=` on a request made on the client, the socket's `RCVTIMEO` \
                before a receive; \"no bound\" when such a call has neither."
            .to_owned();
    }
    if !meta.worst {
        return "**No worst case** is stated beside the band for this rule: its figure does \
                not wait on a peer."
            .to_owned();
    }
    let mut parts = Vec::new();
    let timeouts: Vec<&str> = entries
        .iter()
        .filter(|e| e.timeout_kw)
        .map(|e| e.name.as_str())
        .collect();
    if let Some(first) = timeouts.first() {
        parts.push(format!(
            "a literal `timeout=` (accepted by {} of these entries, e.g. `{first}`) is the \
             longest one call can wait (\"at worst 5.0 s (its `timeout=`)\"); without one the \
             basis says \"no bound (no `timeout=`)\"",
            timeouts.len()
        ));
    }
    if let Some(first) = entries.iter().find(|e| e.rcvtimeo) {
        parts.push(format!(
            "a ZMQ receive (`{}`, ...) waits at most the socket's `RCVTIMEO` when the same \
             function sets it before the receive (or, for a `self.` socket, another method of \
             its class does), to a literal, a module constant or a parameter's literal \
             default; without one the basis says \"no bound (no `RCVTIMEO` on the socket)\"",
            first.name
        ));
    }
    parts.push(
        "in a retry loop, every attempt and every pause: `for attempt in range(3):` around a \
         call with `timeout=5` and `time.sleep(2)` is at worst 3 × (5 s + 2 s) = 21 s, and the \
         pauses alone 3 × 2 s = 6 s"
            .to_owned(),
    );
    format!(
        "**The worst case is shown beside the band, never banded**: {}. Loops that repeat the \
         call multiply it too.",
        parts.join("; ")
    )
}
