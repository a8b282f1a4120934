/**
 * Starting and stopping serve.ts in a child process (its own process group):
 * the first stdout line says it is ready, ending its stdin asks it to close
 * and print its counters; a child that does not exit in time is killed with
 * its group.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killGroup } from '../process/process-group.ts';

export interface ServedChild {
  pid: number;
  /** The ready line: port, CA PEM. */
  ready: { port: number; caPem: string | null; caFile?: string };
  /** Close the server; resolves with its final counters ({} when it had to be killed). */
  stop(): Promise<Record<string, unknown>>;
}

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export async function startServed(args: string[]): Promise<ServedChild> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SERVE, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const lines: string[] = [];
  let pending = '';
  let onLine = () => {};
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
      lines.push(pending.slice(0, at));
      pending = pending.slice(at + 1);
    }
    onLine();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => ((exited = true), onLine(), resolve())));
  const nextLine = (ms: number) =>
    new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      onLine = () => {
        if (lines.length > 0 || exited) (clearTimeout(timer), resolve(lines.shift() ?? null));
      };
      onLine();
    });
  const kill = () => (exited ? Promise.resolve() : killGroup(child.pid!, exit));

  const first = await nextLine(START_TIMEOUT_MS);
  if (first === null) {
    await kill();
    throw new Error(`serve.ts ${args.join(' ')}: no ready line within ${START_TIMEOUT_MS / 1000} s or it exited: ${stderr.trim()}`);
  }
  let stopped: Promise<Record<string, unknown>> | undefined;
  const stop = async () => {
    child.stdin.end();
    const last = await nextLine(STOP_TIMEOUT_MS);
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
    await kill();
    return last === null ? {} : (JSON.parse(last) as Record<string, unknown>);
  };
  // Stopping twice (the result path, then a finally) waits for the one stop.
  return { pid: child.pid!, ready: JSON.parse(first) as ServedChild['ready'], stop: () => (stopped ??= stop()) };
}
