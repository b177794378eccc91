"""Sites built once per test session and shared by the site test modules, and their browser.

The example registry of this repository is copied into a real git repository
with fixed commit dates, then built for real with `incidentops site build`
(internal and public editions, and the internal one for a project Pages site
on a sub-path). Builds are cached for the session: every test module that asks
gets the same folders.

The browser is Debian's headless Chromium (never a downloaded one), driven by
Playwright: `chromium()` launches it, `Recorder` is a page that records every
request and dialog.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, Result, run_cli
from gitrepo import GitRepo
from incidentops.records.registry import Registry

AS_OF = "2026-11-27T12:00:00Z"
# the records were imported into git in one commit (the policy declares it: `history.imported_before`)
COMMIT_DATE = "2026-11-20T09:30:00Z"
LATER_DATE = "2026-11-25T16:45:00Z"
REPO_URL = "https://github.com/example-org/safety-registry"
RECORD_FOLDERS = ("incidents", "regressions", "audit", "reviews", "releases", "scenarios")
# a project Pages site: https://<owner>.github.io/<repository>/
PAGES_URL = "https://example-org.github.io/safety-registry/"


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


@cache
def built_hosted() -> Built:
    """The example built for a project Pages site (a sub-path), the URL given as the Pages workflow does."""
    root = example_repo()
    site = workspace() / "site-hosted"
    result = run_cli("site", "build", "--strict", "--as-of", AS_OF, "--site-dir", str(site), cwd=root,
                     env={"INCIDENTOPS_SITE_URL": PAGES_URL.rstrip("/")})
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


# --- the browser -------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"  # screenshots (git-ignored)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (a module fixture opens one per module)."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (scripts/ensure-chromium installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (scripts/ensure-chromium installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Recorder:
    """A page that records every request and dialog."""

    def __init__(self, browser: Any, scheme: str = "light") -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10000)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

        def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", dismiss)

    def remote(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    def close(self) -> None:
        self.context.close()


def open_tab(browser: Any, width: int, scheme: str = "light") -> Recorder:
    tab = Recorder(browser, scheme)
    tab.page.set_viewport_size({"width": width, "height": 900})
    return tab


def file_url(site: Path, page: str) -> str:
    return (site / page).as_uri()


_SEARCHED = "() => /matching document/.test(document.querySelector('.md-search-result__meta')?.innerText || '')"


def search(page: Any, query: str) -> Any:
    """Type ``query`` into the site's search box; the links of its results (none: "No matching documents")."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill("")
    box.press_sequentially(query, delay=20)
    page.wait_for_function(_SEARCHED, timeout=15000)  # the index is loaded and the query ran
    page.wait_for_timeout(400)
    return page.locator(".md-search-result__item > a")


def normal(text: str) -> str:
    """``text`` with every run of whitespace one space (how a page shows it)."""
    return " ".join(text.split())


def example_turns(test_id: str) -> list[str]:
    """The attack turns of an example test, whitespace normalised."""
    test = Registry(example_repo()).test_record(test_id)
    assert test is not None, test_id
    return [normal(turn) for turn in test.turns]


def public_tests() -> list[str]:
    """The example's tests whose incident is public."""
    registry = Registry(example_repo())
    public = {incident.id for incident in registry.incident_records() if incident.public}
    return sorted({t.test_id for t in registry.test_records() if t.incident_id in public})
