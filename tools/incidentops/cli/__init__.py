"""Command line: every sub-command lives in its own module of this package.

A module joins the CLI by defining ``command`` (a click command or group).
The core never prints or exits; this package does both, through ``run``: a user's
mistake is one line and a hint with exit 2, a bug exit 3. Findings are printed by
reporting (text, JSON, GitHub annotations).

May use: every other package; none uses it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import sys

import click

from incidentops import __version__

_SKIP = {"common"}


class _Group(click.Group):
    """Loads sub-command modules on first use, so `--help` lists them all."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name in _SKIP:
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            cmd = getattr(module, "command", None)
            if isinstance(cmd, click.Command):
                self.add_command(cmd)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        from incidentops.cli._examples import with_example

        with_example(cmd, name or cmd.name or "")
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # import only the module of the command asked for: start-up time matters in pre-commit
        if not self._loaded and cmd_name not in self.commands:
            module_name = cmd_name.replace("-", "")
            if not module_name.startswith("_") and module_name not in _SKIP and importlib.util.find_spec(
                f"{__name__}.{module_name}"
            ):
                cmd = getattr(importlib.import_module(f"{__name__}.{module_name}"), "command", None)
                if isinstance(cmd, click.Command) and cmd.name == cmd_name:
                    self.add_command(cmd)
                    return cmd
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        self._load()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="incidentops")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@click.option("--require-version", metavar="VERSION", default=None, is_eager=True, expose_value=False,
              callback=lambda ctx, param, value: _require_version(value),
              help="Refuse to run unless this is incidentops VERSION (what a registry's hooks pin).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Incidents, blameless postmortems and model-safety regression tests, kept as
    validated records in a git repository.

    \b
    Start here:
      incidentops init              make this repository a registry
      incidentops check             validate every record (what pre-commit runs)
      incidentops new incident      scaffold the next incident
      incidentops site build        validate, then build the site into site/
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if os.environ.get("NO_COLOR"):
        ctx.color = False  # https://no-color.org: no colour whatever the terminal


def _require_version(wanted: str | None) -> None:
    if wanted is None or wanted.strip().removeprefix("v") == __version__:
        return
    from incidentops.records.errors import IncidentOpsError

    if "--others" in sys.argv[1:]:  # the second pre-commit hook: the first one already said it all
        raise IncidentOpsError(f"incidentops {__version__} is not the pinned {wanted} (see the hook above)")
    raise IncidentOpsError(
        f"this registry is pinned to incidentops {wanted}, but incidentops {__version__} is installed",
        f"install incidentops {wanted} (see the install line in .pre-commit-config.yaml), or, to move the"
        f" registry to {__version__}, run `incidentops init --upgrade` and commit what it changes",
    )


from incidentops.cli._examples import with_example  # noqa: E402  (the group itself is defined above)

with_example(cli, "")


def main(argv: list[str] | None = None) -> None:
    from incidentops.cli.common import run_cli

    sys.exit(run_cli(cli, argv))
