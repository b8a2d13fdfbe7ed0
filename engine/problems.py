"""A problem found in a definition, addressed by a JSON pointer into the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Problem", "Severity", "errors_only", "pointer_join"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    pointer: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        """The ``JSON-pointer: message`` line administrators and integrators read."""
        return f"{self.pointer or '/'}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message, "severity": self.severity}


def pointer_join(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` as RFC 6901 requires."""
    out = base
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out


def errors_only(problems: list[Problem] | tuple[Problem, ...]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
