/**
 * The fleet record: what one fleet run (or one `rigor fleet merge`) did — the
 * hosts asked and which answered, each host's outcome, reason and log tail,
 * the artifact it brought back, the commit the hosts ran. Written beside the
 * artifacts, at results/<rig>/fleet/<UTC stamp>_<commit7>.json, validated
 * against schemas/fleet-record.schema.json (generated from this).
 */
import { z } from 'zod';

export const FLEET_RECORD_SCHEMA_ID = 'urn:rigor:fleet-record:v1';

/** The folder of results/<rig>/ that holds the rig's fleet records (never read as artifacts: not a .json file). */
export const FLEET_RECORD_DIR = 'fleet';

export const HostOutcome = z
  .enum(['ok', 'unreachable', 'setup-failed', 'rig-failed', 'lost', 'fetch-failed', 'not-reached', 'interrupted'])
  .describe(
    'ok: the artifact came back; unreachable: no SSH connection before the rig started; setup-failed: copying the project, npm or the setup task failed; ' +
      'rig-failed: rigor run exited non-zero (its artifact is kept when it wrote one); lost: the connection dropped while the rig ran (the host died or was killed); ' +
      'fetch-failed: the artifact could not be brought back; not-reached: ansible-playbook ended before it came to this host; interrupted: Ctrl-C stopped the fleet run on this host',
  );
export type HostOutcome = z.infer<typeof HostOutcome>;

export const FleetHost = z
  .object({
    name: z.string().describe('the inventory name, or for a merge the host id of the artifact'),
    answered: z.boolean().describe('the host ran at least one task (an SSH connection was made)'),
    outcome: HostOutcome,
    stage: z.string().nullable().describe('the step that failed (copy, npm, setup, rig, fetch); null when none did'),
    reason: z.string().nullable().describe('why the host is not ok, in Ansible\'s or rigor\'s words; null when ok'),
    log_tail: z.array(z.string()).describe('the last lines of the host\'s rigor run output (or of the failing task)'),
    artifact: z.string().nullable().describe('the merged artifact, relative to the results directory (<rig>/<file>.json); null when none came back'),
    host_id: z.string().nullable().describe('host.id of the artifact'),
    fingerprint: z.string().nullable().describe('host.fingerprint.id of the artifact: hosts that share one share the hardware'),
    rig_s: z.number().min(0).nullable().describe("seconds from the start of the host's rig step (rigor run) to its result, as Ansible's callback stamped them; null when it never started or for a merge"),
  })
  .strict();
export type FleetHost = z.infer<typeof FleetHost>;

export const FleetRecord = z
  .object({
    schema: z.literal(FLEET_RECORD_SCHEMA_ID),
    tool: z.object({ name: z.literal('rigor'), version: z.string() }).strict(),
    kind: z.enum(['run', 'merge']).describe('run: rigor fleet run drove ansible-playbook; merge: rigor fleet merge collected artifacts made elsewhere (a CI matrix)'),
    id: z.string(),
    command_line: z.array(z.string()),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
    status: z
      .enum(['complete', 'partial', 'interrupted', 'failed'])
      .describe('complete: every host ok; partial: some hosts not ok; interrupted: Ctrl-C; failed: no artifact came back'),
    rig: z.object({ name: z.string(), path: z.string().nullable() }).strict(),
    overrides: z
      .object({ set: z.array(z.string()), iterations: z.number().int().min(1).nullable() })
      .strict()
      .describe('the --set and --iterations every host ran rigor run with'),
    source: z
      .object({
        commit: z.string().nullable(),
        branch: z.string().nullable(),
        dirty: z.boolean(),
        dirty_paths: z.array(z.string()),
        archive_sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().describe('sha256 of the `git archive` of the commit shipped to the hosts; null for a merge'),
        diff_sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().describe('sha256 of the working tree\'s changes applied on top (git diff --binary, untracked files included); null when clean'),
        diff_file: z.string().nullable().describe('that diff, kept beside this record (relative to it); null when clean'),
      })
      .strict()
      .describe('the code the hosts ran'),
    ansible: z
      .object({
        playbook: z.string(),
        inventory: z.string(),
        limit: z.string().nullable(),
        forks: z.number().int().min(1).nullable(),
        serial: z.string().nullable(),
        extra_args: z.array(z.string()).describe("Ansible's own options given after --, passed through"),
        version: z.string().nullable().describe('ansible-playbook --version, first line'),
        exit_code: z.number().int().nullable().describe('null when it was killed'),
        output_tail: z.array(z.string()),
      })
      .strict()
      .nullable()
      .describe('null for a merge'),
    timing: z
      .object({
        wall_s: z.number().min(0).describe('rigor fleet run from reading its options to writing this record'),
        measuring_s: z.number().min(0).describe('seconds in which at least one host ran its rig step'),
        overhead_s: z.number().describe("wall_s less measuring_s: the fleet's own time (packing, Ansible's tasks, copying, fetching, merging)"),
      })
      .strict()
      .nullable()
      .describe('null for a merge'),
    retry_of: z.string().nullable().describe('the fleet record whose failed hosts this run retried (--retry-failed)'),
    hosts: z.array(FleetHost).describe('every host asked, in inventory order'),
    notes: z.array(z.string()).describe('what a reader should know: hosts sharing one hardware fingerprint, artifacts already merged'),
  })
  .strict();
export type FleetRecord = z.infer<typeof FleetRecord>;
