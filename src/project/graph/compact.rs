//! The call graph's edge array: each edge in 16 bytes, with what few edges have (a label, a
//! dispatch class, a receiver's class) in an array beside it.

use super::{Edge, EdgeKind, Graph, NO_CLASS, NO_LABEL, Receiver, ReceiverKind};
use crate::finding::Confidence;
use crate::project::resolve::ClassRef;

/// An edge as the graph keeps it, 16 bytes: what every edge has, and the index of what few
/// have (a label, a dispatch class, a receiver's class: [`EdgeExtra`]) in the graph's
/// `extras`. On the standard library 25,237 of 177,514 edges have one: 3.2 MiB where the
/// 32-byte [`Edge`] took 5.4 MiB. The per-module lists (and the link cache) keep `Edge`.
#[derive(Debug, Clone, Copy)]
pub struct GraphEdge {
    pub to: u32,
    pub line: u32,
    /// An index into `Graph::extras`, or [`NO_EXTRA`].
    pub(super) extra: u32,
    pub(super) kind: EdgeKind,
    pub confidence: Confidence,
    pub(super) receiver_kind: ReceiverKind,
    /// Whether the edge is a `self.m()` dispatch to a subclass override (its class is in the
    /// extras): known without them, for the indexes that leave dispatch edges out.
    pub(super) dispatched: bool,
}

const _: () = assert!(std::mem::size_of::<GraphEdge>() == 16);

/// `GraphEdge::extra` when the edge has no label, dispatch class or receiver class.
pub(super) const NO_EXTRA: u32 = u32::MAX;

/// What few edges have: the label's index in the graph's labels ([`NO_LABEL`] for none), the
/// dispatch class and the receiver's class ([`NO_CLASS`] for none).
#[derive(Debug, Clone, Copy)]
pub(super) struct EdgeExtra {
    pub label: u32,
    pub dispatch: ClassRef,
    pub receiver_class: ClassRef,
}

impl GraphEdge {
    /// Whether the edge is a `self.m()` dispatch to a subclass override
    /// ([`Graph::dispatch`] says to which class).
    pub fn is_dispatch(&self) -> bool {
        self.dispatched
    }
}

impl Graph {
    fn extra(&self, e: &GraphEdge) -> Option<&EdgeExtra> {
        match e.extra {
            NO_EXTRA => None,
            i => self.extras.get(i as usize),
        }
    }

    /// For `self.m()` dispatched to a subclass override: the class that defines it. A service
    /// follows the edge only when it instantiates that class (or a subclass of it), and a
    /// context only when the receiver on its chain can be an instance of it.
    pub fn dispatch(&self, e: &GraphEdge) -> Option<ClassRef> {
        self.extra(e)
            .map(|x| x.dispatch)
            .filter(|&c| e.dispatched && c != NO_CLASS)
    }

    /// How the code wrote an implicit call, as an index into the labels, or [`NO_LABEL`].
    pub(super) fn label_of(&self, e: &GraphEdge) -> u32 {
        self.extra(e).map_or(NO_LABEL, |x| x.label)
    }

    /// What the call says about the callee's `self`.
    pub(super) fn receiver(&self, e: &GraphEdge) -> Receiver {
        let class = || self.extra(e).map_or(NO_CLASS, |x| x.receiver_class);
        match e.receiver_kind {
            ReceiverKind::Fresh => Receiver::Fresh,
            ReceiverKind::Same => Receiver::Same,
            ReceiverKind::Built => Receiver::Built(class()),
            ReceiverKind::Typed => Receiver::Typed(class()),
        }
    }
}

/// An edge as the graph keeps it, without its extras (`Graph::build` adds them).
pub(super) fn compact(e: &Edge) -> GraphEdge {
    GraphEdge {
        to: e.to,
        line: e.line,
        extra: NO_EXTRA,
        kind: e.kind,
        confidence: e.confidence,
        receiver_kind: e.receiver_kind,
        dispatched: e.dispatch != NO_CLASS,
    }
}
