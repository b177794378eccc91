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

from incidentops.site.collect import SiteData
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
        record = incident.record
        if record is None:  # a record that did not validate: no event of it is known
            continue
        found.append(Entry(
            key=f"incident:{incident.id}",
            updated=record.detected_at,
            title=f"New incident {incident.id} ({incident.severity}): {record.title}".rstrip(": "),
            summary=f"{record.type}, status {record.status or '-'}",
            link=page_url(incident_page(incident.id), use_directory_urls),
        ))
        postmortem = incident.postmortem.record if incident.postmortem is not None else None
        if postmortem is not None and postmortem.published_at is not None and postmortem.status == "published":
            found.append(Entry(
                key=f"postmortem:{incident.id}",
                updated=postmortem.published_at,
                title=f"Postmortem published: {incident.id} ({incident.severity})",
                summary=f"{postmortem.review_type} of {record.title}",
                link=page_url(postmortem_page(incident.id), use_directory_urls),
            ))
    for test in data.tests:
        for index, decision in enumerate(test.record.decisions if test.record is not None else ()):
            found.append(Entry(
                key=f"decision:{test.id}:{index}",
                updated=decision.at,
                title=f"{test.id}: {decision.decision} -> {decision.to_state}",
                summary=f"{decision.reason} (by {decision.by})",
                link=page_url(test_page(test.id), use_directory_urls),
            ))
    for view in data.audit:
        entry = view.record
        if entry is None:
            continue
        found.append(Entry(
            key=f"audit:{view.path}",
            updated=entry.timestamp,
            title=f"Audit: {entry.action} {entry.test_id}".strip(),
            summary=f"{entry.reason_code}: {entry.reason} (approved by {entry.approver})",
            link=page_url(PAGE_AUDIT, use_directory_urls) + f"#{view.stem}",
        ))
    for release in data.releases:
        gate = release.record
        if gate is None:
            continue
        found.append(Entry(
            key=f"release:{release.path}",
            updated=gate.decided_at,
            title=f"Release gate: {gate.decision} for {gate.model_version or release.stem}",
            summary=f"Suite {gate.suite or 'all suites'}, score {gate.score}",
            link=page_url(release_page(release.stem), use_directory_urls),
        ))
    # an event whose date a public edition redacts (policy `public_edition.redact`) is not published
    found = [e for e in found if e.updated is not None]
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
