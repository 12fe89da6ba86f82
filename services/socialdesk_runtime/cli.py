"""``socialdesk``: the operator's command line (console script of the project).

One typer app with a sub-app per area, so later commands (``replay``, ``republish``,
``outbox``, ``redrive`` of dead letters) join as siblings of ``config``.

Usage::

    socialdesk config check deploy/config/socialdesk.example.yaml

Exit codes: 0 the file is usable, 1 it was refused (every problem printed with its file
and line), 2 the command line was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from socialdesk_runtime.config import ConfigError, load_config
from socialdesk_runtime.outbox_cli import outbox_app
from socialdesk_runtime.republish import republish_command

__all__ = ["app", "main"]

app = typer.Typer(name="socialdesk", no_args_is_help=True, add_completion=False)
config_app = typer.Typer(no_args_is_help=True, help="The deployment's configuration file.")
app.add_typer(config_app, name="config")
app.command("republish")(republish_command)
app.add_typer(outbox_app, name="outbox")


@config_app.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="The YAML file to check, e.g. deploy/config/socialdesk.yaml.")],
) -> None:
    """Load FILE as the services would; list every problem with its line, and unset secrets."""
    try:
        cfg = load_config(file)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: OK ({len(cfg.brands)} brands, {len(cfg.agents)} agents)")
    for missing in cfg.missing_secrets():
        typer.echo(f"  not set in this environment: {missing}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app on ``argv`` (default: the process arguments) and return its exit code."""
    try:
        app(args=None if argv is None else list(argv), prog_name="socialdesk")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
