"""Blameless language and PII in `incidentops check`: where findings point, and how
visibility makes PII an error (public) or a warning (internal).

tests/data/rules/text/bad holds the violations (each file's header comment says which);
tests/data/rules/text/good quotes in backticks and documented exceptions that must pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import build_registry as build
from conftest import check_findings as check
from incidentops.checks.text_rules import scalar_source
from incidentops.records.yamlio import load_bytes

DATA = Path(__file__).parent / "data" / "rules" / "text"
FAMILIES = ("blameless", "pii")


def ours(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule"].split(".")[0] in FAMILIES]


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return check(build(tmp_path_factory.mktemp("text") / "bad", DATA / "bad"))


INC_301 = "incidents/INC_301/incident.yaml"
EXPECTED = [
    # blameless lint of an incident: title continued on a second line, block scalar summary,
    # a plain and a quoted timeline event
    (INC_301, 6, 3, "blameless.named-individual", "error"),
    (INC_301, 28, 32, "blameless.named-individual", "error"),
    (INC_301, 31, 16, "blameless.root-cause", "warning"),
    (INC_301, 31, 31, "blameless.human-error", "error"),
    (INC_301, 33, 13, "blameless.counterfactual", "warning"),
    # blameless lint of a postmortem body
    ("incidents/INC_302/postmortem.md", 42, 3, "blameless.named-individual", "error"),
    # PII: public incident INC_302 and its postmortem and test; internal INC_303 and its
    # postmortem, test and audit entry
    ("incidents/INC_302/incident.yaml", 25, 35, "pii.email", "error"),
    ("incidents/INC_302/postmortem.md", 24, 39, "pii.phone", "error"),
    ("regressions/regression_INC_302.yaml", 7, 56, "pii.email", "error"),
    ("incidents/INC_303/incident.yaml", 25, 35, "pii.email", "warning"),
    ("incidents/INC_303/postmortem.md", 24, 21, "pii.email", "warning"),
    ("regressions/regression_INC_303.yaml", 7, 56, "pii.email", "warning"),
    ("audit/20260401T100000Z_RETIRE_REGRESSION_regression_INC_303.yaml", 7, 52, "pii.email", "warning"),
]


def test_bad_examples_give_exactly_the_expected_findings(bad: list[dict]) -> None:
    got = Counter((f["path"], f["line"], f["col"], f["rule"], f["level"]) for f in ours(bad))
    assert got == Counter(EXPECTED)
    assert not [f for f in bad if f["rule"].startswith(("schema.", "yaml."))]


@pytest.mark.parametrize(("path", "line", "col", "rule", "level"), EXPECTED)
def test_negative_example(bad: list[dict], path: str, line: int, col: int, rule: str, level: str) -> None:
    hits = [f for f in bad if (f["path"], f["line"], f["col"], f["rule"]) == (path, line, col, rule)]
    assert [f["level"] for f in hits] == [level]


def test_good_examples_pass(tmp_path: Path) -> None:
    findings = check(build(tmp_path / "good", DATA / "good"))
    assert ours(findings) == []
    assert not [f for f in findings if f["level"] == "error"]


def test_internal_example_incident_makes_pii_a_warning(example: Path) -> None:
    # INC_002 of the example registry is internal; INC_001 is public
    for inc in ("INC_001", "INC_002"):
        path = example / f"incidents/{inc}/postmortem.md"
        path.write_text(path.read_text() + "\nContact: pat.doe@mailbox.org\n")
    hits = [f for f in check(example) if f["rule"] == "pii.email"]
    levels = {f["path"]: f["level"] for f in hits}
    assert levels == {"incidents/INC_001/postmortem.md": "error", "incidents/INC_002/postmortem.md": "warning"}


def test_pii_in_a_test_that_fails_its_schema_counts_as_public(example: Path) -> None:
    # regression_INC_003 belongs to the internal INC_003: PII in it is a warning while the record is valid;
    # once it fails its schema nothing places it, and PII there is an error
    path = example / "regressions/regression_INC_003.yaml"
    valid = path.read_text().replace("owner: Security", "owner: Security (pat.doe@mailbox.org)", 1)
    path.write_text(valid)
    assert {f["level"] for f in check(example) if f["rule"] == "pii.email"} == {"warning"}
    path.write_text(valid.replace("owner: Security", "reviewed_by: Security\nowner: Security", 1))
    findings = check(example)
    assert any(f["path"] == "regressions/regression_INC_003.yaml" and f["rule"].startswith("schema.") for f in findings)
    assert {f["level"] for f in findings if f["rule"] == "pii.email"} == {"error"}


def source(yaml_text: str, path: tuple) -> tuple[int, str] | None:
    doc = load_bytes(yaml_text.encode(), "incidents/INC_001/incident.yaml")
    assert not doc.findings
    return scalar_source(doc, path)


@pytest.mark.parametrize(("yaml_text", "path", "expected"), [
    ("a: 1\ntitle: Bob broke it  # note\n", ("title",), (2, "       Bob broke it")),
    ("title: 'it''s Bob'\nb: 2\n", ("title",), (1, "       'it''s Bob'")),
    ('title: "say \\"hi\\" Bob"\n', ("title",), (1, '       "say \\"hi\\" Bob"')),
    ("summary: |\n  one\n\n  two\nnext: x\n", ("summary",), (2, "  one\n\n  two")),
    ("summary: >-\n  one\n  two\n\n", ("summary",), (2, "  one\n  two")),
    ("title: first\n  second\nnext: x\n", ("title",), (1, "       first\n  second")),
    ("t:\n  - event: one\n    at: x\n", ("t", 0, "event"), (2, "           one")),
    ("t:\n  - at: x\n    event: |\n      one\n  - at: z\n", ("t", 0, "event"), (4, "      one")),
    ("f:\n  - one\n  - two\n", ("f", 1), (3, "    two")),
    ("f: [one, two]\n", ("f", 1), (1, "         two")),
    ("a: 1\n", ("missing",), None),
    ("a: 1\n", ("a",), None),
])
def test_scalar_source_keeps_file_lines_and_columns(yaml_text: str, path: tuple, expected) -> None:
    assert source(yaml_text, path) == expected
