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
