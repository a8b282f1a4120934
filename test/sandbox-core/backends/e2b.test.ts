/**
 * The e2b backend driven against rigor's own E2B server on loopback (on the
 * process backend): once through the SDK's environment (E2B_API_URL,
 * E2B_SANDBOX_URL, E2B_API_KEY) as for any E2B-compatible endpoint, once as the
 * `serve:` variant. Lifecycle, exec, files, destroy and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNotFoundError } from 'e2b';
import { commandLine, makeE2bBackend } from '../../../sandbox-core/backends/e2b.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import type { Backend, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { startE2bServer, type E2bServer } from '../../../sandbox-core/e2b/index.ts';

const lookup = (name: string): Backend => {
  if (name !== 'process') throw new Error(`unknown sandbox backend ${JSON.stringify(name)}`);
  return processBackend;
};

describe('e2b backend against an endpoint named by the SDK environment', () => {
  let server: E2bServer;
  let backend: Backend;
  let sandbox: Sandbox;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    server = await startE2bServer({ backend: processBackend });
    for (const [name, value] of Object.entries(server.sdkEnv)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    backend = makeE2bBackend(lookup);
    sandbox = await backend.create({ env: { FROM_SPEC: 'spec' } });
  });

  afterAll(async () => {
    await sandbox?.destroy();
    await server?.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is available with E2B_API_KEY set, and says what is missing without it', async () => {
    expect(await backend.available()).toEqual({ ok: true });
    delete process.env.E2B_API_KEY;
    try {
      expect(await makeE2bBackend(lookup).available()).toMatchObject({ ok: false, reason: expect.stringMatching(/^E2B_API_KEY is not set/) });
    } finally {
      process.env.E2B_API_KEY = server.sdkEnv.E2B_API_KEY;
    }
  });

  it('creates a sandbox the server holds, with a ready phase and the endpoint in its facts', () => {
    expect(server.sessions.get(sandbox.id)).toBeDefined();
    expect(sandbox.backend).toBe('e2b');
    expect(sandbox.phases.ready).toBeGreaterThan(0);
    expect(sandbox.facts).toEqual({ endpoint: server.url });
    // Only a sandbox of a server this process started has a direct path.
    expect(sandbox.direct).toBeUndefined();
  });

  it('execs: exit code, stdout, stderr, the spec env and the request env, cwd, stdin', async () => {
    const ok = await sandbox.exec({ argv: ['/bin/bash', '-l', '-c', 'echo "$FROM_SPEC $FROM_REQUEST"; echo err >&2; pwd'], env: { FROM_REQUEST: 'request' }, cwd: '/tmp' });
    expect(ok).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(ok.stdout.toString()).toBe('spec request\n/tmp\n');
    expect(ok.stderr.toString()).toBe('err\n');
    expect(ok.roundTripMs).toBeGreaterThan(0);
    expect(Number.isNaN(ok.guest.exited)).toBe(true);
    const failed = await sandbox.exec({ argv: ['sh', '-c', 'echo no >&2; exit 3'] });
    expect(failed).toMatchObject({ exitCode: 3 });
    expect(failed.stderr.toString()).toBe('no\n');
    const fed = await sandbox.exec({ argv: ['cat'], stdin: 'through stdin' });
    expect(fed.stdout.toString()).toBe('through stdin');
  });

  it("passes the SDK's streamed output on to onOutput while the command runs", async () => {
    const heard: string[] = [];
    const result = await sandbox.exec({
      argv: ['/bin/bash', '-l', '-c', 'echo first; while [ ! -e "$HOME/backend-gate" ]; do sleep 0.05; done; echo second >&2'],
      onOutput: (stream, chunk) => {
        heard.push(`${stream}:${chunk.toString()}`);
        if (heard.length === 1) void sandbox.writeFile('backend-gate', 'go');
      },
    });
    expect(heard).toEqual(['stdout:first\n', 'stderr:second\n']);
    expect(result.stdout.toString()).toBe('first\n');
  });

  it('quotes an argv that is not bash -l -c for the SDK command line', async () => {
    expect(commandLine(['/bin/bash', '-l', '-c', 'echo $HOME'])).toBe('echo $HOME');
    const quoted = await sandbox.exec({ argv: ['printf', '%s|', 'a b', "it's", '$HOME'] });
    expect(quoted.stdout.toString()).toBe("a b|it's|$HOME|");
  });

  it('writes and reads files, text and bytes', async () => {
    await sandbox.writeFile('notes/a.txt', 'hello');
    expect((await sandbox.readFile('notes/a.txt')).toString()).toBe('hello');
    const bytes = new Uint8Array([0, 255, 1, 254]);
    await sandbox.writeFile('b.bin', bytes);
    expect([...(await sandbox.readFile('b.bin'))]).toEqual([...bytes]);
    await expect(sandbox.readFile('no/such/file')).rejects.toThrow(/no\/such\/file/);
  });

  it('pings, and refuses pause, resume and stats naming why', async () => {
    expect(await sandbox.ping()).toBeGreaterThan(0);
    await expect(sandbox.pause()).rejects.toThrow('the e2b backend does not pause sandboxes');
    await expect(sandbox.resume()).rejects.toThrow('the e2b backend does not pause sandboxes');
    await expect(sandbox.stats()).rejects.toThrow(/no host-side stats/);
  });

  it('destroys: the server drops the sandbox, a second destroy is a no-op, later calls fail as the SDK says', async () => {
    const doomed = await backend.create();
    expect(server.sessions.get(doomed.id)).toBeDefined();
    await doomed.destroy();
    expect(server.sessions.get(doomed.id)).toBeUndefined();
    expect(server.sessions.goneReason(doomed.id)).toBe('killed');
    await doomed.destroy();
    await expect(doomed.exec({ argv: ['true'] })).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(doomed.ping()).rejects.toThrow(/is not running/);
  });
});

describe('e2b backend with serve: (rigor serve on loopback, started with the first sandbox)', () => {
  it('runs a sandbox, and its direct path runs the same command in the same environment as the API', async () => {
    const backend = makeE2bBackend(lookup).variant!({ serve: 'process' });
    expect(await backend.available()).toEqual({ ok: true });
    const sandbox = await backend.create();
    try {
      expect(sandbox.facts).toEqual({ endpoint: 'rigor serve on loopback over process' });
      expect(sandbox.direct).toBeDefined();
      // The marker differs by design (each started process has its own); everything else must match.
      const request = { argv: ['/bin/bash', '-l', '-c', `env | grep -v '^RIGOR_E2B_PROCESS=' | grep -v '^_=' | sort; echo "$0"`], env: { EXTRA: 'x' } };
      const viaApi = await sandbox.exec(request);
      const direct = await sandbox.direct!.exec(request);
      expect(direct.exitCode).toBe(0);
      expect(direct.stdout.toString()).toBe(viaApi.stdout.toString());
      expect(viaApi.stdout.toString()).toMatch(/^EXTRA=x$/m);
      expect(viaApi.stdout.toString()).toMatch(/^HOME=\//m);
    } finally {
      await sandbox.destroy();
    }
  });
});
