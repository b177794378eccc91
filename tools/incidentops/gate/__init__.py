"""The release gate: read regression results, decide PASS or BLOCK, render and record it.

Holds the readers of runner output (junit, jsonl, promptfoo, inspect_log, with
matching to the registry's tests), the decision (decision, scope), its text and
Markdown forms (render), the release record it writes and the release records it
reads (record, releases), the suite's export for a runner (export) and the refusal
detector a runner's provider uses (refusal). Whatever the gate does not positively
understand is an error, never a PASS.

May use: records, policy, lifecycle, checks.
"""

from __future__ import annotations

from incidentops.gate.decision import (
    BLOCK_DECISION,
    PASS_DECISION,
    FlakyTest,
    GateDecision,
    GateWarning,
    TestOutcome,
    decide,
)
from incidentops.gate.record import default_record_name, record
from incidentops.gate.render import decision_as_dict, render_markdown, render_text
from incidentops.gate.results import (
    ResultsFile,
    combine_results,
    load_results,
    load_results_file,
    read_results,
)
from incidentops.gate.testresult import OUTCOMES, TestResult

__all__ = [
    "BLOCK_DECISION",
    "OUTCOMES",
    "PASS_DECISION",
    "FlakyTest",
    "GateDecision",
    "GateWarning",
    "ResultsFile",
    "TestOutcome",
    "TestResult",
    "combine_results",
    "decide",
    "decision_as_dict",
    "default_record_name",
    "load_results",
    "load_results_file",
    "read_results",
    "record",
    "render_markdown",
    "render_text",
]
