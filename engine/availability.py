"""When a form takes submissions, and how many: ``opens_at``, ``closes_at``, ``capacity``,
``waitlist`` (docs/definitions.md §1).

An event registration opens on a date, closes before the event and has so many places. The
times are local wall-clock times (``2027-05-01T09:00``) in the installation's zone
(``FORMFLOW_TIMEZONE``), as an organiser writes them; the engine compares them with the moment
of the request. ``capacity`` counts the form's submissions that still hold a place: those not
in a final state and not in the workflow's ``waitlist_state``. When it is reached, a form
with ``waitlist: true`` puts further submissions into its workflow's ``waitlist_state``;
without, it refuses them (``FormUnavailable``). ``engine.services.availability`` counts under a
lock, so two applicants never take the last place both.

This module is the pure part: reading and checking the settings, and the window at a moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from engine.model import FormDefinition, WorkflowDefinition
from engine.problems import Problem

__all__ = [
    "DEFAULT_ZONE",
    "Availability",
    "Limits",
    "Status",
    "availability_problems",
    "limits_of",
    "local_moment",
    "waitlist_problems",
    "window_status",
]

DEFAULT_ZONE = ZoneInfo("Europe/Berlin")
"""The zone of ``opens_at``/``closes_at`` when the caller names none (FORMFLOW_TIMEZONE's
default)."""

Status = Literal["open", "not_yet_open", "closed", "full", "waitlist"]


@dataclass(frozen=True, slots=True)
class Limits:
    opens_at: datetime | None = None
    """Naive local wall-clock time, as written in the definition."""
    closes_at: datetime | None = None
    capacity: int | None = None
    waitlist: bool = False

    @property
    def any(self) -> bool:
        return self.opens_at is not None or self.closes_at is not None or self.capacity is not None


@dataclass(frozen=True, slots=True)
class Availability:
    """What a page or the API tells applicants: may they submit now, and how."""

    status: Status
    limits: Limits
    taken: int | None = None
    """Places held now (only when the form has a capacity)."""

    @property
    def accepts(self) -> bool:
        """Whether a submission is taken now (perhaps onto the waiting list)."""
        return self.status in ("open", "waitlist")

    @property
    def places_left(self) -> int | None:
        if self.limits.capacity is None or self.taken is None:
            return None
        return max(0, self.limits.capacity - self.taken)


def _moment(raw: Any) -> datetime | None:
    """A local ISO date-time without offset (``2027-05-01T09:00``), else None."""
    if not isinstance(raw, str) or "T" not in raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is None else None


def limits_of(form: FormDefinition) -> Limits:
    """The form's availability settings (a checked definition: no need to doubt them)."""
    source = form.source
    capacity = source.get("capacity")
    return Limits(
        opens_at=_moment(source.get("opens_at")),
        closes_at=_moment(source.get("closes_at")),
        capacity=capacity if isinstance(capacity, int) and not isinstance(capacity, bool)
        else None,
        waitlist=source.get("waitlist") is True,
    )


def availability_problems(data: dict[str, Any]) -> list[Problem]:
    """What is wrong with a form's availability settings beyond their JSON types."""
    problems: list[Problem] = []
    moments: dict[str, datetime] = {}
    for key in ("opens_at", "closes_at"):
        raw = data.get(key)
        if raw is None:
            continue
        moment = _moment(raw)
        if moment is None:
            problems.append(Problem(f"/{key}", "must be a local date and time such as "
                                               "2027-05-01T09:00 (no time zone: FORMFLOW_TIMEZONE "
                                               "applies)"))
        else:
            moments[key] = moment
    if len(moments) == 2 and moments["opens_at"] >= moments["closes_at"]:
        problems.append(Problem("/closes_at", "must be later than opens_at"))
    if data.get("waitlist") is True and data.get("capacity") is None:
        problems.append(Problem("/waitlist", "a waiting list needs a capacity", "warning"))
    return problems


def waitlist_problems(workflow: WorkflowDefinition, form: FormDefinition) -> list[Problem]:
    """A form with ``waitlist: true`` needs its workflow to name a ``waitlist_state``."""
    limits = limits_of(form)
    if not limits.waitlist or limits.capacity is None:
        return []
    if workflow.source.get("waitlist_state") is None:
        return [Problem("/waitlist_state",
                        f"form {form.id!r} keeps a waiting list: name its state in "
                        "waitlist_state")]
    return []


def local_moment(moment: datetime, zone: tzinfo) -> datetime:
    """A naive local wall-clock time of the definition as an aware moment in ``zone``."""
    return moment.replace(tzinfo=zone)


def window_status(limits: Limits, now: datetime, zone: tzinfo) -> Status:
    """``not_yet_open`` before ``opens_at``, ``closed`` from ``closes_at`` on, else ``open``."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if limits.opens_at is not None and now < local_moment(limits.opens_at, zone):
        return "not_yet_open"
    if limits.closes_at is not None and now >= local_moment(limits.closes_at, zone):
        return "closed"
    return "open"
