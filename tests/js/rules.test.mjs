// The browser's rule engine (web/static/formflow-rules.js) against the conformance vectors that
// the Python engine must pass too, plus the semantics the vectors do not pin down.
// Run: node --test tests/js/   (no npm packages; Node ≥ 20)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scriptPath = join(root, 'web', 'static', 'formflow-rules.js');
const require = createRequire(import.meta.url);
const Rules = require(scriptPath);
const vectors = JSON.parse(readFileSync(join(root, 'tests', 'rule-vectors.json'), 'utf8'));

const COMPARED = ['visible_fields', 'visible_steps', 'required', 'invalid', 'answers'];

/** The vectors' rule: an error at the pointer, inside it, or at its parent. */
function pointerMatches(actual, expected) {
  const wanted = Array.isArray(expected) ? expected : [expected];
  return wanted.some((pointer) => {
    const parent = pointer.slice(0, pointer.lastIndexOf('/'));
    return actual === pointer || actual.startsWith(pointer + '/') || actual === parent;
  });
}

function compileError(definition) {
  try {
    Rules.compile(definition);
  } catch (error) {
    return error;
  }
  return null;
}

/** A one-step form; `fields` and `rules` as in a definition file. */
function form(fields, rules = []) {
  return { id: 't', title: 'T', languages: ['de'], steps: [{ id: 's1', title: 'S', fields }], rules };
}

// ------------------------------------------------------------------ conformance vectors

for (const vector of vectors.cases) {
  test(`vector: ${vector.name}`, () => {
    const compiled = Rules.compile(vector.form);
    const result = Rules.evaluate(compiled, vector.answers);
    for (const key of COMPARED) {
      assert.deepStrictEqual(result[key], vector.expect[key], `${key} of "${vector.name}"`);
    }
    // Every invalid field carries at least one error code, and only those do.
    assert.deepStrictEqual(Object.keys(result.errors).sort(), result.invalid);
    for (const codes of Object.values(result.errors)) {
      assert.ok(codes.length > 0 && codes.every((code) => /^[a-z_]+$/.test(code)), codes);
    }
  });
}

// The schema/linter problems that only the server checks (texts shown to people).
const SERVER_ONLY = new Set(['text field without a label',
  // The browser only ever gets definitions the server has accepted; a pattern outside the
  // subset (in a version stored before it was enforced) it skips, as the server does.
  'pattern outside the subset RE2 and the browser share (backreference)',
  'pattern outside the subset RE2 and the browser share (\\d)',
  'control character in a label', 'definition nested more than 64 levels deep']);

for (const invalid of vectors.invalid_definitions) {
  const pointers = Array.isArray(invalid.pointer) ? invalid.pointer : [invalid.pointer];
  const aboutRules = pointers.some((p) => p === '/rules' || p.startsWith('/rules/'));
  test(`invalid definition: ${invalid.name}`, () => {
    const error = compileError(invalid.form);
    if (SERVER_ONLY.has(invalid.name) && !aboutRules) {
      assert.equal(error, null, 'labels are not the browser engine\'s business');
      return;
    }
    assert.ok(error instanceof Rules.FormflowDefinitionError, `${invalid.name} must not compile`);
    assert.ok(pointerMatches(error.pointer, invalid.pointer),
      `error at ${error.pointer}, expected ${JSON.stringify(invalid.pointer)}: ${error.message}`);
    if (error.cycle) {
      // The cycle names exactly the fields its rules (or calculations) connect.
      const involved = new Set();
      for (const rule of invalid.form.rules) {
        involved.add(rule.when.field);
        for (const id of rule.show || []) involved.add(id);
      }
      for (const step of invalid.form.steps) {
        for (const field of step.fields) if (field.type === 'calculated') involved.add(field.id);
      }
      assert.deepStrictEqual(new Set(error.cycle), involved);
      assert.equal(error.cycle[0], error.cycle[error.cycle.length - 1]);
      assert.ok(error.message.includes(error.cycle.join(' → ')), error.message);
    }
  });
}

test('every vector about rules is refused at compile time, before any evaluation', () => {
  const aboutRules = vectors.invalid_definitions.filter((invalid) =>
    [].concat(invalid.pointer).some((p) => p.startsWith('/rules')));
  assert.ok(aboutRules.length >= 2, 'the vectors cover unknown operators and cycles');
  for (const invalid of aboutRules) {
    assert.throws(() => Rules.compile(invalid.form), Rules.FormflowDefinitionError, invalid.name);
  }
});

// ------------------------------------------------------------------ loading

test('the script works through require(), import() and as a classic <script>', async () => {
  const imported = await import(pathToFileURL(scriptPath).href);
  assert.equal(typeof imported.default.compile, 'function');
  assert.equal(typeof imported.default.evaluate, 'function');
  const sandbox = {};
  vm.runInNewContext(readFileSync(scriptPath, 'utf8'), sandbox);
  const browser = sandbox.FormflowRules;
  assert.equal(typeof browser.compile, 'function');
  const vector = vectors.cases[2];
  const result = browser.evaluate(browser.compile(vector.form), vector.answers);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(result.answers)), vector.expect.answers);
});

test('evaluate is deterministic and leaves its inputs untouched', () => {
  for (const vector of vectors.cases) {
    const definition = JSON.parse(JSON.stringify(vector.form));
    const answers = JSON.parse(JSON.stringify(vector.answers));
    const compiled = Rules.compile(definition);
    const first = JSON.stringify(Rules.evaluate(compiled, answers));
    const second = JSON.stringify(Rules.evaluate(compiled, answers));
    const recompiled = JSON.stringify(Rules.evaluate(Rules.compile(definition), answers));
    assert.equal(second, first);
    assert.equal(recompiled, first);
    assert.deepStrictEqual(answers, vector.answers);
    assert.deepStrictEqual(definition, vector.form);
    assert.deepStrictEqual(Rules.compile(definition).order, compiled.order);
  }
});

test('a raw definition is compiled on the fly by evaluate', () => {
  const vector = vectors.cases[1];
  assert.deepStrictEqual(Rules.evaluate(vector.form, vector.answers).required,
    vector.expect.required);
});

// ------------------------------------------------------------------ dependency order and cycles

test('compile orders every field after its step and after the fields its rules read', () => {
  const compiled = Rules.compile(vectors.cases.find((c) => c.name.includes('later step')).form);
  const position = new Map(compiled.order.map((node, i) => [node.id, i]));
  assert.ok(position.get('trigger') < position.get('early'));
  assert.ok(position.get('s2') < position.get('trigger'));
  assert.ok(position.get('s1') < position.get('early'));
});

test('a step shown by a field on itself is a cycle naming both', () => {
  const definition = {
    id: 't', title: 'T', languages: ['de'],
    steps: [{ id: 's1', title: 'S', fields: [{ id: 'x', type: 'checkbox', label: 'X' }] }],
    rules: [{ when: { field: 'x', op: 'equal_to', value: true }, show: ['s1'] }],
  };
  const error = compileError(definition);
  assert.ok(error instanceof Rules.FormflowDefinitionError);
  assert.equal(error.pointer, '/rules');
  assert.match(error.message, /s1 → x → s1|x → s1 → x/);
});

test('a field hiding itself is a cycle; require-only loops are not', () => {
  const selfHide = form([{ id: 'a', type: 'text', label: 'A' }],
    [{ when: { field: 'a', op: 'is_empty' }, hide: ['a'] }]);
  assert.match(compileError(selfHide).message, /a → a/);
  // `require` changes no answer, so it cannot feed back into visibility.
  const requireLoop = form(
    [{ id: 'a', type: 'text', label: 'A' }, { id: 'b', type: 'text', label: 'B' }],
    [{ when: { field: 'a', op: 'is_not_empty' }, require: ['b'] },
      { when: { field: 'b', op: 'is_not_empty' }, require: ['a'] }]);
  const result = Rules.evaluate(Rules.compile(requireLoop), { a: 'x' });
  assert.deepStrictEqual(result.required, ['b']);
  assert.deepStrictEqual(result.invalid, ['b']);
});

test('a chain of 3000 dependent fields compiles and cascades without recursion limits', () => {
  const count = 3000;
  const fields = [];
  const rules = [];
  for (let i = 0; i < count; i += 1) {
    fields.push({ id: `f${i}`, type: 'text', label: `F${i}` });
    if (i > 0) rules.push({ when: { field: `f${i - 1}`, op: 'is_not_empty' }, show: [`f${i}`] });
  }
  // Rules listed backwards, so the order must come from the graph, not from the file.
  const compiled = Rules.compile(form(fields, rules.reverse()));
  const answers = {};
  for (let i = 0; i < count; i += 1) answers[`f${i}`] = i === 1500 ? '' : 'v';
  const result = Rules.evaluate(compiled, answers);
  assert.equal(result.visible_fields.length, 1501); // f0 … f1500; f1500 empty stops the chain
  assert.equal(result.answers.f1500, null);
  assert.equal(result.answers.f1501, undefined);
});

test('an unknown operator fails at load time, with the rule\'s pointer', () => {
  const definition = form([{ id: 'a', type: 'text', label: 'A' }, { id: 'b', type: 'text' }],
    [{ when: { any: [{ field: 'a', op: 'matches', value: 'x' }] }, show: ['b'] }]);
  const error = compileError(definition);
  assert.equal(error.pointer, '/rules/0/when/any/0/op');
  assert.match(error.message, /unknown operator "matches"/);
});

test('ops and values that do not fit the field type are refused', () => {
  const fields = [
    { id: 'n', type: 'number', label: 'N' },
    { id: 'c', type: 'checkbox', label: 'C' },
    { id: 'l', type: 'checkboxes', label: 'L', options: [{ value: 'de', label: 'DE' }] },
    { id: 'p', type: 'paragraph', content: 'P' },
    { id: 't', type: 'text', label: 'T' },
  ];
  const bad = [
    [{ field: 'n', op: 'equal_to', value: 'abc' }, '/rules/0/when/value'],
    [{ field: 'n', op: 'contains', value: '1' }, '/rules/0/when/op'],
    [{ field: 'c', op: 'greater_than', value: true }, '/rules/0/when/op'],
    [{ field: 'c', op: 'equal_to', value: 'yes' }, '/rules/0/when/value'],
    [{ field: 'c', op: 'one_of', value: [true] }, '/rules/0/when/op'],
    [{ field: 'l', op: 'contains', value: 'fr' }, '/rules/0/when/value'],
    [{ field: 'l', op: 'one_of', value: 'de' }, '/rules/0/when/value'],
    [{ field: 't', op: 'contains' }, '/rules/0/when/value'],
    [{ field: 't', op: 'starts_with', value: 5 }, '/rules/0/when/value'],
    [{ field: 't', op: 'is_empty', value: 'x' }, '/rules/0/when/value'],
    [{ field: 'p', op: 'is_empty' }, '/rules/0/when/field'],
    [{ field: 's1', op: 'is_empty' }, '/rules/0/when/field'],
    [{ field: 'n', op: 'less_than' }, '/rules/0/when/value'],
    [{ field: 'n', op: 'less_than', value: '  ' }, '/rules/0/when/value'],
    [{ all: [], any: [] }, '/rules/0/when'],
    [{ op: 'is_empty' }, '/rules/0/when'],
  ];
  for (const [when, pointer] of bad) {
    const error = compileError(form(fields, [{ when, show: ['t'] }]));
    assert.ok(error, JSON.stringify(when));
    assert.equal(error.pointer, pointer, JSON.stringify(when));
  }
  const paragraphRequired = compileError(form(fields,
    [{ when: { field: 'n', op: 'is_empty' }, require: ['p'] }]));
  assert.equal(paragraphRequired.pointer, '/rules/0/require/0');
});

// ------------------------------------------------------------------ operators

test('casefold: "Straße" and "STRASSE" are the same text for text operators', () => {
  assert.equal(Rules.casefold('Straße'), Rules.casefold('STRASSE'));
  assert.equal(Rules.casefold('ẞ'), 'ss');
  assert.equal(Rules.casefold('ΣΊΣΥΦΟΣ'), Rules.casefold('σίσυφος'));
  const definition = form(
    [{ id: 'street', type: 'text', label: 'S' }, { id: 'a', type: 'text' },
      { id: 'b', type: 'text' }, { id: 'c', type: 'text' }],
    [{ when: { field: 'street', op: 'contains', value: 'straße' }, show: ['a'] },
      { when: { field: 'street', op: 'ends_with', value: 'STRASSE 5' }, show: ['b'] },
      { when: { field: 'street', op: 'starts_with', value: 'haupt' }, show: ['c'] }]);
  const compiled = Rules.compile(definition);
  assert.deepStrictEqual(Rules.evaluate(compiled, { street: 'HAUPTSTRASSE 5' }).visible_fields,
    ['a', 'b', 'c', 'street']);
  assert.deepStrictEqual(Rules.evaluate(compiled, { street: 'Hauptstraße 5' }).visible_fields,
    ['a', 'b', 'c', 'street']);
  assert.deepStrictEqual(Rules.evaluate(compiled, { street: 'Marktplatz' }).visible_fields,
    ['street']);
});

test('equal_to converts to the field type; an empty V means is_empty', () => {
  const definition = form(
    [{ id: 'n', type: 'number', label: 'N' }, { id: 'd', type: 'date', label: 'D' },
      { id: 'c', type: 'checkbox', label: 'C' },
      { id: 'is18', type: 'text' }, { id: 'newyear', type: 'text' }, { id: 'unticked', type: 'text' },
      { id: 'has_n', type: 'text' }],
    [{ when: { field: 'n', op: 'equal_to', value: '18.0' }, show: ['is18'] },
      { when: { field: 'd', op: 'equal_to', value: '2024-01-01' }, show: ['newyear'] },
      { when: { field: 'c', op: 'equal_to', value: false }, show: ['unticked'] },
      { when: { field: 'n', op: 'not_equal_to' }, show: ['has_n'] }]);
  const compiled = Rules.compile(definition);
  assert.deepStrictEqual(Rules.evaluate(compiled, { n: 18, d: '2024-01-01' }).visible_fields,
    ['c', 'd', 'has_n', 'is18', 'n', 'newyear', 'unticked']);
  assert.deepStrictEqual(Rules.evaluate(compiled, { n: '18,5', c: 'on' }).visible_fields,
    ['c', 'd', 'has_n', 'n']);
});

test('one_of / none_of on choices, with none_of true for an empty answer', () => {
  const definition = form(
    [{ id: 'k', type: 'radio', label: 'K',
      options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }, { value: 'c', label: 'C' }] },
    { id: 'ab', type: 'text' }, { id: 'not_a', type: 'text' }],
    [{ when: { field: 'k', op: 'one_of', value: ['a', 'b'] }, show: ['ab'] },
      { when: { field: 'k', op: 'none_of', value: ['a'] }, show: ['not_a'] }]);
  const compiled = Rules.compile(definition);
  assert.deepStrictEqual(Rules.evaluate(compiled, { k: 'b' }).visible_fields, ['ab', 'k', 'not_a']);
  assert.deepStrictEqual(Rules.evaluate(compiled, { k: 'a' }).visible_fields, ['ab', 'k']);
  assert.deepStrictEqual(Rules.evaluate(compiled, {}).visible_fields, ['k', 'not_a']);
  // An empty item matches nothing, not even an empty answer.
  const withEmpty = Rules.compile(form(definition.steps[0].fields,
    [{ when: { field: 'k', op: 'one_of', value: ['', null, 'c'] }, show: ['ab'] }]));
  assert.deepStrictEqual(Rules.evaluate(withEmpty, {}).visible_fields, ['k', 'not_a']);
  assert.deepStrictEqual(Rules.evaluate(withEmpty, { k: 'c' }).visible_fields, ['ab', 'k', 'not_a']);
  assert.throws(() => Rules.compile(form(definition.steps[0].fields,
    [{ when: { field: 'k', op: 'one_of', value: ['a', 'x'] }, show: ['ab'] }])), /\/value\/1/);
});

test('an answer that cannot be converted is an error and counts as empty for conditions', () => {
  const definition = form(
    [{ id: 'n', type: 'number', label: 'N' }, { id: 'why', type: 'text', label: 'W' }],
    [{ when: { field: 'n', op: 'is_empty' }, show: ['why'] }]);
  const result = Rules.evaluate(Rules.compile(definition), { n: 'abc', why: 'x' });
  assert.deepStrictEqual(result.visible_fields, ['n', 'why']);
  assert.deepStrictEqual(result.errors, { n: ['not_a_number'] });
  assert.equal(result.answers, null);
});

test('answers for unknown keys and inherited names are ignored', () => {
  const definition = form([{ id: 'constructor', type: 'text', label: 'C' },
    { id: 'tostring', type: 'checkbox', label: 'T' }]);
  const result = Rules.evaluate(Rules.compile(definition), { other: 'x', __proto__: { y: 1 } });
  assert.deepStrictEqual(result.answers, { constructor: null, tostring: false });
});

// ------------------------------------------------------------------ conversion

test('numbers: German decimal comma, integral values as integers, no thousands guessing', () => {
  const number = { id: 'n', type: 'number', label: 'N' };
  assert.deepStrictEqual(Rules.convert(number, '17,5'), { value: 17.5, error: null });
  assert.deepStrictEqual(Rules.convert(number, ' -0,25 '), { value: -0.25, error: null });
  assert.deepStrictEqual(Rules.convert(number, '250'), { value: 250, error: null });
  assert.deepStrictEqual(Rules.convert(number, '١٢'), { value: 12, error: null });
  assert.deepStrictEqual(Rules.convert(number, '１７,５'), { value: 17.5, error: null });
  assert.deepStrictEqual(Rules.convert(number, '250.0'), { value: 250, error: null });
  assert.ok(Object.is(Rules.convert(number, '-0').value, 0));
  assert.deepStrictEqual(Rules.convert(number, ''), { value: null, error: null });
  for (const bad of ['1,234,5', '1.234,5', 'abc', 'NaN', 'Infinity', '0x10', true, NaN]) {
    assert.equal(Rules.convert(number, bad).error, 'not_a_number', String(bad));
  }
  // Bounded below 10^15 like the server (what a database column keeps exactly).
  for (const big of ['1e999', '1e15', '9'.repeat(400), 1e15, -1e15, Infinity, 2 ** 63]) {
    assert.equal(Rules.convert(number, big).error, 'number_too_large', String(big));
  }
  assert.deepStrictEqual(Rules.convert(number, '999999999999999'),
    { value: 999999999999999, error: null });
  const bounded = form([{ id: 'n', type: 'number', label: 'N', min: 17, max: 18 }]);
  assert.deepStrictEqual(Rules.evaluate(Rules.compile(bounded), { n: '17,5' }).answers, { n: 17.5 });
  assert.deepStrictEqual(Rules.evaluate(Rules.compile(bounded), { n: '18,5' }).errors,
    { n: ['max'] });
});

test('number step is checked from min with float tolerance', () => {
  const field = Rules.compile(form([{ id: 'n', type: 'number', label: 'N', min: 0.1, step: 0.1 }]))
    .fields.get('n');
  assert.deepStrictEqual(Rules.validate(field, '0.3').errors, []);
  assert.deepStrictEqual(Rules.validate(field, '0,7').errors, []);
  assert.deepStrictEqual(Rules.validate(field, '0.35').errors, ['step']);
  const whole = Rules.compile(form([{ id: 'n', type: 'number', label: 'N', step: 5 }])).fields.get('n');
  assert.deepStrictEqual(Rules.validate(whole, '-10').errors, []);
  assert.deepStrictEqual(Rules.validate(whole, '12').errors, ['step']);
});

test('dates: real calendar dates only, bounds compared chronologically', () => {
  const date = Rules.compile(form([{ id: 'd', type: 'date', label: 'D', min: '2000-01-01',
    max: '2024-12-31' }])).fields.get('d');
  assert.deepStrictEqual(Rules.validate(date, '2024-02-29'), { value: '2024-02-29', errors: [] });
  for (const bad of ['2023-02-29', '2024-13-01', '2024-1-01', '24-01-01', '2024-04-31',
    '0000-01-01', '٢٠٢٤-٠١-٠١', '20240101']) {
    assert.deepStrictEqual(Rules.validate(date, bad).errors, ['not_a_date'], bad);
  }
  assert.deepStrictEqual(Rules.validate(date, '1999-12-31').errors, ['date_min']);
  assert.deepStrictEqual(Rules.validate(date, '2025-01-01').errors, ['date_max']);
  assert.deepStrictEqual(Rules.validate(date, '', true).errors, ['required']);
});

test('checkbox accepts booleans and form words', () => {
  const box = { id: 'c', type: 'checkbox', label: 'C' };
  for (const yes of [true, 'on', 'true', '1', 'yes', 'Y', ' YES ']) {
    assert.deepStrictEqual(Rules.convert(box, yes), { value: true, error: null }, String(yes));
  }
  for (const no of [false, undefined, null, '', 'false', '0', 'off', 'no']) {
    assert.deepStrictEqual(Rules.convert(box, no), { value: false, error: null }, String(no));
  }
  for (const bad of ['maybe', 1, 0, ['on']]) {
    assert.equal(Rules.convert(box, bad).error, 'not_a_checkbox', String(bad));
  }
  assert.deepStrictEqual(Rules.validate(box, 'off', true).errors, ['must_tick']);
});

test('checkboxes: deduplicated, in option order, selection bounds only when something is chosen', () => {
  const field = Rules.compile(form([{ id: 'l', type: 'checkboxes', label: 'L', min_selected: 2,
    options: [{ value: 'de', label: 'DE' }, { value: 'en', label: 'EN' },
      { value: 'fr', label: 'FR' }] }])).fields.get('l');
  assert.deepStrictEqual(Rules.convert(field, ['fr', 'de', 'fr']), { value: ['de', 'fr'], error: null });
  assert.deepStrictEqual(Rules.convert(field, 'en'), { value: ['en'], error: null });
  assert.deepStrictEqual(Rules.convert(field, ['de', 'xx']).error, 'not_an_option');
  assert.deepStrictEqual(Rules.validate(field, []).errors, []);
  assert.deepStrictEqual(Rules.validate(field, [], true).errors, ['choose_one']);
  assert.deepStrictEqual(Rules.validate(field, ['de']).errors, ['min_selected']);
});

test('text: trimmed, lengths in code points, anchored patterns, formats', () => {
  const compiled = Rules.compile(form([
    { id: 'emoji', type: 'text', label: 'E', max_length: 3 },
    { id: 'zip', type: 'text', label: 'Z', pattern: '[0-9]{5}', min_length: 5 },
    { id: 'ab', type: 'text', label: 'A', pattern: 'a|b' },
    { id: 'mail', type: 'email', label: 'M' },
    { id: 'web', type: 'url', label: 'W' },
    { id: 'phone', type: 'tel', label: 'P' },
  ]));
  const check = (id, raw) => Rules.validate(compiled.fields.get(id), raw).errors;
  assert.deepStrictEqual(Rules.validate(compiled.fields.get('emoji'), ' 😀😀😀 '),
    { value: '😀😀😀', errors: [] });
  assert.deepStrictEqual(check('emoji', '😀😀😀😀'), ['max_length']);
  assert.deepStrictEqual(check('zip', '97980'), []);
  assert.deepStrictEqual(check('zip', '979801'), ['pattern']);
  assert.deepStrictEqual(check('zip', '9798'), ['min_length', 'pattern']);
  assert.deepStrictEqual(check('ab', 'a'), []);
  assert.deepStrictEqual(check('ab', 'ab'), ['pattern']);
  assert.deepStrictEqual(check('mail', 'ada@example.org'), []);
  for (const bad of ['ada@example', 'ada example@x.org', '@x.org', 'a@b@c.de']) {
    assert.deepStrictEqual(check('mail', bad), ['invalid_email'], bad);
  }
  for (const good of ['https://example.org', 'http://localhost:8080/a?b#c', 'HTTPS://x.de']) {
    assert.deepStrictEqual(check('web', good), [], good);
  }
  for (const bad of ['example.org', 'ftp://example.org', 'https://', 'http:///path',
    'https://exa mple.org', 'javascript:alert(1)', 'http://[x', 'http://user@:80']) {
    assert.deepStrictEqual(check('web', bad), ['invalid_url'], bad);
  }
  for (const good of ['+49 (0) 7931 / 12-34', '112']) assert.deepStrictEqual(check('phone', good), []);
  for (const bad of ['12', '+49 abc 123', '(((---)))']) {
    assert.deepStrictEqual(check('phone', bad), ['invalid_tel'], bad);
  }
});

test('choices must be option values; stored answers are typed and empty as null', () => {
  const vector = vectors.cases[0];
  const compiled = Rules.compile(vector.form);
  const topic = compiled.fields.get('topic');
  assert.deepStrictEqual(Rules.convert(topic, 'transparenz'), { value: 'transparenz', error: null });
  for (const bad of ['Transparenz', ' transparenz', 7, true]) {
    assert.deepStrictEqual(Rules.convert(topic, bad), { value: null, error: 'not_an_option' });
  }
  assert.deepStrictEqual(Rules.convert(topic, '  '), { value: null, error: null });
  assert.deepStrictEqual(Rules.validate(topic, null, true).errors, ['choose_one']);
  const digits = Rules.compile(form([{ id: 'k', type: 'select', label: 'K',
    options: [{ value: '7', label: 'Seven' }] }])).fields.get('k');
  assert.deepStrictEqual(Rules.convert(digits, 7), { value: '7', error: null });
  const name = compiled.fields.get('name');
  assert.deepStrictEqual(Rules.convert(name, 42), { value: '42', error: null });
  assert.deepStrictEqual(Rules.convert(name, '\u0085 Ada\u3000'), { value: 'Ada', error: null });
  assert.deepStrictEqual(Rules.convert(name, '\ufeffAda'), { value: '\ufeffAda', error: null });
  for (const bad of [['x'], true, {}, Infinity, NaN, 1e15]) {
    assert.equal(Rules.convert(name, bad).error, 'not_text', String(bad));
  }
  // No control characters but tab and line breaks, no lone surrogates; CRLF becomes LF.
  for (const bad of ['x\ud800', '\udc00x', 'a\u0000b', '\u001b[31m', '\u000b', '\u001c']) {
    assert.equal(Rules.convert(name, bad).error, 'invalid_characters', JSON.stringify(bad));
  }
  assert.deepStrictEqual(Rules.convert(name, 'a\r\nb\tc\rd 😀'),
    { value: 'a\nb\tc\rd 😀', error: null });
});

test('patterns: the subset RE2 and JavaScript read alike; others are left out', () => {
  const field = (pattern) =>
    Rules.compile(form([{ id: 't', type: 'text', label: 'T', pattern }])).fields.get('t');
  const check = (pattern, value) => Rules.validate(field(pattern), value).errors.length === 0;
  assert.equal(check('[0-9]{5}', '10117'), true);
  assert.equal(check('^[0-9]{5}$', '١٢٣٤٥'), false);
  assert.equal(check('[\\p{L} -]+', 'Straße-Ost'), true);
  assert.equal(check('a.b', 'a\rb'), true); // "." is everything but "\n", as in RE2
  assert.equal(check('a.b', 'a\u2028b'), true);
  assert.equal(check('a.b', 'a\nb'), false);
  assert.equal(check('a|b', 'ab'), false);
  assert.equal(check('[😀-😂]+', '😁😀'), true);
  assert.equal(check('(ab+)?c+', 'abbcc'), true);
  assert.equal(check('(ab+)?c+', 'ac'), false);
  // A repeated group that repeats inside backtracks exponentially in JavaScript: left to the
  // server (RE2, linear), so the applicant's tab never hangs.
  assert.equal(field('(a+)+').pattern, null);
  assert.equal(field('((a)*b)*').pattern, null);
  assert.deepStrictEqual(Rules.validate(field('(a+)+'), 'a'.repeat(40) + '!').errors, []);
  assert.notEqual(field('(a)+(b+)').pattern, null);
  // Outside the subset (only in versions stored before it was enforced, which the server loads
  // with the pattern ignored): the browser ignores it too.
  for (const outside of ['\\w+', '\\d+', '\\s', '\\bx', '(?i)x', '(?P<x>a)', '(a)\\1', '(?=a)',
    '[[:digit:]]', '[]a]', 'a{1001}', 'x{,3}', '\\p{Greek}']) {
    assert.equal(field(outside).pattern, null, outside);
    assert.deepStrictEqual(Rules.validate(field(outside), 'xyz!').errors, [], outside);
  }
});
