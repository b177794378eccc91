"""Severity checklist: every answer combination, escalation, advisories, policy-driven rules."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

import typed_records
from incidentops.policy.severity import Assessment, assess, compare, severity_rank
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Assessment as IncidentAssessment

# The DATA-MODEL.md policy values that severity assessment reads.
POLICY_DATA: dict[str, Any] = {
    "version": 1,
    "severity_levels": [
        {"id": "SEV-0", "name": "Critical", "response_sla_minutes": 15, "clock": "wall",
         "escalation_adds": ["All hands"]},
        {"id": "SEV-1", "name": "High", "response_sla_minutes": 60, "clock": "wall",
         "escalation_adds": ["On-call"]},
        {"id": "SEV-2", "name": "Medium", "response_sla_minutes": 240, "clock": "business",
         "escalation_adds": []},
        {"id": "SEV-3", "name": "Low", "response_sla_minutes": 1440, "clock": "wall",
         "escalation_adds": []},
    ],
    "incident_types": [
        {"id": "mass_harmful_output", "typical_severity": ["SEV-0"],
         "escalation_path": ["Executive", "Legal", "PR"]},
        {"id": "pii_exposure", "typical_severity": ["SEV-0", "SEV-1"],
         "escalation_path": ["Security", "Legal"]},
        {"id": "policy_violation_isolated", "typical_severity": ["SEV-2"],
         "escalation_path": ["Safety team"]},
        {"id": "policy_erosion", "typical_severity": ["SEV-2", "SEV-3"],
         "escalation_path": ["Safety team"]},
        {"id": "false_positive_spike", "typical_severity": ["SEV-3"],
         "escalation_path": ["Product team"]},
    ],
    "checklist": {
        "harm": {"occurred": "SEV-1", "imminent": "SEV-2", "potential": "SEV-3"},
        "scope": {"many_users": 1, "single_user": 0, "internal_only": -1},
        "exploitable_at_scale": 1,
        "regulatory": {"minimum": "SEV-1", "escalate_to": ["Legal"]},
        "reputational_risk_high": {"advisory": "High reputational risk: consider SEV-0"},
    },
}
POLICY = typed_records.policy(POLICY_DATA)


def answers(harm: str = "occurred", scope: str = "single_user", exploitable: bool = False,
            regulatory: bool = False, reputational: str = "normal") -> IncidentAssessment:
    return IncidentAssessment(harm=harm, scope=scope, exploitable_at_scale=exploitable,
                              regulatory=regulatory, reputational_risk=reputational)


# Worked out by hand from the seed checklist, not from the code:
# harm, scope, exploitable_at_scale, regulatory -> expected severity
TABLE = [
    ("occurred", "many_users", False, False, "SEV-0"),
    ("occurred", "many_users", False, True, "SEV-0"),
    ("occurred", "many_users", True, False, "SEV-0"),
    ("occurred", "many_users", True, True, "SEV-0"),
    ("occurred", "single_user", False, False, "SEV-1"),
    ("occurred", "single_user", False, True, "SEV-1"),
    ("occurred", "single_user", True, False, "SEV-0"),
    ("occurred", "single_user", True, True, "SEV-0"),
    ("occurred", "internal_only", False, False, "SEV-2"),
    ("occurred", "internal_only", False, True, "SEV-1"),
    ("occurred", "internal_only", True, False, "SEV-1"),
    ("occurred", "internal_only", True, True, "SEV-1"),
    ("imminent", "many_users", False, False, "SEV-1"),
    ("imminent", "many_users", False, True, "SEV-1"),
    ("imminent", "many_users", True, False, "SEV-0"),
    ("imminent", "many_users", True, True, "SEV-0"),
    ("imminent", "single_user", False, False, "SEV-2"),
    ("imminent", "single_user", False, True, "SEV-1"),
    ("imminent", "single_user", True, False, "SEV-1"),
    ("imminent", "single_user", True, True, "SEV-1"),
    ("imminent", "internal_only", False, False, "SEV-3"),
    ("imminent", "internal_only", False, True, "SEV-1"),
    ("imminent", "internal_only", True, False, "SEV-2"),
    ("imminent", "internal_only", True, True, "SEV-1"),
    ("potential", "many_users", False, False, "SEV-2"),
    ("potential", "many_users", False, True, "SEV-1"),
    ("potential", "many_users", True, False, "SEV-1"),
    ("potential", "many_users", True, True, "SEV-1"),
    ("potential", "single_user", False, False, "SEV-3"),
    ("potential", "single_user", False, True, "SEV-1"),
    ("potential", "single_user", True, False, "SEV-2"),
    ("potential", "single_user", True, True, "SEV-1"),
    # internal only pushes past SEV-3; the shifts are summed before the final clamp
    ("potential", "internal_only", False, False, "SEV-3"),
    ("potential", "internal_only", False, True, "SEV-1"),
    ("potential", "internal_only", True, False, "SEV-3"),
    ("potential", "internal_only", True, True, "SEV-1"),
]


def test_table_covers_every_combination() -> None:
    combos = {row[:4] for row in TABLE}
    assert len(TABLE) == 36
    assert len(combos) == 36


@pytest.mark.parametrize(("harm", "scope", "exploitable", "regulatory", "expected"), TABLE)
def test_every_combination(harm: str, scope: str, exploitable: bool, regulatory: bool,
                           expected: str) -> None:
    result = assess(answers(harm, scope, exploitable, regulatory), POLICY)
    assert result.severity == expected
    assert len(result.reasons) == 6


def test_reasons_name_each_step_and_level_in_order() -> None:
    result = assess(answers("imminent", "many_users", True, True, "high"), POLICY)
    assert result.reasons == [
        "harm imminent: start at SEV-2",
        "scope many_users: 1 level more severe -> SEV-1",
        "exploitable at scale: 1 level more severe -> SEV-0",
        "regulatory implications: already at least SEV-1, involve Legal -> SEV-0",
        "within the scale SEV-0..SEV-3 -> SEV-0",
        "reputational risk high: advisory only -> SEV-0",
    ]


def test_reasons_show_out_of_scale_level_and_clamp() -> None:
    result = assess(answers("potential", "internal_only"), POLICY)
    assert result.reasons[1] == (
        "scope internal_only: 1 level less severe -> beyond SEV-3 (clamped at the end)"
    )
    assert result.reasons[4] == "clamped to the scale SEV-0..SEV-3 -> SEV-3"


def test_regulatory_raises_and_adds_legal() -> None:
    result = assess(answers("potential", "single_user", regulatory=True),
                    POLICY, "policy_violation_isolated")
    assert result.severity == "SEV-1"
    assert result.reasons[3] == (
        "regulatory implications: raised to the minimum SEV-1, involve Legal -> SEV-1"
    )
    assert result.escalation_path == ["Safety team", "Legal", "On-call"]


def test_escalation_path_deduplicates_and_keeps_order() -> None:
    result = assess(answers("occurred", "many_users", regulatory=True), POLICY, "pii_exposure")
    assert result.severity == "SEV-0"
    assert result.escalation_path == ["Security", "Legal", "All hands"]


def test_escalation_without_type_is_severity_only() -> None:
    result = assess(answers("imminent", "single_user"), POLICY)
    assert result == Assessment(
        severity="SEV-2",
        reasons=result.reasons,
        advisories=[],
        escalation_path=[],
        response_sla_minutes=240,
        clock="business",
    )


def test_sla_and_clock_follow_severity() -> None:
    sev0 = assess(answers("occurred", "many_users"), POLICY, "mass_harmful_output")
    assert (sev0.response_sla_minutes, sev0.clock) == (15, "wall")
    assert sev0.escalation_path == ["Executive", "Legal", "PR", "All hands"]
    sev3 = assess(answers("potential"), POLICY, "false_positive_spike")
    assert (sev3.severity, sev3.response_sla_minutes, sev3.clock) == ("SEV-3", 1440, "wall")
    assert sev3.escalation_path == ["Product team"]


def test_reputational_risk_is_advisory_only() -> None:
    normal = assess(answers("imminent"), POLICY)
    high = assess(answers("imminent", reputational="high"), POLICY)
    assert normal.severity == high.severity == "SEV-2"
    assert normal.advisories == []
    assert high.advisories == ["High reputational risk: consider SEV-0"]


def test_changed_rules_in_policy_data_change_the_result() -> None:
    data = copy.deepcopy(POLICY_DATA)
    data["severity_levels"].append(
        {"id": "SEV-4", "name": "Informational", "response_sla_minutes": 10080,
         "clock": "wall", "escalation_adds": ["Backlog"]}
    )
    data["checklist"] = {
        "harm": {"occurred": "SEV-0", "imminent": "SEV-2", "potential": "SEV-4"},
        "scope": {"many_users": 2, "single_user": 0, "internal_only": -1},
        "exploitable_at_scale": 2,
        "regulatory": {"minimum": "SEV-0", "escalate_to": ["Legal", "Compliance"]},
        "reputational_risk_high": {"advisory": "Brief the communications lead"},
    }
    policy = typed_records.policy(data)
    assert assess(answers("potential", "single_user"), policy).severity == "SEV-4"
    assert assess(answers("potential", "many_users"), policy).severity == "SEV-2"
    assert assess(answers("potential", "many_users", True), policy).severity == "SEV-0"
    assert assess(answers("occurred", "internal_only"), policy).severity == "SEV-1"
    regulated = assess(answers("potential", "internal_only", regulatory=True,
                               reputational="high"), policy, "false_positive_spike")
    assert regulated.severity == "SEV-0"
    assert regulated.escalation_path == ["Product team", "Legal", "Compliance", "All hands"]
    assert regulated.advisories == ["Brief the communications lead"]
    assert severity_rank("SEV-4", policy) == 4


def test_severity_rank_and_compare() -> None:
    assert [severity_rank(s, POLICY) for s in ("SEV-0", "SEV-1", "SEV-2", "SEV-3")] == [0, 1, 2, 3]
    assert compare("SEV-0", "SEV-2", POLICY) == -1
    assert compare("SEV-3", "SEV-2", POLICY) == 1
    assert compare("SEV-1", "SEV-1", POLICY) == 0


def test_unknown_severity_has_hint() -> None:
    with pytest.raises(IncidentOpsError) as info:
        severity_rank("SEV-9", POLICY)
    assert "SEV-9" in info.value.message
    assert "SEV-0, SEV-1, SEV-2, SEV-3" in info.value.hint


@pytest.mark.parametrize(
    ("key", "value", "hint_part"),
    [
        ("harm", "occured", "did you mean 'occurred'?"),
        ("scope", "many", "many_users"),
        ("reputational_risk", "medium", "high, normal"),
        ("regulatory", "yes", "`regulatory: true`"),
        ("exploitable_at_scale", 1, "`exploitable_at_scale: true`"),
    ],
)
def test_unknown_answer_value_raises_with_hint(key: str, value: Any, hint_part: str) -> None:
    bad = replace(answers(), **{key: value})
    with pytest.raises(IncidentOpsError) as info:
        assess(bad, POLICY)
    assert key in info.value.message
    assert hint_part in info.value.hint


def test_missing_answer_raises() -> None:
    bad = replace(answers(), scope=None)  # a blank answer
    with pytest.raises(IncidentOpsError) as info:
        assess(bad, POLICY)
    assert "scope" in info.value.message
    assert "harm, scope" in info.value.hint


def test_unknown_type_raises_with_hint() -> None:
    with pytest.raises(IncidentOpsError) as info:
        assess(answers(), POLICY, "pii_exposur")
    assert "pii_exposur" in info.value.message
    assert "did you mean 'pii_exposure'?" in info.value.hint
