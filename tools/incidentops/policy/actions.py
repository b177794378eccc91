"""Postmortem action items still to do, across the registry: "track action items to completion".

An action item is open while its status is ``open`` or ``in_progress``; it is overdue when
its due date is before the ``as_of`` date (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from incidentops.records.registry import Registry

OPEN_STATES = ("open", "in_progress")


@dataclass(frozen=True)
class ActionItem:
    """One open action item of a postmortem, located in its file."""

    incident_id: str
    action_id: str
    description: str
    owner: str
    due: date
    status: str
    overdue: bool
    days_overdue: int
    path: str
    line: int
    tracker: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident_id,
            "id": self.action_id,
            "description": self.description,
            "owner": self.owner,
            "due": self.due.isoformat(),
            "status": self.status,
            "overdue": self.overdue,
            "days_overdue": self.days_overdue,
            "path": self.path,
            "line": self.line,
            "tracker": self.tracker,
        }


@dataclass(frozen=True)
class ActionReport:
    """Open action items grouped by owner, and the postmortems that could not be read."""

    as_of: datetime
    groups: dict[str, list[ActionItem]]
    skipped: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[ActionItem]:
        return [item for items in self.groups.values() for item in items]

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.overdue)


def open_actions(
    registry: Registry,
    as_of: datetime,
    owner: str | None = None,
    overdue_only: bool = False,
) -> ActionReport:
    """Open action items of every postmortem as of ``as_of``, grouped by owner.

    ``owner`` keeps one owner's items (case and spacing ignored); ``overdue_only`` keeps the
    overdue ones. Postmortems with errors are listed in ``skipped`` (run `incidentops check`).
    Groups are sorted by owner; items by due date, then incident and id.
    """
    today = as_of.date()
    wanted = _norm(owner) if owner else None
    found: list[ActionItem] = []
    skipped: list[str] = []
    for incident_id in registry.incident_ids:
        doc = registry.postmortem(incident_id)
        if doc is None:
            continue
        postmortem = registry.postmortem_record(incident_id)
        if postmortem is None:
            skipped.append(doc.path)
            continue
        for item in postmortem.action_items:
            if item.status not in OPEN_STATES:
                continue
            late_days = (today - item.due).days
            action = ActionItem(
                incident_id=incident_id,
                action_id=item.id,
                description=item.description,
                owner=item.owner,
                due=item.due,
                status=str(item.status),
                overdue=late_days > 0,
                days_overdue=max(0, late_days),
                path=item.source.path,
                line=item.source.where()[0],
                tracker=item.tracker or None,
            )
            if wanted is not None and _norm(action.owner) != wanted:
                continue
            if overdue_only and not action.overdue:
                continue
            found.append(action)
    groups: dict[str, list[ActionItem]] = {}
    names: dict[str, str] = {}  # one group per owner, however its name is capitalised
    for action in sorted(found, key=lambda a: (_norm(a.owner), a.due, a.incident_id, _number(a.action_id))):
        name = names.setdefault(_norm(action.owner), action.owner)
        groups.setdefault(name, []).append(action)
    return ActionReport(as_of=as_of, groups=groups, skipped=skipped)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _number(action_id: str) -> int:
    digits = action_id[1:]
    return int(digits) if digits.isdigit() else 0
