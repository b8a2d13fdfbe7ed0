"""What the applicant's browser session remembers: which draft it is working on, and the
submission it has just made.

The session is Flask's signed cookie. It holds only what already belongs to this applicant
(their draft's resume token and the address its link was mailed to, their submission's status
token); answers themselves stay on the server, in the draft (``engine.services.save_draft``).
Losing the cookie loses nothing: the resume link brings the draft back into any browser.
"""

from __future__ import annotations

from typing import Any

from flask import session

__all__ = [
    "draft_token",
    "forget_draft",
    "forget_submission",
    "last_submission",
    "link_mailed_to",
    "remember_draft",
    "remember_link_mailed",
    "remember_submission",
]

DRAFTS = "drafts"
MAILED = "mailed"
SUBMITTED = "submitted"


def draft_token(form_id: str) -> str | None:
    token = session.get(DRAFTS, {}).get(form_id)
    return token if isinstance(token, str) and token else None


def remember_draft(form_id: str, token: str) -> None:
    drafts = dict(session.get(DRAFTS, {}))
    if drafts.get(form_id) != token:
        forget_draft(form_id)  # another draft: what was mailed for the old one is moot
        drafts[form_id] = token
        session[DRAFTS] = drafts


def forget_draft(form_id: str) -> None:
    for key in (DRAFTS, MAILED):
        entries = dict(session.get(key, {}))
        if entries.pop(form_id, None) is not None:
            session[key] = entries


def remember_link_mailed(form_id: str, address: str) -> None:
    """The draft's resume link is on its way to ``address`` (shown on the "saved" page)."""
    mailed = dict(session.get(MAILED, {}))
    if mailed.get(form_id) != address:
        mailed[form_id] = address
        session[MAILED] = mailed


def link_mailed_to(form_id: str) -> str | None:
    address = session.get(MAILED, {}).get(form_id)
    return address if isinstance(address, str) and address else None


def remember_submission(form_id: str, reference: str, token: str) -> None:
    submitted = dict(session.get(SUBMITTED, {}))
    submitted[form_id] = {"reference": reference, "token": token}
    session[SUBMITTED] = submitted


def last_submission(form_id: str) -> dict[str, Any] | None:
    found = session.get(SUBMITTED, {}).get(form_id)
    if isinstance(found, dict) and found.get("reference") and found.get("token"):
        return found
    return None


def forget_submission(form_id: str) -> None:
    """The applicant starts a new application: the first step no longer recalls the last."""
    submitted = dict(session.get(SUBMITTED, {}))
    if submitted.pop(form_id, None) is not None:
        session[SUBMITTED] = submitted
