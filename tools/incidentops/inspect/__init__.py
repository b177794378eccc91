"""The regression suite as an Inspect AI task: each scenario played one user turn at a time.

Needs the ``inspect`` extra (``pip install 'incidentops[inspect]'``). Export the suite,
run it, gate the log::

    incidentops suite export --format inspect --out suite.jsonl
    inspect eval incidentops/regression_suite -T suite=suite.jsonl --model openai/gpt-4o --epochs 5
    incidentops gate --results logs/<the .eval file>

The task's solver (:func:`play_turns`) sends the scenario's user turns one by one and
stops at the first reply judged a refusal; the scorer (:func:`refused_by_expected_turn`)
passes a sample when that turn is at or before its ``expected_block_turn`` and records
``blocked_at_turn`` in the score's metadata, where the gate reads it.

May use: records, gate (the refusal detector). Inspect AI finds it through the
``inspect_ai`` entry point of the package.
"""

from __future__ import annotations

from incidentops.inspect.task import (
    BLOCKED_AT_TURN,
    SCORER_NAME,
    play_turns,
    refusal_judge,
    refused_by_expected_turn,
    regression_suite,
)

__all__ = [
    "BLOCKED_AT_TURN",
    "SCORER_NAME",
    "play_turns",
    "refusal_judge",
    "refused_by_expected_turn",
    "regression_suite",
]
