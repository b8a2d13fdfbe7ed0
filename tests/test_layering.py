"""The engine stays a pure domain core: no web, queue or (outside storage) database imports.

Each check runs in a fresh interpreter, because this test process has long since imported
flask and friends through the other tests.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

WEB_AND_QUEUE = ("flask", "wtforms", "redis", "rq")

_PROBE = """
import importlib, json, os, pkgutil, sys
import engine
skip_storage = {skip_storage}
DATABASE_USERS = ("engine.storage", "engine.services")

def walk(path, prefix):
    # Not pkgutil.walk_packages: that imports every package to recurse, skipped ones included.
    for info in pkgutil.iter_modules([path], prefix):
        if skip_storage and info.name in DATABASE_USERS:
            continue
        if info.name.rsplit(".", 1)[-1] == "migrations":
            continue  # Alembic scripts: run by alembic, not importable modules
        yield info.name
        if info.ispkg:
            yield from walk(os.path.join(path, info.name.rsplit(".", 1)[-1]), info.name + ".")

imported = []
for name in walk(engine.__path__[0], "engine."):
    importlib.import_module(name)
    imported.append(name)
top = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps({{"imported": imported, "top": top}}))
"""


def _import_engine(skip_storage: bool) -> tuple[list[str], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(skip_storage=skip_storage)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return report["imported"], set(report["top"])


def test_engine_never_imports_web_or_queue_libraries() -> None:
    imported, top = _import_engine(skip_storage=False)
    assert {"engine.definitions", "engine.evaluation", "engine.workflows"} <= set(imported)
    if (PROJECT_ROOT / "engine" / "storage" / "__init__.py").exists():
        assert "engine.storage" in imported
    assert not top & set(WEB_AND_QUEUE), sorted(top & set(WEB_AND_QUEUE))


def test_the_domain_core_loads_without_a_database_library() -> None:
    """Definitions, rules and workflows work with no database: services reach one via storage."""
    imported, top = _import_engine(skip_storage=True)
    assert not any(name.startswith(("engine.storage", "engine.services")) for name in imported)
    forbidden = set(WEB_AND_QUEUE) | {"sqlalchemy", "alembic"}
    assert not top & forbidden, sorted(top & forbidden)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_engine_storage_imports_sqlalchemy() -> None:
    storage = PROJECT_ROOT / "engine" / "storage"
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(found)
        for path in (PROJECT_ROOT / "engine").rglob("*.py")
        if storage not in path.parents
        and (found := _imported_modules(path) & {"sqlalchemy", "alembic"})
    }
    assert offenders == {}


def test_the_probe_would_notice_a_forbidden_import() -> None:
    """Guards the guard: the same probe sees flask once something imports it."""
    done = subprocess.run(
        [sys.executable, "-c", "import flask, sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )
    assert "flask" in json.loads(done.stdout)


FRAMEWORKS = ("flask", "flask_login", "flask_wtf", "flask_limiter")
"""Packages whose internals web/ must not read: their documented APIs only."""

FRAMEWORK_OBJECTS = frozenset(
    {"request", "current_app", "g", "session", "app", "login_manager", "limiter", "csrf"}
)
"""Names that hold a framework object wherever they appear in web/ (the proxies, the app, the
extension instances)."""

FRAMEWORK_INTERNALS = frozenset(
    {"_get_current_object", "before_request_funcs", "after_request_funcs",
     "teardown_request_funcs"}
)
"""Attributes that reach into Flask's proxies or hook lists, whatever object they are read on."""


def _private_framework_reads(source: str) -> list[str]:
    """``x._name`` where ``x`` is imported from a framework package or is a framework object,
    and any read of :data:`FRAMEWORK_INTERNALS`; as ``"line: expression"``."""
    tree = ast.parse(source)
    framework_names = set(FRAMEWORK_OBJECTS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            framework_names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names if alias.name.split(".")[0] in FRAMEWORKS
            )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FRAMEWORKS:
                framework_names.update(alias.asname or alias.name for alias in node.names)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        on_framework = isinstance(node.value, ast.Name) and node.value.id in framework_names
        if (private and on_framework) or name in FRAMEWORK_INTERNALS:
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
    for node in ast.walk(tree):  # getattr(limiter, "_Limiter__x"): the same, spelled as text
        if (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr", "setattr"} and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
            and isinstance(node.args[0], ast.Name) and node.args[0].id in framework_names
            and node.args[1].value.startswith("_")
            and not node.args[1].value.endswith("__")
        ):
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
    return [f"{line}: {text}" for line, _column, text in sorted(found)]


def test_web_reads_no_private_attribute_of_flask_or_its_extensions() -> None:
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): found
        for path in sorted((PROJECT_ROOT / "web").rglob("*.py"))
        if (found := _private_framework_reads(path.read_text("utf-8")))
    }
    assert offenders == {}


def test_the_private_attribute_check_would_notice_one() -> None:
    """Guards the guard: each way of reaching in that web/ once used is reported."""
    source = """
from flask import current_app, request
from flask.globals import request_ctx
from flask_limiter import Limiter
import flask_login

def hooks(app, login_manager, limiter):
    request_ctx._get_current_object()
    current_app._get_current_object()
    app.before_request_funcs.get(None, [])
    login_manager._update_remember_cookie
    getattr(Limiter, "_Limiter__inject_headers", None)
    flask_login._get_user()
    limiter._check_request_limit
    request.__class__
    other._private
"""
    found = _private_framework_reads(source)
    assert [line.split(": ", 1)[1] for line in found] == [
        "request_ctx._get_current_object",
        "current_app._get_current_object",
        "app.before_request_funcs",
        "login_manager._update_remember_cookie",
        "getattr(Limiter, '_Limiter__inject_headers', None)",
        "flask_login._get_user",
        "limiter._check_request_limit",
    ]



def _storage_imports(source: str) -> set[str]:
    """The ``engine.storage`` modules (or names of them) the import statements of ``source``
    name, in full: ``from engine.storage.tables import Base`` gives ``engine.storage.tables``
    and ``engine.storage.tables.Base``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "engine.storage" or n.startswith("engine.storage.")}


def test_web_and_workers_never_import_engine_storage() -> None:
    """They reach the database through ``engine.services`` (which re-exports ``Database``) and
    get records from ``engine.records``; storage stays the engine's own business."""
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(found)
        for package in ("web", "workers")
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if (found := _storage_imports(path.read_text("utf-8")))
    }
    assert offenders == {}
    # Guards the guard: every spelling of such an import is seen, a lookalike is not.
    assert _storage_imports(
        "import engine.storage.tables\nfrom engine import storage\n"
        "def f():\n    from engine.storage import Database\n"
        "from engine.storage_extra import x\n"
    ) == {"engine.storage.tables", "engine.storage", "engine.storage.Database"}
