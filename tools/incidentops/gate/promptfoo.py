"""promptfoo results: ``promptfoo eval -o results.json`` (its version-3 document) and ``-o results.jsonl``.

Each result (``results.results[]`` in JSON, one per line in JSONL) is one run of one
test against one provider. The gate reads, and checks for consistency:

- ``success`` (true/false) and ``failureReason`` (0 none, 1 an assertion failed, 2 an
  error): 0 with success is a pass, 1 a failure (the reason is ``gradingResult.reason``),
  2 an error (``error``); any other value or combination is exit 2;
- the test id from the test's ``metadata.test_id`` (the export sets it), else its
  ``vars.test_id``, else its ``description`` (matched like a JUnit test name);
- the model from ``provider.label`` (else ``provider.id``); the check from the prompt
  (``prompt.label``): repeats (``--repeat N``) are the same test, prompt and provider;
- ``blocked_at_turn`` from the provider's response metadata (the documented provider
  returns it there).

The JSON document has no line structure worth naming, so it is read whole (within the
64 MiB cap); JSONL is read line by line.
"""

from __future__ import annotations

import json
from typing import Any

from incidentops.gate import jsonl
from incidentops.gate.testresult import (
    ERROR,
    FAIL,
    MAX_RESULTS,
    PASS,
    Reader,
    ResultsSource,
    TestResult,
    short_message,
)
from incidentops.records.errors import IncidentOpsError

HINT = "pass the file exactly as `promptfoo eval -o results.json` (or results.jsonl) wrote it"
_REASONS = {0: PASS, 1: FAIL, 2: ERROR}
_JSONL_KEYS = (b'"promptIdx"', b'"testIdx"', b'"failureReason"', b'"gradingResult"')


def looks_like_results(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"evalId"' in text[:300]


def looks_like_lines(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    return first.startswith(b"{") and any(key in first for key in _JSONL_KEYS)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _turn(*sources: Any, where: str) -> int | None:
    for source in sources:
        value = _mapping(source).get("blocked_at_turn")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise IncidentOpsError(f"{where}: blocked_at_turn is {value!r}, not a turn number",
                                   "the provider returns metadata.blocked_at_turn: the 1-based turn of the refusal, or null")
        return value
    return None


def _result(obj: Any, where: str) -> TestResult:
    if not isinstance(obj, dict):
        raise IncidentOpsError(f"{where}: a promptfoo result is a JSON object, not {type(obj).__name__}", HINT)
    success, reason = obj.get("success"), obj.get("failureReason")
    if not isinstance(success, bool):
        raise IncidentOpsError(f"{where}: the result has no success true/false", HINT)
    if reason is None:
        reason = 0 if success else (2 if obj.get("error") and not obj.get("gradingResult") else 1)
    if isinstance(reason, bool) or reason not in _REASONS:
        raise IncidentOpsError(f"{where}: failureReason {reason!r} is not 0, 1 or 2",
                               "promptfoo writes failureReason 0 (none), 1 (an assertion failed) or 2 (an error); " + HINT)
    grading = _mapping(obj.get("gradingResult"))
    if success != (reason == 0) or ("pass" in grading and grading["pass"] is not success and reason != 2):
        raise IncidentOpsError(
            f"{where}: success {json.dumps(success)}, failureReason {reason} and gradingResult.pass "
            f"{json.dumps(grading.get('pass'))} disagree", "a result the gate cannot read one way only is refused; " + HINT)
    case = _mapping(obj.get("testCase"))
    if not case:
        raise IncidentOpsError(f"{where}: the result has no testCase", HINT)
    test_vars = _mapping(case.get("vars")) or _mapping(obj.get("vars"))
    description = str(case.get("description") or "").strip()
    stated = _mapping(case.get("metadata")).get("test_id") or test_vars.get("test_id")
    if stated is not None and (not isinstance(stated, str) or not stated.strip()):
        raise IncidentOpsError(f"{where}: the test's test_id is {stated!r}, not an id", "export the suite with incidentops")
    test_id = stated.strip() if isinstance(stated, str) else description or f"promptfoo test {obj.get('testIdx', '?')}"
    provider = obj.get("provider")
    model = str(provider.get("label") or provider.get("id") or "") if isinstance(provider, dict) else str(provider or "")
    prompt = _mapping(obj.get("prompt"))
    check = str(prompt.get("label") or obj.get("promptId") or "prompt")
    outcome = _REASONS[reason]
    if outcome == PASS:
        message = ""
    elif outcome == FAIL:
        message = str(grading.get("reason") or obj.get("error") or "an assertion failed")
    else:
        message = str(obj.get("error") or "an error")
    return TestResult(
        test_id=test_id,
        outcome=outcome,
        blocked_at_turn=_turn(_mapping(obj.get("response")).get("metadata"), obj.get("metadata"), where=where),
        source=where,
        message=short_message(message),
        model=model or None,
        check=check,
        names=() if stated else ((description,) if description else ()),
    )


def parse_results(source: ResultsSource) -> list[TestResult]:
    """Every result of a promptfoo JSON results document (``-o results.json``)."""
    path = source.label
    try:
        doc = json.loads(source.read_all().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IncidentOpsError(f"{path}:1: byte 0x{exc.object[exc.start]:02x} is not valid UTF-8", HINT) from None
    except json.JSONDecodeError as exc:
        raise IncidentOpsError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
                               "the file may be cut short; " + HINT) from None
    except RecursionError:
        raise IncidentOpsError(f"{path}:1: the JSON is nested too deeply", HINT) from None
    results_doc = _mapping(_mapping(doc).get("results"))
    version = results_doc.get("version")
    if version != 3:
        raise IncidentOpsError(f"{path}:1: promptfoo results version {version!r}; the gate reads version 3",
                               "write the results with promptfoo 0.100 or later (-o results.json)")
    rows = results_doc.get("results")
    if not isinstance(rows, list):
        raise IncidentOpsError(f"{path}:1: results.results is not a list", HINT)
    if len(rows) > MAX_RESULTS:
        raise IncidentOpsError(f"{path}:1: more than {MAX_RESULTS:,} results in one file", "split the run")
    if not rows:
        raise IncidentOpsError(f"{path}:1: the results file holds no results", "the eval ran no test; re-run it")
    return [_result(row, f"{path}: results.results[{index}]") for index, row in enumerate(rows)]


def parse_lines(source: ResultsSource) -> list[TestResult]:
    """Every result of a promptfoo JSONL file (``-o results.jsonl``), line by line."""
    path = source.label
    results: list[TestResult] = []
    for number, raw in jsonl.lines(source.chunks(), path):
        where = f"{path}:{number}"
        line = jsonl.decode_line(raw, where, number == 1)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IncidentOpsError(f"{where}:{exc.colno}: invalid JSON: {exc.msg}",
                                   "the line may be cut short (a truncated file?); " + HINT) from None
        except RecursionError:
            raise IncidentOpsError(f"{where}: the JSON is nested too deeply", HINT) from None
        if len(results) >= MAX_RESULTS:
            raise IncidentOpsError(f"{where}: more than {MAX_RESULTS:,} results in one file", "split the run")
        results.append(_result(obj, where))
    if not results:
        raise IncidentOpsError(f"{path}:1: the results file holds no results", "the eval ran no test; re-run it")
    return results


READER = Reader(
    name="promptfoo results JSON",
    suffixes=frozenset({".json"}),
    sniff=looks_like_results,
    parse=parse_results,
    writers="promptfoo eval -o results.json",
)

LINES_READER = Reader(
    name="promptfoo results JSONL",
    suffixes=frozenset({".jsonl"}),
    sniff=looks_like_lines,
    parse=parse_lines,
    writers="promptfoo eval -o results.jsonl",
)
