"""Staff accounts: invite users, change roles, (de)activate, links, second factors, API tokens.

Everything goes through the user services (``engine.services.users``,
``engine.services.staff``, ``engine.services.account_links``, ``engine.services.two_factor``):
tokens and links are stored only as hashes, and the last active administrator cannot be
demoted or deactivated. An administrator never sees or types anyone's password: a new user is
invited by mail (a set-password link valid 7 days, which can be sent again), and a user who
forgot theirs can be sent a reset link. Removing a user's second factor lets them enrol anew.
A new API token is shown exactly once, on the page answering the POST that made it
(``Cache-Control: no-store``), and never again — revoking is by the token's number.
"""

from __future__ import annotations

import logging
import re

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import AlreadyExists, InvalidInput, NotFound
from engine.records import UserRecord
from engine.services import create_api_token, list_published
from engine.services.account_links import IssuedLink, invite_user, issue_link
from engine.services.loading import workflow_of
from engine.services.staff import (
    change_user_active,
    list_users,
    revoke_token_of,
    set_user_roles,
    tokens_of,
)
from engine.services.two_factor import reset_second_factor
from engine.services.users import KNOWN_ROLES
from web.account_mail import send_link_mail
from web.admin.common import bp, database
from web.admin.text import gettext as _
from web.admin.text import page_language
from web.auth import roles_required

__all__: list[str] = []

_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
log = logging.getLogger(__name__)


def _roles_in_use() -> list[str]:
    """Built-in roles and every role a published workflow names, for the role checkboxes."""
    db = database()
    roles = set(KNOWN_ROLES)
    for record in list_published(db, "workflow"):
        roles.update(r for t in workflow_of(db, record).transitions for r in t.roles)
    return sorted(roles)


def _page(status: int = 200, **extra: object) -> ResponseReturnValue:
    db = database()
    users = list_users(db)
    tokens = {user.id: tokens_of(db, user.email) for user in users}
    roles = sorted(set(_roles_in_use()) | {r for u in users for r in u.roles})
    response = make_response(render_template(
        "admin/users.html", users=users, tokens=tokens, roles=roles, **extra,
    ), status)
    if "new_token" in extra:
        response.headers["Cache-Control"] = "no-store"
    return response


def _user(user_id: int) -> UserRecord:
    for user in list_users(database()):
        if user.id == user_id:
            return user
    abort(404)


def _chosen_roles() -> list[str]:
    chosen = set(request.form.getlist("roles"))
    extra = request.form.get("other_roles", "")
    chosen.update(part.strip() for part in extra.split(",") if part.strip())
    return sorted(chosen)


def _role_problem(roles: list[str]) -> str | None:
    if not roles:
        return _("Choose at least one role.")
    bad = [r for r in roles if not _ROLE.match(r)]
    if bad:
        return _("Not a role name: %(roles)s (lowercase letters, digits and '_').",
                 roles=", ".join(bad))
    return None


@bp.get("/users")
@roles_required("admin")
def users() -> ResponseReturnValue:
    return _page()


def _mail(issued: IssuedLink) -> bool:
    """Send the link's mail in the page language; False (and a flashed problem) on failure."""
    try:
        send_link_mail(current_app, issued, page_language())
    except Exception:  # noqa: BLE001 - SMTP down or misconfigured: the admin can send again
        log.exception("the set-password mail to user %s could not be sent", issued.user.id)
        flash(_("The mail to %(email)s could not be sent. Please check the mail settings and "
                "send it again.", email=issued.user.email), "error")
        return False
    return True


@bp.post("/users")
@roles_required("admin")
def create() -> ResponseReturnValue:
    email = (request.form.get("email") or "").strip()
    roles = _chosen_roles()
    problem = _role_problem(roles)
    if problem is None:
        try:
            issued = invite_user(database(), email, roles, actor=current_user.email)
        except AlreadyExists:
            problem = _("A user with this email address already exists.")
        except InvalidInput as exc:
            problem = {
                "email": _("Please enter a valid email address."),
            }.get(exc.field, _("Please check the roles."))
        else:
            if _mail(issued):
                flash(_("%(email)s was invited: the invitation mail with a link to set a "
                        "password (valid for 7 days) was sent.", email=issued.user.email),
                      "notice")
            return redirect(url_for("admin.users"))
    return _page(422, create_error=problem, create_email=email, create_roles=roles)


@bp.post("/users/<id:user_id>/link")
@roles_required("admin")
def send_link(user_id: int) -> ResponseReturnValue:
    """An invitation again (no password set yet) or a reset link (valid 60 minutes)."""
    user = _user(user_id)
    if not user.active:
        abort(409)
    purpose = "invite" if user.password_hash is None else "reset"
    issued = issue_link(database(), user.email, purpose, actor=current_user.email)
    if _mail(issued):
        flash(_("The invitation was sent to %(email)s again.", email=user.email)
              if purpose == "invite"
              else _("A link to set a new password was sent to %(email)s.", email=user.email),
              "notice")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/two-factor/reset")
@roles_required("admin")
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    if reset_second_factor(database(), user.email, actor=current_user.email):
        flash(_("The second factor of %(email)s was removed; they set up a new one.",
                email=user.email), "notice")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/roles")
@roles_required("admin")
def roles(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    chosen = _chosen_roles()
    problem = _role_problem(chosen)
    if problem is None:
        try:
            set_user_roles(database(), user.email, chosen, actor=current_user.email)
        except InvalidInput:
            problem = _("At least one active administrator must remain.")
    if problem is not None:
        return _page(422, user_error=problem, error_user=user.id)
    flash(_("The roles of %(email)s were changed.", email=user.email), "notice")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/active")
@roles_required("admin")
def active(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    wanted = request.form.get("active") == "1"
    try:
        change_user_active(database(), user.email, wanted, actor=current_user.email)
    except InvalidInput:
        return _page(422, user_error=_("At least one active administrator must remain."),
                     error_user=user.id)
    flash(_("%(email)s was activated.", email=user.email) if wanted
          else _("%(email)s was deactivated.", email=user.email), "notice")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/tokens")
@roles_required("admin")
def new_token(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    token, record = create_api_token(database(), user.email, actor=current_user.email)
    return _page(201, new_token=token, new_token_user=user, new_token_id=record.id)


@bp.post("/users/<id:user_id>/tokens/<id:token_id>/revoke")
@roles_required("admin")
def revoke(user_id: int, token_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    try:
        revoke_token_of(database(), user.email, token_id, actor=current_user.email)
    except NotFound:
        abort(404)
    flash(_("Token %(id)s of %(email)s was revoked.", id=token_id, email=user.email), "notice")
    return redirect(url_for("admin.users"))
