"""Progress on stderr for long runs, only when stderr is a terminal (never in pipes or CI logs)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import click


class Progress:
    """A one-line, self-overwriting status on stderr, refreshed at most a few times a second."""

    def __init__(self, enabled: bool | None = None, interval: float = 0.2) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()
        self._shown = False

    def show(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < self.interval:
                return
            self._last = now
            self._shown = True
            click.echo(f"\r\x1b[2K{text}", err=True, nl=False)

    def commits(self, what: str) -> Callable[[int], None]:
        """A callback for ``history.load_history(progress=...)``."""
        return lambda count: self.show(f"{what}: {count:,} commits read")

    def items(self, what: str) -> Callable[[int, int], None]:
        """A callback ``(done, total)``."""
        return lambda done, total: self.show(f"{what}: {done:,}/{total:,}")

    def done(self) -> None:
        if self.enabled and self._shown:
            with self._lock:
                click.echo("\r\x1b[2K", err=True, nl=False)
                self._shown = False
