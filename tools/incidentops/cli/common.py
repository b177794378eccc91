"""Shared CLI plumbing: the error boundary, --root / --as-of / --format options."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from incidentops.records.clock import parse_as_of
from incidentops.records.errors import IncidentOpsError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def tolerant_streams() -> None:
    """Let stdout and stderr print any text, whatever the terminal's encoding.

    A character the terminal cannot show (an arrow in a reason on a latin-1 or
    ASCII terminal) is printed as a backslash escape rather than raising
    ``UnicodeEncodeError`` after a command already wrote its files: no command
    reports failure for what it did.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # closed or detached: nothing to print to
                reconfigure(errors="backslashreplace")


def run_cli(cli: click.Group, argv: list[str] | None) -> int:
    """Run the click group; map user errors to 2, bugs to 3, Ctrl-C to 130."""
    tolerant_streams()
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


def by_option(func: F) -> F:
    return click.option(
        "--by",
        default=None,
        metavar="NAME",
        help="Who is making the change, recorded as the decision's `by`. Default: git config user.name.",
    )(func)


def requester(root: Path, by: str | None) -> str:
    """The person making a change: ``--by`` when given, else the git user (the lifecycle commands' requester).

    Raises the user error asking for ``--by`` when neither is known: a decision is
    never recorded without the person who made it.
    """
    if by is not None:
        name = " ".join(by.split())
        if not name:
            raise IncidentOpsError("--by is empty", "give the name of the person making the change")
        return name
    from incidentops.lifecycle.history import current_user

    try:
        return current_user(root)
    except IncidentOpsError:
        raise IncidentOpsError(
            "cannot tell who is making this change: git config user.name is unset",
            'pass --by "Your Name", or set `git config --global user.name "Your Name"`',
        ) from None


__all__ = ["as_of_option", "by_option", "parse_as_of", "requester", "root_option", "run_cli", "tolerant_streams"]
