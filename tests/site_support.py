"""Sites built once per test session and shared by the site test modules.

The example registry of this repository is copied into a real git repository
with fixed commit dates, then built for real with `incidentops site build`
(internal and public editions). Builds are cached for the session: every
test module that asks gets the same folders.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from conftest import REPO, Result, run_cli
from gitrepo import GitRepo

AS_OF = "2026-11-27T12:00:00Z"
# the records were imported into git in one commit (the policy declares it: `history.imported_before`)
COMMIT_DATE = "2026-11-20T09:30:00Z"
LATER_DATE = "2026-11-25T16:45:00Z"
REPO_URL = "https://github.com/example-org/safety-registry"
RECORD_FOLDERS = ("incidents", "regressions", "audit", "reviews", "releases", "scenarios")


@cache
def workspace() -> Path:
    """A private temporary folder for the whole session, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="incidentops-site-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def copy_registry(dest: Path) -> Path:
    """The example registry (records, mkdocs.yml with a repo_url, docs/) in ``dest``."""
    dest.mkdir(parents=True)
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, dest / name)
    for folder in RECORD_FOLDERS:
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, dest / folder)
    if (REPO / "docs").is_dir():
        shutil.copytree(REPO / "docs", dest / "docs")
    else:
        (dest / "docs").mkdir()
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("# repo_url: https://github.com/your-org/your-registry", f"repo_url: {REPO_URL}")
    config = config.replace("# edit_uri: edit/main/docs/", "edit_uri: edit/main/docs/")
    (dest / "mkdocs.yml").write_text(config, encoding="utf-8")
    return dest


@cache
def example_repo() -> Path:
    """The example registry in a git repository: two commits with fixed dates."""
    root = copy_registry(workspace() / "registry")
    repo = GitRepo.init(root)
    repo.git("add", "--", ".")
    repo.commit("Example registry", date=COMMIT_DATE)
    # A later change to one incident, so that "last changed" differs from "created".
    incident = root / "incidents" / "INC_001" / "incident.yaml"
    incident.write_text(incident.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    repo.add("incidents/INC_001/incident.yaml")
    repo.commit("Review INC_001", date=LATER_DATE)
    return root


@dataclass(frozen=True)
class Built:
    root: Path
    site: Path
    result: Result


@cache
def built_example(public: bool = False) -> Built:
    """The example site, built once per session with the real command line."""
    root = example_repo()
    site = workspace() / ("site-public" if public else "site")
    args = ["site", "build", "--strict", "--as-of", AS_OF, "--site-dir", str(site)]
    if public:
        args.append("--public")
    result = run_cli(*args, cwd=root)
    return Built(root, site, result)


def site_text(site: Path) -> dict[str, str]:
    """Every file of a built site as text (gzip files decompressed)."""
    import gzip

    out: dict[str, str] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        out[path.relative_to(site).as_posix()] = raw.decode("utf-8", "replace")
    return out
