/**
 * The in-sandbox daemon's ("envd") API, served by the host for each sandbox:
 * GET /health, GET and POST /files (download, upload: multipart or
 * octet-stream, at most `maxUploadBytes`), and the Connect services
 * process.Process and filesystem.Filesystem. The server resolves which
 * sandbox a request is for (and checks its token) before anything here runs;
 * handlers get that sandbox only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { ApiError, readBody, sendJson } from './http.ts';
import { FsError, type Entry } from './files.ts';
import { ProcessNotFoundError, type ProcessRecord } from './processes.ts';
import { envdMessage, FilesystemService, ProcessService, Signal } from './protocol.ts';
import type { Session } from './sessions.ts';

export const sessionKey = createContextKey<Session | undefined>(undefined, { description: 'the sandbox a request is for' });

// Messages of the runtime-built descriptors are untyped: requests are read through these shapes.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function message(name: string, init: Record<string, unknown>) {
  const desc: DescMessage = envdMessage(name);
  return create(desc, init as MessageInitShape<DescMessage>);
}

function sessionOf(context: HandlerContext): Session {
  const session = context.values.get(sessionKey);
  if (!session) throw new ConnectError('no sandbox for this request', Code.Internal);
  return session;
}

function fsError(error: unknown): never {
  if (error instanceof FsError) throw new ConnectError(error.message, error.kind === 'not-found' ? Code.NotFound : error.kind === 'exists' ? Code.AlreadyExists : Code.InvalidArgument);
  throw new ConnectError(error instanceof Error ? error.message : String(error), Code.Internal);
}

function entryInfo(entry: Entry) {
  return { ...entry, modifiedTime: timestampFromDate(entry.modifiedTime) };
}

function selected(session: Session, selector: Any): ProcessRecord {
  try {
    const sel = selector?.selector;
    return session.processes.find(sel?.case === 'tag' ? { tag: sel.value } : { pid: sel?.value });
  } catch (error) {
    if (error instanceof ProcessNotFoundError) throw new ConnectError(error.message, Code.NotFound);
    throw error;
  }
}

function data(responseName: string, stream: 'stdout' | 'stderr', chunk: Uint8Array) {
  return message(responseName, { event: { event: { case: 'data', value: { output: { case: stream, value: chunk } } } } });
}

/** The events of a process from now: Start, its output as the agent streams it, the output never streamed, End. */
async function* events(record: ProcessRecord, responseName: string) {
  // Listening before the first yield: nothing the agent streams can come in between (no I/O runs before it).
  const queue: { stream: 'stdout' | 'stderr'; chunk: Buffer }[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const stop = record.listen((stream, chunk) => {
    queue.push({ stream, chunk });
    wake?.();
  });
  void record.outcome.then(() => {
    ended = true;
    wake?.();
  });
  try {
    yield message(responseName, { event: { event: { case: 'start', value: { pid: record.pid } } } });
    for (;;) {
      for (let next = queue.shift(); next; next = queue.shift()) yield data(responseName, next.stream, next.chunk);
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stop();
  }
  const outcome = await record.outcome;
  if ('error' in outcome) {
    yield message(responseName, { event: { event: { case: 'end', value: { exitCode: -1, exited: false, status: 'error', error: outcome.error } } } });
    return;
  }
  const { result } = outcome;
  // What the agent did not stream (an agent built before streaming sends everything here).
  const stdout = result.stdout.subarray(Math.min(record.streamed.stdout, result.stdout.length));
  const stderr = result.stderr.subarray(Math.min(record.streamed.stderr, result.stderr.length));
  if (stdout.length > 0) yield data(responseName, 'stdout', stdout);
  if (stderr.length > 0) yield data(responseName, 'stderr', stderr);
  const exitCode = result.exitCode ?? -1;
  const status = result.signal ? `signal: ${result.signal}` : `exit status ${exitCode}`;
  yield message(responseName, { event: { event: { case: 'end', value: { exitCode, exited: result.signal === null, status } } } });
}

export function envdRoutes(router: ConnectRouter): void {
  router.service(ProcessService, {
    async *start(request: Any, context: HandlerContext) {
      const session = sessionOf(context);
      const config = request.process;
      if (!config?.cmd) throw new ConnectError('process.cmd is required', Code.InvalidArgument);
      if (request.pty) throw new ConnectError('pty is not supported by this server', Code.Unimplemented);
      let record: ProcessRecord;
      try {
        record = await session.processes.start(
          { cmd: config.cmd, args: [...config.args], envs: { ...config.envs }, ...(config.cwd ? { cwd: config.cwd } : {}) },
          { stdin: request.stdin === true, ...(request.tag !== undefined ? { tag: request.tag } : {}) },
        );
      } catch (error) {
        throw new ConnectError(error instanceof Error ? error.message : String(error), Code.InvalidArgument);
      }
      yield* events(record, 'process.StartResponse');
    },
    async *connect(request: Any, context: HandlerContext) {
      yield* events(selected(sessionOf(context), request.process), 'process.ConnectResponse');
    },
    async list(_request: Any, context: HandlerContext) {
      const processes = sessionOf(context).processes.list().map((r) => ({ pid: r.pid, config: r.config, ...(r.tag !== undefined ? { tag: r.tag } : {}) }));
      return message('process.ListResponse', { processes });
    },
    async sendSignal(request: Any, context: HandlerContext) {
      const session = sessionOf(context);
      const record = selected(session, request.process);
      await session.processes.signal(record, request.signal === Signal.SIGTERM ? 'TERM' : 'KILL');
      return message('process.SendSignalResponse', {});
    },
    async sendInput(request: Any, context: HandlerContext) {
      const session = sessionOf(context);
      const record = selected(session, request.process);
      if (request.input?.input?.case !== 'stdin') throw new ConnectError('only stdin input is supported (no pty)', Code.Unimplemented);
      await session.processes.sendInput(record, request.input.input.value).catch((e: Error) => {
        throw new ConnectError(e.message, Code.FailedPrecondition);
      });
      return message('process.SendInputResponse', {});
    },
    async closeStdin(request: Any, context: HandlerContext) {
      const session = sessionOf(context);
      await session.processes.closeStdin(selected(session, request.process)).catch((e: Error) => {
        throw new ConnectError(e.message, Code.FailedPrecondition);
      });
      return message('process.CloseStdinResponse', {});
    },
    async update() {
      throw new ConnectError('pty is not supported by this server', Code.Unimplemented);
    },
    async streamInput() {
      throw new ConnectError('streamed input is not supported by this server: use SendInput', Code.Unimplemented);
    },
  } as Any);

  router.service(FilesystemService, {
    async stat(request: Any, context: HandlerContext) {
      const entry = await sessionOf(context).files.stat(request.path).catch(fsError);
      return message('filesystem.StatResponse', { entry: entryInfo(entry) });
    },
    async listDir(request: Any, context: HandlerContext) {
      const entries = await sessionOf(context).files.list(request.path, request.depth || 1).catch(fsError);
      return message('filesystem.ListDirResponse', { entries: entries.map(entryInfo) });
    },
    async makeDir(request: Any, context: HandlerContext) {
      const entry = await sessionOf(context).files.makeDir(request.path).catch(fsError);
      return message('filesystem.MakeDirResponse', { entry: entryInfo(entry) });
    },
    async remove(request: Any, context: HandlerContext) {
      await sessionOf(context).files.remove(request.path).catch(fsError);
      return message('filesystem.RemoveResponse', {});
    },
    async move(request: Any, context: HandlerContext) {
      const entry = await sessionOf(context).files.move(request.source, request.destination).catch(fsError);
      return message('filesystem.MoveResponse', { entry: entryInfo(entry) });
    },
    async *watchDir() {
      throw new ConnectError('watching a directory is not supported by this server', Code.Unimplemented);
    },
    async createWatcher() {
      throw new ConnectError('watching a directory is not supported by this server', Code.Unimplemented);
    },
    async getWatcherEvents() {
      throw new ConnectError('watching a directory is not supported by this server', Code.Unimplemented);
    },
    async removeWatcher() {
      throw new ConnectError('watching a directory is not supported by this server', Code.Unimplemented);
    },
  } as Any);
}

/** Multipart bodies parsed by the platform's own Request (undici), not by hand. */
async function uploadedFiles(req: IncomingMessage, body: Buffer, path: string | null): Promise<{ path: string; data: Uint8Array }[]> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Request('http://upload/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) }).formData();
    } catch (error) {
      throw new ApiError(400, `malformed multipart body: ${(error as Error).message}`);
    }
    const files: { path: string; data: Uint8Array }[] = [];
    for (const value of form.getAll('file')) {
      if (typeof value === 'string') throw new ApiError(400, 'multipart field "file" must be a file');
      const target = path ?? value.name;
      if (!target) throw new ApiError(400, 'no path for an uploaded file: give ?path= or a file name');
      files.push({ path: target, data: new Uint8Array(await value.arrayBuffer()) });
    }
    if (files.length === 0) throw new ApiError(400, 'multipart body has no "file" field');
    return files;
  }
  if (type.startsWith('application/octet-stream')) {
    if (req.headers['content-encoding']) throw new ApiError(400, `content encoding ${req.headers['content-encoding']} is not supported`);
    if (!path) throw new ApiError(400, 'query parameter path is required for an octet-stream upload');
    return [{ path, data: body }];
  }
  throw new ApiError(400, `content type ${JSON.stringify(type)} is not an upload: expected multipart/form-data or application/octet-stream`);
}

/** GET /health, GET /files, POST /files; false for other paths. */
export async function envdHttp(session: Session, req: IncomingMessage, res: ServerResponse, url: URL, maxUploadBytes: number): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (url.pathname === '/health' && method === 'GET') {
    res.writeHead(204).end();
    return true;
  }
  if (url.pathname !== '/files') return false;
  const path = url.searchParams.get('path');
  if (method === 'GET') {
    if (!path) throw new ApiError(400, 'query parameter path is required');
    const data = await session.files.read(path).catch((error: unknown) => {
      if (error instanceof FsError) throw new ApiError(error.kind === 'not-found' ? 404 : 400, error.message);
      throw error;
    });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
    return true;
  }
  if (method === 'POST') {
    const body = await readBody(req, maxUploadBytes);
    const written = [];
    for (const file of await uploadedFiles(req, body, path)) {
      await session.files.write(file.path, file.data);
      written.push({ name: file.path.slice(file.path.lastIndexOf('/') + 1), type: 'file', path: file.path });
    }
    sendJson(res, 200, written);
    return true;
  }
  return false;
}
