/** Mapping hyperfine's results onto a rig's cells by the command each runs. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import type { HyperfineInput } from '../../../runner/export/hyperfine-format.ts';
import { commandCells, commandWords, mapOntoCells, wallMetric } from '../../../runner/export/onto-rig.ts';
import { shellQuote } from '../../../base/shell-quote.ts';
import { parseRig } from '../../../runner/rig/load.ts';

const RIG = `name: gzip
title: gzip levels
claim: Higher levels cost more time.
workload: command
params:
  run: "gzip -{level} -c big.txt"
matrix:
  tool: [gzip, zstd]
  level: [1, 9]
  exclude:
    - { tool: zstd, level: 9 }
  include:
    - { tool: zstd, run: [zstd, "-3", -c, big file.txt] }
    - { tool: stats, workload: stats.summarize }
metrics:
  user_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped (rusage user)" }
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`;

const rig = parseRig(RIG, 'rigs/gzip.rig.yaml').rig;
const result = (command: string): HyperfineInput => ({ command, times: [0.01], user: 0.009, system: 0.001, exit_codes: [0], parameters: {} });

describe('commandWords', () => {
  it.each([
    ['gzip -1 -c big.txt', ['gzip', '-1', '-c', 'big.txt']],
    ['  sh   -c  ":" ', ['sh', '-c', ':']],
    [`zstd -3 -c 'big file.txt'`, ['zstd', '-3', '-c', 'big file.txt']],
    [`echo "a \\"b\\" \\$c" it\\'s ''`, ['echo', 'a "b" $c', "it's", '']],
  ])('reads %j as hyperfine -N splits it', (command, words) => {
    expect(commandWords(command)).toEqual(words);
  });

  it('is null for an open quote', () => expect(commandWords(`echo 'oops`)).toBeNull());

  it('reads back what shellQuote (the harness quoting for hyperfine -N) writes', () => {
    const argv = ['printf', '%s\\n', "it's", 'a b', '', '$HOME'];
    expect(commandWords(shellQuote(argv))).toEqual(argv);
    expect(shellQuote(['gzip', '-9', '-c', 'big.txt'])).toBe('gzip -9 -c big.txt');
  });
});

describe('commandCells', () => {
  it("gives each command cell with its run substituted, and leaves out another workload's", () => {
    expect(commandCells(rig)).toEqual([
      { id: 'tool=gzip,level=1', params: { tool: 'gzip', level: 1 }, run: 'gzip -1 -c big.txt' },
      { id: 'tool=gzip,level=9', params: { tool: 'gzip', level: 9 }, run: 'gzip -9 -c big.txt' },
      { id: 'tool=zstd,level=1', params: { tool: 'zstd', level: 1, run: ['zstd', '-3', '-c', 'big file.txt'] }, run: ['zstd', '-3', '-c', 'big file.txt'] },
    ]);
  });
});

describe('mapOntoCells', () => {
  const cells = commandCells(rig);
  const map = (commands: string[]) => mapOntoCells(commands.map(result), cells, 'bench.json', 'rigs/gzip.rig.yaml');

  it("gives each result the cell that runs its command: a shell string as written, an argv by hyperfine's words", () => {
    const mapped = map(['gzip -9 -c big.txt', `zstd -3 -c 'big file.txt'`, 'gzip  -1 -c big.txt']);
    expect(mapped.map(({ cell, result }) => [cell.id, result.command])).toEqual([
      ['tool=gzip,level=9', 'gzip -9 -c big.txt'],
      ['tool=zstd,level=1', `zstd -3 -c 'big file.txt'`],
      ['tool=gzip,level=1', 'gzip  -1 -c big.txt'],
    ]);
  });

  it("refuses a command no cell runs, naming the file, the result and the rig's commands", () => {
    expect(() => map(['gzip -1 -c big.txt', 'gzip -6 -c big.txt'])).toThrow(InputError);
    expect(() => map(['gzip -1 -c big.txt', 'gzip -6 -c big.txt'])).toThrow(
      `bench.json: results[1].command "gzip -6 -c big.txt": expected the command of a cell of rigs/gzip.rig.yaml, found none that runs it; its cells run:\n` +
        `  tool=gzip,level=1: "gzip -1 -c big.txt"\n  tool=gzip,level=9: "gzip -9 -c big.txt"\n  tool=zstd,level=1: "zstd -3 -c 'big file.txt'"`,
    );
  });

  it('refuses two results for one cell, and a command two cells run (pick one with --set)', () => {
    expect(() => map(['gzip -1 -c big.txt', 'gzip -1 -c big.txt'])).toThrow('bench.json: results[1].command "gzip -1 -c big.txt": the cell tool=gzip,level=1 of rigs/gzip.rig.yaml already has results[0]; one result per cell');
    const twice = [
      { id: 'level=1,cache=warm', params: { level: 1, cache: 'warm' }, run: 'gzip -1 -c big.txt' },
      { id: 'level=1,cache=dropped', params: { level: 1, cache: 'dropped' }, run: 'gzip -1 -c big.txt' },
    ];
    expect(() => mapOntoCells([result('gzip -1 -c big.txt')], twice, 'bench.json', 'rigs/gzip.rig.yaml')).toThrow(
      'bench.json: results[0].command "gzip -1 -c big.txt": 2 cells of rigs/gzip.rig.yaml run it (level=1,cache=warm; level=1,cache=dropped); pick one with --set, e.g. --set cache=warm',
    );
  });

  it('refuses a rig without command cells', () => {
    expect(() => mapOntoCells([result('true')], [], 'bench.json', 'rigs/x.rig.yaml')).toThrow("rigs/x.rig.yaml: no cell of this rig runs a command (workload command) for bench.json's results to map onto");
  });
});

describe('wallMetric', () => {
  it('is the first time metric that is not CPU time, as the command workload picks it', () => {
    expect(wallMetric(rig, 'rigs/gzip.rig.yaml')[0]).toBe('wall_ms');
  });

  it('refuses a rig with no time metric to hold the times', () => {
    const bytes = parseRig(RIG.replace(/ {2}user_ms.*\n {2}wall_ms.*\n/, '  out_bytes: { unit: bytes, better: lower, clock: "run -> exit" }\n'), 'rigs/gzip.rig.yaml').rig;
    expect(() => wallMetric(bytes, 'rigs/gzip.rig.yaml')).toThrow("rigs/gzip.rig.yaml: metrics: expected a time metric (unit s, ms, us, µs, ns) to hold hyperfine's times, found out_bytes");
  });
});
