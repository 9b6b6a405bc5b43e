//! The rules stage's schedule: which rule a worker of the pool takes next.

use crate::finding::Finding;
use crate::rules::{Rule, RuleContext};

/// The rules that cost most on a large project, costliest first (instructions on the standard
/// library with one file changed: PA204 54 M with the containers PA207 shares, PA113 39 M,
/// PA115 33 M with the callers index, PA110 28 M; every other rule 10 M or less).
const COSTLIEST_RULES: &[&str] = &["PA204", "PA113", "PA115", "PA110"];

/// Runs every rule on the pool and returns their findings in `rules` order. Each worker takes
/// the next rule from one list that starts with the costliest, so that no long rule starts
/// while the other workers run out of rules: split by halves as a parallel iterator splits
/// them, a long rule taken last left one core idle for 20–50 ms of a one-changed run.
pub(super) fn run_rules(
    pool: &rayon::ThreadPool,
    rules: &[&'static dyn Rule],
    cx: &RuleContext<'_>,
) -> Vec<Finding> {
    let rank = |r: &&dyn Rule| {
        let code = r.meta().code;
        COSTLIEST_RULES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(COSTLIEST_RULES.len())
    };
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rank(&rules[i]));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<Finding>)> = pool
        .broadcast(|_| {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else {
                    break mine;
                };
                let mut out = Vec::new();
                rules[i].check(cx, &mut out);
                mine.push((i, out));
            }
        })
        .into_iter()
        .flatten()
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, out)| out).collect()
}
