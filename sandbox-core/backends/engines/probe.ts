/**
 * Whether an engine backend can run here, checked for real: the CLI on PATH
 * proves nothing when no engine answers it (this host has the docker CLI and
 * no daemon), so the probe runs a verb that needs the engine, with a timeout
 * because a CLI pointed at a dead remote engine can hang. The backend then
 * proves that a container starts (backend.ts): on some hosts `info` answers
 * and no container can run.
 */
import { existsSync } from 'node:fs';
import { which } from '../../../base/which.ts';
import { DEFAULT_BUSYBOX } from '../../images/busybox-rootfs.ts';
import { isStaticElf } from '../../images/static-elf.ts';
import type { Backend } from '../types.ts';
import { firstLine, plainConnection, runEngine, type Engine, type EngineConnection } from './engine.ts';

export type Availability = Awaited<ReturnType<Backend['available']>>;

/** How long the engine may take to answer the probe. */
const PROBE_TIMEOUT_MS = 5000;

export async function probeEngine(
  engine: Engine,
  options: { timeoutMs?: number; busyboxPath?: string; connection?: EngineConnection } = {},
): Promise<Availability> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  if (!which(engine.cli)) return { ok: false, reason: `${engine.cli} not on PATH (${engine.install})` };
  const connection = options.connection ?? plainConnection(engine.cli);
  if (connection.unavailable) return { ok: false, reason: connection.unavailable };
  const outcome = await runEngine(connection, engine.probe, timeoutMs);
  if (outcome.timedOut) return { ok: false, reason: `${engine.probeFailure}: no answer to \`${engine.cli} ${engine.probe[0]}\` within ${timeoutMs} ms` };
  if (!outcome.ok) return { ok: false, reason: `${engine.probeFailure}: ${firstLine(outcome.stderr) || 'it failed without a message'}` };
  if (!which('setpriv')) return { ok: false, reason: 'setpriv (util-linux) not on PATH' };
  const busybox = options.busyboxPath ?? DEFAULT_BUSYBOX;
  if (!existsSync(busybox) || !(await isStaticElf(busybox))) {
    return { ok: false, reason: `no static busybox at ${busybox} for the ${engine.cli} image (apt-get install busybox-static)` };
  }
  return { ok: true };
}
