//! Checking a parsed configuration table key by key: every value's type and range, with the
//! position of a mistake and a suggestion for a misspelt key, into a `FileConfig`.
//!
//! This module only checks and converts; finding and reading the file is `config/mod.rs`.

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use globset::Glob;

use super::parse_target_version;
use super::{
    API_KEYS, BLOCKING_WRAPPER_MS, ConfigError, EFFECTS, FileConfig, KEYS, MODEL_LOADER_MS,
    PerFileIgnore, anchored_glob, is_known_code, line_col, suggestion,
};
use crate::finding::Severity;
use crate::knowledge::catalog::{ApiEntry, Effect};
use crate::knowledge::frameworks::Profile;
use crate::rules::RULES;

pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) dir: PathBuf,
    pub(super) table_name: &'static str,
}

type Span = std::ops::Range<usize>;

impl Checker<'_> {
    /// `[[frameworks]]` profiles: the shape of `data/frameworks/*.toml`, read by serde from the
    /// file's own table (the checker's values carry spans but no serde support).
    fn frameworks(&self, span: Span) -> Result<Vec<Profile>, ConfigError> {
        let doc: toml::Table = toml::from_str(self.text)
            .map_err(|e| self.error(span.clone(), format!("invalid TOML: {e}")))?;
        let mut value = Some(toml::Value::Table(doc));
        if self.table_name == "[tool.perfaudit]" {
            for key in ["tool", "perfaudit"] {
                value = value.and_then(|v| v.as_table().and_then(|t| t.get(key)).cloned());
            }
        }
        let frameworks = value
            .and_then(|v| v.as_table().and_then(|t| t.get("frameworks")).cloned())
            .ok_or_else(|| self.error(span.clone(), "`frameworks` must be an array of tables"))?;
        frameworks.try_into::<Vec<Profile>>().map_err(|e| {
            self.error(
                span,
                format!(
                    "invalid `frameworks` profile: {} (each needs `name`, `detect`, and entries \
                     with `what`, `runs` and `names` or `decorators`; see data/frameworks/)",
                    e.message()
                ),
            )
        })
    }

    pub(super) fn error(&self, span: Span, message: impl Into<String>) -> ConfigError {
        let (line, column) = if span.is_empty() && span.start == 0 {
            (0, 0)
        } else {
            line_col(self.text, span.start)
        };
        ConfigError {
            file: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn table(
        &mut self,
        table: &DeTable<'_>,
        out: &mut FileConfig,
    ) -> Result<(), ConfigError> {
        // Keys are checked in file order so that the first mistake is the one reported.
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (key, value) in entries {
            let name: &str = key.get_ref();
            let span = value.span();
            let v = value.get_ref();
            match name {
                "select" => out.select = Some(self.codes(name, v, span)?),
                "ignore" => out.ignore = self.codes(name, v, span)?,
                "extend-select" => out.extend_select = self.codes(name, v, span)?,
                "per-file-ignores" => out.per_file_ignores = self.per_file_ignores(v, span)?,
                "exclude" => out.exclude = Some(self.globs(name, v, span)?),
                "extend-exclude" => out.extend_exclude = self.globs(name, v, span)?,
                "fail-on" => out.fail_on = Some(self.fail_on(v, span)?),
                "target-version" => {
                    let s = self.string(name, v, span.clone())?;
                    out.target_version = Some(parse_target_version(&s).ok_or_else(|| {
                        self.error(
                            span,
                            format!("invalid `target-version` `{s}` (expected e.g. \"3.12\")"),
                        )
                    })?);
                }
                "max-file-size" => {
                    let n = match v {
                        DeValue::Integer(i) if i.radix() == 10 => {
                            i.as_str().replace('_', "").parse::<u64>().ok()
                        }
                        _ => None,
                    };
                    out.max_file_size = Some(n.ok_or_else(|| {
                        self.error(
                            span,
                            "`max-file-size` must be a non-negative number of bytes",
                        )
                    })?);
                }
                "agents" => {
                    let s = self.string(name, v, span)?;
                    out.agents = Some(self.dir.join(s));
                }
                "python" => {
                    let s = self.string(name, v, span)?;
                    out.python = Some(self.dir.join(s));
                }
                "handler-names" => out.extensions.handler_names = self.strings(name, v, span)?,
                "startup-names" => out.extensions.startup_names = self.strings(name, v, span)?,
                "route-decorators" => {
                    out.extensions.route_decorators = self.strings(name, v, span)?
                }
                "receive-methods" => {
                    out.extensions.receive_methods = self.strings(name, v, span)?
                }
                "offload" => out.extensions.offload_functions = self.strings(name, v, span)?,
                "blocking" | "model-load" => {
                    let (effect, (low, high)) = if name == "blocking" {
                        (Effect::Network, BLOCKING_WRAPPER_MS)
                    } else {
                        (Effect::ModelLoad, MODEL_LOADER_MS)
                    };
                    for api in self.strings(name, v, span)? {
                        out.extensions.apis.push(ApiEntry::new(
                            api,
                            effect,
                            (low, high),
                            format!("`{name}` in {}", self.file_name()),
                        ));
                    }
                }
                "apis" => self.apis(v, span, out)?,
                "frameworks" => out.extensions.frameworks = self.frameworks(span)?,
                _ => {
                    return Err(self.error(
                        key.span(),
                        format!(
                            "unknown key `{name}` in {}{}",
                            self.table_name,
                            suggestion(name, KEYS.iter().copied())
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || "configuration".to_owned(),
            |n| n.to_string_lossy().into(),
        )
    }

    fn string(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<String, ConfigError> {
        v.as_str().map(str::to_owned).ok_or_else(|| {
            self.error(
                span,
                format!("`{key}` must be a string, not {}", v.type_str()),
            )
        })
    }

    fn boolean(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<bool, ConfigError> {
        v.as_bool()
            .ok_or_else(|| self.error(span, format!("`{key}` must be true or false")))
    }

    fn strings(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<Vec<String>, ConfigError> {
        Ok(self
            .spanned_strings(key, v, span)?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    fn spanned_strings(
        &self,
        key: &str,
        v: &DeValue<'_>,
        span: Span,
    ) -> Result<Vec<(String, Span)>, ConfigError> {
        let arr = v.as_array().ok_or_else(|| {
            self.error(
                span,
                format!("`{key}` must be an array of strings, not {}", v.type_str()),
            )
        })?;
        arr.iter()
            .map(|item| match item.get_ref().as_str() {
                Some(s) => Ok((s.to_owned(), item.span())),
                None => Err(self.error(
                    item.span(),
                    format!(
                        "`{key}` must hold strings, not {}",
                        item.get_ref().type_str()
                    ),
                )),
            })
            .collect()
    }

    /// Rule codes or prefixes; a typo gets the closest rule code as a suggestion.
    fn codes(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        for (code, span) in self.spanned_strings(key, v, span)? {
            if !is_known_code(&code) {
                return Err(self.error(
                    span,
                    format!(
                        "unknown rule code or prefix `{code}` in `{key}`{}",
                        suggestion(&code, RULES.iter().map(|r| r.meta().code))
                    ),
                ));
            }
            out.push(code);
        }
        Ok(out)
    }

    fn globs(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        for (pattern, span) in self.spanned_strings(key, v, span)? {
            Glob::new(&pattern).map_err(|e| {
                self.error(span, format!("invalid glob `{pattern}` in `{key}`: {e}"))
            })?;
            // A bare name (`legacy`, `*_pb2.py`) matches at any depth, as on the command line;
            // a path is anchored at the directory of this file.
            out.push(if pattern.contains('/') {
                anchored_glob(&self.dir, &pattern)
            } else {
                pattern
            });
        }
        Ok(out)
    }

    fn fail_on(&self, v: &DeValue<'_>, span: Span) -> Result<Option<Severity>, ConfigError> {
        let s = self.string("fail-on", v, span.clone())?;
        const VALUES: [&str; 5] = ["critical", "high", "medium", "low", "never"];
        if s == "never" {
            return Ok(None);
        }
        match Severity::parse(&s).filter(|_| VALUES.contains(&s.as_str())) {
            Some(sev) => Ok(Some(sev)),
            None => Err(self.error(
                span,
                format!(
                    "invalid `fail-on` value `{s}` (one of: {}){}",
                    VALUES.join(", "),
                    suggestion(&s, VALUES.iter().copied())
                ),
            )),
        }
    }

    fn per_file_ignores(
        &self,
        v: &DeValue<'_>,
        span: Span,
    ) -> Result<Vec<PerFileIgnore>, ConfigError> {
        let table = v.as_table().ok_or_else(|| {
            self.error(span, "`per-file-ignores` must be a table of glob = [codes]")
        })?;
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut out = Vec::new();
        for (glob, codes) in entries {
            let codes = self.codes("per-file-ignores", codes.get_ref(), codes.span())?;
            out.push(
                PerFileIgnore::new(glob.get_ref(), &self.dir, codes)
                    .map_err(|e| self.error(glob.span(), e))?,
            );
        }
        Ok(out)
    }

    /// `[tool.perfaudit.apis."pkg.mod.func"]` tables: one catalog entry each.
    fn apis(&self, v: &DeValue<'_>, span: Span, out: &mut FileConfig) -> Result<(), ConfigError> {
        let table = v.as_table().ok_or_else(|| {
            self.error(
                span,
                "`apis` must be a table of tables: [tool.perfaudit.apis.\"pkg.func\"]",
            )
        })?;
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (name, fields) in entries {
            let name_str: &str = name.get_ref();
            let api = format!("apis.\"{name_str}\"");
            if name_str.is_empty() || name_str.split('.').any(str::is_empty) {
                return Err(self.error(
                    name.span(),
                    format!("`{api}`: the name must be a dotted Python name"),
                ));
            }
            let fields_table = fields.get_ref().as_table().ok_or_else(|| {
                self.error(
                    fields.span(),
                    format!("`{api}` must be a table with `effect`, `low_ms` and `high_ms`"),
                )
            })?;
            let mut entry = ApiEntry::new(
                name_str.to_owned(),
                Effect::Network,
                (f64::NAN, f64::NAN),
                format!("{} [{api}]", self.file_name()),
            );
            let mut has_effect = false;
            let mut fields_sorted: Vec<_> = fields_table.iter().collect();
            fields_sorted.sort_by_key(|(k, _)| k.span().start);
            for (field, value) in fields_sorted {
                let key = field.get_ref().replace('-', "_");
                let (v, span) = (value.get_ref(), value.span());
                let what = format!("{api}.{key}");
                match key.as_str() {
                    "effect" => {
                        let s = self.string(&what, v, span.clone())?;
                        entry.effect = EFFECTS
                            .iter()
                            .copied()
                            .find(|e| e.as_str() == s)
                            .ok_or_else(|| {
                                self.error(
                                    span,
                                    format!(
                                        "unknown effect `{s}` in `{what}`{}",
                                        suggestion(&s, EFFECTS.iter().map(|e| e.as_str()))
                                    ),
                                )
                            })?;
                        has_effect = true;
                    }
                    "low_ms" => entry.low_ms = self.number(&what, v, span)?,
                    "high_ms" => entry.high_ms = self.number(&what, v, span)?,
                    "memory_mb" => entry.memory_mb = Some(self.number(&what, v, span)?),
                    "arg_seconds" => {
                        let n = v
                            .as_integer()
                            .and_then(|i| i.as_str().parse::<usize>().ok());
                        entry.arg_seconds = Some(n.ok_or_else(|| {
                            self.error(span, format!("`{what}` must be an argument index"))
                        })?);
                    }
                    "async_alternative" => {
                        entry.async_alternative = Some(self.string(&what, v, span)?)
                    }
                    "source" => entry.source = self.string(&what, v, span)?,
                    "returns" => entry.returns = Some(self.string(&what, v, span)?),
                    "release" => entry.release = Some(self.string(&what, v, span)?),
                    "log_file" => entry.log_file = Some(self.string(&what, v, span)?),
                    "note" => entry.note = Some(self.string(&what, v, span)?),
                    "timeout_kw" => entry.timeout_kw = self.boolean(&what, v, span)?,
                    "lazy" => entry.lazy = self.boolean(&what, v, span)?,
                    "url_arg" => entry.url_arg = self.boolean(&what, v, span)?,
                    "peer_arg" => entry.peer_arg = self.boolean(&what, v, span)?,
                    _ => {
                        return Err(self.error(
                            field.span(),
                            format!(
                                "unknown key `{}` in `{api}`{}",
                                field.get_ref(),
                                suggestion(&key, API_KEYS.iter().copied())
                            ),
                        ));
                    }
                }
            }
            let missing: Vec<&str> = [
                ("effect", has_effect),
                ("low_ms", !entry.low_ms.is_nan()),
                ("high_ms", !entry.high_ms.is_nan()),
            ]
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(k, _)| *k)
            .collect();
            if !missing.is_empty() {
                return Err(
                    self.error(name.span(), format!("`{api}` lacks {}", missing.join(", ")))
                );
            }
            if entry.low_ms > entry.high_ms {
                return Err(self.error(
                    fields.span(),
                    format!(
                        "`{api}`: low_ms ({}) is above high_ms ({})",
                        entry.low_ms, entry.high_ms
                    ),
                ));
            }
            out.extensions.apis.push(entry);
        }
        Ok(())
    }

    fn number(&self, key: &str, v: &DeValue<'_>, span: Span) -> Result<f64, ConfigError> {
        let n = match v {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(i) if i.radix() == 10 => {
                i.as_str().replace('_', "").parse::<f64>().ok()
            }
            _ => None,
        };
        n.filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| self.error(span, format!("`{key}` must be a non-negative number")))
    }
}
