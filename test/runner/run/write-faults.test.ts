/**
 * Faults while a run writes its artifact, through the real CLI: a read-only
 * results folder or an --out that is a file is refused before anything is
 * measured; a disk that fills up during the write is a clear error, exit
 * non-zero, no partial file and no temp file, and the measured samples land
 * in a recovery file ($XDG_STATE_HOME/rigor/recovery/<rig>/), or on stdout
 * when that cannot be written either. Real tmpfs mounts: needs root.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../../runner/artifact/read.ts';
import { rigor } from '../../helpers/cli.ts';
import { mountTmpfs, type SmallMount } from '../../helpers/small-mounts.ts';

const project = mkdtempSync(join(tmpdir(), 'rigor-write-faults-'));
const marker = join(project, 'measured');
// Each sample appends a line to `measured`: a refused run must leave no such file.
const RIG = `name: gz
title: A command rig that leaves a trace of every sample
claim: A wrong destination costs no measurement.
workload: command
params:
  run: [sh, -c, "echo x >> ${marker}"]
matrix:
  level: [1]
sampling: { warmup: 0, iterations: 30 }
metrics:
  time_ms: { unit: ms, better: lower, clock: "spawn() called -> child exited" }
`;
mkdirSync(join(project, 'rigs'));
writeFileSync(join(project, 'rigs', 'gz.rig.yaml'), RIG);
afterAll(() => rmSync(project, { recursive: true, force: true }));

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => rigor(['run', 'gz', '--quiet', '--no-strict', ...args], { cwd: project, env });

describe.skipIf(process.getuid?.() !== 0)('rigor run: faults while writing (real tmpfs mounts)', () => {
  let readOnly: SmallMount;
  let full: SmallMount;
  beforeAll(() => {
    readOnly = mountTmpfs(64, { readOnly: true });
    // 60 KiB of 64 taken: the empty probe file fits, a ~10 kB artifact does not.
    full = mountTmpfs(64, { fill: (path) => writeFileSync(join(path, 'filler'), Buffer.alloc(60 * 1024)) });
  });
  afterAll(() => {
    readOnly?.remove();
    full?.remove();
  });

  it('refuses a read-only results folder before measuring anything', () => {
    const out = join(readOnly.path, 'results', 'gz');
    const result = run(['--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`rigor: ${out}: cannot write artifacts there (checked in ${readOnly.path}, which would hold it): a read-only file system (EROFS)\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses an --out that is a file before measuring anything', () => {
    writeFileSync(join(project, 'out.json'), '{}');
    const result = run(['--out', 'out.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('rigor: out.json: cannot write artifacts there: it is a file, not a folder\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('a disk that fills during the write: exit 2, nothing partial left, the samples in a recovery file that validates', () => {
    const state = mkdtempSync(join(tmpdir(), 'rigor-state-'));
    try {
      const result = run(['--out', full.path], { XDG_STATE_HOME: state });
      expect(result.code).toBe(2);
      expect(readdirSync(full.path)).toEqual(['filler']);
      const dir = join(state, 'rigor', 'recovery', 'gz');
      const [name] = readdirSync(dir);
      const recovered = join(dir, name!);
      expect(result.stderr).toBe(
        `rigor: ${join(full.path, name!)}: cannot write: no space left on the device (ENOSPC); the artifact was not written, and the measured samples are saved in ${recovered}; ` +
          `check it with \`rigor validate ${recovered}\`, then move it into results/gz/ (mv ${recovered} results/gz/)\n`,
      );
      const artifact = readArtifact(recovered);
      expect(artifact.cells[0]!.metrics.time_ms!.samples).toHaveLength(30);
      expect(readFileSync(marker, 'utf8').split('\n').filter(Boolean)).toHaveLength(30);
    } finally {
      rmSync(state, { recursive: true, force: true });
      rmSync(marker, { force: true });
    }
  });

  it('when the recovery file cannot be written either, the artifact is printed on stdout', () => {
    const result = run(['--out', full.path], { XDG_STATE_HOME: readOnly.path });
    expect(result.code).toBe(2);
    expect(readdirSync(full.path)).toEqual(['filler']);
    expect(result.stderr).toContain('the recovery file could not be written either');
    expect(result.stderr).toContain('a read-only file system (EROFS)); the artifact was printed on stdout');
    const printed = JSON.parse(result.stdout);
    expect(printed.rig.name).toBe('gz');
    expect(printed.cells[0].metrics.time_ms.samples).toHaveLength(30);
    rmSync(marker, { force: true });
  });
});
