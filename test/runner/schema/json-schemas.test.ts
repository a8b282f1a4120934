import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { RigFile } from '../../../runner/rig/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { SCHEMA_FILES } from '../../../runner/schema/json-schemas.ts';

describe('committed JSON Schemas', () => {
  for (const [path, generate] of Object.entries(SCHEMA_FILES)) {
    it(`${path} equals the one generated from the zod contract`, () => {
      const committed = JSON.parse(readFileSync(path, 'utf8'));
      expect(committed, `${path} is stale: run \`npm run schemas\` and commit the result`).toEqual(generate());
    });
  }
});


describe('zod and ajv agree on every rig fixture', () => {
  const validate = validatorFor('rig');
  const fixtures = ['good', 'bad'].flatMap((kind) =>
    readdirSync(`test/fixtures/rigs/${kind}`).map((file) => `${kind}/${file}`),
  );
  for (const fixture of fixtures) {
    const doc = parseDocument(readFileSync(`test/fixtures/rigs/${fixture}`, 'utf8'));
    if (doc.errors.length > 0) continue; // a YAML syntax error: neither schema sees a document
    const data = doc.toJS();
    it(`${fixture}: both accept or both reject`, () => {
      const zodValid = RigFile.safeParse(data).success;
      const ajvValid = validate(data);
      expect(zodValid, `zod says ${zodValid ? 'valid' : 'invalid'}, ajv says ${ajvValid ? 'valid' : 'invalid'}`).toBe(ajvValid);
    });
  }

  it('checks the good fixtures and a fair share of schema-level bad ones', () => {
    const rejected = fixtures.filter((fixture) => {
      const doc = parseDocument(readFileSync(`test/fixtures/rigs/${fixture}`, 'utf8'));
      return doc.errors.length === 0 && !validate(doc.toJS());
    });
    expect(rejected.filter((f) => f.startsWith('good/'))).toEqual([]);
    expect(rejected.length).toBeGreaterThanOrEqual(15);
  });
});
