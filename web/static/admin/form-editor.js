/*
 * form-editor.js — the builder, preview and what-if panel of the form editor.
 *
 * Builder: steps and fields as cards (add, remove, "Move up"/"Move down" buttons — no
 * drag-only interaction), every property of a field, and the rule builder ("show / hide /
 * require [targets] when [all | any] of: [field] [operator] [value]") with the operators the
 * engine allows for each field type (config.operators is the engine's OPERATORS table).
 *
 * Preview: the draft as applicants see it, rendered by the server through the applicant pages'
 * field macros (POST …/preview), one visible step at a time, live through formflow-rules.js +
 * formflow-form.js (the same scripts the applicant pages use). What-if:
 * the preview's answers are sent to the server, which evaluates them with the real engine and
 * lists, per workflow state, the transitions that would be offered.
 *
 * Element ids follow the draft's structure (step-0, field-0-1, rule-2-cond-0-op …); see
 * docs/administrators.md for the full list the browser tests rely on.
 */
(function () {
  'use strict';
  const E = window.FormflowEditor;
  if (!E || E.config.kind !== 'form') return;
  const { config, t, h } = E;
  const editor = new E.Editor();
  const openFields = new Set();
  const CHOICE = new Set(['select', 'radio', 'checkboxes']);
  const TYPE_WORDS = {
    text: 'Text', textarea: 'Text area', email: 'Email', tel: 'Phone', url: 'Web address',
    number: 'Number', date: 'Date', select: 'Drop-down list', radio: 'Radio buttons',
    checkboxes: 'Checkboxes', checkbox: 'Single checkbox', paragraph: 'Paragraph',
    calculated: 'Calculated value', group: 'Repeating rows', file: 'File upload',
  };
  // The types whose content the server recognises (engine/files.py KNOWN_TYPES).
  const FILE_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'];
  const TEXT_PROPERTIES = new Set(['label', 'help', 'placeholder', 'content', 'pattern_message']);
  const PROPERTY_WORDS = {
    label: 'Label', help: 'Help text', placeholder: 'Placeholder', content: 'Content',
    required: 'Required', default: 'Default value', prefill: 'May be filled from the link',
    min_length: 'Minimum length',
    max_length: 'Maximum length', pattern: 'Pattern (regular expression)',
    pattern_message: 'Message when the pattern does not match',
    counter: 'Show a character counter', autocomplete: 'Autocomplete', min: 'Minimum',
    max: 'Maximum', step: 'Step size', min_selected: 'Minimum selected',
    max_selected: 'Maximum selected', options: 'Options', expression: 'Calculation',
    consent: 'Ticking it is a consent (kept as evidence)',
    accept: 'Allowed file types (by content)', max_size: 'Largest file in bytes',
    max_files: 'Most files',
  };
  const PROPERTY_ORDER = [
    'label', 'content', 'help', 'placeholder', 'required', 'min_length', 'max_length',
    'pattern', 'pattern_message', 'counter', 'autocomplete', 'min', 'max', 'step',
    'min_selected', 'max_selected', 'options', 'default', 'prefill', 'consent', 'expression',
    'repeat', 'fields', 'accept', 'max_size', 'max_files',
  ];

  // -- the model --------------------------------------------------------------------------

  const draft = () => editor.draft;
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

  function languages() {
    const list = isObject(draft()) && Array.isArray(draft().languages)
      ? draft().languages.filter((l) => typeof l === 'string' && l) : [];
    return list.length ? list : ['de'];
  }

  function steps() {
    if (!isObject(draft())) return [];
    if (!Array.isArray(draft().steps)) draft().steps = [];
    return draft().steps;
  }

  function fieldsOf(step) {
    if (!Array.isArray(step.fields)) step.fields = [];
    return step.fields;
  }

  function rules() {
    if (!Array.isArray(draft().rules)) draft().rules = [];
    return draft().rules;
  }

  function allFields() {
    const found = [];
    for (const step of steps()) {
      if (!isObject(step)) continue;
      for (const field of fieldsOf(step)) if (isObject(field)) found.push(field);
    }
    return found;
  }

  function takenIds() {
    const taken = new Set();
    for (const step of steps()) {
      if (!isObject(step)) continue;
      taken.add(step.id);
      for (const field of fieldsOf(step)) if (isObject(field)) taken.add(field.id);
    }
    return taken;
  }

  function textOf(value) {
    if (typeof value === 'string') return value;
    if (isObject(value)) {
      const lang = config.language in value ? config.language : languages()[0];
      return value[lang] || Object.values(value)[0] || '';
    }
    return '';
  }

  /** Input fields as the rule builder needs them: id, type, label, options. */
  function conditionFields() {
    return allFields()
      .filter((f) => f.type !== 'paragraph' && typeof f.id === 'string')
      .map((f) => ({
        id: f.id, type: f.type, label: textOf(f.label) || f.id,
        options: Array.isArray(f.options) ? f.options.filter(isObject)
          .map((o) => ({ value: o.value, label: textOf(o.label) || o.value })) : [],
      }));
  }

  const changed = () => editor.changed('builder', false);
  const restructured = () => editor.changed('builder', true);
  /** An id (or the languages) typed and left: redrawn once the focus has arrived elsewhere. */
  const renamed = () => editor.changedOnLeave('builder');

  /** Renaming a step or field also renames what refers to it (rules, applicant). */
  function renameReferences(oldId, newId) {
    if (!oldId || oldId === newId) return;
    const renameIn = (condition) => {
      if (!isObject(condition)) return;
      if (condition.field === oldId) condition.field = newId;
      for (const key of ['all', 'any']) if (Array.isArray(condition[key])) condition[key].forEach(renameIn);
      if (condition.not) renameIn(condition.not);
    };
    for (const rule of rules()) {
      if (!isObject(rule)) continue;
      renameIn(rule.when);
      for (const effect of ['show', 'hide', 'require']) {
        if (Array.isArray(rule[effect])) rule[effect] = rule[effect].map((x) => (x === oldId ? newId : x));
      }
    }
    if (isObject(draft().applicant)) {
      for (const role of ['email', 'name']) if (draft().applicant[role] === oldId) draft().applicant[role] = newId;
    }
  }

  function move(list, index, delta) {
    const target = index + delta;
    if (target < 0 || target >= list.length) return false;
    const [item] = list.splice(index, 1);
    list.splice(target, 0, item);
    return true;
  }

  /** After a re-render, put the keyboard focus back where the person was working. */
  function focusId(...ids) {
    for (const id of ids) {
      const element = document.getElementById(id);
      if (element && !element.disabled) { element.focus(); return; }
    }
  }

  // -- small widgets ----------------------------------------------------------------------

  function moveButtons(prefix, index, count, onMove, what) {
    return h('span', { class: 'move-buttons' },
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-up', disabled: index === 0,
        aria: { label: t('Move up') + ': ' + what },
        on: { click: () => onMove(-1) },
      }, t('Move up')),
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-down', disabled: index === count - 1,
        aria: { label: t('Move down') + ': ' + what },
        on: { click: () => onMove(1) },
      }, t('Move down')));
  }

  function labelled(id, label, control, pointer) {
    return h('div', { class: 'prop', dataset: { pointer: pointer || '' } },
      h('label', { for: id }, label), control);
  }

  function numberInput(id, value, pointer, onValue, options) {
    const opts = options || {};
    return h('input', {
      type: opts.type || 'number', id, value: value === undefined || value === null ? '' : String(value),
      step: opts.step || (opts.type && opts.type !== 'number' ? null : 'any'), min: opts.min,
      dataset: { pointer },
      on: {
        input: (e) => {
          const raw = e.target.value;
          if (raw === '') onValue(undefined);
          else onValue(opts.type && opts.type !== 'number' ? raw : Number(raw));
        },
      },
    });
  }

  // -- form properties --------------------------------------------------------------------

  /** When the form takes submissions and how many (docs/definitions.md, "Availability"). */
  function availabilityProperties(form) {
    const box = h('fieldset', { class: 'availability', id: 'form-availability' },
      h('legend', {}, t('Availability')));
    const setter = (key) => (value) => {
      if (value === undefined || value === '') delete form[key]; else form[key] = value;
      changed();
    };
    // datetime-local gives "2027-05-01T09:00": the local wall-clock time the engine expects
    box.append(labelled('form-opens-at', t('Opens at (local time)'),
      numberInput('form-opens-at', form.opens_at, '/opens_at', setter('opens_at'), { type: 'datetime-local' }),
      '/opens_at'));
    box.append(labelled('form-closes-at', t('Closes at (local time)'),
      numberInput('form-closes-at', form.closes_at, '/closes_at', setter('closes_at'), { type: 'datetime-local' }),
      '/closes_at'));
    box.append(labelled('form-capacity', t('Places (submissions not yet decided)'),
      numberInput('form-capacity', form.capacity, '/capacity', setter('capacity'), { step: '1', min: '1' }),
      '/capacity'));
    box.append(h('div', { class: 'prop checkbox', dataset: { pointer: '/waitlist' } },
      h('input', {
        type: 'checkbox', id: 'form-waitlist', checked: form.waitlist === true, dataset: { pointer: '/waitlist' },
        on: { change: (e) => { if (e.target.checked) form.waitlist = true; else delete form.waitlist; changed(); } },
      }),
      h('label', { for: 'form-waitlist' }, t('When all places are taken: onto the waiting list'))));
    return box;
  }

  function formProperties() {
    const form = draft();
    const langs = languages();
    const box = h('section', { class: 'card', id: 'form-props', dataset: { pointer: '' } },
      h('h2', {}, t('Form')));
    box.append(labelled('form-id', t('Id'),
      h('input', { type: 'text', id: 'form-id', value: form.id || '', readonly: true, dataset: { pointer: '/id' } }), '/id'));
    box.append(E.textField({
      idPrefix: 'form-title', label: t('Title'), languages: langs, pointer: '/title',
      get: () => form.title, set: (v) => { if (v === undefined) delete form.title; else form.title = v; changed(); },
    }));
    box.append(E.textField({
      idPrefix: 'form-description', label: t('Description'), languages: langs, multiline: true,
      pointer: '/description',
      get: () => form.description,
      set: (v) => { if (v === undefined) delete form.description; else form.description = v; changed(); },
    }));
    box.append(labelled('form-languages', t('Languages (codes, separated by commas)'), h('input', {
      type: 'text', id: 'form-languages', value: Array.isArray(form.languages) ? form.languages.join(', ') : '',
      dataset: { pointer: '/languages' },
      on: {
        change: (e) => {
          form.languages = e.target.value.split(',').map((s) => s.trim()).filter(Boolean);
          renamed();
        },
      },
    }), '/languages'));
    const workflowSelect = h('select', {
      id: 'form-workflow', dataset: { pointer: '/workflow' },
      on: { change: (e) => { form.workflow = e.target.value; changed(); } },
    });
    const current = form.workflow || 'review';
    const known = config.workflows.map((w) => w.id);
    if (!known.includes(current)) workflowSelect.append(h('option', { value: current, selected: true }, current + ' (?)'));
    for (const workflow of config.workflows) {
      workflowSelect.append(h('option', { value: workflow.id, selected: workflow.id === current },
        workflow.title + ' (' + workflow.id + ')'));
    }
    box.append(labelled('form-workflow', t('Workflow'), workflowSelect, '/workflow'));
    box.append(labelled('form-reference-prefix', t('Reference prefix'), h('input', {
      type: 'text', id: 'form-reference-prefix', value: form.reference_prefix || '', maxlength: 8,
      dataset: { pointer: '/reference_prefix' },
      on: {
        input: (e) => {
          if (e.target.value === '') delete form.reference_prefix; else form.reference_prefix = e.target.value;
          changed();
        },
      },
    }), '/reference_prefix'));
    box.append(labelled('form-retention-days', t('Retention (days)'), numberInput(
      'form-retention-days', form.retention_days, '/retention_days',
      (v) => { if (v === undefined) delete form.retention_days; else form.retention_days = Math.trunc(v); changed(); },
      { step: 1, min: 1 }), '/retention_days'));
    box.append(E.textField({
      idPrefix: 'form-privacy-notice', label: t('Data protection notice'), languages: langs, multiline: true,
      pointer: '/privacy_notice',
      get: () => form.privacy_notice,
      set: (v) => { if (v === undefined) delete form.privacy_notice; else form.privacy_notice = v; changed(); },
    }));
    for (const [role, types, word] of [['email', ['email'], 'Email field of the applicant'],
      ['name', ['text'], 'Name field of the applicant']]) {
      const id = 'form-applicant-' + role;
      const select = h('select', {
        id, dataset: { pointer: '/applicant/' + role },
        on: {
          change: (e) => {
            const applicant = isObject(form.applicant) ? form.applicant : {};
            if (e.target.value === '') delete applicant[role]; else applicant[role] = e.target.value;
            if (Object.keys(applicant).length) form.applicant = applicant; else delete form.applicant;
            changed();
          },
        },
      }, h('option', { value: '' }, t('none')));
      const chosen = isObject(form.applicant) ? form.applicant[role] : undefined;
      for (const field of allFields().filter((f) => types.includes(f.type))) {
        select.append(h('option', { value: field.id, selected: field.id === chosen }, textOf(field.label) + ' (' + field.id + ')'));
      }
      box.append(labelled(id, t(word), select, '/applicant/' + role));
    }
    box.append(availabilityProperties(form));
    box.append(E.textField({
      idPrefix: 'form-confirmation', label: t('Confirmation text'), languages: langs, multiline: true,
      pointer: '/confirmation',
      get: () => form.confirmation,
      set: (v) => { if (v === undefined) delete form.confirmation; else form.confirmation = v; changed(); },
    }));
    return box;
  }

  // -- steps and fields -------------------------------------------------------------------

  function stepCard(step, index) {
    const prefix = 'step-' + index;
    const pointer = '/steps/' + index;
    const all = steps();
    const card = h('section', {
      class: 'card step-card', id: prefix, dataset: { pointer, testid: 'step-card-' + step.id },
      aria: { labelledby: prefix + '-heading' },
    });
    card.setAttribute('data-testid', 'step-card-' + step.id);
    dragStep(card, index, prefix);
    card.append(h('div', { class: 'card-head' },
      h('h3', { id: prefix + '-heading' }, t('Step') + ' ' + (index + 1) + ': ' + (textOf(step.title) || step.id)),
      moveButtons(prefix, index, all.length, (delta) => {
        if (move(all, index, delta)) {
          restructured();
          focusId('step-' + (index + delta) + (delta < 0 ? '-up' : '-down'), 'step-' + (index + delta) + '-down', 'step-' + (index + delta) + '-up');
        }
      }, step.id),
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-duplicate',
        aria: { label: t('Duplicate') + ': ' + t('Step') + ' ' + step.id },
        on: {
          click: () => {
            const taken = takenIds();
            const copy = E.clone(step);
            copy.id = E.unique(step.id + '_copy', taken);
            taken.add(copy.id);
            copy.title = copiedText(step.title);
            copy.fields = (Array.isArray(step.fields) ? step.fields : []).map((f) => {
              const field = copiedField(f, taken, false);
              taken.add(field.id);
              return field;
            });
            all.splice(index + 1, 0, copy);
            restructured();
            focusId('step-' + (index + 1) + '-id');
          },
        },
      }, t('Duplicate')),
      h('button', {
        type: 'button', class: 'secondary danger', id: prefix + '-remove',
        aria: { label: t('Remove') + ': ' + t('Step') + ' ' + step.id },
        on: { click: () => { all.splice(index, 1); restructured(); focusId('add-step'); } },
      }, t('Remove'))));
    card.append(labelled(prefix + '-id', t('Id'), h('input', {
      type: 'text', id: prefix + '-id', value: step.id || '', dataset: { pointer: pointer + '/id' },
      on: {
        change: (e) => {
          const old = step.id;
          step.id = e.target.value.trim();
          renameReferences(old, step.id);
          renamed();
        },
      },
    }), pointer + '/id'));
    card.append(E.textField({
      idPrefix: prefix + '-title', label: t('Title'), languages: languages(), pointer: pointer + '/title',
      get: () => step.title, set: (v) => { if (v === undefined) delete step.title; else step.title = v; changed(); },
    }));
    const list = h('ol', { class: 'fields', id: prefix + '-fields' });
    fieldsOf(step).forEach((field, fieldIndex) => {
      if (isObject(field)) list.append(fieldCard(step, index, field, fieldIndex));
    });
    card.append(list);
    const typeSelect = h('select', { id: prefix + '-new-type' });
    for (const type of config.field_types) typeSelect.append(h('option', { value: type }, t(TYPE_WORDS[type] || type)));
    card.append(h('div', { class: 'add-row' },
      h('label', { for: prefix + '-new-type' }, t('New field of type')), typeSelect,
      h('button', {
        type: 'button', id: prefix + '-add-field',
        on: {
          click: () => {
            const field = newField(typeSelect.value);
            fieldsOf(step).push(field);
            openFields.add(field.id);
            restructured();
            focusId('field-' + index + '-' + (fieldsOf(step).length - 1) + '-id');
          },
        },
      }, t('Add field'))));
    return card;
  }

  /** A default label a person can read: the type's name ("E-Mail"), numbered when taken. */
  function readableLabel(base, lang) {
    const taken = new Set();
    for (const step of steps()) {
      for (const f of (step && Array.isArray(step.fields) ? step.fields : [])) {
        if (f && f.label && typeof f.label === 'object') taken.add(f.label[lang]);
      }
    }
    if (!taken.has(base)) return base;
    let number = 2;
    while (taken.has(base + ' ' + number)) number += 1;
    return base + ' ' + number;
  }

  /** A text with " (copy)" added in each language it is written in. */
  function copiedText(text) {
    if (!text || typeof text !== 'object') return text;
    const out = {};
    for (const [lang, words] of Object.entries(text)) out[lang] = words ? words + ' (' + t('copy') + ')' : words;
    return out;
  }

  /** A copy of a field under a new, unused id (its label marked as a copy unless told not to). */
  function copiedField(field, taken, mark) {
    const copy = E.clone(field);
    if (!copy || typeof copy !== 'object') return copy;
    copy.id = E.unique(String(field.id || 'field') + '_copy', taken);
    if (mark !== false) {
      if (copy.label) copy.label = copiedText(copy.label);
      else if (copy.content) copy.content = copiedText(copy.content);
    }
    return copy;
  }

  function newField(type) {
    const lang = languages()[0];
    const id = E.unique('field', takenIds());
    const field = { id, type };
    if (type === 'paragraph') field.content = { [lang]: t('Paragraph') };
    else field.label = { [lang]: readableLabel(t(TYPE_WORDS[type] || 'Field'), lang) };
    if (CHOICE.has(type)) {
      field.options = [{ value: 'option_1', label: { [lang]: 'Option 1' } },
        { value: 'option_2', label: { [lang]: 'Option 2' } }];
    }
    if (type === 'calculated') field.expression = '0';
    if (type === 'group') {
      field.repeat = { min: 0, max: 10 };
      field.fields = [{ id: E.unique(id + '_item', takenIds()), type: 'text',
        label: { [lang]: t('Text') } }];
    }
    return field;
  }

  // -- drag and drop (the move buttons stay: they are the keyboard's way) --------------------

  let dragged = null; // [stepIndex, index] of the field being dragged

  /**
   * Fields are dragged by their handle and dropped on another field card (in any step): the
   * dragged field takes that card's place, the card and those after it move down.
   */
  function dragAndDrop(card, stepIndex, index, prefix) {
    const handle = h('span', {
      class: 'drag-handle', id: prefix + '-drag', draggable: 'true', title: t('Drag to move'),
      aria: { hidden: 'true' },
      on: {
        dragstart: (event) => {
          dragged = [stepIndex, index];
          event.dataTransfer.effectAllowed = 'move';
          event.dataTransfer.setData('text/plain', prefix);
          event.dataTransfer.setDragImage(card, 10, 10);
        },
        dragend: () => { dragged = null; },
      },
    }, '⠿');
    card.prepend(handle);
    card.addEventListener('dragover', (event) => {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      card.classList.add('drop-target');
    });
    card.addEventListener('dragleave', () => card.classList.remove('drop-target'));
    card.addEventListener('drop', (event) => {
      card.classList.remove('drop-target');
      if (!dragged) return;
      event.preventDefault();
      const [fromStep, fromIndex] = dragged;
      dragged = null;
      if (fromStep === stepIndex && fromIndex === index) return;
      const source = fieldsOf(steps()[fromStep]);
      const target = fieldsOf(steps()[stepIndex]);
      const [item] = source.splice(fromIndex, 1);
      target.splice(index, 0, item);
      restructured();
      const placed = target.indexOf(item);
      focusId('field-' + stepIndex + '-' + placed + '-toggle');
    });
  }

  let draggedStep = null; // index of the step being dragged

  /**
   * Steps are dragged by their handle and dropped on another step card: the dragged step takes
   * that card's place. Fields keep their own drag (above); a step is never dropped into a step.
   */
  function dragStep(card, index, prefix) {
    const handle = h('span', {
      class: 'drag-handle', id: prefix + '-drag', draggable: 'true', title: t('Drag to move'),
      aria: { hidden: 'true' },
      on: {
        dragstart: (event) => {
          draggedStep = index;
          event.dataTransfer.effectAllowed = 'move';
          event.dataTransfer.setData('text/plain', prefix);
          event.dataTransfer.setDragImage(card, 10, 10);
        },
        dragend: () => { draggedStep = null; },
      },
    }, '⠿');
    card.prepend(handle);
    card.addEventListener('dragover', (event) => {
      if (draggedStep === null) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      card.classList.add('drop-target');
    });
    card.addEventListener('dragleave', () => card.classList.remove('drop-target'));
    card.addEventListener('drop', (event) => {
      card.classList.remove('drop-target');
      if (draggedStep === null) return;
      event.preventDefault();
      const from = draggedStep;
      draggedStep = null;
      if (from === index) return;
      const all = steps();
      const [item] = all.splice(from, 1);
      all.splice(index, 0, item);
      restructured();
      focusId('step-' + all.indexOf(item) + '-id');
    });
  }

  function fieldCard(step, stepIndex, field, index) {
    const prefix = 'field-' + stepIndex + '-' + index;
    const pointer = '/steps/' + stepIndex + '/fields/' + index;
    const list = fieldsOf(step);
    const open = openFields.has(field.id);
    const propsId = prefix + '-props';
    const card = h('li', { class: 'field-card', id: prefix, dataset: { pointer, fieldId: field.id, type: field.type } });
    card.setAttribute('data-testid', 'field-card-' + field.id);
    dragAndDrop(card, stepIndex, index, prefix);
    const summary = (textOf(field.label) || textOf(field.content) || field.id);
    card.append(h('div', { class: 'card-head' },
      h('span', { class: 'field-summary', id: prefix + '-summary' },
        h('strong', {}, summary.length > 60 ? summary.slice(0, 59) + '…' : summary), ' ',
        h('code', {}, field.id), ' · ', t(TYPE_WORDS[field.type] || field.type),
        field.required ? ' · ' + t('Required') : ''),
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-toggle',
        aria: { expanded: String(open), controls: propsId, label: t('Edit') + ': ' + field.id },
        on: {
          click: (e) => {
            const props = document.getElementById(propsId);
            props.hidden = !props.hidden;
            e.currentTarget.setAttribute('aria-expanded', String(!props.hidden));
            if (props.hidden) openFields.delete(field.id); else openFields.add(field.id);
          },
        },
      }, t('Edit')),
      moveButtons(prefix, index, list.length, (delta) => {
        if (move(list, index, delta)) {
          restructured();
          const moved = 'field-' + stepIndex + '-' + (index + delta);
          focusId(moved + (delta < 0 ? '-up' : '-down'), moved + '-down', moved + '-up');
        }
      }, field.id),
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-duplicate',
        aria: { label: t('Duplicate') + ': ' + t('Field') + ' ' + field.id },
        on: {
          click: () => {
            const copy = copiedField(field, takenIds());
            openFields.add(copy.id);
            list.splice(index + 1, 0, copy);
            restructured();
            focusId('field-' + stepIndex + '-' + (index + 1) + '-id');
          },
        },
      }, t('Duplicate')),
      h('button', {
        type: 'button', class: 'secondary danger', id: prefix + '-remove',
        aria: { label: t('Remove') + ': ' + t('Field') + ' ' + field.id },
        on: { click: () => { list.splice(index, 1); restructured(); focusId('step-' + stepIndex + '-add-field'); } },
      }, t('Remove'))));
    card.append(fieldProperties(step, stepIndex, field, index, prefix, pointer, propsId, open));
    return card;
  }

  function fieldProperties(step, stepIndex, field, index, prefix, pointer, propsId, open) {
    const box = h('div', { class: 'field-props', id: propsId, hidden: !open, dataset: { props: '' } });
    box.append(labelled(prefix + '-id', t('Id'), h('input', {
      type: 'text', id: prefix + '-id', value: field.id || '', dataset: { pointer: pointer + '/id' },
      on: {
        change: (e) => {
          const old = field.id;
          field.id = e.target.value.trim();
          if (openFields.delete(old)) openFields.add(field.id);
          renameReferences(old, field.id);
          renamed();
        },
      },
    }), pointer + '/id'));
    const typeSelect = h('select', {
      id: prefix + '-type', dataset: { pointer: pointer + '/type' },
      on: {
        change: (e) => {
          changeType(field, e.target.value);
          restructured();
          focusId(prefix + '-type');
        },
      },
    });
    for (const type of config.field_types) {
      typeSelect.append(h('option', { value: type, selected: type === field.type }, t(TYPE_WORDS[type] || type)));
    }
    box.append(labelled(prefix + '-type', t('Type'), typeSelect, pointer + '/type'));
    const stepSelect = h('select', {
      id: prefix + '-move-step',
      on: {
        change: (e) => {
          const target = Number(e.target.value);
          const all = steps();
          fieldsOf(step).splice(index, 1);
          fieldsOf(all[target]).push(field);
          restructured();
          focusId('field-' + target + '-' + (fieldsOf(all[target]).length - 1) + '-move-step');
        },
      },
    });
    steps().forEach((s, i) => stepSelect.append(h('option', { value: String(i), selected: i === stepIndex }, (i + 1) + ': ' + (textOf(s.title) || s.id))));
    box.append(labelled(prefix + '-move-step', t('Move to step'), stepSelect));
    const allowed = new Set(config.field_properties[field.type] || []);
    for (const name of PROPERTY_ORDER) {
      if (!allowed.has(name)) continue;
      const propPointer = pointer + '/' + name;
      const id = prefix + '-' + name.replace(/_/g, '-');
      if (TEXT_PROPERTIES.has(name)) {
        box.append(E.textField({
          idPrefix: id, label: t(PROPERTY_WORDS[name]), languages: languages(), pointer: propPointer,
          multiline: name === 'content' || name === 'help',
          get: () => field[name],
          set: (v) => { if (v === undefined) delete field[name]; else field[name] = v; changed(); },
        }));
      } else if (name === 'required' || name === 'counter' || name === 'prefill'
                 || name === 'consent') {
        box.append(h('div', { class: 'prop checkbox', dataset: { pointer: propPointer } },
          h('input', {
            type: 'checkbox', id, checked: field[name] === true, dataset: { pointer: propPointer },
            on: { change: (e) => { if (e.target.checked) field[name] = true; else delete field[name]; changed(); } },
          }),
          h('label', { for: id }, t(PROPERTY_WORDS[name]))));
      } else if (name === 'options') {
        box.append(optionsEditor(field, prefix, propPointer));
      } else if (name === 'default') {
        box.append(defaultEditor(field, id, propPointer));
      } else if (name === 'repeat') {
        const repeat = field.repeat && typeof field.repeat === 'object' ? field.repeat : {};
        for (const [key, word] of [['min', 'Rows at least'], ['max', 'Rows at most']]) {
          box.append(labelled(id + '-' + key, t(word), numberInput(id + '-' + key, repeat[key],
            propPointer + '/' + key, (v) => {
              field.repeat = Object.assign({}, field.repeat);
              if (v === undefined) delete field.repeat[key]; else field.repeat[key] = Math.trunc(v);
              changed();
            }, { step: 1, min: 0 }), propPointer + '/' + key));
        }
      } else if (name === 'fields') {
        box.append(h('p', { class: 'hint', dataset: { pointer: propPointer } },
          t('The fields of each row are edited in the JSON view.')));
      } else if (name === 'accept') {
        const chosen = new Set(Array.isArray(field.accept) ? field.accept : []);
        const group = h('fieldset', { class: 'prop', dataset: { pointer: propPointer } },
          h('legend', {}, t(PROPERTY_WORDS[name])));
        FILE_TYPES.forEach((kind, i) => {
          group.append(h('div', { class: 'checkbox' }, h('input', {
            type: 'checkbox', id: id + '-' + i, checked: chosen.has(kind),
            on: { change: (e) => {
              const now = new Set(Array.isArray(field.accept) ? field.accept : []);
              if (e.target.checked) now.add(kind); else now.delete(kind);
              if (now.size) field.accept = FILE_TYPES.filter((k) => now.has(k)); else delete field.accept;
              changed();
            } },
          }), h('label', { for: id + '-' + i }, kind)));
        });
        box.append(group);
      } else if ((name === 'min' || name === 'max') && field[name] && typeof field[name] === 'object') {
        // bound by another field's answer: shown, edited in the JSON view
        box.append(h('p', { class: 'hint', dataset: { pointer: propPointer } },
          t(PROPERTY_WORDS[name]) + ': ' + t('The answer of field') + ' ' + String(field[name].field)));
      } else if (['min_length', 'max_length', 'min_selected', 'max_selected', 'max_size',
        'max_files'].includes(name)) {
        box.append(labelled(id, t(PROPERTY_WORDS[name]), numberInput(id, field[name], propPointer,
          (v) => { if (v === undefined) delete field[name]; else field[name] = Math.trunc(v); changed(); },
          { step: 1, min: 0 }), propPointer));
      } else if (name === 'min' || name === 'max') {
        const type = field.type === 'date' ? 'date' : 'number';
        box.append(labelled(id, t(PROPERTY_WORDS[name]), numberInput(id, field[name], propPointer,
          (v) => { if (v === undefined) delete field[name]; else field[name] = v; changed(); }, { type }), propPointer));
      } else if (name === 'step') {
        box.append(labelled(id, t(PROPERTY_WORDS[name]), numberInput(id, field.step, propPointer,
          (v) => { if (v === undefined) delete field.step; else field.step = v; changed(); }, { min: 0 }), propPointer));
      } else {
        box.append(labelled(id, t(PROPERTY_WORDS[name]), h('input', {
          type: 'text', id, value: field[name] || '', dataset: { pointer: propPointer },
          spellcheck: name === 'pattern' ? 'false' : null,
          on: { input: (e) => { if (e.target.value === '') delete field[name]; else field[name] = e.target.value; changed(); } },
        }), propPointer));
      }
    }
    return box;
  }

  /** A new type keeps what still applies and drops what the engine would refuse. */
  function changeType(field, type) {
    field.type = type;
    const allowed = new Set(config.field_properties[type] || []);
    for (const key of Object.keys(field)) {
      if (key !== 'id' && key !== 'type' && !allowed.has(key)) delete field[key];
    }
    const lang = languages()[0];
    if (type === 'paragraph' && field.content === undefined) field.content = { [lang]: t('Paragraph') };
    if (type !== 'paragraph' && field.label === undefined) field.label = { [lang]: field.id };
    if (CHOICE.has(type) && !Array.isArray(field.options)) {
      field.options = [{ value: 'option_1', label: { [lang]: 'Option 1' } }];
    }
    if (type === 'calculated' && typeof field.expression !== 'string') field.expression = '0';
    if (type === 'group') {
      if (!field.repeat || typeof field.repeat !== 'object') field.repeat = { min: 0, max: 10 };
      if (!Array.isArray(field.fields)) {
        field.fields = [{ id: E.unique(field.id + '_item', takenIds()), type: 'text',
          label: { [lang]: t('Text') } }];
      }
    }
  }

  function defaultEditor(field, id, pointer) {
    if (field.type === 'checkbox') {
      const select = h('select', {
        id, dataset: { pointer },
        on: { change: (e) => { if (e.target.value === '') delete field.default; else field.default = e.target.value === 'true'; changed(); } },
      },
      h('option', { value: '', selected: field.default === undefined }, t('not set')),
      h('option', { value: 'true', selected: field.default === true }, t('ticked')),
      h('option', { value: 'false', selected: field.default === false }, t('not ticked')));
      return labelled(id, t('Default value'), select, pointer);
    }
    const shown = Array.isArray(field.default) ? field.default.join(', ')
      : field.default === undefined || field.default === null ? '' : String(field.default);
    return labelled(id, t('Default value'), h('input', {
      type: field.type === 'date' ? 'date' : 'text', id, value: shown, dataset: { pointer },
      on: {
        input: (e) => {
          const raw = e.target.value;
          if (raw === '') delete field.default;
          else if (field.type === 'checkboxes') field.default = raw.split(',').map((s) => s.trim()).filter(Boolean);
          else if (field.type === 'number' && !Number.isNaN(Number(raw))) field.default = Number(raw);
          else field.default = raw;
          changed();
        },
      },
    }), pointer);
  }

  function optionsEditor(field, prefix, pointer) {
    if (!Array.isArray(field.options)) field.options = [];
    const options = field.options;
    const box = h('fieldset', { class: 'options', id: prefix + '-options', dataset: { pointer } },
      h('legend', {}, t('Options')));
    const list = h('ol', {});
    options.forEach((option, k) => {
      if (!isObject(option)) return;
      const optionPrefix = prefix + '-option-' + k;
      const optionPointer = pointer + '/' + k;
      list.append(h('li', { class: 'option-row', id: optionPrefix, dataset: { pointer: optionPointer } },
        labelled(optionPrefix + '-value', t('Value'), h('input', {
          type: 'text', id: optionPrefix + '-value', value: option.value || '',
          dataset: { pointer: optionPointer + '/value' },
          on: { change: (e) => { option.value = e.target.value; changed(); } },
        }), optionPointer + '/value'),
        E.textField({
          idPrefix: optionPrefix + '-label', label: t('Label'), languages: languages(),
          pointer: optionPointer + '/label',
          get: () => option.label, set: (v) => { option.label = v === undefined ? '' : v; changed(); },
        }),
        moveButtons(optionPrefix, k, options.length, (delta) => {
          if (move(options, k, delta)) {
            restructured();
            const moved = prefix + '-option-' + (k + delta);
            focusId(moved + (delta < 0 ? '-up' : '-down'), moved + '-down', moved + '-up');
          }
        }, String(option.value)),
        h('button', {
          type: 'button', class: 'secondary danger', id: optionPrefix + '-remove',
          aria: { label: t('Remove') + ': ' + t('Value') + ' ' + option.value },
          on: { click: () => { options.splice(k, 1); restructured(); focusId(prefix + '-add-option'); } },
        }, t('Remove'))));
    });
    box.append(list, h('button', {
      type: 'button', class: 'secondary', id: prefix + '-add-option',
      on: {
        click: () => {
          const value = E.unique('option_' + (options.length + 1), new Set(options.map((o) => o && o.value)));
          options.push({ value, label: { [languages()[0]]: value } });
          restructured();
          focusId(prefix + '-option-' + (options.length - 1) + '-value');
        },
      },
    }, t('Add option')));
    return box;
  }

  // -- rules ------------------------------------------------------------------------------

  function rulesSection() {
    const box = h('section', { class: 'card', id: 'rules', dataset: { pointer: '/rules' } },
      h('h2', {}, t('Rules')));
    const list = h('ol', { class: 'rules' });
    rules().forEach((rule, index) => { if (isObject(rule)) list.append(ruleCard(rule, index)); });
    box.append(list, h('button', {
      type: 'button', id: 'add-rule',
      on: {
        click: () => {
          const fields = conditionFields();
          const rule = { when: fields.length ? { field: fields[0].id, op: 'is_not_empty' } : { all: [] }, show: [] };
          rules().push(rule);
          restructured();
          focusId('rule-' + (rules().length - 1) + '-show');
        },
      },
    }, t('Add rule')));
    return box;
  }

  function targetSelect(rule, effect, prefix, pointer) {
    const id = prefix + '-' + effect;
    const chosen = new Set(Array.isArray(rule[effect]) ? rule[effect] : []);
    const select = h('select', {
      id, multiple: true, size: 5, dataset: { pointer: pointer + '/' + effect },
      on: {
        change: (e) => {
          const values = Array.from(e.target.selectedOptions).map((o) => o.value);
          if (values.length) rule[effect] = values; else delete rule[effect];
          changed();
        },
      },
    });
    for (const step of steps()) {
      if (!isObject(step)) continue;
      if (effect !== 'require') {
        select.append(h('option', { value: step.id, selected: chosen.has(step.id) }, t('Step') + ': ' + (textOf(step.title) || step.id) + ' (' + step.id + ')'));
      }
      for (const field of fieldsOf(step)) {
        if (!isObject(field) || (effect === 'require' && field.type === 'paragraph')) continue;
        select.append(h('option', { value: field.id, selected: chosen.has(field.id) }, '— ' + (textOf(field.label) || textOf(field.content) || field.id) + ' (' + field.id + ')'));
      }
    }
    for (const missing of chosen) {
      if (!Array.from(select.options).some((o) => o.value === missing)) {
        select.append(h('option', { value: missing, selected: true }, missing + ' (?)'));
      }
    }
    return h('div', { class: 'prop target', dataset: { pointer: pointer + '/' + effect } },
      h('label', { for: id }, t(effect)), select);
  }

  function ruleCard(rule, index) {
    const prefix = 'rule-' + index;
    const pointer = '/rules/' + index;
    const card = h('li', { class: 'card rule-card', id: prefix, dataset: { pointer } });
    card.append(h('div', { class: 'card-head' },
      h('h3', {}, t('Rule') + ' ' + (index + 1)),
      moveButtons(prefix, index, rules().length, (delta) => {
        if (move(rules(), index, delta)) {
          restructured();
          const moved = 'rule-' + (index + delta);
          focusId(moved + (delta < 0 ? '-up' : '-down'), moved + '-down', moved + '-up');
        }
      }, t('Rule') + ' ' + (index + 1)),
      h('button', {
        type: 'button', class: 'secondary danger', id: prefix + '-remove',
        aria: { label: t('Remove') + ': ' + t('Rule') + ' ' + (index + 1) },
        on: { click: () => { rules().splice(index, 1); restructured(); focusId('add-rule'); } },
      }, t('Remove'))));
    card.append(h('div', { class: 'targets' },
      targetSelect(rule, 'show', prefix, pointer),
      targetSelect(rule, 'hide', prefix, pointer),
      targetSelect(rule, 'require', prefix, pointer)));
    card.append(E.conditionEditor({
      idPrefix: prefix, fields: conditionFields(), pointer: pointer + '/when',
      get: () => rule.when, set: (c) => { rule.when = c; changed(); },
    }));
    return card;
  }

  // -- the builder ------------------------------------------------------------------------

  function renderBuilder() {
    const builder = document.getElementById('builder');
    builder.replaceChildren();
    if (!isObject(draft())) {
      builder.append(h('p', { class: 'alert' }, t('The preview needs a valid definition.')));
      return;
    }
    builder.append(formProperties());
    const stepList = h('section', { class: 'steps', id: 'steps', dataset: { pointer: '/steps' } },
      h('h2', {}, t('Steps and fields')));
    steps().forEach((step, index) => { if (isObject(step)) stepList.append(stepCard(step, index)); });
    stepList.append(h('button', {
      type: 'button', id: 'add-step',
      on: {
        click: () => {
          const id = E.unique('step', takenIds());
          steps().push({ id, title: { [languages()[0]]: t('Step') + ' ' + (steps().length + 1) }, fields: [] });
          restructured();
          focusId('step-' + (steps().length - 1) + '-id');
        },
      },
    }, t('Add step')));
    builder.append(stepList, rulesSection());
    editor.markInvalid();
  }

  editor.renderBuilder = renderBuilder;
  renderBuilder();
  editor.check();

  // -- preview ----------------------------------------------------------------------------

  const preview = {
    form: null, handle: null, page: 0, language: null,
  };

  function previewLanguage() {
    const select = document.getElementById('preview-language');
    const langs = languages();
    if (select && langs.includes(select.value)) return select.value;
    return langs.includes(config.language) ? config.language : langs[0];
  }

  function fillLanguageSelect() {
    const select = document.getElementById('preview-language');
    if (!select) return;
    const current = previewLanguage();
    select.replaceChildren();
    for (const lang of languages()) select.append(h('option', { value: lang, selected: lang === current }, E.languageNames(lang)));
  }

  let previewSeq = 0;

  /**
   * The draft's steps as the server renders them for applicants (the same field macros), with
   * the answers typed so far; formflow-form.js then shows, hides and requires fields live.
   */
  async function renderPreview() {
    const container = document.getElementById('preview');
    if (!container) return;
    const answers = preview.form && preview.handle
      ? window.FormflowForm.readAnswers(preview.form, preview.handle.compiled, {}) : {};
    const sequence = ++previewSeq;
    const { status, data } = await E.api(config.urls.preview, {
      definition: draft(), answers, language: previewLanguage(),
    });
    if (sequence !== previewSeq) return;
    if (preview.handle) preview.handle.detach();
    preview.handle = null;
    preview.form = null;
    const parsed = status === 200 && data && typeof data.html === 'string'
      ? new DOMParser().parseFromString(data.html, 'text/html').getElementById('preview-form')
      : null;
    if (!parsed) {
      const problem = data && Array.isArray(data.problems) && data.problems.length ? data.problems[0] : null;
      const message = (data && data.message) || t('The preview needs a valid definition.');
      container.replaceChildren(h('p', { class: 'alert', id: 'preview-error' },
        problem ? message + ' ' + problem.message : message));
      showPage();
      return;
    }
    const form = document.importNode(parsed, true);
    form.addEventListener('submit', (e) => e.preventDefault());
    container.replaceChildren(form);
    preview.form = form;
    preview.handle = window.FormflowForm.attach(form);
    form.addEventListener('input', () => { showPage(); runWhatIfSoon(); });
    form.addEventListener('change', () => { showPage(); runWhatIfSoon(); });
    showPage();
  }

  function visibleSteps() {
    const result = preview.handle ? preview.handle.result() : null;
    return result ? result.visible_steps : [];
  }

  function showPage() {
    const form = preview.form;
    if (!form) return;
    const visible = visibleSteps();
    const progress = document.getElementById('preview-progress');
    preview.page = Math.max(0, Math.min(preview.page, visible.length - 1));
    const current = visible[preview.page];
    for (const page of form.querySelectorAll('.preview-page')) page.hidden = page.dataset.page !== current;
    progress.textContent = visible.length ? t('Step %(n)s of %(m)s', { n: preview.page + 1, m: visible.length }) : t('No step is visible.');
    progress.dataset.position = String(preview.page + 1);
    progress.dataset.total = String(visible.length);
    document.getElementById('preview-prev').disabled = preview.page <= 0;
    document.getElementById('preview-next').disabled = preview.page >= visible.length - 1;
  }

  document.getElementById('preview-prev').addEventListener('click', () => { preview.page -= 1; showPage(); });
  document.getElementById('preview-next').addEventListener('click', () => { preview.page += 1; showPage(); });
  document.getElementById('preview-language').addEventListener('change', renderPreview);

  // -- what if ----------------------------------------------------------------------------

  let whatIfSeq = 0;

  function fillRoleSelect() {
    const select = document.getElementById('what-if-role');
    if (!select || select.options.length) return;
    for (const role of config.roles) select.append(h('option', { value: role, selected: role === 'coordinator' }, (config.role_names || {})[role] || role));
  }

  async function runWhatIf() {
    const problems = document.getElementById('what-if-problems');
    if (!problems || editor.activeTab !== 'preview') return;
    const answers = preview.form && preview.handle
      ? window.FormflowForm.readAnswers(preview.form, preview.handle.compiled, {}) : {};
    const sequence = ++whatIfSeq;
    const { status, data } = await E.api(config.urls.what_if, {
      definition: draft(), answers, role: document.getElementById('what-if-role').value,
      language: previewLanguage(),
      workflow_draft: document.getElementById('what-if-workflow-draft').checked,
    });
    if (sequence !== whatIfSeq) return;
    const fields = document.getElementById('what-if-fields');
    const states = document.getElementById('what-if-states');
    fields.replaceChildren();
    states.replaceChildren();
    if (status !== 200) {
      E.renderProblems(problems, (data && data.problems) || [{ pointer: '', message: (data && data.message) || t('Saving failed') }], null);
      return;
    }
    E.renderProblems(problems, data.problems, null);
    const yes = t('yes');
    const no = t('no');
    for (const step of data.steps) {
      fields.append(h('tr', { class: 'step-row', dataset: { step: step.id, visible: String(step.visible) } },
        h('th', { scope: 'row', colspan: '5' }, t('Step') + ': ' + step.title + ' – ' + (step.visible ? t('visible') : t('hidden')))));
      for (const field of step.fields) {
        fields.append(h('tr', {
          dataset: { field: field.id, visible: String(field.visible), required: String(field.required), invalid: String(field.invalid) },
          class: field.invalid ? 'invalid' : (field.visible ? '' : 'hidden-field'),
        },
        h('td', {}, field.label + ' (' + field.id + ')'),
        h('td', {}, field.visible ? yes : no),
        h('td', {}, field.required ? yes : no),
        h('td', {}, field.invalid ? yes : no),
        h('td', {}, field.errors.join(' '))));
      }
    }
    E.renderStates(states, data.states);
    const source = document.getElementById('what-if-workflow');
    if (source) source.textContent = data.workflow.id ? data.workflow.id + (data.workflow.source ? ' (' + data.workflow.source + ')' : '') : '';
  }

  const runWhatIfSoon = E.debounce(runWhatIf, 600);
  document.getElementById('what-if-run').addEventListener('click', runWhatIf);
  document.getElementById('what-if-role').addEventListener('change', runWhatIf);
  document.getElementById('what-if-workflow-draft').addEventListener('change', runWhatIf);

  // On wide screens (≥ 1200 px) the preview stands beside the builder (a CSS grid); the
  // preview tab still shows it alone, and narrow screens keep the tabs only.
  const wide = window.matchMedia('(min-width: 1200px)');
  const split = h('div', { id: 'editor-split' });
  const builderPanel = document.getElementById('panel-builder');
  const previewPanel = document.getElementById('panel-preview');
  builderPanel.before(split);
  split.append(builderPanel, previewPanel);
  let beside = false;
  const previewShown = () => editor.activeTab === 'preview' || beside;

  function showPreview() {
    fillLanguageSelect();
    fillRoleSelect();
    renderPreview();
    runWhatIf();
  }

  function arrange() {
    const was = beside;
    beside = wide.matches && editor.activeTab === 'builder';
    split.classList.toggle('beside', beside);
    if (editor.activeTab === 'builder') previewPanel.hidden = !beside;
    if (beside && !was) showPreview();
  }
  wide.addEventListener('change', arrange);

  const refreshPreview = E.debounce(() => {
    if (previewShown()) { fillLanguageSelect(); renderPreview(); runWhatIf(); }
  }, 500);
  editor.onChange(refreshPreview);
  const previousOnTab = editor.onTab;
  editor.onTab = (name) => {
    if (previousOnTab) previousOnTab(name);
    const wasBeside = beside;
    arrange();
    if (name === 'preview' && !wasBeside) showPreview();
  };
  arrange();
  window.FormflowFormEditor = { editor, renderPreview, runWhatIf };
})();
