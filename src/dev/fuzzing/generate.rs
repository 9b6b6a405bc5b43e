//! The project generator of the `project` harness: the fuzzer's bytes, read as a sequence of
//! choices, become a small multi-module project (packages, imports between modules, classes,
//! async code, catalog calls) with service manifests naming some of its modules.
//!
//! It only writes files in memory; auditing them is the harness's job (`fuzzing/mod.rs`).

use std::collections::BTreeMap;

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
