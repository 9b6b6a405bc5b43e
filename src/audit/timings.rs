//! Stage boundaries for `PERFAUDIT_TIMINGS`: elapsed time and resident memory after each
//! stage, printed to stderr; nothing else reads them.

use std::time::{Duration, Instant};

/// Stage boundaries for `PERFAUDIT_TIMINGS`: elapsed time and resident memory.
pub(super) struct Timings {
    start: Instant,
    modules: (Duration, String),
    project: (Duration, String),
    rules: Duration,
    /// Modules whose link results were reused (when the run could reuse any), of all.
    links: Option<(usize, usize)>,
}

impl Timings {
    pub(super) fn new(start: Instant) -> Timings {
        Timings {
            start,
            modules: (Duration::ZERO, String::new()),
            project: (Duration::ZERO, String::new()),
            rules: Duration::ZERO,
            links: None,
        }
    }

    pub(super) fn modules_done(&mut self) {
        self.modules = (self.start.elapsed(), resident_mib());
    }

    pub(super) fn project_done(&mut self) {
        self.project = (self.start.elapsed(), resident_mib());
    }

    pub(super) fn links(&mut self, reused: Option<usize>, modules: usize) {
        self.links = reused.map(|r| (r, modules));
    }

    pub(super) fn rules_done(&mut self) {
        self.rules = self.start.elapsed();
    }

    /// Says, when `PERFAUDIT_TIMINGS` is set, that the last run's result was reused.
    pub(super) fn print_reused(&self, modules: usize) {
        if std::env::var_os("PERFAUDIT_TIMINGS").is_some() {
            eprintln!("timings: total {:?}", self.start.elapsed());
            eprintln!("cache: the last run's result reused, {modules} modules unchanged");
        }
    }

    /// Prints the stage timings to stderr when `PERFAUDIT_TIMINGS` is set.
    pub(super) fn print(&self, cache: Option<&crate::module::cache::Cache>) {
        if std::env::var_os("PERFAUDIT_TIMINGS").is_none() {
            return;
        }
        let ((t_modules, rss_modules), (t_project, rss_project)) = (&self.modules, &self.project);
        eprintln!(
            "timings: modules {:?}, project {:?}, services+rules {:?}, total {:?}",
            t_modules,
            *t_project - *t_modules,
            self.rules - *t_project,
            self.start.elapsed()
        );
        eprintln!(
            "resident MiB (current/peak): after modules {rss_modules}, after project {rss_project}, \
             after rules {}",
            resident_mib()
        );
        if let Some(c) = cache {
            let (reused, parsed) = c.stats();
            eprintln!("cache: {reused} modules reused, {parsed} parsed");
        }
        if let Some((reused, modules)) = self.links {
            eprintln!("links: {reused} of {modules} modules' link results reused");
        }
    }
}

/// Current and peak resident memory in MiB, for `PERFAUDIT_TIMINGS` (Linux; `?` elsewhere).
fn resident_mib() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(|| "?".to_owned(), |kb| (kb / 1024).to_string())
    };
    format!("{}/{}", field("VmRSS:"), field("VmHWM:"))
}
