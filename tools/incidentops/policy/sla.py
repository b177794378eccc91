"""Response SLAs: the business-hours clock, per-incident results and the SLA report.

SEV-2's "4 hour response, business hours" counts only minutes inside the policy's
``business_hours`` (timezone, working days, opening hours, public holidays from the
``holidays`` package); the other levels count wall-clock minutes. Everything is computed
``as_of`` an explicit UTC-aware datetime: a response or resolution recorded after
``as_of`` has not happened yet as far as the result is concerned.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from incidentops.policy.severity import severity_ids, severity_level
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import BusinessHours, Incident, Policy

MET = "met"
BREACHED = "breached"
PENDING = "pending"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SlaResult:
    """One incident's first response against its severity's SLA.

    ``response_minutes`` is None while there is no first response (as of ``as_of``);
    ``elapsed_minutes`` is the minutes counted so far: up to the response, or up to
    ``as_of`` when there is none. Both use the severity's ``clock``.
    """

    incident_id: str
    severity: str
    response_minutes: int | None
    elapsed_minutes: int
    sla_minutes: int
    status: str
    clock: str


@dataclass(frozen=True)
class SeverityAttainment:
    """Counts of SLA outcomes for one severity."""

    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def attainment(self) -> float | None:
        """met / (met + breached); None when nothing has been decided yet."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass(frozen=True)
class SlaReport:
    """SLA results of a set of incidents as of a moment.

    ``mtta_minutes`` is the mean wall-clock time from detection to first response over
    responded incidents; ``mttr_minutes`` the mean from detection to resolution over
    resolved ones. Both are None when no incident qualifies.
    """

    as_of: datetime
    results: list[SlaResult]
    by_severity: dict[str, SeverityAttainment]
    mtta_minutes: float | None
    mttr_minutes: float | None

    @property
    def attainment(self) -> dict[str, float | None]:
        """Attainment per severity, most severe first."""
        return {sev: counts.attainment for sev, counts in self.by_severity.items()}


@dataclass(frozen=True)
class BusinessCalendar:
    """A parsed ``business_hours`` block."""

    zone: ZoneInfo
    working_days: frozenset[int]
    opens: time
    closes: time | None  # None means midnight at the end of the day ("24:00")
    holidays_country: str | None
    holidays_subdivision: str | None


def parse_calendar(calendar: BusinessHours) -> BusinessCalendar:
    """Validate the policy's ``business_hours`` block."""
    tz_name = calendar.timezone
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise IncidentOpsError(
            f"incidentops.yaml: business_hours.timezone {tz_name!r} is not a known time zone",
            "use an IANA name such as Europe/London or America/New_York",
        ) from exc
    days: set[int] = set()
    for day in calendar.working_days:
        key = day.lower()[:3]
        if key not in WEEKDAYS:
            raise IncidentOpsError(
                f"incidentops.yaml: business_hours.working_days has unknown day {day!r}",
                "use mon, tue, wed, thu, fri, sat, sun",
            )
        days.add(WEEKDAYS.index(key))
    opens = _clock_time(calendar.start, "start")
    closes = _clock_time(calendar.end, "end")
    if opens is None or (closes is not None and closes <= opens):
        raise IncidentOpsError(
            "incidentops.yaml: business_hours.end is not after business_hours.start",
            'write e.g. start: "09:00", end: "17:00"',
        )
    country = calendar.holidays_country
    subdivision = calendar.holidays_subdivision
    result = BusinessCalendar(
        zone=zone,
        working_days=frozenset(days),
        opens=opens,
        closes=closes,
        holidays_country=country or None,
        holidays_subdivision=subdivision or None,
    )
    if result.holidays_country:
        _holiday_dates(result.holidays_country, result.holidays_subdivision, 2000)
    return result


def business_minutes(start: datetime, end: datetime, calendar: BusinessHours) -> int:
    """Whole business minutes between two aware datetimes (0 when ``end`` <= ``start``).

    ``calendar`` is the policy's ``business_hours`` block.
    """
    cal = parse_calendar(calendar)
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return 0
    total = timedelta()
    day = start.astimezone(cal.zone).date()
    last = end.astimezone(cal.zone).date()
    while day <= last:
        if _is_business_day(day, cal):
            # Work in UTC: same-tzinfo arithmetic ignores a DST change in between.
            opens = datetime.combine(day, cal.opens, cal.zone).astimezone(UTC)
            if cal.closes is None:
                closes_local = datetime.combine(day + timedelta(days=1), time(0), cal.zone)
            else:
                closes_local = datetime.combine(day, cal.closes, cal.zone)
            closes = closes_local.astimezone(UTC)
            overlap = min(end, closes) - max(start, opens)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def wall_minutes(start: datetime, end: datetime) -> int:
    """Whole wall-clock minutes between two aware datetimes (0 when ``end`` <= ``start``)."""
    delta = _aware(end, "end") - _aware(start, "start")
    return max(0, int(delta.total_seconds() // 60))


def time_order_problems(incident: Incident) -> list[tuple[str, str]]:
    """(field, problem) for each of the incident's moments that comes before one it must follow.

    First response and resolution come after detection, and resolution after the first
    response.
    """
    moments = {"detected_at": incident.detected_at, "first_response_at": incident.first_response_at,
               "resolved_at": incident.resolved_at}
    problems: list[tuple[str, str]] = []
    for later, earlier in (("first_response_at", "detected_at"), ("resolved_at", "detected_at"),
                           ("resolved_at", "first_response_at")):
        after, before = moments[later], moments[earlier]
        if after is not None and before is not None and after < before and all(
            field != later for field, _ in problems
        ):
            gap = int((before - after).total_seconds() // 60)
            problems.append((later, f"{later} is before {earlier} ({incident.source.text(later)} is {gap} minutes"
                                   f" before {incident.source.text(earlier)})"))
    return problems


def response_result(incident: Incident, policy: Policy, as_of: datetime) -> SlaResult:
    """Measure one incident's first response against its severity's SLA, as of ``as_of``.

    met: responded within the SLA; breached: responded late, or no response and the SLA
    has already run out; pending: no response yet and still within the SLA.
    """
    as_of = _aware(as_of, "as_of")
    incident_id = incident.id
    severity = incident.severity
    try:
        level = severity_level(severity, policy)
    except IncidentOpsError as exc:
        raise IncidentOpsError(f"{incident_id}: {exc.message}", exc.hint) from exc
    clock = str(level.clock)
    sla = level.response_sla_minutes
    detected = incident.detected_at.astimezone(UTC)
    responded = incident.first_response_at
    for _field, problem in time_order_problems(incident):
        raise IncidentOpsError(f"{incident_id}: {problem}", "check the timestamps; they are UTC (the trailing Z)")
    if responded is not None and responded > as_of:
        responded = None

    def elapsed(until: datetime) -> int:
        if clock == "business":
            return business_minutes(detected, until, policy.business_hours)
        return wall_minutes(detected, until)

    if responded is not None:
        minutes = elapsed(responded)
        status = MET if minutes <= sla else BREACHED
        return SlaResult(incident_id, severity, minutes, minutes, sla, status, clock)
    minutes = elapsed(as_of)
    status = PENDING if minutes <= sla else BREACHED
    return SlaResult(incident_id, severity, None, minutes, sla, status, clock)


def sla_report(incidents: Iterable[Incident], policy: Policy, as_of: datetime) -> SlaReport:
    """SLA results, attainment per severity, MTTA and MTTR for ``incidents`` as of ``as_of``.

    Incidents detected after ``as_of`` are left out.
    """
    as_of = _aware(as_of, "as_of")
    results: list[SlaResult] = []
    counts: dict[str, dict[str, int]] = {sev: {} for sev in severity_ids(policy)}
    ack_minutes: list[float] = []
    resolve_minutes: list[float] = []
    for incident in incidents:
        detected = incident.detected_at
        if detected > as_of:
            continue
        result = response_result(incident, policy, as_of)  # refuses contradictory timestamps
        results.append(result)
        by_status = counts[result.severity]
        by_status[result.status] = by_status.get(result.status, 0) + 1
        responded = incident.first_response_at
        if responded is not None and responded <= as_of:
            ack_minutes.append((responded - detected).total_seconds() / 60)
        resolved = incident.resolved_at
        if resolved is not None and resolved <= as_of:
            resolve_minutes.append((resolved - detected).total_seconds() / 60)
    return SlaReport(
        as_of=as_of,
        results=results,
        by_severity={
            sev: SeverityAttainment(c.get(MET, 0), c.get(BREACHED, 0), c.get(PENDING, 0))
            for sev, c in counts.items()
        },
        mtta_minutes=_mean(ack_minutes),
        mttr_minutes=_mean(resolve_minutes),
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise IncidentOpsError(
            f"{name} {value.isoformat()} has no time zone",
            "pass an aware datetime, e.g. datetime(2026, 3, 10, 14, 5, tzinfo=UTC)",
        )
    return value.astimezone(UTC)


def _clock_time(value: Any, field: str) -> time | None:
    text = str(value)
    if text in ("24:00", "24:00:00"):
        return None
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise IncidentOpsError(
            f"incidentops.yaml: business_hours.{field} {value!r} is not a time of day",
            'write it as a quoted "HH:MM", e.g. "09:00"',
        ) from exc


def _is_business_day(day: date, cal: BusinessCalendar) -> bool:
    if day.weekday() not in cal.working_days:
        return False
    if cal.holidays_country is None:
        return True
    return day not in _holiday_dates(cal.holidays_country, cal.holidays_subdivision, day.year)


@functools.lru_cache(maxsize=256)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:
        where = f"{country}/{subdivision}" if subdivision else country
        raise IncidentOpsError(
            f"incidentops.yaml: business_hours holidays {where!r} is not a known calendar",
            "use an ISO 3166 country code and subdivision known to the `holidays`"
            " package, e.g. holidays_country: GB, holidays_subdivision: ENG",
        ) from exc
    return frozenset(calendar.keys())
