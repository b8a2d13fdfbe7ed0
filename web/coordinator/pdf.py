"""The PDF of a submission's print view, through WeasyPrint — an optional dependency.

WeasyPrint is imported only when a PDF is asked for (never at module import): the app runs
without it, and without its system libraries (Pango), and then the print view explains why
there is no PDF (:func:`pdf_unavailable`). Install it with ``pip install 'formflow[pdf]'`` and
the libraries named in the README.

WeasyPrint fetches every stylesheet and image the HTML names. Its fetcher here
(:func:`static_url_fetcher`, deciding through :func:`static_resource`) serves only the app's
own static files, read from the package folder, and raises for anything else — no other
file, no network request, whatever a stored answer or a definition may contain.
"""

from __future__ import annotations

import importlib
import mimetypes
from pathlib import Path
from typing import Any

from werkzeug.security import safe_join

__all__ = ["DEFAULT_MODULE", "FetchRefused", "pdf_unavailable", "render_pdf",
           "static_resource", "static_url_fetcher"]

DEFAULT_MODULE = "weasyprint"


class FetchRefused(ValueError):
    """A URL the PDF may not load: anything but the app's own static files."""


def pdf_unavailable(module_name: str = DEFAULT_MODULE) -> str | None:
    """Why no PDF can be made (the import's error, e.g. a missing Pango), or None if it can."""
    try:
        importlib.import_module(module_name)
    except ImportError as exc:  # the package is not installed
        return f"{module_name} is not installed ({exc})"
    except OSError as exc:  # installed, but a system library (Pango, …) is missing
        return f"{module_name} cannot load its system libraries ({exc})"
    return None


def static_resource(url: str, static_prefix: str, static_folder: str | Path
                    ) -> tuple[bytes, str]:
    """(content, media type) of the static file ``url`` names, read from ``static_folder``.

    ``static_prefix`` is the absolute URL of the static folder as the HTML's base URL resolves
    it (e.g. ``http://localhost/static/``). Every other URL — another host, ``file:``,
    ``data:``, a path outside the folder — raises :class:`FetchRefused` before anything is
    opened.
    """
    if not url.startswith(static_prefix):
        raise FetchRefused(f"only the app's static files may be loaded, not {url!r}")
    relative = url[len(static_prefix):].split("?", 1)[0].split("#", 1)[0]
    path = safe_join(str(static_folder), relative) if relative else None
    if path is None or not Path(path).is_file():
        raise FetchRefused(f"no static file {relative!r}")
    mime_type, _encoding = mimetypes.guess_type(path)
    return Path(path).read_bytes(), mime_type or "application/octet-stream"


def static_url_fetcher(
    static_prefix: str, static_folder: str | Path, module_name: str = DEFAULT_MODULE
) -> Any:
    """A WeasyPrint URL fetcher (a ``weasyprint.urls.URLFetcher`` whose ``fetch`` is
    :func:`static_resource`): it never opens a connection or a file outside the static folder.
    Imports WeasyPrint."""
    urls = importlib.import_module(f"{module_name}.urls")

    class StaticOnlyFetcher(urls.URLFetcher):  # type: ignore[misc,name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            body, mime_type = static_resource(url, static_prefix, static_folder)
            return urls.URLFetcherResponse(url, body, {"Content-Type": mime_type})

    return StaticOnlyFetcher()


def render_pdf(
    html: str,
    *,
    base_url: str,
    static_prefix: str,
    static_folder: str | Path,
    module_name: str = DEFAULT_MODULE,
) -> bytes:
    """``html`` as a PDF. Raises ``ImportError``/``OSError`` when WeasyPrint cannot load
    (check :func:`pdf_unavailable` first)."""
    weasyprint = importlib.import_module(module_name)
    document = weasyprint.HTML(
        string=html,
        base_url=base_url,
        url_fetcher=static_url_fetcher(static_prefix, static_folder, module_name),
    )
    return bytes(document.write_pdf())
