//! The command line: clap definitions, turning flags into `Settings`, and the three commands.
//! Returns the process exit code; `main` does nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, FileConfig};
use crate::finding::Severity;
use crate::rules::{RULES, find_rule};
use crate::settings::{Format, Settings, parse_target_version};

/// Exit codes: the table in `EXIT_CODES` (and the README) says what each means.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// The exit-code table, shown at the end of `--help` and kept word for word in the README.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above --fail-on (or --exit-zero was given)
  1  a finding at or above --fail-on (default: high) in code that a service runs
  2  an error: a path that does not exist, a bad configuration file or flag, an output that
     cannot be written, or an internal error (a file whose analysis failed, unless
     --keep-going is given)
Findings in code that no service runs (tests, scripts, examples, backup copies, code no
service or entry point reaches; --include-not-run counts them) and findings that the baseline
records never make the exit code 1.";

#[derive(Parser, Debug)]
#[command(
    name = "perfaudit",
    version,
    about = "Static performance audit of Python services and multi-agent systems",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Audit Python code for performance hotspots.
    #[command(after_help = EXIT_CODES)]
    Audit(Box<AuditArgs>),
    /// List every rule: code, name, category, default severity, summary.
    Rules {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a rule's documentation.
    Rule {
        /// The rule code, e.g. PA101.
        code: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// Findings with code frames, for the terminal.
    Text,
    /// Every finding with a summary (schema/findings.schema.json).
    Json,
    /// An auditor's report: summary, ranking, concerns, action items.
    Markdown,
    /// One ranked row per finding.
    Csv,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// GitLab Code Quality report (artifacts:reports:codequality).
    Gitlab,
    /// A self-contained interactive page.
    Html,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Csv => Format::Csv,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
            FormatArg::Gitlab => Format::Gitlab,
            FormatArg::Html => Format::Html,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorArg {
    /// Colour on a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces it).
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Files or directories to audit.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format of the single stream [default: text].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the output to a file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write the whole audit into this directory: report.md, hotspots.csv, findings.json,
    /// memory_leak_candidates.json, report.sarif and report.html. Nothing goes to stdout unless
    /// --format or --output is also given.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Rule codes or prefixes to enable (comma-separated or repeated); default all.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rule codes or prefixes to disable.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Glob patterns of paths to leave out (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Exit with 1 when a finding at or above this severity exists [default: high].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Python version the code targets (for syntax checks), e.g. 3.12 [default: 3.12].
    #[arg(long)]
    pub target_version: Option<String>,
    /// Skip files larger than this many bytes [default: 5242880].
    #[arg(long)]
    pub max_file_size: Option<u64>,
    /// Follow symbolic links while walking.
    #[arg(long)]
    pub follow_links: bool,
    /// A YAML/JSON file listing the services (`name` and `script_path` or `module` entries);
    /// by default they are read from the startup configs, compose files and Procfiles found.
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,
    /// Print nothing but the findings (no progress, no notes on stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// Rule codes or prefixes to enable on top of `--select` (or of the configuration's).
    #[arg(long, value_delimiter = ',')]
    pub extend_select: Vec<String>,
    /// Read this configuration file (`pyproject.toml` or `perfaudit.toml`) instead of the one
    /// found by walking up from the first path.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// Also list the findings that suppression comments silenced.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Report (and fail on) only findings that this baseline file does not record.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in this baseline file, then exit 0.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Neither read nor write the per-module cache in `.perfaudit_cache/`.
    #[arg(long)]
    pub no_cache: bool,
    /// The Python environment to follow calls into its libraries: an interpreter or a venv
    /// folder (default: VIRTUAL_ENV, else a .venv or venv folder beside the code).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Colour the text output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Also list the findings in code that no service runs, in their own section (they are
    /// still not counted and never fail a run).
    #[arg(long, alias = "show-unreachable")]
    pub show_not_run: bool,
    /// Count the findings in code that no service runs as hotspots like any other: ranked,
    /// in the totals, and able to fail the run.
    #[arg(long)]
    pub include_not_run: bool,
    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Exit 0 even when hotspots reach --fail-on (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// When a file cannot be analysed (an internal error), report it and exit as if it were
    /// not there, instead of exiting 2.
    #[arg(long)]
    pub keep_going: bool,
}

impl AuditArgs {
    /// The configuration file that applies, checked: `--config`, else the closest one found.
    pub fn file_config(&self) -> Result<Option<FileConfig>, String> {
        if self.isolated {
            return Ok(None);
        }
        let path = match &self.config {
            Some(p) => Some(p.clone()),
            None => {
                let start = self.paths.first().map_or(Path::new("."), PathBuf::as_path);
                config::find(start).map_err(|e| e.to_string())?
            }
        };
        path.map(|p| config::load(&p).map_err(|e| e.to_string()))
            .transpose()
    }

    /// Flags layered over the configuration file: a flag given wins over the file. `--select`
    /// starts the rule selection afresh (the file's `select`, `extend-select` and `ignore` are
    /// dropped); list flags otherwise add to the file's lists.
    pub fn settings(&self) -> Result<Settings, String> {
        self.settings_over(self.file_config()?.unwrap_or_default())
    }

    /// `settings` with this configuration file's contents instead of the one found.
    pub fn settings_over(&self, file: FileConfig) -> Result<Settings, String> {
        let defaults = Settings::default();
        let target_version = match &self.target_version {
            Some(v) => parse_target_version(v)
                .ok_or_else(|| format!("invalid --target-version `{v}` (expected e.g. 3.12)"))?,
            None => file.target_version.unwrap_or(defaults.target_version),
        };
        for code in self
            .select
            .iter()
            .chain(&self.ignore)
            .chain(&self.extend_select)
        {
            if !config::is_known_code(code) {
                return Err(format!(
                    "unknown rule code or prefix `{code}`{} (see `perfaudit rules`)",
                    config::suggestion(code, RULES.iter().map(|r| r.meta().code))
                ));
            }
        }
        let (mut select, mut ignore, mut extend) = if self.select.is_empty() {
            (
                file.select.clone().unwrap_or_default(),
                file.ignore.clone(),
                file.extend_select.clone(),
            )
        } else {
            (self.select.clone(), Vec::new(), Vec::new())
        };
        extend.extend(self.extend_select.iter().cloned());
        if !extend.is_empty() {
            // An empty selection means every rule; extending it must not narrow it.
            if select.is_empty() {
                select.push("ALL".to_owned());
            }
            select.extend(extend);
        }
        ignore.extend(self.ignore.iter().cloned());
        let mut exclude = if self.exclude.is_empty() {
            file.exclude.clone().unwrap_or_default()
        } else {
            self.exclude.clone()
        };
        exclude.extend(file.extend_exclude.iter().cloned());
        Ok(Settings {
            paths: self.paths.clone(),
            select,
            ignore,
            exclude,
            threads: self.threads,
            fail_on: match self.fail_on {
                Some(FailOn::Critical) => Some(Severity::Critical),
                Some(FailOn::High) => Some(Severity::High),
                Some(FailOn::Medium) => Some(Severity::Medium),
                Some(FailOn::Low) => Some(Severity::Low),
                Some(FailOn::Never) => None,
                None => file.fail_on.unwrap_or(defaults.fail_on),
            },
            target_version,
            max_file_size: self
                .max_file_size
                .or(file.max_file_size)
                .unwrap_or(defaults.max_file_size),
            follow_links: self.follow_links,
            agents_file: self.agents.clone().or(file.agents.clone()),
            format: self.format.map_or(Format::Text, FormatArg::format),
            output: self.output.clone(),
            output_dir: self.output_dir.clone(),
            quiet: self.quiet,
            progress: true,
            extensions: file.extensions,
            per_file_ignores: file.per_file_ignores,
            show_suppressed: self.show_suppressed,
            include_not_run: self.include_not_run,
            baseline: self.baseline.clone(),
            cache: !self.no_cache,
            python: match self.python.as_ref().or(file.python.as_ref()) {
                Some(p) => crate::settings::PythonEnv::At(p.clone()),
                None => crate::settings::PythonEnv::Discover,
            },
        })
    }
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Audit(args) => audit(&args),
        Command::Rules { json } => rules(json),
        Command::Rule { code } => rule(&code),
    }
}

fn error(message: impl std::fmt::Display) -> i32 {
    eprintln!("perfaudit: error: {message}");
    EXIT_ERROR
}

/// Whether the text output is coloured: `--color`, else `NO_COLOR`/`CLICOLOR_FORCE` and
/// whether stdout is a terminal, as `anstream` decides for every tool that uses it.
fn color_choice(arg: ColorArg) -> anstream::ColorChoice {
    match arg {
        ColorArg::Always => anstream::ColorChoice::Always,
        ColorArg::Never => anstream::ColorChoice::Never,
        ColorArg::Auto => anstream::AutoStream::choice(&std::io::stdout()),
    }
}

fn audit(args: &AuditArgs) -> i32 {
    let settings = match args.settings() {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    // A path that is not there is a mistake in the command, not an empty project.
    for p in &settings.paths {
        if std::fs::symlink_metadata(p).is_err() {
            return error(format!("{}: no such file or directory", p.display()));
        }
    }
    let report = match crate::audit::run(&settings) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let failed: std::collections::HashSet<&str> =
        report.failed.iter().map(String::as_str).collect();
    for d in &report.diagnostics {
        let path = crate::report::text::escape(&d.path);
        let message = crate::report::text::escape(&d.message);
        if failed.contains(d.path.as_str()) {
            eprintln!("{path}: error: {message}");
        } else if !settings.quiet {
            eprintln!("{path}: note: {message}");
        }
    }
    let colored = color_choice(args.color) != anstream::ColorChoice::Never;
    let opts = crate::report::Options {
        color: colored && settings.format == Format::Text && settings.output.is_none(),
        show_not_run: args.show_not_run,
        statistics: args.statistics,
    };
    // With --output-dir or --write-baseline alone, the files are the output and stdout gets
    // the summary; a stream is written when asked for.
    let explicit = args.format.is_some() || args.output.is_some();
    let stream = explicit || (settings.output_dir.is_none() && args.write_baseline.is_none());
    if let Some(dir) = &settings.output_dir {
        match crate::report::files::write_dir(&report, dir) {
            Ok(paths) if !settings.quiet => {
                for p in paths {
                    eprintln!("perfaudit: wrote {}", p.display());
                }
            }
            Ok(_) => {}
            Err(e) => return error(e),
        }
    }
    let written = match &settings.output {
        _ if !stream => Ok(()),
        Some(path) => crate::report::files::write_atomic(path, |w| {
            crate::report::write(&report, settings.format, &opts, w)
        })
        .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => to_stdout(opts.color, |w| {
            crate::report::write(&report, settings.format, &opts, w)
        }),
    };
    if let Err(e) = written {
        return error(e);
    }
    if !stream && args.write_baseline.is_none() {
        let summary = to_stdout(opts.color, |w| {
            crate::report::text::write_summary_only(&report, &opts, w)
        });
        if let Err(e) = summary {
            return error(e);
        }
    }
    if let Some(path) = &args.write_baseline {
        // Everything known today, including what an older baseline already held.
        let mut all: Vec<_> = report
            .findings
            .iter()
            .chain(report.baselined.iter().flatten())
            .cloned()
            .collect();
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        if let Err(e) = crate::baseline::write(path, &all) {
            return error(e);
        }
        if !settings.quiet {
            println!("Recorded {} findings in {}.", all.len(), path.display());
        }
        return exit_for_errors(&report, args).unwrap_or(EXIT_CLEAN);
    }
    if let Some(code) = exit_for_errors(&report, args) {
        return code;
    }
    match (settings.fail_on, report.worst()) {
        _ if args.exit_zero => EXIT_CLEAN,
        (Some(threshold), Some(worst)) if worst >= threshold => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    }
}

/// Exit 2 when a file could not be analysed, unless `--keep-going` accepts an incomplete
/// audit. The files are named on stderr above, and every format counts them.
fn exit_for_errors(report: &crate::audit::AuditReport, args: &AuditArgs) -> Option<i32> {
    if report.failed.is_empty() || args.keep_going {
        return None;
    }
    eprintln!(
        "perfaudit: error: {} could not be analysed (a perfaudit bug; please report it with \
         the file); --keep-going accepts an incomplete audit",
        match report.failed.len() {
            1 => "1 file".to_owned(),
            n => format!("{n} files"),
        }
    );
    Some(EXIT_ERROR)
}

/// Writes to stdout; coloured output goes through `anstream` (which turns colours into console
/// calls on old Windows consoles), anything else is written as it is. A closed pipe (`| head`)
/// is not an error.
fn to_stdout(
    color: bool,
    emit: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let stdout = std::io::stdout().lock();
    let raw: Box<dyn Write> = if color {
        Box::new(anstream::AutoStream::new(
            stdout,
            anstream::ColorChoice::Always,
        ))
    } else {
        Box::new(stdout)
    };
    let mut w = std::io::BufWriter::new(raw);
    match emit(&mut w).and_then(|()| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("cannot write output: {e}")),
    }
}

fn rules(json: bool) -> i32 {
    let mut out = String::new();
    if json {
        let metas: Vec<_> = RULES.iter().map(|r| r.meta()).collect();
        out = serde_json::to_string_pretty(&metas).unwrap_or_default();
        out.push('\n');
    } else {
        out.push_str(&format!(
            "{:<6} {:<36} {:<14} {:<9} {}\n",
            "code", "name", "category", "severity", "summary"
        ));
        for r in RULES {
            let m = r.meta();
            out.push_str(&format!(
                "{:<6} {:<36} {:<14} {:<9} {}\n",
                m.code,
                m.name,
                m.category.as_str(),
                m.default_severity.as_str(),
                m.summary
            ));
        }
    }
    print_or_pipe(&out)
}

fn rule(code: &str) -> i32 {
    match find_rule(code) {
        Some(r) => {
            let m = r.meta();
            // The shipped catalog: the figures every audit starts from.
            let catalog = config::Extensions::default().catalog();
            print_or_pipe(&format!(
                "# {} {}\n\n{}\n\n{}\n\n{}",
                m.code,
                m.name,
                m.summary,
                m.doc.trim_end(),
                crate::rules::cost::explain(m.code, &m.cost, &catalog)
            ))
        }
        None => {
            eprintln!("perfaudit: error: unknown rule `{code}` (see `perfaudit rules`)");
            EXIT_ERROR
        }
    }
}

fn print_or_pipe(s: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_CLEAN,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        Err(e) => {
            eprintln!("perfaudit: error: {e}");
            EXIT_ERROR
        }
    }
}
