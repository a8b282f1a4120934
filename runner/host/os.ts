/** What the operating system says about this machine: /etc/os-release, /proc, /sys and node:os. */
import { readText } from '../../base/read-text.ts';
import os from 'node:os';

export interface OsRelease {
  id: string;
  version_id: string;
  pretty_name: string;
}

export interface Memory {
  total_bytes: number;
  available_bytes: number;
  swap_total_bytes: number;
  swap_free_bytes: number;
}


/** KEY=value lines with optional shell quoting, as os-release(5) defines them. */
function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    fields[key] = raw.replace(/^(["'])(.*)\1$/, '$2').replace(/\\(["'$`\\])/g, '$1');
  }
  return fields;
}

export function osRelease(): OsRelease {
  const text = readText('/etc/os-release') ?? readText('/usr/lib/os-release');
  if (text === null) return { id: os.platform(), version_id: os.release(), pretty_name: `${os.type()} ${os.release()}` };
  const fields = parseOsRelease(text);
  return {
    id: fields.ID ?? os.platform(),
    // rolling distributions (Arch, Debian sid) have no VERSION_ID
    version_id: fields.VERSION_ID ?? fields.BUILD_ID ?? '',
    pretty_name: fields.PRETTY_NAME ?? fields.NAME ?? os.type(),
  };
}

export function kernel(): { release: string; version: string } {
  return { release: os.release(), version: os.version() };
}

export function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readText('/proc/cpuinfo') ?? '');
  return match?.[1]?.trim() || os.cpus()[0]?.model.trim() || 'unknown';
}

export function logicalCpus(): number {
  return Math.max(1, os.cpus().length);
}

/** "Name:   123 kB" lines of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const match of text.matchAll(/^(\w+):\s+(\d+)(?: kB)?$/gm)) {
    const [, key, value] = match as unknown as [string, string, string];
    fields[key] = Number(value) * (match[0].endsWith('kB') ? 1024 : 1);
  }
  return fields;
}

export function memory(): Memory {
  const fields = parseMeminfo(readText('/proc/meminfo') ?? '');
  return {
    total_bytes: fields.MemTotal ?? os.totalmem(),
    // MemAvailable counts reclaimable cache; freemem() does not, so it is only the fallback
    available_bytes: fields.MemAvailable ?? os.freemem(),
    swap_total_bytes: fields.SwapTotal ?? 0,
    swap_free_bytes: fields.SwapFree ?? 0,
  };
}

export function loadAverage(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return [one, five, fifteen];
}

/** null when the kernel exposes no cpufreq, as in most virtual machines. */
export function cpuGovernor(): string | null {
  return readText('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')?.trim() || null;
}

/** Turbo/boost state when the driver exposes it: true = on, null = not readable. */
export function turboEnabled(): boolean | null {
  const noTurbo = readText('/sys/devices/system/cpu/intel_pstate/no_turbo')?.trim();
  if (noTurbo === '0' || noTurbo === '1') return noTurbo === '0';
  const boost = readText('/sys/devices/system/cpu/cpufreq/boost')?.trim();
  if (boost === '0' || boost === '1') return boost === '1';
  return null;
}

/** SMT control: "on", "off" or "forceoff"; null when the CPU or kernel does not support it. */
export function smtControl(): string | null {
  const control = readText('/sys/devices/system/cpu/smt/control')?.trim();
  return control === 'on' || control === 'off' || control === 'forceoff' ? control : null;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
