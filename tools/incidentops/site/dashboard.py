"""The figures of the home dashboard and its charts, computed from :class:`SiteData`."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from incidentops.policy import sla
from incidentops.records.model import Release
from incidentops.site import charts
from incidentops.site.collect import IncidentView, RecordView, SiteData, TestView
from incidentops.site.urls import (
    PAGE_AUDIT,
    incident_page,
    postmortem_page,
    release_page,
    review_page,
    test_page,
)

STATES = ("ACTIVE", "MONITORING", "DEPRECATED", "RETIRED")
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 3 months", 0, 91),
    ("3-6 months", 91, 183),
    ("6-12 months", 183, 365),
    ("1-2 years", 365, 730),
    ("> 2 years", 730, None),
)
MAX_MONTHS = 36


@dataclass
class Attainment:
    severity: str
    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def percent(self) -> float | None:
        return 100.0 * self.met / self.decided if self.decided else None


@dataclass(frozen=True)
class InvalidRecord:
    """A record that did not validate, as the dashboard lists it: its name, page and file."""

    name: str
    page: str
    path: str


@dataclass
class Dashboard:
    open_by_severity: dict[str, list[IncidentView]]
    attainment: list[Attainment]
    overall: Attainment
    states: dict[str, int]
    review_queue: list[TestView]
    review_after_days: int
    latest_release: RecordView[Release] | None
    #: the records that did not validate (internal edition; a public one leaves them out)
    invalid: list[InvalidRecord] = field(default_factory=list)
    charts: dict[str, Markup] = field(default_factory=dict)

    @property
    def open_count(self) -> int:
        return sum(len(v) for v in self.open_by_severity.values())


def build(data: SiteData) -> Dashboard:
    """Every figure the home page shows."""
    severities = data.severity_ids
    open_by: dict[str, list[IncidentView]] = {sev: [] for sev in severities}
    attain = {sev: Attainment(sev) for sev in severities}
    for incident in data.incidents:
        if incident.is_open:
            open_by.setdefault(incident.severity, []).append(incident)
        result = incident.sla
        if result is not None and result.severity in attain:
            row = attain[result.severity]
            if result.status == sla.MET:
                row.met += 1
            elif result.status == sla.BREACHED:
                row.breached += 1
            else:
                row.pending += 1
    overall = Attainment(
        "all",
        sum(a.met for a in attain.values()),
        sum(a.breached for a in attain.values()),
        sum(a.pending for a in attain.values()),
    )
    states = {state: 0 for state in STATES}
    for test in data.tests:
        states[test.state] = states.get(test.state, 0) + 1
    review_after = data.policy_record.decay.keep_if_younger_than_days or 365
    queue = [
        t for t in data.tests
        if t.state != "RETIRED" and (
            (t.decay is not None and (t.decay.review_due or t.decay.recommendation not in ("", "KEEP")))
            or (t.decay is None and t.days_in_suite is not None and t.days_in_suite >= review_after)
        )
    ]
    queue.sort(key=lambda t: -(t.days_in_suite or 0))
    dash = Dashboard(
        open_by_severity=open_by,
        attainment=list(attain.values()),
        overall=overall,
        states=states,
        review_queue=queue,
        review_after_days=review_after,
        latest_release=next((r for r in data.releases if r.record is not None), None),
        invalid=_invalid(data),
    )
    dash.charts = {
        "per_month": _per_month(data),
        "sla": _sla_chart(dash),
        "states": _state_chart(dash),
        "ages": _age_chart(data),
    }
    return dash


def _invalid(data: SiteData) -> list[InvalidRecord]:
    found: list[InvalidRecord] = []
    for incident in data.incidents:
        if incident.invalid is not None:
            found.append(InvalidRecord(incident.id, incident_page(incident.id), incident.path))
        if incident.postmortem is not None and incident.postmortem.invalid is not None:
            found.append(InvalidRecord(f"{incident.id} postmortem", postmortem_page(incident.id),
                                       incident.postmortem.path))
        if incident.handoff_invalid is not None and incident.handoff_path is not None:
            found.append(InvalidRecord(f"{incident.id} handoff", incident_page(incident.id), incident.handoff_path))
    found.extend(InvalidRecord(t.id, test_page(t.id), t.path) for t in data.tests if t.invalid is not None)
    found.extend(InvalidRecord(a.stem, f"{PAGE_AUDIT}#{a.stem}", a.path) for a in data.audit if a.invalid is not None)
    found.extend(InvalidRecord(r.stem, review_page(r.stem), r.path) for r in data.reviews if r.invalid is not None)
    found.extend(InvalidRecord(r.stem, release_page(r.stem), r.path) for r in data.releases if r.invalid is not None)
    return found


def _per_month(data: SiteData) -> Markup:
    title = "Incidents per month by severity"
    counts: dict[str, dict[str, int]] = {}
    for incident in data.incidents:
        detected = incident.detected
        if detected is None:
            continue
        month = detected.strftime("%Y-%m")
        counts.setdefault(month, {})
        counts[month][incident.severity] = counts[month].get(incident.severity, 0) + 1
    if not counts:
        return charts.empty("chart-per-month", title, "No incidents yet.")
    months = _month_range(min(counts), max(max(counts), data.as_of.strftime("%Y-%m")))[-MAX_MONTHS:]
    series = [
        charts.Series(sev, sev.lower().replace("-", ""), [counts.get(m, {}).get(sev, 0) for m in months])
        for sev in data.severity_ids
    ]
    total = sum(sum(s.values) for s in series)
    desc = f"{total} incidents detected from {months[0]} to {months[-1]}, stacked by severity."
    return charts.stacked_columns("chart-per-month", title, desc, months, series, sample=int(total))


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    out: list[str] = []
    while (year, month) <= end:
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _sla_chart(dash: Dashboard) -> Markup:
    title = "Response SLA attainment by severity"
    bars = []
    for row in dash.attainment:
        percent = row.percent
        text = "no decided incidents" if percent is None else f"{percent:.0f}% ({row.met} of {row.decided})"
        if row.pending:
            text += f", {row.pending} pending"
        bars.append(charts.Bar(row.severity, percent or 0.0, row.severity.lower().replace("-", ""), text))
    overall = dash.overall.percent
    desc = (
        "Share of incidents whose first response met the severity's SLA"
        + ("" if overall is None else f"; {overall:.0f}% overall") + "."
    )
    return charts.horizontal_bars("chart-sla", title, desc, bars, maximum=100.0, header=("Severity", "Attainment"),
                                  sample=dash.overall.decided)


def _state_chart(dash: Dashboard) -> Markup:
    title = "Regression suite by state"
    bars = [charts.Bar(state, count, "state-" + state.lower(), str(count)) for state, count in dash.states.items()]
    desc = ", ".join(f"{count} {state}" for state, count in dash.states.items()) + "."
    return charts.horizontal_bars("chart-states", title, desc, bars, header=("State", "Tests"),
                                  sample=sum(dash.states.values()))


def _age_chart(data: SiteData) -> Markup:
    title = "Time in suite (from git history)"
    ages = [t.days_in_suite for t in data.tests if t.state != "RETIRED" and t.days_in_suite is not None]
    if not ages:
        why = ("Not shown: the git history could not be read." if data.git_note and data.tests
               else "No committed regression tests in the suite yet.")
        return charts.empty("chart-ages", title, why)
    bars: list[charts.Bar] = []
    for label, low, high in AGE_BUCKETS:
        count = sum(1 for a in ages if a >= low and (high is None or a < high))
        css = "age-old" if low >= 365 else "age-young"
        bars.append(charts.Bar(label, count, css, str(count)))
    desc = f"Age of {len(ages)} tests still in the suite, from the commit that added each one."
    return charts.horizontal_bars("chart-ages", title, desc, bars, header=("Time in suite", "Tests"), sample=len(ages))
