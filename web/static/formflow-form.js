/*
 * formflow-form.js — wires formflow-rules.js to a server-rendered <form data-formflow>.
 *
 * WHY separate: the rule core is pure and tested against the conformance vectors; this file only
 * reads the controls, asks the core, and reflects the result in the page. Without JavaScript the
 * form still works: the server evaluates the same rules on every submit and is authoritative.
 *
 * Markup contract (rendered by the server):
 *   <form data-formflow data-definition="<content hash>">
 *     the definition: inline as <script type="application/json" id="formflow-definition">{…}</script>
 *         (the editor's preview), or registered by an earlier script as
 *         FormflowDefinitions["<content hash>"] (applicant pages: a per-version file the browser
 *         keeps, so pages need not carry the definition each time)
 *     <script type="application/json" id="formflow-answers">{…saved answers…}</script>  optional:
 *         answers of steps not on this page, so rules reading them see their values
 *     <section data-step="person"> … <div data-field="name"> <input name="name"> </div> …
 *     <span data-counter-for="darstellung" aria-live="polite"></span>
 *   </form>
 * Hidden fields/steps get `hidden`, and their controls `disabled` (so they are not submitted,
 * and never block native validation); visible required controls get `required` and
 * `aria-required="true"`; counters show "n / max"; a paste cut at maxlength is told beside
 * the counter ([data-cut-note-for], text from the server in the page's language).
 *
 * Load after formflow-rules.js; it attaches itself to every form[data-formflow] on the page.
 * window.FormflowForm.attach(form) returns {compiled, update(), result(), detach()} or null.
 */
(function (root) {
  'use strict';
  const MARK = 'data-formflow-disabled'; // controls this script disabled, and only those
  const CONTROLS = 'input, select, textarea';

  function rules() {
    if (root.FormflowRules) return root.FormflowRules;
    if (typeof require === 'function') return require('./formflow-rules.js');
    throw new Error('formflow-form.js needs formflow-rules.js loaded first');
  }

  function readJson(form, id) {
    let element = form.querySelector('#' + id);
    if (!element && typeof document !== 'undefined') element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : undefined;
  }

  function definitionOf(form) {
    const inline = readJson(form, 'formflow-definition');
    if (inline !== undefined) return inline;
    const key = typeof form.getAttribute === 'function' ? form.getAttribute('data-definition') : null;
    const registered = root.FormflowDefinitions;
    if (key && registered && Object.prototype.hasOwnProperty.call(registered, key)) {
      return registered[key];
    }
    throw new Error('the form definition is not on the page');
  }

  function controlsByName(form) {
    const byName = new Map();
    for (const control of Array.from(form.elements || [])) {
      if (!control.name) continue;
      if (!byName.has(control.name)) byName.set(control.name, []);
      byName.get(control.name).push(control);
    }
    return byName;
  }

  /** Raw answers as the controls hold them right now, over the saved ones of other pages. */
  function readAnswers(form, compiled, saved) {
    const answers = Object.assign({}, saved || {});
    const byName = controlsByName(form);
    readFields(compiled, byName, '', answers);
    for (const field of compiled.fieldList) {
      if (!field.isGroup) continue;
      const list = rowList(form, field.id);
      if (!list) continue;
      answers[field.id] = rowsOf(list).map((row, index) => {
        const cells = {};
        readFields(compiled.rows.get(field.id), byName, field.id + '-' + index + '-', cells);
        return cells;
      });
    }
    return answers;
  }

  function rowList(form, groupId) {
    for (const list of Array.from(form.querySelectorAll('[data-rows]'))) {
      if (list.getAttribute('data-rows') === groupId) return list;
    }
    return null;
  }

  function rowsOf(list) {
    return Array.from(list.children).filter((child) => child.hasAttribute('data-row'));
  }

  function readFields(compiled, byName, prefix, answers) {
    for (const field of compiled.fieldList) {
      const controls = byName.get(prefix + field.id);
      if (!field.isInput || field.isGroup || !controls) continue;
      if (field.type === 'file') {
        answers[field.id] = fileAnswer(byName, field, controls);
      } else if (field.type === 'checkbox') {
        answers[field.id] = controls.some((c) => c.type === 'checkbox' && c.checked);
      } else if (field.type === 'checkboxes') {
        answers[field.id] = controls.filter((c) => c.checked).map((c) => c.value);
      } else if (field.type === 'radio') {
        const chosen = controls.find((c) => c.checked);
        answers[field.id] = chosen ? chosen.value : '';
      } else {
        answers[field.id] = controls[0].value;
      }
    }
  }

  /**
   * A file field as the rules see it while the page is open: the kept files and the chosen
   * ones, described as far as the browser can (its claimed type; the server reads the content
   * and decides).
   */
  function fileAnswer(byName, field, controls) {
    const refs = [];
    for (const keep of byName.get(field.id + '-keep') || []) {
      if (!keep.checked) continue;
      refs.push({ id: keep.value, name: keep.getAttribute('data-name') || '',
        size: Number(keep.getAttribute('data-size')) || 0,
        type: keep.getAttribute('data-type') || '', sha256: '' });
    }
    for (const control of controls) {
      for (const file of Array.from(control.files || [])) {
        refs.push({ id: '', name: file.name, size: file.size, type: file.type || '', sha256: '' });
      }
    }
    return refs;
  }

  function sizeText(size, language) {
    const text = size < 1000000 ? Math.max(1, Math.round(size / 1000)) + ' KB' :
      (size / 1000000).toFixed(1) + ' MB';
    return language === 'de' ? text.replace('.', ',') : text;
  }

  /** The chosen files of a file control, named with their sizes, each with a remove button. */
  function showChosenFiles(form, control) {
    const list = Array.from(form.querySelectorAll('[data-file-choice-for]'))
      .find((element) => element.getAttribute('data-file-choice-for') === control.name);
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    const language = (typeof document !== 'undefined' && document.documentElement.lang) || 'de';
    for (const file of Array.from(control.files || [])) {
      const item = document.createElement('li');
      item.textContent = file.name + ' (' + sizeText(file.size, language) + ') ';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'ff-link-button';
      remove.textContent = list.getAttribute('data-remove-label') || 'Remove';
      remove.setAttribute('data-remove-file', control.name);
      item.appendChild(remove);
      list.appendChild(item);
    }
  }

  /** A remove button of a chosen file: the control is emptied (a control cannot drop one of
   * several files, so all of them go), and the list with it. */
  function removeChosenFile(form, event) {
    const button = event.target && event.target.closest ? event.target.closest('[data-remove-file]') : null;
    if (!button || !form.contains(button)) return false;
    const name = button.getAttribute('data-remove-file');
    const control = Array.from(form.querySelectorAll('input[type="file"]')).find((c) => c.name === name);
    if (!control) return false;
    control.value = '';
    showChosenFiles(form, control);
    if (typeof control.focus === 'function') control.focus();
    return true;
  }

  /**
   * A repeating group's rows after one was added or removed: names, ids and labels numbered
   * from 0 again in page order (the server reads rows 0 to `<id>-rows` - 1), and the buttons
   * allowed by repeat.max.
   */
  function renumberRows(form, group) {
    const list = rowList(form, group.id);
    if (!list) return;
    const rows = rowsOf(list);
    // names "<group>-<n>-<field>", ids "<prefix>-<group>-<n>-<field>" (field-, or the
    // preview's pv-): ids of groups and fields hold no "-", so the prefix is what precedes.
    const pattern = new RegExp('^([a-z]+-)?' + group.id + '-([0-9]+|__row__)-');
    rows.forEach((row, index) => {
      row.setAttribute('data-row', String(index));
      for (const element of Array.from(row.querySelectorAll('[name], [id], [for], [aria-describedby]'))) {
        for (const attribute of ['name', 'id', 'for']) {
          const value = element.getAttribute(attribute);
          if (value && pattern.test(value)) {
            element.setAttribute(attribute, value.replace(pattern, (m, field) =>
              (field || '') + group.id + '-' + index + '-'));
          }
        }
        const described = element.getAttribute('aria-describedby');
        if (described) {
          element.setAttribute('aria-describedby', described.split(' ').map((id) =>
            id.replace(pattern, (m, field) => (field || '') + group.id + '-' + index + '-')).join(' '));
        }
      }
      for (const button of Array.from(row.querySelectorAll('[data-remove-row]'))) {
        button.value = 'remove_row:' + group.id + ':' + index;
      }
      const number = row.querySelector('[data-row-number]');
      if (number) number.textContent = String(index + 1);
    });
    for (const input of Array.from(form.querySelectorAll('[data-rows-for]'))) {
      if (input.getAttribute('data-rows-for') === group.id) input.value = String(rows.length);
    }
    for (const button of Array.from(form.querySelectorAll('[data-add-row]'))) {
      if (button.getAttribute('data-add-row') === group.id) button.disabled = rows.length >= group.repeatMax;
    }
  }

  /** "add row" and "remove row" in the page: a copy of the group's <template> row, or gone. */
  function changeRows(form, compiled, event) {
    const button = event.target && event.target.closest ? event.target.closest('[data-add-row], [data-remove-row]') : null;
    if (!button || !form.contains(button)) return false;
    const adding = button.hasAttribute('data-add-row');
    const group = compiled.fields.get(button.getAttribute(adding ? 'data-add-row' : 'data-remove-row'));
    const list = group ? rowList(form, group.id) : null;
    if (!list) return false;
    event.preventDefault();
    let focus = null;
    if (adding) {
      const template = Array.from(form.querySelectorAll('template[data-row-template]'))
        .find((t) => t.getAttribute('data-row-template') === group.id);
      if (!template || rowsOf(list).length >= group.repeatMax) return true;
      const row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      focus = row.querySelector(CONTROLS);
    } else {
      const row = button.closest('[data-row]');
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      focus = next ? next.querySelector(CONTROLS) : form.querySelector('[data-add-row="' + group.id + '"]');
    }
    renumberRows(form, group);
    if (focus && typeof focus.focus === 'function') focus.focus();
    return true;
  }

  /** Each row of each repeating group shown as its own evaluation says (row rules). */
  function applyRows(form, compiled, answers) {
    const core = rules();
    for (const field of compiled.fieldList) {
      if (!field.isGroup) continue;
      const list = rowList(form, field.id);
      if (!list) continue;
      const rowForm = compiled.rows.get(field.id);
      const rows = Array.isArray(answers[field.id]) ? answers[field.id] : [];
      rowsOf(list).forEach((element, index) => {
        const result = core.evaluate(rowForm, rows[index] || {});
        const visible = new Set(result.visible_fields);
        const required = new Set(result.required);
        for (const wrapper of Array.from(element.querySelectorAll('[data-field]'))) {
          const cell = rowForm.fields.get(wrapper.getAttribute('data-field'));
          if (!cell) continue;
          setShown(wrapper, visible.has(cell.id));
          if (cell.isInput && !cell.isCalculated) setRequired(wrapper, cell, required.has(cell.id));
        }
        updateCalculated(element, result);
      });
    }
  }

  function setShown(element, shown) {
    element.hidden = !shown;
    if (element.tagName === 'FIELDSET') element.disabled = !shown;
    for (const control of Array.from(element.querySelectorAll(CONTROLS))) {
      if (!shown && !control.disabled) {
        control.disabled = true;
        control.setAttribute(MARK, '');
      } else if (shown && control.hasAttribute(MARK)) {
        control.disabled = false;
        control.removeAttribute(MARK);
      }
    }
  }

  function setRequired(wrapper, field, required) {
    const controls = Array.from(wrapper.querySelectorAll(CONTROLS));
    // `required` on each box of a checkbox group would demand every box, and aria-required
    // belongs on a group, not on its radios or boxes: the wrapper (role="group") carries it.
    const group = field.type === 'checkboxes' || field.type === 'radio';
    for (const control of controls) {
      control.required = required && field.type !== 'checkboxes';
      if (required && !group) control.setAttribute('aria-required', 'true');
      else control.removeAttribute('aria-required');
    }
    if (required && group) wrapper.setAttribute('aria-required', 'true');
    else wrapper.removeAttribute('aria-required');
  }

  function updateCounters(form, compiled, answers) {
    for (const counter of Array.from(form.querySelectorAll('[data-counter-for]'))) {
      const field = compiled.fields.get(counter.getAttribute('data-counter-for'));
      if (!field) continue;
      const raw = answers[field.id];
      const count = typeof raw === 'string' ? [...raw.trim()].length : 0;
      const text = field.maxLength === null ? String(count) : count + ' / ' + field.maxLength;
      if (counter.textContent !== text) counter.textContent = text;
      if (!counter.hasAttribute('aria-live')) counter.setAttribute('aria-live', 'polite');
    }
  }

  /**
   * A paste longer than a field's maxlength is cut by the browser without a word; the note
   * beside the counter ([data-cut-note-for], its text rendered by the server in the page's
   * language) says so, until the person shortens the answer again.
   */
  function cutNote(form, control) {
    if (!control || !control.name || !(control.maxLength > 0)) return null;
    for (const note of Array.from(form.querySelectorAll('[data-cut-note-for]'))) {
      if (note.getAttribute('data-cut-note-for') === control.name) return note;
    }
    return null;
  }

  function notePaste(form, event) {
    const control = event.target;
    const note = cutNote(form, control);
    if (!note || !event.clipboardData) return;
    const pasted = event.clipboardData.getData('text/plain').replace(/\r\n?/g, '\n');
    const selected = (control.selectionEnd || 0) - (control.selectionStart || 0);
    const room = control.maxLength - (control.value.length - selected);
    note.textContent = pasted.length > room ? note.getAttribute('data-message') : '';
  }

  function clearCutNote(form, control) {
    const note = cutNote(form, control);
    if (note && note.textContent && control.value.length < control.maxLength) note.textContent = '';
  }

  /** Reflects an evaluation in the page: steps first, so fields can re-hide inside them. */
  function apply(form, compiled, result, answers) {
    const visibleSteps = new Set(result.visible_steps);
    const visibleFields = new Set(result.visible_fields);
    const required = new Set(result.required);
    const stepIds = new Set(compiled.steps.map((step) => step.id));
    for (const element of Array.from(form.querySelectorAll('[data-step]'))) {
      const id = element.getAttribute('data-step');
      if (stepIds.has(id)) setShown(element, visibleSteps.has(id));
    }
    for (const element of Array.from(form.querySelectorAll('[data-field]'))) {
      const field = compiled.fields.get(element.getAttribute('data-field'));
      if (!field) continue; // a row's cells (ids of their own): applyRows
      setShown(element, visibleFields.has(field.id));
      if (field.isInput && !field.isGroup && !field.isCalculated) {
        setRequired(element, field, required.has(field.id));
      }
    }
    updateCounters(form, compiled, answers);
    updateCalculated(form, result);
    applyRows(form, compiled, answers);
  }

  /** Calculated values as the page shows them: String(number), "—" when empty. */
  function updateCalculated(form, result) {
    const values = result.calculated || {};
    for (const output of Array.from(form.querySelectorAll('[data-calculated-for]'))) {
      const id = output.getAttribute('data-calculated-for');
      if (!Object.prototype.hasOwnProperty.call(values, id)) continue; // another row's, or hidden
      const value = values[id];
      const text = typeof value === 'number' ? String(value) : '—';
      if (output.textContent !== text) output.textContent = text;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages when a field is left: the server's own catalogue (#formflow-messages, the page's
  // language), worded with the same parameters as engine/messages.py.

  const EMPTY_CODES = new Set(['required', 'must_tick', 'choose_one', 'file_required']);
  const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

  function localize(text, language, fallback) {
    if (text === null || text === undefined) return '';
    if (typeof text === 'string') return text;
    return text[language] || text[fallback] || Object.values(text)[0] || '';
  }

  /** A parameter as German readers write it (engine/messages.py _local). */
  function localParam(value, language) {
    if (language !== 'de') return String(value);
    if (typeof value === 'number' && !Number.isInteger(value)) return String(value).replace('.', ',');
    const day = typeof value === 'string' ? ISO_DAY.exec(value) : null;
    return day ? day[3] + '.' + day[2] + '.' + day[1] : String(value);
  }

  /** The sentence for one error code of `field`, or null when the page cannot word it alone
   * (the server will). */
  function messageFor(field, code, raw, words) {
    if (code === 'pattern' && field.patternMessage) {
      return localize(field.patternMessage, words.language, words.default_language);
    }
    const template = words.messages[code];
    if (!template) return null;
    const length = typeof raw === 'string' ? [...raw.trim()].length : 0;
    const params = {
      min_length: { min_length: field.minLength, length },
      max_length: { max_length: field.maxLength, length },
      min: { min: field.min }, max: { max: field.max }, step: { step: field.stepSize },
      date_min: { min: field.min }, date_max: { max: field.max },
      min_selected: { min_selected: field.minSelected },
      max_selected: { max_selected: field.maxSelected },
    }[code] || {};
    let missing = false;
    const text = template.replace(/\{(\w+)\}/g, (whole, name) => {
      const value = params[name];
      if (value === null || value === undefined) { missing = true; return whole; }
      return localParam(value, words.language);
    });
    return missing ? null : text;
  }

  function errorBox(wrapper) {
    return wrapper.querySelector('.ff-error[data-error-for]');
  }

  /** Shows `messages` at the field as the server renders errors (or removes them). */
  function showMessages(wrapper, field, messages, words) {
    const controls = Array.from(wrapper.querySelectorAll(CONTROLS));
    const anchor = wrapper.tagName === 'FIELDSET' ? wrapper : controls[0];
    if (!anchor || !anchor.id) return;
    let box = errorBox(wrapper);
    if (messages.length === 0) {
      if (box) box.remove();
      wrapper.classList.remove('ff-invalid');
      anchor.removeAttribute('aria-invalid');
      const rest = (anchor.getAttribute('aria-describedby') || '').split(' ')
        .filter((id) => id && id !== anchor.id + '-error');
      if (rest.length) anchor.setAttribute('aria-describedby', rest.join(' '));
      else anchor.removeAttribute('aria-describedby');
      return;
    }
    if (!box) {
      box = document.createElement('div');
      box.className = 'ff-error';
      box.id = anchor.id + '-error';
      box.setAttribute('data-error-for', field.id);
      const before = wrapper.querySelector('.ff-options, .ff-option') || controls[0];
      before.parentNode.insertBefore(box, before);
    }
    while (box.firstChild) box.removeChild(box.firstChild);
    for (const text of messages) {
      const line = document.createElement('p');
      const prefix = document.createElement('span');
      prefix.className = 'ff-visually-hidden';
      prefix.textContent = words.error;
      line.appendChild(prefix);
      line.appendChild(document.createTextNode(' ' + text));
      box.appendChild(line);
    }
    wrapper.classList.add('ff-invalid');
    anchor.setAttribute('aria-invalid', 'true');
    const described = (anchor.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (described.indexOf(box.id) < 0) described.push(box.id);
    anchor.setAttribute('aria-describedby', described.join(' '));
  }

  /** The field just left, checked as the server would check it, its messages shown. */
  function checkLeftField(form, compiled, saved, words, event) {
    const control = event.target;
    if (!control || !control.name || typeof control.closest !== 'function') return;
    const wrapper = control.closest('[data-field]');
    const next = event.relatedTarget;
    if (!wrapper || (next && wrapper.contains(next))) return;
    // On the way to a button the page is being sent (or rows changed): the server answers,
    // and moving the button under the pointer now would swallow the click.
    if (next && next.tagName === 'BUTTON') return;
    const core = rules();
    const answers = readAnswers(form, compiled, saved);
    const row = control.closest('[data-row]');
    let field;
    let result;
    let raw;
    if (row) {
      const list = row.closest('[data-rows]');
      const group = list ? compiled.fields.get(list.getAttribute('data-rows')) : null;
      if (!group) return;
      const rowAnswers = (answers[group.id] || [])[rowsOf(list).indexOf(row)] || {};
      const rowForm = compiled.rows.get(group.id);
      field = rowForm.fields.get(wrapper.getAttribute('data-field'));
      result = core.evaluate(rowForm, rowAnswers);
      raw = field ? rowAnswers[field.id] : undefined;
    } else {
      field = compiled.fields.get(wrapper.getAttribute('data-field'));
      result = core.evaluate(compiled, answers);
      raw = field ? answers[field.id] : undefined;
    }
    if (!field || field.type === 'file' || field.isGroup || field.isCalculated) return;
    const codes = result.errors[field.id] || [];
    // An empty required field is only told about once the page has said so already: leaving
    // a field one has not filled in yet is no mistake.
    const shown = errorBox(wrapper) !== null;
    const messages = codes
      .filter((code) => shown || !EMPTY_CODES.has(code))
      .map((code) => messageFor(field, code, raw, words));
    if (messages.some((text) => text === null)) return; // the server words it on sending
    showMessages(wrapper, field, messages, words);
  }

  function attach(form) {
    const core = rules();
    let compiled;
    let saved;
    let words;
    try {
      compiled = core.compile(definitionOf(form));
      saved = readJson(form, 'formflow-answers');
      words = readJson(form, 'formflow-messages');
    } catch (error) {
      // The server still validates everything; the page just does not react live.
      if (typeof console !== 'undefined') console.warn('formflow: ' + error.message);
      return null;
    }
    let last = null;
    const update = () => {
      const answers = readAnswers(form, compiled, saved);
      last = core.evaluate(compiled, answers);
      apply(form, compiled, last, answers);
      return last;
    };
    // Browsers fire `change` right after `input` for boxes, radios and selects, and again on
    // leaving a text field: the answers are then what the `input` already evaluated.
    let seen = null;
    const state = (control) => [control, control.value, control.checked];
    const unchanged = (control) => seen !== null && state(control).every((v, i) => v === seen[i]);
    const onInput = (event) => {
      seen = event.target ? state(event.target) : null;
      if (event.target && event.inputType !== 'insertFromPaste') clearCutNote(form, event.target);
      update();
    };
    const onPaste = (event) => notePaste(form, event);
    const onLeave = (event) => {
      if (words && typeof document !== 'undefined') checkLeftField(form, compiled, saved, words, event);
    };
    const onClick = (event) => {
      if (changeRows(form, compiled, event) || removeChosenFile(form, event)) update();
    };
    const onChange = (event) => {
      if (event.target && event.target.type === 'file') showChosenFiles(form, event.target);
      if (event.target && unchanged(event.target)) return;
      seen = null;
      update();
    };
    form.addEventListener('input', onInput);
    form.addEventListener('change', onChange);
    form.addEventListener('paste', onPaste);
    form.addEventListener('click', onClick);
    form.addEventListener('focusout', onLeave);
    update();
    return {
      compiled,
      update,
      result: () => last,
      detach() {
        form.removeEventListener('input', onInput);
        form.removeEventListener('change', onChange);
        form.removeEventListener('paste', onPaste);
        form.removeEventListener('click', onClick);
        form.removeEventListener('focusout', onLeave);
      },
    };
  }

  const api = Object.freeze({ attach, apply, readAnswers });
  if (typeof module === 'object' && module !== null && module.exports) {
    module.exports = api;
  } else {
    root.FormflowForm = api;
  }

  if (typeof document !== 'undefined' && typeof document.querySelectorAll === 'function') {
    const start = () => {
      for (const form of Array.from(document.querySelectorAll('form[data-formflow]'))) attach(form);
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
