import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy, PolicyEngine, PolicyError, type PolicyProblem } from '../../../sandbox-core/policy/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(path: string): PolicyProblem[] {
  try {
    loadPolicy(path);
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('loadPolicy', () => {
  it('loads a policy an engine then applies', () => {
    const path = write(
      'good.yaml',
      `default: allow
rules:
  - id: no-posts
    when: event == "http.request" && request.host.endsWith(".example.com") && request.method == "POST"
    decision: block
  - id: dns-log
    when: |
      query.name.endsWith(".test")
    decision: log
`,
    );
    const engine = new PolicyEngine(loadPolicy(path));
    expect(engine.evaluate({ event: 'http.request', host: 'a.example.com', address: '127.0.0.1', method: 'POST', path: '/', headers: {} })).toEqual({ decision: 'block', ruleId: 'no-posts' });
    expect(engine.evaluate({ event: 'dns.query', name: 'x.test', type: 'A' })).toEqual({ decision: 'log', ruleId: 'dns-log' });
  });

  it('points a CEL error at its character in the file', () => {
    const path = write(
      'bad-cel.yaml',
      `default: block
rules:
  - id: fine
    when: request.host == "a"
    decision: allow
  - id: typo
    when: "request.method == 'GET' && request.hots == 'a'"
    decision: block
`,
    );
    const [p] = problemsOf(path);
    expect(p).toMatchObject({ ruleId: 'typo', path: ['rules', 1, 'when'], line: 1, column: 36, fileLine: 7, fileColumn: 47 });
    expect(String(new PolicyError([p!]).message)).toBe(`${path}:7:47: rule "typo" rules[1].when: column 36: No such key: hots`);
  });

  it('points a CEL error inside a block scalar at its line and column in the file', () => {
    const path = write('bad-block.yaml', `default: block\nrules:\n  - id: multi\n    when: >-\n      request.host == "a" &&\n      request.host + 1\n    decision: block\n`);
    const [p] = problemsOf(path);
    // Folded, the expression is one line; the file position falls back to the value's start.
    expect(p).toMatchObject({ ruleId: 'multi', line: 1, column: 24, fileLine: 4 });
  });

  it('reports shape mistakes with their lines', () => {
    const path = write('bad-shape.yaml', `default: maybe\nrules:\n  - id: a\n    when: true\n    decision: allow\n  - id: b\n    whn: request.host == "b"\n    decision: deny\n`);
    const found = problemsOf(path).map((p) => [p.fileLine, `${p.path.join('.')}`, p.message]);
    expect(found).toEqual([
      [1, 'default', 'expected one of allow, block, log, found "maybe"'],
      [4, 'rules.0.when', 'expected a CEL expression (a string), found true'],
      [7, 'rules.1.whn', 'unknown field; expected id, when, decision'],
      [6, 'rules.1.when', 'expected a CEL expression (a string), found nothing'],
      [8, 'rules.1.decision', 'expected one of allow, block, log, found "deny"'],
    ]);
  });

  it('reports invalid YAML with its line', () => {
    const [p] = problemsOf(write('bad-yaml.yaml', 'default: allow\nrules: [\n'));
    expect(p!.message).toMatch(/^invalid YAML/);
    expect(p!.fileLine).toBeGreaterThanOrEqual(2);
  });
});
