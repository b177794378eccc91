"""Business-hours clock, response SLA results and the SLA report."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

import typed_records
from incidentops.policy.sla import (
    SeverityAttainment,
    SlaResult,
    business_minutes,
    response_result,
    sla_report,
)
from incidentops.records import model
from incidentops.records.errors import IncidentOpsError
from incidentops.records.validate import validate
from incidentops.records.yamlio import load_bytes
from typed_records import incident as incident_record

LONDON: dict[str, Any] = {
    "timezone": "Europe/London",
    "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "17:00",
    "holidays_country": "GB",
    "holidays_subdivision": "ENG",
}

# The DATA-MODEL.md policy values that SLA computation reads.
SEVERITY_LEVELS: list[dict[str, Any]] = [
    {"id": "SEV-0", "response_sla_minutes": 15, "clock": "wall"},
    {"id": "SEV-1", "response_sla_minutes": 60, "clock": "wall"},
    {"id": "SEV-2", "response_sla_minutes": 240, "clock": "business"},
    {"id": "SEV-3", "response_sla_minutes": 1440, "clock": "wall"},
]
POLICY = typed_records.policy({"severity_levels": SEVERITY_LEVELS, "business_hours": LONDON})


def hours(**change: Any) -> model.BusinessHours:
    """A ``business_hours`` block: London's with ``change``."""
    return model.from_data(model.BusinessHours, {**LONDON, **change})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(severity: str, detected: str, responded: str | None = None,
             resolved: str | None = None, id: str = "INC_001") -> model.Incident:
    record: dict[str, Any] = {"id": id, "severity": severity, "detected_at": detected}
    if responded is not None:
        record["first_response_at"] = responded
    if resolved is not None:
        record["resolved_at"] = resolved
    return incident_record(**record)


AS_OF = utc("2026-12-01T00:00:00")


# --- business_minutes -------------------------------------------------------------------

def test_friday_afternoon_to_monday_morning_is_90_business_minutes() -> None:
    # 2026-03-13 is a Friday; London is on GMT (UTC+0) until 29 March.
    assert business_minutes(utc("2026-03-13T16:30:00"), utc("2026-03-16T10:00:00"), hours()) == 90


def test_sev2_friday_1630_answered_monday_1000_is_met() -> None:
    result = response_result(
        incident("SEV-2", "2026-03-13T16:30:00Z", "2026-03-16T10:00:00Z"), POLICY, AS_OF
    )
    assert result == SlaResult("INC_001", "SEV-2", 90, 90, 240, "met", "business")


def test_uk_bank_holiday_is_skipped() -> None:
    # Fri 1 May 2026 16:00 BST -> Tue 5 May 10:00 BST; Mon 4 May is the May Day bank holiday.
    start, end = utc("2026-05-01T15:00:00"), utc("2026-05-05T09:00:00")
    assert business_minutes(start, end, hours()) == 60 + 60
    no_holidays = model.from_data(model.BusinessHours,
                                  {k: v for k, v in LONDON.items() if not k.startswith("holidays")})
    assert business_minutes(start, end, no_holidays) == 60 + 480 + 60


def test_easter_weekend_skips_good_friday_and_easter_monday() -> None:
    # Thu 2 Apr 2026 16:00 BST -> Tue 7 Apr 10:00 BST
    assert business_minutes(utc("2026-04-02T15:00:00"), utc("2026-04-07T09:00:00"), hours()) == 120


def test_subdivision_calendar_is_used() -> None:
    # 17 March (St Patrick's Day) is a bank holiday in Northern Ireland, not in England.
    start, end = utc("2026-03-17T09:00:00"), utc("2026-03-17T17:00:00")
    assert business_minutes(start, end, hours()) == 480
    assert business_minutes(start, end, hours(holidays_subdivision="NIR")) == 0


def test_spring_dst_change_week() -> None:
    # Clocks go forward on Sun 29 Mar 2026: Fri 16:00 GMT -> Mon 09:30 BST (08:30 UTC).
    assert business_minutes(utc("2026-03-27T16:00:00"), utc("2026-03-30T08:30:00"), hours()) == 90
    # A whole DST-change week still has 5 x 8 business hours.
    assert business_minutes(utc("2026-03-23T00:00:00"), utc("2026-04-01T00:00:00"), hours()) == (
        7 * 480
    )


def test_autumn_dst_change_week() -> None:
    # Clocks go back on Sun 25 Oct 2026: Fri 16:00 BST (15:00 UTC) -> Mon 09:30 GMT.
    assert business_minutes(utc("2026-10-23T15:00:00"), utc("2026-10-26T09:30:00"), hours()) == 90


def test_detection_outside_business_hours() -> None:
    # Before opening on a Tuesday
    assert business_minutes(utc("2026-03-10T07:00:00"), utc("2026-03-10T09:45:00"), hours()) == 45
    # Tuesday evening -> Wednesday morning
    assert business_minutes(utc("2026-03-10T20:00:00"), utc("2026-03-11T09:10:00"), hours()) == 10
    # Saturday -> Monday morning
    assert business_minutes(utc("2026-03-14T11:00:00"), utc("2026-03-16T09:20:00"), hours()) == 20
    # Entirely outside business hours
    assert business_minutes(utc("2026-03-14T11:00:00"), utc("2026-03-15T23:00:00"), hours()) == 0


def test_other_timezone_and_working_days() -> None:
    new_york = model.from_data(model.BusinessHours, {"timezone": "America/New_York", "working_days": ["sun", "mon"],
                                                     "start": "08:00", "end": "24:00"})
    # Sun 15 Mar 2026 (EDT, UTC-4) 22:00 -> Mon 16 Mar 09:00 EDT: 2 h Sunday + 1 h Monday
    assert business_minutes(utc("2026-03-16T02:00:00"), utc("2026-03-16T13:00:00"),
                            new_york) == 180


def test_reversed_interval_is_zero() -> None:
    assert business_minutes(utc("2026-03-16T12:00:00"), utc("2026-03-16T10:00:00"), hours()) == 0


# --- response_result ----------------------------------------------------------------------

def test_sev0_wall_clock_20_minutes_is_breached() -> None:
    result = response_result(
        incident("SEV-0", "2026-03-14T03:00:00Z", "2026-03-14T03:20:00Z"), POLICY, AS_OF
    )
    assert result == SlaResult("INC_001", "SEV-0", 20, 20, 15, "breached", "wall")


def test_exactly_at_sla_is_met() -> None:
    result = response_result(
        incident("SEV-1", "2026-03-14T03:00:00Z", "2026-03-14T04:00:00Z"), POLICY, AS_OF
    )
    assert (result.response_minutes, result.status) == (60, "met")


def test_pending_then_breached_as_of_moves() -> None:
    record = incident("SEV-1", "2026-03-10T14:00:00Z")
    pending = response_result(record, POLICY, utc("2026-03-10T14:30:00"))
    assert pending == SlaResult("INC_001", "SEV-1", None, 30, 60, "pending", "wall")
    assert response_result(record, POLICY, utc("2026-03-10T15:00:00")).status == "pending"
    late = response_result(record, POLICY, utc("2026-03-10T15:01:00"))
    assert late == SlaResult("INC_001", "SEV-1", None, 61, 60, "breached", "wall")


def test_pending_business_clock_over_a_weekend() -> None:
    record = incident("SEV-2", "2026-03-13T16:00:00Z")
    # Fri 16:00 -> Mon 11:00 is 67 wall hours but only 180 business minutes.
    assert response_result(record, POLICY, utc("2026-03-16T11:00:00")).status == "pending"
    assert response_result(record, POLICY, utc("2026-03-16T12:01:00")).status == "breached"


def test_response_after_as_of_does_not_count_yet() -> None:
    record = incident("SEV-1", "2026-03-10T14:00:00Z", "2026-03-10T14:50:00Z")
    assert response_result(record, POLICY, utc("2026-03-10T14:40:00")).status == "pending"
    assert response_result(record, POLICY, utc("2026-03-10T15:30:00")).status == "met"


@pytest.mark.parametrize(
    ("record", "message_part", "hint_part"),
    [
        (incident("SEV-7", "2026-03-10T14:00:00Z"), "INC_001: unknown severity 'SEV-7'", "SEV-0"),
        (incident("SEV-1", "2026-03-10T14:00:00Z", "2026-03-10T13:00:00Z"),
         "first_response_at is before detected_at", "UTC"),
    ],
)
def test_bad_records_raise_with_incident_id(record: model.Incident, message_part: str,
                                            hint_part: str) -> None:
    with pytest.raises(IncidentOpsError) as info:
        response_result(record, POLICY, AS_OF)
    assert message_part in info.value.message
    assert info.value.message.startswith("INC_001")
    assert hint_part in info.value.hint


@pytest.mark.parametrize("detected", ["10/03/2026 14:00", "2026-03-10T14:00:00"])
def test_an_incident_with_a_timestamp_that_is_not_rfc3339_has_no_sla(detected: str) -> None:
    # not a timestamp, or one without a time zone: the record fails its schema, so it has no
    # typed form and no SLA result (`incidentops check` reports the field)
    fields = {**typed_records.INCIDENT, "detected_at": detected}
    doc = load_bytes(json.dumps(fields).encode(), "incidents/INC_001/incident.yaml")
    doc.findings.extend(validate(doc, "incident"))
    assert any(f.rule.startswith("schema") and f.line == 1 for f in doc.findings)
    assert model.build("incident", doc) is None
    good = load_bytes(json.dumps(typed_records.INCIDENT).encode(), "incidents/INC_001/incident.yaml")
    good.findings.extend(validate(good, "incident"))
    assert isinstance(model.build("incident", good), model.Incident)


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(IncidentOpsError) as info:
        response_result(incident("SEV-1", "2026-03-10T14:00:00Z"), POLICY,
                        datetime(2026, 3, 10, 15))
    assert "as_of" in info.value.message


@pytest.mark.parametrize(
    ("change", "message_part"),
    [
        ({"timezone": "Europe/Londres"}, "timezone 'Europe/Londres'"),
        ({"working_days": ["mon", "funday"]}, "unknown day 'funday'"),
        ({"start": "9am"}, "business_hours.start '9am'"),
        ({"start": "17:00", "end": "09:00"}, "end is not after"),
        ({"holidays_country": "XX"}, "holidays 'XX/ENG'"),
        ({"holidays_subdivision": "ATLANTIS"}, "holidays 'GB/ATLANTIS'"),
    ],
)
def test_bad_business_hours_raise(change: dict[str, Any], message_part: str) -> None:
    with pytest.raises(IncidentOpsError) as info:
        business_minutes(utc("2026-03-10T09:00:00"), utc("2026-03-10T10:00:00"),
                         hours(**change))
    assert message_part in info.value.message
    assert info.value.hint


# --- sla_report ---------------------------------------------------------------------------

def test_empty_input() -> None:
    report = sla_report([], POLICY, AS_OF)
    assert report.results == []
    assert report.attainment == {"SEV-0": None, "SEV-1": None, "SEV-2": None, "SEV-3": None}
    assert report.mtta_minutes is None
    assert report.mttr_minutes is None


def test_report_attainment_mtta_mttr() -> None:
    incidents = [
        incident("SEV-0", "2026-03-14T03:00:00Z", "2026-03-14T03:20:00Z",
                 "2026-03-14T07:00:00Z", id="INC_001"),  # breached, 20 / 240 min
        incident("SEV-0", "2026-03-15T03:00:00Z", "2026-03-15T03:10:00Z",
                 "2026-03-15T05:00:00Z", id="INC_002"),  # met, 10 / 120 min
        incident("SEV-2", "2026-03-13T16:30:00Z", "2026-03-16T10:00:00Z",
                 id="INC_003"),  # met (90 business), 3930 wall minutes, unresolved
        incident("SEV-1", "2026-11-30T23:30:00Z", id="INC_004"),  # pending as of AS_OF
        incident("SEV-1", "2026-12-02T10:00:00Z", id="INC_005"),  # detected after AS_OF
    ]
    report = sla_report(incidents, POLICY, AS_OF)
    assert [r.incident_id for r in report.results] == ["INC_001", "INC_002", "INC_003", "INC_004"]
    assert [r.status for r in report.results] == ["breached", "met", "met", "pending"]
    assert report.by_severity["SEV-0"] == SeverityAttainment(met=1, breached=1, pending=0)
    assert report.by_severity["SEV-1"] == SeverityAttainment(met=0, breached=0, pending=1)
    assert report.attainment == {"SEV-0": 0.5, "SEV-1": None, "SEV-2": 1.0, "SEV-3": None}
    assert report.mtta_minutes == pytest.approx((20 + 10 + 3930) / 3)
    assert report.mttr_minutes == pytest.approx((240 + 120) / 2)


def test_report_ignores_resolution_after_as_of() -> None:
    incidents = [incident("SEV-1", "2026-03-10T14:00:00Z", "2026-03-10T14:30:00Z",
                          "2026-03-11T14:00:00Z")]
    report = sla_report(incidents, POLICY, utc("2026-03-10T20:00:00"))
    assert report.mtta_minutes == 30
    assert report.mttr_minutes is None


def test_report_uses_the_policy_calendar_and_levels() -> None:
    levels = copy.deepcopy(SEVERITY_LEVELS)
    levels[1]["clock"] = "business"
    policy = typed_records.policy({"severity_levels": levels, "business_hours": LONDON})
    # SEV-1 detected Saturday, answered Monday 09:30: 30 business minutes, met.
    record = incident("SEV-1", "2026-03-14T10:00:00Z", "2026-03-16T09:30:00Z")
    result = response_result(record, policy, AS_OF)
    assert (result.response_minutes, result.status, result.clock) == (30, "met", "business")
    assert response_result(record, POLICY, AS_OF).status == "breached"
