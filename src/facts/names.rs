//! Turning expressions into dotted names and literal values, without recursion limits.

use ruff_python_ast::{self as ast, Expr};

/// The callee of a call as written: a base and the attribute path on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// `a.b.c` starts at the name `a`.
    Name(String),
    /// `f(...).b.c` starts at the result of another call (index into the module's calls).
    CallResult(u32),
    /// Anything else (`x[0].m`, `"".join`): only the attribute path is known.
    Other,
}

#[derive(Debug, Clone)]
pub struct Dotted {
    pub base: Base,
    pub attrs: Vec<String>,
}

impl Dotted {
    /// Source-like text: `self.client.get`, `<call>.read_text`, `<expr>.join`.
    pub fn text(&self) -> String {
        let mut s = match &self.base {
            Base::Name(n) => n.clone(),
            Base::CallResult(_) => "<call>".to_owned(),
            Base::Other => "<expr>".to_owned(),
        };
        for a in &self.attrs {
            s.push('.');
            s.push_str(a);
        }
        s
    }
}

/// Splits an attribute chain iteratively (attribute chains can be very deep).
/// `inner_call` is the index of the call whose result the chain starts from, when it does.
pub fn dotted(expr: &Expr, inner_call: Option<u32>) -> Dotted {
    let mut attrs = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            Expr::Attribute(a) => {
                attrs.push(a.attr.id.to_string());
                cur = &a.value;
            }
            Expr::Name(n) => {
                attrs.reverse();
                return Dotted {
                    base: Base::Name(n.id.to_string()),
                    attrs,
                };
            }
            Expr::Call(_) => {
                attrs.reverse();
                return Dotted {
                    base: inner_call.map_or(Base::Other, Base::CallResult),
                    attrs,
                };
            }
            _ => {
                attrs.reverse();
                return Dotted {
                    base: Base::Other,
                    attrs,
                };
            }
        }
    }
}

/// Plain dotted text of a Name/Attribute chain (`a.b.c`), or `None` for anything else.
pub fn dotted_name(expr: &Expr) -> Option<String> {
    let d = dotted(expr, None);
    match d.base {
        Base::Name(_) => Some(d.text()),
        _ => None,
    }
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
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
