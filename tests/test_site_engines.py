"""The two engines build the same site: MkDocs + Material (the plugin) and Zensical (`--engine zensical`).

Both build the example registry for real (the MkDocs site is the session's
shared build); the Zensical site is then opened in headless Chromium from
file://: chart colours, search, and no request to another host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from conftest import run_cli
from incidentops.site.zensical_engine import SEARCH_TOKEN_BUDGET, exclude_from_search, search_tokens
from site_support import AS_OF, built_example, example_repo, site_text, workspace

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
ENGINE_FILES = re.compile(r"^(search/|search\.js|search\.json|sitemap\.xml|.*\.gz$)")


@cache
def zensical_site(public: bool = False) -> Path:
    site = workspace() / ("zensical-public" if public else "zensical")
    # --strict: the example builds without a warning of Zensical's
    result = run_cli("site", "build", "--engine", "zensical", "--strict", "--as-of", AS_OF, "--site-dir", str(site),
                     *(["--public"] if public else []), cwd=example_repo())
    assert result.code == 0, result.err
    assert f"Built the {'public' if public else 'internal'} site with Zensical in" in result.err
    return site


def _pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "assets"}


def test_both_engines_build_the_same_pages():
    mkdocs = built_example().site
    assert built_example().result.code == 0
    assert _pages(zensical_site()) == _pages(mkdocs)
    assert "incidents/INC_001/postmortem.html" in _pages(mkdocs)
    assert (zensical_site() / "feed.xml").read_text(encoding="utf-8") == (mkdocs / "feed.xml").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_every_page_links_the_sites_stylesheet_and_script(engine):
    site = built_example().site if engine == "mkdocs" else zensical_site()
    for page in sorted(_pages(site)):
        text = (site / page).read_text(encoding="utf-8")
        assert re.search(r'<link[^>]+href="[./]*assets/incidentops/site\.css"', text), page
        assert re.search(r'<script[^>]+src="[./]*assets/incidentops/site\.js"', text), page
        assert re.search(r'<script[^>]+src="[./]*assets/incidentops/iframe-worker-shim\.js"', text), page
    assert (site / "assets" / "incidentops" / "site.css").is_file()


def test_a_zensical_public_edition_is_redacted_and_scanned_like_the_mkdocs_one():
    site = zensical_site(public=True)
    files = site_text(site)
    assert "search.js" in files and "feed.xml" in files
    everything = " ".join(" ".join(text.split()) for text in files.values())
    assert "INC_002" not in everything and "INC_003" not in everything  # internal incidents
    assert "Our IT director has approved an internal phishing simulation" not in everything  # redacted turns
    assert "Not published in the public edition: the attack turns" in files["regressions/regression_INC_001.html"]


def test_pages_too_large_for_zensicals_search_index_are_left_out_of_search():
    rows = "".join(f"<tr><td>INC_{n}</td><td>phishing template reframing</td></tr>" for n in range(5000))
    page = f'---\ntitle: "Incidents"\nhide:\n  - navigation\n---\n\n<table>{rows}</table>\n'
    assert search_tokens(page) > SEARCH_TOKEN_BUDGET
    assert exclude_from_search(page).startswith('---\nsearch:\n  exclude: true\ntitle: "Incidents"\nhide:\n')
    assert exclude_from_search("# No front matter\n").startswith("---\nsearch:\n  exclude: true\n---\n# No")
    assert search_tokens("<p>INC_001: phishing-template</p>") == 4


def test_a_strict_zensical_build_stops_on_a_broken_link_and_names_where_it_is(tmp_path):
    from gitrepo import GitRepo
    from site_support import copy_registry

    root = copy_registry(tmp_path / "registry")
    (root / "docs" / "runbook.md").write_text("# Runbook\n\nSee [the pager rota](pager-rota.md).\n", encoding="utf-8")
    repo = GitRepo.init(root)
    repo.git("add", "--", ".")
    repo.commit("Registry with a runbook", date="2026-11-20T09:30:00Z")
    site = tmp_path / "site"
    strict = run_cli("site", "build", "--engine", "zensical", "--strict", "--as-of", AS_OF, "--site-dir", str(site),
                     cwd=root)
    assert strict.code == 1, strict.err
    assert "Zensical stopped on 1 warning(s) (--strict): docs/runbook.md:3:22: page does not exist" in strict.err
    assert "Traceback" not in strict.err and not site.exists()
    lenient = run_cli("site", "build", "--engine", "zensical", "--as-of", AS_OF, "--site-dir", str(site), cwd=root)
    assert lenient.code == 0, lenient.err
    assert (site / "runbook" / "index.html").is_file() or (site / "runbook.html").is_file()


def test_zensical_without_zensical_installed_says_how_to_install_it(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    # a sitecustomize first on the path hides the installed package from the command
    (shim / "sitecustomize.py").write_text(
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'zensical' else real(name, *a)\n",
        encoding="utf-8")
    env = {"PYTHONPATH": f"{shim}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = run_cli("site", "build", "--engine", "zensical", "--as-of", AS_OF, "--site-dir",
                     str(tmp_path / "site"), cwd=example_repo(), env=env)
    assert result.code == 2
    assert "Zensical is not installed" in result.err and "incidentops[zensical]" in result.err
    assert not (tmp_path / "site").exists()


# --- in the browser, from file:// -----------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-chromium installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, site: Path, page_path: str = "index.html"):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((site / page_path).as_uri())
    return context, page, requests


def _chart_fills(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.io-charts svg rect')].map(r => getComputedStyle(r).fill)")


@pytest.mark.browser
def test_zensical_charts_have_the_mkdocs_colours(browser):
    fills = {}
    for engine, site in (("mkdocs", built_example().site), ("zensical", zensical_site())):
        context, page, _ = _open(browser, site)
        fills[engine] = _chart_fills(page)
        context.close()
    assert fills["zensical"] == fills["mkdocs"]
    colours = set(fills["zensical"]) - {"rgb(0, 0, 0)"}
    assert len(colours) >= 4, fills["zensical"]  # severities and states have their colours, not black bars


@pytest.mark.browser
def test_zensical_search_works_from_file_and_nothing_reaches_another_host(browser):
    context, page, requests = _open(browser, zensical_site())
    page.locator(".md-search__button").click()
    page.wait_for_timeout(500)
    page.keyboard.type("Phishing template", delay=30)
    # Zensical renders its search dialog in a shadow root
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot"
        " && e.shadowRoot.textContent.includes('INC_001: Phishing template'))")
    text = page.evaluate(
        "() => [...document.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot.textContent).join(' ')")
    assert re.search(r"\d+ results?", text)
    page.goto((zensical_site() / "incidents" / "INC_001" / "index.html").as_uri())
    page.wait_for_load_state("load")
    remote = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
    context.close()
    assert remote == []
    assert any(url.endswith("/search.js") for url in requests)  # the offline index, not search.json via fetch
