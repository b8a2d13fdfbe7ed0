"""Benchmark: rules evaluation cost as forms grow (run ``python bench/rules.py``).

DEFINITIONS §2.4 promises that evaluation follows the dependency order once, so its cost grows
linearly with fields + rule conditions. This script builds synthetic forms of 100, 1,000 and
10,000 fields with as many rules (chains, fan-outs, all/any/not groups, step rules), times one
evaluation of each, and checks the growth between consecutive sizes (10× the size should cost
at most 12× the time), plus the absolute time of a 5,000-field, 5,000-rule form (< 10 ms) and
of a budget with a repeating group of 20 rows × 10 fields (a row rule, a calculated line total,
a date bounded by another) and calculated totals over the rows (< 10 ms).
``compile_form`` runs once per form outside the timing; loading and compiling are reported apart.

Machines are noisy, so every figure is also printed as a ratio to a baseline measured in the
same run: a trivial loop that touches each field's answer once. Wall-clock times
(``time.perf_counter``) are reported as the median and the best of the samples. Growth is judged
on CPU time (``time.process_time``, best sample): on a shared machine the wall clock mostly
measures who else had the CPU. It is also shown relative to the baseline's own growth, because
memory caches make even the trivial loop slower per field as forms outgrow them. Each size is
loaded, compiled and timed in a process of its own (this script, re-run with ``--size``), so no
size inherits the heap another one left behind (in one shared process the smaller forms would
be timed among the holes that loading the 10,000-field form freed). The process
exits non-zero when growth is far off linear (> 15× per 10× size) in CPU time *and* relative to
the baseline, so a pipeline can run it without failing on a neighbour's busy moment.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from engine.definitions import load_form  # noqa: E402
from engine.evaluation import CompiledForm, compile_form, evaluate  # noqa: E402
from engine.model import FormDefinition  # noqa: E402

GROWTH_TARGET = 12.0
GROWTH_LIMIT = 15.0
ABSOLUTE_TARGET_MS = 10.0
FIELDS_PER_STEP = 50
FAN_OUT = 8
KINDS = ("text", "number", "select", "checkbox", "date")
"""Field i has type KINDS[i % 5]; so every field with i % 5 == 2 is a select (a fan-out hub)."""

Json = dict[str, Any]


def _field(i: int) -> Json:
    kind = KINDS[i % len(KINDS)]
    raw: Json = {"id": f"f{i}", "type": kind, "label": {"de": f"Feld {i}", "en": f"Field {i}"}}
    if kind == "text":
        raw["max_length"] = 200
    elif kind == "number":
        raw.update(min=0, max=10**9)
    elif kind == "select":
        raw["options"] = [{"value": "ja", "label": "Ja"}, {"value": "nein", "label": "Nein"}]
    return raw


def _answer(i: int) -> Any:
    return {"text": f"Antwort {i}", "number": str(i), "select": "ja", "checkbox": True,
            "date": "2024-05-17"}[KINDS[i % len(KINDS)]]


def _equal_condition(i: int) -> Json:
    """A condition on field i that its benchmark answer makes true, fitting its type."""
    kind = KINDS[i % len(KINDS)]
    if kind == "text":
        return {"field": f"f{i}", "op": "contains", "value": "antwort"}
    if kind == "number":
        return {"field": f"f{i}", "op": "greater_or_equal", "value": 0}
    if kind == "select":
        return {"field": f"f{i}", "op": "one_of", "value": ["ja"]}
    if kind == "checkbox":
        return {"field": f"f{i}", "op": "equal_to", "value": True}
    return {"field": f"f{i}", "op": "less_than", "value": "2030-01-01"}


def _rule_for(i: int, size: int) -> Json:
    """The rule introduced with field i (i ≥ 1); it only reads fields before its targets."""
    if i % FIELDS_PER_STEP == 0:  # the first field of a later step: the step's own rule
        return {"when": {"field": f"f{i - 1}", "op": "is_not_empty"},
                "show": [f"s{i // FIELDS_PER_STEP}"]}
    hub = i // FIELDS_PER_STEP * FIELDS_PER_STEP + 2
    shape = i % 4
    if shape == 3 and hub < i:  # fan-out: one answer shows many fields
        targets = [f"f{t}" for t in range(i, min(i + FAN_OUT, size))]
        return {"when": {"field": f"f{hub}", "op": "equal_to", "value": "ja"}, "show": targets}
    if shape == 2 and i >= 4:  # a group over several earlier fields requires or hides
        group = {"all": [
            {"field": f"f{i - 2}", "op": "is_not_empty"},
            {"any": [_equal_condition(i - 3), {"not": {"field": f"f{i - 4}", "op": "is_empty"}}]},
        ]}
        if i % 20 == 2:  # hidden only when the group fails, so full answers keep it visible
            return {"when": {"not": group}, "hide": [f"f{i}"]}
        return {"when": group, "require": [f"f{i}"]}
    # chain: field i is shown when field i-1 has a value
    return {"when": {"field": f"f{i - 1}", "op": "is_not_empty"}, "show": [f"f{i}"]}


def build_form(size: int) -> Json:
    """A form of ``size`` fields in steps of 50 and exactly ``size`` rules."""
    steps = [
        {"id": f"s{s}", "title": f"Schritt {s + 1}",
         "fields": [_field(i) for i in range(s * FIELDS_PER_STEP,
                                             min((s + 1) * FIELDS_PER_STEP, size))]}
        for s in range((size + FIELDS_PER_STEP - 1) // FIELDS_PER_STEP)
    ]
    rules = [{"when": {"all": []}, "require": ["f0"]}]
    rules += [_rule_for(i, size) for i in range(1, size)]
    return {"id": f"bench-{size}", "title": "Benchmark", "languages": ["de", "en"],
            "steps": steps, "rules": rules}


def build_answers(size: int) -> dict[str, Any]:
    """Every field answered, so every chain holds: the most work an evaluation can do."""
    return {f"f{i}": _answer(i) for i in range(size)}


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def sample(action: Callable[[], object], batch: int) -> Sample:
    """Seconds per call, averaged over ``batch`` back-to-back calls (smooths tiny timings)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batch):
        action()
    return Sample((time.perf_counter() - wall) / batch, (time.process_time() - cpu) / batch)


def baseline(field_ids: list[str], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The least any evaluation must do: look at each field's answer once."""
    seen: dict[str, Any] = {}
    for field_id in field_ids:
        seen[field_id] = answers.get(field_id)
    return seen


@dataclass
class Case:
    """One benchmark form, ready to evaluate, with its setup costs and timing samples."""

    size: int
    load: float
    compile: float
    evaluate_once: Callable[[], object]
    baseline_once: Callable[[], object]
    samples: list[Sample] = field(default_factory=list)
    baseline_samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def best(self) -> float:
        return min(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return min(s.cpu for s in self.samples)

    @property
    def baseline_cpu(self) -> float:
        return min(s.cpu for s in self.baseline_samples)


def prepare(size: int) -> Case:
    """Build, load and compile the form of ``size`` fields; time loading and compiling."""
    raw = build_form(size)
    answers = build_answers(size)
    start = time.perf_counter()
    form: FormDefinition = load_form(raw)
    load = time.perf_counter() - start
    compile_time = min(sample(lambda: compile_form(form), 1).wall for _ in range(3))
    compiled: CompiledForm = compile_form(form)
    result = evaluate(compiled, answers)
    assert result.invalid == [] and len(result.visible_fields) == size, "benchmark form broken"
    field_ids = [f.id for f in form.fields()]
    return Case(size, load, compile_time,
                evaluate_once=lambda: evaluate(compiled, answers),
                baseline_once=lambda: baseline(field_ids, answers))


def measure(case: Case, repeat: int) -> None:
    """Samples after a warm-up; each evaluation sample is paired with a baseline sample taken
    right after it, so a busy moment on a shared machine hits both alike."""
    gc.collect()
    sample(case.evaluate_once, 3)
    for _ in range(repeat):
        case.samples.append(sample(case.evaluate_once, max(1, 1_000 // case.size)))
        case.baseline_samples.append(sample(case.baseline_once, max(1, 200_000 // case.size)))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def measured(size: int, repeat: int) -> Case:
    """One size, loaded, compiled and timed in a fresh process (see the module's docstring)."""
    done = subprocess.run(
        [sys.executable, __file__, "--size", str(size), "--repeat", str(repeat)],
        check=True, capture_output=True, text=True,
    )
    figures = json.loads(done.stdout)
    case = Case(size, figures["load"], figures["compile"], lambda: None, lambda: None)
    case.samples = [Sample(*s) for s in figures["samples"]]
    case.baseline_samples = [Sample(*s) for s in figures["baseline_samples"]]
    return case


def _measure_here(size: int, repeat: int) -> int:
    case = prepare(size)
    measure(case, repeat)
    print(json.dumps({
        "load": case.load, "compile": case.compile,
        "samples": [(s.wall, s.cpu) for s in case.samples],
        "baseline_samples": [(s.wall, s.cpu) for s in case.baseline_samples],
    }))
    return 0


ROWS = 20
ROW_FIELDS = 10


def build_rows_form() -> Json:
    """A budget of ``ROWS`` rows of ``ROW_FIELDS`` fields (text, numbers, a choice, a row rule,
    a calculated line total) with calculated totals over the rows and a rule reading one."""
    cells: list[Json] = [
        {"id": "item", "type": "text", "label": "Item", "required": True, "max_length": 200},
        {"id": "kind", "type": "select", "label": "Kind",
         "options": [{"value": "goods", "label": "Goods"}, {"value": "other", "label": "Other"}]},
        {"id": "note", "type": "text", "label": "Note"},
        {"id": "qty", "type": "number", "label": "Qty", "min": 0},
        {"id": "price", "type": "number", "label": "Price", "min": 0, "step": 0.01},
        {"id": "line", "type": "calculated", "label": "Line",
         "expression": "round(qty * price, 2)"},
        {"id": "vat", "type": "number", "label": "VAT", "min": 0, "max": 100},
        {"id": "start", "type": "date", "label": "Start"},
        {"id": "end", "type": "date", "label": "End", "min": {"field": "start"}},
        {"id": "paid", "type": "checkbox", "label": "Paid"},
    ]
    return {
        "id": "rows", "title": "Rows", "languages": ["en"],
        "steps": [{"id": "budget", "title": "Budget", "fields": [
            {"id": "costs", "type": "group", "label": "Costs", "repeat": {"min": 1, "max": ROWS},
             "fields": cells[:ROW_FIELDS]},
            {"id": "total", "type": "calculated", "label": "Total",
             "expression": "round(sum(costs.line), 2)"},
            {"id": "gross", "type": "calculated", "label": "Gross",
             "expression": "round(total * 1.19, 2)"},
            {"id": "items", "type": "calculated", "label": "Items", "expression": "count(costs)"},
            {"id": "largest", "type": "calculated", "label": "Largest",
             "expression": "max(costs.line)"},
            {"id": "requested", "type": "number", "label": "Requested",
             "max": {"field": "total"}},
            {"id": "plan", "type": "text", "label": "Plan"},
        ]}],
        "rules": [
            {"when": {"field": "kind", "op": "equal_to", "value": "other"},
             "show": ["note"], "require": ["note"]},
            {"when": {"field": "gross", "op": "greater_than", "value": 10000},
             "require": ["plan"]},
        ],
    }


def build_rows_answers() -> dict[str, Any]:
    rows = [{"item": f"Item {n}", "kind": "other" if n % 3 == 0 else "goods",
             "note": "why", "qty": str(n + 1), "price": f"{n * 10},50", "vat": "19",
             "start": "2027-01-01", "end": "2027-12-31", "paid": n % 2 == 0}
            for n in range(ROWS)]
    return {"costs": rows, "requested": "100", "plan": "own funds"}


@dataclass(frozen=True)
class RowsTiming:
    median: float
    best: float


def measure_rows(repeat: int) -> RowsTiming:
    """Evaluations of the rows form (what the server does per change of a step page): the
    median and the best wall-clock time of ``repeat`` samples of 10 calls each."""
    compiled = compile_form(load_form(build_rows_form()))
    answers = build_rows_answers()
    result = evaluate(compiled, answers)
    assert result.answers is not None, result.errors
    samples = [sample(lambda: evaluate(compiled, answers), 10).wall for _ in range(repeat)]
    return RowsTiming(statistics.median(samples), min(samples))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25, help="timing samples per size")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one size, in a child
    args = parser.parse_args(argv)
    if args.size is not None:
        return _measure_here(args.size, args.repeat)

    load_average = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}, load average {load_average}")
    growth_cases = [measured(size, args.repeat) for size in (100, 1_000, 10_000)]
    absolute = measured(5_000, args.repeat)

    columns = ("fields+rules", "load_form", "compile", "eval median", "eval best",
               "eval CPU", "baseline CPU", "eval/base", "CPU growth", "vs baseline")
    widths = (12, 12, 11, 12, 11, 11, 12, 9, 14, 11)
    print(" ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    failed = False
    previous: Case | None = None
    for case in growth_cases:
        growth = relative = ""
        if previous is not None:
            ratio = case.cpu / previous.cpu
            baseline_ratio = case.baseline_cpu / previous.baseline_cpu
            normalised = ratio / baseline_ratio * (case.size / previous.size)
            verdict = "ok" if ratio <= GROWTH_TARGET else "MISSED"
            if ratio > GROWTH_LIMIT and normalised > GROWTH_LIMIT:
                verdict, failed = "FAILED", True
            growth, relative = f"{ratio:.1f}× {verdict}", f"{normalised:.1f}×"
        cells = (f"{case.size:,}", _ms(case.load), _ms(case.compile), _ms(case.median),
                 _ms(case.best), _ms(case.cpu), _ms(case.baseline_cpu),
                 f"{case.cpu / case.baseline_cpu:.0f}×", growth, relative)
        print(" ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
        previous = case

    rows = measure_rows(args.repeat)
    verdict = "ok" if rows.median * 1000 < ABSOLUTE_TARGET_MS else "MISSED"
    print(f"{ROWS} rows × {ROW_FIELDS} fields and calculated totals: evaluate median "
          f"{_ms(rows.median)} (target < {ABSOLUTE_TARGET_MS:g} ms: {verdict}), "
          f"best {_ms(rows.best)}")

    verdict = "ok" if absolute.median * 1000 < ABSOLUTE_TARGET_MS else "MISSED"
    print(f"5,000 fields + 5,000 rules: evaluate median {_ms(absolute.median)} "
          f"(target < {ABSOLUTE_TARGET_MS:g} ms: {verdict}), best {_ms(absolute.best)}, "
          f"CPU {_ms(absolute.cpu)} = {absolute.cpu / absolute.baseline_cpu:.0f}× baseline; "
          f"compile {_ms(absolute.compile)}, load_form {_ms(absolute.load)}")
    if failed:
        print(f"FAILED: evaluation grows more than {GROWTH_LIMIT:g}× per 10× size", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
