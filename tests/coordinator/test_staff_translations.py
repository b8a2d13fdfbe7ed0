"""Every word of the sign-in and coordinator pages is in the German and English catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
STAFF_SOURCES = [
    ("auth.py", "python"),
    ("account.py", "python"),
    ("login_steps.py", "python"),
    ("password_pages.py", "python"),
    ("oidc.py", "python"),
    ("templates/_staff_nav.html", "jinja2"),
    ("coordinator/**.py", "python"),
    ("templates/auth/**.html", "jinja2"),
    ("templates/coordinator/**.html", "jinja2"),
]


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_staff_message_is_translated(language: str) -> None:
    msgids = {m for _, _, m, _, _ in extract_from_dir(str(WEB), STAFF_SOURCES)}
    assert "Wrong email or password." in msgids  # N_-marked constants are extracted too
    path = WEB / "translations" / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=language)
    words = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(str(m) for m in msgids if m not in words) == []
    if language == "de":
        assert words["Wrong email or password."] == "E-Mail oder Passwort falsch."
        assert words["Inbox"] == "Eingang"
