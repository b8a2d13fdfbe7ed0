/*
 * formflow-rules.js — the rule semantics of docs/definitions.md §1–2 for the browser.
 *
 * WHY a second implementation: the applicant must see fields appear, disappear and become
 * required while typing, without a round trip. The server (engine/evaluation.py) stays
 * authoritative; this file must agree with it on every conformance vector in
 * tests/rule-vectors.json, which tests/js/rules.test.mjs checks.
 *
 * Pure core, no DOM, no dependencies, plain ES2020, one file, no build step. Usable as a classic
 * <script> (window.FormflowRules), via require() and via import() (module.exports).
 *
 *   compile(definition)       -> compiled form; throws FormflowDefinitionError (with .pointer)
 *   evaluate(compiled, answers) -> {visible_fields, visible_steps, required, invalid, answers,
 *                                  errors, calculated}
 *   convert(field, raw)       -> {value, error}: the typed answer of one field
 *   validate(field, raw, required) -> {value, errors}: conversion + constraint checks
 */
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module !== null && module.exports) {
    module.exports = api;
  } else if (root) {
    root.FormflowRules = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const TEXT_TYPES = new Set(['text', 'tel', 'url', 'email', 'textarea']);
  const CHOICE_TYPES = new Set(['select', 'radio']);
  const INPUT_TYPES = new Set([
    'text', 'tel', 'url', 'email', 'textarea', 'number', 'date',
    'select', 'radio', 'checkboxes', 'checkbox',
  ]);
  const FIELD_TYPES = new Set([...INPUT_TYPES, 'paragraph', 'calculated', 'group', 'file']);
  const FILE_REF_KEYS = ['id', 'name', 'size', 'type', 'sha256'];
  // Types whose answer is a number: what calculations read (engine/model.py NUMERIC_TYPES).
  const NUMERIC_TYPES = new Set(['number', 'calculated']);
  const ID_RE = /^[a-z][a-z0-9_]{0,63}$/;
  const OPERATORS = new Set([
    'equal_to', 'not_equal_to', 'contains', 'not_contains', 'starts_with', 'ends_with',
    'greater_than', 'greater_or_equal', 'less_than', 'less_or_equal',
    'one_of', 'none_of', 'is_empty', 'is_not_empty',
  ]);
  // A negated operator is evaluated as its positive twin, then inverted: one truth table each.
  const NEGATIONS = {
    not_equal_to: 'equal_to', not_contains: 'contains', none_of: 'one_of',
    is_not_empty: 'is_empty',
  };
  const ORDERING = new Set(['greater_than', 'greater_or_equal', 'less_than', 'less_or_equal']);
  const TRUE_WORDS = new Set(['on', 'true', '1', 'yes', 'y']);
  const FALSE_WORDS = new Set(['', 'false', '0', 'off', 'no', 'n']);
  // Whitespace exactly as the server's Python sees it (str.isspace, re's \s): unlike JS's \s
  // it includes U+001C–U+001F and U+0085, and excludes U+FEFF.
  const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  const STRIP_RE = new RegExp('^[' + SPACE + ']+|[' + SPACE + ']+$', 'g');
  const HAS_SPACE_RE = new RegExp('[' + SPACE + ']');
  const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
  const DIGIT_RE = /\p{Nd}/gu;
  const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
  // A quick pre-check of e-mail addresses; the server's check (email-validator) is stricter
  // and decides (docs/definitions.md §3 lists where the two differ).
  const EMAIL_RE = new RegExp('^[^@' + SPACE + ']+@[^@' + SPACE + ']+\\.[^@' + SPACE + ']+$');
  const MAX_EMAIL_LENGTH = 254;
  const MAX_EMAIL_LOCAL_LENGTH = 64;
  // Text no answer may hold (engine/text.py): C0 control characters other than tab, line feed
  // and carriage return, and lone surrogates (no Unicode scalar value).
  const FORBIDDEN_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;
  // Numbers are answered below this in absolute value (engine/answers.py NUMBER_LIMIT).
  const NUMBER_LIMIT = 1e15;
  const TOO_LARGE = Object.freeze({ tooLarge: true });
  const URL_RE = /^https?:\/\/([^/?#]*)/i;
  const TEL_RE = /^\+?[0-9 ()/.-]{3,}$/;
  const STEP_TOLERANCE = 1e-9;
  const COMPILED = typeof Symbol === 'function' ? Symbol('formflow.compiled') : '__formflow';

  /** A definition the browser cannot work with; `pointer` is the JSON pointer of the problem. */
  class FormflowDefinitionError extends Error {
    constructor(pointer, message, extra) {
      super((pointer || '/') + ': ' + message);
      this.name = 'FormflowDefinitionError';
      this.pointer = pointer;
      this.problem = message;
      if (extra) Object.assign(this, extra);
    }
  }

  const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const codePoints = (s) => [...s].length;
  const strip = (s) => s.replace(STRIP_RE, '');

  /** Empty in the sense of the spec: absent, null, "", [] or false. */
  function isEmpty(value) {
    return value === undefined || value === null || value === '' || value === false ||
      (Array.isArray(value) && value.length === 0);
  }

  /** What a hidden, unanswered or unconvertible field looks like to conditions and storage. */
  function emptyAnswer(type) {
    if (type === 'checkbox') return false;
    if (type === 'checkboxes' || type === 'group' || type === 'file') return [];
    return null;
  }

  /**
   * Unicode casefold as Python's str.casefold() does it, without shipping the Unicode tables:
   * upper- then lower-casing applies the full case mappings ("ß" → "SS" → "ss", "ﬁ" → "fi",
   * "ſ" → "s"); then the exceptions are patched: capital "ẞ" (lower-cases to "ß"), the final
   * sigma, dotless "ı" (folds to itself) and Cherokee (folds to the capitals). Agrees with
   * Python 3.11 on every single code point (checked once over all of Unicode).
   */
  function casefold(text) {
    return String(text).split('ı').map(foldPart).join('ı');
  }

  function foldPart(text) {
    return text.toUpperCase().toLowerCase()
      .replace(/ß/g, 'ss')
      .replace(/ς/g, 'σ')
      .replace(/[\uAB70-\uABBF\u13F8-\u13FD]/g, (c) => String.fromCharCode(
        c.charCodeAt(0) >= 0xAB70 ? c.charCodeAt(0) - 0xAB70 + 0x13A0 : c.charCodeAt(0) - 8));
  }

  // ---------------------------------------------------------------------------------------------
  // Conversion: raw answer -> typed answer. Written once, used by evaluation, rules and the UI.

  function convertText(raw) {
    if (raw === undefined || raw === null) return { value: null, error: null };
    if (typeof raw === 'number') {
      if (!(Math.abs(raw) < NUMBER_LIMIT)) return { value: null, error: 'not_text' };
      raw = String(raw);
    }
    if (typeof raw !== 'string') return { value: null, error: 'not_text' };
    if (FORBIDDEN_RE.test(raw)) return { value: null, error: 'invalid_characters' };
    const text = strip(raw.replace(/\r\n/g, '\n'));
    return { value: text === '' ? null : text, error: null };
  }

  /** Any Unicode decimal digit as its ASCII digit ("١٢" → "12"), as Python's float() reads it. */
  function asciiDigits(text) {
    if (!/[^\x00-\x7f]/.test(text)) return text;
    return text.replace(DIGIT_RE, (digit) => {
      // Unicode encodes every decimal digit in runs of ten, 0 to 9: find where the run starts.
      let start = digit.codePointAt(0);
      while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start -= 1;
      return String((digit.codePointAt(0) - start) % 10);
    });
  }

  /** A number, `null` (empty), `undefined` (not a number) or TOO_LARGE. */
  function parseNumber(raw) {
    if (typeof raw === 'number') return bounded(raw);
    if (typeof raw !== 'string') return undefined;
    let text = asciiDigits(strip(raw));
    if (text === '') return null;
    // German decimal comma ("17,5"), but only when it cannot be a thousands separator.
    if (text.indexOf('.') < 0 && text.indexOf(',') === text.lastIndexOf(',')) {
      text = text.replace(',', '.');
    }
    if (!NUMBER_RE.test(text)) return undefined;
    return bounded(Number(text));
  }

  function bounded(number) {
    if (Number.isNaN(number)) return undefined;
    if (!(Math.abs(number) < NUMBER_LIMIT)) return TOO_LARGE; // also ±Infinity ("1e400")
    return number + 0; // + 0 turns -0 into 0
  }

  function convertNumber(raw) {
    if (raw === undefined || raw === null) return { value: null, error: null };
    const number = parseNumber(raw);
    if (number === undefined) return { value: null, error: 'not_a_number' };
    if (number === TOO_LARGE) return { value: null, error: 'number_too_large' };
    return { value: number, error: null };
  }

  function isCalendarDate(text) {
    const m = DATE_RE.exec(text);
    if (!m) return false;
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    if (year < 1 || month < 1 || month > 12 || day < 1) return false;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    return day <= days;
  }

  function convertDate(raw) {
    if (raw === undefined || raw === null) return { value: null, error: null };
    if (typeof raw !== 'string') return { value: null, error: 'not_a_date' };
    const text = strip(raw);
    if (text === '') return { value: null, error: null };
    return isCalendarDate(text) ? { value: text, error: null } : { value: null, error: 'not_a_date' };
  }

  function convertChoice(field, raw) {
    if (raw === undefined || raw === null) return { value: null, error: null };
    // Option values match exactly (no trimming); a whole number may stand for its digits.
    const text = Number.isInteger(raw) && Math.abs(raw) < NUMBER_LIMIT ? String(raw) : raw;
    if (typeof text !== 'string') return { value: null, error: 'not_an_option' };
    if (strip(text) === '') return { value: null, error: null };
    if (field.optionIndex.has(text)) return { value: text, error: null };
    return { value: null, error: 'not_an_option' };
  }

  function convertCheckboxes(field, raw) {
    if (raw === undefined || raw === null || raw === '') return { value: [], error: null };
    const items = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(items)) return { value: [], error: 'not_an_option' };
    const seen = new Set();
    for (const item of items) {
      if (typeof item !== 'string' || !field.optionIndex.has(item)) {
        return { value: [], error: 'not_an_option' };
      }
      seen.add(item);
    }
    const value = [...seen].sort((a, b) => field.optionIndex.get(a) - field.optionIndex.get(b));
    return { value, error: null };
  }

  function convertCheckbox(raw) {
    if (raw === undefined || raw === null || raw === false) return { value: false, error: null };
    if (raw === true) return { value: true, error: null };
    if (typeof raw === 'string') {
      const word = strip(raw).toLowerCase();
      if (TRUE_WORDS.has(word)) return { value: true, error: null };
      if (FALSE_WORDS.has(word)) return { value: false, error: null };
    }
    return { value: false, error: 'not_a_checkbox' };
  }

  /** A file answer: references the server wrote when it stored the files (engine/files.py). */
  function convertFiles(raw) {
    if (raw === undefined || raw === null || raw === '' ||
        (Array.isArray(raw) && raw.length === 0)) {
      return { value: [], error: null };
    }
    const isRef = (item) => isObject(item) && Object.keys(item).length === FILE_REF_KEYS.length &&
      FILE_REF_KEYS.every((key) => hasOwn(item, key)) &&
      ['id', 'name', 'type', 'sha256'].every((key) => typeof item[key] === 'string') &&
      Number.isInteger(item.size) && item.size >= 0;
    if (Array.isArray(raw) && raw.every(isRef)) return { value: raw.map((item) => Object.assign({}, item)), error: null };
    return { value: [], error: 'not_a_file' };
  }

  /**
   * The typed answer of `field` for the raw value a client sent: `{value, error}`. `value` is the
   * field type's empty answer when `error` is set. `field` is a compiled field
   * (`compiled.fields.get(id)`) or a raw field definition.
   */
  function convert(field, raw) {
    const f = field && field.optionIndex ? field : compileField(field, '', '', 0, 0);
    if (TEXT_TYPES.has(f.type)) return convertText(raw);
    switch (f.type) {
      case 'number':
      case 'calculated': return convertNumber(raw); // a rule's value V for a calculated field
      case 'date': return convertDate(raw);
      case 'select':
      case 'radio': return convertChoice(f, raw);
      case 'checkboxes': return convertCheckboxes(f, raw);
      case 'checkbox': return convertCheckbox(raw);
      case 'file': return convertFiles(raw);
      default: return { value: null, error: null }; // paragraph: never an answer
    }
  }

  /** The cap of a text field without max_length (engine/model.py DEFAULT_MAX_LENGTH). */
  const DEFAULT_MAX_LENGTH = { text: 1000, tel: 1000, url: 1000, email: 1000, textarea: 20000 };

  /** The longest answer a text field takes: its max_length, else the default cap. */
  function lengthLimit(field) {
    return field.maxLength !== null ? field.maxLength : DEFAULT_MAX_LENGTH[field.type];
  }

  /** Constraint codes for a converted, non-empty value (length, format, range, selection). */
  function constraintErrors(field, value) {
    const errors = [];
    if (TEXT_TYPES.has(field.type)) {
      const length = codePoints(value);
      if (field.minLength !== null && length < field.minLength) errors.push('min_length');
      if (length > lengthLimit(field)) errors.push('max_length');
      if (field.pattern && !field.pattern.test(value)) errors.push('pattern');
      if (field.type === 'email' && !isEmail(value)) errors.push('invalid_email');
      if (field.type === 'url' && !isUrl(value)) errors.push('invalid_url');
      if (field.type === 'tel' && !isTel(value)) errors.push('invalid_tel');
    } else if (field.type === 'number') {
      if (field.min !== null && value < field.min) errors.push('min');
      if (field.max !== null && value > field.max) errors.push('max');
      if (field.stepSize !== null && !isMultiple(value - (field.min === null ? 0 : field.min),
        field.stepSize)) {
        errors.push('step');
      }
    } else if (field.type === 'date') {
      if (field.min !== null && value < field.min) errors.push('date_min');
      if (field.max !== null && value > field.max) errors.push('date_max');
    } else if (field.type === 'checkboxes') {
      if (field.minSelected !== null && value.length < field.minSelected) errors.push('min_selected');
      if (field.maxSelected !== null && value.length > field.maxSelected) errors.push('max_selected');
    } else if (field.type === 'file') {
      if (value.length > field.maxFiles) errors.push('too_many_files');
      for (const ref of value) {
        if (field.accept.length > 0 && field.accept.indexOf(ref.type) < 0) errors.push('file_type');
        if (field.maxSize !== null && ref.size > field.maxSize) errors.push('file_too_large');
      }
    }
    return errors;
  }

  /** http(s) with a host and no whitespace anywhere: what the server's urlsplit check accepts. */
  function isUrl(text) {
    const m = HAS_SPACE_RE.test(text) ? null : URL_RE.exec(text);
    if (!m) return false;
    const hostPort = m[1].slice(m[1].lastIndexOf('@') + 1);
    if (hostPort.startsWith('[')) {
      const close = hostPort.indexOf(']');
      return close > 1; // "[::1]"; an unclosed or empty bracket is no host
    }
    const colon = hostPort.indexOf(':');
    return (colon < 0 ? hostPort : hostPort.slice(0, colon)) !== '';
  }

  /** The lengths the server checks first, then a quick look at the shape. */
  function isEmail(text) {
    const at = text.lastIndexOf('@');
    if (at < 0 || codePoints(text) > MAX_EMAIL_LENGTH ||
        codePoints(text.slice(0, at)) > MAX_EMAIL_LOCAL_LENGTH) {
      return false;
    }
    return EMAIL_RE.test(text);
  }

  function isTel(text) {
    return TEL_RE.test(text) && (text.match(/[0-9]/g) || []).length >= 3;
  }

  function isMultiple(distance, step) {
    const quotient = distance / step;
    return Math.abs(quotient - Math.round(quotient)) <= STEP_TOLERANCE;
  }

  /**
   * Conversion plus every check of one field: `{value, errors}`. A conversion error is the only
   * error reported (nothing else can be said about a value that is not of the type); an empty
   * value is only checked for `required`.
   */
  function validate(field, raw, required) {
    const f = field && field.optionIndex ? field : compileField(field, '', '', 0, 0);
    if (!f.isInput) return { value: null, errors: [] };
    const { value, error } = convert(f, raw);
    return { value, errors: errorCodes(f, value, error, required) };
  }

  /** The error codes of one visible field: the conversion error alone, or required, or limits. */
  function errorCodes(field, value, conversionError, required) {
    if (conversionError) return [conversionError];
    if (isEmpty(value)) return required ? [requiredCode(field.type)] : [];
    return constraintErrors(field, value);
  }

  function requiredCode(type) {
    if (type === 'checkbox') return 'must_tick';
    if (type === 'file') return 'file_required';
    if (CHOICE_TYPES.has(type) || type === 'checkboxes') return 'choose_one';
    return 'required';
  }

  // ---------------------------------------------------------------------------------------------
  // Calculated values (engine/expressions.py, docs/definitions.md §5): the same grammar, the
  // same tree, the same IEEE double operations in the same order, so both sides agree exactly.

  const MAX_EXPRESSION_LENGTH = 2000;
  const MAX_EXPRESSION_DEPTH = 64;
  const MAX_DECIMALS = 10;
  const FUNCTIONS = { sum: [1, null], min: [1, null], max: [1, null], round: [1, 2], count: [1, 1] };
  const TOKEN_RE = /[0-9]+(?:\.[0-9]+)?|[a-z][a-z0-9_]*|[-+*/(),.]/y;
  const SPACE_RE = /[ \t\r\n]*/y;

  function expressionTokens(text, pointer) {
    const tokens = [];
    const skip = (at) => { SPACE_RE.lastIndex = at; SPACE_RE.exec(text); return SPACE_RE.lastIndex; };
    let position = skip(0);
    while (position < text.length) {
      TOKEN_RE.lastIndex = position;
      const match = TOKEN_RE.exec(text);
      if (!match) {
        throw new FormflowDefinitionError(pointer, 'unexpected character ' +
          JSON.stringify(text[position]) + ' at position ' + (position + 1));
      }
      tokens.push(match[0]);
      position = skip(TOKEN_RE.lastIndex);
    }
    return tokens;
  }

  /** The tree of an expression: {kind: number|name|negate|operation|call, …}. */
  function parseExpression(text, pointer) {
    if (typeof text !== 'string') throw new FormflowDefinitionError(pointer, 'must be a text');
    if (text.length > MAX_EXPRESSION_LENGTH) {
      throw new FormflowDefinitionError(pointer, 'an expression may have at most ' +
        MAX_EXPRESSION_LENGTH + ' characters');
    }
    if (strip(text) === '') throw new FormflowDefinitionError(pointer, 'the expression is empty');
    const tokens = expressionTokens(text, pointer);
    let index = 0;
    const fail = (message) => { throw new FormflowDefinitionError(pointer, message); };
    const tooDeep = () => fail('an expression may nest at most ' + MAX_EXPRESSION_DEPTH +
      ' levels deep');
    const peek = () => (index < tokens.length ? tokens[index] : null);
    const take = (wanted) => {
      const token = peek();
      if (token === null) fail('the expression ends too early');
      if (wanted !== undefined && token !== wanted) {
        fail('expected ' + JSON.stringify(wanted) + ' but found ' + JSON.stringify(token));
      }
      index += 1;
      return token;
    };
    const expression = (depth) => {
      if (depth > MAX_EXPRESSION_DEPTH) tooDeep();
      let node = term(depth);
      while (peek() === '+' || peek() === '-') {
        const op = take();
        node = { kind: 'operation', op, left: node, right: term(depth + 1) };
      }
      return node;
    };
    const term = (depth) => {
      let node = unary(depth);
      while (peek() === '*' || peek() === '/') {
        const op = take();
        node = { kind: 'operation', op, left: node, right: unary(depth + 1) };
      }
      return node;
    };
    const unary = (depth) => {
      if (peek() === '-') {
        take();
        if (depth > MAX_EXPRESSION_DEPTH) tooDeep();
        return { kind: 'negate', item: unary(depth + 1) };
      }
      return primary(depth);
    };
    const primary = (depth) => {
      const token = take();
      if (token === '(') {
        const node = expression(depth + 1);
        take(')');
        return node;
      }
      if (/^[0-9]/.test(token)) return { kind: 'number', value: Number(token) };
      if (!/^[a-z]/.test(token)) fail('unexpected ' + JSON.stringify(token));
      if (peek() === '(') {
        take();
        const args = [];
        if (peek() !== ')') {
          args.push(expression(depth + 1));
          while (peek() === ',') { take(); args.push(expression(depth + 1)); }
        }
        take(')');
        return { kind: 'call', fn: token, args };
      }
      if (peek() === '.') {
        take();
        const member = take();
        if (!/^[a-z]/.test(member)) fail('expected a field id after ' + JSON.stringify(token + '.'));
        return { kind: 'name', field: member, group: token };
      }
      return { kind: 'name', field: token, group: null };
    };
    const node = expression(0);
    if (peek() !== null) {
      fail('unexpected ' + JSON.stringify(peek()) + ' after the end of the expression');
    }
    if (expressionHeight(node) > MAX_EXPRESSION_DEPTH) tooDeep();
    return node;
  }

  function expressionChildren(node) {
    if (node.kind === 'negate') return [node.item];
    if (node.kind === 'operation') return [node.left, node.right];
    if (node.kind === 'call') return node.args;
    return [];
  }

  function expressionHeight(root) {
    let deepest = 0;
    const stack = [[root, 1]];
    while (stack.length > 0) {
      const [node, level] = stack.pop();
      if (level > deepest) deepest = level;
      for (const child of expressionChildren(node)) stack.push([child, level + 1]);
    }
    return deepest;
  }

  /** Every node of the tree, parents first. */
  function expressionNodes(root) {
    const nodes = [];
    const stack = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      nodes.push(node);
      for (const child of expressionChildren(node)) stack.push(child);
    }
    return nodes;
  }

  /** Checks a calculated field's names and calls; returns the ids of the fields it reads. */
  function checkFormula(field, fields, rows) {
    const fail = (message) => { throw new FormflowDefinitionError(field.pointer + '/expression', message); };
    const counted = new Set();
    const spread = new Set(); // a group's field may be read as an argument of sum/min/max only
    const nodes = expressionNodes(field.formula);
    for (const node of nodes) {
      if (node.kind !== 'call') continue;
      if (node.fn === 'sum' || node.fn === 'min' || node.fn === 'max') {
        for (const arg of node.args) spread.add(arg);
      }
      if (!hasOwn(FUNCTIONS, node.fn)) fail('unknown function ' + JSON.stringify(node.fn));
      const [fewest, most] = FUNCTIONS[node.fn];
      if (node.args.length < fewest || (most !== null && node.args.length > most)) {
        fail(JSON.stringify(node.fn) + ' takes ' + fewest + (most === fewest ? '' : ' or more') +
          ' argument(s), not ' + node.args.length);
      }
      if (node.fn === 'round' && node.args.length === 2) {
        const decimals = node.args[1];
        if (decimals.kind !== 'number' || !Number.isInteger(decimals.value) ||
            decimals.value > MAX_DECIMALS) {
          fail('the second argument of round must be a whole number from 0 to ' + MAX_DECIMALS);
        }
      }
      if (node.fn === 'count') {
        const group = node.args[0];
        if (group.kind !== 'name' || group.group !== null) fail('count takes the id of a repeating group');
        counted.add(group);
      }
    }
    const reads = new Set();
    for (const node of nodes) {
      if (node.kind !== 'name') continue;
      if (counted.has(node) || node.group !== null) {
        const groupId = node.group || node.field;
        const group = fields.get(groupId);
        if (!group || !group.isGroup) fail(JSON.stringify(groupId) + ' is not a repeating group of this form');
        if (node.group !== null) {
          if (!spread.has(node)) fail(JSON.stringify(groupId + '.' + node.field) + ' can only be read by sum, min or max');
          const member = rows.get(groupId).fields.get(node.field);
          if (!member || !NUMERIC_TYPES.has(member.type)) {
            fail(JSON.stringify(groupId + '.' + node.field) + ' is not a number field of the group');
          }
        }
        node.index = group.index;
        reads.add(group.id);
        continue;
      }
      const target = fields.get(node.field);
      if (!target) fail('unknown field ' + JSON.stringify(node.field));
      if (target.id === field.id) fail(field.id + ' cannot be calculated from itself');
      if (target.isGroup) fail(JSON.stringify(node.field) + ' is a repeating group: use sum or count');
      if (!NUMERIC_TYPES.has(target.type)) {
        fail(JSON.stringify(node.field) + ' is a ' + target.type +
          ' field: calculations read number and calculated fields only');
      }
      node.index = target.index;
      reads.add(target.id);
    }
    return [...reads];
  }

  const finite = (value) => (Number.isFinite(value) ? value : null);

  /** round half away from zero: the same double operations as engine/expressions.py. */
  function roundHalfAway(value, decimals) {
    const scale = 10 ** decimals;
    const magnitude = Math.floor(Math.abs(value) * scale + 0.5) / scale;
    return finite(value < 0 ? -magnitude : magnitude);
  }

  const numberOf = (value) => (typeof value === 'number' ? value : null);

  /** The value of an expression tree over `values` (by field index): a number or null. */
  function computeExpression(node, values) {
    switch (node.kind) {
      case 'number': return node.value;
      case 'name': return numberOf(values[node.index]);
      case 'negate': {
        const value = computeExpression(node.item, values);
        return value === null ? null : -value + 0;
      }
      case 'operation': {
        const a = computeExpression(node.left, values);
        if (a === null) return null;
        const b = computeExpression(node.right, values);
        if (b === null) return null;
        if (node.op === '+') return finite(a + b);
        if (node.op === '-') return finite(a - b);
        if (node.op === '*') return finite(a * b);
        return b === 0 ? null : finite(a / b);
      }
      default: return computeCall(node, values);
    }
  }

  function computeCall(node, values) {
    if (node.fn === 'round') {
      const value = computeExpression(node.args[0], values);
      return value === null ? null : roundHalfAway(value, node.args.length > 1 ? node.args[1].value : 0);
    }
    if (node.fn === 'count') {
      const rows = values[node.args[0].index];
      return Array.isArray(rows) ? rows.length : 0;
    }
    const operands = [];
    for (const arg of node.args) {
      if (arg.kind === 'name' && arg.group !== null) { // a field of every row, spread out
        const rows = values[arg.index];
        for (const row of Array.isArray(rows) ? rows : []) {
          operands.push(numberOf(hasOwn(row, arg.field) ? row[arg.field] : null));
        }
      } else {
        operands.push(computeExpression(arg, values));
      }
    }
    if (node.fn === 'sum') {
      let total = 0;
      for (const item of operands) if (item !== null) total += item;
      return finite(total);
    }
    if (operands.length === 0 || operands.some((item) => item === null)) return null;
    let result = operands[0];
    for (const item of operands.slice(1)) {
      result = node.fn === 'min' ? (item < result ? item : result) : (item > result ? item : result);
    }
    return result;
  }

  /** A computed value as answers store it: -0 as 0. */
  function calculatedAnswer(value) {
    return value === null ? null : value + 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Compilation: everything that does not depend on answers, done once per definition.

  function optionalNumber(raw, pointer) {
    if (raw === undefined || raw === null) return null;
    const number = parseNumber(raw);
    if (number === undefined || number === null) {
      throw new FormflowDefinitionError(pointer, 'must be a number');
    }
    if (number === TOO_LARGE) {
      throw new FormflowDefinitionError(pointer, 'must be less than 1e+15 in absolute value');
    }
    return number;
  }

  function optionalCount(raw, pointer) {
    if (raw === undefined || raw === null) return null;
    if (!Number.isInteger(raw) || raw < 0) {
      throw new FormflowDefinitionError(pointer, 'must be a whole number ≥ 0');
    }
    return raw;
  }

  function optionalDate(raw, pointer) {
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== 'string' || !isCalendarDate(raw)) {
      throw new FormflowDefinitionError(pointer, 'must be a date YYYY-MM-DD');
    }
    return raw;
  }

  // The server matches `pattern` with RE2 and allows only a subset of regular expressions that
  // RE2 and JavaScript read the same way (engine/patterns.py, docs/definitions.md §3): literal
  // characters, . ^ $ |, groups (…) and (?:…), quantifiers, classes […] with ranges, \n \t \r,
  // escaped special characters and \p{…} general categories. translatePattern scans for the
  // same subset; a pattern outside it (only in versions stored before the subset was enforced,
  // which the server loads with the pattern ignored) yields null, and the browser skips it too.
  // Inside the subset only "." needs translating: RE2's matches everything but "\n".
  // JavaScript backtracks, so a repeated group that itself repeats ("(a+)+"; an optional one,
  // "(a+)?", is harmless) can take exponential time in the applicant's own tab: the browser
  // leaves such patterns to the server, which matches every pattern in linear time.
  const MAX_PATTERN_LENGTH = 1000;
  const MAX_REPEAT = 1000;
  const PATTERN_SPECIAL = new Set('\\^$.|?*+()[]{}/');
  const CLASS_SPECIAL = new Set([...PATTERN_SPECIAL, '-']);
  const CATEGORIES = new Set(['L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'N', 'Nd', 'P', 'S', 'Z',
    'Zs']);
  const REPEAT_RE = /^\{([0-9]+)(,([0-9]*))?\}/;

  /** `pattern` as a whole-answer `u`-mode RegExp, or null when it is outside the subset. */
  function translatePattern(pattern) {
    const chars = [...pattern]; // code points, as the server counts them
    if (chars.length > MAX_PATTERN_LENGTH) return null;
    let i = 0;
    let out = '';
    let depth = 0;
    let canRepeat = false;
    const groupRepeats = [false]; // per open group: whether something inside it repeats
    let closedGroupRepeats = null; // the group just closed repeats inside (null: no group)

    /** One escape at chars[i]; its text, or null. Sets `single` when it is one character. */
    let single = false;
    const escape = (inClass) => {
      const n = chars[i + 1];
      if (n === undefined) return null;
      i += 2;
      single = true;
      if (n === 'n' || n === 't' || n === 'r' || (inClass ? CLASS_SPECIAL : PATTERN_SPECIAL).has(n)) {
        return '\\' + n;
      }
      if (n === 'p' || n === 'P') {
        const rest = chars.slice(i).join('');
        const m = /^\{([A-Za-z]+)\}/.exec(rest);
        if (!m || !CATEGORIES.has(m[1])) return null;
        i += m[0].length;
        single = false;
        return '\\' + n + m[0];
      }
      return null;
    };
    const escapedChar = (n) => ({ n: '\n', t: '\t', r: '\r' })[n] || n;

    const charClass = () => {
      let text = '[';
      i += 1;
      if (chars[i] === '^') { text += '^'; i += 1; }
      const first = i;
      let previousSingle = false;
      let last = null; // the character the previous single item stands for
      for (;;) {
        const c = chars[i];
        if (c === undefined || c === '[') return null;
        if (c === ']') {
          if (i === first) return null;
          i += 1;
          return text + ']';
        }
        if (c === '-') {
          if (i === first || chars[i + 1] === ']') {
            text += '-';
            last = '-';
            previousSingle = true;
            i += 1;
            continue;
          }
          if (!previousSingle) return null;
          i += 1;
          const h = chars[i];
          let high;
          if (h === '\\') {
            const escaped = escape(true);
            if (escaped === null || !single) return null;
            high = escapedChar(chars[i - 1]);
            text += '-' + escaped;
          } else {
            if (h === undefined || h === '[' || h === ']') return null;
            high = h;
            text += '-' + h;
            i += 1;
          }
          if (high.codePointAt(0) < last.codePointAt(0)) return null;
          previousSingle = false;
          continue;
        }
        if (c === '\\') {
          const escaped = escape(true);
          if (escaped === null) return null;
          last = escapedChar(chars[i - 1]);
          previousSingle = single;
          text += escaped;
        } else {
          text += c;
          last = c;
          previousSingle = true;
          i += 1;
        }
      }
    };

    const quantifier = () => {
      let text = chars[i];
      if (text === '{') {
        const m = REPEAT_RE.exec(chars.slice(i, i + 24).join(''));
        if (!m) return null;
        const low = Number(m[1]);
        const high = m[3] === undefined || m[3] === '' ? null : Number(m[3]);
        if (m[2] !== undefined && m[3] === undefined) return null;
        if (low > MAX_REPEAT || (high !== null && (high > MAX_REPEAT || high < low))) return null;
        text = m[0];
        i += m[0].length;
      } else {
        i += 1;
      }
      if (chars[i] === '?') { text += '?'; i += 1; }
      if (chars[i] === '*' || chars[i] === '+' || chars[i] === '?' || chars[i] === '{') return null;
      return text;
    };

    while (i < chars.length) {
      const c = chars[i];
      const afterGroup = closedGroupRepeats;
      closedGroupRepeats = null;
      let piece;
      if (c === '\\') {
        piece = escape(false);
        canRepeat = true;
      } else if (c === '[') {
        piece = charClass();
        canRepeat = true;
      } else if (c === '(') {
        if (chars[i + 1] === '?') {
          if (chars[i + 2] !== ':') return null;
          piece = '(?:';
          i += 3;
        } else {
          piece = '(';
          i += 1;
        }
        depth += 1;
        groupRepeats.push(false);
        canRepeat = false;
      } else if (c === ')') {
        if (depth === 0) return null;
        depth -= 1;
        closedGroupRepeats = groupRepeats.pop();
        if (closedGroupRepeats) groupRepeats[groupRepeats.length - 1] = true;
        piece = ')';
        i += 1;
        canRepeat = true;
      } else if (c === '*' || c === '+' || c === '?' || c === '{') {
        if (!canRepeat) return null;
        if (afterGroup === true && c !== '?') return null; // a repeat of a repeat
        groupRepeats[groupRepeats.length - 1] = true;
        piece = quantifier();
        canRepeat = false;
      } else if (c === ']' || c === '}') {
        return null;
      } else if (c === '^' || c === '$' || c === '|') {
        piece = c;
        i += 1;
        canRepeat = false;
      } else {
        piece = c === '.' ? '[^\\n]' : c;
        i += 1;
        canRepeat = true;
      }
      if (piece === null) return null;
      out += piece;
    }
    if (depth !== 0) return null;
    try {
      return new RegExp('^(?:' + out + ')$', 'u');
    } catch (error) {
      return null;
    }
  }

  function compilePattern(pattern, pointer) {
    if (pattern === undefined || pattern === null) return null;
    if (typeof pattern !== 'string') throw new FormflowDefinitionError(pointer, 'must be a string');
    return translatePattern(pattern);
  }

  function compileField(raw, stepId, pointer, index, stepIndex) {
    if (!isObject(raw)) throw new FormflowDefinitionError(pointer, 'a field must be an object');
    if (typeof raw.id !== 'string' || !ID_RE.test(raw.id)) {
      throw new FormflowDefinitionError(pointer + '/id', 'field id must match ' + ID_RE.source);
    }
    if (!FIELD_TYPES.has(raw.type)) {
      throw new FormflowDefinitionError(pointer + '/type', 'unknown field type ' +
        JSON.stringify(raw.type));
    }
    const type = raw.type;
    const options = [];
    const optionIndex = new Map();
    if (CHOICE_TYPES.has(type) || type === 'checkboxes') {
      const rawOptions = Array.isArray(raw.options) ? raw.options : [];
      rawOptions.forEach((option, i) => {
        const value = isObject(option) ? option.value : undefined;
        if (typeof value !== 'string') {
          throw new FormflowDefinitionError(pointer + '/options/' + i + '/value',
            'option value must be a string');
        }
        if (optionIndex.has(value)) {
          throw new FormflowDefinitionError(pointer + '/options/' + i,
            'duplicate option value ' + JSON.stringify(value));
        }
        optionIndex.set(value, i);
        options.push(value);
      });
    }
    const isDate = type === 'date';
    const field = {
      id: raw.id,
      type,
      step: stepId,
      index,
      stepIndex,
      isInput: type !== 'paragraph',
      isCalculated: type === 'calculated',
      isGroup: type === 'group',
      repeatMin: type === 'group' && isObject(raw.repeat) ? optionalCount(raw.repeat.min, pointer + '/repeat/min') || 0 : 0,
      repeatMax: type === 'group' && isObject(raw.repeat) ? optionalCount(raw.repeat.max, pointer + '/repeat/max') || 0 : 0,
      raw: type === 'group' ? raw : null,
      accept: type === 'file' && Array.isArray(raw.accept) ? raw.accept.slice() : [],
      maxSize: type === 'file' ? optionalCount(raw.max_size, pointer + '/max_size') : null,
      maxFiles: type === 'file' ? (optionalCount(raw.max_files, pointer + '/max_files') || 1) : 1,
      required: raw.required === true,
      minLength: optionalCount(raw.min_length, pointer + '/min_length'),
      maxLength: optionalCount(raw.max_length, pointer + '/max_length'),
      pattern: TEXT_TYPES.has(type) ? compilePattern(raw.pattern, pointer + '/pattern') : null,
      min: isObject(raw.min) ? null : isDate ? optionalDate(raw.min, pointer + '/min') :
        type === 'number' ? optionalNumber(raw.min, pointer + '/min') : null,
      max: isObject(raw.max) ? null : isDate ? optionalDate(raw.max, pointer + '/max') :
        type === 'number' ? optionalNumber(raw.max, pointer + '/max') : null,
      // min/max given as {"field": id}: another field's answer (resolved in compile)
      minField: isObject(raw.min) ? raw.min.field : null,
      maxField: isObject(raw.max) ? raw.max.field : null,
      stepSize: type === 'number' ? optionalNumber(raw.step, pointer + '/step') : null,
      options,
      optionIndex,
      minSelected: optionalCount(raw.min_selected, pointer + '/min_selected'),
      maxSelected: optionalCount(raw.max_selected, pointer + '/max_selected'),
      counter: raw.counter === true,
      label: raw.label === undefined ? null : raw.label,
      patternMessage: raw.pattern_message === undefined ? null : raw.pattern_message,
      formula: type === 'calculated' ? parseExpression(raw.expression, pointer + '/expression') :
        null,
      pointer,
    };
    const known = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'];
    field.accept.forEach((kind, i) => {
      if (known.indexOf(kind) < 0) {
        throw new FormflowDefinitionError(pointer + '/accept/' + i, 'not a type whose content can be recognised: ' + JSON.stringify(kind));
      }
    });
    if (field.isGroup && (!isObject(raw.repeat) || !(field.repeatMax >= 1 && field.repeatMax <= 100))) {
      throw new FormflowDefinitionError(pointer + '/repeat/max', 'a repeating group needs repeat.max from 1 to 100');
    }
    if (field.isGroup && field.repeatMin > field.repeatMax) {
      throw new FormflowDefinitionError(pointer + '/repeat/min', 'min is greater than max');
    }
    if (field.stepSize !== null && field.stepSize <= 0) {
      throw new FormflowDefinitionError(pointer + '/step', 'step must be greater than 0');
    }
    return Object.freeze(field);
  }

  // Which field types each operator fits, and what its value V must be ("none": no value,
  // "optional": empty means is_empty, "required", "list") — the server's table, mirrored.
  const TEXTISH = [...TEXT_TYPES, ...CHOICE_TYPES];
  const OPERATOR_TABLE = {
    equal_to: { types: new Set([...INPUT_TYPES, 'calculated']), value: 'optional' },
    contains: { types: new Set([...TEXT_TYPES, 'checkboxes']), value: 'required' },
    starts_with: { types: TEXT_TYPES, value: 'required' },
    ends_with: { types: TEXT_TYPES, value: 'required' },
    greater_than: { types: new Set(['number', 'date', 'calculated']), value: 'required' },
    one_of: { types: new Set([...TEXTISH, 'number', 'date', 'calculated', 'checkboxes']),
      value: 'list' },
    is_empty: { types: new Set([...INPUT_TYPES, 'calculated', 'group', 'file']), value: 'none' },
  };
  for (const op of ORDERING) OPERATOR_TABLE[op] = OPERATOR_TABLE.greater_than;

  /** Converts a rule value V to the field's type once; a V that does not fit is an error. */
  function ruleValue(field, raw, pointer) {
    const { value, error } = convert(field, raw);
    if (error) {
      const what = error === 'not_an_option' ? 'is not an option of field ' + field.id :
        'cannot be compared with field ' + field.id + ' of type ' + field.type;
      throw new FormflowDefinitionError(pointer, JSON.stringify(raw) + ' ' + what);
    }
    return value;
  }

  /** A checkboxes field seen as one value, for contains and one_of: one of its options. */
  function scalarView(field) {
    return field.type === 'checkboxes' ? Object.assign({}, field, { type: 'select' }) : field;
  }

  // How deeply all/any/not may nest (engine/conditions.py MAX_CONDITION_DEPTH).
  const MAX_CONDITION_DEPTH = 32;

  function compileCondition(raw, pointer, fields, reads, depth = 0) {
    if (!isObject(raw)) throw new FormflowDefinitionError(pointer, 'a condition must be an object');
    const groups = ['all', 'any', 'not'].filter((key) => hasOwn(raw, key));
    if (groups.length > 0 && !hasOwn(raw, 'field')) {
      const kind = groups[0];
      if (groups.length > 1 || Object.keys(raw).length > 1) {
        throw new FormflowDefinitionError(pointer, 'a condition has exactly one of all, any, not');
      }
      if (depth >= MAX_CONDITION_DEPTH) {
        throw new FormflowDefinitionError(pointer, 'conditions may nest at most ' +
          MAX_CONDITION_DEPTH + ' levels deep');
      }
      if (kind === 'not') {
        return {
          kind: 'not',
          item: compileCondition(raw.not, pointer + '/not', fields, reads, depth + 1),
        };
      }
      const items = raw[kind];
      if (!Array.isArray(items)) {
        throw new FormflowDefinitionError(pointer + '/' + kind, 'must be a list of conditions');
      }
      return {
        kind,
        items: items.map((item, i) =>
          compileCondition(item, pointer + '/' + kind + '/' + i, fields, reads, depth + 1)),
      };
    }
    if (typeof raw.field !== 'string') {
      throw new FormflowDefinitionError(pointer, 'a condition needs field and op (or all/any/not)');
    }
    const field = fields.get(raw.field);
    if (!field || !field.isInput) {
      throw new FormflowDefinitionError(pointer + '/field', field ?
        JSON.stringify(raw.field) + ' is a paragraph: it has no answer' :
        'unknown field ' + JSON.stringify(raw.field));
    }
    if (!OPERATORS.has(raw.op)) {
      throw new FormflowDefinitionError(pointer + '/op', 'unknown operator ' +
        JSON.stringify(raw.op) + '; use one of ' + [...OPERATORS].join(', '));
    }
    const negate = hasOwn(NEGATIONS, raw.op);
    const op = negate ? NEGATIONS[raw.op] : raw.op;
    const type = field.type;
    const spec = OPERATOR_TABLE[op];
    if (!spec.types.has(type)) {
      throw new FormflowDefinitionError(pointer + '/op', 'operator ' + raw.op +
        ' does not fit field ' + field.id + ' of type ' + type);
    }
    reads.add(field.id);
    const condition = { kind: 'field', field: field.id, index: field.index, type, op, negate };
    const valuePointer = pointer + '/value';
    const present = hasOwn(raw, 'value');
    const rawValue = raw.value;

    if (spec.value === 'none') {
      if (present && rawValue !== null) {
        throw new FormflowDefinitionError(valuePointer, 'operator ' + raw.op + ' takes no value');
      }
    } else if (spec.value === 'list') {
      if (!Array.isArray(rawValue)) {
        throw new FormflowDefinitionError(valuePointer, 'operator ' + raw.op +
          ' needs a list of values');
      }
      // Empty items are allowed but can never match: an empty answer is in no list.
      const scalar = scalarView(field);
      const values = new Set();
      rawValue.forEach((item, i) => {
        const value = ruleValue(scalar, item, valuePointer + '/' + i);
        if (!isEmpty(value)) values.add(value);
      });
      condition.value = values;
    } else if (spec.value === 'required' && (!present || rawValue === null || rawValue === '' ||
        (Array.isArray(rawValue) && rawValue.length === 0))) {
      throw new FormflowDefinitionError(valuePointer, 'operator ' + raw.op + ' needs a value');
    } else if (op === 'contains' && type === 'checkboxes') {
      condition.value = ruleValue(scalarView(field), rawValue, valuePointer);
    } else if (op === 'contains' || op === 'starts_with' || op === 'ends_with') {
      if (typeof rawValue !== 'string') {
        throw new FormflowDefinitionError(valuePointer, 'operator ' + raw.op +
          ' needs a text value');
      }
      condition.value = casefold(rawValue);
    } else {
      if (type === 'checkbox' && typeof rawValue !== 'boolean' && rawValue !== null &&
          rawValue !== undefined) {
        throw new FormflowDefinitionError(valuePointer, 'field ' + field.id +
          ' is a checkbox: compare it with true or false');
      }
      const value = ruleValue(field, rawValue, valuePointer);
      if (ORDERING.has(op)) {
        if (value === null) {
          throw new FormflowDefinitionError(valuePointer, 'operator ' + raw.op + ' needs a value');
        }
        condition.value = value;
      } else if (isEmpty(value)) {
        condition.op = 'is_empty'; // equal_to an empty V (omitted, null, "", [], false)
      } else {
        condition.value = type === 'checkboxes' ? new Set(value) : value;
      }
    }
    return condition;
  }

  /**
   * Fields and steps in an order where everything a node's visibility depends on comes first:
   * the fields read by the show/hide rules targeting it and, for a field, its step. A cycle is
   * an error naming it (`a → b → a`: b reads a, a reads b). Iterative, so huge forms cannot
   * overflow the stack.
   */
  function dependencyOrder(nodes, dependsOn) {
    const state = new Map(); // 1 = on the current path, 2 = done
    const order = [];
    for (const start of nodes) {
      if (state.has(start)) continue;
      state.set(start, 1);
      const stack = [{ id: start, next: 0 }];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const deps = dependsOn.get(top.id);
        if (top.next < deps.length) {
          const dep = deps[top.next++];
          const seen = state.get(dep);
          if (seen === 1) {
            const path = stack.map((entry) => entry.id);
            // In reading direction, as the server reports it: "a → b" means b reads a.
            const cycle = path.slice(path.indexOf(dep)).concat(dep).reverse();
            throw new FormflowDefinitionError('/rules', 'rules depend on each other in a cycle: ' +
              cycle.join(' → ') + ' (a field\'s visibility cannot depend on itself)', { cycle });
          }
          if (seen === undefined) {
            state.set(dep, 1);
            stack.push({ id: dep, next: 0 });
          }
        } else {
          state.set(top.id, 2);
          order.push(top.id);
          stack.pop();
        }
      }
    }
    return order;
  }

  /**
   * Compiles a form definition (parsed JSON) once: typed fields, converted rule values and the
   * dependency order. Throws FormflowDefinitionError for what would make evaluation wrong
   * (unknown ids/types/operators, values that do not fit, cycles). The schema and the linter
   * (labels, translations, …) are the server's business.
   */
  function compile(definition) {
    if (!isObject(definition)) throw new FormflowDefinitionError('', 'a form must be an object');
    if (!Array.isArray(definition.steps)) {
      throw new FormflowDefinitionError('/steps', 'must be a list of steps');
    }
    const fields = new Map();
    const fieldList = [];
    const steps = [];
    const stepMap = new Map();
    const seenIds = new Map(); // id -> pointer of its first use
    const cells = new Map(); // the fields of repeating groups, by id
    const groupOf = new Map(); // a group's field id -> the group's id
    const claim = (id, pointer) => {
      if (seenIds.has(id)) {
        throw new FormflowDefinitionError(pointer, 'duplicate id ' + JSON.stringify(id) +
          ' (also at ' + seenIds.get(id) + ')');
      }
      seenIds.set(id, pointer);
    };
    definition.steps.forEach((rawStep, si) => {
      const pointer = '/steps/' + si;
      if (!isObject(rawStep)) throw new FormflowDefinitionError(pointer, 'a step must be an object');
      if (typeof rawStep.id !== 'string' || !ID_RE.test(rawStep.id)) {
        throw new FormflowDefinitionError(pointer + '/id', 'step id must match ' + ID_RE.source);
      }
      claim(rawStep.id, pointer + '/id');
      const rawFields = rawStep.fields === undefined ? [] : rawStep.fields;
      if (!Array.isArray(rawFields)) {
        throw new FormflowDefinitionError(pointer + '/fields', 'must be a list of fields');
      }
      const stepFieldIds = [];
      rawFields.forEach((rawField, fi) => {
        const fieldPointer = pointer + '/fields/' + fi;
        const field = compileField(rawField, rawStep.id, fieldPointer, fieldList.length, si);
        claim(field.id, fieldPointer + '/id');
        fields.set(field.id, field);
        fieldList.push(field);
        stepFieldIds.push(field.id);
        if (field.isGroup) {
          // A repeating group's fields: ids unique across the form, no group inside a group.
          const rawInner = Array.isArray(rawField.fields) ? rawField.fields : [];
          if (rawInner.length === 0) {
            throw new FormflowDefinitionError(fieldPointer + '/fields', 'a repeating group needs fields');
          }
          rawInner.forEach((rawCell, ci) => {
            const cellPointer = fieldPointer + '/fields/' + ci;
            const cell = compileField(rawCell, field.id, cellPointer, ci, 0);
            if (cell.isGroup || cell.type === 'file') {
              throw new FormflowDefinitionError(cellPointer + '/type',
                'a repeating group cannot hold another group or a file field');
            }
            claim(cell.id, cellPointer + '/id');
            cells.set(cell.id, cell);
            groupOf.set(cell.id, field.id);
          });
        }
      });
      const step = Object.freeze({ id: rawStep.id, index: si, fields: Object.freeze(stepFieldIds) });
      steps.push(step);
      stepMap.set(step.id, step);
    });

    // min/max naming another field: one of the same kind (engine/definitions.py check_bounds)
    const bounds = [];
    for (const field of fieldList) {
      for (const [key, other, isMin] of [['min', field.minField, true], ['max', field.maxField, false]]) {
        if (other === null || other === undefined) continue;
        const target = fields.get(other);
        const wanted = field.type === 'number' ? NUMERIC_TYPES : new Set([field.type]);
        if (!target || target.id === field.id || !wanted.has(target.type)) {
          throw new FormflowDefinitionError(field.pointer + '/' + key + '/field',
            'not a field of the same kind: ' + JSON.stringify(other));
        }
        bounds.push({ index: field.index, other: target.index, isMin,
          code: (field.type === 'date' ? 'date_' : '') + key });
      }
    }
    const rawRules = definition.rules === undefined ? [] : definition.rules;
    if (!Array.isArray(rawRules)) throw new FormflowDefinitionError('/rules', 'must be a list');
    const showBy = new Map();
    const hideBy = new Map();
    const requireBy = new Map();
    const dependsOn = new Map();
    for (const step of steps) dependsOn.set(step.id, new Set());
    for (const field of fieldList) dependsOn.set(field.id, new Set([field.step]));
    // A rule reading a repeating group's fields applies to each row on its own: it goes to the
    // group's row form (compiled below), the others stay the form's.
    const formRules = [];
    const rowRules = new Map();
    const everyField = new Map([...fields, ...cells]);
    rawRules.forEach((rawRule, ri) => {
      const pointer = '/rules/' + ri;
      if (!isObject(rawRule) || !hasOwn(rawRule, 'when')) {
        formRules.push({ rawRule, pointer });
        return;
      }
      const reads = new Set();
      compileCondition(rawRule.when, pointer + '/when', everyField, reads);
      const groups = new Set([...reads].map((id) => groupOf.get(id)));
      if (!groups.has(undefined) || groups.size > 1) {
        if (groups.size > 1) {
          throw new FormflowDefinitionError(pointer + '/when', 'a rule that reads a field of a ' +
            'repeating group reads only fields of that group');
        }
      }
      const group = groups.size === 1 ? [...groups][0] : undefined;
      for (const key of ['show', 'hide', 'require']) {
        const targets = Array.isArray(rawRule[key]) ? rawRule[key] : [];
        targets.forEach((target, ti) => {
          if ((group !== undefined || cells.has(target)) && groupOf.get(target) !== group) {
            throw new FormflowDefinitionError(pointer + '/' + key + '/' + ti,
              'only a rule reading the fields of a repeating group targets them, in the same row');
          }
          const field = fields.get(target);
          if (key === 'require' && field && field.isGroup) {
            throw new FormflowDefinitionError(pointer + '/' + key + '/' + ti,
              'a repeating group cannot be required: use repeat.min');
          }
        });
      }
      if (group === undefined) formRules.push({ rawRule, pointer });
      else {
        if (!rowRules.has(group)) rowRules.set(group, []);
        rowRules.get(group).push(rawRule);
      }
    });
    const rows = new Map();
    for (const field of fieldList) {
      if (!field.isGroup) continue;
      const rawGroup = field.raw;
      rows.set(field.id, compile({
        id: field.id, steps: [{ id: field.id, fields: rawGroup.fields }],
        rules: rowRules.get(field.id) || [],
      }));
    }
    // A calculation comes after every field it reads.
    for (const field of fieldList) {
      if (field.formula) for (const read of checkFormula(field, fields, rows)) dependsOn.get(field.id).add(read);
    }
    const rules = formRules.map(({ rawRule, pointer }, ri) => {
      if (!isObject(rawRule)) throw new FormflowDefinitionError(pointer, 'a rule must be an object');
      if (!hasOwn(rawRule, 'when')) throw new FormflowDefinitionError(pointer, 'a rule needs when');
      const reads = new Set();
      const when = compileCondition(rawRule.when, pointer + '/when', fields, reads);
      const rule = { index: ri, when, reads: Object.freeze([...reads]) };
      let effects = 0;
      for (const [key, index] of [['show', showBy], ['hide', hideBy], ['require', requireBy]]) {
        if (!hasOwn(rawRule, key)) { rule[key] = Object.freeze([]); continue; }
        const targets = rawRule[key];
        if (!Array.isArray(targets)) {
          throw new FormflowDefinitionError(pointer + '/' + key, 'must be a list of ids');
        }
        targets.forEach((target, ti) => {
          const targetPointer = pointer + '/' + key + '/' + ti;
          const field = typeof target === 'string' ? fields.get(target) : undefined;
          if (!field && !(typeof target === 'string' && stepMap.has(target))) {
            throw new FormflowDefinitionError(targetPointer, 'unknown field or step ' +
              JSON.stringify(target));
          }
          if (key === 'require' && (!field || !field.isInput || field.isCalculated)) {
            throw new FormflowDefinitionError(targetPointer, 'only input fields can be required, ' +
              'not ' + JSON.stringify(target));
          }
          if (!index.has(target)) index.set(target, []);
          const list = index.get(target);
          if (list[list.length - 1] !== ri) list.push(ri);
          // Only visibility feeds back into answers; `require` cannot create a dependency.
          if (key !== 'require') for (const read of reads) dependsOn.get(target).add(read);
        });
        effects += 1;
        rule[key] = Object.freeze(targets.slice());
      }
      if (effects === 0) {
        throw new FormflowDefinitionError(pointer, 'a rule needs show, hide or require');
      }
      return Object.freeze(rule);
    });

    const nodes = [];
    for (const step of steps) {
      nodes.push(step.id);
      for (const id of step.fields) nodes.push(id);
    }
    const depLists = new Map();
    for (const [id, deps] of dependsOn) depLists.set(id, [...deps]);
    const none = Object.freeze([]);
    const order = dependencyOrder(nodes, depLists).map((id) => Object.freeze({
      kind: stepMap.has(id) ? 'step' : 'field',
      id,
      index: stepMap.has(id) ? stepMap.get(id).index : fields.get(id).index,
      show: showBy.get(id) || none,
      hide: hideBy.get(id) || none,
    }));
    const compiled = {
      id: definition.id,
      fields,
      fieldList: Object.freeze(fieldList),
      steps: Object.freeze(steps),
      rules: Object.freeze(rules),
      order: Object.freeze(order),
      requireRules: fieldList.map((field) => requireBy.get(field.id) || none),
      rows,
      bounds,
      definition,
    };
    compiled[COMPILED] = true;
    return Object.freeze(compiled);
  }

  // ---------------------------------------------------------------------------------------------
  // Evaluation

  function test(condition, answer) {
    switch (condition.op) {
      case 'is_empty':
        return isEmpty(answer);
      case 'equal_to':
        if (isEmpty(answer)) return false;
        if (condition.type === 'checkboxes') {
          return answer.length === condition.value.size &&
            answer.every((item) => condition.value.has(item));
        }
        return answer === condition.value;
      case 'contains':
        if (condition.type === 'checkboxes') return answer.indexOf(condition.value) >= 0;
        return answer !== null && casefold(answer).indexOf(condition.value) >= 0;
      case 'starts_with':
        return answer !== null && casefold(answer).startsWith(condition.value);
      case 'ends_with':
        return answer !== null && casefold(answer).endsWith(condition.value);
      case 'greater_than':
        return !isEmpty(answer) && answer > condition.value;
      case 'greater_or_equal':
        return !isEmpty(answer) && answer >= condition.value;
      case 'less_than':
        return !isEmpty(answer) && answer < condition.value;
      case 'less_or_equal':
        return !isEmpty(answer) && answer <= condition.value;
      case 'one_of':
        if (isEmpty(answer)) return false;
        if (condition.type === 'checkboxes') return answer.some((item) => condition.value.has(item));
        return condition.value.has(answer);
      default:
        throw new Error('formflow: unexpected operator ' + condition.op);
    }
  }

  /** Whether a compiled condition holds for `values` (condition view, by field index). */
  function holds(condition, values) {
    switch (condition.kind) {
      case 'all':
        for (const item of condition.items) if (!holds(item, values)) return false;
        return true;
      case 'any':
        for (const item of condition.items) if (holds(item, values)) return true;
        return false;
      case 'not':
        return !holds(condition.item, values);
      default: {
        const result = test(condition, values[condition.index]);
        return condition.negate ? !result : result;
      }
    }
  }

  /**
   * Evaluates `answers` (field id -> raw value) against a compiled form (or a raw definition,
   * compiled on the fly). Follows the precomputed dependency order once and memoises each rule's
   * truth, so the cost is linear in fields + rule conditions.
   */
  function evaluate(compiled, answers) {
    const form = compiled && compiled[COMPILED] ? compiled : compile(compiled);
    const raw = isObject(answers) ? answers : {};
    const fieldList = form.fieldList;
    const values = new Array(fieldList.length); // what conditions see
    const converted = new Array(fieldList.length);
    const fieldVisible = new Array(fieldList.length).fill(false);
    const stepVisible = new Array(form.steps.length).fill(false);
    const truth = new Array(form.rules.length);
    const ruleHolds = (ri) => {
      let result = truth[ri];
      if (result === undefined) {
        result = holds(form.rules[ri].when, values);
        truth[ri] = result;
      }
      return result;
    };
    const shownByRules = (node) =>
      (node.show.length === 0 || node.show.some(ruleHolds)) && !node.hide.some(ruleHolds);

    for (const node of form.order) {
      if (node.kind === 'step') {
        stepVisible[node.index] = shownByRules(node);
        continue;
      }
      const field = fieldList[node.index];
      const visible = stepVisible[field.stepIndex] && shownByRules(node);
      fieldVisible[node.index] = visible;
      if (visible && field.isGroup) {
        const result = convertRows(field, form.rows.get(field.id),
          hasOwn(raw, field.id) ? raw[field.id] : undefined);
        converted[node.index] = result;
        values[node.index] = result.value;
      } else if (visible && field.isCalculated) {
        const value = calculatedAnswer(computeExpression(field.formula, values));
        converted[node.index] = { value, error: null };
        values[node.index] = value;
      } else if (visible && field.isInput) {
        const result = convert(field, hasOwn(raw, field.id) ? raw[field.id] : undefined);
        converted[node.index] = result;
        values[node.index] = result.error ? emptyAnswer(field.type) : result.value;
      } else {
        values[node.index] = emptyAnswer(field.type);
      }
    }

    const visibleFields = [];
    const required = [];
    const invalid = [];
    const errors = {};
    const stored = {};
    const calculated = {};
    for (const field of fieldList) {
      if (!fieldVisible[field.index]) continue;
      visibleFields.push(field.id);
      if (!field.isInput) continue;
      if (field.isCalculated) calculated[field.id] = values[field.index];
      const isRequired = field.required || form.requireRules[field.index].some(ruleHolds);
      if (isRequired) required.push(field.id);
      const { value, error } = converted[field.index];
      const codes = field.isGroup ? converted[field.index].codes :
        errorCodes(field, value, error, isRequired);
      if (codes.length === 0 && !isEmpty(value)) {
        for (const bound of form.bounds) {
          if (bound.index !== field.index) continue;
          const limit = values[bound.other];
          if (limit !== null && limit !== undefined &&
              (bound.isMin ? value < limit : value > limit)) {
            codes.push(bound.code);
            break;
          }
        }
      }
      if (codes.length > 0) {
        invalid.push(field.id);
        errors[field.id] = codes;
      }
      stored[field.id] = value;
    }
    visibleFields.sort(byCodePoint);
    required.sort(byCodePoint);
    invalid.sort(byCodePoint);
    return {
      visible_fields: visibleFields,
      visible_steps: form.steps.filter((step) => stepVisible[step.index]).map((step) => step.id),
      required,
      invalid,
      answers: invalid.length > 0 ? null : sortedObject(stored),
      errors: sortedObject(errors),
      calculated: sortedObject(calculated),
    };
  }

  /**
   * A repeating group's answer: a list of rows (objects), each evaluated as the group's row form
   * (engine/evaluation.py _rows). `{value, error, codes}`: the typed rows, and the error codes of
   * the group (one `in_row` per cell error, `min_rows`, `max_rows`, `not_rows`).
   */
  function convertRows(field, rowForm, raw) {
    let rows;
    if (raw === undefined || raw === null || raw === '') rows = [];
    else if (Array.isArray(raw) && raw.every(isObject)) rows = raw;
    else return { value: [], error: null, codes: ['not_rows'] };
    if (rows.length > field.repeatMax) return { value: [], error: null, codes: ['max_rows'] };
    const value = [];
    const codes = [];
    for (const row of rows) {
      const result = evaluate(rowForm, row);
      if (result.answers !== null) {
        value.push(result.answers);
        continue;
      }
      for (const cell of rowForm.fieldList) {
        for (let i = 0; i < (result.errors[cell.id] || []).length; i += 1) codes.push('in_row');
      }
      const typed = {};
      for (const id of result.visible_fields) {
        const cell = rowForm.fields.get(id);
        if (!cell.isInput) continue;
        if (cell.isCalculated) typed[id] = result.calculated[id];
        else if (hasOwn(result.errors, id)) typed[id] = null;
        else typed[id] = convert(cell, hasOwn(row, id) ? row[id] : undefined).value;
      }
      value.push(typed);
    }
    if (rows.length < field.repeatMin) codes.push('min_rows');
    return { value, error: null, codes };
  }

  function sortedObject(object) {
    const result = {};
    for (const key of Object.keys(object).sort(byCodePoint)) result[key] = object[key];
    return result;
  }

  return Object.freeze({
    compile,
    evaluate,
    convert,
    validate,
    constraintErrors,
    isEmpty,
    casefold,
    FormflowDefinitionError,
    OPERATORS: Object.freeze([...OPERATORS]),
    INPUT_TYPES: Object.freeze([...INPUT_TYPES]),
  });
});
