"""An Atom feed of what happens in the registry: new incidents, published postmortems, test
decisions, audit entries and gate decisions.

With a site URL (``site_url`` in mkdocs.yml, ``--site-url`` or
``INCIDENTOPS_SITE_URL``) every link is absolute and the feed names itself
(``rel="self"``), as feed readers need; without one the links are relative
to the site's root.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment

from incidentops.site.collect import SiteData, parse_time
from incidentops.site.urls import (
    PAGE_AUDIT,
    SiteOptions,
    incident_page,
    page_url,
    postmortem_page,
    release_page,
    test_page,
)

MAX_ENTRIES = 200
FEED_PATH = "feed.xml"
_NAMESPACE = uuid.UUID("5b0d7a52-6f0e-4d5e-9a57-3e1f0c1b2a10")


@dataclass(frozen=True)
class Entry:
    key: str
    updated: datetime
    title: str
    summary: str
    link: str

    @property
    def urn(self) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, self.key)}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entries(data: SiteData, use_directory_urls: bool) -> list[Entry]:
    """The newest lifecycle events first (at most MAX_ENTRIES)."""
    found: list[Entry] = []
    for incident in data.incidents:
        detected = parse_time(incident.data.get("detected_at"))
        if detected is not None:
            found.append(Entry(
                key=f"incident:{incident.id}",
                updated=detected,
                title=f"New incident {incident.id} ({incident.severity}): {incident.data.get('title', '')}".rstrip(": "),
                summary=f"{incident.data.get('type', '?')}, status {incident.data.get('status', '?')}",
                link=page_url(incident_page(incident.id), use_directory_urls),
            ))
        postmortem = incident.postmortem
        published = parse_time(postmortem.data.get("published_at")) if postmortem is not None else None
        if postmortem is not None and published is not None and postmortem.data.get("status") == "published":
            found.append(Entry(
                key=f"postmortem:{incident.id}",
                updated=published,
                title=f"Postmortem published: {incident.id} ({incident.severity})",
                summary=f"{postmortem.data.get('review_type', 'review')} of {incident.data.get('title', incident.id)}",
                link=page_url(postmortem_page(incident.id), use_directory_urls),
            ))
    for test in data.tests:
        for index, decision in enumerate(test.data.get("decisions") or []):
            if not isinstance(decision, dict):
                continue
            when = parse_time(decision.get("at"))
            if when is None:
                continue
            found.append(Entry(
                key=f"decision:{test.id}:{index}",
                updated=when,
                title=f"{test.id}: {decision.get('decision', '?')} -> {decision.get('to_state', '?')}",
                summary=f"{decision.get('reason', '')} (by {decision.get('by', '?')})",
                link=page_url(test_page(test.id), use_directory_urls),
            ))
    for record in data.audit:
        when = parse_time(record.data.get("timestamp"))
        if when is None:
            continue
        found.append(Entry(
            key=f"audit:{record.path}",
            updated=when,
            title=f"Audit: {record.data.get('action', '?')} {record.data.get('test_id', '')}".strip(),
            summary=f"{record.data.get('reason_code', '')}: {record.data.get('reason', '')}"
                    f" (approved by {record.data.get('approver', '?')})",
            link=page_url(PAGE_AUDIT, use_directory_urls) + f"#{record.stem}",
        ))
    for record in data.releases:
        when = parse_time(record.data.get("decided_at"))
        if when is None:
            continue
        found.append(Entry(
            key=f"release:{record.path}",
            updated=when,
            title=f"Release gate: {record.data.get('decision', '?')} for {record.data.get('model_version') or record.stem}",
            summary=f"Suite {record.data.get('suite') or 'all suites'}, score {record.data.get('score', '?')}",
            link=page_url(release_page(record.stem), use_directory_urls),
        ))
    found.sort(key=lambda e: (e.updated, e.key), reverse=True)
    return found[:MAX_ENTRIES]


def render(data: SiteData, options: SiteOptions, env: Environment) -> str:
    """feed.xml (Atom 1.0). Links are absolute when the site URL is known."""
    items = entries(data, options.use_directory_urls)
    base = (options.site_url or "").rstrip("/")
    updated = items[0].updated if items else data.as_of
    return env.get_template("feed.xml.j2").render(
        entries=items,
        base=base + "/" if base else "",
        updated=_stamp(updated),
        stamp=_stamp,
        self_link=base + "/" + FEED_PATH if base else None,
        feed_id=f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'feed:' + options.site_name + (':public' if data.public else ''))}",
        site_name=options.site_name,
    )
