// The DOM layer (web/static/formflow-form.js) on a minimal stand-in DOM: Node has no DOM and the
// project uses no npm packages. The stand-in models only what the layer touches: attributes,
// `hidden`/`disabled`/`required`/`value`/`checked`, a few selectors, `form.elements`, events.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const FormflowForm = require(join(root, 'web', 'static', 'formflow-form.js'));
const vectors = JSON.parse(readFileSync(join(root, 'tests', 'rule-vectors.json'), 'utf8'));

const SIMPLE_SELECTOR = /^([a-z]*)(?:#([\w-]+))?(?:\[([\w-]+)\])?$/;

class Element {
  constructor(tag, attributes = {}, children = []) {
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'value') this.value = value;
      else if (name === 'checked') this.checked = value;
      else if (name === 'text') this.textContent = value;
      else this.attributes.set(name, String(value));
    }
    this.children = children;
    this.hidden = false;
    this.disabled = this.attributes.has('disabled');
    this.required = this.attributes.has('required');
    this.value = this.value ?? '';
    this.checked = this.checked ?? false;
    this.textContent = this.textContent ?? '';
    this.listeners = new Map();
  }

  get name() { return this.getAttribute('name') || ''; }
  get type() { return this.getAttribute('type') || (this.tagName === 'INPUT' ? 'text' : ''); }
  get elements() { return this.querySelectorAll('input, select, textarea'); }
  getAttribute(name) { return this.attributes.has(name) ? this.attributes.get(name) : null; }
  setAttribute(name, value) { this.attributes.set(name, String(value)); }
  removeAttribute(name) { this.attributes.delete(name); }
  hasAttribute(name) { return this.attributes.has(name); }

  * descendants() {
    for (const child of this.children) {
      yield child;
      yield* child.descendants();
    }
  }

  matches(selector) {
    return selector.split(',').some((part) => {
      const m = SIMPLE_SELECTOR.exec(part.trim());
      if (!m) throw new Error(`stand-in DOM does not support selector ${part}`);
      const [, tag, id, attribute] = m;
      return (!tag || this.tagName === tag.toUpperCase()) &&
        (!id || this.getAttribute('id') === id) &&
        (!attribute || this.hasAttribute(attribute));
    });
  }

  querySelectorAll(selector) { return [...this.descendants()].filter((e) => e.matches(selector)); }
  querySelector(selector) { return this.querySelectorAll(selector)[0] || null; }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
  }

  removeEventListener(type, listener) { this.listeners.get(type)?.delete(listener); }
  dispatch(type, target = undefined) {
    for (const listener of this.listeners.get(type) || []) listener({ type, target });
  }
}

const h = (tag, attributes, ...children) => new Element(tag, attributes, children);
const json = (id, data) => h('script', { type: 'application/json', id, text: JSON.stringify(data) });

/** The seed form of the vectors, rendered the way the server will render it. */
function seedPage(definition = vectors.cases[0].form) {
  const form = h('form', { 'data-formflow': '' },
    json('formflow-definition', definition),
    h('section', { 'data-step': 's1' },
      h('div', { 'data-field': 'name' }, h('input', { name: 'name', required: '' })),
      h('div', { 'data-field': 'email' }, h('input', { name: 'email', type: 'email' }))),
    h('fieldset', { 'data-step': 's2' },
      h('div', { 'data-field': 'darstellung' },
        h('textarea', { name: 'darstellung' }),
        h('span', { 'data-counter-for': 'darstellung' })),
      h('div', { 'data-field': 'topic' }, h('select', { name: 'topic' })),
      h('div', { 'data-field': 'topic_consent' },
        h('input', { name: 'topic_consent', type: 'checkbox', value: 'on' }))));
  const find = (selector) => form.querySelectorAll(selector);
  const control = (name) => form.elements.find((c) => c.name === name);
  const wrapper = (id) => find('[data-field]').find((e) => e.getAttribute('data-field') === id);
  return { form, control, wrapper };
}

test('attach: hides rule-hidden fields, disables their controls, marks required ones', () => {
  const page = seedPage();
  const controller = FormflowForm.attach(page.form);
  assert.ok(controller);
  assert.equal(page.wrapper('topic_consent').hidden, true);
  assert.equal(page.control('topic_consent').disabled, true);
  assert.equal(page.wrapper('name').hidden, false);
  assert.equal(page.control('name').required, true);
  assert.equal(page.control('name').getAttribute('aria-required'), 'true');
  assert.equal(page.control('email').required, true);
  assert.equal(page.control('darstellung').required, false);
  assert.deepStrictEqual(controller.result().visible_fields, vectors.cases[0].expect.visible_fields);
});

test('input and change events re-evaluate: a chosen topic shows and requires consent', () => {
  const page = seedPage();
  FormflowForm.attach(page.form);
  page.control('topic').value = 'transparenz';
  page.form.dispatch('change');
  assert.equal(page.wrapper('topic_consent').hidden, false);
  assert.equal(page.control('topic_consent').disabled, false);
  assert.equal(page.control('topic_consent').required, true);
  assert.equal(page.control('topic_consent').hasAttribute('data-formflow-disabled'), false);
  page.control('topic').value = '';
  page.form.dispatch('input');
  assert.equal(page.wrapper('topic_consent').hidden, true);
  assert.equal(page.control('topic_consent').disabled, true);
  assert.equal(page.control('topic_consent').required, false);
  assert.equal(page.control('topic_consent').hasAttribute('aria-required'), false);
});

test('the change that follows an input evaluates only when the answer moved on', () => {
  const page = seedPage();
  const controller = FormflowForm.attach(page.form);
  const topic = page.control('topic');
  topic.value = 'transparenz';
  page.form.dispatch('input', topic);
  const afterInput = controller.result();
  page.form.dispatch('change', topic); // what browsers send right after, same value
  assert.equal(controller.result(), afterInput, 'no second evaluation of the same answers');
  topic.value = '';
  page.form.dispatch('change', topic); // a change without an input before it
  assert.notEqual(controller.result(), afterInput);
  assert.equal(page.wrapper('topic_consent').hidden, true);
  const box = page.control('topic_consent');
  page.form.dispatch('input', box);
  const boxResult = controller.result();
  box.checked = true; // the state moved between input and change: evaluated again
  page.form.dispatch('change', box);
  assert.notEqual(controller.result(), boxResult);
});

test('the counter shows code points of the trimmed text against max_length', () => {
  const page = seedPage();
  FormflowForm.attach(page.form);
  const counter = page.form.querySelector('[data-counter-for]');
  assert.equal(counter.textContent, '0 / 500');
  assert.equal(counter.getAttribute('aria-live'), 'polite');
  page.control('darstellung').value = '  Grüße 😀 ';
  page.form.dispatch('input');
  assert.equal(counter.textContent, '7 / 500');
});

test('a hidden step hides and disables its fields; controls disabled by the server stay so', () => {
  const vector = vectors.cases.find((c) => c.name.startsWith('hidden step'));
  const form = h('form', {},
    json('formflow-definition', vector.form),
    h('section', { 'data-step': 's1' },
      h('div', { 'data-field': 'has_company' }, h('input', { name: 'has_company', type: 'checkbox' })),
      h('div', { 'data-field': 'intro' })),
    h('fieldset', { 'data-step': 's2' },
      h('div', { 'data-field': 'company' }, h('input', { name: 'company' })),
      h('div', { 'data-field': 'employees' }, h('input', { name: 'employees', disabled: '' }))));
  const [step2] = form.querySelectorAll('[data-step]').filter((e) => e.getAttribute('data-step') === 's2');
  const company = form.elements.find((c) => c.name === 'company');
  const employees = form.elements.find((c) => c.name === 'employees');
  const box = form.elements.find((c) => c.name === 'has_company');
  FormflowForm.attach(form);
  assert.equal(step2.hidden, true);
  assert.equal(step2.disabled, true, 'a hidden fieldset is disabled as a whole');
  assert.equal(company.disabled, true);
  assert.equal(company.required, false, 'a hidden required field is not required');
  box.checked = true;
  form.dispatch('change');
  assert.equal(step2.hidden, false);
  assert.equal(step2.disabled, false);
  assert.equal(company.disabled, false);
  assert.equal(company.required, true);
  assert.equal(employees.disabled, true, 'the server disabled it; the script leaves it alone');
});

test('saved answers of other pages feed the rules; checkbox groups get aria-required', () => {
  const definition = {
    id: 't', title: 'T', languages: ['de'],
    steps: [
      { id: 's1', title: 'S1', fields: [{ id: 'member', type: 'checkbox', label: 'M' }] },
      { id: 's2', title: 'S2', fields: [{ id: 'langs', type: 'checkboxes', label: 'L',
        options: [{ value: 'de', label: 'DE' }, { value: 'en', label: 'EN' }] },
      { id: 'note', type: 'text', label: 'N' }] },
    ],
    rules: [{ when: { field: 'member', op: 'equal_to', value: true }, require: ['langs'] },
      { when: { field: 'langs', op: 'contains', value: 'en' }, show: ['note'] }],
  };
  const form = h('form', {},
    json('formflow-definition', definition),
    json('formflow-answers', { member: true }),
    h('section', { 'data-step': 's2' },
      h('div', { 'data-field': 'langs', role: 'group' },
        h('input', { name: 'langs', type: 'checkbox', value: 'de' }),
        h('input', { name: 'langs', type: 'checkbox', value: 'en' })),
      h('div', { 'data-field': 'note' }, h('input', { name: 'note' }))));
  const controller = FormflowForm.attach(form);
  const [group, note] = form.querySelectorAll('[data-field]');
  assert.equal(group.getAttribute('aria-required'), 'true');
  assert.ok(form.elements.filter((c) => c.name === 'langs')
    .every((c) => !c.required && !c.hasAttribute('aria-required')),
  'required on every box would demand all of them');
  assert.equal(note.hidden, true);
  form.elements.find((c) => c.value === 'en').checked = true;
  form.dispatch('change');
  assert.equal(note.hidden, false);
  assert.deepStrictEqual(controller.result().answers, { langs: ['en'], member: true, note: null });
  controller.detach();
  form.elements.find((c) => c.value === 'en').checked = false;
  form.dispatch('change');
  assert.equal(note.hidden, false, 'a detached form no longer reacts');
});

test('a definition the browser cannot compile leaves the page alone', () => {
  const broken = JSON.parse(JSON.stringify(vectors.cases[0].form));
  broken.rules[0].when.op = 'similar_to';
  const page = seedPage(broken);
  const warnings = [];
  const original = console.warn;
  console.warn = (message) => warnings.push(message);
  try {
    assert.equal(FormflowForm.attach(page.form), null);
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /unknown operator "similar_to"/);
  assert.equal(page.wrapper('topic_consent').hidden, false);
  assert.equal(page.control('topic_consent').disabled, false);
  assert.equal(page.form.listeners.size, 0);
});

test('applicant pages name the definition a per-version file registered', () => {
  const definition = vectors.cases[0].form;
  const page = seedPage(definition);
  page.form.children = page.form.children.filter((c) => c.getAttribute('id') !== 'formflow-definition');
  page.form.setAttribute('data-definition', 'c0ffee');
  const warnings = [];
  const original = console.warn;
  console.warn = (message) => warnings.push(message);
  try {
    assert.equal(FormflowForm.attach(page.form), null); // nothing registered yet: left alone
    globalThis.FormflowDefinitions = { c0ffee: definition };
    const controller = FormflowForm.attach(page.form);
    assert.ok(controller);
    assert.equal(page.wrapper('topic_consent').hidden, true);
    controller.detach();
  } finally {
    console.warn = original;
    delete globalThis.FormflowDefinitions;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /definition is not on the page/);
});
