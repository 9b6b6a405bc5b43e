"""copy.deepcopy of typical request payloads.

A chat-completion style request (model, 6 messages, tool definitions with
JSON-schema parameters, metadata; 47 dicts and lists) and a larger one (a
list of 50 such payloads). Compared with json round trip and a shallow
dict copy, the usual alternatives.
"""

import copy
import json

from _common import summary, time_calls, write_results


def payload(i: int = 0) -> dict:
    return {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 512,
        "messages": [
            {"role": "system", "content": "You are a support agent for an online shop."},
            {"role": "user", "content": f"Where is my order {1000 + i}?"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "lookup_order",
                                          "arguments": "{\"order_id\": 1000}"}}]},
            {"role": "tool", "tool_call_id": "call_1",
             "content": json.dumps({"status": "shipped", "eta": "2024-05-16"})},
            {"role": "assistant", "content": "Your order shipped and arrives Thursday."},
            {"role": "user", "content": "Thanks! Can I change the address?"},
        ],
        "tools": [
            {"type": "function", "function": {
                "name": name, "description": f"{name} tool",
                "parameters": {"type": "object",
                               "properties": {"order_id": {"type": "integer"},
                                              "address": {"type": "object", "properties": {
                                                  "street": {"type": "string"},
                                                  "city": {"type": "string"},
                                                  "zip": {"type": "string"}}}},
                               "required": ["order_id"]}}}
            for name in ("lookup_order", "change_address", "cancel_order")
        ],
        "metadata": {"session": f"s-{i}", "tags": ["support", "eu"], "attempt": 1},
    }


def containers(obj) -> int:
    if isinstance(obj, dict):
        return 1 + sum(containers(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return 1 + sum(containers(v) for v in obj)
    return 0


def main() -> None:
    rows = []
    small = payload()
    rows.append(summary("copy.deepcopy (chat request payload, 47 dicts and lists)",
                        time_calls(lambda: copy.deepcopy(small), 300, batch=20)))
    rows.append(summary("json.loads(json.dumps(...)) (same payload)",
                        time_calls(lambda: json.loads(json.dumps(small)), 300, batch=20)))
    rows.append(summary("dict(payload) shallow copy",
                        time_calls(lambda: dict(small), 300, batch=200)))
    big = [payload(i) for i in range(50)]
    rows.append(summary("copy.deepcopy (50 payloads)",
                        time_calls(lambda: copy.deepcopy(big), 100)))
    write_results(__file__, rows, notes=f"payload JSON size {len(json.dumps(small))} bytes, "
                                       f"{containers(small)} dicts/lists")


if __name__ == "__main__":
    main()
