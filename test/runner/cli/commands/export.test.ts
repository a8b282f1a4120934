import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../../../runner/cli/commands/export.ts';
import { importCommand } from '../../../../runner/cli/commands/import.ts';
import { InputError } from '../../../../base/errors.ts';
import { buildArtifact, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { callCommand } from '../../../helpers/call-command.ts';
import { rigor } from '../../../helpers/cli.ts';

const METRICS = {
  wall_ms: { unit: 'ms', better: 'lower' as const, clock: 'fork requested -> child reaped' },
  rss_mib: { unit: 'MiB', better: 'lower' as const, clock: 'child started -> child reaped (maxrss)' },
};

describe('rigor export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-export-'));
  const path = writeArtifactFile(dir, buildArtifact({ rig: 'startup', metrics: METRICS, cells: [{ params: { program: 'true' }, samples: { wall_ms: [1, 2, 3], rss_mib: [4, 4, 4] } }] }));

  it('writes hyperfine JSON to stdout, with a note on stderr for each metric that is not a time, and for CPU times it has none of', async () => {
    const { code, stdout, stderr } = await callCommand(exportCommand, { artifact: path, format: 'hyperfine' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).results).toMatchObject([{ command: 'startup/program=true', median: 0.002, times: [0.001, 0.002, 0.003], user: null, system: null }]);
    expect(stderr.split('\n')).toEqual([
      `rigor export: ${path}: skipped metric rss_mib: unit MiB is not a time (hyperfine exports hold s, ms, us, µs, ns as seconds)`,
      `rigor export: ${path}: user: null where a cell has no user_ms samples (declare user_ms in the rig: the command workload records the child's user CPU time per run)`,
      `rigor export: ${path}: system: null where a cell has no sys_ms samples (declare sys_ms in the rig: the command workload records the child's system CPU time per run)`,
      '',
    ]);
  });

  it('writes BMF to --out, every metric included', async () => {
    const out = join(dir, 'bmf.json');
    const { stdout } = await callCommand(exportCommand, { artifact: path, format: 'bmf', out });
    expect(stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      'startup/program=true': { wall_ms: { value: 2, lower_value: expect.any(Number), upper_value: expect.any(Number) }, rss_mib: { value: 4, lower_value: 4, upper_value: 4 } },
    });
  });

  it('never writes over the artifact it exports (before: --out <the artifact> replaced it with BMF)', async () => {
    const before = readFileSync(path, 'utf8');
    await expect(callCommand(exportCommand, { artifact: path, format: 'bmf', out: path, force: true })).rejects.toThrow(
      new InputError(`--out: ${path} is the artifact being exported (${path}); artifacts are never overwritten, name another file`),
    );
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('replaces an existing file only with --force, atomically, and refuses a folder with a clear error', async () => {
    const out = join(dir, 'existing.json');
    writeFileSync(out, 'keep me\n');
    await expect(callCommand(exportCommand, { artifact: path, format: 'bmf', out })).rejects.toThrow(
      new InputError(`--out: ${out} exists; expected a new file, or --force to replace it`),
    );
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    await callCommand(exportCommand, { artifact: path, format: 'bmf', out, force: true });
    expect(Object.keys(JSON.parse(readFileSync(out, 'utf8')))).toEqual(['startup/program=true']);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const folder = rigor(['export', path, '--format', 'bmf', '--out', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(`rigor: --out: expected a file to write, found a folder at ${dir}; name a file in it\n`);
  });

  it('refuses a missing artifact and an unknown format (exit 2)', async () => {
    await expect(callCommand(exportCommand, { artifact: join(dir, 'none.json'), format: 'bmf' })).rejects.toThrow(InputError);
    const result = rigor(['export', path, '--format', 'csv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/format/);
  });
});

describe('rigor import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-import-'));
  it('refuses a name that cannot be a file name, and an unreadable file', async () => {
    await expect(callCommand(importCommand, { format: 'hyperfine', file: 'x.json', name: 'Bad Name' })).rejects.toThrow('--name: expected a lower-case name of letters, digits, - and _, found "Bad Name"');
    await expect(callCommand(importCommand, { format: 'hyperfine', file: join(tmpdir(), 'no-such-hyperfine.json'), name: 'x' })).rejects.toThrow(/no-such-hyperfine\.json: cannot read: expected a readable hyperfine export, found ENOENT/);
  });

  it('refuses --rig with --name, --set without --rig, and a rig that does not exist', async () => {
    await expect(callCommand(importCommand, { format: 'hyperfine', file: 'x.json', rig: 'startup', name: 'x' })).rejects.toThrow(
      '--rig and --name: expected one of them (--rig maps onto a rig and files under its name), found both',
    );
    await expect(callCommand(importCommand, { format: 'hyperfine', file: 'x.json', set: ['cache=warm'] })).rejects.toThrow('--set: narrows the cells of --rig, found no --rig');
    const hyperfine = join(dir, 'one.json');
    writeFileSync(hyperfine, JSON.stringify({ results: [{ command: 'true', times: [0.001], user: 0, system: 0, exit_codes: [0] }] }));
    await expect(callCommand(importCommand, { format: 'hyperfine', file: hyperfine, rig: 'startp' })).rejects.toThrow(/no rig named "startp" \(looked for rigs\/startp\.rig\.yaml\) \(did you mean "startup"\?\)/);
  });
});

describe.each(['history', 'export', 'import'])('rigor %s --help', (verb) => {
  it('shows its usage and an example', () => {
    const result = rigor([verb, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`rigor ${verb}`);
    expect(result.stdout).toMatch(/Examples:/);
  });
});
