"""Rendering workflow templates: languages, escaping, and the sandbox's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from engine.exceptions import TemplateFailed
from engine.model import Template, WorkflowDefinition
from engine.templating import check_templates, render_template, text_to_html

SUBMISSION = {
    "id": "s1", "state": "submitted", "reference": "M-2026-00042",
    "created_at": "2026-01-27T10:00:00+00:00", "form_title": "Mitgliedsantrag",
    "status_url": "http://127.0.0.1:5000/s/abc",
}
ANSWERS = {"name": "Jörg <b>Müller</b> & Co", "age": 42}


def workflow(**templates: Template) -> WorkflowDefinition:
    return WorkflowDefinition(
        id="review", title={"de": "Prüfung", "en": "Review"}, initial="submitted",
        states=(), transitions=(), templates=templates,
    )


RECEIVED = Template(
    subject={"de": "Eingang {{ submission.reference }}: {{ answers.name }}",
             "en": "Received {{ submission.reference }}"},
    body={"de": "Hallo {{ answers.name }},\n\nwir haben Ihren Antrag erhalten.\n"
                "Status: {{ submission.status_url }}",
          "en": "Hello {{ answers.name }},\n\nwe received your application."},
)


def render(wf: WorkflowDefinition, name: str, language: str, **kw: Any) -> Any:
    return render_template(wf, name, language=language, submission=SUBMISSION,
                           answers=ANSWERS, **kw)


def test_renders_german_and_english() -> None:
    wf = workflow(received=RECEIVED)
    de = render(wf, "received", "de")
    en = render(wf, "received", "en")
    assert de.subject == "Eingang M-2026-00042: Jörg <b>Müller</b> & Co"
    assert de.text.startswith("Hallo Jörg <b>Müller</b> & Co,\n\nwir haben")
    assert en.subject == "Received M-2026-00042"
    assert en.text == "Hello Jörg <b>Müller</b> & Co,\n\nwe received your application."
    assert (de.language, en.language) == ("de", "en")


def test_missing_language_falls_back_to_default_language() -> None:
    wf = workflow(received=RECEIVED)
    assert render(wf, "received", "fr", default_language="en").subject == "Received M-2026-00042"
    # Without an explicit default, the workflow's first language (its title's) is used.
    assert render(wf, "received", "fr").subject.startswith("Eingang M-2026-00042")
    partial = Template(subject={"de": "Betreff", "en": "Subject"}, body={"de": "nur deutsch"})
    assert render(workflow(p=partial), "p", "en").text == "nur deutsch"


def test_html_is_autoescaped_but_subject_and_text_are_not() -> None:
    tpl = Template(subject={"de": "{{ answers.name }}"}, body={"de": "{{ answers.name }}"},
                   html={"de": "<p>Hallo <em>{{ answers.name }}</em></p>"})
    out = render(workflow(t=tpl), "t", "de")
    assert out.subject == "Jörg <b>Müller</b> & Co"
    assert out.text == "Jörg <b>Müller</b> & Co"
    assert out.html == "<p>Hallo <em>Jörg &lt;b&gt;Müller&lt;/b&gt; &amp; Co</em></p>"


def test_html_derived_from_text_escapes_and_makes_paragraphs() -> None:
    out = render(workflow(received=RECEIVED), "received", "de")
    assert out.html == (
        "<p>Hallo Jörg &lt;b&gt;Müller&lt;/b&gt; &amp; Co,</p>\n"
        "<p>wir haben Ihren Antrag erhalten.<br>\n"
        "Status: http://127.0.0.1:5000/s/abc</p>"
    )
    assert text_to_html("a\n\n\n  \n\nb") == "<p>a</p>\n<p>b</p>"


def test_subject_is_one_line_even_if_the_template_breaks_it() -> None:
    tpl = Template(subject={"de": "Eins\n{{ submission.reference }}\r\n"}, body={"de": "x"})
    assert render(workflow(t=tpl), "t", "de").subject == "Eins M-2026-00042"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ answers.__class__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ answers.pop('name') }}",
])
def test_sandbox_refuses_unsafe_access(source: str) -> None:
    tpl = Template(subject={"de": "x"}, body={"de": source})
    with pytest.raises(TemplateFailed) as caught:
        render(workflow(evil=tpl), "evil", "de")
    assert caught.value.template == "evil"
    assert caught.value.part == "body"
    assert "unsafe" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_undefined_name_is_a_clear_error_naming_template_part_and_line() -> None:
    tpl = Template(subject={"de": "ok"}, body={"de": "Hallo\n{{ answers.nmae }}"})
    with pytest.raises(TemplateFailed) as caught:
        render(workflow(received=tpl), "received", "de")
    message = str(caught.value)
    assert message == (
        "template 'received' (body, de): line 2: 'dict object' has no attribute 'nmae'"
    )
    assert caught.value.code == "template_failed"


def test_undefined_top_level_name_and_default_filter() -> None:
    bad = Template(subject={"de": "{{ applicant }}"}, body={"de": "x"})
    with pytest.raises(TemplateFailed, match=r"\(subject, de\).*'applicant' is undefined"):
        render(workflow(bad=bad), "bad", "de")
    ok = Template(subject={"de": "{{ answers.phone | default('–') }}"}, body={"de": "x"})
    assert render(workflow(ok=ok), "ok", "de").subject == "–"


def test_runtime_errors_become_template_failed() -> None:
    tpl = Template(subject={"de": "x"}, body={"de": "{{ 1 / 0 }}"})
    with pytest.raises(TemplateFailed, match="ZeroDivisionError: division by zero"):
        render(workflow(t=tpl), "t", "de")


def test_unknown_template_is_named() -> None:
    with pytest.raises(TemplateFailed, match="no such template.*received"):
        render(workflow(received=RECEIVED), "accepted", "de")


def test_transition_context() -> None:
    tpl = Template(subject={"de": "{{ transition.id }} by {{ transition.actor }}"},
                   body={"de": "{% if transition.comment %}{{ transition.comment }}{% endif %}"})
    wf = workflow(t=tpl)
    out = render(wf, "t", "de",
                 transition={"id": "reject", "actor": "c@example.org", "comment": "Leider"})
    assert (out.subject, out.text) == ("reject by c@example.org", "Leider")
    assert render(wf, "t", "de").text == ""


def test_check_templates_reports_syntax_errors_with_pointers() -> None:
    wf = workflow(
        received=RECEIVED,
        broken=Template(subject={"de": "{% if %}", "en": "fine"}, body={"": "{{ answers.x"},
                        html={"en": "<p>{% for %}</p>"}),
    )
    problems = check_templates(wf)
    assert [p.pointer for p in problems] == [
        "/templates/broken/subject/de", "/templates/broken/body", "/templates/broken/html/en",
    ]
    assert all(p.severity == "error" for p in problems)
    assert problems[1].format().startswith(
        "/templates/broken/body: template syntax error on line 1"
    )
    assert check_templates(workflow(received=RECEIVED)) == []


def test_html_only_in_the_language_the_body_was_taken_from() -> None:
    tpl = Template(subject={"de": "Betreff", "en": "Subject"},
                   body={"de": "Hallo", "en": "Hello"},
                   html={"de": "<p><strong>Hallo</strong></p>"})
    wf = workflow(t=tpl)
    de = render(wf, "t", "de")
    en = render(wf, "t", "en")
    assert de.html == "<p><strong>Hallo</strong></p>"
    assert (en.text, en.html) == ("Hello", "<p>Hello</p>")  # never German HTML beside English
    fr = render(wf, "t", "fr", default_language="de")
    assert (fr.language, fr.subject, fr.html) == ("de", "Betreff", "<p><strong>Hallo</strong></p>")


def test_error_names_the_language_actually_rendered() -> None:
    tpl = Template(subject={"de": "ok"}, body={"de": "{{ nope }}"})
    with pytest.raises(TemplateFailed) as caught:
        render(workflow(t=tpl), "t", "en", default_language="de")
    assert (caught.value.part, caught.value.language) == ("body", "de")
