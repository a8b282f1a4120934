import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { listRigFiles, resolveRigPath } from '../../../runner/rig/discover.ts';

let root: string;
let dir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rigor-discover-'));
  dir = join(root, 'rigs');
  mkdirSync(dir);
  for (const file of ['startup.rig.yaml', 'disk.rig.yaml', 'notes.md', 'old.rig.yml']) writeFileSync(join(dir, file), '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listRigFiles', () => {
  it('lists *.rig.yaml only, sorted', () => {
    expect(listRigFiles(dir)).toEqual([join(dir, 'disk.rig.yaml'), join(dir, 'startup.rig.yaml')]);
  });

  it('is empty for a folder that does not exist', () => {
    expect(listRigFiles('/nonexistent/rigs')).toEqual([]);
  });
});

describe('resolveRigPath', () => {
  it('turns a name into its file, and uses a path as is', () => {
    expect(resolveRigPath('startup', dir)).toBe(join(dir, 'startup.rig.yaml'));
    expect(resolveRigPath(join(dir, 'old.rig.yml'), dir)).toBe(join(dir, 'old.rig.yml'));
  });

  it('lists the rigs that exist when the name matches none', () => {
    expect(() => resolveRigPath('startp', dir)).toThrow(InputError);
    expect(() => resolveRigPath('startp', dir)).toThrow(`no rig named "startp" (looked for ${dir}/startp.rig.yaml) (did you mean "startup"?); rigs in ${dir}/: disk, startup`);
    expect(() => resolveRigPath('x/missing.rig.yaml', dir)).toThrow(/no rig file at x\/missing.rig.yaml; rigs in .*: disk, startup/);
  });
});
