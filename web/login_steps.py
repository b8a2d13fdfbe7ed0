"""The second step of a local sign-in: a one-time code (or a recovery code), or — when
``FORMFLOW_REQUIRE_2FA`` asks for a second factor the user does not have yet — enrolling one.

The password step (``web.auth``) leaves only a pending sign-in in the session (user, session
generation, when; :func:`web.auth.pending_login`); nothing here signs anyone in before the
code is right. Wrong codes are throttled per user (``RATELIMIT_LOGIN``), so guessing six digits
is hopeless within the few minutes a pending sign-in lasts. A code is accepted once
(``engine.services.two_factor``).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import TooManyRequests

from engine.services.two_factor import verify_second_factor
from web.auth import DEFAULT_LOGIN_LIMIT, complete_login, landing_url, pending_login
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db as database
from web.limits import limiter
from web.two_factor_view import enrolment_context, enrolment_step

__all__ = ["bp"]

bp = Blueprint("login_steps", __name__, url_prefix="/login")

ENROL_SECRET_KEY = "enrol_secret"


def _code_key() -> str:
    pending = session.get("pending_login")
    user = pending.get("user") if isinstance(pending, dict) else None
    return f"second-factor|{user}"


def _code_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN") or DEFAULT_LOGIN_LIMIT)


def _failed(response: object) -> bool:
    status = int(getattr(response, "status_code", 200))
    return not 300 <= status < 400


def _expired() -> ResponseReturnValue:
    return redirect(url_for("auth.login"))


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(_code_limit, key_func=_code_key, methods=["POST"], deduct_when=_failed,
               scope="second-factor")
def code() -> ResponseReturnValue:
    found = pending_login("code")
    if found is None:
        return _expired()
    record, target = found
    error = None
    if request.method == "POST":
        typed = (request.form.get("code") or "").strip()
        if verify_second_factor(database(), record.id, typed):
            return complete_login(record, target)
        error = _("This code is not valid. Please enter the current code of your app or "
                  "one of your recovery codes.")
    page = render_template("auth/code.html", error=error, lang=page_language())
    return make_response(page, 200 if error is None else 422)


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(_code_limit, key_func=_code_key, methods=["POST"], deduct_when=_failed,
               scope="second-factor")
def enrol() -> ResponseReturnValue:
    found = pending_login("enrol")
    if found is None:
        return _expired()
    record, target = found
    enrolment = enrolment_step(record.id, ENROL_SECRET_KEY)
    if enrolment.codes is not None:
        complete_login(record, target)  # signed in; the codes are shown once, first
        response = make_response(render_template(
            "auth/recovery_codes.html", codes=enrolment.codes,
            continue_url=target or landing_url(record), lang=page_language()))
        response.headers["Cache-Control"] = "no-store"
        return response
    error = enrolment.error
    context = enrolment_context(enrolment.secret, record.email,
                                _("QR code for your authenticator app"))
    page = render_template("auth/enrol.html", error=error, forced=True,
                           action=url_for("login_steps.enrol"), lang=page_language(),
                           **context)
    return make_response(page, 200 if error is None else 422)


@bp.errorhandler(TooManyRequests)
def _too_many(_exc: TooManyRequests) -> ResponseReturnValue:
    page = render_template(
        "auth/code.html", lang=page_language(),
        error=_("Too many wrong codes. Please wait a minute and try again."),
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = "60"
    return response
