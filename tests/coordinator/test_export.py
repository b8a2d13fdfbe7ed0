"""Exports: CSV for spreadsheets (BOM, delimiter, no formulas), JSON, streamed with flat memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from engine.services import (
    Database,
    erase_by_reference,
    get_submission,
    import_definition,
    publish_form,
    submit,
)
from engine.services.export import export_plan, export_rows, neutralise_cell
from engine.services.inbox import InboxFilter
from support.coordinator import (
    ADMIN,
    CONSENT_LABEL,
    COORDINATOR,
    Staff,
    answers,
    bulk_insert_submissions,
    form,
    publish_grant_with_consent,
)
from support.postgres import BOTH_BACKENDS

BOM = "\ufeff"


def _csv(body: str, delimiter: str = ",") -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


def test_csv_has_bom_header_and_union_of_answer_columns(app: Flask, db: Database) -> None:
    first = submit(db, "grant", answers(name="Jörg Ärger"), "de")
    version2 = form()
    version2["steps"][1]["fields"].append(
        {"id": "budget", "type": "number", "label": {"de": "Budget", "en": "Budget"}})
    import_definition(db, version2, "form")
    publish_form(db, "grant")
    second = submit(db, "grant", {**answers(), "budget": "1200"}, "de")
    response = Staff(app).client(COORDINATOR).get("/inbox/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response.get_data(as_text=True))
    assert rows[0] == ["reference", "form", "form_version", "state", "created_at",
                       "name", "email", "age", "topic", "summary", "budget", "consents"]
    by_reference = {row[0]: row for row in rows[1:]}
    assert by_reference[first.reference][1:4] == ["grant", "1", "submitted"]
    assert by_reference[first.reference][5] == "Jörg Ärger"
    assert by_reference[first.reference][10] == ""  # version 1 has no budget field
    assert by_reference[second.reference][2] == "2"
    assert by_reference[second.reference][10] == "1200"
    assert [row[0] for row in rows[1:]] == [second.reference, first.reference]  # newest first


def test_semicolon_delimiter_for_german_excel(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(summary="eins; zwei"), "de")
    response = Staff(app).client(COORDINATOR).get("/inbox/export.csv?delimiter=semicolon")
    rows = _csv(response.get_data(as_text=True), delimiter=";")
    assert rows[0][:2] == ["reference", "form"]
    assert rows[1][0] == created.reference
    assert rows[1][9] == "eins; zwei"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tTab", "\rCR"])
def test_formula_cells_are_neutralised(app: Flask, db: Database, value: str) -> None:
    # stored as-is (submit trims text answers, so a leading tab could not get in that way)
    bulk_insert_submissions(db, 1, answers_for=lambda _n: {"name": value, "summary": value,
                                                            "age": -5})
    assert neutralise_cell(value) == "'" + value
    body = Staff(app).client(COORDINATOR).get("/inbox/export.csv").get_data(as_text=True)
    row = _csv(body)[1]
    assert row[5] == row[9] == "'" + value
    assert row[7] == "-5"  # a typed number is data, not a formula
    for index, cell in enumerate(row):
        if index != 7:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_harmless_cells_are_left_alone() -> None:
    for value in ("Ada", "", "1200", "a=b", " =x"):
        assert neutralise_cell(value) == value


def test_export_follows_the_inbox_filters(app: Flask, db: Database) -> None:
    keep = submit(db, "grant", answers(name="Grete"), "de")
    submit(db, "grant", answers(name="Hans"), "de")
    client = Staff(app).client(COORDINATOR)
    rows = _csv(client.get("/inbox/export.csv?q=grete").get_data(as_text=True))
    assert [row[0] for row in rows[1:]] == [keep.reference]
    assert client.get("/inbox/export.csv?from=not-a-date").status_code == 400


def test_json_export(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(age="41"), "de")
    response = Staff(app).client(COORDINATOR).get("/inbox/export.json?state=submitted")
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    assert data["columns"][:5] == ["reference", "form", "form_version", "state", "created_at"]
    (item,) = data["submissions"]
    assert item["reference"] == created.reference
    assert item["answers"]["age"] == 41  # typed as stored
    assert item["form_version"] == 1
    empty = Staff(app).client(COORDINATOR).get("/inbox/export.json?state=accepted")
    assert json.loads(empty.get_data(as_text=True))["submissions"] == []


def test_export_rows_walks_keyset_batches(db: Database) -> None:
    bulk_insert_submissions(db, 25)
    rows = list(export_rows(db, InboxFilter(), batch_size=7))
    assert len(rows) == len({r.id for r in rows}) == 25
    assert [r.created_at for r in rows] == sorted((r.created_at for r in rows), reverse=True)
    assert export_plan(db, InboxFilter()).answer_columns == (
        "name", "email", "age", "topic", "summary")


def test_export_of_100000_submissions_streams_with_flat_memory(
    app: Flask, db: Database
) -> None:
    count = 100_000
    # Fast bulk insert straight through the storage tables (see the helper's docstring).
    bulk_insert_submissions(db, count, start=datetime(2025, 1, 1, tzinfo=UTC))
    client = Staff(app).client(COORDINATOR)
    tracemalloc.start()
    try:
        response = client.get("/inbox/export.csv?delimiter=semicolon", buffered=False)
        assert response.status_code == 200
        lines = 0
        size = 0
        tail = b""
        for chunk in response.response:
            data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
            size += len(data)
            lines += data.count(b"\r\n")
            tail = data[-200:]
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == count + 1  # header + every submission, once
    assert b"Person 0;" in tail  # the oldest comes last
    # The whole export is several MB; holding it (or its rows as objects) would need many
    # times that. Streaming keeps the peak at a few batches' worth.
    assert size > 9_000_000
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB while exporting {size / 1e6:.1f} MB"


@BOTH_BACKENDS
def test_xlsx_has_labels_typed_cells_and_a_dated_name(app: Flask, db: Database) -> None:
    import openpyxl

    version2 = form()
    version2["steps"][0]["fields"] += [
        {"id": "postcode", "type": "text", "label": {"de": "PLZ", "en": "Postcode"}},
        {"id": "born", "type": "date", "label": {"de": "Geburtstag", "en": "Born"}},
        {"id": "member", "type": "checkbox", "label": {"de": "Mitglied", "en": "Member"}},
    ]
    version2["steps"][0]["fields"][0]["label"] = {"de": "Vollständiger Name", "en": "Name"}
    import_definition(db, version2, "form")
    publish_form(db, "grant")
    created = submit(db, "grant", {**answers(name="=SUM(A1)"), "postcode": "01067",
                                   "born": "1990-02-03", "member": True}, "de")
    response = Staff(app).client(COORDINATOR).get("/inbox/export.xlsx?form=grant")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert f"grant-{today}.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=False))
    header = [cell.value for cell in rows[0]]
    assert header[:5] == ["Referenz", "Formular", "Version", "Status", "Eingegangen"]
    assert header[5:] == ["Vollständiger Name", "E-Mail", "Alter", "PLZ", "Geburtstag",
                          "Mitglied", "Thema", "Kurzbeschreibung", "Einwilligungen"]  # the latest
    cells = {name: cell for name, cell in zip(header, rows[1], strict=True)}
    assert cells["Referenz"].value == created.reference
    assert cells["Status"].value == "Eingegangen"
    assert cells["PLZ"].value == "01067" and cells["PLZ"].data_type == "s"
    assert cells["Vollständiger Name"].value == "=SUM(A1)"  # text, never a formula
    assert cells["Vollständiger Name"].data_type == "s"
    assert cells["Alter"].value == 36 and cells["Alter"].data_type == "n"
    assert cells["Geburtstag"].is_date and cells["Geburtstag"].value.date().isoformat() == \
        "1990-02-03"
    assert cells["Mitglied"].value == "Ja"
    assert cells["Thema"].value == "Kultur"  # the option's label, not its id
    received = cells["Eingegangen"]
    assert received.is_date
    with db.read() as store:
        stored = store.submissions.get(created.id)
    assert stored is not None
    local = stored.created_at.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    assert abs((received.value - local).total_seconds()) < 1


def test_csv_and_xlsx_show_consents_as_text_also_of_an_erased_submission(
    app: Flask, db: Database
) -> None:
    import openpyxl

    publish_grant_with_consent(db)
    given = submit(db, "grant", answers(agree=True), "de")
    erased = submit(db, "grant", answers(name="Eva Eraser", agree=True), "de")
    not_given = submit(db, "grant", answers(), "de")
    erase_by_reference(db, erased.reference, actor=ADMIN, reason="Art. 17")
    at = datetime.fromisoformat(get_submission(db, given.id).consents[0]["at"])
    client = Staff(app).client(COORDINATOR)

    rows = _csv(client.get("/inbox/export.csv?form=grant").get_data(as_text=True))
    assert rows[0][-1] == "consents"
    csv_cells = {row[0]: row[-1] for row in rows[1:]}
    utc = at.astimezone(UTC).isoformat()
    assert utc.endswith("+00:00")
    assert csv_cells[given.reference] == f"'{CONSENT_LABEL} (de, form version 2, {utc})"
    erased_at = datetime.fromisoformat(get_submission(db, erased.id).consents[0]["at"])
    assert csv_cells[erased.reference] == (  # the tombstone keeps it
        f"'{CONSENT_LABEL} (de, form version 2, {erased_at.astimezone(UTC).isoformat()})")
    assert csv_cells[not_given.reference] == ""

    local = at.astimezone(ZoneInfo("Europe/Berlin"))
    for language, header, text in (
        ("de", "Einwilligungen",
         f"{CONSENT_LABEL} (de, Formularversion 2, {local:%d.%m.%Y %H:%M})"),
        ("en", "Consents", f"{CONSENT_LABEL} (de, form version 2, {local:%Y-%m-%d %H:%M})"),
    ):
        body = client.get(f"/inbox/export.xlsx?form=grant&lang={language}").get_data()
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        assert sheet is not None
        sheet_rows = list(sheet.iter_rows(values_only=False))
        assert sheet_rows[0][-1].value == header
        cells = {row[0].value: row[-1] for row in sheet_rows[1:]}
        assert cells[given.reference].value == text
        assert cells[given.reference].data_type == "s"  # text, never a formula
        assert str(cells[erased.reference].value).startswith(f"{CONSENT_LABEL} (de, ")
        assert cells[not_given.reference].value is None


def test_csv_and_json_file_names_carry_form_and_day(app: Flask, db: Database) -> None:
    client = Staff(app).client(COORDINATOR)
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    csv_name = client.get("/inbox/export.csv?form=grant").headers["Content-Disposition"]
    assert f'filename="grant-{today}.csv"' in csv_name
    json_name = client.get("/inbox/export.json").headers["Content-Disposition"]
    assert f'filename="formflow-{today}.json"' in json_name
    hostile = client.get('/inbox/export.csv?form=a"b').headers["Content-Disposition"]
    assert f'filename="formflow-{today}.csv"' in hostile
