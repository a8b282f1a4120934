/** Versions of the external tools a rig uses, asked of the tools themselves. */
import { spawnSync } from 'node:child_process';

const TIMEOUT_MS = 3000;

/** How to ask each known tool; others get --version, then -V. */
const VERSION_ARGS: Record<string, string[][]> = {
  hyperfine: [['--version']],
  bwrap: [['--version']],
  runc: [['--version']],
  'qemu-system-x86_64': [['--version']],
  python3: [['--version']],
  node: [['--version']],
  busybox: [[]], // no --version applet: the bare call prints "BusyBox v1.35.0 (...)" first
  mitmproxy: [['--version']],
  iperf3: [['--version']],
  git: [['--version']],
  docker: [['--version']],
  podman: [['--version']],
  firecracker: [['--version']],
};

const cache = new Map<string, string | null>();

/** The first dotted version number in a tool's output ("QEMU emulator version 7.2.22 (Debian ...)" → "7.2.22"). */
export function extractVersion(output: string): string | null {
  for (const line of output.split('\n')) {
    const match = /(?:^|[\s(v:])v?(\d+(?:\.\d+)+(?:[-+~][0-9A-Za-z][0-9A-Za-z.+~-]*)?)/.exec(line);
    if (match?.[1]) return match[1];
  }
  return null;
}

type Attempt = { missing: true } | { missing: false; version: string | null };

function ask(name: string, args: string[]): Attempt {
  const result = spawnSync(name, args, { encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { missing: true };
  return { missing: false, version: extractVersion(`${result.stdout ?? ''}\n${result.stderr ?? ''}`) };
}

/** dash has no version flag; its package knows. */
function shVersion(): string | null {
  const dash = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'dash'], { encoding: 'utf8', timeout: TIMEOUT_MS });
  return dash.status === 0 && dash.stdout.trim() ? dash.stdout.trim() : null;
}

function lookUp(name: string): string | null {
  if (name === 'sh') return shVersion();
  for (const args of VERSION_ARGS[name] ?? [['--version'], ['-V']]) {
    const attempt = ask(name, args);
    if (attempt.missing) return null;
    if (attempt.version) return attempt.version;
  }
  return 'unknown'; // installed, but it would not say which version
}

/**
 * The version of a tool on PATH: null when the binary is missing, "unknown"
 * when it runs but prints no version. Asked once per process.
 */
export function toolVersion(name: string): string | null {
  if (!cache.has(name)) cache.set(name, lookUp(name));
  return cache.get(name) ?? null;
}

export function toolVersions(names: string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((name) => [name, toolVersion(name)]));
}
