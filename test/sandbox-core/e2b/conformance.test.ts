/**
 * Conformance: the official e2b SDK (the pinned package, unmodified, configured
 * only by E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY) drives `rigor serve`'s
 * server on each cheap backend. Each `it` is one row of docs/e2b.md's table of
 * SDK calls; a test below holds the table to this list.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandExitError, NotFoundError, Sandbox, SandboxNotFoundError } from 'e2b';
import { getBackend } from '../../../sandbox-core/backends/registry.ts';
import { startE2bServer, type E2bServer } from '../../../sandbox-core/e2b/index.ts';

/** Backends the suite runs on: those cheap enough to start a few sandboxes each (qemu under TCG is not). */
const CONFORMANCE_BACKENDS = ['process', 'bwrap', 'runc', 'gvisor'] as const;

/** The rows of docs/e2b.md's table, in its order: the SDK call and what the test checks. */
const CALLS = [
  'Sandbox.create',
  'commands.run',
  'commands.run (failing)',
  'commands.run (streamed output)',
  'commands.run (background) + kill',
  'commands.list',
  'commands.sendStdin / closeStdin',
  'commands.connect',
  'envs',
  'files.write / read',
  'files.list',
  'files.makeDir / rename / exists / getInfo',
  'files.remove',
  'files.read (missing)',
  'getInfo',
  'setTimeout',
  'Sandbox.connect',
  'Sandbox.list',
  'kill',
  'timeout expiry',
] as const;
type Call = (typeof CALLS)[number];

for (const backendName of CONFORMANCE_BACKENDS) {
  describe(`e2b SDK against rigor serve on ${backendName}`, () => {
    let server: E2bServer;
    let sandbox: Sandbox;
    const saved: Record<string, string | undefined> = {};
    const call = (name: Call, body: () => Promise<void>) => it(name, body);

    beforeAll(async () => {
      const backend = getBackend(backendName);
      const available = await backend.available();
      if (!available.ok) throw new Error(`${backendName} is not available here: ${available.reason}`);
      server = await startE2bServer({ backend });
      for (const [name, value] of Object.entries(server.sdkEnv)) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
      sandbox = await Sandbox.create({ metadata: { suite: 'conformance', backend: backendName }, envs: { FROM_CREATE: 'created' }, timeoutMs: 120_000 });
    });

    afterAll(async () => {
      await server?.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    call('Sandbox.create', async () => {
      expect(sandbox.sandboxId).toMatch(/^[a-z0-9]+$/);
      expect(server.sessions.get(sandbox.sandboxId)?.backend).toBe(backendName);
    });

    call('commands.run', async () => {
      const result = await sandbox.commands.run('echo out; echo err >&2; exit 0');
      expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    });

    call('commands.run (failing)', async () => {
      const failed = await sandbox.commands.run('echo why >&2; exit 3').catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(CommandExitError);
      expect(failed).toMatchObject({ exitCode: 3, stderr: 'why\n' });
    });

    call('commands.run (streamed output)', async () => {
      // The command waits for a file the test writes only on hearing its first line: by events, with no clock.
      const heard: string[] = [];
      const result = await sandbox.commands.run('echo first; while [ ! -e "$HOME/stream-gate" ]; do sleep 0.05; done; echo second', {
        onStdout: (text) => {
          heard.push(text);
          if (heard.length === 1) void sandbox.files.write('stream-gate', 'go');
        },
        timeoutMs: 120_000,
      });
      expect(heard).toEqual(['first\n', 'second\n']);
      expect(result.stdout).toBe('first\nsecond\n');
    });

    call('commands.run (background) + kill', async () => {
      const handle = await sandbox.commands.run('sleep 600', { background: true });
      expect(await handle.kill()).toBe(true);
      const ended = await handle.wait().catch((error: unknown) => error);
      expect(ended).toBeInstanceOf(CommandExitError);
      expect((ended as CommandExitError).exitCode).not.toBe(0);
      expect(await sandbox.commands.kill(handle.pid)).toBe(false);
    });

    call('commands.list', async () => {
      const handle = await sandbox.commands.run('sleep 600', { background: true });
      const listed = await sandbox.commands.list();
      expect(listed.map((p) => p.pid)).toContain(handle.pid);
      expect(listed.find((p) => p.pid === handle.pid)).toMatchObject({ cmd: '/bin/bash', args: ['-l', '-c', 'sleep 600'] });
      await handle.kill();
    });

    call('commands.sendStdin / closeStdin', async () => {
      const handle = await sandbox.commands.run('cat; echo done', { background: true, stdin: true });
      await sandbox.commands.sendStdin(handle.pid, 'first\n');
      await sandbox.commands.sendStdin(handle.pid, 'second\n');
      await sandbox.commands.closeStdin(handle.pid);
      expect((await handle.wait()).stdout).toBe('first\nsecond\ndone\n');
    });

    call('commands.connect', async () => {
      const started = await sandbox.commands.run('sleep 1; echo late', { background: true });
      const connected = await sandbox.commands.connect(started.pid);
      expect(connected.pid).toBe(started.pid);
      expect((await connected.wait()).stdout).toBe('late\n');
    });

    call('envs', async () => {
      const result = await sandbox.commands.run('echo "$FROM_CREATE $FROM_RUN"', { envs: { FROM_RUN: 'run' } });
      expect(result.stdout).toBe('created run\n');
    });

    call('files.write / read', async () => {
      const info = await sandbox.files.write('conf/a.txt', 'hello\n');
      expect(info).toMatchObject({ name: 'a.txt', path: 'conf/a.txt' });
      expect(await sandbox.files.read('conf/a.txt')).toBe('hello\n');
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await sandbox.files.write('conf/b.bin', bytes.buffer);
      expect(await sandbox.files.read('conf/b.bin', { format: 'bytes' })).toEqual(bytes);
    });

    call('files.list', async () => {
      await sandbox.files.write('listed/x.txt', 'x');
      await sandbox.files.write('listed/y.txt', 'yy');
      const entries = await sandbox.files.list('listed');
      expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
        ['x.txt', 'file', 1],
        ['y.txt', 'file', 2],
      ]);
    });

    call('files.makeDir / rename / exists / getInfo', async () => {
      expect(await sandbox.files.makeDir('made/deep')).toBe(true);
      expect(await sandbox.files.makeDir('made/deep')).toBe(false);
      await sandbox.files.write('made/deep/f', 'f');
      const moved = await sandbox.files.rename('made/deep/f', 'made/g');
      expect(moved.name).toBe('g');
      expect(await sandbox.files.exists('made/deep/f')).toBe(false);
      expect(await sandbox.files.exists('made/g')).toBe(true);
      expect(await sandbox.files.getInfo('made/deep')).toMatchObject({ name: 'deep', type: 'dir' });
    });

    call('files.remove', async () => {
      await sandbox.files.write('gone.txt', 'soon gone');
      await sandbox.files.remove('gone.txt');
      expect(await sandbox.files.exists('gone.txt')).toBe(false);
    });

    call('files.read (missing)', async () => {
      const missing = await sandbox.files.read('no/such/file').catch((error: unknown) => error);
      expect(missing).toBeInstanceOf(NotFoundError);
    });

    call('getInfo', async () => {
      const info = await sandbox.getInfo();
      expect(info).toMatchObject({ sandboxId: sandbox.sandboxId, templateId: 'base', state: 'running', metadata: { suite: 'conformance', backend: backendName } });
    });

    call('setTimeout', async () => {
      const before = (await sandbox.getInfo()).endAt.getTime();
      await sandbox.setTimeout(600_000);
      expect((await sandbox.getInfo()).endAt.getTime()).toBeGreaterThan(before);
      expect(await sandbox.isRunning()).toBe(true);
    });

    call('Sandbox.connect', async () => {
      const again = await Sandbox.connect(sandbox.sandboxId);
      expect((await again.commands.run('echo again')).stdout).toBe('again\n');
      const unknown = await Sandbox.connect('rnosuchsandbox').catch((error: unknown) => error);
      expect(unknown).toBeInstanceOf(SandboxNotFoundError);
    });

    call('Sandbox.list', async () => {
      const listed = await Sandbox.list({ query: { metadata: { suite: 'conformance' } } }).nextItems();
      expect(listed.map((s) => s.sandboxId)).toEqual([sandbox.sandboxId]);
      expect(await Sandbox.list({ query: { metadata: { suite: 'other' } } }).nextItems()).toEqual([]);
    });

    call('kill', async () => {
      const doomed = await Sandbox.create({ timeoutMs: 60_000 });
      await doomed.kill();
      const listed = await Sandbox.list().nextItems();
      expect(listed.map((s) => s.sandboxId)).not.toContain(doomed.sandboxId);
      expect(await Sandbox.kill(doomed.sandboxId)).toBe(false);
      const afterKill = await doomed.commands.run('echo').catch((error: unknown) => error);
      expect(afterKill).toBeInstanceOf(SandboxNotFoundError);
      expect(await doomed.getInfo().catch((error: unknown) => error)).toBeInstanceOf(SandboxNotFoundError);
    });

    call('timeout expiry', async () => {
      const brief = await Sandbox.create({ timeoutMs: 1_000 });
      // Waits for the event (the server destroying it), with no bound on when.
      while (server.sessions.get(brief.sandboxId)) await new Promise((resolve) => setTimeout(resolve, 100));
      const info = await brief.getInfo().catch((error: unknown) => error);
      expect(info).toBeInstanceOf(SandboxNotFoundError);
      expect(server.sessions.goneReason(brief.sandboxId)).toMatch(/^timed out at /);
      expect(await brief.isRunning()).toBe(false);
    });
  });
}

describe('docs/e2b.md', () => {
  it('has one table row per conformance call, naming the backends it passes on', () => {
    const page = readFileSync(new URL('../../../docs/e2b.md', import.meta.url), 'utf8');
    const rows = page
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((cells) => cells[1]!.replace(/`/g, ''))).toEqual([...CALLS]);
    // The backends column says where the row passes: every backend this suite runs it on.
    for (const cells of rows) expect(cells[2]).toBe(CONFORMANCE_BACKENDS.join(', '));
  });
});
