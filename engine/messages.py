"""Per-field validation messages in the applicant's language (German and English).

Validation produces codes with parameters; this catalogue turns them into sentences. Keeping the
words apart from the checks lets the API, the web pages and the CLI share one wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MESSAGES", "catalogue", "message"]

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "required": {
        "de": "Bitte füllen Sie dieses Feld aus.",
        "en": "Please fill in this field.",
    },
    "must_tick": {
        "de": "Bitte bestätigen Sie dies, um fortzufahren.",
        "en": "Please tick this box to continue.",
    },
    "choose_one": {
        "de": "Bitte wählen Sie eine Option.",
        "en": "Please choose an option.",
    },
    "not_text": {
        "de": "Bitte geben Sie einen Text ein.",
        "en": "Please enter text.",
    },
    "min_length": {
        "de": "Bitte geben Sie mindestens {min_length} Zeichen ein (derzeit {length}).",
        "en": "Please enter at least {min_length} characters (currently {length}).",
    },
    "max_length": {
        "de": "Bitte geben Sie höchstens {max_length} Zeichen ein (derzeit {length}).",
        "en": "Please enter at most {max_length} characters (currently {length}).",
    },
    "pattern": {
        "de": "Die Eingabe hat nicht das erwartete Format.",
        "en": "The input does not have the expected format.",
    },
    "invalid_email": {
        "de": "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de.",
        "en": "Please enter a valid e-mail address, e.g. name@example.org.",
    },
    "invalid_url": {
        "de": "Bitte geben Sie eine vollständige Internetadresse ein, beginnend mit https://.",
        "en": "Please enter a complete web address starting with https://.",
    },
    "invalid_tel": {
        "de": "Bitte geben Sie eine gültige Telefonnummer ein (Ziffern, Leerzeichen, + - / ( )).",
        "en": "Please enter a valid phone number (digits, spaces, + - / ( )).",
    },
    "invalid_characters": {
        "de": "Der Text enthält unzulässige Zeichen (Steuerzeichen oder ungültiges "
              "Unicode).",
        "en": "The text contains characters that are not allowed (control characters or "
              "invalid Unicode).",
    },
    "number_too_large": {
        "de": "Bitte geben Sie eine kleinere Zahl ein (höchstens 15 Stellen vor dem Komma).",
        "en": "Please enter a smaller number (at most 15 digits before the decimal point).",
    },
    "not_a_number": {
        "de": "Bitte geben Sie eine Zahl ein.",
        "en": "Please enter a number.",
    },
    "min": {
        "de": "Bitte geben Sie einen Wert von mindestens {min} ein.",
        "en": "Please enter a value of at least {min}.",
    },
    "max": {
        "de": "Bitte geben Sie einen Wert von höchstens {max} ein.",
        "en": "Please enter a value of at most {max}.",
    },
    "step": {
        "de": "Bitte geben Sie einen Wert in Schritten von {step} ein.",
        "en": "Please enter a value in steps of {step}.",
    },
    "not_a_date": {
        "de": "Bitte geben Sie ein gültiges Datum ein (JJJJ-MM-TT).",
        "en": "Please enter a valid date (YYYY-MM-DD).",
    },
    "date_min": {
        "de": "Bitte geben Sie ein Datum ab dem {min} ein.",
        "en": "Please enter a date on or after {min}.",
    },
    "date_max": {
        "de": "Bitte geben Sie ein Datum bis zum {max} ein.",
        "en": "Please enter a date on or before {max}.",
    },
    "not_an_option": {
        "de": "Bitte wählen Sie eine der angebotenen Optionen.",
        "en": "Please choose one of the options offered.",
    },
    "min_selected": {
        "de": "Bitte wählen Sie mindestens {min_selected} Optionen.",
        "en": "Please choose at least {min_selected} options.",
    },
    "max_selected": {
        "de": "Bitte wählen Sie höchstens {max_selected} Optionen.",
        "en": "Please choose at most {max_selected} options.",
    },
    "not_a_checkbox": {
        "de": "Bitte setzen Sie das Häkchen oder lassen Sie es leer.",
        "en": "Please tick the box or leave it empty.",
    },
    "not_rows": {
        "de": "Die Zeilen konnten nicht gelesen werden.",
        "en": "The rows could not be read.",
    },
    "min_rows": {
        "de": "Bitte füllen Sie mindestens {min} Zeilen aus.",
        "en": "Please fill in at least {min} rows.",
    },
    "max_rows": {
        "de": "Bitte füllen Sie höchstens {max} Zeilen aus.",
        "en": "Please fill in at most {max} rows.",
    },
    "file_required": {
        "de": "Bitte laden Sie eine Datei hoch.",
        "en": "Please upload a file.",
    },
    "not_a_file": {
        "de": "Die Datei konnte nicht gelesen werden. Bitte laden Sie sie erneut hoch.",
        "en": "The file could not be read. Please upload it again.",
    },
    "too_many_files": {
        "de": "Bitte laden Sie höchstens {max_files} Dateien hoch.",
        "en": "Please upload at most {max_files} files.",
    },
    "file_type": {
        "de": "Die Datei „{name}“ hat nicht die erlaubte Art. Bitte laden Sie eine Datei der "
              "angegebenen Art hoch.",
        "en": "The file “{name}” is not of an allowed type. Please upload a file of the type "
              "asked for.",
    },
    "file_too_large": {
        "de": "Die Datei „{name}“ ist zu groß: höchstens {max_size} MB.",
        "en": "The file “{name}” is too large: at most {max_size} MB.",
    },
    "in_row": {
        "de": "Zeile {row}, {field}: {message}",
        "en": "Row {row}, {field}: {message}",
    },
}


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _local(value: Any, language: str) -> Any:
    """Numbers and dates as German readers write them: ``0,25`` and ``31.12.2026``."""
    if language != "de":
        return value
    if isinstance(value, float):
        return str(value).replace(".", ",")
    if isinstance(value, str) and (day := _ISO_DATE.match(value)):
        return f"{day[3]}.{day[2]}.{day[1]}"
    return value


def catalogue(language: str) -> dict[str, str]:
    """Every message template in ``language`` (German when unknown), for the browser, which
    words its live messages from the very same texts (``{name}`` placeholders)."""
    return {code: texts.get(language) or texts["de"] for code, texts in MESSAGES.items()}


def message(code: str, language: str, params: Mapping[str, Any] | None = None) -> str:
    """The sentence for ``code`` in ``language`` (German when the language is unknown)."""
    texts = MESSAGES[code]
    template = texts.get(language) or texts["de"]
    if language not in texts:
        language = "de"
    return template.format(**{k: _local(v, language) for k, v in (params or {}).items()})
