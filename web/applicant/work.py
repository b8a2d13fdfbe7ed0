"""What an applicant's page works on: the published form, and this browser's draft of it.

Loading and saving sit apart from the views because every page needs them the same way: the
published version (a GET may take one confirmed moments ago, a POST checks), the draft the
session names (forgotten when it is gone or belongs to another form), and saving answers back —
starting a new draft when the old one was submitted elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import abort, current_app

from engine.evaluation import CompiledForm
from engine.exceptions import DraftExpired, NotFound
from engine.model import FormDefinition
from engine.services import DraftSaved, Upload, published_form, resume, save_draft
from engine.services.loading import compiled_form
from engine.text import Text, localize
from web.applicant import prefill
from web.applicant import session as applicant_session
from web.applicant.flow import answers_with_defaults
from web.db import get_db
from web.i18n import current_language

if TYPE_CHECKING:
    from engine.records import DefinitionVersionRecord

__all__ = [
    "LoadedForm",
    "Work",
    "load_form",
    "load_with_work",
    "load_work",
    "save_work",
]

_DEFINITION_SCRIPT_KEY = "formflow_definition_scripts"


@dataclass(frozen=True)
class LoadedForm:
    """The published version of a form, ready to evaluate and render."""

    record: DefinitionVersionRecord
    form: FormDefinition
    compiled: CompiledForm

    @property
    def id(self) -> str:
        return self.form.id

    def text(self, value: Text) -> str:
        return localize(value, current_language(), self.form.default_language)

    def definition(self) -> Any:
        """The definition JSON as published, for the browser's rule engine."""
        return json.loads(self.record.content)


def definition_script(record: DefinitionVersionRecord) -> bytes:
    """The version's definition as a script for the browser's rule engine
    (``formflow-form.js``): it registers the definition in ``FormflowDefinitions`` under its
    content hash, which the page names in ``data-definition``.

    A separate file rather than JSON inside every page: the version is immutable and its URL
    carries the hash, so a browser fetches it once and every step page is ~7 kB lighter.
    Built once per version and app. JSON with only ASCII characters is a valid JavaScript
    expression, and an external file has no ``</script>`` to escape.
    """
    cache: dict[str, bytes] = current_app.extensions.setdefault(_DEFINITION_SCRIPT_KEY, {})
    found = cache.get(record.content_hash)
    if found is None:
        data = json.dumps(json.loads(record.content), ensure_ascii=True, separators=(",", ":"))
        found = cache[record.content_hash] = (
            "(self.FormflowDefinitions = self.FormflowDefinitions || {})"
            f'["{record.content_hash}"] = {data};\n'
        ).encode("ascii")
    return found


@dataclass(frozen=True)
class Work:
    """The applicant's answers so far (raw, with defaults) and their draft, if any."""

    answers: dict[str, Any]
    token: str | None = None
    step: str | None = None
    carried_over: bool = False
    dropped: tuple[str, ...] = ()
    expires_at: datetime | None = None
    version: int | None = None
    """The form version the draft's answers are for: the one published when it was read."""


def load_form(form_id: str) -> LoadedForm:
    db = get_db()
    try:
        record, form = published_form(db, form_id)
    except NotFound:
        abort(404)
    return LoadedForm(record, form, compiled_form(db, record))


def load_work(loaded: LoadedForm) -> Work:
    """The draft this browser works on for the form (with the values of the form's link still
    waiting in the empty answers, ``web.applicant.prefill``); ``DraftExpired`` when expired."""
    work = _load_work(loaded)
    if prefill.waiting(loaded.id):
        work = replace(work, answers=prefill.fill_empty(work.answers, loaded.id))
    return work


def _load_work(loaded: LoadedForm) -> Work:
    token = applicant_session.draft_token(loaded.id)
    if token is None:
        return Work(answers_with_defaults(loaded.form, {}))
    try:
        resumed = resume(get_db(), token)
    except NotFound:
        applicant_session.forget_draft(loaded.id)
        return Work(answers_with_defaults(loaded.form, {}))
    except DraftExpired:
        applicant_session.forget_draft(loaded.id)
        raise
    if resumed.form_id != loaded.id:
        applicant_session.forget_draft(loaded.id)
        return Work(answers_with_defaults(loaded.form, {}))
    return Work(
        answers=answers_with_defaults(loaded.form, resumed.answers),
        token=token,
        step=resumed.step,
        carried_over=resumed.carried_over,
        dropped=resumed.dropped,
        expires_at=resumed.expires_at,
        version=resumed.form_version,
    )


def load_with_work(form_id: str) -> tuple[LoadedForm, Work]:
    """The published form and this browser's draft of it, for the same version.

    Reading the draft reads which version is published; should it differ from the form's (a
    publish between the two reads), both are loaded again.
    """
    loaded = load_form(form_id)
    work = load_work(loaded)
    if work.version is not None and work.version != loaded.record.version:
        loaded = load_form(form_id)
        work = load_work(loaded)
    return loaded, work


def save_work(
    loaded: LoadedForm,
    work: Work,
    answers: dict[str, Any],
    step: str | None,
    *,
    mail_link: bool = False,
    uploads: Sequence[Upload] = (),
) -> DraftSaved:
    """Keep ``answers`` in the draft (created on the first save); ``mail_link``: also mail the
    resume link to the applicant's address, if the answers hold one; ``uploads``: the files
    sent with the page, stored with the draft when the answers name them."""
    db = get_db()
    ttl = timedelta(days=float(current_app.config["DRAFT_DAYS"]))
    language = current_language()
    try:
        saved = save_draft(
            db, loaded.id, answers, step=step, language=language, token=work.token, ttl=ttl,
            mail_link=mail_link, uploads=uploads,
        )
    except NotFound:
        if work.token is None:
            raise
        # the draft is gone (submitted in another tab, purged): keep going with a new one
        applicant_session.forget_draft(loaded.id)
        saved = save_draft(db, loaded.id, answers, step=step, language=language, ttl=ttl,
                           mail_link=mail_link, uploads=uploads)
    except DraftExpired:
        applicant_session.forget_draft(loaded.id)
        raise
    applicant_session.remember_draft(loaded.id, saved.token)
    prefill.forget(loaded.id)  # the link's values are in the draft now
    return saved
