import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestBenchPath } from '../../guest-bench/build.ts';
import { GuestBenchReport } from '../../guest-bench/schema.ts';
import { startProxy, type RunningProxy } from '../../sandbox-core/proxy/index.ts';
import { closedPort, measured, parseReport, validateJson } from './check-output.ts';
import { startCountingUpstream, type CountingUpstream } from './upstream.ts';

const MiB = 1024 * 1024;
// Tests never drop the whole host's page cache (--cache-drop auto would, as root): the file's own pages are enough.
const SMALL = ['--disk-mib', '4', '--random-ops', '32', '--max-walk', '2000', '--small-files', '200', '--startup-runs', '3', '--cache-drop', 'fadvise'];
const DIRECT = { http_proxy: '', HTTP_PROXY: '' };
const TMPFS_MAGIC = 0x01021994;

let bin: string;
let upstream: CountingUpstream;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  [bin, upstream, proxy] = await Promise.all([guestBenchPath(), startCountingUpstream(), startProxy({ mode: 'tunnel' })]);
  dir = mkdtempSync(join(tmpdir(), 'rigor-guest-bench-'));
});
afterAll(async () => {
  await Promise.all([upstream?.close(), proxy?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = DIRECT) {
  return execa(bin, args, { reject: false, env, cwd: dir, stdin: 'ignore' });
}

function leftovers(): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('guest-bench-'));
}

describe('guest-bench main run', () => {
  it('measures every section directly, prints one valid report, and the upstream counts the GETs', async () => {
    const small = upstream.hits('/small');
    const args = [...SMALL, '--dir', dir, '--http-url', `${upstream.origin}/small`, '--requests', '40', '--concurrency', '4'];
    args.push('--download-url', `${upstream.origin}/bytes?n=${4 * MiB}`, '--download-mib', '4');
    const result = await run(args);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.build).toBe(basename(dirname(bin)).slice(0, 12));
    expect(report.seed).toBe(1);
    expect(report.system).toMatchObject({ dir, machine: process.arch === 'x64' ? 'x86_64' : expect.any(String) });
    expect(report.system.cpus).toBeGreaterThanOrEqual(1);

    const disk = measured('disk', report.sections.disk);
    expect(disk.file_bytes).toBe(4 * MiB);
    expect(disk.allocated_bytes).toBeGreaterThanOrEqual(4 * MiB);
    expect(disk.seq_write.bytes).toBe(4 * MiB);
    expect(disk.seq_read.bytes).toBe(4 * MiB);
    for (const io of [disk.random_write, disk.random_read]) {
      expect(io.samples_ms).toHaveLength(32);
      expect(io.p50).toBeLessThanOrEqual(io.p95);
      expect(io.p95).toBeLessThanOrEqual(io.p99);
      expect(io.offsets_head).toHaveLength(4);
      for (const offset of io.offsets_head) {
        expect(offset % 4096).toBe(0);
        expect(offset).toBeLessThan(4 * MiB);
      }
    }
    if (report.system.dir_fs === 'tmpfs') {
      expect(disk.cache_drop).toMatchObject({ dropped: false, method: 'none' });
    } else {
      expect(disk.cache_drop).toMatchObject({ dropped: true, method: 'fadvise', reason: '--cache-drop fadvise' });
      // The file's clean pages really left the cache: the read that follows goes to the device.
      if (disk.cache_drop.resident_pct !== null) expect(disk.cache_drop.resident_pct).toBeLessThan(50);
    }
    expect(existsSync(disk.file)).toBe(false);
    expect(leftovers()).toEqual([]);

    const rootfs = measured('rootfs', report.sections.rootfs);
    expect(rootfs.walk.entries).toBeLessThanOrEqual(2000);
    expect(rootfs.small_files.files).toBeLessThanOrEqual(200);

    const startup = measured('startup', report.sections.startup);
    const argvs = startup.commands.map((command) => command.argv);
    expect(argvs).toContainEqual(['/proc/self/exe', '--version']);
    for (const command of startup.commands) expect(command.samples_ms).toHaveLength(3);

    const http = measured('http', report.sections.http);
    expect(http).toMatchObject({ proxy: null, requests: 40, concurrency: 4, responses: 40, errors: 0, first_error: null, status_counts: { '200': 40 } });
    // One keep-alive connection per thread, never reopened.
    expect(http.connections).toBe(4);
    expect(http.samples_ms).toHaveLength(40);
    expect(upstream.hits('/small') - small).toBe(40);

    const throughput = measured('throughput', report.sections.throughput);
    expect(throughput).toMatchObject({ status: 200, bytes: 4 * MiB, content_length: 4 * MiB, expected_mib: 4, proxy: null });
    expect(result.stderr).toMatch(/guest-bench: disk: writing 4 MiB/);
  });

  it('goes through the proxy named by $http_proxy, and every GET reaches the upstream through it', async () => {
    const small = upstream.hits('/small');
    const bytes = upstream.hits('/bytes');
    const decided = proxy.stats().decided;
    const args = ['--sections', 'http,throughput', '--http-url', `${upstream.origin}/small`, '--requests', '30', '--concurrency', '3'];
    args.push('--download-url', `${upstream.origin}/bytes?n=${2 * MiB}`);
    const result = await run(args, { http_proxy: proxy.url, HTTP_PROXY: '' });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.sections.disk).toEqual({ skipped: 'not in --sections' });
    const http = measured('http', report.sections.http);
    expect(http).toMatchObject({ proxy: `127.0.0.1:${proxy.port}`, responses: 30, errors: 0, status_counts: { '200': 30 } });
    const throughput = measured('throughput', report.sections.throughput);
    expect(throughput).toMatchObject({ proxy: `127.0.0.1:${proxy.port}`, bytes: 2 * MiB, expected_mib: null });
    expect(upstream.hits('/small') - small).toBe(30);
    expect(upstream.hits('/bytes') - bytes).toBe(1);
    expect(proxy.stats().decided - decided).toBe(31);
  });

  it('reconnects when the server closes after each response, and keeps one connection across chunked bodies', async () => {
    const closing = await run(['--sections', 'http', '--http-url', `${upstream.origin}/close`, '--requests', '6', '--concurrency', '2']);
    expect(closing.exitCode, closing.stderr).toBe(0);
    expect(measured('http', parseReport(closing.stdout).sections.http)).toMatchObject({ responses: 6, connections: 6, errors: 0 });

    // Misreading one chunked body would misparse the next response on the same connection.
    const chunked = await run(['--sections', 'http', '--http-url', `${upstream.origin}/chunked`, '--requests', '5', '--concurrency', '1']);
    expect(chunked.exitCode, chunked.stderr).toBe(0);
    expect(measured('http', parseReport(chunked.stdout).sections.http)).toMatchObject({ responses: 5, connections: 1, errors: 0, status_counts: { '200': 5 } });
  });

  it('retries on a new connection when the server silently closed the kept-alive one', async () => {
    // Answers one request per connection as if keeping it alive (no Connection: close), then hangs up.
    let accepted = 0;
    const server = createServer((socket) => {
      accepted += 1;
      let head = '';
      socket.on('data', (data) => {
        head += data.toString('latin1');
        if (head.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await run(['--sections', 'http', '--http-url', `http://127.0.0.1:${port}/`, '--requests', '4', '--concurrency', '1']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(measured('http', parseReport(result.stdout).sections.http)).toMatchObject({ responses: 4, connections: 4, errors: 0 });
      expect(accepted).toBe(4);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('draws the same offsets from the same seed and other offsets from another', async () => {
    const heads = async (seed: string) => {
      const result = await run(['--sections', 'disk', '--dir', dir, '--disk-mib', '1', '--random-ops', '8', '--seed', seed, '--cache-drop', 'none']);
      expect(result.exitCode, result.stderr).toBe(0);
      const disk = measured('disk', parseReport(result.stdout).sections.disk);
      return { write: disk.random_write.offsets_head, read: disk.random_read.offsets_head };
    };
    const [a, b, c] = await Promise.all([heads('7'), heads('7'), heads('8')]);
    expect(a).toEqual(b);
    expect(c.write).not.toEqual(a.write);
    expect(c.read).not.toEqual(a.read);
    expect(a.read).not.toEqual(a.write);
  });

  it('counts a known tree exactly: lstat only, small files read whole, the largest file read', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    mkdirSync(join(tree, 'c'));
    writeFileSync(join(tree, 'a', 'one.txt'), 'x'.repeat(10));
    writeFileSync(join(tree, 'a', 'two.txt'), 'x'.repeat(100));
    writeFileSync(join(tree, 'a', 'b', 'three.txt'), 'x'.repeat(16384));
    writeFileSync(join(tree, 'four.txt'), 'x'.repeat(20));
    writeFileSync(join(tree, 'c', 'big.bin'), Buffer.alloc(100_000, 1));
    symlinkSync(join(tree, 'c', 'big.bin'), join(tree, 'link'));
    try {
      const result = await run(['--sections', 'rootfs', '--walk-root', tree]);
      expect(result.exitCode, result.stderr).toBe(0);
      const rootfs = measured('rootfs', parseReport(result.stdout).sections.rootfs);
      expect(rootfs).toMatchObject({ root: tree, warm_cache: true });
      expect(rootfs.walk).toMatchObject({ entries: 10, dirs: 4, files: 5, symlinks: 1, unreadable: 0, limit_reached: false });
      expect(rootfs.small_files).toMatchObject({ files: 4, bytes: 10 + 100 + 16384 + 20, unreadable: 0 });
      expect(rootfs.large_file).toMatchObject({ path: join(tree, 'c', 'big.bin'), bytes: 100_000 });

      const capped = await run(['--sections', 'rootfs', '--walk-root', tree, '--max-walk', '3', '--small-files', '0']);
      const cappedRootfs = measured('rootfs', parseReport(capped.stdout).sections.rootfs);
      expect(cappedRootfs.walk).toMatchObject({ entries: 3, limit_reached: true });
      expect(cappedRootfs.small_files.files).toBe(0);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it.skipIf(statSync('/dev').dev === statSync('/dev/pts').dev)('counts directories of other filesystems without entering them (/dev/pts under /dev)', async () => {
    const result = await run(['--sections', 'rootfs', '--walk-root', '/dev', '--small-files', '0']);
    expect(result.exitCode, result.stderr).toBe(0);
    const rootfs = measured('rootfs', parseReport(result.stdout).sections.rootfs);
    expect(rootfs.one_filesystem).toBe(true);
    expect(rootfs.walk.other_fs_dirs).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(statfsSync('/dev/shm').type !== TMPFS_MAGIC)('says on tmpfs that there is no cache to drop', async () => {
    const result = await run(['--sections', 'disk', '--dir', '/dev/shm', '--disk-mib', '1', '--random-ops', '4']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.system.dir_fs).toBe('tmpfs');
    const disk = measured('disk', report.sections.disk);
    expect(disk.cache_drop).toMatchObject({ dropped: false, method: 'none', reason: 'tmpfs keeps files only in memory: there is no cache to drop' });
    expect(existsSync(disk.file)).toBe(false);
  });

  it('still prints a valid report when sections fail, and exits 3', async () => {
    const port = await closedPort();
    const result = await run(['--sections', 'disk,http', '--dir', '/proc', '--http-url', `http://127.0.0.1:${port}/`, '--requests', '2', '--concurrency', '1']);
    expect(result.exitCode).toBe(3);
    const report = parseReport(result.stdout);
    expect(report.sections.disk).toEqual({ error: expect.stringMatching(/^open \/proc\/guest-bench-\d+\.data: E[A-Z]+ \(/) });
    expect(report.sections.http).toEqual({ error: expect.stringContaining(`connect 127.0.0.1:${port}: ECONNREFUSED`) });
    expect(report.sections.rootfs).toEqual({ skipped: 'not in --sections' });
  });

  it('fails the throughput section when the body is shorter than its Content-Length', async () => {
    const server = createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b'));
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await run(['--sections', 'throughput', '--download-url', `http://127.0.0.1:${port}/file`]);
      expect(result.exitCode).toBe(3);
      expect(parseReport(result.stdout).sections.throughput).toEqual({
        error: `GET http://127.0.0.1:${port}/file: body: the server closed the connection with 90 bytes still to come`,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it.each([
    [['--disk-mib', 'x'], '--disk-mib: expected an integer from 1 to 1048576, found "x"'],
    [['--concurrency', '257'], '--concurrency: expected an integer from 1 to 256, found "257"'],
    [['--seed'], '--seed: expected a value, found nothing'],
    [['--sections', 'disk,gpu'], '--sections: expected a comma-separated list of disk, rootfs, startup, http, throughput, found "disk,gpu"'],
    [['--http-url', 'http://localhost:8080/x'], '--http-url: expected http://IPv4[:PORT]/path (a numeric host: no DNS), found "http://localhost:8080/x"'],
    [['--proxy', '127.0.0.1'], '--proxy: expected IPv4:PORT (numeric, no DNS) or none, found "127.0.0.1"'],
    [['--dir', '/no/such/dir'], '--dir: expected an existing directory, found "/no/such/dir"'],
    [['--download-mib=-1'], '--download-mib: expected a number of MiB >= 0, found "-1"'],
    [['--frobnicate'], 'unknown argument "--frobnicate"'],
  ])('rejects %j: exit 2, the flag named, nothing on stdout', async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`guest-bench: ${message}`);
  });

  it('rejects a proxy variable it cannot use without DNS, naming the variable', async () => {
    const result = await run(['--sections', 'http', '--http-url', `${upstream.origin}/small`], { http_proxy: 'http://proxy.internal:3128', HTTP_PROXY: '' });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('guest-bench: $http_proxy: expected http://IPv4:PORT');
  });
});

describe('guest-bench output contract', () => {
  const report: GuestBenchReport = {
    tool: 'guest-bench',
    version: '1.0.0',
    build: 'abcdef012345',
    seed: 1,
    system: { kernel: '6.1.0', machine: 'x86_64', cpus: 2, dir: '/w', dir_fs: 'ext4' },
    sections: {
      disk: { skipped: 'not in --sections' },
      rootfs: { skipped: 'not in --sections' },
      startup: { error: 'posix_spawn /bin/true: ENOMEM (Cannot allocate memory)' },
      http: { skipped: 'no --http-url given' },
      throughput: { skipped: 'no --download-url given' },
    },
  };

  it('zod and the JSON Schema accept the same report and both reject a field guest-bench never writes', () => {
    expect(GuestBenchReport.safeParse(report).success).toBe(true);
    expect(validateJson(report)).toBe(true);
    const drifted = { ...report, system: { ...report.system, hostname: 'x' } };
    expect(GuestBenchReport.safeParse(drifted).success).toBe(false);
    expect(validateJson(drifted)).toBe(false);
    const neither = { ...report, sections: { ...report.sections, disk: {} } };
    expect(GuestBenchReport.safeParse(neither).success).toBe(false);
    expect(validateJson(neither)).toBe(false);
  });
});
