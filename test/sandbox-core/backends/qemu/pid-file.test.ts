/** `launched` for qemu: the pid file appears once qemu itself runs, not when the setpriv that execs it was spawned. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../../../base/which.ts';
import { watchForFile } from '../../../../sandbox-core/backends/qemu/pid-file.ts';
import { waitFor } from '../../../helpers/processes.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-pid-file-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const qemu = which('qemu-system-x86_64');
const setpriv = which('setpriv');

describe('watchForFile', () => {
  it('calls back once, for the name it waits for, and not after close()', async () => {
    const dir = mkdtempSync(join(scratch, 'names-'));
    const seen: string[] = [];
    const appeared = new Promise<void>((resolve) => watchForFile(dir, 'qemu.pid', () => resolve(void seen.push('qemu.pid'))));
    writeFileSync(join(dir, 'agent.sock'), '');
    writeFileSync(join(dir, 'qemu.pid'), '1');
    writeFileSync(join(dir, 'qemu.pid'), '2');
    await appeared;
    const closed = watchForFile(dir, 'other', () => seen.push('other'));
    closed.close();
    writeFileSync(join(dir, 'other'), '');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['qemu.pid']);
  });

  it.skipIf(!qemu || !setpriv)('sees qemu\'s -pidfile when qemu runs: the launched process is qemu by then, not setpriv', async () => {
    const dir = mkdtempSync(join(scratch, 'qemu-'));
    const pidFile = join(dir, 'qemu.pid');
    let exe = '';
    const appeared = new Promise<void>((resolve) =>
      watchForFile(dir, 'qemu.pid', () => {
        exe = readlinkSync(`/proc/${child.pid}/exe`);
        resolve();
      }),
    );
    const args = ['-pidfile', pidFile, '-M', 'none', '-accel', 'tcg', '-display', 'none', '-nodefaults', '-S'];
    const child = spawn(setpriv!, ['--pdeathsig', 'KILL', '--', qemu!, ...args], { stdio: 'ignore' });
    try {
      await appeared;
      expect(exe).toMatch(/qemu-system-x86_64$/);
      // created first, written next: the pid is setpriv's, which exec'd qemu in its own process
      expect(await waitFor(() => readFileSync(pidFile, 'utf8').trim() !== '')).toBe(true);
      expect(Number(readFileSync(pidFile, 'utf8'))).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
