"""Config parsing: re-reading a config file per call vs parsing it once.

Writes a typical ~60-line service configuration in YAML (plus the same
data as JSON, TOML, INI and .env) and measures open + parse for
yaml.safe_load (pure-Python loader), yaml.load with the libyaml
CSafeLoader, yaml.full_load, json.load, tomllib.load, toml.load,
configparser.ConfigParser.read and dotenv.load_dotenv, against looking a
value up in a dict that was parsed once.
"""

import configparser
import json
import os
import tomllib
from pathlib import Path

from _common import scratch_dir, summary, time_calls, version_of, write_results

N = 200

YAML_TEXT = """\
# service configuration
service:
  name: orders-api
  environment: production
  version: "2.14.3"
  debug: false
server:
  host: 0.0.0.0
  port: 8080
  workers: 4
  timeout_seconds: 30
  keepalive_seconds: 5
  cors_origins:
    - https://app.example.com
    - https://admin.example.com
database:
  url: postgresql://orders:secret@db.internal:5432/orders
  pool_size: 10
  max_overflow: 20
  pool_timeout: 30
  echo: false
redis:
  url: redis://cache.internal:6379/0
  socket_timeout: 2.5
  key_prefix: "orders:"
queue:
  broker: amqp://guest:guest@mq.internal:5672//
  exchange: orders
  routing_keys: [created, paid, shipped, cancelled]
  prefetch: 16
logging:
  level: INFO
  format: json
  handlers:
    - type: stream
      stream: stdout
    - type: file
      path: /var/log/orders/app.log
      rotate_mb: 100
      keep: 7
features:
  new_checkout: true
  fraud_scoring: true
  recommendations: false
  rate_limit_per_minute: 600
llm:
  provider: openai
  model: gpt-4o-mini
  temperature: 0.2
  max_tokens: 512
  system_prompt: >
    You are a helpful assistant for order support.
    Answer briefly and never invent order numbers.
metrics:
  enabled: true
  port: 9102
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
"""


def flatten_for_ini(data: dict) -> configparser.ConfigParser:
    cp = configparser.ConfigParser()
    for section, values in data.items():
        cp[section] = {k: json.dumps(v) if not isinstance(v, str) else v
                       for k, v in values.items()}
    return cp


def to_toml(data: dict) -> str:
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list) and all(not isinstance(x, dict) for x in v):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError
    out = []
    for section, values in data.items():
        out.append(f"[{section}]")
        tables = []
        for k, v in values.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                tables.append((k, v))
            else:
                out.append(f"{k} = {value(v)}")
        for k, items in tables:
            for item in items:
                out.append(f"[[{section}.{k}]]")
                out.extend(f"{ik} = {value(iv)}" for ik, iv in item.items())
        out.append("")
    return "\n".join(out)


def main() -> None:
    import yaml

    data = yaml.safe_load(YAML_TEXT)
    rows = []
    with scratch_dir() as tmp:
        tmp = Path(tmp)
        ypath = tmp / "config.yaml"
        ypath.write_text(YAML_TEXT)
        jpath = tmp / "config.json"
        jpath.write_text(json.dumps(data, indent=2))
        tpath = tmp / "config.toml"
        tpath.write_text(to_toml(data))
        ipath = tmp / "config.ini"
        with ipath.open("w") as fh:
            flatten_for_ini(data).write(fh)
        epath = tmp / ".env"
        epath.write_text("".join(f"CALIB_{k.upper()}={v}\n"
                                 for k, v in data["server"].items() if not isinstance(v, list))
                         + "".join(f"CALIB_DB_{k.upper()}={v}\n"
                                   for k, v in data["database"].items()))

        def y_safe():
            with ypath.open() as fh:
                yaml.safe_load(fh)

        rows.append(summary("yaml.safe_load (60-line file, pure-Python loader)",
                            time_calls(y_safe, N)))

        def y_full():
            with ypath.open() as fh:
                yaml.full_load(fh)

        rows.append(summary("yaml.full_load (60-line file)", time_calls(y_full, N)))

        if getattr(yaml, "CSafeLoader", None) is not None:
            def y_c():
                with ypath.open() as fh:
                    yaml.load(fh, Loader=yaml.CSafeLoader)

            rows.append(summary("yaml.load Loader=CSafeLoader (libyaml)", time_calls(y_c, N)))

        def j_load():
            with jpath.open() as fh:
                json.load(fh)

        rows.append(summary("json.load (same config as JSON)", time_calls(j_load, N, batch=10)))

        def t_load():
            with tpath.open("rb") as fh:
                tomllib.load(fh)

        rows.append(summary("tomllib.load (same config as TOML)", time_calls(t_load, N)))

        try:
            import toml
        except ImportError:
            toml = None
        if toml is not None:
            rows.append(summary("toml.load (same config as TOML)",
                                time_calls(lambda: toml.load(str(tpath)), N)))

        def ini_read():
            configparser.ConfigParser().read(ipath)

        rows.append(summary("configparser.ConfigParser().read (same config as INI)",
                            time_calls(ini_read, N)))

        try:
            import dotenv
        except ImportError:
            dotenv = None
        if dotenv is not None:
            rows.append(summary("dotenv.load_dotenv (18-line .env)",
                                time_calls(lambda: dotenv.load_dotenv(epath, override=True), N)))
            for k in list(os.environ):
                if k.startswith("CALIB_"):
                    del os.environ[k]

        rows.append(summary("dict lookup in config parsed once",
                            time_calls(lambda: data["server"]["port"], N, batch=1000)))

    write_results(__file__, rows, notes="file read included; page cache warm",
                  versions={"pyyaml": version_of("pyyaml"), "toml": version_of("toml"),
                            "python-dotenv": version_of("python-dotenv"),
                            "libyaml": getattr(yaml, "__with_libyaml__", False)})


if __name__ == "__main__":
    main()
