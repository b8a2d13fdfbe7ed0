"""Exports of repeating groups, calculated values and files: JSON nested as stored, CSV one
column per group with the rows as readable text and files as names, the spreadsheet likewise;
and the coordinator's page: rows as text, files as download links behind the role check."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
from flask import Flask

from engine.files import file_ref
from engine.services import Database, Upload, import_definition, publish_form, submit
from support.coordinator import COORDINATOR, WORKFLOW, Staff

PDF = b"%PDF-1.4\n" + b"." * 2500 + b"\n%%EOF\n"
BUDGET: dict[str, Any] = {
    "id": "budget", "title": {"de": "Budget", "en": "Budget"}, "languages": ["de", "en"],
    "workflow": WORKFLOW["id"],
    "steps": [{"id": "s", "title": {"de": "Kosten", "en": "Costs"}, "fields": [
        {"id": "costs", "type": "group", "repeat": {"max": 5},
         "label": {"de": "Kosten", "en": "Costs"}, "fields": [
             {"id": "item", "type": "text", "label": {"de": "Bezeichnung", "en": "Item"}},
             {"id": "amount", "type": "number", "label": {"de": "Betrag", "en": "Amount"}},
         ]},
        {"id": "total", "type": "calculated", "expression": "sum(costs.amount)",
         "label": {"de": "Gesamt", "en": "Total"}},
        {"id": "plan", "type": "file", "accept": ["application/pdf"],
         "label": {"de": "Plan", "en": "Plan"}},
        {"id": "age", "type": "number", "label": {"de": "Alter", "en": "Age"}},  # the guard's
    ]}],
}


def _submitted(db: Database) -> Any:
    import_definition(db, BUDGET, "form")
    publish_form(db, "budget")
    stream = io.BytesIO(PDF)
    ref = file_ref("a" * 32, "Kostenplan.pdf", stream)
    answers = {"costs": [{"item": "=Miete", "amount": "600"}, {"item": "Honorar",
                                                                "amount": "400,5"}],
               "plan": [ref.as_json()]}
    return submit(db, "budget", answers, "de", uploads=[Upload("plan", ref, stream)])


def test_exports_show_rows_totals_and_file_names(app: Flask, db: Database) -> None:
    created = _submitted(db)
    client = Staff(app).client(COORDINATOR)
    body = client.get("/inbox/export.csv?form=budget").get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(body[1:])))
    cells = dict(zip(header, row, strict=True))
    assert cells["costs"] == ("1. Bezeichnung: =Miete; Betrag: 600\n"
                              "2. Bezeichnung: Honorar; Betrag: 400.5")
    assert cells["total"] == "1000.5" and cells["plan"] == "Kostenplan.pdf"

    exported = json.loads(client.get("/inbox/export.json?form=budget").get_data(as_text=True))
    [item] = exported["submissions"]
    assert item["answers"]["costs"] == [{"item": "=Miete", "amount": 600},
                                        {"item": "Honorar", "amount": 400.5}]
    assert item["answers"]["plan"][0]["name"] == "Kostenplan.pdf"

    sheet = openpyxl.load_workbook(io.BytesIO(
        client.get("/inbox/export.xlsx?form=budget").get_data())).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    by_header = dict(zip(values[0], values[1], strict=True))
    assert by_header["Kosten"] == ("1. Bezeichnung: =Miete; Betrag: 600\n"
                                   "2. Bezeichnung: Honorar; Betrag: 400.5")
    assert by_header["Gesamt"] == 1000.5 and by_header["Plan"] == "Kostenplan.pdf"
    assert created.reference in values[1]


def test_the_submission_page_links_files_behind_the_role_check(app: Flask, db: Database) -> None:
    created = _submitted(db)
    staff = Staff(app)
    page = staff.client(COORDINATOR).get(f"/inbox/{created.id}").get_data(as_text=True)
    assert "1. Bezeichnung: =Miete; Betrag: 600" in page
    link = f"/inbox/{created.id}/files/{'a' * 32}"
    assert f'href="{link}"' in page and "Kostenplan.pdf" in page
    download = staff.client(COORDINATOR).get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(link).status_code in (302, 401)  # signed out: no file
    assert staff.client(COORDINATOR).get(f"/inbox/{created.id}/files/{'b' * 32}").status_code \
        == 404
