//! Fuzzing harnesses, shared by the cargo-fuzz targets in `fuzz/` and by the test that replays
//! every input they ever crashed on (`tests/fuzz_regressions.rs`), so both run the same code.
//!
//! Each harness takes the fuzzer's bytes, runs one stage of the auditor and panics when an
//! invariant breaks. An error the auditor reports (a bad configuration, an unreadable manifest)
//! is a normal outcome, not a failure.
//!
//! - `module`: the bytes are one Python file; decode, parse, facts and every rule, in memory.
//! - `project`: the bytes drive a generator of a small multi-module project (packages, imports
//!   between modules, classes, async code, catalog calls, service manifests); the project is
//!   audited from disk and in memory (the two must agree), and every report format is rendered.
//! - `config`: the bytes are `perfaudit.toml`, `pyproject.toml`, and the body of a
//!   `[tool.perfaudit]` table; a configuration that loads is layered under the command line and
//!   used for an audit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use ruff_source_file::LineIndex;

use crate::audit::{AuditReport, run, run_sources};
use crate::cli::{AuditArgs, Cli, Command};
use crate::config::load_text;
use crate::finding::Finding;
use crate::settings::{Format, Settings};

/// Where in-memory audits say their files are. Nothing exists there, so reports rendered from
/// them have no code excerpts.
const MEMORY_ROOT: &str = "/nonexistent/perfaudit-fuzz";

/// The one file of the `module` harness.
pub const MODULE_PATH: &str = "fuzzed.py";

/// Every rule, including the explicit-only ones, on one thread, with suppressed findings kept.
fn fuzz_settings() -> Settings {
    Settings {
        select: vec!["ALL".to_owned(), "PA002".to_owned()],
        threads: 1,
        format: Format::Json,
        progress: false,
        quiet: true,
        show_suppressed: true,
        cache: false,
        ..Settings::default()
    }
}

/// The number of lines the auditor counts in a file, or `None` when it skips the file.
fn line_count(bytes: &[u8]) -> Option<u32> {
    let decoded = crate::source::decode(bytes).ok()?;
    Some(LineIndex::from_source_text(&decoded.text).line_count() as u32)
}

/// Every finding (reported, suppressed or baselined) is in an audited file, on a line it has.
fn check_findings(report: &AuditReport, lines: &BTreeMap<String, u32>) {
    let all = report
        .findings
        .iter()
        .chain(report.suppressed.iter().flatten())
        .chain(report.baselined.iter().flatten());
    for f in all {
        let Some(&n) = lines.get(&f.path) else {
            panic!("{} finding in `{}`, which is not audited", f.code, f.path);
        };
        assert!(
            f.line >= 1 && f.line <= n,
            "{} finding at {}:{} outside the file's {n} lines",
            f.code,
            f.path,
            f.line
        );
        assert!(
            f.end_line >= f.line && f.end_line <= n,
            "{} finding at {}:{} ends on line {} (the file has {n} lines)",
            f.code,
            f.path,
            f.line,
            f.end_line
        );
    }
}

/// PA001 findings, reported or suppressed, in `path`.
fn syntax_findings(report: &AuditReport, path: &str) -> usize {
    let is_pa001 = |f: &&Finding| f.code == "PA001" && f.path == path;
    report.findings.iter().filter(is_pa001).count()
        + report.suppressed.iter().flatten().filter(is_pa001).count()
}

/// Audits `data` as one Python file, in memory.
pub fn module(data: &[u8]) {
    let report = run_sources(
        Path::new(MEMORY_ROOT),
        vec![(MODULE_PATH.to_owned(), data.to_vec())],
        &fuzz_settings(),
    )
    .expect("an in-memory audit has no usage errors");
    let Some(n) = line_count(data) else {
        // UTF-16: skipped with a note, never analysed.
        assert_eq!(report.files_scanned, 0);
        assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
        assert!(report.findings.is_empty());
        return;
    };
    assert_eq!(report.files_scanned, 1);
    check_findings(&report, &BTreeMap::from([(MODULE_PATH.to_owned(), n)]));
    assert_eq!(
        syntax_findings(&report, MODULE_PATH),
        report.files_unparsable,
        "a file with syntax errors has exactly one PA001, a clean file none"
    );
}

/// Generates a project from `data`, audits it from disk and from memory, and renders every
/// report format.
pub fn project(data: &[u8]) {
    let files = generate_project(data);
    let dir = tempfile::tempdir().expect("temporary directory");
    for (rel, bytes) in &files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write a generated file");
    }
    let settings = Settings {
        paths: vec![dir.path().to_path_buf()],
        ..fuzz_settings()
    };
    let report = run(&settings).expect("the audit runs");
    let lines: BTreeMap<String, u32> = files
        .iter()
        .filter(|(rel, _)| rel.ends_with(".py"))
        .filter_map(|(rel, bytes)| Some((rel.clone(), line_count(bytes)?)))
        .collect();
    assert_eq!(report.files_scanned, lines.len(), "every module is audited");
    check_findings(&report, &lines);
    for rel in lines.keys() {
        assert!(
            syntax_findings(&report, rel) <= 1,
            "one PA001 at most in {rel}"
        );
    }

    // The same files audited in memory give the same findings, services and diagnostics.
    let memory = run_sources(Path::new(MEMORY_ROOT), files, &fuzz_settings())
        .expect("an in-memory audit has no usage errors");
    let json = |f: &[Finding]| serde_json::to_string(f).expect("findings serialise");
    assert_eq!(json(&report.findings), json(&memory.findings));
    assert_eq!(report.services, memory.services);
    assert_eq!(report.diagnostics, memory.diagnostics);

    render_all(&report);
}

/// Renders every report format into memory; the JSON ones must parse, the CSV must be regular.
pub fn render_all(report: &AuditReport) {
    let formats = [
        (Format::Text, true),
        (Format::Text, false),
        (Format::Json, false),
        (Format::Markdown, false),
        (Format::Csv, false),
        (Format::Sarif, false),
        (Format::Github, false),
        (Format::Gitlab, false),
        (Format::Html, false),
        (Format::LeakCandidates, false),
    ];
    for (format, color) in formats {
        let mut out = Vec::new();
        let opts = crate::report::Options {
            color,
            show_unreachable: color,
            statistics: false,
        };
        crate::report::write(report, format, &opts, &mut out).expect("rendering into memory");
        match format {
            Format::Json | Format::Sarif | Format::Gitlab | Format::LeakCandidates => {
                serde_json::from_slice::<serde_json::Value>(&out)
                    .unwrap_or_else(|e| panic!("{format:?} output is not JSON: {e}"));
            }
            Format::Csv => {
                for row in csv::Reader::from_reader(out.as_slice()).records() {
                    row.expect("CSV rows have the header's width");
                }
            }
            _ => {}
        }
    }
}

/// Default command-line arguments, as `perfaudit audit` parses them.
fn default_args() -> &'static AuditArgs {
    static ARGS: OnceLock<Box<AuditArgs>> = OnceLock::new();
    ARGS.get_or_init(|| {
        let cli = <Cli as clap::Parser>::try_parse_from(["perfaudit", "audit", "--threads", "1"])
            .expect("default arguments parse");
        match cli.command {
            Command::Audit(args) => args,
            _ => unreachable!("the audit command"),
        }
    })
}

/// A small project whose calls and names the configuration can reach (a `blocking` wrapper,
/// an `apis` entry, handler and route names, a receive loop, an offload helper).
const CONFIG_PROJECT: &[(&str, &str)] = &[
    (
        "app/main.py",
        "import time\nimport requests\nfrom fastapi import FastAPI\nfrom mypkg import client, io\n\
         app = FastAPI()\n\n@app.get('/x')\nasync def route():\n    time.sleep(1)\n    \
         client.fetch('u')\n    io.read_all()\n\nasync def serve_one(req):\n    \
         requests.get('u')  # noqa: PA101\n\ndef loop(sock):\n    while True:\n        \
         msg = sock.take()\n        client.fetch(msg)\n\nasync def bg():\n    \
         await mypkg.run_bg(client.fetch)\n",
    ),
    (
        "mypkg/client.py",
        "import requests\n\ndef fetch(u):\n    return requests.get(u)\n",
    ),
    (
        "mypkg/io.py",
        "def read_all():\n    return open('f').read()\n",
    ),
    ("mypkg/__init__.py", ""),
    (
        "tests/test_a.py",
        "import time\nasync def t():\n    time.sleep(1)\n",
    ),
];

/// Loads `data` as each kind of configuration file; whatever loads is applied to an audit.
pub fn config(data: &[u8]) {
    // `load` reads the file as UTF-8: other bytes are an error before any parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let wrapped = format!("[tool.perfaudit]\n{text}");
    let root = Path::new(MEMORY_ROOT);
    for (name, text) in [
        ("perfaudit.toml", text),
        ("pyproject.toml", text),
        ("pyproject.toml", wrapped.as_str()),
    ] {
        match load_text(&root.join(name), text) {
            Err(e) => {
                let shown = e.to_string();
                assert!(
                    !e.message.is_empty(),
                    "an error says what is wrong: {shown}"
                );
                assert!(
                    e.line <= text.split('\n').count() && (e.line == 0) == (e.column == 0),
                    "error located outside the text: {shown}"
                );
            }
            Ok(file) => {
                let Ok(mut settings) = default_args().settings_over(file) else {
                    continue;
                };
                // Nothing is read from disk: no services file, no baseline.
                settings.agents_file = None;
                settings.baseline = None;
                settings.progress = false;
                settings.quiet = true;
                settings.cache = false;
                let files = CONFIG_PROJECT
                    .iter()
                    .map(|(p, s)| (p.to_string(), s.as_bytes().to_vec()))
                    .collect();
                if let Ok(report) = run_sources(root, files, &settings) {
                    let lines = CONFIG_PROJECT
                        .iter()
                        .map(|(p, s)| (p.to_string(), line_count(s.as_bytes()).unwrap_or(0)))
                        .collect();
                    check_findings(&report, &lines);
                }
            }
        }
    }
}

// ----- The project generator -----------------------------------------------------------------

/// Reads choices from the fuzzer's bytes; past the end every choice is the first one.
struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        self.byte() as usize % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, in_256: u8) -> bool {
        self.byte() < in_256
    }

    fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Up to `max` raw bytes of the input.
    fn raw(&mut self, max: usize) -> &[u8] {
        let n = self.below(max + 1);
        let start = self.pos.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.pos = end;
        &self.data[start..end]
    }

    /// A string literal made of input bytes, quoted and escaped for Python.
    fn literal(&mut self) -> String {
        let raw = String::from_utf8_lossy(self.raw(24)).into_owned();
        let mut s = String::from("\"");
        for c in raw.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
                c => s.push(c),
            }
        }
        s.push('"');
        s
    }
}

const DIRS: &[&str] = &[
    "",
    "app",
    "agents",
    "app/api",
    "src/core",
    "workers",
    "services/stt",
];
const STEMS: &[&str] = &[
    "main", "api", "models", "utils", "worker", "client", "service", "__init__", "__main__",
    "handlers", "server",
];
const FUNCS: &[&str] = &[
    "f0",
    "f1",
    "handle",
    "handle_event",
    "on_message",
    "process_request",
    "load_model",
    "startup",
    "main",
    "run",
    "fetch",
    "worker_loop",
    "lifespan",
    "__init__",
];
const CLASSES: &[&str] = &["Agent", "Service", "Model", "Client", "Base", "Worker"];
const IMPORTS: &[&str] = &[
    "import requests",
    "import time",
    "import asyncio",
    "import json",
    "import re",
    "import copy",
    "import os",
    "import subprocess",
    "import threading",
    "import pickle",
    "import sqlite3",
    "import socket",
    "import redis",
    "import zmq",
    "import httpx",
    "import aiohttp",
    "import torch",
    "import transformers",
    "import whisper",
    "import yaml",
    "import logging",
    "import pandas as pd",
    "import numpy as np",
    "from transformers import AutoModel, AutoTokenizer, pipeline",
    "from sentence_transformers import SentenceTransformer",
    "from fastapi import FastAPI, APIRouter",
    "from functools import lru_cache, cache",
    "from concurrent.futures import ThreadPoolExecutor",
    "from openai import OpenAI",
    "from time import sleep",
    "from requests import get as http_get",
];
/// Module-level assignments that make clients, apps, caches and models.
const GLOBALS: &[&str] = &[
    "app = FastAPI()",
    "router = APIRouter()",
    "CACHE = {}",
    "RESULTS = []",
    "MODEL = AutoModel.from_pretrained(\"bert-base-uncased\")",
    "TOKENIZER = AutoTokenizer.from_pretrained(NAME)",
    "client = redis.Redis()",
    "session = requests.Session()",
    "ctx = zmq.Context()",
    "sock = ctx.socket(zmq.REP)",
    "executor = ThreadPoolExecutor()",
    "logger = logging.getLogger(__name__)",
    "db = sqlite3.connect(\"app.db\")",
    "llm = OpenAI()",
    "PATTERN = re.compile(r\"\\d+\")",
    "NAME = \"model\"",
    "items = list(range(1000))",
];
/// Calls and simple statements; `{f}` is a function, `{c}` a class, `{m}` a module, `{s}` a
/// string literal from the input.
const STATEMENTS: &[&str] = &[
    "requests.get({s})",
    "requests.get(url, timeout=5)",
    "requests.post(url, json=data)",
    "http_get({s})",
    "time.sleep(1)",
    "time.sleep(0.01)",
    "sleep(2)",
    "model = AutoModel.from_pretrained({s})",
    "model = transformers.AutoModel.from_pretrained(name)",
    "pipe = pipeline(\"automatic-speech-recognition\")",
    "w = whisper.load_model(\"base\")",
    "enc = SentenceTransformer(NAME)",
    "t = torch.load(path)",
    "RESULTS.append(torch.tensor(x))",
    "text = open({s}).read()",
    "data = json.loads(text)",
    "logger.info(json.dumps(data))",
    "m = re.match(r\"a+\", s)",
    "state = copy.deepcopy(state)",
    "subprocess.run([\"ls\", {s}])",
    "os.system({s})",
    "r = httpx.get(url)",
    "v = client.get(key)",
    "session.get(url)",
    "df = pd.read_csv(path)",
    "rows = [r for _, r in df.iterrows()]",
    "rows = db.execute(q).fetchall()",
    "obj = pickle.loads(blob)",
    "cfg = yaml.safe_load(open(\"config.yaml\"))",
    "msg = sock.recv_json()",
    "s = socket.socket()",
    "line = input()",
    "pool = ThreadPoolExecutor()",
    "threading.Thread(target={f}).start()",
    "executor.submit({f})",
    "reply = llm.chat.completions.create(model=\"m\", messages=[])",
    "CACHE[key] = value",
    "out += str(x)",
    "found = x in items",
    "items.remove(x)",
    "import numpy",
    "{f}()",
    "{f}({s})",
    "self.{f}()",
    "{m}.{f}()",
    "{c}()",
    "{c}().{f}()",
    "x = lambda: {f}()",
    "vals = [{f}(v) for v in items]",
    "return {f}()",
    "global CACHE",
    "pass",
    "raise ValueError({s})",
    "del x",
    "# perfaudit: ignore[PA101]",
    "time.sleep(3)  # noqa: PA101",
    "requests.get(url)  # perfaudit: ignore",
    "x = 1  # noqa",
];
/// Statements only an async function may hold.
const AWAITS: &[&str] = &[
    "await asyncio.sleep(1)",
    "await asyncio.to_thread({f})",
    "await asyncio.get_running_loop().run_in_executor(None, {f})",
    "await {f}()",
    "async with aiohttp.ClientSession() as s:\n    await s.get(url)",
    "async for chunk in stream:\n    time.sleep(0.1)",
    "await asyncio.gather({f}(), {f}())",
];
const DECORATORS: &[&str] = &[
    "@app.get(\"/x\")",
    "@app.post(\"/y\")",
    "@router.websocket(\"/ws\")",
    "@app.on_event(\"startup\")",
    "@lru_cache(maxsize=None)",
    "@lru_cache",
    "@cache",
    "@staticmethod",
    "@property",
    "@classmethod",
];

/// One module's text, written by the generator.
struct Writer<'c, 'd> {
    ch: &'c mut Choices<'d>,
    out: Vec<u8>,
    /// Dotted names of the project's other modules, for imports.
    modules: &'c [String],
    budget: usize,
}

impl Writer<'_, '_> {
    fn line(&mut self, indent: usize, text: &str) {
        let pad = "    ".repeat(indent);
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.push(b'\n');
            }
            self.out.extend_from_slice(pad.as_bytes());
            self.out.extend_from_slice(part.as_bytes());
        }
        self.out.push(b'\n');
    }

    fn fill(&mut self, template: &str) -> String {
        let mut s = template.to_owned();
        while let Some(at) = s.find("{f}") {
            let f = self.ch.pick(FUNCS);
            s.replace_range(at..at + 3, f);
        }
        while let Some(at) = s.find("{c}") {
            let c = self.ch.pick(CLASSES);
            s.replace_range(at..at + 3, c);
        }
        while let Some(at) = s.find("{m}") {
            let m = self.module_alias();
            s.replace_range(at..at + 3, &m);
        }
        while let Some(at) = s.find("{s}") {
            let lit = self.ch.literal();
            s.replace_range(at..at + 3, &lit);
        }
        s
    }

    /// The name a module is reached by in code: its last segment, as `import a.b as b` or
    /// `from a import b` would bind it.
    fn module_alias(&mut self) -> String {
        if self.modules.is_empty() {
            return "utils".to_owned();
        }
        let m = self.modules[self.ch.below(self.modules.len())].clone();
        m.rsplit('.').next().unwrap_or(&m).to_owned()
    }

    fn import(&mut self) {
        if self.modules.is_empty() || self.ch.chance(96) {
            let i = self.ch.pick(IMPORTS);
            self.line(0, i);
            return;
        }
        let m = self.modules[self.ch.below(self.modules.len())].clone();
        let f = self.ch.pick(FUNCS);
        let (parent, last) = m.rsplit_once('.').unwrap_or(("", &m));
        let text = match self.ch.below(7) {
            0 => format!("import {m}"),
            1 if !parent.is_empty() => format!("from {parent} import {last}"),
            1 => format!("import {m} as {last}"),
            2 => format!("from {m} import {f}"),
            3 => format!("from {m} import {}", self.ch.pick(CLASSES)),
            4 => format!("from . import {last}"),
            5 => format!("from .{last} import {f}, {}", self.ch.pick(CLASSES)),
            _ => format!("from {m} import *"),
        };
        self.line(0, &text);
    }

    fn body(&mut self, indent: usize, is_async: bool, depth: usize) {
        let n = 1 + self.ch.below(4);
        for _ in 0..n {
            self.statement(indent, is_async, depth);
        }
    }

    fn statement(&mut self, indent: usize, is_async: bool, depth: usize) {
        if self.budget == 0 {
            self.line(indent, "pass");
            return;
        }
        self.budget -= 1;
        let kind = self.ch.below(16);
        match kind {
            0 if depth < 4 => {
                self.line(indent, "for x in items:");
                self.body(indent + 1, is_async, depth + 1);
            }
            1 if depth < 4 => {
                let recv = self
                    .ch
                    .pick(&["sock.recv()", "q.get()", "await ws.receive_text()"]);
                let recv = if recv.starts_with("await") && !is_async {
                    "sock.recv_string()"
                } else {
                    recv
                };
                self.line(indent, "while True:");
                self.line(indent + 1, &format!("msg = {recv}"));
                self.body(indent + 1, is_async, depth + 1);
            }
            2 if depth < 4 => {
                self.line(indent, "with open(path) as fh:");
                self.body(indent + 1, is_async, depth + 1);
            }
            3 if depth < 4 => {
                self.line(indent, "try:");
                self.body(indent + 1, is_async, depth + 1);
                self.line(indent, "except Exception:");
                self.body(indent + 1, is_async, depth + 1);
            }
            4 if depth < 4 => {
                self.line(indent, "if x:");
                self.body(indent + 1, is_async, depth + 1);
                if self.ch.chance(128) {
                    self.line(indent, "else:");
                    self.body(indent + 1, is_async, depth + 1);
                }
            }
            5 if depth < 3 => self.function(indent, depth + 1),
            6 if is_async => {
                let t = self.ch.pick(AWAITS);
                let t = self.fill(t);
                self.line(indent, &t);
            }
            7 if self.ch.chance(16) => {
                // Raw input bytes: syntax errors, odd encodings and characters in snippets.
                let raw = self.ch.raw(40).to_vec();
                self.out.extend_from_slice("    ".repeat(indent).as_bytes());
                self.out.extend_from_slice(&raw);
                self.out.push(b'\n');
            }
            _ => {
                let t = self.ch.pick(STATEMENTS);
                let t = self.fill(t);
                self.line(indent, &t);
            }
        }
    }

    fn function(&mut self, indent: usize, depth: usize) {
        if self.ch.chance(64) {
            let d = self.ch.pick(DECORATORS);
            self.line(indent, d);
        }
        let is_async = self.ch.chance(110);
        let name = self.ch.pick(FUNCS);
        let params = self
            .ch
            .pick(&["", "self", "self, request", "request", "msg, *args, **kw"]);
        let kw = if is_async { "async def" } else { "def" };
        self.line(indent, &format!("{kw} {name}({params}):"));
        self.body(indent + 1, is_async, depth);
    }

    fn class(&mut self) {
        let name = self.ch.pick(CLASSES);
        let base = if self.ch.chance(100) {
            format!("({})", self.ch.pick(CLASSES))
        } else {
            String::new()
        };
        self.line(0, &format!("class {name}{base}:"));
        if self.ch.chance(64) {
            self.line(1, "cache = {}");
        }
        let n = 1 + self.ch.below(3);
        for _ in 0..n {
            self.function(1, 1);
        }
    }

    fn module(&mut self) {
        let n = 1 + self.ch.below(10);
        for _ in 0..n {
            if self.ch.exhausted() {
                break;
            }
            match self.ch.below(8) {
                0 | 1 => self.import(),
                2 => {
                    let g = self.ch.pick(GLOBALS);
                    self.line(0, g);
                }
                3 | 4 => self.function(0, 0),
                5 => self.class(),
                6 => {
                    let main = self.ch.pick(&[
                        "main()",
                        "asyncio.run(main())",
                        "uvicorn.run(app)",
                        "worker_loop()",
                        "Agent().run()",
                    ]);
                    self.line(0, "if __name__ == \"__main__\":");
                    self.line(1, main);
                }
                _ => self.statement(0, false, 0),
            }
        }
    }
}

/// The dotted module name of a file: `src/` is an import root, `__init__` names its package.
fn dotted(rel: &str) -> String {
    let stem = rel.strip_suffix(".py").unwrap_or(rel);
    let stem = stem.strip_prefix("src/").unwrap_or(stem);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    stem.replace('/', ".")
}

/// A project of 2 to 6 modules (plus package `__init__.py` files and service manifests) whose
/// shape and contents are chosen by `data`. Paths are relative and sorted.
pub fn generate_project(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut ch = Choices { data, pos: 0 };
    let count = 2 + ch.below(5);
    let mut paths: Vec<String> = Vec::new();
    for i in 0..count {
        let dir = ch.pick(DIRS);
        let stem = ch.pick(STEMS);
        let stem = if dir.is_empty() && stem == "__init__" {
            "app"
        } else {
            stem
        };
        let mut rel = if dir.is_empty() {
            format!("{stem}.py")
        } else {
            format!("{dir}/{stem}.py")
        };
        if paths.contains(&rel) {
            rel = rel.replace(".py", &format!("{i}.py"));
        }
        paths.push(rel);
    }
    // Most package directories get an `__init__.py`; the others are namespace packages.
    let mut inits: Vec<String> = Vec::new();
    for rel in &paths {
        let mut dir = rel.rsplit_once('/').map(|(d, _)| d);
        while let Some(d) = dir {
            let init = format!("{d}/__init__.py");
            if d != "src" && !paths.contains(&init) && !inits.contains(&init) && ch.chance(200) {
                inits.push(init);
            }
            dir = d.rsplit_once('/').map(|(p, _)| p);
        }
    }
    let modules: Vec<String> = paths.iter().map(|p| dotted(p)).collect();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (i, rel) in paths.iter().enumerate() {
        let others: Vec<String> = modules
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, m)| m.clone())
            .collect();
        let mut w = Writer {
            ch: &mut ch,
            out: Vec::new(),
            modules: &others,
            budget: 60,
        };
        w.module();
        files.insert(rel.clone(), w.out);
    }
    for init in inits {
        // An `__init__.py` re-exports a sibling now and then.
        let pkg = dotted(&init);
        let sibling = modules
            .iter()
            .find(|m| m.rsplit_once('.').is_some_and(|(p, _)| p == pkg));
        let text = match sibling {
            Some(m) if ch.chance(128) => format!("from .{} import *\n", &m[pkg.len() + 1..]),
            _ => String::new(),
        };
        files.insert(init, text.into_bytes());
    }
    manifests(&mut ch, &paths, &modules, &mut files);
    files.into_iter().collect()
}

/// Service manifests naming some of the modules: a startup YAML, a Procfile, `pyproject.toml`
/// scripts, a compose file, a JSON agent list; now and then one made of raw input, or a YAML
/// file whose anchors and aliases nest.
fn manifests(
    ch: &mut Choices<'_>,
    paths: &[String],
    modules: &[String],
    files: &mut BTreeMap<String, Vec<u8>>,
) {
    let flags = ch.byte();
    let pick = |ch: &mut Choices<'_>| {
        let i = ch.below(paths.len());
        (paths[i].clone(), modules[i].clone())
    };
    if flags & 1 != 0 {
        let mut y = String::from("services:\n");
        for k in 0..1 + ch.below(3) {
            let (path, module) = pick(ch);
            let entry = match ch.below(4) {
                0 => format!("script_path: {path}"),
                1 => format!("module: {module}"),
                2 => format!("command: python -m {module} --port 80{k}"),
                _ => format!("command: uvicorn {module}:app"),
            };
            y.push_str(&format!("  svc{k}:\n    {entry}\n"));
        }
        files.insert("services.yaml".to_owned(), y.into_bytes());
    }
    if flags & 2 != 0 {
        let (path, module) = pick(ch);
        let text = format!("web: uvicorn {module}:app --port 8000\nworker: python {path}\n");
        files.insert("Procfile".to_owned(), text.into_bytes());
    }
    if flags & 4 != 0 {
        let (_, module) = pick(ch);
        let text =
            format!("[project]\nname = \"x\"\n\n[project.scripts]\nserve = \"{module}:main\"\n");
        files.insert("pyproject.toml".to_owned(), text.into_bytes());
    }
    if flags & 8 != 0 {
        let (path, _) = pick(ch);
        let text = format!("services:\n  api:\n    command: [\"python\", \"{path}\"]\n");
        files.insert("docker-compose.yml".to_owned(), text.into_bytes());
    }
    if flags & 16 != 0 {
        let (path, module) = pick(ch);
        let text = format!(
            "{{\"agents\": [{{\"name\": \"a\", \"script_path\": \"{path}\"}}, {{\"id\": \"b\", \"module\": \"{module}\"}}]}}"
        );
        files.insert("config/agents.json".to_owned(), text.into_bytes());
    }
    if flags & 32 != 0 {
        let name = ch.pick(&["startup.yaml", "Procfile", "agents.json", "pyproject.toml"]);
        let raw = ch.raw(256).to_vec();
        files.insert(format!("raw/{name}"), raw);
    }
    if flags & 64 != 0 {
        // Anchors and aliases: each level repeats the one before it `width` times.
        let (levels, width) = (1 + ch.below(12), 1 + ch.below(12));
        let mut y = String::from("a0: &a0 {script: x.py}\n");
        for l in 1..=levels {
            let refs = vec![format!("*a{}", l - 1); width].join(", ");
            y.push_str(&format!("a{l}: &a{l} [{refs}]\n"));
        }
        files.insert("anchors.yaml".to_owned(), y.into_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_makes_projects_of_two_to_six_modules() {
        for seed in [&b""[..], b"\x04\x01\x02\x03abcdef", &[0xff; 300]] {
            let files = generate_project(seed);
            let modules = files
                .iter()
                .filter(|(p, _)| p.ends_with(".py") && !p.ends_with("__init__.py"))
                .count();
            assert!((1..=6).contains(&modules), "{files:?}");
            project(seed);
        }
    }

    #[test]
    fn harnesses_accept_trivial_inputs() {
        module(b"");
        module(b"def f(:\n");
        module(b"\xff\xfe");
        config(b"");
        config(b"select = [\"PA1\"]\n");
        config(b"\xff");
    }
}
