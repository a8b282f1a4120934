/**
 * One line of `<engine> stats --no-stream --format <Engine.statsFormat>`:
 * "<memory>\t<pids>", where memory is either a plain byte count (podman's raw
 * field) or a size as docker prints it ("1.52MiB / 7.63GiB": binary units,
 * four significant digits; decimal units like "3.09MB" as podman's human form).
 */

const UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
};

/** Bytes of "1.5MiB", "512KiB", "3.09MB" or "1536000"; throws naming the text when it is none of them. */
export function parseEngineSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const scale = match ? (match[2] === '' ? 1 : UNITS[match[2]!]) : undefined;
  if (!match || scale === undefined) throw new Error(`expected a size like 1.5MiB, 3.09MB or a byte count, found ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * scale);
}

/** Memory in bytes and process count of one stats line; the memory limit after " / " is ignored. */
export function parseStatsLine(line: string): { bytes: number; processes: number } {
  const [memory, pids] = line.trim().split('\t');
  if (memory === undefined || pids === undefined) throw new Error(`expected "<memory>\\t<pids>" from stats, found ${JSON.stringify(line)}`);
  const processes = Number(pids.trim());
  if (!Number.isInteger(processes)) throw new Error(`expected a process count from stats, found ${JSON.stringify(pids)}`);
  return { bytes: parseEngineSize(memory.split(' / ')[0]!), processes };
}
