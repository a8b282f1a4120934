/** guest-bench's stdout checked against both contracts: the zod schema and the generated JSON Schema (ajv, strict). */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GuestBenchProbe, GuestBenchReport, guestBenchJsonSchema } from '../../guest-bench/schema.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true }));
export const validateJson = ajv.compile(guestBenchJsonSchema());

function againstJsonSchema(data: unknown): void {
  if (!validateJson(data)) throw new Error(`guest-bench output fails the JSON Schema: ${ajv.errorsText(validateJson.errors)}`);
}

export function parseReport(stdout: string): GuestBenchReport {
  const data: unknown = JSON.parse(stdout);
  againstJsonSchema(data);
  return GuestBenchReport.parse(data);
}

export function parseProbe(stdout: string): GuestBenchProbe {
  const data: unknown = JSON.parse(stdout);
  againstJsonSchema(data);
  return GuestBenchProbe.parse(data);
}

/** A section's result; throws with the reason when it was skipped or failed. */
export function measured<T extends object>(name: string, section: T | { skipped: string } | { error: string }): T {
  if ('skipped' in section) throw new Error(`section ${name} was skipped: ${section.skipped}`);
  if ('error' in section) throw new Error(`section ${name} failed: ${section.error}`);
  return section;
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
