"""A signed-in staff user's own account: who they are (roles by name), their password and their
second factor.

* Changing the password needs the current one; the new one must pass the rules of
  ``engine.services.users.check_password`` and the page names the rule it failed. Every other
  session of the user ends (the session generation moves on); this one is signed in again.
* Enrolling a second factor shows a new secret (QR code and text), kept in the session until a
  code confirms it; then the ten recovery codes are shown once (``Cache-Control: no-store``).
* Users who signed in with single sign-on have no local password to change here.
"""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import InvalidInput
from engine.services.two_factor import recovery_codes_left
from engine.services.users import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    WeakPassword,
    change_password,
)
from web.auth import complete_login, login_required
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db as database
from web.two_factor_view import enrolment_context, enrolment_step

__all__ = ["bp", "weak_password_message"]

bp = Blueprint("account", __name__, url_prefix="/account")

ENROL_SECRET_KEY = "account_enrol_secret"


def weak_password_message(exc: InvalidInput) -> str:
    """The rule a refused new password broke, in the page language."""
    if isinstance(exc, WeakPassword) and exc.rule == "common":
        return _("This password is too common: it is on a list of frequently used "
                 "passwords. Please choose another one.")
    if isinstance(exc, WeakPassword) and exc.rule == "too_long":
        return _("The new password is too long: it may have at most %(n)s characters.",
                 n=MAX_PASSWORD_LENGTH)
    return _("The new password is too short: it needs at least %(n)s characters.",
             n=MIN_PASSWORD_LENGTH)


def _page(status: int = 200, **extra: object) -> ResponseReturnValue:
    record = current_user.record
    page = render_template(
        "auth/account.html", lang=page_language(), section="account",
        has_password=record.password_hash is not None,
        has_second_factor=record.has_second_factor,
        codes_left=recovery_codes_left(database(), record.id)
        if record.has_second_factor else 0,
        min_password=MIN_PASSWORD_LENGTH, **extra,
    )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@login_required
def page() -> ResponseReturnValue:
    return _page(changed=request.args.get("changed") == "1")


@bp.post("/password")
@login_required
def password() -> ResponseReturnValue:
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    if new != (request.form.get("repeat_password") or ""):
        return _page(422, password_error=_("The two new passwords are not the same."))
    try:
        record = change_password(database(), current_user.record.id, current, new)
    except WeakPassword as exc:
        return _page(422, password_error=weak_password_message(exc))
    except InvalidInput:
        return _page(422, password_error=_("The current password is wrong."))
    complete_login(record, None)  # this session goes on; every other one has ended
    return redirect(url_for("account.page", changed="1"))


@bp.route("/two-factor", methods=["GET", "POST"])
@login_required
def two_factor() -> ResponseReturnValue:
    record = current_user.record
    if record.has_second_factor:
        return redirect(url_for("account.page"))
    enrolment = enrolment_step(record.id, ENROL_SECRET_KEY)
    if enrolment.codes is not None:
        response = make_response(render_template(
            "auth/recovery_codes.html", codes=enrolment.codes, lang=page_language(),
            continue_url=url_for("account.page"),
        ))
        response.headers["Cache-Control"] = "no-store"
        return response
    error = enrolment.error
    context = enrolment_context(enrolment.secret, record.email,
                                _("QR code for your authenticator app"))
    response = make_response(render_template(
        "auth/enrol.html", error=error, forced=False, action=url_for("account.two_factor"),
        lang=page_language(), section="account", **context,
    ), 200 if error is None else 422)
    response.headers["Cache-Control"] = "no-store"
    return response
