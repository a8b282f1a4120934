/** Applying a site plan never writes outside the output folder, whatever a path in the plan says. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, insideSite } from '../../../runner/site/write.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rigor-site-write-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('applyPlan', () => {
  it('refuses a page path that climbs out (an artifact rig.name of ../../x once made /tmp/x.html), writing nothing', () => {
    const out = join(dir, 'dist');
    const plan = { files: [{ path: 'index.html', content: 'ok' }, { path: 'rigs/../../../x.html', content: 'escaped' }], copies: [] };
    expect(() => applyPlan(plan, out)).toThrow('site plan: "rigs/../../../x.html" would be written outside the output folder; nothing was published');
    expect(existsSync(join(dir, 'x.html'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses absolute paths and the folder itself, and places the rest inside', () => {
    expect(() => insideSite(dir, '/etc/x')).toThrow(/outside the output folder/);
    expect(() => insideSite(dir, '.')).toThrow(/outside the output folder/);
    expect(insideSite(dir, 'results/startup/a.json')).toBe(join(dir, 'results/startup/a.json'));
  });
});
