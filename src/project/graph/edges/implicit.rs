//! The edges of calls Python makes without a plain `f()` at the site, from a module's
//! `implicit` facts: the iteration protocol of a `for` loop, property getters behind
//! attribute reads, callables called through a dispatch table, and methods looked up by a
//! prefixed name. Each edge is labelled with how the code wrote the call, for the chain.

use super::{ModuleCx, ModuleEdges, constructor_edge};
use crate::facts::{Implicit, ImplicitKind, Resolution};
use crate::finding::Confidence;
use crate::project::graph::{Edge, EdgeKind, Receiver};
use crate::project::resolve::{ClassRef, Target};

/// Every implicit call of the module, one edge per function it may run.
pub(super) fn implicit_edges<'m>(cx: &mut ModuleCx<'_, 'm>, out: &mut ModuleEdges) {
    let m = cx.facts();
    for imp in &m.implicit {
        match imp.kind {
            ImplicitKind::Iter { is_async } => iteration(cx, imp, is_async, out),
            ImplicitKind::AttrRead => property(cx, imp, out),
            ImplicitKind::Dispatch => dispatch(cx, imp, out),
            ImplicitKind::MethodPrefix => prefixed(cx, imp, out),
        }
    }
}

fn push(
    cx: &ModuleCx<'_, '_>,
    imp: &Implicit,
    to: u32,
    confidence: Confidence,
    receiver: Receiver,
    dispatch: Option<ClassRef>,
    out: &mut ModuleEdges,
) {
    let label = out.label(imp.label.to_string());
    out.edges.push((
        cx.node(imp.func),
        Edge::new(
            to,
            imp.line,
            EdgeKind::Call,
            confidence,
            dispatch,
            receiver,
            label,
        ),
    ));
}

/// `for x in Reader()`: `__iter__` and `__next__` (`__aiter__`/`__anext__` for `async for`)
/// of the iterated object's class.
fn iteration<'m>(
    cx: &mut ModuleCx<'_, 'm>,
    imp: &'m Implicit,
    is_async: bool,
    out: &mut ModuleEdges,
) {
    let names = if is_async {
        ["__aiter__", "__anext__"]
    } else {
        ["__iter__", "__next__"]
    };
    for (t, confidence, _) in cx.targets(imp.func, &imp.target, imp.resolution, "") {
        let Target::Class(c) = t else { continue };
        for name in names {
            if let Some(f) = cx.resolver.lookup_method(c, name) {
                push(
                    cx,
                    imp,
                    cx.ids.id(f),
                    confidence,
                    Receiver::Typed(c),
                    None,
                    out,
                );
            }
        }
    }
}

/// `self.model` or `obj.model` where `model` is a property (or a cached one): its getter.
fn property<'m>(cx: &mut ModuleCx<'_, 'm>, imp: &'m Implicit, out: &mut ModuleEdges) {
    let receiver = if imp.resolution == Resolution::SelfMethod {
        Receiver::Same
    } else {
        Receiver::Fresh
    };
    for (t, confidence, dispatch) in cx.targets(imp.func, &imp.target, imp.resolution, "") {
        let Target::Function(f) = t else { continue };
        let getter = &cx.modules[f.module as usize].functions[f.func as usize];
        if getter
            .decorators
            .iter()
            .any(|d| cx.patterns.is_property_decorator(d))
        {
            push(cx, imp, cx.ids.id(f), confidence, receiver, dispatch, out);
        }
    }
}

/// `handlers[action](data)`: each callable the table holds may run (a class is built).
fn dispatch<'m>(cx: &mut ModuleCx<'_, 'm>, imp: &'m Implicit, out: &mut ModuleEdges) {
    let targets = cx.callable_targets(imp.func, &imp.target, imp.resolution);
    let receiver = if imp.resolution == Resolution::SelfMethod {
        Receiver::Same
    } else {
        Receiver::Fresh
    };
    for (t, confidence, dispatch) in targets {
        let confidence = confidence.min(Confidence::Probable);
        match t {
            Target::Function(f) => push(cx, imp, cx.ids.id(f), confidence, receiver, dispatch, out),
            Target::Class(c) => {
                let from = cx.node(imp.func);
                if let Some(init) = constructor_edge(cx, from, c, out) {
                    push(cx, imp, init, confidence, Receiver::Built(c), None, out);
                }
            }
        }
    }
}

/// `getattr(self, "handle_" + kind)(msg)`: every method of the receiver's class whose name
/// starts with the literal prefix, as a probable call.
fn prefixed<'m>(cx: &mut ModuleCx<'_, 'm>, imp: &'m Implicit, out: &mut ModuleEdges) {
    let Some((class_name, prefix)) = imp.target.rsplit_once('.') else {
        return;
    };
    let class = match cx.memo.resolve(class_name) {
        Some((Target::Class(c), _)) => c,
        _ => return,
    };
    let receiver = if imp.resolution == Resolution::SelfMethod {
        Receiver::Same
    } else {
        Receiver::Typed(class)
    };
    for f in cx.resolver.methods_with_prefix(class, prefix) {
        push(
            cx,
            imp,
            cx.ids.id(f),
            Confidence::Probable,
            receiver,
            None,
            out,
        );
    }
}
