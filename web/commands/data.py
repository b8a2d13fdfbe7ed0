"""``formflow data``: checks of what is stored and the applicant's data rights, over
``engine.services``.

``formflow data export --email EMAIL [-o FILE]`` writes every submission and draft of the
address as one JSON document (DSGVO Art. 15, 20); ``formflow data erase (--email EMAIL |
--reference REF) --reason TEXT --yes`` erases their personal data, keeping a tombstone
(Art. 17); ``formflow data purge [--dry-run]`` applies retention and draft expiry now.
Their output names references and counts, never personal data; exports and erasures are
recorded in the audit log with the actor ``cli``.

``formflow data check`` lists the rows holding text that formflow refuses today (lone
surrogates, NUL and other control characters except tab and line breaks), written before it
was refused; ``--repair`` replaces each such character with U+FFFD, one transaction per row.
Output names rows and field paths only, never the text (it may be personal data).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

__all__ = ["data", "register"]


@click.group(cls=AppGroup)
def data() -> None:
    """Checks of the stored data; the applicants' data rights."""


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


CLI_ACTOR = "cli"


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@data.command("export")
@click.option("--email", required=True, help="The applicant's e-mail address.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON here (mode 0600) instead of to standard output.")
@with_appcontext
def export_command(email: str, output: Path | None) -> None:
    """Every submission and draft of EMAIL as one JSON document: answers with their labels,
    states, history, notifications, consents. Exit 0 also when there is none."""
    from engine.exceptions import FormflowError
    from engine.services import export_personal_data
    from web.db import get_db

    try:
        document = export_personal_data(get_db(current_app), email, actor=CLI_ACTOR)
    except FormflowError as exc:
        _fail(str(exc))
        return
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.touch(mode=0o600)
        output.write_text(text, encoding="utf-8")
    click.echo(f"{len(document['submissions'])} submission(s), {len(document['drafts'])} "
               "draft(s) exported.", err=True)


@data.command("erase")
@click.option("--email", help="Erase every submission and draft of this address.")
@click.option("--reference", help="Erase the submission with this reference.")
@click.option("--reason", required=True, help="Why (kept in the submission's history).")
@click.option("--yes", is_flag=True, help="Confirm: erasure cannot be undone.")
@with_appcontext
def erase_command(email: str | None, reference: str | None, reason: str, yes: bool) -> None:
    """Erase an applicant's personal data; a tombstone (reference, form, states, dates) and
    an `erased` event stay. Prints the references erased."""
    from engine.exceptions import FormflowError
    from engine.services import erase_by_email, erase_by_reference
    from web.db import get_db

    if (email is None) == (reference is None):
        _fail("give either --email or --reference")
    if not yes:
        _fail("erasure cannot be undone: add --yes to confirm")
    db = get_db(current_app)
    try:
        if reference is not None:
            erased = [erase_by_reference(db, reference, actor=CLI_ACTOR, reason=reason)]
        else:
            erased = erase_by_email(db, str(email), actor=CLI_ACTOR, reason=reason)
    except FormflowError as exc:
        _fail(str(exc))
        return
    for item in erased:
        click.echo(f"erased {item.reference} ({item.form_id}): {item.cancelled_notifications} "
                   f"notification(s) cancelled, {item.deleted_drafts} draft(s) deleted")
    click.echo(f"{len(erased)} submission(s) erased.", err=True)


@data.command("purge")
@click.option("--dry-run", is_flag=True, help="Only print what would be erased and deleted.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Apply retention (FORMFLOW_RETENTION_DAYS, a form's retention_days), draft expiry
    (FORMFLOW_DRAFT_DAYS) and the audit log's retention (FORMFLOW_AUDIT_DAYS) now."""
    from engine.services import purge
    from web.config import retention_settings
    from web.db import get_db

    report = purge(get_db(current_app), retention_settings(current_app.config),
                   dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
