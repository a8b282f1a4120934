/**
 * `e2b`: any E2B-compatible endpoint as a backend, driven through the official
 * SDK, so the lifecycle and exec rigs measure a hosted service with the same
 * clocks as a local backend. The endpoint is E2B's own (or a self-hosted one)
 * from the SDK's environment — E2B_API_KEY, and E2B_API_URL / E2B_SANDBOX_URL
 * or E2B_DOMAIN — or, with the variant option `serve: <backend>`, rigor's own
 * server on loopback over that backend, started with the first sandbox.
 * An exec of `/bin/bash -l -c CMD` is the SDK's `commands.run(CMD)` as is;
 * any other argv runs shell-quoted inside it. The guest clock is not the
 * SDK's to give: guest stamps are NaN.
 */
import { shellQuote } from '../../base/shell-quote.ts';
import { startE2bServer, type E2bServer } from '../e2b/server.ts';
import type { Session } from '../e2b/sessions.ts';
import type { Backend, ExecRequest, ExecResult, Sandbox, SandboxSpec, SandboxStats } from './types.ts';

type SdkSandbox = import('e2b').Sandbox;
interface Endpoint {
  apiUrl?: string;
  sandboxUrl?: string;
  apiKey?: string;
}

/** The command line the SDK's commands.run is given for an argv: `/bin/bash -l -c CMD` is CMD (the SDK runs every command so); any other argv, shell-quoted. */
export function commandLine(argv: string[]): string {
  return argv.length === 4 && argv[0] === '/bin/bash' && argv[1] === '-l' && argv[2] === '-c' ? argv[3]! : shellQuote(argv);
}

/** The core sandbox behind a sandbox of rigor's own server, run as the server runs a command the SDK started (no stdin). */
function directPath(session: Session): NonNullable<Sandbox['direct']> {
  return {
    async exec(request: ExecRequest): Promise<ExecResult> {
      // The SDK's commands.run starts `/bin/bash -l -c CMD` with the request's envs and cwd; the server adds PATH, HOME and its marker.
      const config = { cmd: '/bin/bash', args: ['-l', '-c', commandLine(request.argv)], envs: request.env ?? {}, ...(request.cwd ? { cwd: request.cwd } : {}) };
      // No timeoutMs: the server gives its commands none either (the SDK's timeout is the client's). It always asks for streamed output.
      const onOutput = request.onOutput ?? (() => {});
      return session.sandbox.exec({ ...(await session.processes.execRequest(config)), onOutput, ...(request.stdin !== undefined ? { stdin: request.stdin } : {}) });
    },
  };
}

class E2bSandbox implements Sandbox {
  readonly backend = 'e2b';
  readonly bootStages = [];
  constructor(
    private readonly sdk: SdkSandbox,
    readonly phases: { ready: number },
    readonly facts: Record<string, unknown>,
    readonly direct?: Sandbox['direct'],
  ) {}

  get id(): string {
    return this.sdk.sandboxId;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const { CommandExitError } = await import('e2b');
    const start = performance.now();
    const argv = request.argv;
    const command = commandLine(argv);
    const heard = request.onOutput;
    const options = {
      ...(request.env ? { envs: request.env } : {}),
      ...(request.cwd ? { cwd: request.cwd } : {}),
      // The SDK's onStdout/onStderr, as its events come (decoded to text by the SDK).
      ...(heard ? { onStdout: (text: string) => heard('stdout', Buffer.from(text)), onStderr: (text: string) => heard('stderr', Buffer.from(text)) } : {}),
      timeoutMs: request.timeoutMs ?? 0,
    };
    let result: { exitCode: number; stdout: string; stderr: string };
    try {
      if (request.stdin === undefined) result = await this.sdk.commands.run(command, options);
      else {
        const handle = await this.sdk.commands.run(command, { ...options, background: true, stdin: true });
        await this.sdk.commands.sendStdin(handle.pid, typeof request.stdin === 'string' ? request.stdin : Buffer.from(request.stdin).toString());
        await this.sdk.commands.closeStdin(handle.pid);
        result = await handle.wait();
      }
    } catch (error) {
      if (!(error instanceof CommandExitError)) throw error;
      result = error;
    }
    return {
      exitCode: result.exitCode,
      signal: null,
      stdout: Buffer.from(result.stdout),
      stderr: Buffer.from(result.stderr),
      guest: { received: Number.NaN, spawned: Number.NaN, exited: Number.NaN },
      roundTripMs: performance.now() - start,
      timedOut: false,
    };
  }

  async writeFile(path: string, data: string | Uint8Array): Promise<void> {
    await this.sdk.files.write(path, typeof data === 'string' ? data : new Uint8Array(data).buffer);
  }

  async readFile(path: string): Promise<Buffer> {
    return Buffer.from(await this.sdk.files.read(path, { format: 'bytes' }));
  }

  async ping(): Promise<number> {
    const start = performance.now();
    if (!(await this.sdk.isRunning())) throw new Error(`e2b sandbox ${this.id} is not running`);
    return performance.now() - start;
  }

  async pause(): Promise<void> {
    throw new Error('the e2b backend does not pause sandboxes');
  }

  async resume(): Promise<void> {
    throw new Error('the e2b backend does not pause sandboxes');
  }

  async stats(): Promise<SandboxStats> {
    throw new Error('the e2b backend has no host-side stats: the sandbox runs behind the API');
  }

  async destroy(): Promise<void> {
    await this.sdk.kill().catch(() => undefined);
  }
}

/** The e2b backend; `lookup` names the backends `serve` may put behind a loopback server (the registry's). */
export function makeE2bBackend(lookup: (name: string) => Backend): Backend {
  const variants = new Map<string, Backend>();

  function backend(serve: string | undefined): Backend {
    let server: Promise<E2bServer> | undefined;
    async function endpoint(): Promise<Endpoint> {
      if (serve === undefined) return {};
      server ??= startE2bServer({ backend: lookup(serve) }).then((started) => {
        // The server lives as long as the process: it must not keep a finished run (or a test worker) alive.
        started.unref();
        return started;
      });
      const { url, apiKey } = await server;
      return { apiUrl: url, sandboxUrl: url, apiKey };
    }
    return {
      name: 'e2b',
      variantOptions: ['serve'],
      variantProblems: (options) => {
        if (options.serve === undefined) return [];
        if (typeof options.serve !== 'string' || options.serve === 'e2b') return [`serve: expected the name of a backend other than e2b, found ${JSON.stringify(options.serve)}`];
        try {
          lookup(options.serve);
          return [];
        } catch (error) {
          return [`serve: ${(error as Error).message.replace(/^unknown sandbox backend/, 'expected a backend name, found')}`];
        }
      },
      variant: (options) => {
        const name = options.serve === undefined ? undefined : String(options.serve);
        const key = name ?? '';
        if (!variants.has(key)) variants.set(key, backend(name));
        return variants.get(key)!;
      },
      async available() {
        if (serve !== undefined) return lookup(serve).available();
        if (!process.env.E2B_API_KEY) return { ok: false, reason: 'E2B_API_KEY is not set (and E2B_API_URL / E2B_SANDBOX_URL or E2B_DOMAIN for a service other than e2b.app), nor params.serve' };
        return { ok: true };
      },
      async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
        const { Sandbox: Sdk } = await import('e2b');
        const start = performance.now();
        const sdk = await Sdk.create({ ...(await endpoint()), ...(spec.env ? { envs: spec.env } : {}), ...(options.signal ? { signal: options.signal } : {}) } as Parameters<typeof Sdk.create>[0]);
        const facts = { endpoint: serve === undefined ? (process.env.E2B_API_URL ?? `https://api.${process.env.E2B_DOMAIN ?? 'e2b.app'}`) : `rigor serve on loopback over ${serve}` };
        const ready = performance.now() - start;
        const session = server && (await server).sessions.get(sdk.sandboxId);
        return new E2bSandbox(sdk, { ready }, facts, session ? directPath(session) : undefined);
      },
    };
  }
  return backend(undefined);
}
