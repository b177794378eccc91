"""The quarterly review: list the tests over a year in the suite, record decisions, summarise them.

``reviews/<YYYY>-Q<N>.yaml`` holds every test that had been in the suite for
at least ``decay.keep_if_younger_than_days`` (one year) on the quarter's first
day, according to git, with its decay factors on that day and an open
decision. People fill in the decisions (KEEP with a justification, DEPRECATE
or RETIRE with a reason), apply them with ``incidentops lifecycle`` and mark
the review complete; ``incidentops check`` then verifies that the tests' files
agree. The record is the summary for the safety council.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incidentops.lifecycle.ceremony import reason_codes
from incidentops.lifecycle.decay import (
    Assessment,
    IncidentTable,
    Thresholds,
    assess_test,
    entered_suite,
    model_versions,
    stamp,
)
from incidentops.lifecycle.history import RegistryHistory
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Review, State
from incidentops.records.registry import Registry
from incidentops.records.yamlscalar import quoted, scalar

QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
#: quarters before this year are refused outright (git, and this tool, did not exist)
FIRST_YEAR = 1970
DECISIONS = ("KEEP", "DEPRECATE", "RETIRE")
OPEN = "OPEN"
#: the states a test must be in once the review's decision is applied
APPLIED_STATES = {"KEEP": ("ACTIVE", "MONITORING"), "DEPRECATE": ("DEPRECATED",), "RETIRE": ("RETIRED",)}


def parse_quarter(quarter: str) -> tuple[datetime, datetime]:
    """``2026-Q4`` -> (2026-10-01T00:00Z, 2027-01-01T00:00Z)."""
    match = QUARTER.fullmatch(quarter.strip())
    if match is None:
        raise IncidentOpsError(f"'{quarter}' is not a quarter", "write it as YYYY-QN, such as 2026-Q4")
    year, number = int(match.group(1)), int(match.group(2))
    if year < FIRST_YEAR:
        raise IncidentOpsError(f"'{quarter}' is before {FIRST_YEAR}: not a quarter a registry can review",
                               "write the quarter being reviewed, such as 2026-Q4")
    start = datetime(year, 3 * number - 2, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 4 else datetime(year, 3 * number + 1, 1, tzinfo=UTC)
    return start, end


def review_path(quarter: str) -> str:
    return f"reviews/{quarter}.yaml"


def candidates(
    registry: Registry, history: RegistryHistory, quarter: str
) -> tuple[int, list[Assessment]]:
    """(threshold in days, the non-retired tests at least that long in the suite at the quarter's start).

    The decay factors are those of the quarter's first day.
    """
    start, _ = parse_quarter(quarter)
    thresholds = Thresholds.from_policy(registry.policy_record)
    minimum = thresholds.keep_if_younger_than_days
    incidents = IncidentTable.of(registry.incident_records())
    lineage = registry.lineage
    models = model_versions(lineage)
    out = []
    for test in registry.test_records():
        if test.state is State.RETIRED:
            continue
        known = history.get(test.path)
        if known is None or entered_suite(test, known) > start:
            continue  # not in the suite yet on the quarter's first day
        item = assess_test(
            test.test_id, test.path, test, history, start, thresholds, incidents,
            models, lineage.current if lineage is not None else None,
        )  # fmt: skip
        if item.age_days >= minimum:
            out.append(item)
    return minimum, out


def render_record(
    quarter: str, minimum: int, items: Sequence[Assessment], as_of: datetime, codes: Sequence[str]
) -> str:
    """The text of a new review record (comments explain how to fill it in)."""
    start, _ = parse_quarter(quarter)
    lines = [
        "# yaml-language-server: $schema=../schemas/review.schema.json",
        "#",
        f"# Quarterly review {quarter}: the regression tests at least {minimum} days in the suite",
        f"# on {start:%Y-%m-%d} (from git history), with their decay factors on that day.",
        "#",
        "# For each test, set `decision`:",
        "#   KEEP       and write the `justification`",
        "#   DEPRECATE  and write the `reason`, then run `incidentops lifecycle deprecate TEST_ID --reason ...`",
        "#   RETIRE     and write the `reason` and `reason_code`, then run `incidentops lifecycle retire ...`",
        "# Once every decision is applied, set `status: complete` and `completed_at`:",
        "# `incidentops check` verifies that the tests' files agree with the decisions.",
        f"quarter: {quarter}",
        f"quarter_start: {quoted(f'{start:%Y-%m-%d}')}",
        f"generated_at: {quoted(stamp(as_of) or '')}",
        f"minimum_age_days: {minimum}",
        "status: open                  # open | complete",
        "completed_at: null",
        "notes: null                   # summary for the safety council",
    ]
    if not items:
        lines.append("tests: []")
        return "\n".join(lines) + "\n"
    lines.append("tests:")
    code_list = ", ".join(codes) if codes else "see the policy"
    for a in items:
        lines += [
            f"  - test_id: {a.test_id}",
            f"    incident_id: {scalar(a.incident_id)}",
            f"    incident_severity: {scalar(a.incident_severity)}",
            f"    state: {a.state}",
            f"    added_at: {quoted(stamp(a.added_at) or '')}",
            f"    age_days: {a.age_days}",
            f"    days_since_incident: {scalar(a.days_since_incident)}",
            f"    model_version: {scalar(a.model_version)}",
            f"    model_change: {a.model_change}",
            f"    model_relevance: {scalar(a.model_relevance)}",
            f"    attack_vector_status: {scalar(a.attack_vector_status)}",
            f"    scenario_still_relevant: {scalar(a.scenario_still_relevant)}",
            f"    similar_incidents_12m: {a.similar_incidents_12m}",
            f"    last_review_at: {quoted(stamp(a.last_review_at) or '') if a.last_review_at else 'null'}",
            f"    reverified_at: {quoted(stamp(a.reverified_at) or '') if a.reverified_at else 'null'}",
            f"    recommendation: {a.recommendation}",
            "    reasons:",
            *(f"      - {quoted(reason)}" for reason in a.reasons),
            "    decision: null            # KEEP | DEPRECATE | RETIRE",
            "    justification: null       # KEEP: why the test stays",
            "    reason: null              # DEPRECATE or RETIRE: why",
            f"    reason_code: null         # RETIRE: one of {code_list}",
            "    approver: null",
        ]
    return "\n".join(lines) + "\n"


def registry_began(history: RegistryHistory) -> datetime | None:
    """When the registry's first record was committed (None without history)."""
    dates = [known.added_at for known in history.files.values() if not known.uncommitted]
    return min(dates) if dates else None


def start(
    registry: Registry, history: RegistryHistory, quarter: str, as_of: datetime
) -> tuple[str, str, list[Assessment]]:
    """(path, text, tests) of the review record to create for ``quarter``; nothing is written."""
    quarter = quarter.strip()
    path = review_path(quarter)
    begin, end = parse_quarter(quarter)
    if begin > as_of:
        raise IncidentOpsError(
            f"{quarter} has not begun on {as_of:%Y-%m-%d}: a review looks at the tests a quarter starts with",
            f"start the review of the current quarter, or pass --as-of a date from {begin:%Y-%m-%d}",
        )
    began = registry_began(history)
    if began is not None and end <= began:
        raise IncidentOpsError(
            f"{quarter} ended before the registry began ({began:%Y-%m-%d}, its first commit): there is nothing"
            " to review",
            f"start a quarter from {began.year}-Q{(began.month - 1) // 3 + 1}",
        )
    if (registry.root / path).exists():
        raise IncidentOpsError(
            f"{path} already exists", "a review is started once; edit the existing record"
        )
    minimum, items = candidates(registry, history, quarter)
    text = render_record(quarter, minimum, items, as_of, reason_codes(registry.policy_record))
    return path, text, items


# --- the summary for the safety council ------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewItem:
    test_id: str
    incident_id: str | None
    incident_severity: str | None
    recommendation: str | None
    decision: str | None
    text: str | None
    reason_code: str | None
    approver: str | None


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """Counts per decision and every decision with its justification or reason."""

    quarter: str
    status: str
    quarter_start: str | None
    completed_at: str | None
    minimum_age_days: int | None
    notes: str | None
    items: tuple[ReviewItem, ...]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys((*DECISIONS, OPEN), 0)
        for item in self.items:
            out[item.decision if item.decision in DECISIONS else OPEN] += 1
        return out

    def recommendation_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            key = item.recommendation or "NONE"
            out[key] = out.get(key, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "status": self.status,
            "quarter_start": self.quarter_start,
            "completed_at": self.completed_at,
            "minimum_age_days": self.minimum_age_days,
            "tests": len(self.items),
            "counts": self.counts(),
            "recommendations": self.recommendation_counts(),
            "notes": self.notes,
            "decisions": [
                {
                    "test_id": i.test_id,
                    "incident_id": i.incident_id,
                    "incident_severity": i.incident_severity,
                    "recommendation": i.recommendation,
                    "decision": i.decision,
                    "justification" if i.decision == "KEEP" else "reason": i.text,
                    "reason_code": i.reason_code,
                    "approver": i.approver,
                }
                for i in self.items
            ],
        }


def summarize(review: Review) -> ReviewSummary:
    """The summary of a review record."""
    items = []
    for row in review.tests:
        decision = row.decision if row.decision in DECISIONS else None
        text = row.justification if decision == "KEEP" else row.reason
        items.append(ReviewItem(
            test_id=row.test_id,
            incident_id=_text(row.incident_id),
            incident_severity=_text(row.incident_severity),
            recommendation=_text(row.recommendation),
            decision=decision,
            text=_text(text),
            reason_code=_text(row.reason_code),
            approver=_text(row.approver),
        ))  # fmt: skip
    return ReviewSummary(
        quarter=review.quarter,
        status=review.status or "open",
        quarter_start=review.source.text("quarter_start") if review.quarter_start is not None else None,
        completed_at=review.source.text("completed_at") if review.completed_at is not None else None,
        minimum_age_days=review.minimum_age_days,
        notes=_text(review.notes),
        items=tuple(items),
    )


def _cell(text: str | None) -> str:
    if not text:
        return "—"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: ReviewSummary) -> str:
    """The council's summary as Markdown: counts per decision, then every decision and its reasons."""
    counts = summary.counts()
    if summary.status == "complete":
        status = "complete" + (f" ({summary.completed_at[:10]})" if summary.completed_at else "")
    else:
        status = f"open: {counts[OPEN]} decision(s) still to take"
    scope = f"{len(summary.items)} regression test(s)"
    if summary.minimum_age_days is not None and summary.quarter_start:
        scope += f" at least {summary.minimum_age_days} days in the suite on {summary.quarter_start}"
    lines = [
        f"# Quarterly review {summary.quarter}",
        "",
        f"**Status:** {status}. {scope}.",
        "",
        "| Decision | Tests |",
        "|---|---:|",
        f"| KEEP | {counts['KEEP']} |",
        f"| DEPRECATE | {counts['DEPRECATE']} |",
        f"| RETIRE | {counts['RETIRE']} |",
        f"| Open | {counts[OPEN]} |",
    ]
    if summary.items:
        lines += [
            "",
            "## Decisions",
            "",
            "| Test | Incident | Severity | Recommendation | Decision | Justification or reason | Approver |",
            "|---|---|---|---|---|---|---|",
        ]
        for i in summary.items:
            text = i.text
            if i.decision == "RETIRE" and i.reason_code:
                text = f"{i.reason_code}: {text or ''}".rstrip(": ")
            lines.append(
                f"| `{_cell(i.test_id)}` | {_cell(i.incident_id)} | {_cell(i.incident_severity)}"
                f" | {_cell(i.recommendation)} | **{i.decision or 'OPEN'}** | {_cell(text)}"
                f" | {_cell(i.approver)} |"
            )
    if summary.notes:
        lines += ["", "## Notes for the safety council", "", _cell(summary.notes)]
    return "\n".join(lines)


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None
