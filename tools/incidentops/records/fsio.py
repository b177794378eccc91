"""Files of a registry, read and written safely.

Reads never follow a symbolic link below the registry root, never block on a FIFO or
device, and never read more than a cap; writes are atomic (a crash half-way never
leaves a half-written record) and never land outside the registry or through a link.

Every path is opened one folder at a time from the registry root (``openat`` with
``O_NOFOLLOW``), so a checked folder cannot be swapped for a link between the check
and the open. The registry root itself may be reached through links (``/tmp/link ->
/tmp/real``): only what lies below it is the registry's content.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from incidentops.records.errors import IncidentOpsError

POLICY_FILE = "incidentops.yaml"

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_NOFOLLOW | _O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | _O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | _O_CLOEXEC
_ROOT_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC

SYMLINK_HINT = (
    "records are regular files inside the registry: replace the link with the file or folder it points to"
)
SPECIAL_HINT = "records are regular files: remove it, or replace it with the record"
UNREADABLE_HINT = "make it readable by the user running incidentops (chmod u+rx for folders, u+r for files)"


class UnsafeWrite(IncidentOpsError, OSError):
    """A write refused because it would leave the registry or go through a link (exit 2).

    Also an :class:`OSError`, so code that treats an unwritable folder as "no cache"
    treats a refused write the same way.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        IncidentOpsError.__init__(self, message, hint)


@dataclass(frozen=True, slots=True)
class FsProblem(Exception):
    """Why a registry path cannot be read: ``rule`` (``fs.symlink``, ``fs.special``,
    ``fs.unreadable``, ``yaml.too-large``), the offending ``path`` relative to the root
    (a folder on the way, or the file itself), a message and a hint."""

    rule: str
    path: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def split_relpath(relpath: str) -> tuple[str, ...] | None:
    """The components of a relative registry path, or None when it could leave the root.

    Absolute paths, ``..`` and ``.`` components, empty components and NUL are refused.
    """
    if not relpath or "\0" in relpath or relpath.startswith("/"):
        return None
    parts = tuple(relpath.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        return None
    return parts


def _describe(parts: tuple[str, ...], name: str, dir_fd: int) -> FsProblem | None:
    """Classify ``name`` in ``dir_fd`` without following it; None when it is absent or a plain entry."""
    rel = "/".join(parts)
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as exc:
        folder = "/".join(parts[:-1]) or "."
        return FsProblem("fs.unreadable", folder, f"folder cannot be searched: {exc.strerror}", UNREADABLE_HINT)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            target = "?"
        return FsProblem("fs.symlink", rel, f"is a symbolic link (to {target}); incidentops never follows links"
                         " inside a registry", SYMLINK_HINT)
    if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
        return None
    return FsProblem("fs.special", rel, f"is a {_kind(info.st_mode)}, not a regular file; it is not read",
                     SPECIAL_HINT)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _open_root(root: Path) -> int:
    try:
        return os.open(root, _ROOT_FLAGS)
    except OSError as exc:
        raise IncidentOpsError(f"{root}: cannot open the registry folder: {exc.strerror}", "check --root") from None


def _walk(root_fd: int, parts: tuple[str, ...], *, create: bool = False) -> int | None:
    """An fd of the folder ``parts`` below ``root_fd``, opened without following links.

    None when a folder on the way is absent (and ``create`` is false). Raises
    :class:`FsProblem` for a link, a non-folder or a folder that cannot be searched.
    """
    fd = os.dup(root_fd)
    for depth, part in enumerate(parts, start=1):
        try:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    return None
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            problem = _describe(parts[:depth], part, fd)
            os.close(fd)
            if problem is not None:
                raise problem from None
            if exc.errno in (errno.ENOTDIR, errno.ENOENT) and not create:
                return None  # a plain file where a folder would be: nothing below it
            rel = "/".join(parts[:depth])
            if exc.errno == errno.EACCES:
                raise FsProblem("fs.unreadable", rel, f"folder cannot be read: {exc.strerror}",
                                UNREADABLE_HINT) from None
            raise FsProblem("fs.unreadable", rel, f"cannot open the folder: {exc.strerror}", UNREADABLE_HINT) from None
        os.close(fd)
        fd = nxt
    return fd


def read_registry_file(root: Path, relpath: str, limit: int) -> bytes | None:
    """The bytes of the regular file ``relpath`` below ``root``; None when there is none.

    Raises :class:`FsProblem` for a link (file or folder on the way), a FIFO, device or
    socket, an unreadable file or folder, or a file over ``limit`` bytes; never blocks.
    """
    parts = split_relpath(relpath)
    if parts is None:
        return None
    root_fd = _open_root(root)
    try:
        dir_fd = _walk(root_fd, parts[:-1])
        if dir_fd is None:
            return None
        try:
            name = parts[-1]
            problem = _describe(parts, name, dir_fd)
            if problem is not None:
                raise problem
            try:
                fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
            except OSError as exc:
                again = _describe(parts, name, dir_fd)  # replaced meanwhile
                if again is not None:
                    raise again from None
                raise FsProblem("fs.unreadable", relpath, f"cannot read: {exc.strerror}", UNREADABLE_HINT) from None
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode):
                    return None
                if not stat.S_ISREG(info.st_mode):
                    raise FsProblem("fs.special", relpath, f"is a {_kind(info.st_mode)}, not a regular file;"
                                    " it is not read", SPECIAL_HINT)
                if info.st_size > limit:
                    raise FsProblem("yaml.too-large", relpath,
                                    f"the file is {info.st_size:,} bytes, over the {limit:,}-byte cap for a record",
                                    "keep evidence and logs outside the registry and link to them")
                chunks: list[bytes] = []
                size = 0
                while size <= limit:
                    chunk = os.read(fd, min(1 << 20, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                data = b"".join(chunks)
            except OSError as exc:
                raise FsProblem("fs.unreadable", relpath, f"cannot read: {exc.strerror}", UNREADABLE_HINT) from None
            finally:
                os.close(fd)
            if len(data) > limit:  # grew while being read
                raise FsProblem("yaml.too-large", relpath,
                                f"the file is over the {limit:,}-byte cap for a record",
                                "keep evidence and logs outside the registry and link to them")
            return data
        finally:
            os.close(dir_fd)
    finally:
        os.close(root_fd)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a registry folder, not followed: ``kind`` is file, dir, symlink or special."""

    name: str
    kind: str


def scan_registry_dir(root: Path, relfolder: str) -> list[Entry]:
    """The entries of the folder ``relfolder`` below ``root`` (``[]`` when absent), sorted by name.

    Raises :class:`FsProblem` when the folder, or one on the way, is a link, not a folder,
    or cannot be read.
    """
    parts = split_relpath(relfolder)
    if parts is None:
        return []
    root_fd = _open_root(root)
    try:
        fd = _walk(root_fd, parts)
    finally:
        os.close(root_fd)
    if fd is None:
        return []
    out: list[Entry] = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    if entry.is_symlink():
                        kind = "symlink"
                    elif entry.is_dir(follow_symlinks=False):
                        kind = "dir"
                    elif entry.is_file(follow_symlinks=False):
                        kind = "file"
                    else:
                        kind = "special"
                except OSError:
                    kind = "special"
                out.append(Entry(entry.name, kind))
    except OSError as exc:
        raise FsProblem("fs.unreadable", relfolder, f"folder cannot be listed: {exc.strerror}",
                        UNREADABLE_HINT) from None
    finally:
        os.close(fd)
    out.sort(key=lambda e: e.name)
    return out


# --- writing ------------------------------------------------------------------


def registry_root_of(path: Path) -> Path | None:
    """The nearest folder above ``path`` (lexically, links not resolved) holding incidentops.yaml."""
    here = Path(os.path.abspath(path)).parent
    for folder in (here, *here.parents):
        try:
            if stat.S_ISREG(os.stat(folder / POLICY_FILE).st_mode):
                return folder
        except OSError:
            continue
    return None


def _target(path: Path, root: Path | None) -> tuple[Path, tuple[str, ...]]:
    """(root, components of ``path`` below it); refuses a path that leaves the root."""
    absolute = Path(os.path.abspath(path))
    base = root if root is not None else registry_root_of(absolute)
    if base is None:
        base = absolute.parent  # outside any registry: only the file itself is checked
    base = Path(os.path.abspath(base))
    given = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    # with an explicit root, a `..` anywhere below it is an injected path, even one that comes back
    climbs = root is not None and ".." in given.parts[len(base.parts):]
    if climbs or not absolute.is_relative_to(base) or absolute == base:
        raise UnsafeWrite(f"{path}: refusing to write outside the registry {base}",
                          "records are written only inside the registry folder")
    parts = absolute.relative_to(base).parts
    return base, tuple(parts)


def _refuse(problem: FsProblem, base: Path) -> UnsafeWrite:
    return UnsafeWrite(f"{base / problem.path}: refusing to write: {problem.message}", problem.hint)


def _write_at(dir_fd: int, name: str, text: str, mode: int) -> str:
    """Write ``text`` to a new temporary file in ``dir_fd``; returns its name."""
    for _ in range(100):
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, mode, dir_fd=dir_fd)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise IncidentOpsError("cannot create a temporary file")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        _unlink(tmp, dir_fd)
        raise
    return tmp


def _unlink(name: str, dir_fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


def _open_parent(path: Path, root: Path | None) -> tuple[Path, int, str]:
    base, parts = _target(path, root)
    if not base.is_dir():
        base.mkdir(parents=True, exist_ok=True)
    root_fd = _open_root(base)
    try:
        dir_fd = _walk(root_fd, parts[:-1], create=True)
    except FsProblem as problem:
        raise _refuse(problem, base) from None
    finally:
        os.close(root_fd)
    assert dir_fd is not None
    return base, dir_fd, parts[-1]


def _existing(dir_fd: int, name: str, base: Path, rel: str) -> os.stat_result | None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeWrite(f"{base / rel}: refusing to write through a symbolic link", SYMLINK_HINT)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeWrite(f"{base / rel}: refusing to write: it is not a regular file", SPECIAL_HINT)
    return info


def write_text_atomic(path: Path, text: str, *, root: Path | None = None) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    ``path`` must lie below ``root`` (default: the registry holding it, found upwards
    without resolving links) with no link on the way and no link at ``path`` itself.
    """
    base, dir_fd, name = _open_parent(path, root)
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
        info = _existing(dir_fd, name, base, rel)
        mode = info.st_mode & 0o777 if info is not None else 0o644
        tmp = _write_at(dir_fd, name, text, mode)
        try:
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            _unlink(tmp, dir_fd)
            raise
    finally:
        os.close(dir_fd)


def create_text_exclusive(path: Path, text: str, hint: str = "records are never overwritten; pick another name",
                          *, root: Path | None = None) -> None:
    """Write a new file, complete or not at all; refuse to replace one that exists.

    The text is written aside, then hard-linked into place, which fails rather than
    replace a file that appeared meanwhile (audit entries and release records are
    append-only). The same containment rules as :func:`write_text_atomic` apply.
    """
    exists = IncidentOpsError(f"{path} already exists", hint)
    _base, dir_fd, name = _open_parent(path, root)
    try:
        try:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            pass
        else:
            raise exists
        tmp = _write_at(dir_fd, name, text, 0o644)
        try:
            try:
                os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            except FileExistsError:
                raise exists from None
            except OSError:  # file systems without hard links: a checked rename
                try:
                    os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:
                    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                else:
                    raise exists from None
        finally:
            _unlink(tmp, dir_fd)
    finally:
        os.close(dir_fd)


def ensure_registry_dir(root: Path, relfolder: str) -> None:
    """Create the folder ``relfolder`` below ``root`` (and those on the way), never through a link."""
    parts = split_relpath(relfolder)
    if parts is None:
        raise UnsafeWrite(f"{relfolder}: not a folder of the registry")
    root_fd = _open_root(root)
    try:
        fd = _walk(root_fd, parts, create=True)
    except FsProblem as problem:
        raise _refuse(problem, root) from None
    finally:
        os.close(root_fd)
    if fd is not None:
        os.close(fd)
