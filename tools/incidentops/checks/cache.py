"""Findings of the text checks kept between runs, outside the repository, in the user's cache folder.

The blameless-language lint and the PII scan read nothing but a record's own text (the
PII scan also whether the record is public), and they are most of the time a check
takes. For a file whose text has not changed since the last run, their findings are
read back instead of computed again, the way ruff and mypy cache per-file results.
Every other rule runs every time.

Nothing a pull request can write is ever believed. The cache lives under the user's
cache folder (``$INCIDENTOPS_CACHE_DIR``, else ``$XDG_CACHE_HOME/incidentops`` or
``~/.cache/incidentops``), never in the registry: a ``.incidentops-cache/`` folder in a
repository is not read at all (a whole check reports it). Every cache file is
authenticated with a key made on first use in that folder (random, mode 0600), so a
file this account's incidentops did not write cannot verify. A cache folder inside the
registry or its git work tree is refused. A cache file is opened without following
symbolic links and without blocking, and read only when it is a regular file of this
user of bounded size; anything else (a FIFO, a device, a directory, a huge, unreadable,
forged, truncated or malformed file) is ignored with a warning and rewritten.

An entry is used only when everything it was computed from is the same: the file's
content (a BLAKE2 digest), the record's visibility (PII), the incidentops version, the
source of the modules that produce those findings, and the policy. Entries are spread
over a fixed number of files by path, so a check of one file reads and writes one
small file, not the whole registry's entries. The files are JSON, never pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import stat
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from incidentops import __version__
from incidentops.records.findings import Finding

#: the key of a run's ResultCache in ``CheckContext.cache`` (the text rules look it up there)
RESULT_CACHE = "text.result-cache"
#: where older versions kept the cache, in the registry; never read now
LEGACY_DIR = ".incidentops-cache"
#: overrides the folder of incidentops's caches
CACHE_ENV = "INCIDENTOPS_CACHE_DIR"
FORMAT = 2
#: entries are spread over this many files, by path
BUCKETS = 64
#: a cache file larger than this was not written by a check: it is not read
MAX_BYTES = 64 << 20
KEY_FILE = "key"
KEY_BYTES = 32
#: the modules whose code decides the cached findings: a change to any of them empties the cache
SOURCES = (
    "incidentops.records.yamlio",
    "incidentops.checks.allow",
    "incidentops.checks.blameless",
    "incidentops.checks.first_names",
    "incidentops.checks.pii",
    "incidentops.checks.text_rules",
    "incidentops.checks.textscan",
    "incidentops.checks.cache",
)

#: the libraries whose answers are cached with the findings (import name, distribution name, lower case)
LIBRARIES = (("detect_secrets", "detect_secrets"), ("phonenumbers", "phonenumbers"), ("yaml", "pyyaml"))

_O_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

Entry = tuple[str, str, list[Finding]]  # content digest, variant, findings


def in_ci() -> bool:
    """Whether this runs in continuous integration (``CI`` set, as GitHub Actions and most CI services do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def user_cache_root() -> Path:
    """The folder of incidentops's caches for this user."""
    explicit = os.environ.get(CACHE_ENV, "")
    if explicit:
        return Path(explicit).expanduser().absolute()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "incidentops"


def digest(text: str) -> str:
    """Content digest of a record's text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def salt(policy: Any) -> str | None:
    """What every entry depends on besides the file: version, checking code, policy.

    None when the code cannot be read (then nothing is cached).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}\0{__version__}\0".encode())
    for name in SOURCES:
        module = sys.modules.get(name)
        source = getattr(module, "__file__", None)
        if not source:
            return None
        try:
            h.update(Path(source).read_bytes())
        except OSError:
            return None
    h.update(library_versions().encode())
    h.update(json.dumps(policy, sort_keys=True, default=str).encode())
    return h.hexdigest()


def library_versions() -> str:
    """The installed version of each library in :data:`LIBRARIES`, read from its metadata folder name.

    Not imported (that costs more than the check of one file), and not
    ``importlib.metadata`` (its first call costs as much): one look at the folder
    the library is installed in. An upgrade of phonenumbers or detect-secrets can
    change what the PII scan finds, so it must not reuse findings from before.
    Without a metadata folder, the module file's size and time stand in.
    """
    out: list[str] = []
    listed: dict[Path, list[str]] = {}
    for module, dist in LIBRARIES:
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is None:
            out.append(f"{module}:absent")
            continue
        site = origin.parent.parent
        if site not in listed:
            try:
                listed[site] = sorted(entry.name.lower() for entry in os.scandir(site))
            except OSError:
                listed[site] = []
        found = [name for name in listed[site]
                 if name.startswith(f"{dist}-") and name[len(dist) + 1:][:1].isdigit()
                 and name.endswith((".dist-info", ".egg-info"))]
        if found:
            out.append(f"{module}:{','.join(found)}")
        else:
            try:
                info = origin.stat()
            except OSError:
                info = None
            out.append(f"{module}:{origin}:{info.st_size if info else '-'}:{info.st_mtime_ns if info else '-'}")
    return ";".join(out)


def bucket_of(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogatepass")) % BUCKETS


class Refused(Exception):
    """A cache file that is not read: why."""


def read_bounded(path: Path, limit: int = MAX_BYTES, private: bool = False) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of this user of at most ``limit`` bytes.

    None when it does not exist. Raises Refused for anything else, without reading it:
    a symbolic link (never followed), a FIFO or device (opened without blocking, never
    read), a directory, a file of another user, a larger file, an unreadable one.
    ``private``: also refuse a file that others may read (the key).
    """
    try:
        fd = os.open(path, _O_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if path.is_symlink():
            raise Refused("it is a symbolic link") from None
        raise Refused(f"it cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("it is not a regular file")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise Refused("it belongs to another user")
        if os.name == "posix" and info.st_mode & (0o077 if private else 0o022):
            raise Refused("other users may " + ("read or write it" if private else "write to it"))
        if info.st_size > limit:
            raise Refused(f"it holds {info.st_size} bytes, more than a cache file ever does ({limit})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            except BlockingIOError:
                raise Refused("it cannot be read without waiting") from None
            except OSError as exc:
                raise Refused(f"it cannot be read ({exc.strerror})") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Refused(f"it grew past {limit} bytes while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by this user only (never through a link)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _inside(folder: Path, roots: Iterable[Path]) -> Path | None:
    for root in roots:
        if folder == root or root in folder.parents:
            return root
    return None


def _work_tree(root: Path) -> Path | None:
    """The git work tree holding ``root`` (the nearest folder with a ``.git``), if any."""
    for folder in (root, *root.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


class ResultCache:
    """Cached findings by (rule, file) of one registry; new results are collected for saving.

    ``problems`` says, in words for people, which cache files were ignored and why.
    """

    def __init__(self, root: Path, salt: str, folder: Path, key: bytes) -> None:
        self.root = root
        self.salt = salt
        self.folder = folder  # this registry's cache files
        self.key = key
        self.problems: list[str] = []
        # per bucket: entries as read from its file, checked only when used (a check of one
        # file should not pay for validating the whole registry's entries)
        self.stored: dict[int, dict[str, Any]] = {}
        self.new: dict[str, Entry] = {}
        self._last: tuple[str, str] = ("", digest(""))  # the last text digested, and its digest
        self._refused: bool | None = None

    # ---- opening -----------------------------------------------------------
    @classmethod
    def open(cls, root: Path, salt: str, base: Path | None = None) -> tuple[ResultCache | None, list[str]]:
        """The cache of the registry at ``root``, or None and why it cannot be used.

        ``base`` is the folder of incidentops's caches (default: ``user_cache_root()``).
        """
        root = root.resolve()
        try:
            base = (base or user_cache_root()).resolve()
        except (OSError, RuntimeError) as exc:
            return None, [f"the result cache is not used: its folder cannot be found ({exc})"]
        tree = _work_tree(root)
        inside = _inside(base, [root] + ([tree] if tree is not None else []))
        if inside is not None:
            return None, [
                f"the result cache is not used: its folder {base} is inside {'the registry' if inside == root else 'the git work tree'} "
                f"{inside}, where a commit could plant it; set {CACHE_ENV} to a folder outside the repository"
            ]
        try:
            key = _key(base)
        except Refused as exc:
            return None, [f"the result cache is not used: the key {base / KEY_FILE} is not trusted: {exc}; "
                          f"delete {base} to start afresh"]
        except OSError as exc:
            return None, [f"the result cache is not used: its key cannot be made in {base} ({exc.strerror})"]
        name = hashlib.blake2b(os.fsencode(root), digest_size=10).hexdigest()
        return cls(root, salt, base / "check" / name, key), []

    # ---- reading -----------------------------------------------------------
    def _file(self, bucket: int) -> Path:
        return self.folder / f"{bucket:02d}.json"

    def _bucket(self, bucket: int) -> dict[str, Any]:
        rows = self.stored.get(bucket)
        if rows is None:
            rows = self.stored[bucket] = self._read(bucket)
        return rows

    def _read(self, bucket: int) -> dict[str, Any]:
        if self._folder_refused():
            return {}
        file = self._file(bucket)
        try:
            raw = read_bounded(file)
        except Refused as exc:
            self.problems.append(f"ignored the result cache file {file}: {exc}")
            return {}
        if raw is None:
            return {}
        mac, _, body = raw.partition(b"\n")
        if not hmac.compare_digest(mac, self._mac(body)):
            self.problems.append(f"ignored the result cache file {file}: it was not written by incidentops "
                                 "under this account (its authentication code does not match)")
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            self.problems.append(f"ignored the result cache file {file}: it is not valid JSON")
            return {}
        if (
            not isinstance(data, dict) or data.get("format") != FORMAT or data.get("salt") != self.salt
            or data.get("root") != str(self.root) or data.get("bucket") != bucket
            or not isinstance(data.get("entries"), dict)
        ):
            return {}  # made by another version, policy or registry: stale, not wrong
        entries: dict[str, Any] = data["entries"]
        return entries

    def _folder_refused(self) -> bool:
        """Whether this registry's cache folder is something else than a folder of this user (then unread)."""
        if self._refused is None:
            self._refused = False
            try:
                info = os.lstat(self.folder)
            except FileNotFoundError:
                return False
            except OSError as exc:
                why = f"it cannot be read ({exc.strerror})"
            else:
                if not stat.S_ISDIR(info.st_mode):
                    why = "it is not a folder (a symbolic link is never followed)"
                elif hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                    why = "it belongs to another user"
                else:
                    return False
            self._refused = True
            self.problems.append(f"ignored the result cache folder {self.folder}: {why}")
        return self._refused

    def preload(self) -> None:
        """Read every cache file now (before forking workers, and before a whole check prunes)."""
        for bucket in range(BUCKETS):
            self._bucket(bucket)

    def _mac(self, body: bytes) -> bytes:
        return hashlib.blake2b(body, key=self.key, digest_size=32).hexdigest().encode()

    def _digest(self, text: str) -> str:
        # the rules of one file run one after the other: digest its text once
        if self._last[0] is not text:
            self._last = (text, digest(text))
        return self._last[1]

    def get(self, rule: str, path: str, text: str, variant: str = "") -> list[Finding] | None:
        """The findings of ``rule`` on ``path`` computed from this very ``text``, if cached."""
        key = f"{rule}\0{path}"
        entry = self.new.get(key)
        if entry is None:
            entry = _entry(key, self._bucket(bucket_of(path)).get(key))
        if entry is None or entry[1] != variant or entry[0] != self._digest(text):
            return None
        return list(entry[2])

    # ---- collecting and saving ---------------------------------------------
    def put(self, rule: str, path: str, text: str, variant: str, findings: Iterable[Finding]) -> None:
        self.new[f"{rule}\0{path}"] = (self._digest(text), variant, list(findings))

    def take_new(self) -> dict[str, Entry]:
        """The entries added since the last call (a worker sends them to the parent)."""
        new, self.new = self.new, {}
        return new

    def merge(self, entries: dict[str, Entry]) -> None:
        self.new.update(entries)

    def save(self, keep: Iterable[str] | None = None) -> bool:
        """Write the cache files that changed; ``keep`` (paths) drops entries of files no longer checked.

        Returns False when the folder cannot be written (the check goes on without a cache).
        """
        dirty: set[int] = set()
        if keep is not None:
            self.preload()
            wanted = set(keep)
            for bucket, rows in self.stored.items():
                kept = {key: row for key, row in rows.items() if key.partition("\0")[2] in wanted}
                if len(kept) != len(rows):
                    self.stored[bucket] = kept
                    dirty.add(bucket)
        for key, entry in self.new.items():
            bucket = bucket_of(key.partition("\0")[2])
            rows = self._bucket(bucket)
            row = [entry[0], entry[1], [_finding_row(f) for f in entry[2]]]
            if rows.get(key) != row:
                rows[key] = row
                dirty.add(bucket)
        self.new = {}
        if not dirty:
            return True
        try:
            self._prepare_folder()
            for bucket in sorted(dirty):
                body = json.dumps(
                    {"format": FORMAT, "salt": self.salt, "root": str(self.root), "bucket": bucket,
                     "entries": self.stored[bucket]},
                    separators=(",", ":"),
                ).encode()
                _write_private(self._file(bucket), self._mac(body) + b"\n" + body)
        except OSError as exc:
            self.problems.append(f"the result cache could not be saved in {self.folder} ({exc.strerror or exc})")
            return False
        return True

    def _prepare_folder(self) -> None:
        if self._folder_refused():
            raise OSError(f"{self.folder} is not a folder of this user")
        if self.folder.is_dir():
            return
        self.folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700)
        (self.folder / "root").write_text(str(self.root) + "\n", encoding="utf-8")
        _forget_gone_registries(self.folder.parent, self.folder)


def _forget_gone_registries(folder: Path, mine: Path) -> None:
    """Delete the caches of registries that no longer exist (run when a new registry's cache is made)."""
    import shutil

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.path == str(mine) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            recorded = read_bounded(Path(entry.path) / "root", 1 << 16)
        except Refused:
            continue
        if recorded is None:
            continue
        where = recorded.decode("utf-8", "replace").strip()
        if where and Path(where).is_absolute() and not os.path.isdir(where):
            shutil.rmtree(entry.path, ignore_errors=True)


def _key(base: Path) -> bytes:
    """This user's cache key (made on first use: random, readable by this user only)."""
    path = base / KEY_FILE
    raw = read_bounded(path, 1024, private=True)
    if raw is None:
        import secrets
        import tempfile

        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".key.", dir=base)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_hex(KEY_BYTES).encode())
            with contextlib.suppress(FileExistsError):  # another check made it first: use theirs
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
        raw = read_bounded(path, 1024, private=True)
    try:
        key = bytes.fromhex((raw or b"").decode("ascii"))
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise Refused(f"it does not hold a {KEY_BYTES}-byte key")
    return key


def _finding_row(finding: Finding) -> list[Any]:
    return [finding.line, finding.col, finding.level, finding.rule, finding.message, finding.hint]


def _entry(key: Any, value: Any) -> Entry | None:
    """A well-formed entry, or None (a malformed one is ignored, never trusted)."""
    if not isinstance(key, str) or "\0" not in key or not isinstance(value, list) or len(value) != 3:
        return None
    content, variant, rows = value
    if not isinstance(content, str) or not isinstance(variant, str) or not isinstance(rows, list):
        return None
    path = key.partition("\0")[2]
    findings: list[Finding] = []
    for row in rows:
        if not (
            isinstance(row, list) and len(row) == 6
            and all(isinstance(x, int) and not isinstance(x, bool) for x in row[:2])
            and all(isinstance(x, str) for x in row[2:])
        ):
            return None
        findings.append(Finding(path, row[0], row[1], row[2], row[3], row[4], row[5]))
    return content, variant, findings
