/**
 * gVisor's `runsc` as this host has it: its version, and whether it can run
 * a sandbox on a platform (ptrace, kvm, systrap). A platform is known to work
 * only once `runsc do true` has run on it: runsc accepts `--platform=kvm`
 * wherever /dev/kvm exists and then hangs where KVM runs only PVM guests, so
 * the probe runs under a deadline and is killed, never waited on. Each
 * platform is probed once per process.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheUntilFailure } from '../cache-until-failure.ts';

export const RUNSC = 'runsc';
export const GVISOR_PLATFORMS = ['ptrace', 'kvm', 'systrap'] as const;
export type GvisorPlatform = (typeof GVISOR_PLATFORMS)[number];
/** What runs where nothing else is asked: the one platform that needs nothing of the host but ptrace. */
export const DEFAULT_PLATFORM: GvisorPlatform = 'ptrace';
/** How long `runsc do true` may take before the platform is called unusable (ptrace takes about 0.2 s here). */
export const PROBE_TIMEOUT_MS = 10_000;

export type Availability = { ok: true } | { ok: false; reason: string };

/** "0.0~20221219.0" from `runsc --version`; fails naming what runsc printed. */
export const runscVersion = cacheUntilFailure(
  () =>
    new Promise<string>((resolve, reject) => {
      execFile(RUNSC, ['--version'], { timeout: PROBE_TIMEOUT_MS }, (error, stdout) => {
        const version = /^runsc version (\S+)/m.exec(stdout)?.[1];
        if (version) resolve(version);
        else reject(new Error(`runsc --version printed no version${error ? ` (${error.message})` : `: ${JSON.stringify(stdout.slice(0, 200))}`}`));
      });
    }),
);

const probes = new Map<GvisorPlatform, Promise<Availability>>();

/** Whether `runsc --platform=<platform> do true` runs here, asked once per platform per process. */
export function probePlatform(platform: GvisorPlatform): Promise<Availability> {
  let probe = probes.get(platform);
  if (!probe) probes.set(platform, (probe = runProbe(platform)));
  return probe;
}

async function runProbe(platform: GvisorPlatform): Promise<Availability> {
  if (platform === 'kvm' && !existsSync('/dev/kvm')) return { ok: false, reason: 'runsc --platform=kvm needs /dev/kvm, which this host has not' };
  // its own state root, named like the sandboxes' temp dirs so the owner's watchdog or the next run removes it
  const root = mkdtempSync(join(tmpdir(), `rigor-gvisor-${process.pid}-`));
  try {
    return await new Promise<Availability>((resolve) => {
      const args = ['--pdeathsig', 'KILL', '--', RUNSC, '--root', root, `--platform=${platform}`, '--network=none', 'do', 'true'];
      // runsc do's sandbox is attached: it dies with runsc do, which dies with us or with the SIGKILL below
      const child = spawn('setpriv', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let timedOut = false;
      // resolved once the child is gone, so the state root is removed after it
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, PROBE_TIMEOUT_MS);
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, reason: `runsc --platform=${platform} could not start: ${error.message}` });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return resolve({ ok: false, reason: `runsc --platform=${platform} do true did not finish within ${PROBE_TIMEOUT_MS / 1000} s (killed)` });
        if (code === 0) return resolve({ ok: true });
        const said = lastLine(stderr);
        resolve({ ok: false, reason: `runsc --platform=${platform} do true ${signal ? `was killed by ${signal}` : `exited ${code}`}${said ? `: ${said}` : ''}` });
      });
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.trim() ?? '';
}
