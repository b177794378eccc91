"""JSON Lines results: one object per line, written by any harness.

Each line: ``{"test_id": "regression_INC_001", "outcome": "pass"}`` with optional
``blocked_at_turn`` (1-based user turn at which the model refused), ``runs`` and
``passes`` (counts of repeated runs, given together), ``message``, ``model`` (the
model tested: results of several models are judged per model) and ``check`` (what
was checked: lines are repeated runs only with the same test id, check and model). A few keys
that describe the run are allowed and not read (``model``, ``duration``,
``timestamp``...; anything else goes under ``metadata``); any other key is an
error, so that a result such as ``{"outcome": "pass", "status": "fail"}`` is never
read as a pass. Blank lines are skipped. The file is read line by line.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from incidentops.gate.testresult import (
    MAX_RESULTS,
    OUTCOMES,
    Reader,
    ResultsSource,
    TestResult,
    short_message,
)
from incidentops.records.errors import IncidentOpsError

#: keys a result line may carry
READ_KEYS = ("test_id", "outcome", "blocked_at_turn", "runs", "passes", "message", "model", "check")
#: keys that describe the run and are not read
INFO_KEYS = ("model_version", "provider", "duration", "duration_s", "time", "timestamp", "run_id", "metadata")
MAX_LINE = 1024 * 1024

HINT_LINE = 'each line is one JSON object such as {"test_id": "regression_INC_001", "outcome": "pass"}'


def decode_line(raw: bytes, where: str, first: bool) -> str:
    """One line's text; a non-UTF-8 byte is an error naming its line and column."""
    try:
        return raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        raise IncidentOpsError(
            f"{where}: byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            "results files are UTF-8 text; re-export the results with UTF-8 encoding",
        ) from None


def lines(chunks: Iterable[bytes], path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of every line, with no line held longer than ``MAX_LINE``."""
    number = 0
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            size += len(piece)
            if size > MAX_LINE:
                raise IncidentOpsError(
                    f"{path}:{number + 1}: the line is longer than {MAX_LINE:,} bytes",
                    "one result per line; put long output in a file of its own, not in the results",
                )
            parts.append(piece)
            if end < 0:
                break
            number += 1
            yield number, b"".join(parts)
            parts, size, start = [], 0, end + 1
    if parts and any(parts):
        yield number + 1, b"".join(parts)


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
    for key in obj:
        if key not in READ_KEYS and key not in INFO_KEYS:
            close = difflib.get_close_matches(key, READ_KEYS, n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise IncidentOpsError(
                f"{where}: test {test_id.strip()}: unknown key {json.dumps(key)}",
                f"{guess}a result has {', '.join(READ_KEYS)}; put anything else under \"metadata\" "
                "(a key the gate does not know could carry an outcome it would miss)",
            )
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
    if message is not None and not isinstance(message, str):
        raise IncidentOpsError(f"{where}: test {test_id.strip()}: message is a JSON {type(message).__name__}, not a string",
                               HINT_LINE)
    return TestResult(
        test_id=test_id.strip(),
        outcome=outcome,
        blocked_at_turn=_count(obj, "blocked_at_turn", where, 1),
        runs=runs,
        passes=passes,
        source=where,
        message=short_message(message) if message else "",
        model=_name(obj, "model", where),
        check=_name(obj, "check", where),
    )


def _name(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise IncidentOpsError(f"{where}: {key} is {json.dumps(value)}, not a name",
                               f"{key} names the {'model tested' if key == 'model' else 'check run'}, as a string")
    return value.strip()


def parse_jsonl(source: ResultsSource) -> list[TestResult]:
    """Every result of a JSONL file, in file order."""
    path = source.label
    results: list[TestResult] = []
    for number, raw in lines(source.chunks(), path):
        where = f"{path}:{number}"
        line = decode_line(raw, where, number == 1)
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        except json.JSONDecodeError as exc:
            raise IncidentOpsError(
                f"{where}:{exc.colno}: invalid JSON: {exc.msg}",
                f"the line may be cut short (a truncated file?); {HINT_LINE}",
            ) from None
        except (ValueError, RecursionError) as exc:
            raise IncidentOpsError(f"{where}: invalid JSON: {exc}", HINT_LINE) from None
        if len(results) >= MAX_RESULTS:
            raise IncidentOpsError(f"{where}: more than {MAX_RESULTS:,} results in one file",
                                   "split the results into several files")
        results.append(_result(obj, where))
    if not results:
        raise IncidentOpsError(
            f"{path}:1: the results file holds no results",
            "the suite may have crashed before writing anything; re-run it",
        )
    return results


READER = Reader(
    name="JSON Lines",
    suffixes=frozenset({".jsonl", ".ndjson"}),
    # a JSON Lines object opens and goes on on its line; `{` then a line break is a pretty-printed document
    sniff=lambda head: head.startswith(b"{") and head[1:].lstrip(b" \t")[:1] not in (b"\n", b"\r", b""),
    parse=parse_jsonl,
    writers="your own harness (one result per line)",
)
