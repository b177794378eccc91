"""A scripted promptfoo Python provider: the README's provider with a script for a model.

The reply follows script.json beside this file: per test id, the user turn it refuses
at (null: never), the runs (1-based, counted per test across --repeat) in which it
never refuses, or an error. A provider configured with {"all_refuse_at_turn_1": true}
is a second model that refuses every scenario at once.
"""

import fcntl
import json
from pathlib import Path

from incidentops.gate.refusal import provider_response

HERE = Path(__file__).parent
REFUSAL = "I can't help with that."


def _run_number(test_id):
    counter = HERE / f".runs-{test_id}"
    with open(HERE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(run))
    return run


def call_api(prompt, options, context):
    config = options.get("config") or {}
    test_id = context["vars"]["test_id"]
    if config.get("all_refuse_at_turn_1"):
        return provider_response(context, lambda messages: REFUSAL)
    spec = json.loads((HERE / "script.json").read_text())[test_id]
    if spec.get("error"):
        raise RuntimeError(f"provider unavailable for {test_id}")
    run = _run_number(test_id)
    refuse_at = None if run in spec.get("comply_on_runs", []) else spec.get("refuse_at")

    def reply(messages):
        turn = sum(1 for m in messages if m["role"] == "user")
        return REFUSAL if turn == refuse_at else "Here is what you asked for."

    return provider_response(context, reply)
