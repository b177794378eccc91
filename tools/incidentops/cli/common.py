"""Shared CLI plumbing: the error boundary, --root / --as-of / --format options."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from incidentops.clock import parse_as_of
from incidentops.errors import IncidentOpsError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def run_cli(cli: click.Group, argv: list[str] | None) -> int:
    """Run the click group; map user errors to 2, bugs to 3, Ctrl-C to 130."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="incidentops", standalone_mode=False)
    except IncidentOpsError as exc:
        click.echo(f"incidentops: error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the one place bugs are caught
        if debug:
            traceback.print_exc()
        click.echo(
            f"incidentops: internal error: {type(exc).__name__}: {exc}\n"
            "  This is a bug in incidentops. Please report it with the command you ran"
            " (re-run with --debug for the traceback).",
            err=True,
        )
        return EXIT_INTERNAL
    return int(result or 0)


def root_option(func: F) -> F:
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Registry root (the folder holding incidentops.yaml). Default: found upwards from the current folder.",
    )(func)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE",
        help="Judge time-dependent rules as of this date or timestamp (UTC). Default: now.",
    )(func)


__all__ = ["as_of_option", "parse_as_of", "root_option", "run_cli"]
