/**
 * A sample of the fuzzed and parser-exhausting inputs through the real CLI,
 * spawned as a user runs it: one `rigor validate` of 40 generated rig files
 * and 40 generated artifacts, then hostile rigs under `rigor run` and hostile
 * exports under `rigor import hyperfine`. Properties: no stack frame
 * ("    at …") on stderr or stdout, every refused file named, the exit code of
 * an input error (validate 1, run and import 2), no control character printed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { hasUnprintable } from '../../../../base/printable.ts';
import { REPO, rigor } from '../../../helpers/cli.ts';
import { garbageText, mutatedData, mutatedText, STACK_FRAME } from '../../../helpers/fuzz.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-fuzz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (folder: string, suffix: string) => readdirSync(join(REPO, folder)).filter((f) => f.endsWith(suffix)).map((f) => readFileSync(join(REPO, folder, f), 'utf8'));
const printed = (text: string) => hasUnprintable(text.replaceAll('\n', ' '));

const LAUGHS = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: 9 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)].join('\n');
const HOSTILE_RIGS: Record<string, string> = {
  laughs: LAUGHS,
  deep: '['.repeat(100_000),
  cycle: 'name: &a [*a]',
  binary: 'name: !!binary \ntitle: x',
  control: 'name: "\\e]0;owned\\a"\nti\u001b[2Jtle: x',
  keys: Array.from({ length: 5000 }, (_, i) => `k${i}: 1`).join('\n'),
};

describe('fuzzed inputs through the real CLI', () => {
  it('rigor validate of 40 generated rig files and 40 generated artifacts (seed 16041): each named, no stack trace', () => {
    const rigs = fc.sample(fc.oneof(mutatedText(read('rigs', '.rig.yaml').filter((t) => t.length < 3000)), garbageText), { seed: 16041, numRuns: 40 });
    const seeds = read('test/fixtures/artifacts/good', '.json').map((t) => JSON.parse(t) as unknown);
    const artifacts = fc.sample(fc.oneof(mutatedData(seeds).map((d) => JSON.stringify(d, null, 1)), garbageText), { seed: 16041, numRuns: 40 });
    const files = [
      ...rigs.map((text, i) => [join(dir, `fuzz-${i}.rig.yaml`), text] as const),
      ...artifacts.map((text, i) => [join(dir, `fuzz-${i}.json`), text] as const),
      ...Object.entries(HOSTILE_RIGS).map(([name, text]) => [join(dir, `${name}.rig.yaml`), text] as const),
    ];
    for (const [path, text] of files) writeFileSync(path, text);
    const result = rigor(['validate', ...files.map(([path]) => path)]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stdout).not.toMatch(STACK_FRAME);
    expect(printed(result.stdout), result.stdout).toBe(false);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    // every file has its line, ok or INVALID, naming it
    for (const [path] of files) expect(lines.some((line) => line.includes(path)), path).toBe(true);
    for (const name of Object.keys(HOSTILE_RIGS)) expect(result.stdout).toMatch(new RegExp(`^INVALID  ${join(dir, name)}\\.rig\\.yaml`, 'm'));
  });

  it.each(Object.keys(HOSTILE_RIGS).slice(0, 4))('rigor run of the hostile rig %s: refused, exit 2, named, no stack trace', (name) => {
    const path = join(dir, `run-${name}.rig.yaml`);
    writeFileSync(path, HOSTILE_RIGS[name]!);
    const result = rigor(['run', path, '--iterations', '1', '--out', join(dir, 'out'), '--quiet']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).toContain(path);
    expect(printed(result.stderr)).toBe(false);
  });

  it.each([
    ['deep JSON', '['.repeat(1_000_000)],
    ['a command with control characters twice', JSON.stringify({ results: [0, 1].map(() => ({ command: 'echo \u001b]0;owned\u0007\u009b2J', times: [0.1], exit_codes: [0] })) })],
    ['1e308 seconds', JSON.stringify({ results: [{ command: 'x', times: [1e308], exit_codes: [0] }] })],
  ])('rigor import hyperfine of %s: refused, exit 2, named, no stack trace, nothing unprintable', (_, text) => {
    const path = join(dir, `import-${text.length}.json`);
    writeFileSync(path, text);
    const result = rigor(['import', 'hyperfine', path, '--out', join(dir, 'imported')]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).toContain(path);
    expect(printed(result.stderr), result.stderr).toBe(false);
  });

  it('rigor import hyperfine of two commands that read alike once joined: two cells, their ids printed without control characters', () => {
    const path = join(dir, 'import-alike.json');
    writeFileSync(path, JSON.stringify({ results: [{ command: 'a,b=c\u001b[2J', times: [0.1], exit_codes: [0] }, { command: 'a', parameters: { b: 'c\u001b[2J' }, times: [0.1], exit_codes: [0] }] }));
    const result = rigor(['import', 'hyperfine', path, '--out', join(dir, 'imported')]);
    expect(result.code, result.stderr).toBe(0);
    expect(printed(result.stdout)).toBe(false);
    expect(result.stdout).toContain('  command="a,b=c\\u001b[2J": 1 runs');
    expect(result.stdout).toContain('  command=a,b="c\\u001b[2J": 1 runs');
  });
});
