/**
 * What the escape battery attacks on the host, set up before its attempts and
 * judged on the host after each: a world-readable secret and victim files in
 * the host's /tmp and /etc, paths that must not come to exist, a host process
 * marked by its command line, a TCP server on every host address (counting
 * what it accepts), the interception CA's key and the host's core_pattern.
 * close() removes, restores and stops all of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa } from '../../proxy/ca.ts';
import { defaultCaDir } from '../../proxy/ca-dir.ts';

export const CORE_PATTERN = '/proc/sys/kernel/core_pattern';
const ORIGINAL = 'original\n';

export interface HostTargets {
  /** A random token: what a secret holds, what marks the host process. */
  token: string;
  /** World-readable (0644, in a 0755 directory of the host's /tmp): only the sandbox's own view of the filesystem hides it. */
  secretFile: string;
  /** Files holding ORIGINAL on the host, in /tmp and /etc (bwrap shows the host's /etc read-only). */
  victims: string[];
  /** Paths that do not exist on the host and must not come to: a file in /etc, a directory in /, a file in the host /tmp. */
  forbiddenNew: { etcFile: string; rootDir: string; tmpFile: string };
  /** A host process (root's), its pid and the unique argument that marks its command line. */
  sleeper: { pid: number; marker: string };
  /** True while the host process is alive and not stopped. */
  sleeperRunning(): boolean;
  /** A TCP server on 0.0.0.0: its port and how many connections it accepted so far. */
  server: { port: number; accepted(): number };
  /** The host's first non-loopback IPv4 address, if it has one. */
  externalAddress: string | undefined;
  /** The interception CA's bundle (key and cert, mode 0600) and a line of its key that nothing else holds. */
  ca: { path: string; keyLine: string };
  /** The first line of /etc/shadow, when the host has one. */
  shadowLine: string | undefined;
  /** The host's kernel.core_pattern as it was. */
  corePattern: string;
  /** Files and the host process as they were set up: victims hold ORIGINAL, nothing forbidden exists, the process runs. */
  victimsIntact(): boolean;
  forbiddenAbsent(): boolean;
  close(): Promise<void>;
}

function firstLine(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').split('\n')[0] || undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILL (9) and SIGSTOP (19) as bits of a /proc status signal mask. */
const KILL_OR_STOP = (1n << 8n) | (1n << 18n);

/** Alive, not stopped, and no SIGKILL or SIGSTOP pending (one sent a moment ago may not have been acted on yet). */
function running(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? 'X';
    const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)/gm)].reduce((mask, match) => mask | BigInt(`0x${match[1]}`), 0n);
    return !'TtZX'.includes(state) && (pending & KILL_OR_STOP) === 0n;
  } catch {
    return false;
  }
}

export async function startHostTargets(): Promise<HostTargets> {
  const token = `rigor-escape-${randomBytes(8).toString('hex')}`;
  // The host's /tmp itself, not a TMPDIR below it: the place a sandbox that shared the host's /tmp would show.
  const tmpDir = mkdtempSync('/tmp/rigor-escape-');
  chmodSync(tmpDir, 0o755);
  const etcDir = mkdtempSync('/etc/rigor-escape-');
  chmodSync(etcDir, 0o755);
  const secretFile = join(tmpDir, 'secret');
  writeFileSync(secretFile, `${token}\n`, { mode: 0o644 });
  const victims = [join(tmpDir, 'victim'), join(etcDir, 'victim')];
  for (const victim of victims) writeFileSync(victim, ORIGINAL, { mode: 0o644 });
  const forbiddenNew = { etcFile: `/etc/${token}`, rootDir: `/${token}`, tmpFile: join(tmpDir, 'new') };
  const marker = `3600.${randomBytes(3).readUIntBE(0, 3) % 1_000_000}`;
  const sleeper = spawn('sleep', [marker], { stdio: 'ignore' });
  const server: Server = createServer((socket) => {
    accepted += 1;
    socket.on('error', () => {}).end(`${token}\n`);
  });
  let accepted = 0;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '0.0.0.0', resolve));
  const bundle = (await loadOrCreateCa(defaultCaDir())).dir;
  const caPath = join(bundle, 'ca.pem');
  const caLines = readFileSync(caPath, 'utf8').split('\n');
  // The key's last base64 line: the private scalar's end and the public point, where the first is a fixed ASN.1 header.
  const keyLine = caLines[caLines.findIndex((line) => /-----END .*PRIVATE KEY-----/.test(line)) - 1];
  if (!keyLine) throw new Error(`${caPath}: expected a PEM private key, found none`);
  const corePattern = readFileSync(CORE_PATTERN, 'utf8');
  return {
    token,
    secretFile,
    victims,
    forbiddenNew,
    sleeper: { pid: sleeper.pid!, marker },
    sleeperRunning: () => running(sleeper),
    server: { port: (server.address() as AddressInfo).port, accepted: () => accepted },
    externalAddress: Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address,
    ca: { path: caPath, keyLine },
    shadowLine: firstLine('/etc/shadow'),
    corePattern,
    victimsIntact: () => victims.every((victim) => existsSync(victim) && readFileSync(victim, 'utf8') === ORIGINAL),
    forbiddenAbsent: () => Object.values(forbiddenNew).every((path) => !existsSync(path)),
    async close() {
      if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
      await new Promise((resolve) => server.close(resolve));
      if (readFileSync(CORE_PATTERN, 'utf8') !== corePattern) writeFileSync(CORE_PATTERN, corePattern);
      for (const path of [tmpDir, etcDir, ...Object.values(forbiddenNew)]) rmSync(path, { recursive: true, force: true });
    },
  };
}
