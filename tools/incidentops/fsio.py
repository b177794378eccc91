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


def create_text_exclusive(path: Path, text: str) -> None:
    """Write a new file; refuse to overwrite an existing one."""
    if path.exists():
        from incidentops.errors import IncidentOpsError

        raise IncidentOpsError(f"{path} already exists", "records are never overwritten; pick another id")
    write_text_atomic(path, text)
