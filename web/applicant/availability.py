"""A form's availability in the applicant's words: not yet open, closed, full, or onto the
waiting list (``engine.availability``; the engine decides again when the answers are sent).

Times are the definition's wall-clock times in ``FORMFLOW_TIMEZONE``, shown the way every page
shows times (``web.i18n.local_time``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from engine.availability import Availability, limits_of, local_moment
from engine.exceptions import FormUnavailable
from engine.model import FormDefinition
from engine.services.availability import availability
from web.db import get_db
from web.i18n import display_zone, local_time

__all__ = ["availability_notice", "current_availability", "refusal_of", "refusal_text"]


def current_availability(form: FormDefinition) -> Availability:
    """The published form's availability now; a form without limits needs no query."""
    limits = limits_of(form)
    if not limits.any:
        return Availability("open", limits)
    return availability(get_db(), form.id, display_zone())


def _when(moment: datetime | None) -> str:
    return local_time(moment) if moment is not None else ""


def refusal_text(reason: str, opens_at: datetime | None, closes_at: datetime | None) -> str:
    """Why the form takes no submission now, in the page language."""
    if reason == "not_yet_open" and opens_at is not None:
        return _("This form opens on %(moment)s. Please come back then.", moment=_when(opens_at))
    if reason == "closed" and closes_at is not None:
        return _("This form closed on %(moment)s and takes no more submissions.",
                 moment=_when(closes_at))
    return _("All places are taken: this form takes no more submissions.")


def availability_notice(found: Availability) -> str | None:
    """What a page says about the form now; None when nothing needs saying."""
    zone = display_zone()
    limits = found.limits
    if found.status == "waitlist":
        return _("All places are taken: new applications go onto the waiting list.")
    if found.accepts:
        return None
    return refusal_text(
        found.status,
        local_moment(limits.opens_at, zone) if limits.opens_at else None,
        local_moment(limits.closes_at, zone) if limits.closes_at else None,
    )


def refusal_of(exc: FormUnavailable) -> str:
    return refusal_text(exc.reason, exc.opens_at, exc.closes_at)
