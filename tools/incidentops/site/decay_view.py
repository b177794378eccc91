"""Decay recommendations for the regression catalog, from :mod:`incidentops.lifecycle.decay`.

The decay assessment (severity, age, attack viability, scenario relevance,
model lineage, similar incidents) lives in ``incidentops.lifecycle.decay``. This adapter
runs it on the records the build shows, so that a public build's
recommendations and reasons never count or name an internal incident. When the
module or the git history is missing, the site says so instead of guessing.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidentops.lifecycle.history import RegistryHistory
from incidentops.records.errors import IncidentOpsError
from incidentops.records.registry import Registry

MISSING_NOTE = (
    "Decay recommendations are not available: this version of incidentops has no decay "
    "assessment module (incidentops.lifecycle.decay). Ages below come from git history."
)
NO_HISTORY_NOTE = "Decay recommendations need the git history of the registry, which could not be read."


@dataclass(frozen=True)
class ReviewDue:
    """When a test's next quarterly review is due, and whether that day has come (as of the build)."""

    at: datetime
    due: bool

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} (due)" if self.due else f"{self.at:%Y-%m-%d}"


@dataclass(frozen=True)
class DecayInfo:
    """One test's decay recommendation and the factors behind it, as the site shows them."""

    recommendation: str
    reasons: list[str] = field(default_factory=list)
    factors: list[tuple[str, str]] = field(default_factory=list)
    review: ReviewDue | None = None

    @property
    def review_due(self) -> bool:
        return self.review is not None and self.review.due


def decay_recommendations(
    registry: Registry,
    history: RegistryHistory | None,
    as_of: datetime,
    test_ids: Sequence[str],
) -> tuple[dict[str, DecayInfo], str | None]:
    """``({test_id: DecayInfo}, note)``; the note explains missing recommendations.

    ``registry`` must already be limited to the records the build shows.
    """
    try:
        module = importlib.import_module("incidentops.lifecycle.decay")
    except ModuleNotFoundError as exc:
        if exc.name != "incidentops.lifecycle.decay":
            raise
        return {}, MISSING_NOTE
    if history is None:
        return {}, NO_HISTORY_NOTE
    try:
        report: Any = module.assess_registry(registry, history, as_of)
    except IncidentOpsError as exc:
        return {}, f"Decay recommendations could not be computed: {exc.message}"
    wanted = set(test_ids)
    found: dict[str, DecayInfo] = {}
    for item in report.assessments:
        if item.test_id not in wanted or item.recommendation is None:
            continue
        found[item.test_id] = DecayInfo(
            recommendation=str(item.recommendation),
            reasons=[str(r) for r in item.reasons],
            factors=_factors(item),
            review=ReviewDue(item.review_due_at, item.review_due) if item.review_due_at is not None else None,
        )
    return found, None


def _factors(item: Any) -> list[tuple[str, str]]:
    since_incident = item.days_since_incident
    since_review = item.days_since_review
    return [
        ("Time in suite", "not committed yet" if item.uncommitted else f"{item.age_days} days"
         f" (since {item.added_at:%Y-%m-%d}{', its CREATE decision' if item.imported else ''})"),
        ("Incident severity", item.incident_severity or "unknown"),
        ("Time since incident", "unknown" if since_incident is None else f"{since_incident} days"),
        ("Attack vector", item.attack_vector_status or "unknown"),
        ("Scenario still relevant", {True: "yes", False: "no", None: "unknown"}[item.scenario_still_relevant]),
        ("Model", f"{item.model_version or '?'} → {item.current_model or '?'}: {item.model_change.replace('_', ' ')}"
                  f" ({item.model_relevance})"),
        ("Similar incidents in the window", str(item.similar_incidents_12m)),
        ("Last review", "never" if since_review is None else f"{since_review} days ago"),
        ("Review due", str(ReviewDue(item.review_due_at, item.review_due)) if item.review_due_at else "-"),
    ]
