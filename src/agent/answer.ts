// `output_schema`: the final answer must be a JSON value valid against the caller's JSON Schema.
// The schema is compiled once per call (a broken schema is refused before the run starts); the
// answer is parsed (a ```json fence around it is tolerated) and validated, and what is wrong is
// put in words the model can fix.
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { fail, ok, type Result } from '../util/result.js';
import type { AnswerCheck } from './loop.js';

export function answerCheck(schema: Record<string, unknown>): Result<AnswerCheck> {
  const draft2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
  const ajv = draft2020 ? new Ajv2020({ strict: false, allErrors: true }) : new Ajv({ strict: false, allErrors: true });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(draft2020 ? schema : withoutMetaSchema(schema));
  } catch (err) {
    return fail('invalid_output_schema', `output_schema is not a valid JSON Schema: ${(err as Error).message}`, 'Pass a JSON Schema object such as {"type":"object","properties":{...},"required":[...]}.');
  }
  return ok({
    schema,
    check(answer) {
      const text = answer.trim().replace(/^```(?:json)?\s*\n([\s\S]*?)\n?```$/, '$1').trim();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, message: text === '' ? 'the answer is empty' : 'the answer is not valid JSON' };
      }
      if (validate(value)) return { ok: true, value };
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
      return { ok: false, message: errors.join('; ') };
    },
  });
}

function withoutMetaSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}
