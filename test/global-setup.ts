/**
 * Every test run gets its own TMPDIR, removed when the run ends: a test that
 * forgets to clean its temp dirs cannot leave them on the machine.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-tests-'));
  // Like /tmp: sandboxes run commands as other users (65534) that must reach files here.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
