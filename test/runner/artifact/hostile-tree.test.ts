/**
 * A hostile results tree, end to end through the real CLI: a corrupt artifact,
 * a truncated one, a link to a secret, a FIFO named x.json, a directory named
 * y.json, a dangling link, an artifact whose rig.name climbs out of the site,
 * a rig file and a results folder linked to secrets — beside two good runs.
 * `site`, `history`, `compare` and `gate` each name every bad entry and
 * succeed with the good ones; the site holds no secret byte and nothing
 * outside its output folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';
import { rigor } from '../../helpers/cli.ts';

const SECRET = 'TOPSECRET-7f3a9c: root:$y$j9T$hash:19000:0:99999:7:::\n';

const root = mkdtempSync(join(tmpdir(), 'rigor-hostile-'));
const escapeTarget = join(tmpdir(), `rigor-hostile-escape-${process.pid}`);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(`${escapeTarget}.html`, { force: true });
});

const results = join(root, 'results');
const rigDir = join(results, 'startup');
mkdirSync(rigDir, { recursive: true });
mkdirSync(join(root, 'rigs'));
const secret = join(root, 'secret.txt');
writeFileSync(secret, SECRET);
const run = (median: number, seed: number, startedAt: string, rig = 'startup') =>
  buildArtifact({ rig, startedAt, cells: [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(20, median, 0.02, seed) } }] });
const good1 = '20250101T000000Z_abcdef0_test-host.json';
const good2 = '20250102T000000Z_abcdef0_test-host.json';
writeFileSync(join(rigDir, good1), JSON.stringify(run(10, 1, '2025-01-01T00:00:00.000Z')));
writeFileSync(join(rigDir, good2), JSON.stringify(run(10, 2, '2025-01-02T00:00:00.000Z')));
writeFileSync(join(rigDir, '20250103T000000Z_corrupt.json'), '{"schema": "urn:rigor:artifact:v2", oops}');
writeFileSync(join(rigDir, '20250104T000000Z_truncated.json'), JSON.stringify(run(10, 3, '2025-01-04T00:00:00.000Z')).slice(0, 500));
symlinkSync(secret, join(rigDir, '20250105T000000Z_secret.json'));
symlinkSync(join(root, 'nowhere'), join(rigDir, '20250106T000000Z_dangling.json'));
execFileSync('mkfifo', [join(rigDir, 'x.json')]);
mkdirSync(join(rigDir, 'y.json'));
// rig.name used in page paths: it once created /tmp/x.html.
const climbing = run(10, 4, '2025-01-07T00:00:00.000Z');
climbing.rig.name = `../../../../../../../..${escapeTarget}`;
writeFileSync(join(rigDir, '20250107T000000Z_climbing.json'), JSON.stringify(climbing));
// A results folder linked elsewhere, and a rig file linked to the secret.
mkdirSync(join(root, 'elsewhere'));
writeFileSync(join(root, 'elsewhere', 'leak.json'), SECRET);
symlinkSync(join(root, 'elsewhere'), join(results, 'linked'));
symlinkSync(secret, join(root, 'rigs', 'leak.rig.yaml'));

const BAD = ['20250103T000000Z_corrupt.json', '20250104T000000Z_truncated.json', '20250105T000000Z_secret.json', '20250106T000000Z_dangling.json', 'x.json', 'y.json', '20250107T000000Z_climbing.json'];

const cli = (args: string[]) => rigor(args, { cwd: root, env: { CI: '' } });

/** Every file under dir, with its real path. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

function expectEveryBadOneNamed(stderr: string): void {
  for (const name of BAD) expect(stderr).toContain(`startup/${name}`);
  expect(stderr).not.toContain('TOPSECRET');
  expect(stderr).not.toMatch(/\n\s+at .*\(.*\.ts:\d+/); // no stack trace
}

describe('a hostile results tree', () => {
  it('rigor site names every bad entry, publishes the good runs, and writes no secret byte and nothing outside dist', () => {
    const result = cli(['site', '--results', 'results', '--rigs', 'rigs', '--out', 'dist']);
    expect(result.code).toBe(0);
    expectEveryBadOneNamed(result.stderr);
    expect(result.stderr).toContain('rigs/leak.rig.yaml left out: a symbolic link');
    expect(result.stderr).toContain('results/linked left out: a symbolic link');
    const dist = realpathSync(join(root, 'dist'));
    const files = walk(dist);
    expect(files.map((f) => f.slice(dist.length + 1))).toEqual(expect.arrayContaining([`results/startup/${good1}`, `results/startup/${good2}`]));
    for (const file of files) {
      expect(realpathSync(file).startsWith(`${dist}/`)).toBe(true);
      expect(readFileSync(file, 'utf8')).not.toContain('TOPSECRET');
    }
    expect(files.some((f) => f.includes('linked') || f.includes('leak'))).toBe(false);
    expect(existsSync(`${escapeTarget}.html`)).toBe(false);
    expect(readdirSync(root).sort()).toEqual(['dist', 'elsewhere', 'results', 'rigs', 'secret.txt']);
  });

  it('rigor history names every bad entry and shows the good runs', () => {
    const result = cli(['history', 'startup', '--json']);
    expect(result.code).toBe(0);
    expectEveryBadOneNamed(result.stderr);
    const history = JSON.parse(result.stdout);
    expect(history.series[0].points).toHaveLength(2);
  });

  it('rigor compare and gate of the rig by name name every bad entry and use the good runs', () => {
    const compare = cli(['compare', 'startup', 'startup', '--json']);
    expect(compare.code).toBe(0);
    expectEveryBadOneNamed(compare.stderr);
    expect(JSON.parse(compare.stdout)).toMatchObject({ a: { label: `results/startup/${good1}` }, b: { label: `results/startup/${good2}` } });
    const gate = cli(['gate', 'startup', '--baseline', 'startup', '--json']);
    expect(gate.code).toBe(0);
    expectEveryBadOneNamed(gate.stderr);
    expect(JSON.parse(gate.stdout)).toMatchObject({ candidate: `results/startup/${good2}`, baseline: `results/startup/${good1}` });
  });

  it('a bad file named on the command line fails the command with the clear error, and the FIFO never hangs it', () => {
    const corrupt = cli(['gate', `results/startup/${BAD[0]}`]);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toBe(`rigor: results/startup/${BAD[0]}: not valid JSON at byte 36 of 41 (unexpected byte 0x6f)\n`);
    const linked = cli(['compare', `results/startup/${BAD[2]}`, `results/startup/${good1}`]);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toBe(`rigor: results/startup/${BAD[2]}: not valid JSON at byte 0 of ${SECRET.length} (unexpected byte 0x54)\n`);
    const fifo = cli(['validate', 'results/startup/x.json']);
    expect(fifo.code).toBe(1);
    expect(fifo.stdout).toBe('INVALID  results/startup/x.json: cannot read artifact: expected an artifact (a regular file), found a FIFO\n');
  });
});
