"""Secrets in URLs stay out of the access log.

An applicant's status page (``/status/<token>``) and a draft's resume link
(``/resume/<token>``) carry their only key in the path, and access logs write every path —
Werkzeug's development server under ``formflow run`` (logger ``werkzeug``) and gunicorn's
``--access-logfile`` (logger ``gunicorn.access``), whose lines also carry the ``Referer`` a
status page sends with its assets. Anyone who can read the logs could otherwise open the
applicants' pages.

:func:`init_app` adds one :class:`logging.Filter` to both loggers; it rewrites each record's
message with the token replaced by ``[token]`` (``/status/[token]``) and leaves everything
else — the method, the rest of the path, the status, the query string — as it was. The paths
are listed in :data:`SECRET_PATHS`; a test checks that every route with a ``token`` argument
is among them.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

__all__ = ["ACCESS_LOGGERS", "SECRET_PATHS", "RedactSecrets", "init_app", "redact"]

SECRET_PATHS = ("/status/", "/resume/", "/password/set/")
"""Paths whose next segment is a secret token."""
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
REDACTED = "[token]"

_SECRET_SEGMENT = re.compile(
    "(" + "|".join(re.escape(path) for path in SECRET_PATHS) + r")[^\s\"'?#/]+"
)


def redact(text: str) -> str:
    """``text`` with the token of every secret path replaced by ``[token]``."""
    return _SECRET_SEGMENT.sub(lambda found: found.group(1) + REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with its tokens redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_filter = RedactSecrets()
"""One instance, so that adding it for every app adds it once (``Logger.addFilter``)."""


def init_app(app: Flask) -> None:
    """Redact secret paths in the access logs of the servers that may run ``app``."""
    for name in ACCESS_LOGGERS:
        logging.getLogger(name).addFilter(_filter)
