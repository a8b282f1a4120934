/**
 * The checked artifact reader: a FIFO never hangs it, a link in a results
 * tree is not followed, a parse error gives the byte and never the text, and
 * a results folder comes back ordered by run start with every unreadable
 * entry reported and skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { byArtifactAge, parseJsonFile, readArtifact, readRigResults } from '../../../runner/artifact/read.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rigor-read-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'root:$y$j9T$TOPSECRETHASH:19000:0:99999:7:::\n';
const artifactOf = (startedAt: string, rig = 'startup') =>
  buildArtifact({ rig, startedAt, cells: [{ params: { program: 'sh' }, samples: { time_ms: lognormalSamples(5, 1, 0.1, 1) } }] });
const put = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected a throw');
};

describe('readArtifact', () => {
  it('says where a file stops being JSON without quoting it (a link to /etc/shadow leaked its first bytes through the parse error)', () => {
    const path = put('x.json', SECRET);
    const message = messageOf(() => readArtifact(path));
    expect(message).toBe(`${path}: not valid JSON at byte 0 of ${SECRET.length} (unexpected byte 0x72)`);
    expect(message).not.toContain('root');
  });

  it('says where a truncated artifact ends', () => {
    const text = JSON.stringify(artifactOf('2026-01-01T00:00:00.000Z'), null, 1);
    const path = put('cut.json', text.slice(0, 1000));
    expect(messageOf(() => readArtifact(path))).toBe(`${path}: not valid JSON at byte 1000 of 1000 (unexpected end of input)`);
  });

  it('never quotes the text, whatever it is (fast-check, 10,000 byte strings, seed 1603)', () => {
    const shape = /^f\.json: not valid JSON( at byte \d+ of \d+ \((unexpected end of input|unexpected byte 0x[0-9a-f]{2})\))?$/;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          parseJsonFile('f.json', Buffer.from(bytes));
          return true;
        } catch (error) {
          return error instanceof InputError && shape.test(error.message);
        }
      }),
      { seed: 1603, numRuns: 10_000 },
    );
  });

  it('refuses a FIFO without waiting for a writer, and a directory, naming what it is', () => {
    const fifo = join(dir, 'x.json');
    execFileSync('mkfifo', [fifo]);
    expect(messageOf(() => readArtifact(fifo))).toBe(`${fifo}: cannot read artifact: expected an artifact (a regular file), found a FIFO`);
    mkdirSync(join(dir, 'y.json'));
    expect(messageOf(() => readArtifact(join(dir, 'y.json')))).toBe(`${join(dir, 'y.json')}: cannot read artifact: expected an artifact (a regular file), found a directory`);
  });

  it('with noFollow refuses a link, and follows one otherwise (a file the user named)', () => {
    const target = put('real.json', artifactOf('2026-01-01T00:00:00.000Z'));
    symlinkSync(target, join(dir, 'link.json'));
    expect(messageOf(() => readArtifact(join(dir, 'link.json'), { noFollow: true }))).toBe(`${join(dir, 'link.json')}: a symbolic link; links in a results tree are not followed`);
    expect(readArtifact(join(dir, 'link.json')).rig.name).toBe('startup');
  });

  it('refuses a rig.name that is not a safe name (it becomes folder and page names)', () => {
    const a = artifactOf('2026-01-01T00:00:00.000Z');
    a.rig.name = '../../../tmp/x';
    const path = put('a.json', a);
    expect(messageOf(() => readArtifact(path))).toBe(`${path}: not a valid rigor artifact:\n  at /rig/name: expected a lower-case name of letters, digits, - and _; found "../../../tmp/x"`);
  });
});

describe('readRigResults', () => {
  it('orders runs by run.started_at, not by file name: two runs in one second, the later one in the -1 file is not newest when it started first', () => {
    // Run A started first but took longer, so it was written second and took the -1 name.
    put('20260101T000000Z_abc1234_h-1.json', artifactOf('2026-01-01T00:00:00.100Z'));
    put('20260101T000000Z_abc1234_h.json', artifactOf('2026-01-01T00:00:00.600Z'));
    put('20251231T235959Z_abc1234_h.json', artifactOf('2025-12-31T23:59:59.000Z'));
    const { artifacts, problems } = readRigResults(dir, 'startup');
    expect(problems).toEqual([]);
    expect(artifacts.map((a) => a.artifact.run.started_at)).toEqual(['2025-12-31T23:59:59.000Z', '2026-01-01T00:00:00.100Z', '2026-01-01T00:00:00.600Z']);
  });

  it('reports each entry that is not a readable artifact of the rig, and reads the others', () => {
    const good = put('20260101T000000Z_abc1234_h.json', artifactOf('2026-01-01T00:00:00.000Z'));
    put('corrupt.json', '{"schema": nonsense');
    put('truncated.json', JSON.stringify(artifactOf('2026-01-02T00:00:00.000Z')).slice(0, 300));
    put('other-rig.json', artifactOf('2026-01-03T00:00:00.000Z', 'lifecycle'));
    put('with space.json', artifactOf('2026-01-04T00:00:00.000Z'));
    put('new\nline.json', artifactOf('2026-01-04T00:00:00.000Z'));
    const secret = put('secret.txt', SECRET);
    symlinkSync(secret, join(dir, 'link.json'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.json'));
    execFileSync('mkfifo', [join(dir, 'fifo.json')]);
    mkdirSync(join(dir, 'folder.json'));
    const { artifacts, problems } = readRigResults(dir, 'startup');
    expect(artifacts.map((a) => a.path)).toEqual([good]);
    const byName = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byName).toEqual({
      [join(dir, 'corrupt.json')]: 'not valid JSON at byte 12 of 19 (unexpected byte 0x6f)',
      [join(dir, 'truncated.json')]: 'not valid JSON at byte 300 of 300 (unexpected end of input)',
      [join(dir, 'other-rig.json')]: 'rig.name is "lifecycle", expected "startup" (the folder it is in); not read',
      [JSON.stringify(join(dir, 'with space.json'))]: expect.stringContaining('file name has characters other than letters, digits'),
      [JSON.stringify(join(dir, 'new\nline.json'))]: expect.stringContaining('a space, #, ? or a control character'),
      [join(dir, 'link.json')]: 'a symbolic link; links in a results tree are not followed',
      [join(dir, 'dangling.json')]: 'a symbolic link; links in a results tree are not followed',
      [join(dir, 'fifo.json')]: 'a FIFO named like an artifact; not opened',
      [join(dir, 'folder.json')]: 'a directory named like an artifact; not opened',
    });
    expect(JSON.stringify(problems)).not.toContain('TOPSECRET');
    expect(readdirSync(dir)).toHaveLength(11);
  });

  it('a results folder that is a link is one problem, and nothing in it is read', () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    put('real/a.json', artifactOf('2026-01-01T00:00:00.000Z'));
    symlinkSync(real, join(dir, 'startup'));
    expect(readRigResults(join(dir, 'startup'), 'startup')).toEqual({
      artifacts: [],
      problems: [{ path: join(dir, 'startup'), message: 'a symbolic link; links in a results tree are not followed' }],
    });
  });
});

describe('byArtifactAge', () => {
  it('puts a same-second -1 artifact after the one written first, and -10 after -2', () => {
    const names = ['20261205T053838Z_abc1234_h-10.json', '20261205T053838Z_abc1234_h-1.json', '20261205T053839Z_abc1234_h.json', '20261205T053838Z_abc1234_h.json', '20261205T053838Z_abc1234_h-2.json'];
    expect([...names].sort(byArtifactAge)).toEqual([
      '20261205T053838Z_abc1234_h.json',
      '20261205T053838Z_abc1234_h-1.json',
      '20261205T053838Z_abc1234_h-2.json',
      '20261205T053838Z_abc1234_h-10.json',
      '20261205T053839Z_abc1234_h.json',
    ]);
  });
});
