"""Atomic file writes: a crash half-way never leaves a half-written record."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_text_exclusive(path: Path, text: str, hint: str = "records are never overwritten; pick another name") -> None:
    """Write a new file, complete or not at all; refuse to replace one that exists.

    The text is written aside, then hard-linked into place, which fails rather than
    replace a file that appeared meanwhile (audit entries and release records are
    append-only).
    """
    from incidentops.errors import IncidentOpsError

    exists = IncidentOpsError(f"{path} already exists", hint)
    if path.exists():
        raise exists
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise exists from None
        except OSError:  # file systems without hard links: a checked rename
            if path.exists():
                raise exists from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
