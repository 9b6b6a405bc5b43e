//! Turning expressions into dotted names and literal values, without recursion limits.

use ruff_python_ast::{self as ast, Expr};
use rustc_hash::FxHashMap;

use crate::knowledge::wildcard::NameFilter;

/// The callee of a call as written: a base and the attribute path on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Base {
    /// `a.b.c` starts at the name `a`.
    Name,
    /// `f(...).b.c` starts at the result of another call (index into the module's calls).
    CallResult(u32),
    /// Anything else (`x[0].m`, `"".join`): only the attribute path is known.
    Other,
    /// A receiver whose type an operator or attribute kept (`(base / "x").read_text`):
    /// `text` is `Type.method`.
    Typed,
}

#[derive(Debug, Clone)]
pub struct Dotted {
    pub base: Base,
    /// Source-like text: `self.client.get`, `<call>.read_text`, `<expr>.join`.
    pub text: String,
}

impl Dotted {
    /// The attribute path after the base, dot-separated (`client.get` for `self.client.get`).
    pub fn attrs(&self) -> &str {
        self.text.split_once('.').map_or("", |(_, rest)| rest)
    }

    /// The last attribute, or the name itself.
    pub fn last(&self) -> &str {
        crate::knowledge::contexts::last_segment(&self.text)
    }
}

/// Walks an attribute chain down to its base iteratively (attribute chains can be very deep)
/// and writes the chain as text in one allocation. `inner_call` is the index of the call
/// whose result the chain starts from, when it does.
pub fn dotted(expr: &Expr, inner_call: Option<u32>) -> Dotted {
    // The attributes come outermost first. The last few are kept on the stack (nearly every
    // chain is that short: this runs per call site), any before them in `deeper`.
    const NEAR: usize = 8;
    let mut near = [""; NEAR];
    let mut deeper: Vec<&str> = Vec::new();
    let mut count = 0;
    let mut cur = expr;
    let (base, head) = loop {
        match cur {
            Expr::Attribute(a) => {
                match near.get_mut(count) {
                    Some(slot) => *slot = a.attr.id.as_str(),
                    None => deeper.push(a.attr.id.as_str()),
                }
                count += 1;
                cur = &a.value;
            }
            Expr::Name(n) => break (Base::Name, n.id.as_str()),
            Expr::Call(_) => match inner_call {
                Some(i) => break (Base::CallResult(i), "<call>"),
                None => break (Base::Other, "<expr>"),
            },
            _ => break (Base::Other, "<expr>"),
        }
    };
    let near = &near[..count.min(NEAR)];
    let attrs = || deeper.iter().rev().chain(near.iter().rev());
    let len = head.len() + attrs().map(|a| a.len() + 1).sum::<usize>();
    let mut text = String::with_capacity(len);
    text.push_str(head);
    for a in attrs() {
        text.push('.');
        text.push_str(a);
    }
    Dotted { base, text }
}

/// `a.b.c` from `["a", "b", "c"]`, allocated once (`format!` is several times slower on these
/// hot paths).
pub fn dot_join(parts: &[&str]) -> String {
    let len = parts.iter().map(|p| p.len() + 1).sum::<usize>();
    let mut s = String::with_capacity(len);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(p);
    }
    s
}

/// The names a module defines at its top level, asked about at every name the walk loads: a
/// filter answers most "no"s without hashing the name (these lookups cost 42 M instructions
/// on the standard library, 618 k names, before it).
#[derive(Default)]
pub struct DefNames {
    names: FxHashMap<String, ()>,
    filter: NameFilter,
}

impl DefNames {
    pub fn insert(&mut self, name: String) {
        self.filter.insert(&name);
        self.names.insert(name, ());
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.filter.may_contain(name) && self.names.contains_key(name)
    }
}

/// Plain dotted text of a Name/Attribute chain (`a.b.c`), or `None` for anything else.
pub fn dotted_name(expr: &Expr) -> Option<String> {
    // Reject anything that does not end in a name before allocating.
    is_dotted(expr).then(|| dotted(expr, None).text)
}

/// Whether `expr` mentions the dotted name `text` anywhere in it (`t.is_alive()` mentions `t`,
/// `self.x is None` mentions `self.x`).
pub fn mentions(expr: &Expr, text: &str) -> bool {
    struct Finder<'t> {
        text: &'t str,
        found: bool,
    }
    impl<'a> ruff_python_ast::visitor::Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if self.found || dotted_name(e).as_deref() == Some(self.text) {
                self.found = true;
                return;
            }
            ruff_python_ast::visitor::walk_expr(self, e);
        }
    }
    let mut f = Finder { text, found: false };
    ruff_python_ast::visitor::Visitor::visit_expr(&mut f, expr);
    f.found
}

/// Whether `expr` is a Name/Attribute chain, which [`dotted_name`] writes out.
pub fn is_dotted(expr: &Expr) -> bool {
    let mut cur = expr;
    while let Expr::Attribute(a) = cur {
        cur = &a.value;
    }
    matches!(cur, Expr::Name(_))
}

/// The value of a call's keyword argument `name` (`timeout=5`).
pub fn keyword<'a>(call: &'a ruff_python_ast::ExprCall, name: &str) -> Option<&'a Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == name))
        .map(|k| &k.value)
}

pub fn str_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str()),
        _ => None,
    }
}

pub fn number_literal(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => i.as_i64().map(|v| v as f64),
            ast::Number::Float(f) => Some(*f),
            ast::Number::Complex { .. } => None,
        },
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::USub) => {
            number_literal(&u.operand).map(|v| -v)
        }
        _ => None,
    }
}

pub fn is_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
    )
}

/// Truncates a string to at most `max` characters on a char boundary.
pub fn truncate(s: &str, max: usize) -> String {
    // A text of at most `max` bytes has at most `max` characters: most texts are that short,
    // and counting their characters was most of this function's cost (59 M instructions on
    // the standard library, 216 k calls).
    if s.len() <= max {
        return s.to_owned();
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `text` with its first segment replaced by what the module imported under that name
/// (`np.array` -> `numpy.array`); unchanged when the name is not imported.
pub fn through_imports(imports: &FxHashMap<String, String>, text: &str) -> String {
    let (head, rest) = crate::knowledge::contexts::split_first(text, b'.').unwrap_or((text, ""));
    match imports.get(head) {
        Some(t) if rest.is_empty() => t.clone(),
        Some(t) => dot_join(&[t, rest]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    #[test]
    fn dotted_writes_chains_of_any_length_in_order() {
        for n in 0..20 {
            let mut text = "head".to_owned();
            for i in 0..n {
                text.push_str(&format!(".a{i}"));
            }
            let parsed = parse_expression(&text).unwrap();
            let d = dotted(parsed.expr(), None);
            assert_eq!(d.text, text);
            assert_eq!(d.base, Base::Name);
            let call = format!("f(){}", &text[4..]);
            let parsed = parse_expression(&call).unwrap();
            let d = dotted(parsed.expr(), Some(3));
            assert_eq!(d.text, format!("<call>{}", &text[4..]));
        }
    }
}
