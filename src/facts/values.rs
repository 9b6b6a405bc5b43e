//! What literal strings and paths hold: model names and path hints for call records,
//! module-level string constants, and the directories a module adds to `sys.path`.
//!
//! Only a fixed set of expressions is understood (literals, f-strings, `__file__`, `os.path`
//! and `pathlib` helpers); anything else is unknown, never guessed.

use ruff_python_ast::{self as ast, Expr};

use super::collect::Collector;
use super::names::{Base, dotted, dotted_name, str_literal, through_imports};

impl Collector<'_> {
    pub(super) fn record_sys_path(&mut self, call: &ast::ExprCall) {
        // Only the head is resolved: a method call ends as written.
        if let Expr::Attribute(a) = &*call.func
            && !matches!(a.attr.id.as_str(), "insert" | "append")
        {
            return;
        }
        let Some(text) = dotted_name(&call.func) else {
            return;
        };
        let resolved = self.resolve_head(&text);
        if resolved != "sys.path.insert" && resolved != "sys.path.append" {
            return;
        }
        let arg = if resolved.ends_with("insert") {
            call.arguments.args.get(1)
        } else {
            call.arguments.args.first()
        };
        if let Some(dir) = arg.and_then(|a| self.eval_path(a, 0)) {
            self.facts.sys_path.push(dir);
        }
    }

    /// Evaluates a path expression relative to the module's own directory, as a `/`-joined list
    /// of segments relative to the audited root (`..` allowed). Only `__file__`, literals,
    /// `os.path.dirname/abspath/realpath/normpath/join`, `pathlib.Path(...)`, `.parent`,
    /// `.resolve()` and `/` are understood.
    pub(super) fn eval_path(&self, expr: &Expr, depth: u32) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match expr {
            Expr::Name(n) if n.id.as_str() == "__file__" => Some(self.facts.path.clone()),
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                (!v.starts_with('/')).then(|| v.to_owned())
            }
            Expr::Attribute(a) if a.attr.id.as_str() == "parent" => {
                self.eval_path(&a.value, depth + 1).map(|p| parent_of(&p))
            }
            Expr::BinOp(b) if matches!(b.op, ast::Operator::Div) => {
                let l = self.eval_path(&b.left, depth + 1)?;
                let r = str_literal(&b.right)?;
                Some(join_path(&l, r))
            }
            Expr::Call(c) => {
                let f = dotted(&c.func, None);
                let name = match &f.base {
                    Base::Name => self.resolve_head(&f.text),
                    _ => f.attrs().rsplit('.').next().unwrap_or("").to_owned(),
                };
                let last = name.rsplit('.').next().unwrap_or("");
                match (name.as_str(), last) {
                    ("os.path.dirname", _) => self
                        .eval_path(c.arguments.args.first()?, depth + 1)
                        .map(|p| parent_of(&p)),
                    (
                        "os.path.abspath" | "os.path.realpath" | "os.path.normpath"
                        | "pathlib.Path" | "str",
                        _,
                    ) => self.eval_path(c.arguments.args.first()?, depth + 1),
                    ("os.path.join", _) => {
                        let mut it = c.arguments.args.iter();
                        let mut acc = self.eval_path(it.next()?, depth + 1)?;
                        for part in it {
                            acc = join_path(&acc, str_literal(part)?);
                        }
                        Some(acc)
                    }
                    (_, "resolve" | "absolute") => match &*c.func {
                        Expr::Attribute(a) => self.eval_path(&a.value, depth + 1),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// What a string argument is known to hold: a literal, an f-string's literal parts with `{}`
    /// for each interpolation, a module-level constant, or `~` for the home directory
    /// (`os.path.expanduser("~")`, `Path.home()`).
    pub(super) fn literal_hint(&self, expr: &Expr, depth: u32) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match expr {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
            Expr::FString(f) => {
                let mut out = String::new();
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => out.push_str(&l.value),
                        ast::FStringPart::FString(fs) => {
                            for el in fs.elements.iter() {
                                match el {
                                    ast::InterpolatedStringElement::Literal(l) => {
                                        out.push_str(&l.value)
                                    }
                                    ast::InterpolatedStringElement::Interpolation(_) => {
                                        out.push_str("{}")
                                    }
                                }
                            }
                        }
                    }
                }
                Some(out)
            }
            Expr::Name(n) => self.constants.get(n.id.as_str()).cloned(),
            Expr::Call(c) => {
                // The names below end like the callee, or the callee is a bare name imported
                // under another: any other call is ruled out before its name is written.
                const LASTS: [&str; 8] = [
                    "home",
                    "getcwd",
                    "expanduser",
                    "abspath",
                    "realpath",
                    "normpath",
                    "Path",
                    "str",
                ];
                let may = match &*c.func {
                    Expr::Attribute(a) => LASTS.contains(&a.attr.id.as_str()),
                    Expr::Name(n) => {
                        LASTS.contains(&n.id.as_str()) || self.imports.contains_key(n.id.as_str())
                    }
                    _ => false,
                };
                if !may {
                    return None;
                }
                let callee = dotted_name(&c.func)?;
                match self.resolve_head(&callee).as_str() {
                    "pathlib.Path.home" | "os.getcwd" if c.arguments.args.is_empty() => {
                        Some(if callee.ends_with("home") {
                            "~".to_owned()
                        } else {
                            ".".to_owned()
                        })
                    }
                    "os.path.expanduser" | "os.path.abspath" | "os.path.realpath"
                    | "os.path.normpath" | "pathlib.Path" | "str" => {
                        self.literal_hint(c.arguments.args.first()?, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub(super) fn resolve_head(&self, text: &str) -> String {
        through_imports(&self.imports, text)
    }
}

/// `a/b/c.py` -> `a/b`; `a` -> `` ; `` -> `..`.
fn parent_of(path: &str) -> String {
    if path.is_empty() || path == "." {
        return "..".to_owned();
    }
    if path.ends_with("..") {
        return format!("{path}/..");
    }
    match path.rfind('/') {
        Some(i) => path[..i].to_owned(),
        None => String::new(),
    }
}

fn join_path(base: &str, part: &str) -> String {
    let mut segs: Vec<String> = base
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect();
    for p in part.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if segs.last().is_some_and(|s| s != "..") {
                    segs.pop();
                } else {
                    segs.push("..".to_owned());
                }
            }
            _ => segs.push(p.to_owned()),
        }
    }
    segs.join("/")
}

/// Normalises a relative path with `..` segments (`a/b/../c` -> `a/c`).
pub fn normalise_path(path: &str) -> String {
    join_path("", path)
}
