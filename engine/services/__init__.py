"""The operations of formflow, shared by the web app, the JSON API, the CLI and the workers.

Every caller goes through these functions — there is no second path that skips validation or
the audit trail. Each takes the :class:`Database` (re-exported here: code outside ``engine``
never imports ``engine.storage``) explicitly and reads no globals; records returned are frozen
values (``engine.records``).
"""

from __future__ import annotations

from engine.services.comments import MAX_COMMENT_LENGTH, checked_comment
from engine.services.definitions import (
    DefinitionImported,
    FileImported,
    export_definition,
    form_version_by_hash,
    import_definition,
    import_directory,
    list_published,
    publish_definition,
    publish_form,
    publish_workflow,
    published_form,
    published_workflow,
)
from engine.services.drafts import (
    DEFAULT_DRAFT_TTL,
    DraftSaved,
    ResumedDraft,
    discard_draft,
    purge_expired_drafts,
    resume,
    resume_token,
    save_draft,
)
from engine.services.notifications import (
    Delivery,
    DraftLinkDelivery,
    delivery,
    get_notification,
    mark_enqueued,
    mark_enqueued_many,
    mark_failed,
    mark_sent,
    notification_by_delivery_id,
    notifications_for,
    notifications_to_enqueue,
    notifications_with_status,
    retry_notification,
)
from engine.services.stored_text import (
    UnreadableText,
    find_unreadable_text,
    repair_unreadable_text,
)
from engine.services.submissions import (
    SubmissionCreated,
    add_comment,
    definitions_of,
    get_submission,
    history,
    list_submissions,
    status_token,
    submission_for_token,
    submit,
)
from engine.services.transitions import TransitionFired, fire_transition, transitions_for
from engine.services.users import (
    authenticate_user,
    create_api_token,
    create_user,
    get_user,
    revoke_api_token,
    set_password,
    set_user_active,
    user_for_token,
    users_with_role,
)
from engine.storage import Database

__all__ = [
    "DEFAULT_DRAFT_TTL",
    "MAX_COMMENT_LENGTH",
    "Database",
    "DefinitionImported",
    "Delivery",
    "DraftLinkDelivery",
    "DraftSaved",
    "FileImported",
    "ResumedDraft",
    "SubmissionCreated",
    "TransitionFired",
    "UnreadableText",
    "add_comment",
    "authenticate_user",
    "checked_comment",
    "create_api_token",
    "create_user",
    "definitions_of",
    "delivery",
    "discard_draft",
    "export_definition",
    "find_unreadable_text",
    "form_version_by_hash",
    "fire_transition",
    "get_notification",
    "get_submission",
    "get_user",
    "history",
    "import_definition",
    "import_directory",
    "list_published",
    "list_submissions",
    "mark_enqueued",
    "mark_enqueued_many",
    "mark_failed",
    "mark_sent",
    "notifications_for",
    "notifications_to_enqueue",
    "notification_by_delivery_id",
    "notifications_with_status",
    "publish_definition",
    "publish_form",
    "publish_workflow",
    "published_form",
    "published_workflow",
    "purge_expired_drafts",
    "repair_unreadable_text",
    "resume",
    "resume_token",
    "retry_notification",
    "revoke_api_token",
    "save_draft",
    "set_password",
    "set_user_active",
    "status_token",
    "submission_for_token",
    "submit",
    "transitions_for",
    "user_for_token",
    "users_with_role",
]
