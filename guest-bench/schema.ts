/**
 * What guest-bench prints: the report of a main run (`GuestBenchReport`) and
 * the result of a probe (`GuestBenchProbe`). guest-bench.c writes exactly
 * these fields; the JSON Schema from `guestBenchJsonSchema()` is committed as
 * schemas/guest-bench.schema.json. Each measurement names its clock.
 */
import { z } from 'zod';

export const GUEST_BENCH_SCHEMA_ID = 'urn:rigor:guest-bench:v1';

const count = z.number().int().min(0);
const ms = z.number().min(0);
const seconds = z.number().min(0);
const rate = z.number().min(0);

const Skipped = z.object({ skipped: z.string().describe('why the section did not run') }).strict();
const Failed = z.object({ error: z.string().describe('what failed, naming the file, call or address') }).strict();

/** A section is its result, or why it was skipped, or what failed. */
function section<T extends z.ZodType>(result: T) {
  return z.union([result, Skipped, Failed]);
}

const Transfer = z
  .object({ bytes: count, seconds, mib_per_s: rate })
  .strict();

/** Latency samples in the order taken, with type-7 percentiles (as runner/stats). */
const latencies = {
  samples_ms: z.array(ms).min(1),
  p50: ms,
  p95: ms,
  p99: ms,
  mean: ms,
};

const CacheDrop = z
  .object({
    dropped: z.boolean(),
    method: z.enum(['drop_caches', 'fadvise', 'none']).describe('drop_caches (all of the kernel\'s clean caches), fadvise (DONTNEED on the test file), none'),
    reason: z.string().optional().describe('why a better method was not used, or why nothing was dropped'),
    resident_pct: z.number().min(0).max(100).nullable().describe('share of the file\'s pages still cached after the drop (mincore); null when unmeasurable'),
  })
  .strict();

const RandomIo = z
  .object({
    ops: z.number().int().min(1),
    block_bytes: z.literal(4096),
    seconds: seconds.describe('first operation started -> last one done'),
    ops_per_s: rate,
    ...latencies,
    offsets_head: z.array(count).max(4).describe('the first offsets of the seeded stream: the same --seed gives the same ones'),
  })
  .strict();

export const DiskResult = z
  .object({
    file: z.string(),
    file_bytes: z.number().int().min(1),
    allocated_bytes: count.describe('st_blocks * 512 after the sequential write; at least file_bytes, or the section fails'),
    seq_write: Transfer.describe('1 MiB writes of non-zero bytes; clock: first write() -> the one fdatasync() returned'),
    cache_drop: CacheDrop.describe('done after the write, before the sequential read'),
    seq_read: Transfer.describe('1 MiB reads; clock: first read() -> end of file'),
    random_write: RandomIo.describe('4 KiB pwrite() at a seeded aligned offset; clock per op: pwrite() -> its fdatasync() returned'),
    random_read: RandomIo.extend({ cache_drop: CacheDrop.describe('done again before the random reads') })
      .strict()
      .describe('4 KiB pread() at a seeded aligned offset; clock per op: pread() called -> returned'),
  })
  .strict();

export const RootfsResult = z
  .object({
    root: z.string(),
    warm_cache: z.literal(true).describe('caches are not dropped for this section'),
    one_filesystem: z.literal(true).describe('directories on another filesystem are counted, not entered (like find -xdev)'),
    walk: z
      .object({
        entries: z.number().int().min(1),
        dirs: count,
        files: count,
        symlinks: count,
        unreadable: count.describe('directories that could not be opened and entries that could not be lstat()ed'),
        other_fs_dirs: count,
        limit_reached: z.boolean().describe('the walk stopped at --max-walk entries'),
        seconds: seconds.describe('lstat() of the root -> last entry lstat()ed'),
        entries_per_s: rate,
      })
      .strict(),
    small_files: z
      .object({
        max_bytes: z.literal(16384),
        files: count,
        bytes: count,
        unreadable: count,
        seconds: seconds.describe('first open() -> last close(), whole files read'),
        files_per_s: rate,
      })
      .strict(),
    large_file: z
      .union([
        z.object({ path: z.string(), bytes: count, seconds: seconds.describe('open() -> end of file, 1 MiB reads'), mib_per_s: rate }).strict(),
        z.object({ path: z.string(), error: z.string() }).strict(),
      ])
      .nullable()
      .describe('the largest regular file met in the walk; null when there was none'),
  })
  .strict();

export const StartupResult = z
  .object({
    runs: z.number().int().min(1).describe('timed runs per command, after the first'),
    commands: z.array(
      z
        .object({
          argv: z.array(z.string()).min(1),
          first_ms: ms.describe('the first run, the coldest, kept apart from the samples'),
          samples_ms: z.array(ms).min(1).describe('clock: posix_spawn() called -> waitpid() returned'),
          p50: ms,
          p95: ms,
          mean: ms,
        })
        .strict(),
    ),
    missing: z.array(z.string()).describe('commands not present in this filesystem'),
  })
  .strict();

const StatusCounts = z.record(z.string().regex(/^[1-5][0-9][0-9]$/), z.number().int().min(1)).describe('responses per HTTP status');

export const HttpResult = z
  .object({
    url: z.string(),
    proxy: z.string().nullable().describe('IP:PORT of the HTTP proxy; null when direct'),
    requests: z.number().int().min(1),
    concurrency: z.number().int().min(1).describe('threads, each with one keep-alive connection'),
    responses: z.number().int().min(1),
    connections: z.number().int().min(1).describe('TCP connections opened, reconnects included'),
    seconds: seconds.describe('first thread started -> last thread done'),
    requests_per_s: rate.describe('responses / seconds'),
    ...latencies,
    status_counts: StatusCounts,
    errors: count,
    first_error: z.string().nullable(),
  })
  .strict()
  .describe('latency clock per request: request sent (connect included when one was needed) -> last body byte read');

export const ThroughputResult = z
  .object({
    url: z.string(),
    proxy: z.string().nullable(),
    status: z.literal(200),
    content_length: count,
    bytes: count.describe('body bytes read; equal to content_length, or the section fails'),
    expected_mib: z.number().min(0).nullable().describe('--download-mib, as given'),
    first_byte_ms: ms.describe('connect started -> response head read'),
    seconds: seconds.describe('connect started -> last body byte read'),
    mib_per_s: rate,
  })
  .strict();

export const GuestBenchReport = z
  .object({
    tool: z.literal('guest-bench'),
    version: z.string(),
    build: z.string().describe('the first 12 hex digits of the sha256 the binary was built from'),
    seed: count,
    system: z
      .object({
        kernel: z.string().describe('uname release'),
        machine: z.string(),
        cpus: z.number().int().min(1).nullable().describe('online CPUs; null when unknown'),
        dir: z.string(),
        dir_fs: z.string().describe('statfs f_type of dir as a name (tmpfs, ext4, overlayfs, 9p, ...), else 0x<hex>'),
      })
      .strict(),
    sections: z
      .object({
        disk: section(DiskResult),
        rootfs: section(RootfsResult),
        startup: section(StartupResult),
        http: section(HttpResult),
        throughput: section(ThroughputResult),
      })
      .strict(),
  })
  .strict();
export type GuestBenchReport = z.infer<typeof GuestBenchReport>;

/** Every probe ends with these: attempts made, and one sample per answered attempt. */
const probeTail = {
  attempts: z.number().int().min(1),
  samples_ms: z.array(ms),
};

const statusProbe = {
  status: z.number().int().min(100).max(599).nullable().describe('status of the last answered attempt; null when none was answered'),
  status_counts: StatusCounts,
  errors: count.describe('attempts that got no answer'),
  first_error: z.string().nullable(),
  ...probeTail,
};

export const ConnectProbe = z
  .object({
    probe: z.literal('connect'),
    target: z.string(),
    timeout_ms: z.number().int().min(1),
    ok: z.boolean(),
    error: z.string().nullable().describe('errno name: ECONNREFUSED, ETIMEDOUT, ENETUNREACH, ...'),
    ms: ms.describe('connect() called -> connected or failed'),
    ...probeTail,
  })
  .strict();

export const DnsProbe = z
  .object({
    probe: z.literal('dns'),
    name: z.string(),
    type: z.enum(['A', 'AAAA']),
    server: z.string(),
    rcode: z.string().nullable().describe('NOERROR, NXDOMAIN, SERVFAIL, ... of the last answer; null when none came'),
    rcode_counts: z.record(z.string(), z.number().int().min(1)),
    answers: z.array(z.string()).describe('A/AAAA addresses of the last answer'),
    errors: count,
    first_error: z.string().nullable(),
    ...probeTail,
  })
  .strict()
  .describe('clock per attempt: TCP connect started -> answer read (one new connection per attempt)');

export const ConnectProxyProbe = z
  .object({ probe: z.literal('connect-proxy'), target: z.string(), proxy: z.string(), ...statusProbe })
  .strict()
  .describe('clock per attempt: connect to the proxy started -> response head to CONNECT read');

export const HttpProbe = z
  .object({ probe: z.literal('http'), url: z.string(), proxy: z.string().nullable(), ...statusProbe })
  .strict()
  .describe('clock per attempt: connect started -> last body byte read (one new connection per attempt)');

export const RawProbe = z
  .object({
    probe: z.literal('raw'),
    target: z.string(),
    exchanges: z.array(
      z
        .object({
          file: z.string().describe('the file whose bytes were sent as they are'),
          ok: z.boolean().describe('connected and sent; false with error otherwise'),
          ms: ms.describe('connect() started -> the peer closed (or --timeout-ms passed quietly): a refusal\'s latency when the peer closes after it'),
          error: z.string().nullable(),
          bytes: count.describe('bytes read back (at most 65536) until the peer closed or --timeout-ms passed quietly'),
          status_lines: z.array(z.string()).describe('every line of the reply that starts like an HTTP/1.x status line, in order'),
        })
        .strict(),
    ),
  })
  .strict()
  .describe('one new connection per file, timed per exchange');

export const UnixProbe = z
  .object({
    probe: z.literal('unix'),
    sockets: z.array(
      z
        .object({ path: z.string().describe('a socket path; @name is abstract'), connected: z.boolean(), error: z.string().nullable().describe('errno name when connect() failed') })
        .strict(),
    ),
  })
  .strict()
  .describe('connect() to each unix socket, nothing sent');

export const GuestBenchProbe = z.discriminatedUnion('probe', [ConnectProbe, DnsProbe, ConnectProxyProbe, HttpProbe, RawProbe, UnixProbe]);
export type GuestBenchProbe = z.infer<typeof GuestBenchProbe>;

/** Anything guest-bench prints on stdout. */
export const GuestBenchOutput = z.union([GuestBenchReport, GuestBenchProbe]);

type JsonSchema = Record<string, unknown>;

/** Draft 2020-12 JSON Schema of every document guest-bench prints (a report or a probe), made as runner/schema/json-schemas.ts makes the others. */
export function guestBenchJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(GuestBenchOutput, { target: 'draft-2020-12', io: 'output', unrepresentable: 'throw' }) as JsonSchema;
  return { $schema: generated.$schema, $id: GUEST_BENCH_SCHEMA_ID, title: 'guest-bench output', ...generated };
}
