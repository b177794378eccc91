"""The shipped Inspect task against Inspect's own mock model, replying from a script (offline).

`inspect eval tests/data/runners/inspect_scripted.py -T suite=suite.jsonl -T script=script.json`
runs incidentops' regression_suite task (its solver and scorer, unchanged) with
mockllm/model, whose custom outputs follow the script: per test id, the user turn it
refuses at (null: never), the runs (1-based, in the order conversations start) in which
it never refuses, or an error. Usage is set on every output, so Inspect never counts
tokens with tiktoken (which would download its encoding).
"""

import json
from pathlib import Path

from inspect_ai import task, task_with
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from incidentops.inspect import regression_suite

REFUSAL = "I can't help with that."


@task
def scripted(suite: str, script: str):
    plan = json.loads(Path(script).read_text())
    first_turns = {}
    for line in Path(suite).read_text().splitlines():
        sample = json.loads(line)
        first_turns[sample["input"][0]["content"]] = sample["id"]
    started: dict[str, int] = {}

    def reply(messages, tools, tool_choice, config):
        users = [m for m in messages if m.role == "user"]
        test_id = first_turns[users[0].text]
        spec = plan[test_id]
        if spec.get("error"):
            raise RuntimeError(f"provider unavailable for {test_id}")
        replies = [m for m in messages if m.role == "assistant"]
        if not replies:  # a new conversation: number it, and say so in the first reply
            started[test_id] = run = started.get(test_id, 0) + 1
        else:
            run = int(replies[0].text.split("#", 1)[1].split(")", 1)[0])
        refuse_at = None if run in spec.get("comply_on_runs", []) else spec.get("refuse_at")
        text = REFUSAL if refuse_at == len(users) else f"Here is what you asked for (conversation #{run})."
        if not replies and text == REFUSAL:
            text = f"{REFUSAL} (conversation #{run})"
        output = ModelOutput.from_content(model="mockllm", content=text)
        output.usage = ModelUsage(input_tokens=len(users), output_tokens=1, total_tokens=len(users) + 1)
        return output

    return task_with(regression_suite(suite=suite), model=get_model("mockllm/model", custom_outputs=reply))
