/**
 * Whether runc can checkpoint here: runc saves and restores containers through
 * CRIU, and `criu check` says whether CRIU works on this kernel. Asked once per
 * process; the reason is what criu printed (on this project's host, criu 3.17:
 * "vdso: Failed to fill self vdso symtable"). Where criu check passes, rigor
 * still refuses: the agent's channel is `runc run`'s stdio pipes, which a
 * restore would have to be handed as external fds (runc restore --inherit-fd),
 * and that was never tried on a host where CRIU works.
 */
import { execFile } from 'node:child_process';
import { whichOnce } from '../../../base/which.ts';

export const CRIU = 'criu';
/** How long `criu check` may take (about 0.1 s here). */
const CHECK_TIMEOUT_MS = 30_000;

export type Availability = { ok: true } | { ok: false; reason: string };

/** `criu check`'s verdict: ok, or its Error lines (else its last line) as the reason. */
export function criuCheck(): Promise<Availability> {
  check ??= runCheck();
  return check;
}

let check: Promise<Availability> | undefined;

function runCheck(): Promise<Availability> {
  const criu = whichOnce(CRIU);
  if (!criu) return Promise.resolve({ ok: false, reason: 'criu not on PATH (apt-get install criu): runc checkpoints and restores through CRIU' });
  return new Promise((resolve) => {
    execFile(criu, ['check'], { timeout: CHECK_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true });
      resolve({ ok: false, reason: `criu check failed: ${criuSaid(`${stdout}\n${stderr}`) || error.message}` });
    });
  });
}

/** criu's "Error (file:line): message" lines as "message; message", else its last line. */
export function criuSaid(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const errors = lines.map((line) => /^Error \([^)]*\):\s*(.*)$/.exec(line)?.[1]).filter((message): message is string => message !== undefined);
  return errors.length > 0 ? errors.join('; ') : (lines.at(-1) ?? '');
}

/** Whether rigor's runc sandboxes can be saved here: never yet, and the reason says whether CRIU or rigor is what is missing. */
export async function runcSnapshotSupport(): Promise<Availability> {
  const criu = await criuCheck();
  if (!criu.ok) return { ok: false, reason: `runc checkpoints through CRIU, and ${criu.reason}` };
  return { ok: false, reason: "criu check passes, but rigor does not checkpoint runc containers: the agent's channel is runc run's stdio pipes, which runc restore would need handed back as external fds (--inherit-fd), never tried where CRIU works" };
}
