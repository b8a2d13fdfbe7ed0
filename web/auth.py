"""Sign-in for staff (coordinators, administrators): Flask-Login sessions over the user service.

Who may do what is decided in ONE place: :func:`roles_required` (and :func:`login_required`,
its "any signed-in staff user" form). Views of every blueprint decorate themselves with these;
an anonymous browser is sent to the login page (302, ``next`` kept), a signed-in user without
the role gets 403. The ``admin`` role passes every role check, as it does for transitions.

Why the details look the way they do:

* Passwords are checked by :func:`engine.services.authenticate_user` (argon2, constant work for
  unknown emails), and the page says only "wrong email or password" (German: "E-Mail oder
  Passwort falsch") — never which of the two.
* Failed logins are throttled per client IP *and* email with the shared limiter
  (``RATELIMIT_LOGIN``, default 5 per minute) plus a looser per-IP limit
  (``RATELIMIT_LOGIN_IP``) against spraying many emails; a successful login costs nothing.
* Sessions end on the server, not only in the browser (Flask-Login's "alternative id"
  pattern): the session — and a remember-me cookie — stores
  ``"<user id>:<session generation>:<signed in at>"``. The user loader honours it only while
  the generation is still the user's and the sign-in is younger than ``SESSION_HOURS``
  (FORMFLOW_SESSION_HOURS, default 12), checked on every request with the database's clock.
  Signing out, a new password, losing a role and deactivation raise the generation
  (``engine.services``), which ends every session of the user on every device: a copied
  cookie is worthless afterwards. Flask-Login's "strong" session protection also drops a
  session whose IP/agent fingerprint changes.
* ``next`` is followed only when it is a local path (``/inbox?x=1``), never ``//host`` or a
  URL with a scheme, so the login page cannot be used as an open redirect.
* Logout is a POST with a CSRF token: a link or an image elsewhere cannot sign anyone out.
* Sign-in may take a second step (``web.login_steps``): a user with a second factor types a
  code, a user who must have one (``FORMFLOW_REQUIRE_2FA``) enrols first. Between the steps
  the session holds only a pending sign-in (user, session generation, when), never a login.
* After signing in, a coordinator (and an administrator, who holds every role) lands on the
  inbox, whose navigation reaches everything their roles open; anyone else on their account
  page. Role ids are shown by their translated names (:func:`role_name`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from engine.records import UserRecord
from engine.services import authenticate_user, end_sessions, get_user_by_id
from web import account_settings, limits
from web.account_settings import oidc_enabled, second_factor_required
from web.config import DEFAULT_SESSION_HOURS
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db as database
from web.limits import limiter

__all__ = [
    "ADMIN_ROLE",
    "after_password",
    "complete_login",
    "landing_url",
    "pending_login",
    "role_name",
    "role_names",
    "DEFAULT_LOGIN_IP_LIMIT",
    "DEFAULT_LOGIN_LIMIT",
    "LOGIN_FAILED_MESSAGE",
    "StaffUser",
    "bp",
    "init_app",
    "login_manager",
    "login_required",
    "roles_required",
    "safe_next",
]


def N_(msgid: str) -> str:  # noqa: N802 - the marker name pybabel extracts by default
    """Mark ``msgid`` for extraction; it is translated where it is shown, with ``_``."""
    return msgid


ADMIN_ROLE = "admin"
DEFAULT_LOGIN_LIMIT = "5 per minute"
"""Failed logins per client IP and email address."""
DEFAULT_LOGIN_IP_LIMIT = "30 per minute"
"""Failed logins per client IP whatever the email: stops trying one password on many accounts."""
LOGIN_FAILED_MESSAGE = N_("Wrong email or password.")
LOCAL_LOGIN_OFF_MESSAGE = N_("Please sign in with single sign-on.")
ROLE_NAMES = {"coordinator": N_("Coordination"), "admin": N_("Administration")}
"""The built-in roles by name; custom workflow roles are shown as they are written."""
PENDING_KEY = "pending_login"
PENDING_SECONDS = 300
"""How long the second step of a sign-in (code or enrolment) may take."""
SESSION_EXPIRED_MESSAGE = N_("The form has expired. Please sign in again.")
DEFAULT_AFTER_LOGIN = "coordinator.inbox"

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.session_protection = "strong"


class StaffUser(UserMixin):  # type: ignore[misc]  # flask_login ships no type hints
    """The signed-in person as the web layer sees them: a :class:`UserRecord` and its roles,
    and when they signed in (seconds since the epoch, by the database's clock)."""

    def __init__(self, record: UserRecord, signed_in_at: int) -> None:
        self.record = record
        self.signed_in_at = signed_in_at

    @property
    def id(self) -> int:  # noqa: A003 - the name Flask-Login and templates expect
        return self.record.id

    @property
    def email(self) -> str:
        return self.record.email

    @property
    def roles(self) -> tuple[str, ...]:
        return self.record.roles

    @property
    def is_active(self) -> bool:
        return self.record.active

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.record.roles

    def get_id(self) -> str:
        """What the session and a remember-me cookie keep: see :func:`_load_user`."""
        return f"{self.record.id}:{self.record.session_generation}:{self.signed_in_at}"

    def has_role(self, *roles: str) -> bool:
        """True for an admin, or when the user holds any of ``roles`` (none given: anyone)."""
        return self.is_admin or not roles or any(role in self.record.roles for role in roles)


def role_name(role: str) -> str:
    """A role as people read it, in the page language ("Koordination"), never its id."""
    known = ROLE_NAMES.get(role)
    return _(known) if known is not None else role


def role_names(roles: Any) -> str:
    """Template filter: the roles' names, separated by commas."""
    return ", ".join(role_name(str(role)) for role in roles)


def landing_url(record: UserRecord) -> str:
    """Where a user lands after signing in: the inbox when their roles open it (its
    navigation reaches the administration for admins), else their account page."""
    if ADMIN_ROLE in record.roles or "coordinator" in record.roles:
        return url_for(DEFAULT_AFTER_LOGIN)
    return url_for("account.page")


def complete_login(record: UserRecord, target: str | None) -> ResponseReturnValue:
    """Sign ``record`` in (a fresh session, keeping only the page language) and go on."""
    language = session.get("lang")
    session.clear()  # nothing from before the login survives into it ...
    if language:
        session["lang"] = language  # ... but the chosen page language
    login_user(StaffUser(record, _now()))
    return redirect(target or landing_url(record))


def begin_pending(record: UserRecord, target: str | None, step: str) -> None:
    """Remember a sign-in waiting for its second ``step`` (``code`` or ``enrol``)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[PENDING_KEY] = {"user": record.id, "generation": record.session_generation,
                            "at": _now(), "next": target or "", "step": step}


def pending_login(step: str) -> tuple[UserRecord, str | None] | None:
    """The user (and ``next``) of a pending sign-in at ``step`` still in time, or None."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("step") != step:
        return None
    try:
        user_id, generation, at = (int(pending[k]) for k in ("user", "generation", "at"))
    except (KeyError, TypeError, ValueError):
        return None
    if _now() - at > PENDING_SECONDS:
        return None
    record = get_user_by_id(database(), user_id)
    if record is None or not record.active or record.session_generation != generation:
        return None
    return record, safe_next(str(pending.get("next") or ""))


def after_password(record: UserRecord, target: str | None) -> ResponseReturnValue:
    """The password was right: the second step when there is one, else signed in."""
    if record.has_second_factor:
        begin_pending(record, target, "code")
        return redirect(url_for("login_steps.code"))
    if second_factor_required(current_app.config, record.roles):
        begin_pending(record, target, "enrol")
        return redirect(url_for("login_steps.enrol"))
    return complete_login(record, target)


def local_login_allowed(record: UserRecord) -> bool:
    """Passwords work unless FORMFLOW_LOCAL_LOGIN=false; then only for break-glass users."""
    return bool(current_app.config.get("LOCAL_LOGIN", True)) or record.local_login


def session_lifetime() -> timedelta:
    """How long a sign-in lasts (``SESSION_HOURS``), whatever the user does meanwhile."""
    return timedelta(hours=float(current_app.config["SESSION_HOURS"]))


def _now() -> int:
    return int(database().now().timestamp())


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    """The user of a session (or remember-me cookie), or None: signed out.

    Called on every request that looks at the user. ``session_id`` is what
    :meth:`StaffUser.get_id` returned at sign-in; the session ended when the user's session
    generation has moved on since, the user is inactive, or the sign-in is too old.
    """
    try:
        user_id, generation, signed_in_at = (int(part) for part in session_id.split(":"))
    except ValueError:  # a malformed or older kind of session: signed out
        return None
    # StorageUnavailable propagates: a database outage is a 503, not a silent sign-out
    record = get_user_by_id(database(), user_id)
    if record is None or not record.active or record.session_generation != generation:
        return None
    if _now() - signed_in_at >= session_lifetime().total_seconds():
        return None
    return StaffUser(record, signed_in_at)


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    """Browsers go to the login page and come back afterwards; other clients get 401."""
    if _wants_html():
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=here))
    abort(401)


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json" or request.accept_mimetypes.accept_html


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users holding one of ``roles`` (any role when none is named; ``admin``
    always) reach the view: anonymous → login (302, or 401 for non-HTML clients), others 403.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_roles = roles  # type: ignore[attr-defined]  # for introspection
        return cast(F, guarded)

    return decorator


def login_required(view: F) -> F:
    """Any signed-in staff user (coordinator, administrator or a custom role)."""
    return roles_required()(view)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/inbox?page=2``), else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # browsers read "/\host" as "//host"; control characters get stripped
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: logging out must be a deliberate POST from our own page."""


def _login_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"{get_remote_address()}|{email}"


def _login_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN") or DEFAULT_LOGIN_LIMIT)


def _login_ip_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN_IP") or DEFAULT_LOGIN_IP_LIMIT)


def _login_failed(response: Any) -> bool:
    """Only failed attempts count against the limit: a redirect means the login worked."""
    return not 300 <= int(response.status_code) < 400


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, key_func=_login_key, methods=["POST"], deduct_when=_login_failed,
    scope="login-ip-email",
)
@limiter.limit(
    _login_ip_limit, key_func=get_remote_address, methods=["POST"], deduct_when=_login_failed,
    scope="login-ip",
)
def login() -> ResponseReturnValue:
    form = LoginForm()
    target = safe_next(request.args.get("next") or form.next.data)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or landing_url(current_user.record))
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            record = authenticate_user(database(), form.email.data or "", form.password.data or "")
            if record is not None and not local_login_allowed(record):
                error = _(LOCAL_LOGIN_OFF_MESSAGE)
            elif record is not None:
                return after_password(record, target)
            else:
                error = _(LOGIN_FAILED_MESSAGE)
        elif _csrf_errors(form):
            error = _(SESSION_EXPIRED_MESSAGE)
        else:
            error = _(LOGIN_FAILED_MESSAGE)
    form.next.data = target or ""
    form.password.data = ""
    return _login_page(form, error)  # 200: a form shown again (401 would need a challenge)


@bp.errorhandler(CSRFError)
def _expired_form(_exc: CSRFError) -> ResponseReturnValue:
    """A stale or missing token on the login form: show the form again, not an error page."""
    return _login_page(_refilled_login_form(), _(SESSION_EXPIRED_MESSAGE)), 400


def _refilled_login_form() -> LoginForm:
    form = LoginForm(formdata=None)
    form.next.data = safe_next(request.args.get("next") or request.form.get("next")) or ""
    form.email.data = request.form.get("email", "")[:254]
    return form


def _login_page(form: LoginForm, error: str | None) -> str:
    config = current_app.config
    return render_template(
        "auth/login.html", form=form, error=error, lang=page_language(),
        local_login=bool(config.get("LOCAL_LOGIN", True)),
        oidc_name=config.get("OIDC_NAME") if oidc_enabled(config) else None,
    )


def _csrf_errors(form: FlaskForm) -> bool:
    field = getattr(form, form.meta.csrf_field_name, None)
    return bool(field is not None and field.errors)


@bp.errorhandler(TooManyRequests)
def _too_many_attempts(exc: TooManyRequests) -> ResponseReturnValue:
    form = _refilled_login_form()
    message = _("Too many sign-in attempts. Please wait a minute and try again.")
    response = current_app.make_response((_login_page(form, message), 429))
    retry_after = exc.response.headers.get("Retry-After") if exc.response else None
    response.headers["Retry-After"] = retry_after or "60"
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    from web.oidc import ID_TOKEN_KEY, logout_url

    id_token = session.get(ID_TOKEN_KEY)
    if current_user.is_authenticated:
        # Server-side: this session, its copies and the user's other sessions end now.
        end_sessions(database(), current_user.record.id)
    logout_user()
    session.clear()
    # Signed in through the provider: sign out there too (RP-initiated logout).
    return redirect(logout_url(id_token if isinstance(id_token, str) else None)
                    or url_for("auth.login"))


def logout_form() -> LogoutForm:
    """For templates: the CSRF-protected logout button (``{{ logout_form().hidden_tag() }}``)."""
    return LogoutForm()


def _current_user_context() -> dict[str, Any]:
    return {"current_user": current_user}


def init_app(app: Flask) -> None:
    """Sign-in for ``app``: session cookie hardening, the login manager and the login pages."""
    config = app.config
    if config.get("SESSION_COOKIE_SAMESITE") is None:
        config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_HTTPONLY"] = True
    if config.get("ENV") == "production":
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    config.setdefault("SESSION_HOURS", DEFAULT_SESSION_HOURS)
    # A remember-me cookie lasts no longer than a sign-in (the loader checks the age anyway).
    # PERMANENT_SESSION_LIFETIME stays Flask's: applicants' sessions keep their drafts longer.
    config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(hours=float(config["SESSION_HOURS"])))
    config.setdefault("RATELIMIT_LOGIN", DEFAULT_LOGIN_LIMIT)
    config.setdefault("RATELIMIT_LOGIN_IP", DEFAULT_LOGIN_IP_LIMIT)
    account_settings.init_app(app)  # second factor, local passwords, single sign-on
    limits.init_app(app)  # idempotent: the login throttle needs the shared limiter bound
    # Templates get the lazy proxy instead of Flask-Login's processor (a documented option of
    # ``init_app``), which loads the user for every page: on an applicant's page that meant
    # the "strong" session protection rewriting the session cookie on every request.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(_current_user_context)
    from web import account, login_steps, oidc, password_pages  # routes of this sign-in

    app.register_blueprint(bp)
    app.register_blueprint(login_steps.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(password_pages.bp)
    oidc.init_app(app)
    app.jinja_env.globals.setdefault("logout_form", logout_form)
    app.add_template_filter(role_names)
    app.add_template_filter(role_name)

