"""JSON Lines results: one object per line, written by any harness.

Each line: ``{"test_id": "regression_INC_001", "outcome": "pass"}`` with optional
``blocked_at_turn`` (1-based user turn at which the model refused), ``runs`` and
``passes`` (counts of repeated runs, given together) and ``message``. Other keys
(durations, model names...) are ignored. Blank lines are skipped.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from incidentops.errors import IncidentOpsError
from incidentops.gate.testresult import OUTCOMES, TestResult, short_message

HINT_LINE = 'each line is one JSON object such as {"test_id": "regression_INC_001", "outcome": "pass"}'


def decode_utf8(data: bytes, path: str) -> str:
    """The file's text; a non-UTF-8 byte is an error naming its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IncidentOpsError(
            f"{path}:{line}: byte 0x{data[exc.start]:02x} is not valid UTF-8",
            "results files are UTF-8 text; re-export the results with UTF-8 encoding",
        ) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _count(obj: dict[str, Any], key: str, where: str, minimum: int) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise IncidentOpsError(
            f"{where}: {key} is {json.dumps(value)}, not a whole number >= {minimum}",
            "blocked_at_turn is the 1-based user turn the model refused at (or null); "
            "runs and passes count repeated runs",
        )
    return value


def _result(obj: Any, where: str) -> TestResult:
    if not isinstance(obj, dict):
        raise IncidentOpsError(f"{where}: the line is a JSON {type(obj).__name__}, not an object", HINT_LINE)
    test_id = obj.get("test_id")
    if not isinstance(test_id, str) or not test_id.strip():
        raise IncidentOpsError(f"{where}: the result has no test_id", HINT_LINE)
    outcome = obj.get("outcome")
    if outcome not in OUTCOMES:
        close = difflib.get_close_matches(str(outcome), OUTCOMES, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise IncidentOpsError(
            f"{where}: test {test_id}: unknown outcome {json.dumps(outcome)}",
            f"{guess}outcome is one of: {', '.join(OUTCOMES)}",
        )
    runs = _count(obj, "runs", where, 1)
    passes = _count(obj, "passes", where, 0)
    if (runs is None) != (passes is None) or (runs is not None and passes is not None and passes > runs):
        raise IncidentOpsError(
            f"{where}: test {test_id}: runs and passes must come together, with passes <= runs",
            'report repeated runs as "runs": 10, "passes": 9 (or leave both out)',
        )
    message = obj.get("message")
    return TestResult(
        test_id=test_id.strip(),
        outcome=outcome,
        blocked_at_turn=_count(obj, "blocked_at_turn", where, 1),
        runs=runs,
        passes=passes,
        source=where,
        message=short_message(message) if isinstance(message, str) else "",
    )


def parse_jsonl(data: bytes, path: str) -> list[TestResult]:
    """Every result of a JSONL file, in file order."""
    text = decode_utf8(data, path)
    results: list[TestResult] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        except json.JSONDecodeError as exc:
            raise IncidentOpsError(
                f"{where}:{exc.colno}: invalid JSON: {exc.msg}",
                f"the line may be cut short (a truncated file?); {HINT_LINE}",
            ) from None
        except ValueError as exc:
            raise IncidentOpsError(f"{where}: invalid JSON: {exc}", HINT_LINE) from None
        results.append(_result(obj, where))
    if not results:
        raise IncidentOpsError(
            f"{path}:1: the results file holds no results",
            "the suite may have crashed before writing anything; re-run it",
        )
    return results
