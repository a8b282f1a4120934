/** Boots a kernel under qemu with no root disk and watches its serial console, to learn whether it runs. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface BootAttempt {
  qemu: string;
  kernel: string;
  accel: 'kvm' | 'tcg';
  /** -cpu model; undefined = qemu's default */
  cpu?: string;
  timeoutMs: number;
  /** 'banner': stop at "Linux version"; 'progress': also wait for a line from later in boot. */
  until: 'banner' | 'progress';
}

export type BootOutcome =
  | { kind: 'booted'; ms: number }
  | { kind: 'stalled'; sawBanner: boolean; ms: number }
  | { kind: 'qemu-failed'; message: string; ms: number };

const BANNER = /Linux version \d/;
// Lines from later in boot, any of which proves the guest kernel is executing.
const PROGRESS = /Freeing unused kernel|Run \/init|VFS: Unable to mount|VFS: Cannot open root|Kernel panic/;

/** qemu's first error line, warnings left out ("qemu-system-x86_64: error: failed to set MSR ..."). */
export function qemuErrorText(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => line.replace(/^[\w./-]*qemu[\w-]*: /, '').trim())
    .find((line) => line && !line.startsWith('warning:'))
    ?.slice(0, 240) ?? '';
}

function qemuArgs(attempt: BootAttempt): string[] {
  return [
    ...(attempt.accel === 'kvm' ? ['-enable-kvm'] : ['-accel', 'tcg']),
    ...(attempt.cpu ? ['-cpu', attempt.cpu] : []),
    ...['-M', 'pc', '-m', '256', '-smp', '1'],
    ...['-no-user-config', '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio'],
    ...['-kernel', attempt.kernel],
    // no initrd: the kernel prints its banner, finds no root and panics; panic=-1 then exits qemu
    ...['-append', 'console=ttyS0 panic=-1 edd=off'],
  ];
}

/** setpriv makes the kernel SIGKILL qemu if we die without cleaning up (PR_SET_PDEATHSIG). */
function command(attempt: BootAttempt): [string, string[]] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
  const args = qemuArgs(attempt);
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', attempt.qemu, ...args]] : [attempt.qemu, args];
}

/** Boots once; always leaves no qemu behind, whichever way it ends. */
export function bootKernel(attempt: BootAttempt): Promise<BootOutcome> {
  const started = performance.now();
  const [file, args] = command(attempt);
  // own process group, so one kill reaches qemu and anything it started
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);

  return new Promise((resolve) => {
    let serial = '';
    let stderr = '';
    let outcome: BootOutcome | null = null;
    const elapsed = () => Math.round(performance.now() - started);
    const settle = (result: BootOutcome) => {
      outcome ??= result;
      killGroup();
    };
    const timer = setTimeout(() => settle({ kind: 'stalled', sawBanner: BANNER.test(serial), ms: elapsed() }), attempt.timeoutMs);

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      serial = (serial + chunk).slice(-64_000);
      const banner = BANNER.test(serial);
      if (banner && (attempt.until === 'banner' || PROGRESS.test(serial))) settle({ kind: 'booted', ms: elapsed() });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(0, 16_000);
    });
    const finish = (result: BootOutcome) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      resolve(result);
    };
    child.on('error', (error) => {
      settle({ kind: 'qemu-failed', message: error.message, ms: elapsed() });
      finish(outcome!);
    });
    child.on('close', (code, signal) => {
      if (!outcome) {
        const message = qemuErrorText(stderr) || `qemu exited (${signal ?? `code ${code}`}) before the kernel printed its banner`;
        outcome = BANNER.test(serial) ? { kind: 'stalled', sawBanner: true, ms: elapsed() } : { kind: 'qemu-failed', message, ms: elapsed() };
      }
      finish(outcome);
    });
  });
}
