"""The built site in real headless Chromium (Debian's, never a downloaded browser).

* Browsing from file://: dashboard -> incident -> postmortem -> linked test ->
  audit log, search, sorting and filtering, with every request recorded: none
  may leave file://.
* XSS: payloads in every text field of the records; no script runs, no dialog
  opens, no javascript: link or event handler attribute exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from site_support import AS_OF, built_example, copy_registry, workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")

PAYLOAD = (
    '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2;alert(2)">'
    '[click](javascript:window.__xss=3) <a href="javascript:alert(4)">a</a> </title><script>alert(5)</script>'
    '<svg onload="alert(6)"></svg> "><iframe src="javascript:alert(7)"></iframe> {: onclick="alert(8)" }'
    " <details open ontoggle=\"alert(9)\"></details>"
)


def _launch(playwright):
    if not CHROMIUM.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (scripts/ensure-chromium installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (scripts/ensure-chromium installs it)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = _launch(playwright)
        yield chromium
        chromium.close()


class Recorder:
    """A page that records every request and dialog."""

    def __init__(self, browser, scheme: str = "light") -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10000)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

        def dismiss(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", dismiss)

    def remote(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    def close(self) -> None:
        self.context.close()


def _url(site: Path, page: str) -> str:
    return (site / page).as_uri()


def test_browse_search_sort_and_filter_offline(browser):
    built = built_example()
    assert built.result.code == 0, built.result.err
    ARTIFACTS.mkdir(exist_ok=True)
    tab = Recorder(browser)
    page = tab.page
    page.goto(_url(built.site, "index.html"))
    page.wait_for_selector("text=Incident operations dashboard")
    assert page.locator(".io-card").count() == 5
    assert page.locator("svg.io-chart__svg").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="INC_001", exact=True).first.click()
    page.wait_for_selector("h1:has-text('INC_001: Phishing template')")
    assert page.url.endswith("/incidents/INC_001/index.html")
    page.screenshot(path=str(ARTIFACTS / "incident.png"), full_page=True)

    page.locator("a.io-postmortem-link").click()
    page.wait_for_selector("h1:has-text('Postmortem of INC_001')")
    assert page.locator("h2#contributing-factors").count() == 1

    page.locator("a.io-test-link", has_text="regression_INC_001").first.click()
    page.wait_for_selector("h1:has-text('regression_INC_001')")
    assert page.locator("text=must block here").count() == 1

    page.locator("nav a", has_text="Audit log").first.click()
    page.wait_for_selector("h1:has-text('Audit log')")
    assert page.locator("td", has_text="RETIRE_REGRESSION").count() == 1

    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("INC_001", delay=30)
    result = page.locator(".md-search-result__item").first
    result.wait_for(timeout=15000)
    assert "INC_001" in page.locator(".md-search-result").inner_text()

    page.goto(_url(built.site, "incidents/index.html"))
    page.locator(".io-filter input").fill("SEV-0")
    visible = page.locator(".io-sortable tbody tr:visible")
    assert visible.count() == 1 and "INC_006" in visible.first.inner_text()
    page.locator(".io-filter input").fill("")
    page.locator("th", has_text="Severity").click()
    assert "SEV-0" in page.locator(".io-sortable tbody tr").first.inner_text()

    assert tab.remote() == [], tab.remote()
    assert tab.dialogs == []
    tab.close()

    dark = Recorder(browser, "dark")
    dark.page.goto(_url(built.site, "index.html"))
    dark.page.wait_for_selector("text=Incident operations dashboard")
    assert dark.page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    dark.page.screenshot(path=str(ARTIFACTS / "dashboard-dark.png"), full_page=True)
    assert dark.remote() == []
    dark.close()


# --- XSS --------------------------------------------------------------------------------


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _poison(root: Path) -> None:
    """Put the payload into every text field of INC_001, its postmortem, handoff, test and an audit entry."""
    p = PAYLOAD

    def incident(d):
        d.update(title=f"XSS {p}", summary=f"{p}\n\n{p}", reported_by=p, attack_vector=p, tags=[p],
                 severity_rationale=p, severity_override={"reason": p, "approver": p})
        d["timeline"] = [{"at": e["at"], "event": p} for e in d["timeline"]]
        d["escalations"] = [{"team": p, "at": e["at"]} for e in d["escalations"]]

    _edit_yaml(root / "incidents/INC_001/incident.yaml", incident)

    def handoff(d):
        d.update(incident_summary=p, notes=[p], action_items=[p])
        d["regression_test"]["scenario"] = p

    _edit_yaml(root / "incidents/INC_001/handoff.yaml", handoff)

    def test(d):
        d.update(scenario=p, turns=[p, p, p], owner=p)
        d["decisions"] = [{**x, "reason": p, "by": p} for x in d["decisions"]]

    _edit_yaml(root / "regressions/regression_INC_001.yaml", test)
    for audit in (root / "audit").glob("*.yaml"):
        _edit_yaml(audit, lambda d: d.update(reason=p, approver=p, requested_by=p, test_id="regression_INC_001"))
    postmortem = root / "incidents/INC_001/postmortem.md"
    front, _, body = postmortem.read_text(encoding="utf-8").removeprefix("---\n").partition("\n---\n")
    data = yaml.safe_load(front)
    data.update(attendees=[p], contributing_factors=[p])
    data["action_items"] = [{**a, "description": p, "owner": p, "tracker": "javascript:alert(10)"}
                            for a in data["action_items"]]
    body = f"## {p}\n\n{p}\n\n[link](javascript:alert(11))\n\n<div onmouseover=alert(12)>x</div>\n\n{body}"
    postmortem.write_text("---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n" + body,
                          encoding="utf-8")
    (root / "reviews").mkdir(exist_ok=True)
    (root / "reviews" / "2026-Q4.yaml").write_text(yaml.safe_dump({
        "quarter": "2026-Q4", "status": "open", "notes": p,
        "tests": [{"test_id": "regression_INC_001", "incident_id": "INC_001", "decision": "KEEP",
                   "reasons": [p], "justification": p, "reason": p, "approver": p}],
    }), encoding="utf-8")
    (root / "releases").mkdir(exist_ok=True)
    (root / "releases" / "xss.yaml").write_text(yaml.safe_dump({
        "name": "xss", "decided_at": "2026-11-01T10:00:00Z", "decision": "BLOCK", "commit": None,
        "model_version": p, "suite": p, "score": 0.5, "tests_run": 1,
        "tests": [{"test_id": "regression_INC_001", "state": "ACTIVE", "blocking": True, "outcome": p,
                   "verdict": p, "reason": p}],
        "blocking": [{"test_id": "regression_INC_001", "reason": p}], "missing": [p], "flaky": [],
        "warnings": [{"test_id": "regression_INC_001", "message": p}],
    }), encoding="utf-8")


@pytest.fixture(scope="module")
def xss_site() -> Path:
    root = copy_registry(workspace() / "xss-registry")
    _poison(root)
    site = workspace() / "xss-site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "INCIDENTOPS_AS_OF": AS_OF}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(site)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return site


XSS_PAGES = ("index.html", "incidents/index.html", "incidents/INC_001/index.html",
             "incidents/INC_001/postmortem.html", "regressions/index.html", "regressions/regression_INC_001.html",
             "audit.html", "releases/index.html", "releases/xss.html", "reviews/index.html", "reviews/2026-Q4.html")

_AUDIT_DOM = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (attr.name.toLowerCase().startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attr.name.toLowerCase())
          && value.startsWith('javascript:')) bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
    }
  }
  // the search worker shim's own iframe is hidden and has no src
  for (const el of document.querySelectorAll('iframe[src], iframe:not([hidden]), object, embed')) bad.push(el.tagName);
  return {bad, xss: window.__xss === undefined ? null : window.__xss};
}"""


def test_xss_payloads_stay_text(browser, xss_site):
    tab = Recorder(browser)
    page = tab.page
    for name in XSS_PAGES:
        page.goto(_url(xss_site, name))
        page.wait_for_load_state("load")
        page.wait_for_timeout(100)
        found = page.evaluate(_AUDIT_DOM)
        assert found == {"bad": [], "xss": None}, name
    page.goto(_url(xss_site, "incidents/INC_001/index.html"))
    heading = page.locator("h1").inner_text()
    assert "<script>window.__xss=1;alert(1)</script>" in heading  # shown as text, not run or dropped
    assert "</title>" not in page.title() or "<script>" not in page.content().split("</title>")[1][:20]
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("XSS", delay=30)
    page.locator(".md-search-result__item").first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    assert page.evaluate(_AUDIT_DOM) == {"bad": [], "xss": None}
    assert tab.dialogs == []
    assert tab.remote() == [], tab.remote()
    tab.close()


def test_artifacts_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "test-artifacts/dashboard.png"], cwd=REPO)
    if shutil.which("git") and (REPO / ".git").exists():
        assert ignored.returncode == 0
