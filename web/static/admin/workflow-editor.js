/*
 * workflow-editor.js — the builder, diagram and what-if panel of the workflow editor.
 *
 * Builder: states (label per language, final), transitions (from, to, roles, comment policy,
 * label, an optional guard built with the same rule builder as form rules — its fields come
 * from a published form that uses this workflow), notifications (mail to the applicant, a
 * role or an address with a template; or a webhook) and the templates in each language.
 *
 * Diagram: drawn by the server (engine/diagram.py) from the draft after every change and
 * inserted as an SVG document (parsed, never as HTML). What-if: sample answers for a chosen
 * published form, and the transitions the draft would offer in each state.
 */
(function () {
  'use strict';
  const E = window.FormflowEditor;
  if (!E || E.config.kind !== 'workflow') return;
  const { config, t, h } = E;
  const editor = new E.Editor();
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const draft = () => editor.draft;
  const changed = () => editor.changed('builder', false);
  const restructured = () => editor.changed('builder', true);
  const BUILT_IN_ROLES = ['coordinator', 'admin'];
  const TEMPLATE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

  function list(name) {
    if (!Array.isArray(draft()[name])) draft()[name] = [];
    return draft()[name];
  }

  function states() { return list('states').filter(isObject); }

  function templates() {
    if (!isObject(draft().templates)) draft().templates = {};
    return draft().templates;
  }

  function formsUsingThis() {
    const using = config.forms.filter((f) => f.workflow === config.id);
    return using.length ? using : config.forms;
  }

  /** Languages of the texts: those of the forms using this workflow and those already used. */
  function languages() {
    const found = [];
    const add = (code) => { if (typeof code === 'string' && code && !found.includes(code)) found.push(code); };
    for (const form of config.forms.filter((f) => f.workflow === config.id)) form.languages.forEach(add);
    const scan = (text) => { if (isObject(text)) Object.keys(text).forEach(add); };
    if (isObject(draft())) {
      scan(draft().title);
      for (const s of states()) scan(s.label);
      for (const tr of list('transitions')) if (isObject(tr)) scan(tr.label);
      for (const tpl of Object.values(templates())) {
        if (isObject(tpl)) { scan(tpl.subject); scan(tpl.body); scan(tpl.html); }
      }
    }
    return found.length ? found : ['de'];
  }

  function textOf(value) {
    if (typeof value === 'string') return value;
    if (isObject(value)) return value[config.language] || Object.values(value)[0] || '';
    return '';
  }

  function move(items, index, delta) {
    const target = index + delta;
    if (target < 0 || target >= items.length) return false;
    const [item] = items.splice(index, 1);
    items.splice(target, 0, item);
    return true;
  }

  function focusId(...ids) {
    for (const id of ids) {
      const element = document.getElementById(id);
      if (element && !element.disabled) { element.focus(); return; }
    }
  }

  function moveButtons(prefix, index, count, what, onMove) {
    return h('span', { class: 'move-buttons' },
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-up', disabled: index === 0,
        aria: { label: t('Move up') + ': ' + what }, on: { click: () => onMove(-1) },
      }, t('Move up')),
      h('button', {
        type: 'button', class: 'secondary', id: prefix + '-down', disabled: index === count - 1,
        aria: { label: t('Move down') + ': ' + what }, on: { click: () => onMove(1) },
      }, t('Move down')));
  }

  function mover(items, index, prefix) {
    return (delta) => {
      if (move(items, index, delta)) {
        restructured();
        const base = prefix + '-' + (index + delta);
        focusId(base + (delta < 0 ? '-up' : '-down'), base + '-down', base + '-up');
      }
    };
  }

  function removeButton(id, what, onRemove) {
    return h('button', {
      type: 'button', class: 'secondary danger', id,
      aria: { label: t('Remove') + ': ' + what }, on: { click: onRemove },
    }, t('Remove'));
  }

  function labelled(id, label, control, pointer) {
    return h('div', { class: 'prop', dataset: { pointer: pointer || '' } }, h('label', { for: id }, label), control);
  }

  /** Renaming a state also renames it in initial, transitions and notifications. */
  function renameState(oldId, newId) {
    if (!oldId || oldId === newId) return;
    if (draft().initial === oldId) draft().initial = newId;
    if (draft().waitlist_state === oldId) draft().waitlist_state = newId;
    for (const tr of list('transitions')) {
      if (!isObject(tr)) continue;
      if (tr.to === oldId) tr.to = newId;
      if (tr.from === oldId) tr.from = newId;
      if (Array.isArray(tr.from)) tr.from = tr.from.map((s) => (s === oldId ? newId : s));
    }
    for (const n of list('notifications')) if (isObject(n) && n.on === oldId) n.on = newId;
  }

  // -- properties and states --------------------------------------------------------------

  function properties() {
    const wf = draft();
    const box = h('section', { class: 'card', id: 'workflow-props', dataset: { pointer: '' } }, h('h2', {}, t('Workflow')));
    box.append(labelled('workflow-id', t('Id'), h('input', { type: 'text', id: 'workflow-id', value: wf.id || '', readonly: true, dataset: { pointer: '/id' } }), '/id'));
    box.append(E.textField({
      idPrefix: 'workflow-title', label: t('Title'), languages: languages(), pointer: '/title',
      get: () => wf.title, set: (v) => { if (v === undefined) delete wf.title; else wf.title = v; changed(); },
    }));
    const initial = h('select', {
      id: 'workflow-initial', dataset: { pointer: '/initial' },
      on: { change: (e) => { wf.initial = e.target.value; changed(); } },
    });
    for (const s of states()) initial.append(h('option', { value: s.id, selected: s.id === wf.initial }, textOf(s.label) + ' (' + s.id + ')'));
    box.append(labelled('workflow-initial', t('Initial state'), initial, '/initial'));
    // where a form's submissions go beyond its capacity, when the form keeps a waiting list
    const waitlist = h('select', {
      id: 'workflow-waitlist-state', dataset: { pointer: '/waitlist_state' },
      on: { change: (e) => { if (e.target.value) wf.waitlist_state = e.target.value; else delete wf.waitlist_state; changed(); } },
    }, h('option', { value: '' }, t('none')));
    for (const s of states()) {
      if (s.final) continue;
      waitlist.append(h('option', { value: s.id, selected: s.id === wf.waitlist_state }, textOf(s.label) + ' (' + s.id + ')'));
    }
    box.append(labelled('workflow-waitlist-state', t('Waiting list state'), waitlist, '/waitlist_state'));
    return box;
  }

  function statesSection() {
    const all = list('states');
    const box = h('section', { class: 'card', id: 'states', dataset: { pointer: '/states' } }, h('h2', {}, t('States')));
    const items = h('ol', {});
    all.forEach((state, index) => {
      if (!isObject(state)) return;
      const prefix = 'state-' + index;
      const pointer = '/states/' + index;
      const item = h('li', { class: 'state-card', id: prefix, dataset: { pointer, stateId: state.id } });
      item.setAttribute('data-testid', 'state-card-' + state.id);
      item.append(h('div', { class: 'card-head' },
        h('strong', {}, (textOf(state.label) || state.id) + ' (' + state.id + ')'),
        moveButtons(prefix, index, all.length, state.id, mover(all, index, 'state')),
        removeButton(prefix + '-remove', t('State') + ' ' + state.id, () => { all.splice(index, 1); restructured(); focusId('add-state'); })));
      item.append(labelled(prefix + '-id', t('Id'), h('input', {
        type: 'text', id: prefix + '-id', value: state.id || '', dataset: { pointer: pointer + '/id' },
        on: { change: (e) => { const old = state.id; state.id = e.target.value.trim(); renameState(old, state.id); editor.changedOnLeave('builder'); } },
      }), pointer + '/id'));
      item.append(E.textField({
        idPrefix: prefix + '-label', label: t('Label'), languages: languages(), pointer: pointer + '/label',
        get: () => state.label, set: (v) => { state.label = v === undefined ? '' : v; changed(); },
      }));
      item.append(h('div', { class: 'prop checkbox' },
        h('input', {
          type: 'checkbox', id: prefix + '-final', checked: state.final === true, dataset: { pointer: pointer + '/final' },
          on: { change: (e) => { if (e.target.checked) state.final = true; else delete state.final; changed(); } },
        }),
        h('label', { for: prefix + '-final' }, t('Final state'))));
      items.append(item);
    });
    box.append(items, h('button', {
      type: 'button', id: 'add-state',
      on: {
        click: () => {
          const id = E.unique('state', new Set(states().map((s) => s.id)));
          all.push({ id, label: { [languages()[0]]: id } });
          restructured();
          focusId('state-' + (all.length - 1) + '-id');
        },
      },
    }, t('Add state')));
    return box;
  }

  // -- transitions ------------------------------------------------------------------------

  let guardForm = null;

  function guardFields() {
    const forms = formsUsingThis();
    const form = forms.find((f) => f.id === guardForm) || forms[0];
    return form ? form.fields : [];
  }

  function transitionsSection() {
    const all = list('transitions');
    const box = h('section', { class: 'card', id: 'transitions', dataset: { pointer: '/transitions' } }, h('h2', {}, t('Transitions')));
    const forms = formsUsingThis();
    if (forms.length) {
      const select = h('select', { id: 'guard-form', on: { change: (e) => { guardForm = e.target.value; editor.renderBuilder(); focusId('guard-form'); } } });
      for (const form of forms) select.append(h('option', { value: form.id, selected: form.id === guardForm }, form.title + ' (' + form.id + ')'));
      box.append(labelled('guard-form', t('Fields of form'), select));
    }
    const items = h('ol', {});
    all.forEach((tr, index) => { if (isObject(tr)) items.append(transitionCard(all, tr, index)); });
    box.append(items, h('button', {
      type: 'button', id: 'add-transition',
      on: {
        click: () => {
          const id = E.unique('transition', new Set(all.filter(isObject).map((x) => x.id)));
          const s = states();
          all.push({
            // No "from" ticked: the person chooses; until then the check says it is missing.
            id, from: [], to: s.length > 1 ? s[1].id : (s[0] ? s[0].id : ''),
            roles: ['coordinator'], label: { [languages()[0]]: id },
          });
          restructured();
          focusId('transition-' + (all.length - 1) + '-id');
        },
      },
    }, t('Add transition')));
    return box;
  }

  function transitionCard(all, tr, index) {
    const prefix = 'transition-' + index;
    const pointer = '/transitions/' + index;
    const card = h('li', { class: 'transition-card', id: prefix, dataset: { pointer, transitionId: tr.id } });
    card.setAttribute('data-testid', 'transition-card-' + tr.id);
    card.append(h('div', { class: 'card-head' },
      h('strong', {}, (textOf(tr.label) || tr.id) + ' (' + tr.id + ')'),
      moveButtons(prefix, index, all.length, tr.id, mover(all, index, 'transition')),
      removeButton(prefix + '-remove', t('Transition') + ' ' + tr.id, () => { all.splice(index, 1); restructured(); focusId('add-transition'); })));
    card.append(labelled(prefix + '-id', t('Id'), h('input', {
      type: 'text', id: prefix + '-id', value: tr.id || '', dataset: { pointer: pointer + '/id' },
      on: { change: (e) => { tr.id = e.target.value.trim(); editor.changedOnLeave('builder'); } },
    }), pointer + '/id'));
    card.append(E.textField({
      idPrefix: prefix + '-label', label: t('Label'), languages: languages(), pointer: pointer + '/label',
      get: () => tr.label, set: (v) => { if (v === undefined) delete tr.label; else tr.label = v; changed(); },
    }));
    // from
    const from = h('fieldset', { class: 'from', id: prefix + '-from', dataset: { pointer: pointer + '/from' } }, h('legend', {}, t('From')));
    const any = tr.from === '*';
    const sources = new Set(Array.isArray(tr.from) ? tr.from : (typeof tr.from === 'string' && !any ? [tr.from] : []));
    from.append(h('span', { class: 'checkbox' },
      h('input', {
        type: 'checkbox', id: prefix + '-from-any', checked: any,
        on: { change: (e) => { tr.from = e.target.checked ? '*' : (states()[0] ? states()[0].id : ''); restructured(); focusId(prefix + '-from-any'); } },
      }),
      h('label', { for: prefix + '-from-any' }, t('from every non-final state'))));
    if (!any) {
      for (const state of states()) {
        if (state.final) continue;
        const id = prefix + '-from-' + state.id;
        from.append(h('span', { class: 'checkbox' },
          h('input', {
            type: 'checkbox', id, value: state.id, checked: sources.has(state.id),
            on: {
              change: () => {
                const chosen = Array.from(from.querySelectorAll('input[value]:checked')).map((c) => c.value);
                tr.from = chosen.length === 1 ? chosen[0] : chosen;
                changed();
              },
            },
          }),
          h('label', { for: id }, textOf(state.label) || state.id)));
      }
    }
    card.append(from);
    const to = h('select', { id: prefix + '-to', dataset: { pointer: pointer + '/to' }, on: { change: (e) => { tr.to = e.target.value; changed(); } } });
    if (!states().some((s) => s.id === tr.to)) to.append(h('option', { value: tr.to || '', selected: true }, (tr.to || '') + ' (?)'));
    for (const state of states()) to.append(h('option', { value: state.id, selected: state.id === tr.to }, (textOf(state.label) || state.id) + ' (' + state.id + ')'));
    card.append(labelled(prefix + '-to', t('To'), to, pointer + '/to'));
    // roles
    const roles = h('fieldset', { class: 'roles', id: prefix + '-roles', dataset: { pointer: pointer + '/roles' } }, h('legend', {}, t('Roles')));
    const current = Array.isArray(tr.roles) ? tr.roles : [];
    const offered = Array.from(new Set(BUILT_IN_ROLES.concat(config.roles)));
    const readRoles = () => {
      const chosen = Array.from(roles.querySelectorAll('input[type=checkbox]:checked')).map((c) => c.value);
      const others = document.getElementById(prefix + '-other-roles').value.split(',').map((s) => s.trim()).filter(Boolean);
      tr.roles = Array.from(new Set(chosen.concat(others)));
      changed();
    };
    for (const role of offered) {
      const id = prefix + '-role-' + role;
      roles.append(h('span', { class: 'checkbox' },
        h('input', { type: 'checkbox', id, value: role, checked: current.includes(role), on: { change: readRoles } }),
        h('label', { for: id }, role)));
    }
    roles.append(h('label', { for: prefix + '-other-roles' }, t('Other roles (separated by commas)')),
      h('input', { type: 'text', id: prefix + '-other-roles', value: current.filter((r) => !offered.includes(r)).join(', '), on: { input: readRoles } }));
    card.append(roles);
    const comment = h('select', {
      id: prefix + '-comment', dataset: { pointer: pointer + '/comment' },
      on: { change: (e) => { if (e.target.value === 'optional') delete tr.comment; else tr.comment = e.target.value; changed(); } },
    });
    for (const [value, word] of [['optional', 'Comment optional'], ['required', 'Comment required'], ['none', 'No comment']]) {
      comment.append(h('option', { value, selected: (tr.comment || 'optional') === value }, t(word)));
    }
    card.append(labelled(prefix + '-comment', t('Comment'), comment, pointer + '/comment'));
    // guard
    const guarded = tr.when !== undefined;
    card.append(h('div', { class: 'prop checkbox' },
      h('input', {
        type: 'checkbox', id: prefix + '-guarded', checked: guarded,
        on: {
          change: (e) => {
            if (e.target.checked) {
              const fields = guardFields();
              tr.when = fields.length ? { field: fields[0].id, op: 'is_not_empty' } : { all: [] };
            } else {
              delete tr.when;
            }
            restructured();
            focusId(prefix + '-guarded');
          },
        },
      }),
      h('label', { for: prefix + '-guarded' }, t('Only when a condition holds'))));
    if (guarded) {
      card.append(E.conditionEditor({
        idPrefix: prefix + '-when', fields: guardFields(), pointer: pointer + '/when',
        get: () => tr.when, set: (c) => { tr.when = c; changed(); },
      }));
    }
    return card;
  }

  // -- notifications and templates --------------------------------------------------------

  function notificationsSection() {
    const all = list('notifications');
    const box = h('section', { class: 'card', id: 'notifications', dataset: { pointer: '/notifications' } }, h('h2', {}, t('Notifications')));
    const items = h('ol', {});
    all.forEach((n, index) => { if (isObject(n)) items.append(notificationCard(all, n, index)); });
    box.append(items, h('button', {
      type: 'button', id: 'add-notification',
      on: {
        click: () => {
          const names = Object.keys(templates());
          const s = states();
          const n = { on: s[0] ? s[0].id : '*', to: 'applicant' };
          if (names.length) n.template = names[0];
          all.push(n);
          restructured();
          focusId('notification-' + (all.length - 1) + '-on');
        },
      },
    }, t('Add notification')));
    return box;
  }

  function notificationCard(all, n, index) {
    const prefix = 'notification-' + index;
    const pointer = '/notifications/' + index;
    const card = h('li', { class: 'notification-card', id: prefix, dataset: { pointer } });
    card.append(h('div', { class: 'card-head' },
      h('strong', {}, t('Notification') + ' ' + (index + 1)),
      moveButtons(prefix, index, all.length, t('Notification') + ' ' + (index + 1), mover(all, index, 'notification')),
      removeButton(prefix + '-remove', t('Notification') + ' ' + (index + 1), () => { all.splice(index, 1); restructured(); focusId('add-notification'); })));
    const on = h('select', { id: prefix + '-on', dataset: { pointer: pointer + '/on' }, on: { change: (e) => { n.on = e.target.value; changed(); } } },
      h('option', { value: '*', selected: n.on === '*' }, t('every state')));
    for (const state of states()) on.append(h('option', { value: state.id, selected: state.id === n.on }, (textOf(state.label) || state.id) + ' (' + state.id + ')'));
    card.append(labelled(prefix + '-on', t('On entering'), on, pointer + '/on'));
    const webhook = typeof n.webhook === 'string';
    const channel = h('select', {
      id: prefix + '-channel',
      on: {
        change: (e) => {
          for (const key of ['to', 'template', 'webhook', 'secret_env']) delete n[key];
          if (e.target.value === 'webhook') { n.webhook = 'https://'; n.secret_env = 'FORMFLOW_WEBHOOK_SECRET'; } else { n.to = 'applicant'; }
          restructured();
          focusId(prefix + '-channel');
        },
      },
    },
    h('option', { value: 'mail', selected: !webhook }, t('Mail')),
    h('option', { value: 'webhook', selected: webhook }, t('Webhook')));
    card.append(labelled(prefix + '-channel', t('Channel'), channel));
    if (webhook) {
      card.append(labelled(prefix + '-webhook', t('Webhook address'), h('input', {
        type: 'url', id: prefix + '-webhook', value: n.webhook, dataset: { pointer: pointer + '/webhook' },
        on: { input: (e) => { n.webhook = e.target.value; changed(); } },
      }), pointer + '/webhook'));
      card.append(labelled(prefix + '-secret', t('Secret (name of an environment variable)'), h('input', {
        type: 'text', id: prefix + '-secret', value: n.secret_env || '', dataset: { pointer: pointer + '/secret_env' },
        on: { input: (e) => { if (e.target.value) n.secret_env = e.target.value; else delete n.secret_env; changed(); } },
      }), pointer + '/secret_env'));
      return card;
    }
    const to = typeof n.to === 'string' ? n.to : '';
    const kind = to === 'applicant' ? 'applicant' : to.startsWith('role:') ? 'role' : 'address';
    const toKind = h('select', {
      id: prefix + '-to-kind', dataset: { pointer: pointer + '/to' },
      on: {
        change: (e) => {
          n.to = e.target.value === 'applicant' ? 'applicant' : e.target.value === 'role' ? 'role:coordinator' : '';
          restructured();
          focusId(prefix + '-to-kind');
        },
      },
    },
    h('option', { value: 'applicant', selected: kind === 'applicant' }, t('the applicant')),
    h('option', { value: 'role', selected: kind === 'role' }, t('everyone with role')),
    h('option', { value: 'address', selected: kind === 'address' }, t('this address')));
    card.append(labelled(prefix + '-to-kind', t('Send to'), toKind, pointer + '/to'));
    if (kind !== 'applicant') {
      card.append(labelled(prefix + '-to-value', kind === 'role' ? t('Roles') : t('Send to'), h('input', {
        type: kind === 'role' ? 'text' : 'email', id: prefix + '-to-value',
        value: kind === 'role' ? to.slice(5) : to, dataset: { pointer: pointer + '/to' },
        on: { input: (e) => { n.to = kind === 'role' ? 'role:' + e.target.value.trim() : e.target.value.trim(); changed(); } },
      }), pointer + '/to'));
    }
    const template = h('select', {
      id: prefix + '-template', dataset: { pointer: pointer + '/template' },
      on: { change: (e) => { if (e.target.value) n.template = e.target.value; else delete n.template; changed(); } },
    }, h('option', { value: '' }, t('none')));
    for (const name of Object.keys(templates())) template.append(h('option', { value: name, selected: name === n.template }, name));
    if (n.template && !(n.template in templates())) template.append(h('option', { value: n.template, selected: true }, n.template + ' (?)'));
    card.append(labelled(prefix + '-template', t('Template'), template, pointer + '/template'));
    return card;
  }

  function templatesSection() {
    const all = templates();
    const box = h('section', { class: 'card', id: 'templates', dataset: { pointer: '/templates' } }, h('h2', {}, t('Templates')));
    for (const [name, tpl] of Object.entries(all)) {
      if (!isObject(tpl)) continue;
      const prefix = 'template-' + name;
      const pointer = '/templates/' + name;
      const card = h('section', { class: 'template-card', id: prefix, dataset: { pointer } },
        h('div', { class: 'card-head' }, h('h3', {}, t('Template') + ' ' + name),
          removeButton(prefix + '-remove', t('Template') + ' ' + name, () => { delete all[name]; restructured(); focusId('new-template-name'); })));
      for (const [part, word, multiline] of [['subject', 'Subject', false], ['body', 'Body', true], ['html', 'HTML body (optional)', true]]) {
        card.append(E.textField({
          idPrefix: prefix + '-' + part, label: t(word), languages: languages(), pointer: pointer + '/' + part, multiline,
          get: () => tpl[part],
          set: (v) => { if (v === undefined && part === 'html') delete tpl[part]; else tpl[part] = v === undefined ? '' : v; changed(); },
        }));
      }
      box.append(card);
    }
    const nameInput = h('input', { type: 'text', id: 'new-template-name', pattern: '[a-z][a-z0-9_]{0,63}' });
    box.append(h('div', { class: 'add-row' },
      h('label', { for: 'new-template-name' }, t('Name of the new template')), nameInput,
      h('button', {
        type: 'button', id: 'add-template',
        on: {
          click: () => {
            const name = nameInput.value.trim();
            if (!TEMPLATE_NAME.test(name) || name in all) { nameInput.setAttribute('aria-invalid', 'true'); nameInput.focus(); return; }
            const lang = languages()[0];
            all[name] = { subject: { [lang]: '' }, body: { [lang]: '' } };
            restructured();
            focusId('template-' + name + '-subject-' + lang);
          },
        },
      }, t('Add template'))));
    return box;
  }

  function renderBuilder() {
    const builder = document.getElementById('builder');
    builder.replaceChildren();
    if (!isObject(draft())) return;
    builder.append(properties(), statesSection(), transitionsSection(), notificationsSection(), templatesSection());
    editor.markInvalid();
  }

  editor.renderBuilder = renderBuilder;
  renderBuilder();
  editor.check();

  // -- diagram ----------------------------------------------------------------------------

  let diagramSeq = 0;
  const refreshDiagram = E.debounce(async () => {
    const sequence = ++diagramSeq;
    const { status, data } = await E.api(config.urls.diagram, { definition: draft(), language: config.language });
    if (sequence !== diagramSeq) return;
    const box = document.getElementById('diagram');
    const message = document.getElementById('diagram-message');
    if (status === 200) {
      const parsed = new DOMParser().parseFromString(data.svg, 'image/svg+xml');
      const svg = parsed.documentElement;
      if (svg.nodeName.toLowerCase() !== 'svg') return;
      box.replaceChildren(document.importNode(svg, true));
      message.hidden = true;
    } else if (status === 422) {
      message.hidden = false;
    }
  }, 700);
  editor.onChange(refreshDiagram);

  // -- what if ----------------------------------------------------------------------------

  function fillWhatIf() {
    const formSelect = document.getElementById('what-if-form');
    if (formSelect && !formSelect.options.length) {
      for (const form of formsUsingThis()) formSelect.append(h('option', { value: form.id }, form.title + ' (' + form.id + ')'));
    }
    const roleSelect = document.getElementById('what-if-role');
    if (roleSelect && !roleSelect.options.length) {
      for (const role of config.roles) roleSelect.append(h('option', { value: role, selected: role === 'coordinator' }, (config.role_names || {})[role] || role));
    }
  }

  async function runWhatIf() {
    const problems = document.getElementById('what-if-problems');
    const states = document.getElementById('what-if-states');
    let answers;
    try {
      answers = JSON.parse(document.getElementById('what-if-answers').value || '{}');
    } catch (error) {
      E.renderProblems(problems, [{ pointer: '', message: t('The sample answers are not valid JSON.') }], null);
      return;
    }
    const { status, data } = await E.api(config.urls.what_if, {
      definition: draft(), form: document.getElementById('what-if-form').value, answers,
      role: document.getElementById('what-if-role').value, language: config.language,
    });
    states.replaceChildren();
    if (status !== 200) {
      E.renderProblems(problems, (data && data.problems) || [{ pointer: '', message: (data && data.message) || t('Saving failed') }], null);
      return;
    }
    E.renderProblems(problems, data.problems, null);
    E.renderStates(states, data.states);
  }

  fillWhatIf();
  document.getElementById('what-if-run').addEventListener('click', runWhatIf);
  window.FormflowWorkflowEditor = { editor, runWhatIf, refreshDiagram };
})();
