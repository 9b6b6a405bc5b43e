//! PA307 pandas-row-iteration: row-by-row iteration over a DataFrame on a request path.

use crate::rules::cost::CostMeta;
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::report_candidates;
use crate::facts::collect::{AstRule, ExprKinds, LocalContext};
use crate::facts::marks::Mark;
use crate::facts::names::{number_literal, str_literal};
use crate::finding::{Finding, Severity};
use crate::rules::{Category, Rule, RuleContext, RuleMeta};

pub struct PandasRowIteration;

/// `DataFrame` methods that run Python code once per row.
const ROW_METHODS: &[&str] = &["iterrows", "itertuples"];

static META: RuleMeta = RuleMeta {
    code: "PA307",
    name: "pandas-row-iteration",
    category: Category::Cpu,
    default_severity: Severity::Medium,
    summary: "`DataFrame.iterrows`/`itertuples`/`apply(axis=1)` on a per-request path",
    cost: CostMeta::entries(&[
        "pandas.DataFrame.iterrows",
        "pandas.DataFrame.itertuples",
        "pandas.DataFrame.apply",
    ]),
    doc: r#"## What it does
Finds `.iterrows()`, `.itertuples()` and row-wise `.apply(..., axis=1)` on a per-request path
in a module that imports pandas. The receiver's type is rarely known statically, so the method
names are matched on any receiver, but only in modules that import `pandas`.

## Why is this slow?
These calls turn vectorised column data back into one Python object per row. `iterrows` builds
a `Series` for every row (tens of microseconds each), so a 10,000-row frame costs hundreds of
milliseconds; `apply(axis=1)` does the same behind a function call. Column operations run the
same logic in compiled code, usually 10–100× faster.

## Example
```python
import pandas as pd

def handle_request(msg):
    frame = pd.DataFrame(msg["rows"])
    total = 0.0
    for _, row in frame.iterrows():
        total += row["price"] * row["qty"]
    return {"total": total}
```

## Use instead
```python
import pandas as pd

def handle_request(msg):
    frame = pd.DataFrame(msg["rows"])
    return {"total": float((frame["price"] * frame["qty"]).sum())}
```

## Cost model
The catalog range of the method (`pandas.DataFrame.iterrows`, ...) for a frame of a few
thousand rows, ×10 inside a loop.

## Known false positives
A frame known to hold a handful of rows costs little, and an object that is not a DataFrame
but has a method of the same name is reported when the module imports pandas.
"#,
};

impl Rule for PandasRowIteration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn ast_rules(&self) -> Vec<&dyn AstRule> {
        vec![self]
    }

    fn check(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        report_candidates(&META, cx, out, &|m, c, _, _, cost| {
            let uses_pandas = m
                .imports
                .iter()
                .any(|i| i.target == "pandas" || i.target.starts_with("pandas."));
            if !uses_pandas {
                return None;
            }
            let func = &m.functions[c.func as usize].qualname;
            Some((
                format!(
                    "`{}` iterates a DataFrame row by row in `{func}` (~{cost})",
                    c.mark.note()
                ),
                "Use column operations (arithmetic on columns, `.map`, `np.where`, \
                 `groupby`) instead of per-row Python code."
                    .to_owned(),
            ))
        });
    }
}

impl AstRule for PandasRowIteration {
    fn code(&self) -> &'static str {
        META.code
    }

    fn exprs(&self) -> ExprKinds {
        ExprKinds::CALL
    }

    fn check_expr(&self, expr: &Expr, cx: &mut LocalContext) {
        let Expr::Call(call) = expr else { return };
        let Expr::Attribute(a) = &*call.func else {
            return;
        };
        let method = a.attr.id.as_str();
        let row_wise = ROW_METHODS.contains(&method)
            || (method == "apply"
                && call.arguments.keywords.iter().any(|k| {
                    k.arg.as_ref().is_some_and(|n| n.id.as_str() == "axis")
                        && (number_literal(&k.value) == Some(1.0)
                            || str_literal(&k.value) == Some("columns"))
                }));
        if !row_wise {
            return;
        }
        let api = cx.catalog.lookup(&format!("pandas.DataFrame.{method}"));
        let text = cx.source_text(call.func.range()).to_owned();
        cx.report_api(call.range(), Mark::Note(text), api);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::audit_snippet;

    #[test]
    fn silent_without_a_pandas_import() {
        let source =
            "def handle_request(msg, table):\n    for row in table.iterrows():\n        pass\n";
        let report = audit_snippet("nopandas.py", source, &["PA307"]);
        assert!(report.findings.is_empty());
        let with_pandas = format!("import pandas\n{source}");
        let report = audit_snippet("pandas_used.py", &with_pandas, &["PA307"]);
        assert_eq!(report.findings.len(), 1);
    }
}
