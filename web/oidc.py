"""Single sign-on with OpenID Connect (Authlib's Flask client; authorization code flow with
PKCE), when FORMFLOW_OIDC_ISSUER, FORMFLOW_OIDC_CLIENT_ID and FORMFLOW_OIDC_CLIENT_SECRET are
set (``web.account_settings``).

* The login page offers "Mit … anmelden"; ``/login/sso`` sends the browser to the provider
  (state, nonce and a S256 code challenge kept in the session by Authlib) and
  ``/login/sso/callback`` takes the code back, checks the ID token (signature, issuer,
  audience, nonce) and reads the claims of the ID token and the userinfo endpoint.
* Roles come from the claim FORMFLOW_OIDC_ROLES_CLAIM (default ``groups``) mapped by
  FORMFLOW_OIDC_ROLE_MAP (``group=role,…``); who the user is here, and whether they may in,
  is ``engine.services.single_sign_on.provider_user``. Someone refused sees a page saying why
  (403), in the page language.
* The second factor is the provider's business: a user signed in here skips the local code.
* Signing out ends the session here and then sends the browser to the provider's
  ``end_session_endpoint`` (RP-initiated logout) with the ID token as hint, back to the login
  page afterwards; the pages' ``form-action`` policy names the provider's origin for that.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from requests import RequestException

from engine.services.single_sign_on import SignInRefused, provider_user
from web.account_settings import oidc_enabled
from web.auth import complete_login, safe_next
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db as database
from web.security import CONTENT_SECURITY_POLICY

__all__ = ["ID_TOKEN_KEY", "bp", "init_app", "logout_url"]

bp = Blueprint("oidc", __name__, url_prefix="/login/sso")
log = logging.getLogger(__name__)

EXTENSION_KEY = "formflow_oidc"
CLIENT_NAME = "provider"
ID_TOKEN_KEY = "oidc_id_token"
NEXT_KEY = "oidc_next"
DEFAULT_SCOPES = "openid email profile"


def init_app(app: Flask) -> None:
    """Register the provider client and the routes when single sign-on is configured."""
    config = app.config
    if not oidc_enabled(config):
        return
    oauth = OAuth(app)
    issuer = str(config["OIDC_ISSUER"]).rstrip("/")
    oauth.register(
        CLIENT_NAME,
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": str(config.get("OIDC_SCOPES") or DEFAULT_SCOPES),
                       "code_challenge_method": "S256"},
    )
    app.extensions[EXTENSION_KEY] = oauth
    app.register_blueprint(bp)
    app.after_request(_allow_logout_at_provider)


def _allow_logout_at_provider(response: Response) -> Response:
    """The sign-out form posts here and is redirected to the provider's end-session
    endpoint; browsers apply the page's ``form-action`` to that redirect, so the provider's
    origin joins ``'self'`` there (registered after ``web.security``, so it runs first)."""
    parts = urlsplit(str(current_app.config["OIDC_ISSUER"]))
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if "form-action 'self'" in policy and origin not in policy:
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origin}")
    return response


def _client() -> Any:
    return current_app.extensions[EXTENSION_KEY].create_client(CLIENT_NAME)


def _base_url() -> str:
    return str(current_app.config.get("BASE_URL") or "").rstrip("/")


def _refused(reason: str, status: int = 403) -> ResponseReturnValue:
    messages = {
        "no_role": _("Your account at the sign-in service has no role in formflow. Please ask "
                     "an administrator to give you access."),
        "inactive": _("Your formflow account is deactivated. Please ask an administrator."),
        "unverified_email": _("An account with your email address exists, but the sign-in "
                              "service does not confirm the address. Please ask an "
                              "administrator."),
        "no_email": _("The sign-in service sent no email address. Please ask an "
                      "administrator."),
        "failed": _("The sign-in service did not confirm your sign-in. Please try again."),
    }
    page = render_template("auth/sso_refused.html", lang=page_language(),
                           message=messages.get(reason, messages["failed"]), reason=reason)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
def start() -> ResponseReturnValue:
    session[NEXT_KEY] = safe_next(request.args.get("next")) or ""
    try:
        return _client().authorize_redirect(f"{_base_url()}/login/sso/callback")
    except (OAuthError, RequestException, ValueError):
        log.exception("the sign-in service cannot be reached")
        return _refused("failed", 502)


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    client = _client()
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        extra = dict(client.userinfo(token=token))
    except (OAuthError, RequestException, ValueError, KeyError) as exc:
        log.warning("single sign-on failed: %s", exc)
        return _refused("failed", 400)
    if extra.get("sub") == claims.get("sub"):
        claims = {**extra, **claims}
    config = current_app.config
    granted = claims.get(str(config.get("OIDC_ROLES_CLAIM") or "groups")) or []
    if isinstance(granted, str):
        granted = [granted]
    role_map: dict[str, str] = dict(config.get("OIDC_ROLE_MAP") or {})
    roles = {role_map[str(group)] for group in granted if str(group) in role_map}
    try:
        record = provider_user(
            database(), issuer=str(config["OIDC_ISSUER"]).rstrip("/"),
            subject=str(claims.get("sub") or ""), email=claims.get("email"),
            email_verified=claims.get("email_verified") is True, roles=roles,
        )
    except SignInRefused as refusal:
        log.info("single sign-on refused (%s) for subject %s", refusal.reason,
                 claims.get("sub"))
        return _refused(refusal.reason)
    target = safe_next(str(session.get(NEXT_KEY) or "")) or None
    response = complete_login(record, target)
    id_token = token.get("id_token")
    if isinstance(id_token, str):
        session[ID_TOKEN_KEY] = id_token
    return response


def logout_url(id_token: str | None) -> str | None:
    """Where to send a browser after signing out here: the provider's end-session endpoint
    (with the ID token and the way back to the login page), or None."""
    if not id_token or EXTENSION_KEY not in current_app.extensions:
        return None
    try:
        metadata = _client().load_server_metadata()
    except (OAuthError, RequestException, ValueError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token,
                       "post_logout_redirect_uri": f"{_base_url()}/login",
                       "client_id": current_app.config["OIDC_CLIENT_ID"]})
    return f"{endpoint}?{query}"
