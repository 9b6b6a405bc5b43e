//! Coarse value kinds of local names, from the expression or annotation that binds them.
//!
//! AST-level rules need to know whether `x` in `item in x` is a list or a set, or whether `s`
//! in `s += ...` holds a string. Python gives no types, so the kind comes only from evidence in
//! the same scope: a literal, a comprehension, a call of a builtin constructor, an annotation.
//! Everything else is `Other`, and rules stay silent on `Other`.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr};

/// What a binding says about the value a name holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A list that can grow: `[]`, a list comprehension, `list(...)`, `sorted(...)`, or a
    /// `list` annotation (a caller's list of unknown length).
    List,
    /// A non-empty list display (`["a", "b"]`): its length is fixed by the source text.
    ListLiteral,
    Set,
    Dict,
    Tuple,
    /// A string literal or f-string.
    Str,
    Number,
    /// Anything else: a parameter without annotation, a call result, a loop variable.
    Other,
}

/// The kind of the value `expr` evaluates to, when its syntax says.
pub fn kind_of_expr(expr: &Expr) -> ValueKind {
    match expr {
        Expr::List(l) if l.elts.is_empty() => ValueKind::List,
        Expr::List(_) => ValueKind::ListLiteral,
        Expr::ListComp(_) => ValueKind::List,
        Expr::Set(_) | Expr::SetComp(_) => ValueKind::Set,
        Expr::Dict(_) | Expr::DictComp(_) => ValueKind::Dict,
        Expr::Tuple(_) => ValueKind::Tuple,
        Expr::StringLiteral(_) | Expr::FString(_) => ValueKind::Str,
        Expr::NumberLiteral(_) => ValueKind::Number,
        Expr::Call(c) => match &*c.func {
            // The builtin constructors; a module that shadows `list` is rare enough to accept.
            Expr::Name(n) => match n.id.as_str() {
                "list" | "sorted" => ValueKind::List,
                "set" | "frozenset" => ValueKind::Set,
                "dict" => ValueKind::Dict,
                "tuple" => ValueKind::Tuple,
                "str" => ValueKind::Str,
                "int" | "float" | "len" => ValueKind::Number,
                _ => ValueKind::Other,
            },
            _ => ValueKind::Other,
        },
        _ => ValueKind::Other,
    }
}

/// The kind an annotation promises: `list`, `List[int]`, `typing.List[str]`, `set[str]`, ...
pub fn kind_of_annotation(annotation: &Expr) -> ValueKind {
    let head = match annotation {
        Expr::Subscript(s) => &*s.value,
        e => e,
    };
    let name = match head {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(ast::ExprAttribute { attr, .. }) => attr.id.as_str(),
        _ => return ValueKind::Other,
    };
    match name {
        "list" | "List" => ValueKind::List,
        "set" | "Set" | "frozenset" | "FrozenSet" => ValueKind::Set,
        "dict" | "Dict" => ValueKind::Dict,
        "tuple" | "Tuple" => ValueKind::Tuple,
        "str" => ValueKind::Str,
        "int" | "float" => ValueKind::Number,
        _ => ValueKind::Other,
    }
}

/// One binding of a name (or of `self.attr`) to a kind.
#[derive(Debug, Clone)]
pub struct KindBinding {
    pub func: u32,
    /// The class whose methods share `self.attr` bindings, for attribute names.
    pub class: Option<u32>,
    pub kind: ValueKind,
    /// Loop depth inside its function where the binding happened.
    pub loop_depth: u8,
}

/// Every binding of each name (`name` or `self.attr`) in the order the module pass saw them;
/// keyed by name so that a lookup stays cheap in very large modules.
pub type KindBindings = HashMap<String, Vec<KindBinding>>;

/// The latest binding of `name` visible from function `func` (of class `class`): a local name
/// is looked up in the function, `self.attr` in every method of the class seen so far.
pub fn latest<'k>(
    bindings: &'k KindBindings,
    func: u32,
    class: Option<u32>,
    name: &str,
) -> Option<&'k KindBinding> {
    let is_attr = name.starts_with("self.");
    bindings.get(name)?.iter().rev().find(|b| {
        if is_attr {
            class.is_some() && b.class == class
        } else {
            b.func == func
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn kind(src: &str) -> ValueKind {
        kind_of_expr(parse_expression(src).unwrap().expr())
    }

    fn ann(src: &str) -> ValueKind {
        kind_of_annotation(parse_expression(src).unwrap().expr())
    }

    #[test]
    fn expression_kinds() {
        assert_eq!(kind("[]"), ValueKind::List);
        assert_eq!(kind("[x for x in y]"), ValueKind::List);
        assert_eq!(kind("list(y)"), ValueKind::List);
        assert_eq!(kind("[1, 2]"), ValueKind::ListLiteral);
        assert_eq!(kind("{1, 2}"), ValueKind::Set);
        assert_eq!(kind("{}"), ValueKind::Dict);
        assert_eq!(kind("set()"), ValueKind::Set);
        assert_eq!(kind("''"), ValueKind::Str);
        assert_eq!(kind("f'{x}'"), ValueKind::Str);
        assert_eq!(kind("0"), ValueKind::Number);
        assert_eq!(kind("load()"), ValueKind::Other);
    }

    #[test]
    fn annotation_kinds() {
        assert_eq!(ann("list"), ValueKind::List);
        assert_eq!(ann("list[dict[str, int]]"), ValueKind::List);
        assert_eq!(ann("typing.List[str]"), ValueKind::List);
        assert_eq!(ann("set[str]"), ValueKind::Set);
        assert_eq!(ann("Optional[list]"), ValueKind::Other);
    }

    #[test]
    fn latest_binding_per_scope() {
        let mut all = KindBindings::default();
        let mut b = |func, class, name: &str, kind| {
            all.entry(name.to_owned()).or_default().push(KindBinding {
                func,
                class,
                kind,
                loop_depth: 0,
            })
        };
        b(1, Some(0), "self.items", ValueKind::List);
        b(2, Some(0), "seen", ValueKind::List);
        b(2, Some(0), "seen", ValueKind::Set);
        b(3, None, "seen", ValueKind::List);
        assert_eq!(
            latest(&all, 2, Some(0), "seen").unwrap().kind,
            ValueKind::Set
        );
        assert_eq!(
            latest(&all, 2, Some(0), "self.items").unwrap().kind,
            ValueKind::List
        );
        assert!(latest(&all, 4, Some(1), "self.items").is_none());
        assert!(latest(&all, 4, None, "seen").is_none());
    }
}
