/*
 * editor-core.js — what the form editor and the workflow editor share.
 *
 * One draft object is edited by two views: the builder (form-editor.js / workflow-editor.js)
 * and the raw JSON textarea (here). Every change goes through Editor.changed(), which marks
 * the draft dirty, schedules a check (POST …/check, debounced) and an autosave (POST …/draft,
 * debounced), and tells the listeners (preview, diagram). The server is the only judge of a
 * definition's validity: problems come back with JSON pointers and are listed where the
 * administrator can jump to the input they concern ([data-pointer] in the builder).
 *
 * No inline scripts, no innerHTML with data: every element is built with the DOM API, every
 * text goes in as textContent. The page's words come from the server (config.words).
 *
 * window.FormflowEditor = {config, t, h, api, debounce, Editor, textField, conditionEditor,
 *                          renderProblems, renderStates, languageNames, unique}
 */
(function (root) {
  'use strict';

  const configElement = document.getElementById('editor-config');
  if (!configElement) return;
  const config = JSON.parse(configElement.textContent);
  const words = config.words || {};

  /** The page's words for `key`, with %(name)s filled from `vars`. */
  function t(key, vars) {
    let text = Object.prototype.hasOwnProperty.call(words, key) ? words[key] : key;
    if (vars) {
      text = text.replace(/%\((\w+)\)s/g, (match, name) => (name in vars ? String(vars[name]) : match));
    }
    return text;
  }

  /**
   * Builds an element. attrs: id, class, text, for, hidden, dataset {}, on {event: fn},
   * aria {name: value}, any other attribute (null/undefined/false are skipped, true → "").
   */
  function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') element.textContent = String(value);
      else if (name === 'class') element.className = value;
      else if (name === 'for') element.htmlFor = value;
      else if (name === 'dataset') Object.assign(element.dataset, value);
      else if (name === 'on') {
        for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
      } else if (name === 'aria') {
        for (const [key, val] of Object.entries(value)) element.setAttribute('aria-' + key, String(val));
      } else if (name === 'value') element.value = value;
      else if (name === 'checked') element.checked = Boolean(value);
      else if (name === 'selected') element.selected = Boolean(value);
      else if (name === 'hidden') element.hidden = Boolean(value);
      else element.setAttribute(name, value === true ? '' : String(value));
    }
    append(element, children);
    return element;
  }

  function append(element, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(element, child);
      else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function debounce(fn, ms) {
    let timer = null;
    const debounced = (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => { timer = null; fn(...args); }, ms);
    };
    debounced.cancel = () => { clearTimeout(timer); timer = null; };
    debounced.pending = () => timer !== null;
    return debounced;
  }

  /** POSTs (or GETs) JSON; resolves to {status, data}; status 0 when the server is unreachable. */
  async function api(url, body, method) {
    const options = {
      method: method || 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': config.csrf_token },
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(url, options);
      let data = null;
      if ((response.headers.get('Content-Type') || '').includes('application/json')) {
        data = await response.json();
      }
      return { status: response.status, data };
    } catch (error) {
      return { status: 0, data: null };
    }
  }

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  /** `base` or `base_2`, `base_3`, … : the first that `taken` does not contain. */
  function unique(base, taken) {
    if (!taken.has(base)) return base;
    for (let n = 2; ; n += 1) if (!taken.has(base + '_' + n)) return base + '_' + n;
  }

  function formatTime(date) {
    return date.toLocaleTimeString(config.language === 'en' ? 'en-GB' : 'de-DE',
      { hour: '2-digit', minute: '2-digit' });
  }

  const LANGUAGE_NAMES = { de: 'Deutsch', en: 'English', fr: 'Français', tr: 'Türkçe' };

  function languageNames(code) {
    return LANGUAGE_NAMES[code] || code;
  }

  // -- problems ---------------------------------------------------------------------------

  /** Lists problems as "pointer: message" buttons; a click jumps to the builder input. */
  /**
   * Problems as a list. Each names its place by label (problem.where, from the server, in the
   * page language) with the translated text; raw (the JSON view) shows pointer and message.
   */
  function renderProblems(list, problems, onJump, raw) {
    list.replaceChildren();
    for (const problem of problems) {
      const pointer = problem.pointer || '';
      const item = h('li', {
        class: 'problem problem-' + (problem.severity || 'error'),
        dataset: { pointer, severity: problem.severity || 'error' },
      });
      const byLabel = !raw && problem.text !== undefined;
      const label = byLabel ? h('span', { class: 'where', text: problem.where || t('Whole definition') })
        : h('code', { text: pointer || '/' });
      if (onJump) {
        item.append(h('button', {
          type: 'button', class: 'link', on: { click: () => onJump(pointer) },
          aria: { label: t(problem.severity === 'warning' ? 'warning' : 'error') + ' ' + label.textContent },
        }, label));
      } else {
        item.append(label);
      }
      item.append(': ' + (byLabel ? problem.text : problem.message));
      list.append(item);
    }
  }

  /** Transitions offered per state (the what-if result of either editor). */
  function renderStates(container, states) {
    container.replaceChildren();
    for (const state of states) {
      const list = h('ul', { class: 'what-if-transitions' });
      for (const transition of state.transitions) {
        const why = transition.offered ? '' : ' (' + t(transition.reason === 'role'
          ? 'the role may not' : 'the condition does not hold') + ')';
        list.append(h('li', {
          dataset: { transition: transition.id, offered: String(transition.offered) },
          class: transition.offered ? 'offered' : 'not-offered',
        }, (transition.offered ? '✓ ' : '✗ ') + transition.label + ' → ' + transition.to + why));
      }
      if (!state.transitions.length) {
        list.append(h('li', { class: 'none' }, t('No transitions from here.')));
      }
      const marks = [state.initial ? t('initial state') : null, state.final ? t('final state') : null]
        .filter(Boolean);
      container.append(h('section', { class: 'what-if-state', dataset: { state: state.id } },
        h('h4', {}, state.label + ' (' + state.id + ')' + (marks.length ? ' – ' + marks.join(', ') : '')),
        list));
    }
  }

  // -- texts in several languages -----------------------------------------------------------

  /**
   * Inputs for a text shown to people: one per language. `get()` returns the stored value (a
   * string or {lang: text}); `set(value)` stores the new one (undefined when all are empty).
   * A plain string is shown in the first language and becomes an object once edited.
   */
  function textField(options) {
    const { idPrefix, label, languages, get, set, multiline, pointer } = options;
    const current = get();
    const values = typeof current === 'string' ? { [languages[0]]: current }
      : (current && typeof current === 'object' ? Object.assign({}, current) : {});
    const box = h('fieldset', { class: 'text-field', dataset: { pointer: pointer || '' } },
      h('legend', {}, label));
    for (const language of languages) {
      const id = idPrefix + '-' + language;
      const control = h(multiline ? 'textarea' : 'input', {
        id, type: multiline ? null : 'text', rows: multiline ? 3 : null,
        lang: language, value: values[language] || '',
        dataset: { pointer: pointer ? pointer + '/' + language : '' },
        on: {
          input: (event) => {
            const text = event.target.value;
            if (text === '') delete values[language]; else values[language] = text;
            const keys = Object.keys(values);
            set(keys.length ? Object.assign({}, values) : undefined);
          },
        },
      });
      box.append(h('div', { class: 'language-input' },
        h('label', { for: id }, languageNames(language) + ' (' + language + ')'), control));
    }
    return box;
  }

  // -- conditions -------------------------------------------------------------------------

  const OPERATOR_WORDS = {
    equal_to: 'equals', not_equal_to: 'does not equal', contains: 'contains',
    not_contains: 'does not contain', starts_with: 'starts with', ends_with: 'ends with',
    greater_than: 'greater than', greater_or_equal: 'at least', less_than: 'less than',
    less_or_equal: 'at most', one_of: 'is one of', none_of: 'is none of',
    is_empty: 'is empty', is_not_empty: 'is not empty',
  };
  const CHOICE = new Set(['select', 'radio', 'checkboxes']);

  /** The operators that fit a field type — straight from the engine's OPERATORS table. */
  function operatorsFor(type) {
    return (config.operator_order || Object.keys(config.operators))
      .filter((name) => config.operators[name].types.includes(type));
  }

  function isFieldCondition(c) {
    return c && typeof c === 'object' && !Array.isArray(c) && typeof c.field === 'string';
  }

  /** The flat shape the builder edits, or null when the condition is nested deeper. */
  function flatten(condition) {
    if (condition === undefined || condition === null) return { mode: 'all', items: [], plain: false };
    if (isFieldCondition(condition)) return { mode: 'all', items: [condition], plain: true };
    for (const mode of ['all', 'any']) {
      if (condition && Array.isArray(condition[mode]) && Object.keys(condition).length === 1
          && condition[mode].every(isFieldCondition)) {
        return { mode, items: condition[mode], plain: false };
      }
    }
    return null;
  }

  function defaultValue(field, op) {
    const kind = config.operators[op] ? config.operators[op].value : 'none';
    if (kind === 'none') return undefined;
    if (kind === 'list') return [];
    if (field.type === 'checkbox') return true;
    if (CHOICE.has(field.type) && field.options.length) return field.options[0].value;
    if (kind === 'optional') return '';
    return field.type === 'number' ? 0 : '';
  }

  /**
   * The rule builder: "[all | any] of: [field] [operator] [value]". Offers only the operators
   * the engine allows for the chosen field's type, and values that fit it (options for choice
   * fields, ticked/not ticked for a checkbox, number and date inputs).
   *
   * options: idPrefix, fields [{id, type, label, options: [{value, label}]}], get(), set(c),
   *          pointer (of the condition, e.g. /rules/0/when)
   */
  function conditionEditor(options) {
    const { idPrefix, fields, get, set, pointer } = options;
    const box = h('div', { class: 'condition', id: idPrefix + '-condition', dataset: { pointer } });
    const byId = new Map(fields.map((f) => [f.id, f]));

    function render() {
      const flat = flatten(get());
      box.replaceChildren();
      if (flat === null) {
        box.append(h('p', { class: 'notice', id: idPrefix + '-nested' },
          t('This condition is nested. Please edit it in the JSON view.')),
        h('pre', { class: 'json-snippet' }, JSON.stringify(get(), null, 2)));
        return;
      }
      const write = (mode, items) => {
        flat.mode = mode;
        flat.items = items;
        if (items.length === 1 && mode === 'all' && flat.plain !== false) set(items[0]);
        else set({ [mode]: items });
      };
      const modeSelect = h('select', {
        id: idPrefix + '-mode',
        on: { change: (e) => { flat.plain = false; write(e.target.value, flat.items); render(); } },
      },
      h('option', { value: 'all', selected: flat.mode === 'all' }, t('all')),
      h('option', { value: 'any', selected: flat.mode === 'any' }, t('any')));
      box.append(h('p', { class: 'condition-head' },
        h('label', { for: idPrefix + '-mode' }, t('when')), ' ', modeSelect, ' ',
        t('of the following conditions hold:')));
      const list = h('ol', { class: 'condition-items' });
      flat.items.forEach((item, index) => {
        list.append(conditionRow(item, index, flat, write, render));
      });
      box.append(list);
      box.append(h('button', {
        type: 'button', class: 'secondary', id: idPrefix + '-add-cond',
        on: {
          click: () => {
            const field = fields[0];
            if (!field) return;
            const op = operatorsFor(field.type)[0];
            const item = { field: field.id, op };
            const value = defaultValue(field, op);
            if (value !== undefined) item.value = value;
            if (flat.items.length) flat.plain = false;
            const index = flat.items.length;
            write(flat.mode, flat.items.concat([item]));
            render();
            const added = document.getElementById(idPrefix + '-cond-' + index + '-field');
            if (added) added.focus();
          },
        },
      }, t('Add condition')));
    }

    function conditionRow(item, index, flat, write, rerender) {
      const prefix = idPrefix + '-cond-' + index;
      const itemPointer = pointer + (flat.plain ? '' : '/' + flat.mode + '/' + index);
      const update = (next) => {
        const items = flat.items.slice();
        items[index] = next;
        write(flat.mode, items);
      };
      const field = byId.get(item.field);
      const fieldSelect = h('select', {
        id: prefix + '-field', dataset: { pointer: itemPointer + '/field' },
        on: {
          change: (e) => {
            const chosen = byId.get(e.target.value);
            const allowed = operatorsFor(chosen.type);
            const op = allowed.includes(item.op) ? item.op : allowed[0];
            const next = { field: chosen.id, op };
            const value = defaultValue(chosen, op);
            if (value !== undefined) next.value = value;
            update(next);
            rerender();
            document.getElementById(prefix + '-field').focus();
          },
        },
      });
      if (!field) fieldSelect.append(h('option', { value: item.field, selected: true }, item.field + ' (?)'));
      for (const f of fields) {
        fieldSelect.append(h('option', { value: f.id, selected: f.id === item.field }, f.label + ' (' + f.id + ')'));
      }
      const opSelect = h('select', {
        id: prefix + '-op', dataset: { pointer: itemPointer + '/op' },
        on: {
          change: (e) => {
            const op = e.target.value;
            const next = { field: item.field, op };
            const oldKind = config.operators[item.op] && config.operators[item.op].value;
            const newKind = config.operators[op].value;
            if (newKind !== 'none') {
              next.value = (oldKind === newKind && 'value' in item) ? item.value
                : (field ? defaultValue(field, op) : '');
              if (next.value === undefined) delete next.value;
            }
            update(next);
            rerender();
            document.getElementById(prefix + '-op').focus();
          },
        },
      });
      const allowed = field ? operatorsFor(field.type) : (config.operator_order || Object.keys(config.operators));
      if (!allowed.includes(item.op)) {
        opSelect.append(h('option', { value: item.op || '', selected: true }, (item.op || '') + ' (?)'));
      }
      for (const op of allowed) {
        opSelect.append(h('option', { value: op, selected: op === item.op }, t(OPERATOR_WORDS[op] || op)));
      }
      const row = h('li', { class: 'condition-item', id: prefix, dataset: { pointer: itemPointer } },
        h('label', { class: 'visually-hidden', for: prefix + '-field' }, t('Field')), fieldSelect, ' ',
        h('label', { class: 'visually-hidden', for: prefix + '-op' }, t('Choose an operator')), opSelect, ' ');
      if (field) append(row, [valueEditor(field, item, prefix, itemPointer, update)]);
      row.append(' ', h('button', {
        type: 'button', class: 'secondary', id: prefix + '-remove',
        aria: { label: t('Remove') + ': ' + t('Field') + ' ' + item.field },
        on: {
          click: () => {
            const items = flat.items.filter((_, i) => i !== index);
            flat.plain = items.length === 1 ? flat.plain : false;
            write(flat.mode, items);
            rerender();
            const next = document.getElementById(idPrefix + '-add-cond');
            if (next) next.focus();
          },
        },
      }, t('Remove')));
      return row;
    }

    function valueEditor(field, item, prefix, itemPointer, update) {
      const kind = config.operators[item.op] ? config.operators[item.op].value : 'none';
      const id = prefix + '-value';
      const valuePointer = itemPointer + '/value';
      const setValue = (value) => {
        const next = { field: item.field, op: item.op };
        if (value !== undefined) next.value = value;
        item = next;
        update(next);
      };
      if (kind === 'none') return h('span', { class: 'no-value' });
      const label = h('label', { class: 'visually-hidden', for: id }, t('Value'));
      if (kind === 'list') {
        const chosen = Array.isArray(item.value) ? item.value : [];
        if (CHOICE.has(field.type)) {
          const group = h('fieldset', { class: 'value-options', id, dataset: { pointer: valuePointer } },
            h('legend', { class: 'visually-hidden' }, t('Value')));
          field.options.forEach((option, k) => {
            const boxId = id + '-' + k;
            group.append(h('span', { class: 'checkbox' },
              h('input', {
                type: 'checkbox', id: boxId, value: option.value, checked: chosen.includes(option.value),
                on: {
                  change: () => {
                    const values = Array.from(group.querySelectorAll('input:checked')).map((c) => c.value);
                    setValue(values);
                  },
                },
              }),
              h('label', { for: boxId }, option.label)));
          });
          return group;
        }
        const input = h('input', {
          type: 'text', id, value: chosen.join(', '), placeholder: t('Values, separated by commas'),
          dataset: { pointer: valuePointer },
          on: {
            input: (e) => {
              const parts = e.target.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
              setValue(field.type === 'number'
                ? parts.map((s) => (Number.isNaN(Number(s)) ? s : Number(s))) : parts);
            },
          },
        });
        return [label, input];
      }
      if (field.type === 'checkbox') {
        const select = h('select', {
          id, dataset: { pointer: valuePointer },
          on: { change: (e) => setValue(e.target.value === '' ? undefined : e.target.value === 'true') },
        });
        if (kind === 'optional') select.append(h('option', { value: '', selected: !('value' in item) }, t('(empty)')));
        select.append(h('option', { value: 'true', selected: item.value === true }, t('ticked')));
        select.append(h('option', { value: 'false', selected: item.value === false }, t('not ticked')));
        return [label, select];
      }
      if (CHOICE.has(field.type)) {
        const current = Array.isArray(item.value) ? item.value[0] : item.value;
        const select = h('select', {
          id, dataset: { pointer: valuePointer },
          on: { change: (e) => setValue(e.target.value) },
        });
        if (kind === 'optional') select.append(h('option', { value: '', selected: !current }, t('(empty)')));
        for (const option of field.options) {
          select.append(h('option', { value: option.value, selected: option.value === current },
            option.label + ' (' + option.value + ')'));
        }
        if (current && !field.options.some((o) => o.value === current)) {
          select.append(h('option', { value: current, selected: true }, current + ' (?)'));
        }
        return [label, select];
      }
      const type = field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : 'text';
      const input = h('input', {
        type, id, value: item.value === undefined || item.value === null ? '' : String(item.value),
        step: type === 'number' ? 'any' : null, dataset: { pointer: valuePointer },
        on: {
          input: (e) => {
            const raw = e.target.value;
            if (type === 'number') setValue(raw === '' ? (kind === 'optional' ? '' : undefined) : Number(raw));
            else setValue(raw);
          },
        },
      });
      return [label, input];
    }

    render();
    return box;
  }

  // -- the editor ---------------------------------------------------------------------------

  const HISTORY_LIMIT = 50;
  const BURST_MS = 800;

  class Editor {
    constructor() {
      const draft = config.draft;
      this.kind = config.kind;
      this.id = config.id;
      this.draft = draft.definition;
      this.revision = draft.revision;
      this.baseVersion = draft.base_version;
      this.dirty = false;
      this.saving = null;
      this.changeCount = 0;
      this.listeners = [];
      this.problems = [];
      this.renderBuilder = () => {};
      this.redrawPending = false;
      this.pointerDown = false;
      document.addEventListener('pointerdown', () => { this.pointerDown = true; }, true);
      for (const end of ['pointerup', 'pointercancel']) {
        document.addEventListener(end, () => { this.pointerDown = false; }, true);
      }
      this.jsonBroken = false;
      // Undo/redo: snapshots (JSON text) of the draft before each change of this session,
      // at most HISTORY_LIMIT; a burst of changes (typing) is one step.
      this.undoStack = [];
      this.redoStack = [];
      this.recorded = JSON.stringify(this.draft);
      this.lastRecordAt = 0;
      this.statusElement = document.getElementById('save-status');
      this.autosave = debounce(() => this.save(), 2500);
      this.scheduleCheck = debounce(() => this.check(), 500);
      this.setupTabs();
      this.setupJson();
      this.setupToolbar();
      this.setupPublish();
      this.showStatus(this.revision > 0 ? t('Saved') : t('Not saved yet'));
      window.addEventListener('beforeunload', (event) => {
        if (this.dirty) { event.preventDefault(); event.returnValue = ''; }
      });
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden' && this.dirty) this.save();
      });
    }

    onChange(listener) { this.listeners.push(listener); }

    /**
     * A change taken over when the person left an input (an id box's `change` event fires as
     * Tab or a click moves the focus away). Redrawing at once would replace the element the
     * focus is on its way to — it would land back in the id box, or a pressed button would
     * lose its click. So the builder is redrawn once the focus has arrived (and a pressed
     * mouse button is released, its click done), and the focus and text selection are put
     * back on the element with the same id: ids follow the structure, not the names.
     */
    changedOnLeave(source) {
      this.changed(source, false);
      if (this.redrawPending) return;
      this.redrawPending = true;
      const redraw = () => {
        this.redrawPending = false;
        const active = document.activeElement;
        const id = active && active !== document.body ? active.id : '';
        let selection = null;
        try {
          if (active && typeof active.selectionStart === 'number') {
            selection = [active.selectionStart, active.selectionEnd, active.selectionDirection];
          }
        } catch (error) { selection = null; } // inputs without a text selection (number)
        this.renderBuilder();
        const again = id ? document.getElementById(id) : null;
        if (!again || again === active) return;
        again.focus();
        if (selection) {
          try { again.setSelectionRange(...selection); } catch (error) { /* not a text input */ }
        }
      };
      if (this.pointerDown) {
        const released = () => {
          document.removeEventListener('pointerup', released, true);
          document.removeEventListener('pointercancel', released, true);
          setTimeout(redraw, 0); // after the click that follows the release
        };
        document.addEventListener('pointerup', released, true);
        document.addEventListener('pointercancel', released, true);
      } else {
        setTimeout(redraw, 0); // after the focus has moved on
      }
    }

    /** The model changed (source: 'builder' or 'json'); `rerender` redraws the builder. */
    changed(source, rerender) {
      // Typing (no redraw) in quick succession is one step; every structural change is one.
      if (source !== 'history') this.record(!rerender);
      this.dirty = true;
      this.changeCount += 1;
      this.showStatus(t('Unsaved changes'), 'dirty');
      if (source !== 'json') this.jsonBroken = false;
      if (rerender) this.renderBuilder();
      if (source !== 'json' && this.activeTab === 'json') this.fillJson();
      this.scheduleCheck();
      this.autosave();
      for (const listener of this.listeners) listener(source);
    }

    /** Remembers the draft as it was before this change (once per burst of typing). */
    record(typing) {
      const now = JSON.stringify(this.draft);
      if (now === this.recorded) return;
      const time = Date.now();
      const sameBurst = typing && this.lastTyping && time - this.lastRecordAt <= BURST_MS;
      this.lastTyping = Boolean(typing);
      if (!sameBurst || !this.undoStack.length) {
        this.undoStack.push(this.recorded);
        if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
      }
      this.lastRecordAt = time;
      this.recorded = now;
      this.redoStack = [];
      this.updateHistoryButtons();
    }

    undo() { this.travel(this.undoStack, this.redoStack); }

    redo() { this.travel(this.redoStack, this.undoStack); }

    travel(from, to) {
      this.record(false); // a change still inside a typing burst becomes its own step first
      if (!from.length) return;
      to.push(JSON.stringify(this.draft));
      const snapshot = from.pop();
      this.draft = JSON.parse(snapshot);
      this.recorded = snapshot;
      this.lastRecordAt = 0;
      this.changed('history', true);
      this.updateHistoryButtons();
    }

    updateHistoryButtons() {
      const undo = document.getElementById('undo');
      const redo = document.getElementById('redo');
      if (undo) undo.disabled = !this.undoStack.length;
      if (redo) redo.disabled = !this.redoStack.length;
    }

    replaceDraft(definition, source) {
      this.draft = definition;
      this.changed(source, source !== 'builder');
    }

    showStatus(text, state) {
      if (!this.statusElement) return;
      this.statusElement.textContent = text;
      this.statusElement.dataset.state = state || 'saved';
    }

    async save() {
      this.autosave.cancel();
      if (this.saving) { await this.saving; if (!this.dirty) return true; }
      if (this.jsonBroken) return false; // the JSON text does not parse: keep the last good draft
      const sent = this.changeCount;
      this.showStatus(t('Saving…'), 'saving');
      this.saving = api(config.urls.draft, { definition: this.draft, revision: this.revision });
      const { status, data } = await this.saving;
      this.saving = null;
      if (status === 200) {
        this.revision = data.draft.revision;
        this.baseVersion = data.draft.base_version;
        if (this.changeCount === sent) {
          this.dirty = false;
          this.showStatus(t('Saved') + ' ' + formatTime(new Date()), 'saved');
        } else {
          this.autosave();
        }
        this.showProblems(data.problems, data.summary);
        this.updateInfo();
        return true;
      }
      if (status === 409) {
        this.showConflict(data && data.draft);
      } else {
        this.showStatus(this.failure(status), 'error');
      }
      return false;
    }

    failure(status) {
      if (status === 0) return t('The server cannot be reached. Your changes are kept in this page.');
      if (status === 401) return t('Please sign in again.');
      if (status === 400 || status === 403) return t('The session has expired. Please reload the page.');
      return t('Saving failed');
    }

    showConflict(current) {
      this.showStatus(t('Someone else saved this draft in the meantime.'), 'conflict');
      const box = document.getElementById('conflict');
      if (!box) return;
      box.hidden = false;
      const reload = document.getElementById('conflict-reload');
      const overwrite = document.getElementById('conflict-overwrite');
      reload.onclick = () => {
        if (current) {
          this.draft = current.definition;
          this.revision = current.revision;
          this.dirty = false;
          this.renderBuilder();
          this.fillJson();
          this.showStatus(t('Saved'), 'saved');
          for (const listener of this.listeners) listener('reload');
          this.check();
        }
        box.hidden = true;
      };
      overwrite.onclick = () => {
        if (current) this.revision = current.revision;
        box.hidden = true;
        this.save();
      };
      reload.focus();
    }

    updateInfo() {
      const info = document.getElementById('draft-revision');
      if (info) info.textContent = String(this.revision);
    }

    async check() {
      if (this.jsonBroken) return;
      const sent = this.changeCount;
      const { status, data } = await api(config.urls.check, { definition: this.draft });
      if (status === 200 && sent === this.changeCount) this.showProblems(data.problems, data.summary);
    }

    /** summary: the server's "2 Fehler, 1 Warnung" (plural forms of the page language). */
    showProblems(problems, summaryText) {
      this.problems = problems || [];
      const errors = this.problems.filter((p) => p.severity === 'error').length;
      const summary = document.getElementById('problem-summary');
      if (summary) {
        summary.textContent = summaryText || (this.problems.length ? t('%(n)s error(s), %(m)s warning(s)',
          { n: errors, m: this.problems.length - errors }) : t('No problems found.'));
        summary.dataset.errors = String(errors);
      }
      const jump = (pointer) => this.jumpTo(pointer);
      for (const id of ['problems', 'json-problems']) {
        const list = document.getElementById(id);
        // The builder names places by label; the raw JSON view keeps the JSON pointer.
        if (list) renderProblems(list, this.problems, id === 'problems' ? jump : null, id === 'json-problems');
      }
      this.markInvalid();
    }

    /** Marks builder inputs that problems point at (aria-invalid), so they stand out. */
    markInvalid() {
      const builder = document.getElementById('builder');
      if (!builder) return;
      for (const element of builder.querySelectorAll('[aria-invalid="true"]')) {
        element.removeAttribute('aria-invalid');
      }
      for (const problem of this.problems) {
        if (problem.severity !== 'error') continue;
        const element = this.elementFor(problem.pointer);
        if (element && element.matches('input, select, textarea')) element.setAttribute('aria-invalid', 'true');
      }
    }

    /** The builder element a pointer addresses, or the nearest one above it. */
    elementFor(pointer) {
      const builder = document.getElementById('builder');
      if (!builder) return null;
      let current = pointer || '';
      for (;;) {
        const found = Array.from(builder.querySelectorAll('[data-pointer]'))
          .find((e) => e.dataset.pointer === current);
        if (found) return found;
        if (!current) return null;
        current = current.slice(0, current.lastIndexOf('/'));
      }
    }

    jumpTo(pointer) {
      this.selectTab('builder');
      const element = this.elementFor(pointer);
      if (!element) return;
      const hiddenProps = element.closest('[data-props]');
      if (hiddenProps && hiddenProps.hidden) {
        const toggle = document.getElementById(hiddenProps.id + '-toggle') ||
          document.querySelector('[aria-controls="' + hiddenProps.id + '"]');
        if (toggle) toggle.click();
      }
      const target = element.matches('input, select, textarea, button') ? element
        : element.querySelector('input, select, textarea, button') || element;
      if (!target.hasAttribute('tabindex') && !target.matches('input, select, textarea, button')) {
        target.setAttribute('tabindex', '-1');
      }
      target.focus();
      if (target.scrollIntoView) target.scrollIntoView({ block: 'center' });
    }

    // -- tabs

    setupTabs() {
      this.tabs = Array.from(document.querySelectorAll('[role="tab"]'));
      this.activeTab = 'builder';
      for (const tab of this.tabs) {
        tab.addEventListener('click', () => this.selectTab(tab.dataset.tab));
        tab.addEventListener('keydown', (event) => {
          const index = this.tabs.indexOf(tab);
          let next = null;
          if (event.key === 'ArrowRight') next = this.tabs[(index + 1) % this.tabs.length];
          if (event.key === 'ArrowLeft') next = this.tabs[(index - 1 + this.tabs.length) % this.tabs.length];
          if (event.key === 'Home') next = this.tabs[0];
          if (event.key === 'End') next = this.tabs[this.tabs.length - 1];
          if (next) { event.preventDefault(); this.selectTab(next.dataset.tab); next.focus(); }
        });
      }
    }

    selectTab(name) {
      if (name === this.activeTab) return;
      const leaving = this.activeTab;
      this.activeTab = name;
      for (const tab of this.tabs) {
        const selected = tab.dataset.tab === name;
        tab.setAttribute('aria-selected', String(selected));
        tab.tabIndex = selected ? 0 : -1;
        const panel = document.getElementById(tab.getAttribute('aria-controls'));
        if (panel) panel.hidden = !selected;
      }
      if (name === 'json') this.fillJson();
      if (name === 'builder' && leaving === 'json') this.renderBuilder();
      if (this.onTab) this.onTab(name);
    }

    // -- JSON view

    setupJson() {
      this.jsonText = document.getElementById('json-text');
      this.jsonSyntax = document.getElementById('json-syntax');
      if (!this.jsonText) return;
      const parse = debounce(() => {
        let parsed;
        try {
          parsed = JSON.parse(this.jsonText.value);
        } catch (error) {
          this.jsonBroken = true;
          this.jsonSyntax.hidden = false;
          this.jsonSyntax.textContent = t('JSON syntax error') + ': ' + error.message;
          this.showStatus(t('Unsaved changes'), 'dirty');
          return;
        }
        this.jsonBroken = false;
        this.jsonSyntax.hidden = true;
        this.jsonSyntax.textContent = '';
        this.draft = parsed;
        this.changed('json', false);
      }, 400);
      this.jsonText.addEventListener('input', parse);
      this.fillJson();
    }

    fillJson() {
      if (!this.jsonText || this.jsonBroken) return;
      const text = JSON.stringify(this.draft, null, 2);
      if (this.jsonText.value !== text) this.jsonText.value = text;
    }

    // -- toolbar

    setupToolbar() {
      const undo = document.getElementById('undo');
      const redo = document.getElementById('redo');
      if (undo) undo.addEventListener('click', () => this.undo());
      if (redo) redo.addEventListener('click', () => this.redo());
      this.updateHistoryButtons();
      document.addEventListener('keydown', (event) => {
        if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
        if (event.target && event.target.id === 'json-text') return; // the textarea's own undo
        const key = event.key.toLowerCase();
        if (key === 'z' && !event.shiftKey) { event.preventDefault(); this.undo(); }
        else if (key === 'y' || (key === 'z' && event.shiftKey)) { event.preventDefault(); this.redo(); }
      });
      const saveButton = document.getElementById('save-draft');
      if (saveButton) saveButton.addEventListener('click', () => { this.dirty = true; this.save(); });
      const discardForm = document.getElementById('discard-form');
      if (discardForm) {
        discardForm.addEventListener('submit', (event) => {
          if (!window.confirm(t('Discard the draft? All unsaved and saved changes of the draft are lost.'))) {
            event.preventDefault();
          } else {
            this.dirty = false;
          }
        });
      }
    }

    // -- publishing

    setupPublish() {
      this.onTab = (name) => { if (name === 'publish') this.preparePublish(); };
      const confirmButton = document.getElementById('publish-confirm');
      if (confirmButton) confirmButton.addEventListener('click', () => this.publish());
      const openButton = document.getElementById('publish-open');
      if (openButton) {
        openButton.addEventListener('click', () => {
          this.selectTab('publish');
          const tab = this.tabs.find((x) => x.dataset.tab === 'publish');
          if (tab) tab.focus();
        });
      }
    }

    async preparePublish() {
      const list = document.getElementById('publish-changes');
      const problems = document.getElementById('publish-problems');
      const button = document.getElementById('publish-confirm');
      const result = document.getElementById('publish-result');
      if (!list) return;
      result.textContent = '';
      button.disabled = true;
      const [changes, checked] = await Promise.all([
        api(config.urls.changes, { definition: this.draft }),
        api(config.urls.check, { definition: this.draft }),
      ]);
      list.replaceChildren();
      if (changes.status === 200) {
        for (const change of changes.data.changes) {
          list.append(h('li', { class: 'change change-' + change.kind, dataset: { kind: change.kind, pointer: change.pointer } }, change.text));
        }
        if (!changes.data.changes.length) list.append(h('li', { class: 'none' }, t('No changes.')));
      }
      if (checked.status === 200) {
        renderProblems(problems, checked.data.problems, null);
        this.showProblems(checked.data.problems, checked.data.summary);
        const blocked = checked.data.errors > 0 || this.jsonBroken;
        button.disabled = blocked;
        const note = document.getElementById('publish-blocked');
        if (note) note.hidden = !blocked;
      }
    }

    async publish() {
      const result = document.getElementById('publish-result');
      const button = document.getElementById('publish-confirm');
      button.disabled = true;
      result.textContent = t('Publishing…');
      if (this.dirty || this.revision === 0) {
        this.dirty = true;
        if (!await this.save()) { result.textContent = t('Saving failed'); button.disabled = false; return; }
      }
      const { status, data } = await api(config.urls.publish, { revision: this.revision });
      if (status === 200) {
        result.textContent = data.created ? t('Published as version %(version)s.', { version: data.version })
          : t('Nothing changed: version %(version)s is published.', { version: data.version });
        result.dataset.version = String(data.version);
        this.revision = 0;
        this.baseVersion = data.version;
        this.dirty = false;
        this.showStatus(t('Saved'), 'saved');
        this.updateInfo();
        const base = document.getElementById('draft-base');
        if (base) base.textContent = String(data.version);
        const problems = document.getElementById('publish-problems');
        renderProblems(problems, data.warnings, null);
        this.offerMoves(data);
        return;
      }
      if (status === 422 && data) {
        result.textContent = data.message;
        renderProblems(document.getElementById('publish-problems'), data.problems, null);
      } else if (status === 409) {
        this.showConflict(data && data.draft);
        result.textContent = t('Someone else saved this draft in the meantime.');
      } else {
        result.textContent = this.failure(status);
      }
      button.disabled = false;
    }

    // After publishing a workflow: the open submissions still on an older version stay there
    // unless an administrator moves them; link to the page that does.
    offerMoves(data) {
      const old = document.getElementById('publish-moves');
      if (old) old.remove();
      if (!data.moves_url || !data.open_on_older) return;
      const text = data.moves_text;
      const link = h('a', { href: data.moves_url, id: 'publish-moves-link' }, t('Review and move them'));
      const note = h('p', { id: 'publish-moves', class: 'notice' }, text + ' ', link);
      document.getElementById('publish-result').after(note);
    }
  }

  root.FormflowEditor = Object.freeze({
    config, t, h, api, debounce, clone, unique, Editor, textField, conditionEditor,
    operatorsFor, renderProblems, renderStates, languageNames, OPERATOR_WORDS,
  });
})(typeof globalThis !== 'undefined' ? globalThis : this);
