"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

Written by hand, next to the views, because it is a contract for integrators: every path,
parameter, body and status code listed here is one the API really has, and nothing else
(``tests/api/test_openapi.py`` walks the document against the app's routes and provokes every
documented status). Unexpected failures (500) are described once, as ``default``.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from engine.services import MAX_COMMENT_LENGTH

__all__ = ["openapi_document"]

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    }
}

_COMMON = {
    "503": {
        **_error("The database is unavailable; nothing was stored. Retry after a while."),
        "headers": _RETRY_AFTER,
    },
    "default": _error("Unexpected error (500); the body never carries a stack trace."),
}

_BODY_ERRORS = {
    "400": _error("The body is not JSON (or not sent as application/json), or has the wrong "
                  "shape (`invalid_json`, `invalid_body`)."),
    "413": _error("The body is larger than the configured limit (`too_large`)."),
}

_AUTH_401 = {
    "401": {
        **_error("No, malformed, unknown or revoked bearer token "
                 "(`unauthorized`, `invalid_token`)."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    }
}


def _id_parameter(what: str) -> dict[str, Any]:
    return {
        "name": "id", "in": "path", "required": True,
        "description": f"The {what}'s id.", "schema": {"type": "string"},
    }


_TEXT = {
    "description": "Text shown to people: a plain string or an object keyed by language code.",
    "oneOf": [
        {"type": "string"},
        {"type": "object", "additionalProperties": {"type": "string"}},
    ],
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable, machine-readable code."},
            "message": {"type": "string", "description": "What went wrong, for people."},
        },
        "additionalProperties": True,
    },
    "ValidationError": {
        "allOf": [
            _ref("Error"),
            {
                "type": "object",
                "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "object",
                        "description": "Field id → messages, in the submission's language.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    }
                },
            },
        ]
    },
    "TransitionConflict": {
        "allOf": [
            _ref("Error"),
            {
                "type": "object",
                "required": ["state", "transitions"],
                "properties": {
                    "error": {
                        "enum": ["unknown_transition", "transition_not_allowed",
                                 "guard_failed", "stale_state"],
                    },
                    "state": {"type": "string", "description": "The submission's state now."},
                    "transitions": {
                        "type": "array", "items": {"type": "string"},
                        "description": "The transitions the caller may fire now.",
                    },
                },
            },
        ]
    },
    "FormSummary": {
        "type": "object",
        "required": ["id", "title", "version"],
        "properties": {
            "id": {"type": "string"},
            "title": _TEXT,
            "version": {"type": "integer", "minimum": 1},
        },
    },
    "FormDefinition": {
        "type": "object",
        "description": "The published form definition (see docs/definitions.md) with its "
                       "version number.",
        "required": ["id", "version", "languages", "workflow", "steps"],
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "title": _TEXT,
            "languages": {"type": "array", "items": {"type": "string"}},
            "workflow": {"type": "string"},
            "steps": {"type": "array", "items": {"type": "object"}},
            "rules": {"type": "array", "items": {"type": "object"}},
        },
        "additionalProperties": True,
    },
    "SubmissionRequest": {
        "type": "object",
        "properties": {
            "answers": {
                "type": "object",
                "description": "Field id → answer. Keys naming no input field and answers to "
                               "hidden fields are dropped, as in the browser.",
                "additionalProperties": True,
            },
            "language": {
                "type": ["string", "null"],
                "description": "Language of error messages and of the applicant's mails; "
                               "default (also for null): Accept-Language, else the form's "
                               "first language.",
            },
        },
    },
    "SubmissionCreated": {
        "type": "object",
        "required": ["id", "reference", "state", "token", "status_url"],
        "properties": {
            "id": {"type": "string"},
            "reference": {"type": "string", "examples": ["M-2026-00001"]},
            "state": {"type": "string"},
            "token": {
                "type": "string",
                "description": "The applicant's secret for this submission, shown only once: "
                               "a bearer token for GET /api/submissions/{id}.",
            },
            "status_url": {"type": "string", "format": "uri"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "required": ["transition", "from", "to", "actor", "comment", "at"],
        "properties": {
            "kind": {
                "type": "string",
                "description": "`created`, `transition`, `comment` or `assignment` (more may "
                               "be added); for `assignment`, `comment` is the assignee's "
                               "address, null when the submission was unassigned; for "
                               "`comment` (a staff member's internal note without a "
                               "transition) the text is in `note` and `comment` is null; "
                               "`erased`: the personal data was erased (staff see the reason "
                               "in `note`).",
            },
            "transition": {"type": ["string", "null"]},
            "from": {"type": ["string", "null"]},
            "to": {"type": ["string", "null"]},
            "actor": {"type": "string"},
            "comment": {
                "type": ["string", "null"],
                "description": "A transition's message to the applicant (the applicant's "
                               "token sees it too).",
            },
            "note": {
                "type": ["string", "null"],
                "description": "Internal text for staff. Only staff tokens get this key; an "
                               "applicant's token never sees notes.",
            },
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "Submission": {
        "type": "object",
        "required": ["id", "reference", "form", "form_version", "state", "answers",
                     "history", "transitions"],
        "properties": {
            "id": {"type": "string"},
            "reference": {"type": "string"},
            "form": {"type": "string"},
            "form_version": {"type": "integer", "minimum": 1},
            "state": {"type": "string"},
            "answers": {"type": "object", "additionalProperties": True,
                        "description": "Empty once the personal data was erased."},
            "erased_at": {
                "type": ["string", "null"], "format": "date-time",
                "description": "When the personal data was erased (the submission is then a "
                               "tombstone: reference, form, states and dates); null until then.",
            },
            "consents": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": True},
                "description": "One record per ticked consent checkbox: field, label shown, "
                               "language, form_version, at.",
            },
            "language": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "history": {
                "type": "array", "items": _ref("HistoryEntry"),
                "description": "Oldest first. An applicant's token sees state changes only, "
                               "with staff shown as `staff`.",
            },
            "transitions": {
                "type": "array", "items": {"type": "string"},
                "description": "Transition ids the caller may fire now (empty for an "
                               "applicant's token).",
            },
        },
    },
    "TransitionRequest": {
        "type": "object",
        "required": ["transition"],
        "properties": {
            "transition": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]{0,63}$",
                "description": "The id of a transition of the submission's workflow.",
            },
            "comment": {
                "type": ["string", "null"],
                "maxLength": MAX_COMMENT_LENGTH,
                "description": "The message to the applicant: shown on their status page and "
                               "given to mail templates as `transition.comment`; the "
                               "workflow's comment policy (`required`, `optional`, `none`) "
                               "applies to it. Longer comments, or ones holding control "
                               "characters or invalid code points, are refused: 422 "
                               "`comment_invalid`.",
            },
            "note": {
                "type": ["string", "null"],
                "maxLength": MAX_COMMENT_LENGTH,
                "description": "An internal note for staff, always allowed, never shown to "
                               "the applicant nor given to mail templates. Refused like a "
                               "comment (422 `comment_invalid`, error under `note`).",
            },
            "expected_state": {
                "type": ["string", "null"],
                "description": "The state the caller saw; 409 `stale_state` if it moved on.",
            },
        },
    },
}

_PATHS: dict[str, Any] = {
    "/api/forms": {
        "get": {
            "operationId": "listForms",
            "summary": "Published forms",
            "responses": {
                "200": _ok("Id, title and version of each published form.",
                           {"type": "array", "items": _ref("FormSummary")}),
                **_COMMON,
            },
        }
    },
    "/api/forms/{id}": {
        "get": {
            "operationId": "getForm",
            "summary": "A published form definition",
            "parameters": [_id_parameter("form")],
            "responses": {
                "200": _ok("The published definition with its version.",
                           _ref("FormDefinition")),
                "404": _error("No published form has this id (`not_found`)."),
                **_COMMON,
            },
        }
    },
    "/api/forms/{id}/submissions": {
        "post": {
            "operationId": "submitForm",
            "summary": "Submit answers to a published form",
            "description": "Validated exactly like the browser's final step; anonymous and "
                           "rate limited per client address.",
            "parameters": [_id_parameter("form")],
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {"schema": _ref("SubmissionRequest")},
                    "multipart/form-data": {"schema": {
                        "type": "object",
                        "description": "For forms with file fields: the part `answers` (the "
                                       "JSON object, as text), optionally `language`, and one "
                                       "part per file field named by its id (a field taking "
                                       "several files repeats its part).",
                        "required": ["answers"],
                        "properties": {
                            "answers": {"type": "object"},
                            "language": {"type": "string"},
                        },
                        "additionalProperties": {"type": "string",
                                                 "contentMediaType": "application/octet-stream"},
                    }, "encoding": {"answers": {"contentType": JSON}}},
                },
            },
            "responses": {
                "201": {
                    **_ok("Stored; keep the token: it is shown only once.",
                          _ref("SubmissionCreated")),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                **_BODY_ERRORS,
                "404": _error("No published form has this id (`not_found`)."),
                "409": _error("The form takes no submissions now (`form_unavailable`): "
                              "`reason` is `not_yet_open`, `closed` or `full`; `opens_at` and "
                              "`closes_at` (ISO 8601, UTC) say when, where the form has them. "
                              "A form with a waiting list takes submissions beyond its capacity "
                              "(their `state` is the waiting list's)."),
                "422": _error("Some answers are invalid (`invalid`); `errors` maps field ids "
                              "to messages.", "ValidationError"),
                "429": {
                    **_error("Too many submissions from this address (`rate_limited`)."),
                    "headers": _RETRY_AFTER,
                },
                **_COMMON,
            },
        }
    },
    "/api/submissions/{id}": {
        "get": {
            "operationId": "getSubmission",
            "summary": "A submission with its history",
            "security": [{"bearer": []}],
            "parameters": [_id_parameter("submission")],
            "responses": {
                "200": _ok("The submission.", _ref("Submission")),
                **_AUTH_401,
                "403": _error("The token is valid but may not read this submission "
                              "(`forbidden`)."),
                "404": _error("There is no such submission (`not_found`)."),
                **_COMMON,
            },
        }
    },
    "/api/submissions/{id}/files/{file_id}": {
        "get": {
            "operationId": "getSubmissionFile",
            "summary": "A file of a submission (the `url` of a file answer)",
            "security": [{"bearer": []}],
            "parameters": [
                _id_parameter("submission"),
                {"name": "file_id", "in": "path", "required": True,
                 "description": "The file's id.", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The file's bytes, of its stored type, as an attachment "
                                   "(`Content-Disposition: attachment`, `nosniff`).",
                    "content": {"application/octet-stream": {
                        "schema": {"type": "string", "contentMediaType":
                                   "application/octet-stream"}}},
                },
                **_AUTH_401,
                "403": _error("The token is valid but may not read this submission "
                              "(`forbidden`)."),
                "404": _error("There is no such submission, or it has no such file "
                              "(`not_found`)."),
                **_COMMON,
            },
        }
    },
    "/api/submissions/{id}/transitions": {
        "post": {
            "operationId": "fireTransition",
            "summary": "Move a submission through its workflow",
            "security": [{"bearer": []}],
            "parameters": [_id_parameter("submission")],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": _ref("TransitionRequest")}},
            },
            "responses": {
                "200": _ok("The submission after the transition.", _ref("Submission")),
                **_BODY_ERRORS,
                **_AUTH_401,
                "403": _error("The caller's role may not fire this transition (checked "
                              "before anything about the submission's state is said), or the "
                              "token is an applicant's (`forbidden`)."),
                "404": _error("There is no such submission (`not_found`)."),
                "409": _error("Not possible now: no such transition in the workflow, not "
                              "allowed from the current state, its guard fails, or "
                              "`expected_state` is stale.", "TransitionConflict"),
                "422": _error("A comment is required (`comment_required`) or not allowed "
                              "(`comment_not_allowed`) for this transition, or it is too "
                              "long or holds characters that cannot be stored "
                              "(`comment_invalid`, also for a `note`).",
                              "ValidationError"),
                **_COMMON,
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "responses": {
                "200": _ok("The OpenAPI 3.1 document.", {"type": "object"}),
                "default": _COMMON["default"],
            },
        }
    },
}


@cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "formflow API",
            "version": "1",
            "description": (
                "Published forms, submissions and workflow transitions. Every error body is "
                "JSON `{\"error\": code, \"message\": text, …}`; an unknown path answers 404 "
                "and a method an address does not accept 405, both in that shape."
            ),
        },
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A staff user's API token (`formflow tokens create EMAIL`) "
                                   "or, to read one submission, the applicant's token from "
                                   "its 201 answer.",
                }
            },
        },
    }


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """A fresh copy of the document; ``server_url`` (FORMFLOW_BASE_URL) fills ``servers``."""
    document = copy.deepcopy(_document())
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
