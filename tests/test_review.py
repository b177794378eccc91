"""Quarterly review: `review start` from git history, the `review.*` rules, and the council's summary."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import scripted_registry
from conftest import run_cli
from gitrepo import GitRepo
from incidentops.lifecycle.review import parse_quarter, render_markdown, summarize
from incidentops.records.model import Review, from_data

GIT_ENV = scripted_registry.ISOLATED_GIT
CODES = "ATTACK_PATCHED, ATTACK_OBSOLETE, PRODUCT_CHANGED, ARCHITECTURE_CHANGED, DUPLICATE, SUPERSEDED"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("review") / "registry")


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return scripted_registry.copy(template, tmp_path / "registry")


cli = scripted_registry.run


def findings(repo: GitRepo, path: str) -> list[tuple[int, str, str]]:
    result = run_cli("check", str(repo.path / path), "--format", "json", env=GIT_ENV)
    return [(f["line"], f["rule"], f["message"]) for f in result.json()]


def test_quarters() -> None:
    assert [d.isoformat() for d in parse_quarter("2026-Q4")] == ["2026-10-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]
    assert [d.isoformat() for d in parse_quarter("2027-Q1")] == ["2027-01-01T00:00:00+00:00", "2027-04-01T00:00:00+00:00"]


def test_review_start_lists_the_tests_over_a_year_in_the_suite(repo: GitRepo) -> None:
    result = cli(repo, "review", "start", "2026-Q4", "--as-of", "2026-10-02T09:00:00Z")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "created reviews/2026-Q4.yaml: 3 test(s) to review",
        "  regression_INC_001  934 days in the suite  recommendation KEEP",  # re-verified by its 2026-04-15 KEEP
        "  regression_INC_002  832 days in the suite  recommendation REVIEW",
        "  regression_INC_003  984 days in the suite  recommendation CONSIDER_RETIREMENT",
        "Next: fill in each decision, apply it with `incidentops lifecycle`, then set `status: complete`.",
    ]
    text = repo.read("reviews/2026-Q4.yaml")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/review.schema.json"
    record = yaml.safe_load(text)
    assert {k: v for k, v in record.items() if k != "tests"} == {
        "quarter": "2026-Q4", "quarter_start": "2026-10-01", "generated_at": "2026-10-02T09:00:00Z",
        "minimum_age_days": 365, "status": "open", "completed_at": None, "notes": None,
    }
    # regression_INC_004 (303 days) and _005 (143 days) are too young; _007 is RETIRED
    assert record["tests"][0] == {
        "test_id": "regression_INC_001", "incident_id": "INC_001", "incident_severity": "SEV-2",
        "state": "ACTIVE", "added_at": "2024-03-10T09:00:00Z", "age_days": 934, "days_since_incident": 943,
        "model_version": "aurora-1.1", "model_change": "major_update",
        "model_relevance": "Re-verify, may need adjustment", "attack_vector_status": "viable",
        "scenario_still_relevant": True, "similar_incidents_12m": 1, "last_review_at": "2026-04-15T10:00:00Z",
        # its KEEP of 2026-04-15 came after aurora-2.0's release: the re-verification the major update asks for
        "reverified_at": "2026-04-15T10:00:00Z", "recommendation": "KEEP",
        "reasons": ["attack still viable", "1 similar incident(s) in the last 365 days",
                    "re-verified after the major model update (aurora-2.0 -> aurora-2.1): KEEP decision of 2026-04-15"],
        "decision": None, "justification": None, "reason": None, "reason_code": None, "approver": None,
    }
    assert [(t["test_id"], t["added_at"], t["age_days"], t["recommendation"]) for t in record["tests"][1:]] == [
        ("regression_INC_002", "2024-06-20T09:00:00Z", 832, "REVIEW"),  # landed with the merge
        ("regression_INC_003", "2024-01-20T09:00:00Z", 984, "CONSIDER_RETIREMENT"),
    ]
    assert f"    reason_code: null         # RETIRE: one of {CODES}" in text.splitlines()
    assert cli(repo, "check", str(repo.path / "reviews")).code == 0  # open decisions are fine while the review is open

    again = cli(repo, "review", "start", "2026-Q4")
    assert (again.code, again.err.splitlines()[0]) == (2, "incidentops: error: reviews/2026-Q4.yaml already exists")


def test_an_early_quarter_has_nothing_to_review(repo: GitRepo) -> None:
    result = cli(repo, "review", "start", "2024-Q2", "--as-of", "2024-04-01")
    assert result.out.splitlines()[0] == "created reviews/2024-Q2.yaml: 0 test(s) to review"
    assert yaml.safe_load(repo.read("reviews/2024-Q2.yaml"))["tests"] == []
    assert cli(repo, "check", str(repo.path / "reviews")).code == 0


def test_a_bad_quarter_is_a_usage_error(repo: GitRepo) -> None:
    result = cli(repo, "review", "start", "2026-Q5")
    assert result.code == 2
    assert result.err.splitlines() == ["incidentops: error: '2026-Q5' is not a quarter",
                                       "  hint: write it as YYYY-QN, such as 2026-Q4"]


def fill(text: str, test_id: str, **fields: str) -> str:
    """Set fields of one test's entry in a generated review record."""
    head, _, rest = text.partition(f"  - test_id: {test_id}\n")
    entry, sep, tail = rest.partition("\n  - test_id:")
    for key, value in fields.items():
        lines = entry.splitlines()
        index = next(i for i, ln in enumerate(lines) if ln.startswith(f"    {key}: "))
        lines[index] = f"    {key}: {value}"
        entry = "\n".join(lines) + ("\n" if entry.endswith("\n") else "")
    return f"{head}  - test_id: {test_id}\n{entry}{sep}{tail}"


def test_the_quarterly_flow_decide_apply_complete(repo: GitRepo) -> None:
    assert cli(repo, "review", "start", "2026-Q4", "--as-of", "2026-10-02T09:00:00Z").code == 0
    path = "reviews/2026-Q4.yaml"
    text = repo.read(path)
    text = fill(text, "regression_INC_001", decision="KEEP",
                justification="Similar attack seen again in INC_005", approver="Safety council chair")
    text = fill(text, "regression_INC_002", decision="KEEP")
    text = fill(text, "regression_INC_003", decision="RETIRE", reason="Cipher attacks are obsolete",
                reason_code="ATTACK_OBSOLETE")
    repo.write(path, text)
    lines = text.splitlines()
    keep_002 = lines.index("    decision: KEEP", lines.index("  - test_id: regression_INC_002")) + 1
    justification_002 = keep_002 + 1
    assert findings(repo, path) == [(justification_002, "review.justification",
                                     "regression_INC_002: KEEP needs a justification")]

    text = fill(text, "regression_INC_002", justification="SEV-1 tests stay")
    text = text.replace("status: open                  # open | complete", "status: complete")
    repo.write(path, text)
    status_line = text.splitlines().index("status: complete") + 1
    retire_line = text.splitlines().index("    decision: RETIRE") + 1
    assert findings(repo, path) == [
        (status_line, "review.completed-at", "a complete review needs `completed_at`"),
        (retire_line, "review.applied",
         "regression_INC_003: the review decided RETIRE but regressions/regression_INC_003.yaml is DEPRECATED"),
    ]
    text = text.replace("completed_at: null", 'completed_at: "2026-10-21T10:00:00Z"')
    repo.write(path, text)
    retired = cli(repo, "lifecycle", "retire", "regression_INC_003", "--reason", "Cipher attacks are obsolete",
                  "--reason-code", "ATTACK_OBSOLETE", "--approver", "Safety council chair",
                  "--as-of", "2026-10-20T14:00:00Z")
    assert retired.code == 0, retired.err
    assert cli(repo, "check").code == 0

    summary = cli(repo, "review", "summary", "2026-Q4")
    assert summary.code == 0
    assert summary.out == """\
# Quarterly review 2026-Q4

**Status:** complete (2026-10-21). 3 regression test(s) at least 365 days in the suite on 2026-10-01.

| Decision | Tests |
|---|---:|
| KEEP | 2 |
| DEPRECATE | 0 |
| RETIRE | 1 |
| Open | 0 |

## Decisions

| Test | Incident | Severity | Recommendation | Decision | Justification or reason | Approver |
|---|---|---|---|---|---|---|
| `regression_INC_001` | INC_001 | SEV-2 | KEEP | **KEEP** | Similar attack seen again in INC_005 | Safety council chair |
| `regression_INC_002` | INC_002 | SEV-1 | REVIEW | **KEEP** | SEV-1 tests stay | — |
| `regression_INC_003` | INC_003 | SEV-3 | CONSIDER_RETIREMENT | **RETIRE** | ATTACK_OBSOLETE: Cipher attacks are obsolete | — |
"""
    data = cli(repo, "review", "summary", "2026-Q4", "--format", "json").json()
    assert data["counts"] == {"KEEP": 2, "DEPRECATE": 0, "RETIRE": 1, "OPEN": 0}
    assert data["recommendations"] == {"KEEP": 1, "REVIEW": 1, "CONSIDER_RETIREMENT": 1}
    assert data["decisions"][2] == {
        "test_id": "regression_INC_003", "incident_id": "INC_003", "incident_severity": "SEV-3",
        "recommendation": "CONSIDER_RETIREMENT", "decision": "RETIRE", "reason": "Cipher attacks are obsolete",
        "reason_code": "ATTACK_OBSOLETE", "approver": None,
    }
    assert (data["status"], data["completed_at"], data["tests"]) == ("complete", "2026-10-21T10:00:00Z", 3)


RECORD = """\
# yaml-language-server: $schema=../schemas/review.schema.json
quarter: 2026-Q4
quarter_start: "2026-10-01"
status: complete
completed_at: "2026-10-30T10:00:00Z"
tests:
  - test_id: regression_INC_001
    decision: KEEP
    justification: Still seen
  - test_id: regression_INC_002
    decision: DEPRECATE
    reason: Patched
  - test_id: regression_INC_003
    decision: null
  - test_id: regression_INC_001
    decision: RETIRE
    reason: "  "
    reason_code: BORED
  - test_id: regression_INC_404
    decision: KEEP
    justification: Typo in the id
"""


def test_review_rules_locate_every_problem(repo: GitRepo) -> None:
    repo.write("reviews/2026-Q3.yaml", RECORD)
    assert findings(repo, "reviews/2026-Q3.yaml") == [
        (2, "review.quarter", "quarter '2026-Q4' does not match the file name '2026-Q3.yaml'"),
        (11, "review.applied", "regression_INC_002: the review decided DEPRECATE but regressions/regression_INC_002.yaml is ACTIVE"),
        (14, "review.decision-open", "regression_INC_003: no decision, but the review is complete"),
        (15, "review.duplicate", "regression_INC_001 is listed twice (also as test 1)"),
        (16, "review.applied", "regression_INC_001: the review decided RETIRE but regressions/regression_INC_001.yaml is ACTIVE"),
        (17, "review.reason", "regression_INC_001: RETIRE needs a reason"),
        (18, "review.reason-code", "regression_INC_001: reason_code 'BORED' is not one of " + CODES),
        (19, "review.unknown-test", "test 'regression_INC_404' does not exist in regressions/ or regressions/archive/"),
    ]


def test_a_wrong_quarter_start_is_located(repo: GitRepo) -> None:
    repo.write("reviews/2026-Q4.yaml", RECORD.replace('"2026-10-01"', '"2026-09-01"').replace(
        "status: complete", "status: open"))
    assert findings(repo, "reviews/2026-Q4.yaml")[:2] == [
        (3, "review.quarter-start", "quarter_start 2026-09-01 is not the first day of 2026-Q4"),
        (15, "review.duplicate", "regression_INC_001 is listed twice (also as test 1)"),
    ]


def test_later_decisions_supersede_a_completed_review(repo: GitRepo) -> None:
    """A test deprecated at the review and reprieved later, or changed after the review closed, keeps the review valid."""
    path = "regressions/regression_INC_003.yaml"
    text = repo.read(path)
    assert cli(repo, "lifecycle", "activate", "regression_INC_003", "--reason", "Cipher attacks are back",
               "--as-of", "2026-11-02T10:00:00Z").code == 0
    review = """\
# yaml-language-server: $schema=../schemas/review.schema.json
quarter: 2026-Q4
status: complete
completed_at: "2026-11-01T10:00:00Z"
tests:
  - test_id: regression_INC_003
    decision: DEPRECATE
    reason: Obsolete
"""
    repo.write("reviews/2026-Q4.yaml", review)
    assert findings(repo, "reviews/2026-Q4.yaml") == []  # the ACTIVATE came after completion
    repo.write("reviews/2026-Q4.yaml", review.replace("2026-11-01T10:00:00Z", "2026-11-05T10:00:00Z"))
    assert findings(repo, "reviews/2026-Q4.yaml") == [
        (7, "review.applied", "regression_INC_003: the review decided DEPRECATE but regressions/regression_INC_003.yaml is ACTIVE"),
    ]
    # deprecated during the quarter, then reprieved: the history shows the decision was applied
    repo.write(path, text.replace("2025-01-10T10:00:00Z", "2026-10-10T10:00:00Z"))
    assert cli(repo, "lifecycle", "activate", "regression_INC_003", "--reason", "Cipher attacks are back",
               "--as-of", "2026-11-02T10:00:00Z").code == 0
    assert findings(repo, "reviews/2026-Q4.yaml") == []


def test_summary_of_an_open_review_and_missing_reviews(repo: GitRepo) -> None:
    summary = summarize(from_data(Review, {"quarter": "2027-Q1", "status": "open", "tests": [
        {"test_id": "regression_A", "recommendation": "KEEP", "decision": None},
        {"test_id": "regression_B", "recommendation": "REVIEW", "decision": "DEPRECATE", "reason": "a | b <c>"},
    ]}))
    assert summary.counts() == {"KEEP": 0, "DEPRECATE": 1, "RETIRE": 0, "OPEN": 1}
    markdown = render_markdown(summary)
    assert "**Status:** open: 1 decision(s) still to take. 2 regression test(s)." in markdown
    assert "| `regression_B` | — | — | REVIEW | **DEPRECATE** | a \\| b &lt;c&gt; | — |" in markdown
    repo.write("reviews/2027-Q1.yaml", "quarter: 2027-Q1\nstatus: open\ntests:\n  - test_id: regression_A\n"
                                       "    decision: MAYBE\n")
    broken = cli(repo, "review", "summary", "2027-Q1")  # a decision the schema does not know: no summary
    assert (broken.code, broken.out, broken.err.splitlines()) == (2, "", [
        "incidentops: error: reviews/2027-Q1.yaml: the review record has errors, so it has no summary",
        "  hint: run `incidentops check reviews/2027-Q1.yaml` and fix it first",
    ])
    missing = cli(repo, "review", "summary", "2031-Q1")
    assert (missing.code, missing.err.splitlines()) == (2, [
        "incidentops: error: reviews/2031-Q1.yaml: no such review",
        "  hint: start it with `incidentops review start 2031-Q1`",
    ])


def test_review_applied_names_a_command_that_works(repo: GitRepo) -> None:
    """A KEEP on a DEPRECATED test is applied by reprieving it (`lifecycle keep` refuses a DEPRECATED test)."""
    repo.write("reviews/2026-Q4.yaml", """\
# yaml-language-server: $schema=../schemas/review.schema.json
quarter: 2026-Q4
status: complete
completed_at: "2026-10-30T10:00:00Z"
tests:
  - test_id: regression_INC_003
    decision: KEEP
    justification: Cipher attacks are back
""")
    result = run_cli("check", str(repo.path / "reviews/2026-Q4.yaml"), "--format", "json", env=GIT_ENV).json()
    applied = [f for f in result if f["rule"] == "review.applied"]
    assert [(f["line"], f["level"]) for f in applied] == [(7, "error")]
    assert "incidentops lifecycle activate regression_INC_003" in applied[0]["hint"]
    assert "lifecycle keep" not in applied[0]["hint"]
    # the command the hint names is accepted
    done = cli(repo, "lifecycle", "activate", "regression_INC_003", "--reason", "Cipher attacks are back",
               "--as-of", "2026-10-29T10:00:00Z")
    assert done.code == 0, done.err
    assert findings(repo, "reviews/2026-Q4.yaml") == []


@pytest.mark.parametrize(("quarter", "as_of", "message"), [
    ("2031-Q1", "2026-11-01T00:00:00Z", "2031-Q1 has not begun on 2026-11-01"),
    ("1999-Q4", "2026-11-01T00:00:00Z", "1999-Q4 ended before the registry began"),
    ("0000-Q1", "2026-11-01T00:00:00Z", "'0000-Q1' is before 1970"),
])
def test_review_start_refuses_quarters_out_of_bounds(repo: GitRepo, quarter: str, as_of: str, message: str) -> None:
    result = cli(repo, "review", "start", quarter, "--as-of", as_of)
    assert result.code == 2, result.out + result.err
    assert message in result.err and "internal error" not in result.err
    assert not (repo.path / f"reviews/{quarter}.yaml").exists()


def test_a_review_record_of_year_zero_is_a_finding(repo: GitRepo) -> None:
    repo.write("reviews/0000-Q1.yaml", "# yaml-language-server: $schema=../schemas/review.schema.json\n"
               "quarter: 0000-Q1\nstatus: open\ntests: []\n")
    result = run_cli("check", str(repo.path / "reviews/0000-Q1.yaml"), "--format", "json", env=GIT_ENV)
    assert result.code == 1, result.err
    assert [(f["line"], f["rule"]) for f in result.json() if f["rule"] == "review.quarter"] == [(2, "review.quarter")]
