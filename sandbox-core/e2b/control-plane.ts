/**
 * E2B's control plane REST API, the part the SDK's Sandbox class uses:
 * create (POST /v2/sandboxes), get (GET /sandboxes/:id), list (GET /v2/sandboxes,
 * GET /sandboxes), set timeout (POST /sandboxes/:id/timeout), kill
 * (DELETE /sandboxes/:id) and connect (POST /v2/sandboxes/:id/connect).
 * The template names a backend when it is one's name; otherwise the server's
 * default backend runs it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../backends/types.ts';
import { ApiError, field, readJsonObject, sendJson, stringRecord } from './http.ts';
import { DEFAULT_TIMEOUT_S, type Session, type Sessions } from './sessions.ts';

/** The envd version the server says its sandboxes run: the SDK turns features on by it (0.5.2 closeStdin, 0.5.7 octet-stream upload). */
export const ENVD_VERSION = '0.5.7';
const JSON_LIMIT = 1024 * 1024;

export interface ControlPlaneOptions {
  sessions: Sessions;
  defaultBackend: Backend;
  /** Backends a template name may pick; others run on the default. */
  backendByName: (name: string) => Backend | undefined;
  note: (message: string) => void;
}

function info(session: Session) {
  return {
    sandboxID: session.id,
    templateID: session.templateId,
    clientID: 'rigor',
    startedAt: session.startedAt.toISOString(),
    endAt: session.endAt.toISOString(),
    state: 'running',
    cpuCount: 1,
    memoryMB: 512,
    diskSizeMB: 0,
    metadata: session.metadata,
    envdVersion: ENVD_VERSION,
  };
}

function created(session: Session) {
  return { sandboxID: session.id, templateID: session.templateId, clientID: 'rigor', envdVersion: ENVD_VERSION, envdAccessToken: session.envdAccessToken };
}

function timeoutSeconds(body: Record<string, unknown>): number | undefined {
  const timeout = field(body, 'timeout', 'number');
  if (timeout !== undefined && (timeout < 0 || !Number.isInteger(timeout))) throw new ApiError(400, `field timeout: expected whole seconds >= 0, found ${timeout}`);
  return timeout;
}

/** `metadata=k%3Dv%26k2%3Dv2` as the SDK sends a list filter. */
function metadataFilter(query: URLSearchParams): Record<string, string> {
  const raw = query.get('metadata');
  if (!raw) return {};
  return Object.fromEntries([...new URLSearchParams(raw)].map(([key, value]) => [decodeURIComponent(key), decodeURIComponent(value)]));
}

export function controlPlane(options: ControlPlaneOptions) {
  const { sessions } = options;
  const notedTemplates = new Set<string>();

  function live(id: string): Session {
    const session = sessions.get(id);
    if (session) return session;
    const gone = sessions.goneReason(id);
    throw new ApiError(404, `sandbox "${id}" not found${gone ? `: ${gone}` : ''}`);
  }

  function backendFor(templateId: string): Backend {
    const named = options.backendByName(templateId);
    if (named) return named;
    if (!notedTemplates.has(templateId)) {
      notedTemplates.add(templateId);
      options.note(`template ${JSON.stringify(templateId)} names no backend: its sandboxes run on ${options.defaultBackend.name}`);
    }
    return options.defaultBackend;
  }

  /** Answers the request if its path is the control plane's; false otherwise. */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    let match: RegExpMatchArray | null;
    if (path === '/v2/sandboxes' && method === 'POST') {
      const body = await readJsonObject(req, JSON_LIMIT);
      const templateId = field(body, 'templateID', 'string') ?? 'base';
      const session = await sessions.create(backendFor(templateId), {
        templateId,
        timeoutS: timeoutSeconds(body) ?? DEFAULT_TIMEOUT_S,
        metadata: stringRecord(body, 'metadata'),
        envs: stringRecord(body, 'envVars'),
      });
      sendJson(res, 201, created(session));
      return true;
    }
    if ((path === '/v2/sandboxes' || path === '/sandboxes') && method === 'GET') {
      const states = (url.searchParams.get('state') ?? '').split(',').filter((s) => s !== '');
      const wanted = metadataFilter(url.searchParams);
      const listed = states.length > 0 && !states.includes('running') ? [] : sessions.list().filter((s) => Object.entries(wanted).every(([k, v]) => s.metadata[k] === v));
      sendJson(res, 200, listed.map(info));
      return true;
    }
    if ((match = path.match(/^\/sandboxes\/([^/]+)$/))) {
      const id = decodeURIComponent(match[1]!);
      if (method === 'GET') {
        sendJson(res, 200, info(live(id)));
        return true;
      }
      if (method === 'DELETE') {
        live(id);
        await sessions.destroy(id, 'killed');
        res.writeHead(204).end();
        return true;
      }
    }
    if ((match = path.match(/^\/sandboxes\/([^/]+)\/timeout$/)) && method === 'POST') {
      const session = live(decodeURIComponent(match[1]!));
      const timeout = timeoutSeconds(await readJsonObject(req, JSON_LIMIT));
      if (timeout === undefined) throw new ApiError(400, 'field timeout: expected whole seconds, found nothing');
      sessions.setTimeout(session, timeout);
      res.writeHead(204).end();
      return true;
    }
    if ((match = path.match(/^\/v2\/sandboxes\/([^/]+)\/connect$/)) && method === 'POST') {
      const session = live(decodeURIComponent(match[1]!));
      const timeout = timeoutSeconds(await readJsonObject(req, JSON_LIMIT));
      // As E2B does: connecting extends a running sandbox's life to at least `timeout` from now, never shortens it.
      if (timeout !== undefined && Date.now() + timeout * 1000 > session.endAt.getTime()) sessions.setTimeout(session, timeout);
      sendJson(res, 200, created(session));
      return true;
    }
    return false;
  };
}
