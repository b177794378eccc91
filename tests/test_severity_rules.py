"""Severity, escalation and SLA rules of `incidentops check`, on positive and negative examples.

tests/data/rules/severity/bad holds one incident per violation (its header comment says
which); tests/data/rules/severity/good holds the borderline cases that must pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import build_registry as build
from conftest import check_findings as check

DATA = Path(__file__).parent / "data" / "rules" / "severity"
FAMILIES = ("severity", "escalation", "sla")


def ours(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule"].split(".")[0] in FAMILIES]


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return check(build(tmp_path_factory.mktemp("severity") / "bad", DATA / "bad"))


# (incident, line, col, rule): the declared value, the answer or the `escalations` key
EXPECTED = [
    ("INC_101", 7, 11, "severity.under-declared"),
    ("INC_102", 7, 11, "severity.outside-type-range"),
    ("INC_103", 22, 1, "escalation.missing"),  # Legal
    ("INC_103", 22, 1, "escalation.missing"),  # All hands
    ("INC_104", 20, 22, "severity.consider-sev0"),
    ("INC_105", 10, 20, "sla.breached"),  # first_response_at
    ("INC_106", 10, 14, "sla.breached"),  # detected_at: no first_response_at at all
    ("INC_107", 23, 1, "escalation.missing"),  # Legal, for regulatory implications
]
LEVELS = {
    "severity.under-declared": "error",
    "severity.outside-type-range": "warning",
    "severity.consider-sev0": "warning",
    "escalation.missing": "error",
    "sla.breached": "warning",
}


def test_bad_examples_give_exactly_the_expected_findings(bad: list[dict]) -> None:
    got = Counter((f["path"], f["line"], f["col"], f["rule"]) for f in ours(bad))
    want = Counter((f"incidents/{inc}/incident.yaml", line, col, rule) for inc, line, col, rule in EXPECTED)
    assert got == want
    assert not [f for f in bad if f["rule"].startswith(("schema.", "yaml."))]


@pytest.mark.parametrize(("incident", "line", "col", "rule"), sorted(set(EXPECTED)))
def test_negative_example(bad: list[dict], incident: str, line: int, col: int, rule: str) -> None:
    hits = [f for f in bad if f["path"] == f"incidents/{incident}/incident.yaml" and f["rule"] == rule]
    assert [(f["line"], f["col"]) for f in hits][:1] == [(line, col)]
    assert {f["level"] for f in hits} == {LEVELS[rule]}
    assert all(f["hint"] for f in hits)


def test_messages_name_what_is_missing(bad: list[dict]) -> None:
    by_incident = {}
    for f in ours(bad):
        by_incident.setdefault(f["path"].split("/")[1], []).append(f["message"])
    assert any("computes SEV-1" in m for m in by_incident["INC_101"])
    inc_103 = sorted(by_incident["INC_103"])
    assert "no escalation to All hands" in inc_103[0] and "SEV-0" in inc_103[0]
    assert "no escalation to Legal" in inc_103[1]
    assert "regulatory implications" in inc_103[1] and "PII exposure" in inc_103[1]
    assert any("90 minutes" in m and "60-minute" in m for m in by_incident["INC_105"])
    assert any("no first response" in m for m in by_incident["INC_106"])


def test_good_examples_pass(tmp_path: Path) -> None:
    findings = check(build(tmp_path / "good", DATA / "good"))
    assert ours(findings) == []
    assert not [f for f in findings if f["level"] == "error"]


def test_sla_breach_appears_once_the_sla_has_run_out(tmp_path: Path) -> None:
    # good/INC_005: a SEV-3 detected 2026-05-31 12:00 with no response: pending the next
    # day, breached two days later (reported at its `first_response_at: null`).
    root = build(tmp_path / "good", DATA / "good")
    late = ours(check(root, "2026-06-02T13:00:00Z"))
    assert [(f["path"], f["line"], f["rule"]) for f in late] == [
        ("incidents/INC_005/incident.yaml", 10, "sla.breached")
    ]


def test_example_incident_declared_too_low(example: Path) -> None:
    inc = example / "incidents/INC_001/incident.yaml"
    text = inc.read_text()
    inc.write_text(text.replace("  harm: imminent", "  harm: occurred", 1))
    hits = [f for f in check(example, "2026-11-27") if f["rule"] == "severity.under-declared"]
    assert [(f["path"], f["line"], f["col"]) for f in hits] == [("incidents/INC_001/incident.yaml", 5, 11)]


def test_override_needs_reason_and_approver(example: Path) -> None:
    inc = example / "incidents/INC_001/incident.yaml"
    text = inc.read_text().replace("  harm: imminent", "  harm: occurred", 1)
    inc.write_text(text.replace("escalations:", "severity_override:\n  reason: Internal red-team account only\nescalations:", 1))
    findings = check(example, "2026-11-27")
    # an override without its approver fails the schema (an error: the check fails); the severity rules
    # judge only a valid record, so they say nothing until the override is complete or removed
    assert [(f["line"], f["rule"]) for f in findings if f["path"] == "incidents/INC_001/incident.yaml"
            and f["rule"] in ("severity.under-declared", "schema.required")] == [(21, "schema.required")]
    inc.write_text(text)  # no override at all: the under-declared severity is reported
    assert [(f["line"], f["rule"]) for f in check(example, "2026-11-27") if f["rule"] == "severity.under-declared"] == [
        (5, "severity.under-declared")]
    inc.write_text(text.replace(
        "escalations:",
        "severity_override:\n  reason: Internal red-team account only\n  approver: Incident commander\nescalations:", 1))
    assert [f for f in check(example, "2026-11-27") if f["rule"] == "severity.under-declared"] == []
