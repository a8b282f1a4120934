/**
 * Fuzzing the rig loader (parseRig: YAML, the schema's problems, the semantic
 * checks; and --set parsing): 10,500 generated rigs and --set values from the
 * committed rigs and fixtures, mutated as text and as data, and raw garbage.
 * Properties: a rig loads or is refused with a RigError (an InputError) whose
 * every problem names the file, a field, what was expected and what was found;
 * nothing else escapes; no message carries a control character. Seeds are
 * fixed so a failure reproduces; the cases it found are the regressions below.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { hasUnprintable } from '../../../base/printable.ts';
import { RigError } from '../../../runner/rig/errors.ts';
import { MAX_RIG_BYTES, parseRig } from '../../../runner/rig/load.ts';
import { applyOverrides } from '../../../runner/rig/overrides.ts';
import { isBatchedWorkload, workloadChecks } from '../../../runner/workloads/index.ts';
import { garbageText, mutatedData, mutatedText, TRICKY_TOKENS } from '../../helpers/fuzz.ts';
import { REPO } from '../../helpers/cli.ts';

const OPTS = { ...workloadChecks, batched: isBatchedWorkload };
const FILE = 'fuzz/case.rig.yaml';
/** The path a rig of this name must have (its name is its file's); FILE when it has none. */
const fileFor = (text: string) => `fuzz/${/^name: ([a-z0-9_-]+)$/m.exec(text)?.[1] ?? 'case'}.rig.yaml`;

/** Rigs under 3 kB: a large matrix takes 10–40 ms a load, and 10,000 of them would take minutes; the mutations are the same. */
const rigFiles = (dir: string) =>
  readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith('.rig.yaml'))
    .map((f) => readFileSync(join(REPO, dir, f), 'utf8'))
    .filter((text) => text.length < 3000);
const SEEDS = [...rigFiles('rigs'), ...rigFiles('test/fixtures/rigs/good'), ...rigFiles('test/fixtures/rigs/bad')];
const DATA_SEEDS = [...rigFiles('rigs'), ...rigFiles('test/fixtures/rigs/good')].map((text) => parseYaml(text) as unknown);

/** Loads, or a RigError whose every problem is complete; returns what happened for the counts. */
function loadOrRefuse(text: string): 'loaded' | 'refused' {
  const file = fileFor(text);
  try {
    parseRig(text, file, OPTS);
    return 'loaded';
  } catch (error) {
    if (!(error instanceof RigError)) throw new Error(`not a RigError: ${String(error)}\n--- input ---\n${JSON.stringify(text)}`);
    // plain checks, not expect(): ten thousand cases of many problems each made expect() the cost
    const incomplete = error.problems.find((p) => p.file !== file || !p.field || !p.expected || typeof p.found !== 'string');
    if (error.problems.length === 0 || incomplete) throw new Error(`a problem without file, field, expected or found: ${JSON.stringify(incomplete)}`);
    if (hasUnprintable(error.message.replaceAll('\n', ' '))) throw new Error(`a control character in: ${JSON.stringify(error.message)}`);
    return 'refused';
  }
}

describe('fuzzing the rig loader', () => {
  const counts = { loaded: 0, refused: 0 };

  it('text mutations of the committed rigs and fixtures: 4,000 cases (seed 16001)', () => {
    fc.assert(fc.property(mutatedText(SEEDS), (text) => void counts[loadOrRefuse(text)]++), { seed: 16001, numRuns: 4000 });
  });

  it('data mutations (a value replaced, removed, renamed, retyped) written back as YAML: 2,500 cases (seed 16002)', () => {
    fc.assert(fc.property(mutatedData(DATA_SEEDS), (data) => void counts[loadOrRefuse(stringify(data))]++), { seed: 16002, numRuns: 2500 });
  });

  it('raw garbage, and hostile tokens at the top: 2,500 cases (seed 16003)', () => {
    fc.assert(fc.property(garbageText, (text) => void counts[loadOrRefuse(text)]++), { seed: 16003, numRuns: 2500 });
    // some mutations must still load, or the generators only ever test the refusal path
    expect(counts.loaded).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(1000);
  });

  it('--set key=value on a valid rig: 1,500 cases (seed 16004); applied, or an InputError that starts with the --set given', () => {
    const { rig } = parseRig(readFileSync(join(REPO, 'test/fixtures/rigs/good/command-compare.rig.yaml'), 'utf8'), 'command-compare.rig.yaml', OPTS);
    const key = fc.oneof(fc.constantFrom('program', 'params.command', 'params.a.b', 'sampling.iterations', 'sampling.max_iterations', 'sampling.warmup', 'sampling.nope', 'nope', ''), fc.string({ maxLength: 10 }));
    const value = fc.oneof(fc.constantFrom(...TRICKY_TOKENS), garbageText, fc.constantFrom('[a, b]', '[]', '{}', '5', '-1', '0', '1e309', '[[[[[[[[', '&a [*a]'));
    fc.assert(
      fc.property(fc.oneof(fc.tuple(key, value).map(([k, v]) => `${k}=${v}`), garbageText), (set) => {
        try {
          applyOverrides(rig, [set]);
        } catch (error) {
          if (!(error instanceof InputError)) throw new Error(`not an InputError: ${String(error)} for --set ${JSON.stringify(set)}`);
          expect(error.message.startsWith(`--set ${set.split('\n')[0]}`) || error.message.startsWith('--set ')).toBe(true);
        }
      }),
      { seed: 16004, numRuns: 1500 },
    );
  });
});

describe('cases the fuzzing found', () => {
  it('!!binary where a mapping is expected (seed 16001): a TypeError from describeFound, then a problem for each of a Buffer\'s methods; now refused as what it is', () => {
    const text = [
      'name: case',
      'title: A broken rig',
      'claim: Shows one mistake and the problem it gives.',
      'workload: command',
      'params: { run: "true" }',
      'metrics:',
      '  wall_ms: { unit: ms, better: lower, clock: "spawn() called -> child exited" }',
      'published:',
      '  - { publisher: someone, host: a laptop, measures: "true", metric: wall_ms, value: "about 1", unit: ms, where: !!binary  }',
    ].join('\n');
    expect(() => parseRig(text, FILE, OPTS)).toThrow(RigError);
    expect(() => parseRig(text, FILE, OPTS)).toThrow(
      /^fuzz\/case\.rig\.yaml:9:\d+: \(yaml\): expected plain data \(strings, numbers, booleans, null, lists and mappings\), found a tag:yaml\.org,2002:binary value$/,
    );
    expect(() => parseRig(text.replace('!!binary', '2001-12-14'), FILE, OPTS)).not.toThrow(/timestamp/); // a date stays a string in YAML 1.2
    expect(() => parseRig(`%YAML 1.1\n---\n${text.replace('!!binary', '!!set { a }')}`, FILE, OPTS)).toThrow(/found a tag:yaml\.org,2002:set collection$/);
  });
});

describe('inputs built to exhaust the YAML parser, refused with a problem', () => {
  const refusal = (text: string) => {
    try {
      parseRig(text, FILE, OPTS);
    } catch (error) {
      expect(error).toBeInstanceOf(RigError);
      return (error as RigError).message;
    }
    throw new Error('loaded');
  };

  it('aliases that expand exponentially ("billion laughs"): a regression, it ended in the yaml library\'s ReferenceError and a stack trace', () => {
    const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(', ')}]`);
    expect(refusal(lines.join('\n'))).toMatch(/^fuzz\/case\.rig\.yaml:10:\d+: \(yaml\): expected aliases that add at most 100000 nodes when expanded, found more/);
  });

  it('an alias inside its own anchor (a cycle) and nesting through aliases', () => {
    expect(refusal('name: &a [*a]')).toMatch(/expected lists and mappings nested at most 64 deep with aliases followed/);
    const chain = ['a0: &a0 [[[[[[[[[[x]]]]]]]]]]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [[[[[[[[[[*a${i}]]]]]]]]]]`)];
    expect(refusal(chain.join('\n'))).toMatch(/nested at most 64 deep with aliases followed/);
  });

  it.each([
    ['flow lists 100,000 deep (twice in one process: the second aborted Node inside V8\'s regexp compiler)', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['flow lists 100,000 deep, again', '['.repeat(100_000)],
    ['flow mappings 10,000 deep', '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000)],
    ['block mappings 500 deep', Array.from({ length: 500 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')],
    ['compact lists 50,000 deep on one line', `${'- '.repeat(50_000)}x`],
  ])('%s', (_, text) => {
    expect(refusal(text)).toMatch(/^fuzz\/case\.rig\.yaml:\d+:\d+: \(yaml\): expected lists and mappings nested at most 64 deep, found deeper nesting \(refused before parsing\)$/);
  });

  it('a mapping of 20,000 keys (the library checks each against every other: it took minutes)', () => {
    expect(refusal(Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`).join('\n'))).toMatch(/^fuzz\/case\.rig\.yaml:1:1: \(yaml\): expected a mapping of at most 1000 keys, found 20000 keys$/);
  });

  it('a file over the size limit, refused by its size before parsing', () => {
    expect(refusal(`name: ${'a'.repeat(MAX_RIG_BYTES)}`)).toBe(`fuzz/case.rig.yaml: (file): expected a rig file of at most 256 kB, found 256 kB (${MAX_RIG_BYTES + 6} bytes)`);
  });

  it('many schema errors are counted past 100, not each placed', () => {
    const message = refusal(Array.from({ length: 900 }, (_, i) => `k${i}: 1`).join('\n'));
    expect(message).toMatch(/\(file\): expected at most 100 schema errors listed, found \d+ \(the rest not shown\)$/);
  });
});
