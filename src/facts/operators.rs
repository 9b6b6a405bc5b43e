//! Types that flow through operators and attributes rather than calls: `Path(__file__).parent
//! / "data.json"` is a `pathlib.Path`, so its `.read_text()` is `pathlib.Path.read_text`, and
//! so is `d.glob("*")` after `d = base / name`.
//!
//! Which types divide into themselves and which attributes keep the type are data
//! (`contexts.toml`: `division_types`, `same_type_attributes`); which methods return the type
//! is the catalog's `returns`. This is read during the walk, from the imports and bindings seen
//! so far: it never looks at other modules.

use ruff_python_ast::{self as ast, Expr};

use super::bindings::Binding;
use super::collect::Collector;
use super::names::{dotted_name, through_imports};

impl Collector<'_> {
    /// The type of an expression that operators or attributes keep, if one is known
    /// (`base / "x"`, `p.parent`, `p.resolve()`, `Path(...)`, a name bound to one of them).
    pub(super) fn operator_type(&self, e: &Expr) -> Option<String> {
        self.operator_type_depth(e, 0)
    }

    fn operator_type_depth(&self, e: &Expr, depth: u32) -> Option<String> {
        if depth > 16 {
            return None;
        }
        let known = |t: String| self.patterns.division_types.contains(&t).then_some(t);
        match e {
            Expr::BinOp(b) if b.op == ast::Operator::Div => {
                self.operator_type_depth(&b.left, depth + 1)
            }
            Expr::Attribute(a) => {
                let t = self.operator_type_depth(&a.value, depth + 1)?;
                let attr = format!("{t}.{}", a.attr.id);
                self.patterns
                    .same_type_attributes
                    .contains(&attr)
                    .then_some(t)
            }
            Expr::Call(c) => {
                // `Path(...)`, `pathlib.Path(...)`: the type itself.
                if let Some(t) = dotted_name(&c.func)
                    .map(|n| through_imports(&self.imports, &n))
                    .and_then(known)
                {
                    return Some(t);
                }
                // `p.resolve()`: a method the catalog says returns the receiver's type.
                let Expr::Attribute(a) = &*c.func else {
                    return None;
                };
                let t = self.operator_type_depth(&a.value, depth + 1)?;
                let id = self.catalog.lookup(&format!("{t}.{}", a.attr.id))?;
                (self.catalog.get(id).returns.as_deref() == Some(t.as_str())).then_some(t)
            }
            // A local, else a global (`BASE = Path(__file__).parent`).
            Expr::Name(n) => match self
                .bindings
                .before(self.func, n.id.as_str(), usize::MAX)
                .or_else(|| self.bindings.before(0, n.id.as_str(), usize::MAX))
            {
                Some(Binding::Type(t)) => Some(t),
                Some(Binding::Annotation(a)) => known(through_imports(&self.imports, &a)),
                Some(Binding::Call(i)) => known(through_imports(
                    &self.imports,
                    &self.raw[i as usize].callee.text,
                )),
                _ => None,
            },
            _ => None,
        }
    }

    /// `d = base / name`: the name holds the operator's type (a call's result is bound by
    /// `bind_target` already).
    pub(super) fn bind_operator_type(&mut self, target: &Expr, value: &Expr) {
        if let Expr::Name(n) = target
            && !matches!(value, Expr::Call(_))
            && let Some(t) = self.operator_type(value)
        {
            self.bindings
                .bind(self.func, n.id.as_str(), Binding::Type(t));
        }
    }
}
