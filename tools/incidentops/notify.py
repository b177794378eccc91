"""Stakeholder notifications of lifecycle decisions: webhooks, and a queue for the ones that failed.

Every notification is POSTed as JSON to each webhook of the policy's
``notifications.webhooks``. A webhook that cannot be reached never undoes or
blocks the decision: the message is queued in ``.incidentops/pending-notifications.json``
(a local file, git-ignored) and sent again by ``incidentops lifecycle notify --retry``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentops import __version__
from incidentops.errors import IncidentOpsError
from incidentops.fsio import write_text_atomic

PENDING_DIR = ".incidentops"
PENDING_FILE = f"{PENDING_DIR}/pending-notifications.json"
DEFAULT_TIMEOUT = 10.0

Poster = Callable[[str, bytes, float], None]
"""Sends ``body`` to ``url`` within ``timeout`` seconds; raises on failure."""


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Notification:
    """What stakeholders are told: ``text`` for people, ``payload`` (JSON) for webhooks."""

    text: str
    payload: Mapping[str, Any]
    stakeholders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one webhook call; ``error`` is empty when it was delivered."""

    webhook: Webhook
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def webhooks(policy: Mapping[str, Any]) -> list[Webhook]:
    """The policy's ``notifications.webhooks``."""
    section = policy.get("notifications")
    items = section.get("webhooks") if isinstance(section, dict) else None
    out = []
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            out.append(Webhook(str(item.get("name") or item["url"]), item["url"]))
    return out


def stakeholders(policy: Mapping[str, Any]) -> tuple[str, ...]:
    """The policy's ``notifications.stakeholders``."""
    section = policy.get("notifications")
    items = section.get("stakeholders") if isinstance(section, dict) else None
    return tuple(str(s) for s in items or [])


def post_json(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON with urllib; raises :class:`OSError` (or ValueError) on any failure."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"incidentops/{__version__}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = getattr(response, "status", 200)
        if not 200 <= status < 300:
            raise OSError(f"HTTP {status}")


def deliver(
    notification: Notification,
    targets: Sequence[Webhook],
    timeout: float = DEFAULT_TIMEOUT,
    poster: Poster = post_json,
) -> list[Delivery]:
    """POST the notification to every webhook; one failure never stops the others."""
    body = json.dumps(notification.payload, ensure_ascii=False).encode("utf-8")
    return [_send(hook, body, timeout, poster) for hook in targets]


def _send(hook: Webhook, body: bytes, timeout: float, poster: Poster) -> Delivery:
    try:
        poster(hook.url, body, timeout)
    except urllib.error.HTTPError as exc:
        return Delivery(hook, f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return Delivery(hook, str(exc.reason))
    except (OSError, ValueError) as exc:
        return Delivery(hook, str(exc) or type(exc).__name__)
    return Delivery(hook)


# --- the queue of failed deliveries ---------------------------------------------


def pending_path(root: Path) -> Path:
    return root / PENDING_FILE


def load_pending(root: Path) -> list[dict[str, Any]]:
    """The queued deliveries, oldest first."""
    path = pending_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise IncidentOpsError(
            f"{PENDING_FILE}: cannot read the queue of pending notifications ({exc})",
            "fix or delete the file; its messages are also printed when a decision is taken",
        ) from None
    items = data.get("pending") if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def save_pending(root: Path, items: Sequence[Mapping[str, Any]]) -> None:
    folder = root / PENDING_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_text_atomic(ignore, "# local state of incidentops: never committed\n*\n")
    text = json.dumps({"pending": list(items)}, indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(pending_path(root), text)


def queue_failures(
    root: Path, notification: Notification, deliveries: Sequence[Delivery], when: datetime
) -> int:
    """Queue every failed delivery; returns how many were queued."""
    failed = [d for d in deliveries if not d.ok]
    if not failed:
        return 0
    items = load_pending(root)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    for delivery in failed:
        items.append({
            "webhook": {"name": delivery.webhook.name, "url": delivery.webhook.url},
            "payload": dict(notification.payload),
            "text": notification.text,
            "queued_at": stamp,
            "attempts": 1,
            "last_error": delivery.error,
        })  # fmt: skip
    save_pending(root, items)
    return len(failed)


@dataclass(frozen=True, slots=True)
class RetryResult:
    sent: tuple[Delivery, ...]
    failed: tuple[Delivery, ...]


def retry_pending(
    root: Path, timeout: float = DEFAULT_TIMEOUT, poster: Poster = post_json
) -> RetryResult:
    """Send every queued notification again; keep the ones that still fail."""
    items = load_pending(root)
    sent: list[Delivery] = []
    failed: list[Delivery] = []
    keep: list[dict[str, Any]] = []
    for item in items:
        raw = item.get("webhook")
        hook = Webhook(str(raw.get("name", "")), str(raw.get("url", ""))) if isinstance(raw, dict) else Webhook("", "")
        body = json.dumps(item.get("payload", {}), ensure_ascii=False).encode("utf-8")
        result = _send(hook, body, timeout, poster)
        if result.ok:
            sent.append(result)
        else:
            failed.append(result)
            keep.append({**item, "attempts": int(item.get("attempts", 1)) + 1, "last_error": result.error})
    if items:
        save_pending(root, keep)
    return RetryResult(tuple(sent), tuple(failed))
