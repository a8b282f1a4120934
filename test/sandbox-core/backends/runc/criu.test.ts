/**
 * runc's snapshots go through CRIU, and `criu check` decides at run time: its
 * verdict is the backend's snapshotSupport(), a refusal carries criu's own
 * words, and a refused snapshot() leaves the container running untouched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whichOnce } from '../../../../base/which.ts';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { criuCheck, criuSaid } from '../../../../sandbox-core/backends/runc/criu.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const criu = whichOnce('criu');

/** What `criu check` prints, run here by the test itself. */
function criuCheckOutput(): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(criu!, ['check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { ok: false, output: `${stdout}\n${stderr}` };
  }
}

describe('criuSaid', () => {
  it("keeps criu's Error lines' messages, else its last line", () => {
    const output = 'Warn (criu/kerndat.c:1): something\nError (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\nError (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n';
    expect(criuSaid(output)).toBe('vdso: Unexpected rt vDSO area bounds; vdso: Failed to fill self vdso symtable');
    expect(criuSaid('Looks good.\n')).toBe('Looks good.');
    expect(criuSaid('')).toBe('');
  });
});

describe.skipIf(!criu)('criuCheck', () => {
  it("agrees with criu check run here, and a failure's reason is criu's own Error lines", async () => {
    const { ok, output } = criuCheckOutput();
    const verdict = await criuCheck();
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) expect(verdict.reason).toBe(`criu check failed: ${criuSaid(output)}`);
  });
});

describe.skipIf(!availability.ok || !criu)(`runc snapshots${skipReason}`, () => {
  it("snapshotSupport() refuses with criu's reason (or says what rigor lacks where criu works); restore() and snapshot() refuse with it; the container runs on", async () => {
    const { ok, output } = criuCheckOutput();
    const support = await runcBackend.snapshotSupport!();
    expect(support.ok).toBe(false);
    const reason = (support as { reason: string }).reason;
    if (ok) expect(reason).toMatch(/^criu check passes, but rigor does not checkpoint runc containers/);
    else expect(reason).toBe(`runc checkpoints through CRIU, and criu check failed: ${criuSaid(output)}`);

    const root = mkdtempSync(join(tmpdir(), 'rigor-runc-snapshot-test-'));
    const sandbox = await runcBackend.create();
    try {
      await sandbox.writeFile('/workspace/before', 'kept');
      const target = join(root, 'snap');
      await expect(sandbox.snapshot!(target)).rejects.toThrow(`${sandbox.id}: snapshot to ${target} refused, nothing was written: ${reason}`);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(root)).toEqual([]);
      expect((await sandbox.readFile('/workspace/before')).toString()).toBe('kept');
      await expect(runcBackend.restore!(target)).rejects.toThrow(`runc restore of ${target}: ${reason}`);
    } finally {
      await sandbox.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
