"""The failed-notifications page: what could not be delivered, and "try again"."""

from __future__ import annotations

import copy

from engine.services import (
    Database,
    get_notification,
    import_definition,
    mark_failed,
    notifications_for,
    notifications_with_status,
    publish_form,
    publish_workflow,
    save_draft,
    submit,
)
from support.admin import FORM, WORKFLOW, Browser

ANSWERS = {"name": "Ada Muster", "email": "ada@example.org", "phone": "030 123456"}


def _failed_notification(db: Database) -> int:
    """A submission whose confirmation mail was given up after its last try."""
    workflow = copy.deepcopy(WORKFLOW)
    workflow["notifications"] = [{"on": "submitted", "to": "applicant", "template": "received"}]
    workflow["templates"] = {"received": {"subject": "Eingang", "body": "Danke."}}
    import_definition(db, workflow, "workflow")
    publish_workflow(db, WORKFLOW["id"])
    publish_form(db, FORM["id"])  # bind the form to the new workflow version
    created = submit(db, FORM["id"], ANSWERS, "de")
    (row,) = notifications_for(db, created.id)
    assert mark_failed(db, row.id, "SMTP 554: mailbox unavailable", final=True)
    return row.id


def test_failed_notification_is_listed_and_can_be_tried_again(admin: Browser,
                                                               db: Database) -> None:
    assert "no-failures" in admin.get("/admin/notifications").get_data(as_text=True)
    outbox_id = _failed_notification(db)

    page = admin.get("/admin/notifications").get_data(as_text=True)
    assert f'data-outbox="{outbox_id}"' in page
    assert "ada@example.org" in page and "SMTP 554: mailbox unavailable" in page

    response = admin.post_form(f"/admin/notifications/{outbox_id}/retry")
    assert response.status_code == 302
    assert get_notification(db, outbox_id).status == "pending"
    after = admin.get("/admin/notifications").get_data(as_text=True)
    assert f'data-outbox="{outbox_id}"' not in after
    assert f"Benachrichtigung {outbox_id} wird erneut gesendet." in after


def test_retry_of_an_unknown_notification_is_404(admin: Browser) -> None:
    assert admin.post_form("/admin/notifications/999999/retry").status_code == 404


def test_coordinators_may_not_retry(coordinator: Browser, admin: Browser, db: Database) -> None:
    outbox_id = _failed_notification(db)
    assert coordinator.get("/admin/notifications").status_code == 403
    assert coordinator.post_form(f"/admin/notifications/{outbox_id}/retry").status_code == 403
    assert get_notification(db, outbox_id).status == "failed"


def test_a_failed_resume_link_mail_is_listed_as_such(admin: Browser, db: Database) -> None:
    _failed_notification(db)  # publishes the form
    saved = save_draft(db, FORM["id"], {"email": "bo@example.org"}, mail_link=True)
    assert saved.link_mailed_to == "bo@example.org"
    (row,) = [r for r in notifications_with_status(db, ["pending"]) if r.draft_id]
    assert mark_failed(db, row.id, "SMTP 550: no such user", final=True)

    page = admin.get("/admin/notifications").get_data(as_text=True)
    assert f'data-outbox="{row.id}"' in page
    assert "bo@example.org" in page and "Link zum Weitermachen (Entwurf)" in page
    assert admin.post_form(f"/admin/notifications/{row.id}/retry").status_code == 302
    assert get_notification(db, row.id).status == "pending"
