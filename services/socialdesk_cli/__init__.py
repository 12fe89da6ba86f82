"""``socialdesk``: the operator's one command line, over every service's commands.

The runtime may not import a service (services talk only through topics), so the
commands that belong to a service live with it (``socialdesk_ingest.cli``,
``socialdesk_notifier.cli``) and this small package, which imports nothing but their
command-line modules, mounts them beside the runtime's own::

    socialdesk config check deploy/config/socialdesk.example.yaml
    socialdesk republish --since 2h          # outbox rows again, after a broker lost data
    socialdesk outbox refused                # rows the broker refused for good, parked
    socialdesk outbox retry --service ingest # ... back at the end of the outbox
    socialdesk replay --since 2h             # stored webhook deliveries, extracted again
    socialdesk deliveries failed             # replies and pages the notifier gave up on
    socialdesk deliveries redrive --all
    socialdesk freshdesk backfill            # Freshdesk tickets for open tickets (issue 13)
    socialdesk freshdesk reconcile

``make`` installs it as ``.venv/bin/socialdesk``.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from socialdesk_ingest.cli import replay_command
from socialdesk_notifier.cli import app as deliveries_app
from socialdesk_notifier.freshdesk.cli import app as freshdesk_app
from socialdesk_runtime.cli import config_app
from socialdesk_runtime.outbox_cli import outbox_app
from socialdesk_runtime.republish import republish_command

__all__ = ["app", "main"]

app = typer.Typer(name="socialdesk", no_args_is_help=True, add_completion=False)
app.add_typer(config_app, name="config")
app.command("republish")(republish_command)
app.add_typer(outbox_app, name="outbox")
app.command("replay")(replay_command)
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(freshdesk_app, name="freshdesk")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app on ``argv`` (default: the process arguments) and return its exit code."""
    try:
        app(args=None if argv is None else list(argv), prog_name="socialdesk")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0
