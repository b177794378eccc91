"""`incidentops site`: build, preview and export the registry's site."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from incidentops.cli._progress import Progress
from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.cli.reporting import render
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import Finding
from incidentops.records.registry import Registry, resolve_root
from incidentops.site import leaks, pages, settings, zensical_engine

MARKER = ".incidentops-generated"
STAGES = {"render": "Rendering pages", "page": "Building pages"}


def _config_option(func: Any) -> Any:
    return click.option(
        "--config", "-f", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="MkDocs configuration. Default: mkdocs.yml in the registry root.",
    )(func)


def _public_option(func: Any) -> Any:
    return click.option(
        "--public", is_flag=True,
        help="Public edition: leave out internal incidents and everything about them.",
    )(func)


def _site_url_option(func: Any) -> Any:
    return click.option(
        "--site-url", default=None, metavar="URL",
        help="Address the site is published at, such as https://org.github.io/registry/ (also"
             " INCIDENTOPS_SITE_URL). Default: site_url of mkdocs.yml. Gives absolute feed links, a sitemap"
             " and a 404 page that works on a sub-path.",
    )(func)


def _use_site_url(value: str | None) -> None:
    """``--site-url`` for this run: checked, then passed on as INCIDENTOPS_SITE_URL (the plugin reads it)."""
    settings.site_url(None)  # an unusable INCIDENTOPS_SITE_URL is exit 2 before anything runs
    if value is not None:
        found = settings.parse_site_url(value, "--site-url")
        if found is not None:
            os.environ[settings.ENV_SITE_URL] = found


def _config_path(config_file: Path | None, root: Path) -> Path:
    path = config_file or root / "mkdocs.yml"
    if not path.is_file():
        raise IncidentOpsError(
            f"{path}: no MkDocs configuration",
            "create mkdocs.yml (`incidentops init` writes one) or pass --config FILE",
        )
    return path


class _Steps:
    """Progress on stderr: a live counter on a terminal, a line per quarter in logs."""

    def __init__(self) -> None:
        self.live = Progress()
        self.started = time.monotonic()
        self._last: dict[str, int] = {}

    def say(self, text: str) -> None:
        self.live.done()
        click.echo(text, err=True)

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = STAGES.get(stage, stage)
        if self.live.enabled:
            self.live.show(f"{label}: {done:,}/{total:,}", force=done == total)
            return
        quarter = 4 * done // max(total, 1)
        if self._last.get(stage, -1) < quarter:
            self._last[stage] = quarter
            click.echo(f"{label}: {done:,}/{total:,}", err=True)

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"


def _read_mkdocs_yml(path: Path) -> dict[str, Any]:
    return settings.read_mkdocs_config(path)


@click.group("site")
def command() -> None:
    """Build, preview or export the registry's site (MkDocs + Material).

    \b
      incidentops site build              validate the records, then build site/
      incidentops site build --public     the public edition: no internal incident
      incidentops site build --engine zensical
                                          the same site built by Zensical
      incidentops site serve              preview; reloads when a record changes
      incidentops site generate --out generated
                                          the pages as Markdown, for other engines
    """


@command.command("generate")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the pages to (created; a folder written by an earlier run is replaced).")
@_public_option
@_site_url_option
@_config_option
@root_option
@as_of_option
def generate(out: Path, public: bool, site_url: str | None, config_file: Path | None, root: Path | None,
             as_of: str | None) -> int:
    """Write the generated pages as plain Markdown into OUT.

    OUT becomes a complete docs folder: the hand-written pages of docs_dir, the
    pages generated from the registry, the feed and the assets. Engines that do
    not run MkDocs plugins build the same site from it: point their docs_dir at
    OUT (for Zensical, `site build --engine zensical` does all of it).
    """
    root_dir = resolve_root(root)
    public = settings.env_public() or public
    _use_site_url(site_url)
    config_path = config_file or root_dir / "mkdocs.yml"
    config = _read_mkdocs_yml(config_path) if config_path.is_file() else {"docs_dir": str(root_dir / "docs")}
    moment = parse_as_of(as_of)
    steps = _Steps()
    registry = Registry(root_dir)
    history, note = pages.read_history(root_dir, moment, registry.policy_record)
    if note and history is None:
        click.echo(f"incidentops: warning: {note}", err=True)
    rendered = pages.render(
        registry, moment, public=public,
        options=settings.site_options(config, root_dir), history=history, history_note=note,
        progress=lambda done, total: steps("render", done, total),
    )
    files = rendered.files
    docs_dir = Path(config["docs_dir"])
    hand_written: list[tuple[Path, str]] = []
    if docs_dir.is_dir() and docs_dir.resolve() != out.resolve():
        for source in sorted(docs_dir.rglob("*")):
            relative = source.relative_to(docs_dir).as_posix()
            if source.is_file() and relative not in files:
                hand_written.append((source, relative))
    if public:
        scan = leaks.for_edition(rendered.data, registry, docs_dir)
        found = scan.files(files)
        for source, relative in hand_written:
            if relative.endswith(leaks.TEXT_SUFFIXES):
                found.extend(scan.text(relative, source.read_text(encoding="utf-8", errors="replace")))
        if found:
            return _refuse_leaks(steps, sorted(found, key=Finding.sort_key), "writing nothing")
    _prepare_out(out)
    copied = 0
    for source, relative in hand_written:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    steps.say(f"Wrote {len(files)} generated and {copied} hand-written file(s) to {out} in {steps.elapsed()}.")
    return 0


def _prepare_out(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise IncidentOpsError(f"--out {out}: not a folder", "pass a folder name")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise IncidentOpsError(
                f"--out {out}: the folder is not empty and was not written by `incidentops site generate`",
                "pass a new or empty folder (its content is replaced on every run)",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Written by `incidentops site generate`; replaced on every run.\n", encoding="utf-8")


def _mkdocs_logging() -> logging.Handler:
    """Show MkDocs' warnings and errors on stderr (its CLI would, its Python API does not)."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


class _ChecksFailed(Exception):
    """Raised inside the build to stop it as soon as the background check reports errors."""


def _lower_priority() -> None:
    """Let the build have the CPU first: the check only needs to be done by the time it ends."""
    os.nice(10)


class _BackgroundCheck:
    """`incidentops check` in its own process, running while the site builds.

    The site is built into a staging folder and only moved into place once the
    check has passed: a site is never published from records with errors, and
    the check costs no wall-clock time on a machine with a spare core.
    """

    def __init__(self, root: Path, as_of: str, *, cached: bool = True) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "incidentops", "check", "--format", "json", "--root", str(root),
             "--as-of", as_of, *([] if cached else ["--no-cache"])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env={**os.environ, "NO_COLOR": "1"}, preexec_fn=_lower_priority if hasattr(os, "nice") else None,
        )

    def failed(self) -> bool:
        """Whether the check has finished with errors (never waits)."""
        return self.proc.poll() not in (None, 0)

    def errors(self) -> tuple[list[Finding], str]:
        """Wait for the check: its error findings, or the message of a check that could not run."""
        out, err = self.proc.communicate()
        if self.proc.returncode == 0:
            return [], ""
        try:
            findings = [Finding(**item) for item in json.loads(out or "[]")]
        except (ValueError, TypeError):
            findings = []
        errors = [f for f in findings if f.is_error]
        return errors, "" if errors else (err.strip() or f"`incidentops check` exited with {self.proc.returncode}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def _refuse_leaks(steps: _Steps, found: list[Finding], outcome: str) -> int:
    steps.say(render(found, "text"))
    steps.say(f"incidentops: {len(found)} leak(s) in the public edition: {outcome}.")
    steps.say("  hint: a public page may name public records only and holds no PII; fix the records named above")
    return 1


def _refuse(steps: _Steps, errors: list[Finding], message: str) -> int:
    if errors:
        steps.say(render(errors, "text"))
        steps.say(f"incidentops: {len(errors)} error(s) in the records: not building the site.")
    else:
        steps.say(message)
        steps.say("incidentops: the records could not be checked: not building the site.")
    steps.say("  hint: fix them (`incidentops check` lists them), then build again")
    return 1


@command.command("build")
@_public_option
@click.option("--engine", type=click.Choice(zensical_engine.ENGINES), default="mkdocs", show_default=True,
              help="Static site engine: mkdocs (MkDocs + Material, the incidentops plugin) or zensical"
                   " (Zensical, Material's successor; needs the zensical extra). Both build the same site.")
@_site_url_option
@click.option("--strict", is_flag=True, help="Fail on MkDocs warnings too (broken links, missing pages...).")
@click.option("--site-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to build. Default: site_dir of mkdocs.yml (site/).")
@_config_option
@root_option
@as_of_option
def build(public: bool, engine: str, site_url: str | None, strict: bool, site_dir: Path | None,
          config_file: Path | None, root: Path | None, as_of: str | None) -> int:
    """Validate every record and build the site.

    The records are checked (as `incidentops check` does) while the site is
    built into a staging folder; the site replaces site/ only when the check
    finds no error. With errors, it exits 1 and site/ is left as it was.
    Progress goes to stderr.

    \b
      incidentops site build --engine zensical --site-dir site
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    root_dir = resolve_root(root)
    config_path = _config_path(config_file, root_dir)
    moment = parse_as_of(as_of)
    public = settings.env_public() or public  # an unknown INCIDENTOPS_PUBLIC is exit 2 before anything runs
    _use_site_url(site_url)
    if engine == "zensical":
        return _build_zensical(root_dir, config_path, site_dir, moment, public, strict)
    steps = _Steps()
    overrides: dict[str, Any] = {"config_file": str(config_path), "strict": strict or None}
    if site_dir is not None:
        overrides["site_dir"] = str(site_dir.resolve())
    try:
        cfg = load_config(**overrides)
    except MkDocsException as exc:
        raise IncidentOpsError(f"{config_path}: {exc}", "fix the MkDocs configuration") from exc
    plugin = cfg.plugins.get("incidentops")
    if plugin is None:
        raise IncidentOpsError(
            f"{config_path}: the incidentops plugin is not enabled",
            "add `- incidentops` under `plugins:` in mkdocs.yml",
        )
    registry = Registry(root_dir)
    public = public or bool(plugin.config.public)  # type: ignore[attr-defined]
    edition = "public" if public else "internal"
    steps.say(f"Checking {len(registry.all_paths())} record file(s) while the site builds...")
    # a public build computes its own PII and credential verdicts: nothing kept between runs counts
    check = _BackgroundCheck(root_dir, moment.isoformat(), cached=not public)
    final = Path(cfg.site_dir)
    staging = final.parent / f".{final.name}.building-{os.getpid()}"
    handler = _mkdocs_logging()

    def progress(stage: str, done: int, total: int) -> None:
        if check.failed():
            handler.setLevel(logging.CRITICAL)  # the findings say what is wrong, not a build error
            raise _ChecksFailed
        steps(stage, done, total)

    try:
        shutil.rmtree(staging, ignore_errors=True)
        cfg["site_dir"] = str(staging)
        plugin.registry = registry  # type: ignore[attr-defined]
        plugin.progress = progress  # type: ignore[attr-defined]
        plugin.say = lambda note: steps.say(f"incidentops: warning: {note}")  # type: ignore[attr-defined]
        plugin.raise_on_leaks = False  # type: ignore[attr-defined]
        plugin.config.public = public  # type: ignore[attr-defined]
        plugin.config.as_of = moment.isoformat()
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(cfg)
        finally:
            cfg.plugins.on_shutdown()
        errors, problem = check.errors()
        if errors or problem:
            return _refuse(steps, errors, problem)
        found: list[Finding] = list(plugin.leaks)  # type: ignore[attr-defined]
        if found:
            return _refuse_leaks(steps, found, f"not publishing it, {final} is left as it was")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except _ChecksFailed:
        return _refuse(steps, *check.errors())
    except MkDocsException as exc:
        errors, problem = check.errors()
        if errors or problem:
            return _refuse(steps, errors, problem)
        steps.say(f"incidentops: the site build failed: {exc}")
        return 1
    finally:
        check.stop()
        logging.getLogger("mkdocs").removeHandler(handler)
        shutil.rmtree(staging, ignore_errors=True)
    steps.say(f"Records are valid. Built the {edition} site in {final} in {steps.elapsed()}.")
    return 0


def _build_zensical(root: Path, config_path: Path, site_dir: Path | None, moment: datetime, public: bool,
                    strict: bool = False) -> int:
    """`site build --engine zensical`: the same checks, staging and leak refusal as the MkDocs build."""
    if not zensical_engine.available():
        raise IncidentOpsError("--engine zensical: Zensical is not installed", zensical_engine.INSTALL_HINT)
    config = settings.read_mkdocs_config(config_path)
    final = (site_dir or config_path.resolve().parent / str(config.get("site_dir") or "site")).resolve()
    registry = Registry(root)
    edition = "public" if public else "internal"
    steps = _Steps()
    steps.say(f"Checking {len(registry.all_paths())} record file(s) while Zensical builds the site...")
    check = _BackgroundCheck(root, moment.isoformat(), cached=not public)
    staging = final.parent / f".{final.name}.building-{os.getpid()}"
    try:
        try:
            built = zensical_engine.build(
                registry, config_path, staging, moment, public=public, strict=strict, progress=steps,
                say=lambda note: steps.say(f"incidentops: warning: {note}"),
            )
        except IncidentOpsError as exc:
            errors, problem = check.errors()
            if errors or problem:
                return _refuse(steps, errors, problem)
            if isinstance(exc, zensical_engine.StrictWarnings):  # as a --strict MkDocs build: exit 1
                steps.say(f"incidentops: the site build failed: {exc.message}\n  hint: {exc.hint}")
                return 1
            raise
        errors, problem = check.errors()
        if errors or problem:
            return _refuse(steps, errors, problem)
        if built.leaks:
            return _refuse_leaks(steps, built.leaks, f"not publishing it, {final} is left as it was")
        if built.unsearchable:
            steps.say(f"Left out of search (too large for Zensical's index): {', '.join(built.unsearchable)}")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        check.stop()
        shutil.rmtree(staging, ignore_errors=True)
    steps.say(f"Records are valid. Built the {edition} site with Zensical in {final} in {steps.elapsed()}.")
    return 0


@command.command("serve")
@_public_option
@click.option("--dev-addr", default=None, metavar="IP:PORT", help="Address to serve on. Default: 127.0.0.1:8000.")
@_config_option
@root_option
@as_of_option
def serve(public: bool, dev_addr: str | None, config_file: Path | None, root: Path | None, as_of: str | None) -> int:
    """Preview the site; it rebuilds when a record or a page changes."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    root_dir = resolve_root(root)
    config_path = _config_path(config_file, root_dir)
    settings.env_public()  # an unknown INCIDENTOPS_PUBLIC is exit 2, not an internal preview
    if public:
        os.environ[settings.ENV_PUBLIC] = "1"
    if as_of:
        os.environ[settings.ENV_AS_OF] = parse_as_of(as_of).isoformat()
    handler = _mkdocs_logging()
    handler.setLevel(logging.INFO)
    try:
        kwargs: dict[str, Any] = {"config_file": str(config_path), "livereload": True}
        if dev_addr:
            kwargs["dev_addr"] = dev_addr
        mkdocs_serve(**kwargs)
    except MkDocsException as exc:
        click.echo(f"incidentops: the site could not be served: {exc}", err=True)
        return 1
    finally:
        logging.getLogger("mkdocs").removeHandler(handler)
    return 0
