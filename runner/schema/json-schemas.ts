/**
 * JSON Schemas generated from the zod contracts (the one source of truth).
 * The committed files under schemas/ must equal these; a test checks it.
 */
import { z } from 'zod';
import { RigFile } from '../rig/schema.ts';
import { Artifact, ARTIFACT_SCHEMA_ID } from '../artifact/schema.ts';
import { guestBenchJsonSchema } from '../../guest-bench/schema.ts';
import { FleetRecord, FLEET_RECORD_SCHEMA_ID } from '../fleet/record.ts';

export const RIG_SCHEMA_ID = 'urn:rigor:rig:v1';

type JsonSchema = Record<string, unknown>;

function generate(schema: z.ZodType, id: string, title: string, io: 'input' | 'output'): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchema;
  return { $schema: generated.$schema, $id: id, title, ...generated };
}

/** Rig files are written by people: fields with defaults are optional. */
export function rigJsonSchema(): JsonSchema {
  return generate(RigFile, RIG_SCHEMA_ID, 'rigor rig file', 'input');
}

/** Artifacts are written by rigor: every default is filled in. */
export function artifactJsonSchema(): JsonSchema {
  return generate(Artifact, ARTIFACT_SCHEMA_ID, 'rigor artifact', 'output');
}

/** Fleet records are written by rigor fleet run and merge. */
export function fleetRecordJsonSchema(): JsonSchema {
  return generate(FleetRecord, FLEET_RECORD_SCHEMA_ID, 'rigor fleet record', 'output');
}

export const SCHEMA_FILES = {
  'schemas/rig.schema.json': rigJsonSchema,
  'schemas/artifact.schema.json': artifactJsonSchema,
  'schemas/guest-bench.schema.json': guestBenchJsonSchema,
  'schemas/fleet-record.schema.json': fleetRecordJsonSchema,
} as const;
