"""Passwords without a signed-in session: "Passwort vergessen?" and the pages a set-password
link (a reset or an invitation, ``engine.services.account_links``) opens.

Why "forgotten password" is built the way it is:

* The answer is the same page whether the address belongs to anyone or not, and it takes the
  same time: looking the address up, making the link and sending the mail all happen after
  the answer has been sent (``Response.call_on_close``), so neither the words nor the timing
  tell whether an account exists.
* Requests are limited per address (``RATELIMIT_PASSWORD_RESET``, whoever asks: a mailbox
  cannot be flooded) and per client (``RATELIMIT_PASSWORD_RESET_IP``); both limits count
  every request, known address or not, so the limits tell nothing either.
* Deactivated users get no mail; the link is valid for an hour and works once, and setting a
  password through it ends every session of the user.

The link's secret sits in the path (``/password/set/<token>``): ``web.access_log`` writes it
as ``[token]`` and the page sends no ``Referer`` (``Referrer-Policy: no-referrer``).
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    abort,
    copy_current_request_context,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from engine.exceptions import FormflowError, InvalidInput, NotFound
from engine.services.account_links import (
    LinkInvalid,
    check_link,
    issue_link,
    set_password_with_link,
)
from engine.services.users import MIN_PASSWORD_LENGTH, WeakPassword, normalise_email
from web.account import weak_password_message
from web.account_mail import send_link_mail
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db as database
from web.limits import limiter

__all__ = ["bp", "send_reset_mail"]

bp = Blueprint("password", __name__, url_prefix="/password")
log = logging.getLogger(__name__)


def _address_key() -> str:
    raw = (request.form.get("email") or "").strip().lower()[:254]
    return f"reset-address|{raw}"


def _address_limit() -> str:
    return str(current_app.config["RATELIMIT_PASSWORD_RESET"])


def _ip_limit() -> str:
    return str(current_app.config["RATELIMIT_PASSWORD_RESET_IP"])


def send_reset_mail(app: Flask, email: str, language: str) -> bool:
    """Mail a reset link to the active user ``email``; False (and nothing sent) for an
    unknown, malformed or deactivated address. Mail errors are logged, not raised."""
    try:
        issued = issue_link(database(), email, "reset")
    except (NotFound, InvalidInput):
        return False
    try:
        send_link_mail(app, issued, language)
    except Exception:  # noqa: BLE001 - after the answer: nobody to tell but the log
        log.exception("the password reset mail to user %s could not be sent", issued.user.id)
    return True


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"], scope="reset-address")
@limiter.limit(_ip_limit, key_func=get_remote_address, methods=["POST"], scope="reset-ip")
def forgot() -> ResponseReturnValue:
    if not current_app.config.get("LOCAL_LOGIN", True):
        abort(404)  # passwords are switched off: the provider is where to recover
    if request.method == "GET":
        return render_template("auth/forgot.html", lang=page_language(), sent=False)
    email = (request.form.get("email") or "").strip()[:254]
    try:
        normalise_email(email)
    except InvalidInput:
        page = render_template("auth/forgot.html", lang=page_language(), sent=False,
                               email=email, error=_("Please enter a valid email address."))
        return make_response(page, 422)
    language = page_language()

    @copy_current_request_context
    def send() -> None:
        send_reset_mail(current_app, email, language)

    response = make_response(render_template("auth/forgot.html", lang=language, sent=True))
    response.call_on_close(send)
    return response


def _set_page(token: str, status: int = 200, **extra: object) -> ResponseReturnValue:
    try:
        link, user = check_link(database(), token)
    except LinkInvalid:
        page = render_template("auth/link_invalid.html", lang=page_language())
        response = make_response(page, 404)
    else:
        page = render_template("auth/set_password.html", lang=page_language(),
                               email=user.email, purpose=link.purpose,
                               min_password=MIN_PASSWORD_LENGTH, **extra)
        response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/set/<token>")
def set_form(token: str) -> ResponseReturnValue:
    return _set_page(token)


@bp.post("/set/<token>")
def set_password(token: str) -> ResponseReturnValue:
    new = request.form.get("new_password") or ""
    if new != (request.form.get("repeat_password") or ""):
        return _set_page(token, 422, error=_("The two new passwords are not the same."))
    try:
        set_password_with_link(database(), token, new)
    except LinkInvalid:
        return _set_page(token)
    except WeakPassword as exc:
        return _set_page(token, 422, error=weak_password_message(exc))
    except FormflowError:
        return _set_page(token, 422, error=_("The password could not be set."))
    flash(_("Your password has been set. Please sign in."), "notice")
    return redirect(url_for("auth.login"))
