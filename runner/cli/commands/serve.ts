/** `rigor serve`: the sandbox core behind E2B's API, on loopback, until Ctrl-C. */
import { InputError } from '../../../base/errors.ts';
import { backendNames, getBackend } from '../../../sandbox-core/backends/registry.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, isLoopbackHost, startE2bServer } from '../../../sandbox-core/e2b/index.ts';
import type { RigorCommand } from '../command.ts';
import { exitCodeFor, listenForInterrupt } from '../../run/interrupt.ts';

export const serveCommand: RigorCommand = {
  command: 'serve',
  describe: "Serve the sandbox core through E2B's API (control plane and envd) on loopback, for the unmodified e2b SDK",
  builder: (yargs) =>
    yargs
      .option('backend', { type: 'string', default: 'bwrap', describe: `backend of sandboxes whose template names none (${backendNames.join(', ')}); a template named after a backend runs on it` })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'loopback address to listen on (127.0.0.0/8, ::1, localhost); others are refused' })
      .option('port', { type: 'number', default: 0, describe: 'port (0 = a free one, printed)' })
      .option('api-key', { type: 'string', describe: 'API key the SDK must send (E2B_API_KEY); default $RIGOR_E2B_API_KEY, else a random one, printed' })
      .option('max-upload-bytes', { type: 'number', default: DEFAULT_MAX_UPLOAD_BYTES, describe: 'largest file upload or RPC message accepted (413 beyond)' })
      .example('$0 serve --backend bwrap --port 3000', 'then run an e2b SDK program with the printed E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY'),
  handler: async (args) => {
    const host = String(args.host);
    if (!isLoopbackHost(host)) throw new InputError(`--host: expected a loopback address (127.0.0.0/8, ::1 or localhost), found ${host}`);
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port: expected a port number 0..65535, found ${args.port}`);
    const maxUploadBytes = Number(args.maxUploadBytes);
    if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1) throw new InputError(`--max-upload-bytes: expected a whole number of bytes >= 1, found ${args.maxUploadBytes}`);
    let backend;
    try {
      backend = getBackend(String(args.backend));
    } catch (error) {
      throw new InputError(`--backend: ${(error as Error).message}`);
    }
    const available = await backend.available();
    if (!available.ok) throw new InputError(`--backend ${backend.name} cannot run on this host: ${available.reason}`);
    const apiKey = (args.apiKey as string | undefined) ?? process.env.RIGOR_E2B_API_KEY;
    const server = await startE2bServer({
      backend,
      // A template named after another backend runs there when that backend works on this host.
      backendByName: (name) => (name === backend.name ? backend : backendNames.includes(name) ? getBackend(name) : undefined),
      host,
      port,
      maxUploadBytes,
      ...(apiKey ? { apiKey } : {}),
      log: (message) => process.stderr.write(`rigor serve: ${message}\n`),
    });
    process.stdout.write(
      `rigor serve: E2B API on ${server.url}, sandboxes on ${backend.name}. Point the e2b SDK here with:\n` +
        Object.entries(server.sdkEnv)
          .map(([name, value]) => `export ${name}=${value}\n`)
          .join(''),
    );
    const interrupt = listenForInterrupt();
    await new Promise((resolve) => interrupt.signal.addEventListener('abort', resolve, { once: true }));
    process.stderr.write('rigor serve: stopping, destroying every sandbox\n');
    await server.close();
    interrupt.dispose();
    return exitCodeFor(interrupt.received() ?? 'SIGINT');
  },
};
