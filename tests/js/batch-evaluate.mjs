// Helper for tests/test_js_rules.py (not a test file itself): reads [{form, answers: [..]}, ..]
// as JSON on stdin and writes, per form, either {error, pointer} (compile refused it) or
// {results: [evaluation, ..]} as JSON on stdout — so one Node process checks a whole corpus.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const Rules = require(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'static',
  'formflow-rules.js'));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const corpus = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const out = corpus.map(({ form, answers }) => {
  let compiled;
  try {
    compiled = Rules.compile(form);
  } catch (error) {
    if (!(error instanceof Rules.FormflowDefinitionError)) throw error;
    return { error: error.message, pointer: error.pointer };
  }
  return { results: answers.map((raw) => Rules.evaluate(compiled, raw)) };
});
process.stdout.write(JSON.stringify(out));
