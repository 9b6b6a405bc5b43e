//! Service ("agent") discovery from the configuration a system already has: YAML or JSON
//! startup manifests with `script_path`/`script`/`module` entries at any nesting, docker-compose
//! `command:` lines, Procfiles and `[project.scripts]`; or an explicit `--agents FILE`. Each
//! service is a name and the entry module it runs. Nothing here runs or imports anything.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

/// A service and the module it starts from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ServiceDef {
    pub name: String,
    /// Entry module path relative to the audited root (`agents/stt.py`), or a dotted module name
    /// when the config names a module (`pkg.worker`).
    pub entry: String,
    /// Where the service was declared (`startup_config.yaml`, `Procfile`, `__main__ block`).
    pub declared_in: String,
}

/// Keys whose string value names a service's entry script or module.
const ENTRY_KEYS: &[&str] = &[
    "script_path",
    "script",
    "module",
    "entrypoint",
    "entry_point",
    "main",
];

/// Largest configuration file read (manifests are small; data files are not configs).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A parsed configuration document, reduced to what service discovery needs.
enum Node {
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
    Str(String),
    Other,
}

fn from_yaml(y: &yaml_rust2::Yaml) -> Node {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => Node::Map(
            h.iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_owned(), from_yaml(v))))
                .collect(),
        ),
        Yaml::Array(a) => Node::List(a.iter().map(from_yaml).collect()),
        Yaml::String(s) => Node::Str(s.clone()),
        _ => Node::Other,
    }
}

fn from_json(v: &serde_json::Value) -> Node {
    match v {
        serde_json::Value::Object(o) => {
            Node::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
        serde_json::Value::Array(a) => Node::List(a.iter().map(from_json).collect()),
        serde_json::Value::String(s) => Node::Str(s.clone()),
        _ => Node::Other,
    }
}

/// Walks a config tree; `parent_key` names a map entry of a map-of-maps.
fn collect_entries(
    node: &Node,
    parent_key: Option<&str>,
    declared_in: &str,
    out: &mut Vec<ServiceDef>,
    depth: u32,
) {
    if depth > 64 {
        return;
    }
    match node {
        Node::Map(entries) => {
            let get = |key: &str| {
                entries.iter().find_map(|(k, v)| match v {
                    Node::Str(s) if k == key => Some(s.as_str()),
                    _ => None,
                })
            };
            let entry = ENTRY_KEYS
                .iter()
                .find_map(|k| get(k))
                .filter(|e| looks_like_entry(e));
            if let Some(entry) = entry {
                let name = get("name")
                    .or(get("id"))
                    .or(parent_key)
                    .map(str::to_owned)
                    .unwrap_or_else(|| stem(entry));
                out.push(ServiceDef {
                    name,
                    entry: normalise_entry(entry),
                    declared_in: declared_in.to_owned(),
                });
            }
            if let Some(cmd) = get("command").and_then(entry_from_command) {
                out.push(ServiceDef {
                    name: get("container_name")
                        .or(parent_key)
                        .map(str::to_owned)
                        .unwrap_or_else(|| stem(&cmd)),
                    entry: cmd,
                    declared_in: declared_in.to_owned(),
                });
            } else if let Some((_, Node::List(items))) =
                entries.iter().find(|(k, _)| k == "command")
            {
                let words: Vec<&str> = items
                    .iter()
                    .filter_map(|i| match i {
                        Node::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                if let Some(cmd) = entry_from_command(&words.join(" ")) {
                    out.push(ServiceDef {
                        name: parent_key.map(str::to_owned).unwrap_or_else(|| stem(&cmd)),
                        entry: cmd,
                        declared_in: declared_in.to_owned(),
                    });
                }
            }
            for (k, v) in entries {
                if matches!(v, Node::Map(_) | Node::List(_)) {
                    collect_entries(v, Some(k), declared_in, out, depth + 1);
                }
            }
        }
        Node::List(items) => {
            for i in items {
                collect_entries(i, parent_key, declared_in, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn looks_like_entry(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && !s.contains(' ')
        && (s.ends_with(".py")
            || s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_')))
}

fn normalise_entry(s: &str) -> String {
    let s = s.trim().trim_start_matches("./");
    match s.split_once(':') {
        Some((m, _)) if !m.ends_with(".py") => m.to_owned(),
        _ => s.to_owned(),
    }
}

fn stem(entry: &str) -> String {
    let last = entry.rsplit('/').next().unwrap_or(entry);
    let last = last.strip_suffix(".py").unwrap_or(last);
    last.rsplit('.').next().unwrap_or(last).to_owned()
}

/// `python agents/stt.py --port 1` -> `agents/stt.py`; `python -m pkg.worker` -> `pkg.worker`;
/// `uvicorn app.main:app` -> `app.main`.
fn entry_from_command(cmd: &str) -> Option<String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    if let Some(i) = words.iter().position(|w| *w == "-m") {
        return words.get(i + 1).map(|m| m.to_string());
    }
    if let Some(py) = words.iter().find(|w| w.ends_with(".py")) {
        return Some(normalise_entry(py));
    }
    let runner = words.first()?.rsplit('/').next()?;
    if matches!(runner, "uvicorn" | "gunicorn" | "hypercorn" | "daphne") {
        return words
            .iter()
            .skip(1)
            .find(|w| !w.starts_with('-') && w.contains(':'))
            .map(|w| normalise_entry(w));
    }
    None
}

/// Why a file that may declare services could not be read; reported, never fatal.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Yaml(#[from] yaml_rust2::ScanError),
    #[error(transparent)]
    NotUtf8(#[from] std::str::Utf8Error),
    #[error("YAML aliases expand to more than {MAX_ALIAS_NODES} nodes: not read")]
    AliasBomb,
}

/// What one configuration file declares: its services and, when it declares any (a YAML or
/// JSON manifest), the string values it gives to configuration keys at any depth
/// (`alert_webhook: http://localhost:9000/hooks`, `host: gpu-box`, compose-style
/// `environment:` lists, `- API_URL=http://api:8000`). The cost model reads the values for code
/// that reads the same key on configuration (`options.get("alert_webhook")`,
/// `os.getenv("API_URL")`).
#[derive(Debug, Default)]
pub struct Manifest {
    pub services: Vec<ServiceDef>,
    pub values: Vec<(String, String)>,
}

/// Reads one configuration file; errors are reported, never fatal.
pub fn read_config(path: &Path, rel: &str) -> Result<Manifest, ManifestError> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Ok(Manifest::default());
    }
    let text = std::fs::read_to_string(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    parse_config(&name, &text, rel)
}

/// What one configuration file's text declares; `name` is its file name, which says how to
/// read it.
pub fn parse_config(name: &str, text: &str, rel: &str) -> Result<Manifest, ManifestError> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Ok(Manifest::default());
    }
    let mut out = Vec::new();
    let mut values = Vec::new();
    // A document's values count only when the file declares services (a manifest).
    let mut manifest = |node: &Node, out: &mut Vec<ServiceDef>| {
        let before = out.len();
        collect_entries(node, None, rel, out, 0);
        if out.len() > before {
            collect_values(node, &mut values, 0);
        }
    };
    if name == "Procfile" {
        for line in text.lines() {
            if let Some((proc_name, cmd)) = line.split_once(':')
                && let Some(entry) = entry_from_command(cmd)
            {
                out.push(ServiceDef {
                    name: proc_name.trim().to_owned(),
                    entry,
                    declared_in: rel.to_owned(),
                });
            }
        }
    } else if name == "pyproject.toml" {
        let value: toml::Table = toml::from_str(text)?;
        if let Some(scripts) = value
            .get("project")
            .and_then(|p| p.get("scripts"))
            .and_then(|s| s.as_table())
        {
            for (k, v) in scripts {
                if let Some(s) = v.as_str() {
                    out.push(ServiceDef {
                        name: k.clone(),
                        entry: normalise_entry(s),
                        declared_in: rel.to_owned(),
                    });
                }
            }
        }
    } else if !(text.contains("script")
        || text.contains("module")
        || text.contains("command")
        || text.contains("entry"))
    {
        return Ok(Manifest::default());
    } else if name.ends_with(".json") {
        let v: serde_json::Value = serde_json::from_str(text)?;
        manifest(&from_json(&v), &mut out);
    } else {
        check_alias_expansion(text)?;
        let docs = yaml_rust2::YamlLoader::load_from_str(text)?;
        for d in &docs {
            manifest(&from_yaml(d), &mut out);
        }
    }
    values.truncate(MAX_VALUES);
    Ok(Manifest {
        services: out,
        values,
    })
}

/// Most values one manifest gives to configuration keys (a manifest is small; a data file is
/// not one).
const MAX_VALUES: usize = 10_000;

fn collect_values(node: &Node, out: &mut Vec<(String, String)>, depth: u32) {
    if depth > 64 || out.len() >= MAX_VALUES {
        return;
    }
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                match v {
                    Node::Str(s) => out.push((k.clone(), s.clone())),
                    Node::List(items) if k == "environment" => {
                        for i in items {
                            if let Node::Str(s) = i
                                && let Some((k, v)) = s.split_once('=')
                            {
                                out.push((k.trim().to_owned(), v.trim().to_owned()));
                            }
                        }
                    }
                    _ => collect_values(v, out, depth + 1),
                }
            }
        }
        Node::List(items) => {
            for i in items {
                collect_values(i, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Nodes that YAML aliases may add to a file when they are expanded. The YAML loader copies
/// the anchored node for every alias, so aliases of aliases grow exponentially ("billion
/// laughs": a few hundred bytes expand to billions of nodes); real manifests reuse a few blocks.
const MAX_ALIAS_NODES: u64 = 100_000;

/// Fails when expanding the aliases of `text` would add more than `MAX_ALIAS_NODES` nodes. One
/// pass over the parser's events: each node's size is known when it ends, each anchor records
/// the size of its node, and each alias adds the size of the node it names.
fn check_alias_expansion(text: &str) -> Result<(), ManifestError> {
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    use yaml_rust2::scanner::Marker;

    #[derive(Default)]
    struct Sizes {
        /// Open collections: nodes so far (the collection itself counts one) and anchor id.
        open: Vec<(u64, usize)>,
        anchors: HashMap<usize, u64>,
        added: u64,
    }
    impl Sizes {
        fn node(&mut self, size: u64, anchor: usize) {
            if anchor > 0 {
                self.anchors.insert(anchor, size);
            }
            if let Some((parent, _)) = self.open.last_mut() {
                *parent = parent.saturating_add(size);
            }
        }
    }
    impl MarkedEventReceiver for Sizes {
        fn on_event(&mut self, ev: Event, _: Marker) {
            match ev {
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    self.open.push((1, anchor))
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((size, anchor)) = self.open.pop() {
                        self.node(size, anchor);
                    }
                }
                Event::Scalar(_, _, anchor, _) => self.node(1, anchor),
                Event::Alias(id) => {
                    let size = self.anchors.get(&id).copied().unwrap_or(1);
                    self.added = self.added.saturating_add(size);
                    self.node(size, 0);
                }
                _ => {}
            }
        }
    }

    let mut sizes = Sizes::default();
    Parser::new_from_str(text).load(&mut sizes, true)?;
    if sizes.added > MAX_ALIAS_NODES {
        return Err(ManifestError::AliasBomb);
    }
    Ok(())
}

/// Whether a file name is one that may declare services. The JavaScript tool configurations
/// (`package.json`, `tsconfig.json`, `jsconfig.json`) never declare Python services, and their
/// `"module": "esnext"` reads like an entry.
pub fn is_config_file(name: &str) -> bool {
    name == "Procfile"
        || name == "pyproject.toml"
        || name.ends_with(".yaml")
        || name.ends_with(".yml")
        || (name.ends_with(".json")
            && !["package", "tsconfig", "jsconfig"]
                .iter()
                .any(|p| name.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_tool_configs_are_not_manifests() {
        for name in [
            "tsconfig.json",
            "tsconfig.build.json",
            "jsconfig.json",
            "package.json",
        ] {
            assert!(!is_config_file(name), "{name}");
        }
        for name in ["services.json", "agents.yaml", "Procfile", "pyproject.toml"] {
            assert!(is_config_file(name), "{name}");
        }
    }

    fn yaml(text: &str) -> Vec<ServiceDef> {
        let docs = yaml_rust2::YamlLoader::load_from_str(text).unwrap();
        let mut out = Vec::new();
        for d in &docs {
            collect_entries(&from_yaml(d), None, "c.yaml", &mut out, 0);
        }
        out
    }

    #[test]
    fn list_of_maps_and_map_of_maps() {
        let s = yaml(
            "agents:\n  - name: stt\n    script_path: agents/stt.py\n  - name: tts\n    script_path: ./agents/tts.py\n",
        );
        assert_eq!(
            s.iter()
                .map(|s| (s.name.as_str(), s.entry.as_str()))
                .collect::<Vec<_>>(),
            vec![("stt", "agents/stt.py"), ("tts", "agents/tts.py")]
        );
        let s = yaml("services:\n  gateway:\n    deploy:\n      script: app/main.py\n");
        assert_eq!(s[0].name, "deploy");
        let s = yaml("services:\n  worker:\n    command: python -m pkg.worker --x 1\n");
        assert_eq!(
            (s[0].name.as_str(), s[0].entry.as_str()),
            ("worker", "pkg.worker")
        );
    }

    #[test]
    fn nested_aliases_are_not_expanded_beyond_a_bound() {
        // Ten levels of ten aliases each: 10^10 nodes if expanded.
        let mut text = String::from("a0: &a0 {script: x.py}\n");
        for l in 1..=10 {
            let refs = vec![format!("*a{}", l - 1); 10].join(", ");
            text.push_str(&format!("a{l}: &a{l} [{refs}]\n"));
        }
        let e = parse_config("startup.yaml", &text, "startup.yaml").unwrap_err();
        assert!(matches!(e, ManifestError::AliasBomb), "{e}");
        // A few reused blocks, as compose files have, are read as before.
        let text = "base: &base {command: python app.py}\nweb: *base\nworker: *base\n";
        let found = parse_config("compose.yaml", text, "compose.yaml").unwrap();
        assert_eq!(found.services.len(), 3);
    }

    fn values(name: &str, text: &str) -> Vec<(String, String)> {
        parse_config(name, text, name)
            .map(|m| m.values)
            .unwrap_or_default()
    }

    #[test]
    fn configured_values_of_a_manifest() {
        let text = "agents:\n  - name: monitor\n    script_path: a.py\n    options:\n      alert_webhook: http://localhost:9000/h\n      port: 5559\nservices:\n  api:\n    environment:\n      - API_URL=http://api:8000\n";
        let v = values("startup.yaml", text);
        assert!(v.contains(&(
            "alert_webhook".to_owned(),
            "http://localhost:9000/h".to_owned()
        )));
        assert!(v.contains(&("API_URL".to_owned(), "http://api:8000".to_owned())));
        assert!(v.contains(&("name".to_owned(), "monitor".to_owned())));
        // Numbers are not strings; a file that does not parse, or declares no service, gives
        // nothing.
        assert!(!v.iter().any(|(k, _)| k == "port"));
        assert!(values("x.yaml", "script: [").is_empty());
        assert!(values("x.json", r#"{"a": {"url": "http://h/"}}"#).is_empty());
        assert!(
            values("x.json", r#"{"a": {"script": "a.py", "url": "http://h/"}}"#)
                .contains(&("url".to_owned(), "http://h/".to_owned()))
        );
    }

    #[test]
    fn commands() {
        assert_eq!(
            entry_from_command("python agents/a.py --p 1").as_deref(),
            Some("agents/a.py")
        );
        assert_eq!(
            entry_from_command("uvicorn app.main:app --port 80").as_deref(),
            Some("app.main")
        );
        assert_eq!(entry_from_command("echo hi"), None);
    }
}
