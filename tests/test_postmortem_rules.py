"""Postmortem rules of `incidentops check`, on positive and negative examples.

tests/data/rules/postmortem/bad holds one violation per incident folder (each file's
header comment says which); tests/data/rules/postmortem/good the cases that must pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import build_registry as build
from conftest import check_findings as check
from incidentops.checks.postmortem_rules import headings, person_in

DATA = Path(__file__).parent / "data" / "rules" / "postmortem"


def ours(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule"].startswith("postmortem.")]


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return check(build(tmp_path_factory.mktemp("postmortem") / "bad", DATA / "bad"))


INCIDENT = "incidents/{}/incident.yaml"
POSTMORTEM = "incidents/{}/postmortem.md"
# (file, incident, line, col, rule, level)
EXPECTED = [
    (INCIDENT, "INC_201", 7, 9, "postmortem.missing", "error"),  # status: resolved
    (INCIDENT, "INC_202", 8, 9, "postmortem.open-actions", "error"),  # status: closed
    (POSTMORTEM, "INC_203", 8, 15, "postmortem.late", "warning"),  # published_at
    (POSTMORTEM, "INC_204", 5, 9, "postmortem.late", "warning"),  # status: draft
    (POSTMORTEM, "INC_205", 6, 14, "postmortem.lightweight-not-allowed", "error"),  # review_type
    (POSTMORTEM, "INC_206", 22, 1, "postmortem.missing-section", "error"),  # What went well
    (POSTMORTEM, "INC_206", 22, 1, "postmortem.missing-section", "error"),  # What was difficult
    (POSTMORTEM, "INC_207", 11, 5, "postmortem.attendee-name", "error"),  # Alice Smith
    (POSTMORTEM, "INC_207", 12, 5, "postmortem.attendee-name", "error"),  # @jdoe
]


def test_bad_examples_give_exactly_the_expected_findings(bad: list[dict]) -> None:
    got = Counter((f["path"], f["line"], f["col"], f["rule"], f["level"]) for f in ours(bad))
    want = Counter((file.format(inc), line, col, rule, level) for file, inc, line, col, rule, level in EXPECTED)
    assert got == want


@pytest.mark.parametrize(("file", "incident", "line", "col", "rule", "level"), sorted(set(EXPECTED)))
def test_negative_example(bad: list[dict], file: str, incident: str, line: int, col: int, rule: str,
                          level: str) -> None:
    hits = [f for f in bad if f["path"] == file.format(incident) and f["rule"] == rule]
    assert (line, col) in [(f["line"], f["col"]) for f in hits]
    assert all(f["level"] == level and f["hint"] for f in hits)


def test_schema_requires_contributing_factors_and_action_item_fields(bad: list[dict]) -> None:
    located = {(f["line"], f["rule"]) for f in bad if f["path"] == POSTMORTEM.format("INC_208")}
    assert located == {(12, "schema.minItems"), (14, "schema.required")}


def test_messages(bad: list[dict]) -> None:
    messages = {(f["path"].split("/")[1], f["line"]): f["message"] for f in ours(bad)}
    assert "A1 (open), A2 (in_progress)" in messages[("INC_202", 8)]
    assert "A3" not in messages[("INC_202", 8)]  # deferred with a reason
    assert "3 days after the meeting" in messages[("INC_203", 8)]
    assert "still draft" in messages[("INC_204", 5)]
    assert "INC_205 is SEV-2" in messages[("INC_205", 6)]
    missing = sorted(f["message"] for f in ours(bad) if f["rule"] == "postmortem.missing-section")
    assert missing == ["the full review has no '## What was difficult' section",
                       "the full review has no '## What went well' section"]
    hints = sorted(f["hint"] for f in ours(bad) if f["rule"] == "postmortem.missing-section")
    assert hints[0].startswith("add a `## What went well`")
    assert hints[1].startswith("make it a level-2 heading")


def test_good_examples_pass(tmp_path: Path) -> None:
    findings = check(build(tmp_path / "good", DATA / "good"))
    assert findings == []


def test_example_closed_incident_without_postmortem(example: Path) -> None:
    (example / "incidents/INC_002/postmortem.md").unlink()
    hits = [f for f in check(example, "2026-11-27") if f["rule"].startswith("postmortem.")]
    assert [(f["path"], f["line"], f["col"], f["rule"]) for f in hits] == [
        ("incidents/INC_002/incident.yaml", 6, 9, "postmortem.missing")
    ]


def test_headings_skip_code_and_comments() -> None:
    body = "\n".join([
        "## Summary", "```", "## In code", "```", "<!--", "## In a comment", "-->",
        "### Timeline", "## Action items ##", "  ## Indented",
    ])
    assert headings(body, 10) == [(2, 10, "Summary"), (3, 17, "Timeline"), (2, 18, "Action items"),
                                  (2, 19, "Indented")]


@pytest.mark.parametrize(("attendee", "person"), [
    ("Alice Smith", "Alice"), ("Safety on-call engineer (@jdoe)", "@jdoe"),
    ("Dr. Okafor", "Dr. Okafor"), ("j.doe@acme.com", "j.doe@acme.com"),
    ("Incident commander", None), ("Trust & Safety lead", None), ("Legal counsel", None),
    ("Safety council chair", None), ("Product team", None),
])
def test_person_in_attendee(attendee: str, person: str | None) -> None:
    assert person_in(attendee) == person


@pytest.mark.parametrize("field", ["owner", "due", "status"])
def test_schema_requires_each_action_item_field(tmp_path: Path, field: str) -> None:
    from incidentops.records.registry import Registry

    source = (DATA / "good/incidents/INC_002/postmortem.md").read_text()
    lines = source.splitlines()
    item = lines.index("  - id: A1")
    doomed = next(i for i in range(item, len(lines)) if lines[i].startswith(f"    {field}:"))
    del lines[doomed]
    path = tmp_path / "incidents/INC_002/postmortem.md"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    doc = Registry(tmp_path).doc("incidents/INC_002/postmortem.md")
    assert doc is not None
    assert [(f.line, f.rule) for f in doc.findings] == [(item + 1, "schema.required")]
    assert f"missing required field '{field}'" in doc.findings[0].message
