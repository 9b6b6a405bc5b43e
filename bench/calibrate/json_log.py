"""Serialising a typical structured-log record.

A log record dict of ~15 fields (timestamp, level, logger, message,
request id, user, http sub-object, durations, tags) is serialised with
json.dumps (default and with indent/sort_keys), orjson.dumps, pickle.dumps,
yaml.safe_dump,
and parsed back with json.loads / orjson.loads / pickle.loads. A larger
payload (a 200-item list of such records, ~80 KB of JSON) shows how the
cost scales.
"""

import json
import pickle

from _common import summary, time_calls, version_of, write_results

RECORD = {
    "ts": "2024-05-14T09:31:27.412Z",
    "level": "INFO",
    "logger": "orders.api.checkout",
    "message": "order placed",
    "request_id": "3f9c2a7e-8d41-4b6a-9e1f-0c2d5b7a9e11",
    "trace_id": "a1b2c3d4e5f60718",
    "user": {"id": 48213, "tier": "gold", "country": "DE"},
    "http": {"method": "POST", "path": "/v1/orders", "status": 201,
             "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
    "duration_ms": 38.42,
    "db_queries": 7,
    "cache_hit": False,
    "items": [{"sku": "A-1001", "qty": 2, "price": 19.99},
              {"sku": "B-2002", "qty": 1, "price": 5.49}],
    "tags": ["checkout", "eu", "web"],
    "retries": 0,
    "host": "orders-api-7d9f8c-xk2lp",
}


def main() -> None:
    rows = []
    batch = 200
    rows.append(summary("json.dumps (log record)",
                        time_calls(lambda: json.dumps(RECORD), 200, batch=batch)))
    rows.append(summary("json.dumps indent=2 sort_keys (log record)",
                        time_calls(lambda: json.dumps(RECORD, indent=2, sort_keys=True),
                                   200, batch=batch)))
    text = json.dumps(RECORD)
    rows.append(summary("json.loads (log record)",
                        time_calls(lambda: json.loads(text), 200, batch=batch)))
    rows.append(summary("pickle.dumps (log record)",
                        time_calls(lambda: pickle.dumps(RECORD), 200, batch=batch)))
    blob = pickle.dumps(RECORD)
    rows.append(summary("pickle.loads (log record)",
                        time_calls(lambda: pickle.loads(blob), 200, batch=batch)))

    big = [dict(RECORD, retries=i) for i in range(200)]
    rows.append(summary("json.dumps (200 records, ~80 KB)",
                        time_calls(lambda: json.dumps(big), 100, batch=5)))
    big_text = json.dumps(big)
    rows.append(summary("json.loads (200 records, ~80 KB)",
                        time_calls(lambda: json.loads(big_text), 100, batch=5)))

    try:
        import yaml
        rows.append(summary("yaml.safe_dump (log record, pure-Python emitter)",
                            time_calls(lambda: yaml.safe_dump(RECORD), 100, batch=5)))
    except ImportError:
        pass

    try:
        import orjson
    except ImportError:
        orjson = None
    if orjson is not None:
        rows.append(summary("orjson.dumps (log record)",
                            time_calls(lambda: orjson.dumps(RECORD), 200, batch=batch)))
        otext = orjson.dumps(RECORD)
        rows.append(summary("orjson.loads (log record)",
                            time_calls(lambda: orjson.loads(otext), 200, batch=batch)))
        rows.append(summary("orjson.dumps (200 records, ~80 KB)",
                            time_calls(lambda: orjson.dumps(big), 100, batch=5)))
    write_results(__file__, rows, notes=f"record size {len(text)} bytes as JSON; "
                                        f"large payload {len(big_text)} bytes",
                  versions={"orjson": version_of("orjson"), "pyyaml": version_of("pyyaml")})


if __name__ == "__main__":
    main()
