"""The failed-notifications page names a submission by its reference, linking to its page."""

from __future__ import annotations

import copy

from engine.services import (
    Database,
    import_definition,
    mark_failed,
    notifications_for,
    publish_form,
    publish_workflow,
    submit,
)
from support.admin import FORM, WORKFLOW, Browser


def test_failed_notifications_name_the_submission_by_reference(
    admin: Browser, db: Database
) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["notifications"] = [{"on": "submitted", "to": "applicant", "template": "received"}]
    workflow["templates"] = {"received": {"subject": "Eingang", "body": "Danke."}}
    import_definition(db, workflow, "workflow")
    publish_workflow(db, WORKFLOW["id"])
    publish_form(db, FORM["id"])
    created = submit(db, FORM["id"], {"name": "Ada Muster", "email": "ada@example.org",
                                      "phone": "030 123456"}, "de")
    (row,) = notifications_for(db, created.id)
    assert mark_failed(db, row.id, "SMTP 554: mailbox unavailable", final=True)

    page = admin.get("/admin/notifications").get_data(as_text=True)
    cell = page[page.index(f'data-outbox="{row.id}"'):]
    cell = cell[:cell.index("</tr>")]
    assert f'href="/inbox/{created.id}">{created.reference}</a>' in cell
    assert f">{created.id}<" not in cell  # the UUID only in the link, never as the name
