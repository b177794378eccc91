"""Explicit time: every time-dependent computation takes an ``as_of`` moment (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from incidentops.records.errors import IncidentOpsError


def parse_as_of(value: str | None, *, what: str = "--as-of") -> datetime:
    """A date or RFC 3339 timestamp as an aware UTC datetime (a zone-less value is UTC); now when empty."""
    text = (value or "").strip()
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise IncidentOpsError(
            f"{what} {value!r} is not a date or timestamp",
            "write it as 2026-11-27 or 2026-11-27T09:00:00Z",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
