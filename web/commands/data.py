"""``formflow data``: checks of what is stored, over ``engine.services``.

``formflow data check`` lists the rows holding text that formflow refuses today (lone
surrogates, NUL and other control characters except tab and line breaks), written before it
was refused; ``--repair`` replaces each such character with U+FFFD, one transaction per row.
Output names rows and field paths only, never the text (it may be personal data).
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

__all__ = ["data", "register"]


@click.group(cls=AppGroup)
def data() -> None:
    """Checks of the stored data."""


def register(main: click.Group) -> None:
    """Attach the ``data`` group to the ``formflow`` CLI (called by web.cli)."""
    main.add_command(data)


@data.command("check")
@click.option("--repair", is_flag=True,
              help="Replace each refused character with U+FFFD and print what changed.")
@with_appcontext
def check_command(repair: bool) -> None:
    """Find stored text formflow refuses today: submissions' and drafts' answers, event
    comments and outbox rows.

    Prints one line per row (KIND ID (REFERENCE): PATHS) and exits 1 when any is found;
    with --repair, repairs each row in a transaction of its own, prints the rows changed
    and exits 0.
    """
    from engine.services import find_unreadable_text, repair_unreadable_text
    from web.db import get_db

    db = get_db(current_app)
    found = find_unreadable_text(db)
    if not repair:
        for item in found:
            click.echo(item.format())
        click.echo(f"{len(found)} row(s) with refused text.", err=True)
        if found:
            sys.exit(1)
        return
    repaired = repair_unreadable_text(db, found)
    for item in repaired:
        click.echo(f"repaired {item.format()}")
    click.echo(f"{len(repaired)} row(s) repaired.", err=True)
