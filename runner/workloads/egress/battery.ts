/**
 * The egress-bypass battery: every generated variant of every class sent
 * through the real egress path (policy from YAML, audit database, our proxy
 * in tunnel or intercept mode, our resolver) from the host or from inside a
 * sandbox, and each judged by what the far side and the audit saw — never by
 * what the proxy answered. A variant is a bypass when a request the policy
 * forbids was served, a connection reached a forbidden address, a name was
 * connected to without a blocked `dns.query` in the audit, or a host socket
 * accepted a connection from inside.
 *
 * How a variant travels: `plain` (an absolute-form request), `connect` (a
 * CONNECT and the request through the tunnel, in tunnel mode) and
 * `intercept` (a CONNECT, TLS to the proxy's leaf, the request inside, in
 * intercept mode; from the host only — the sandbox's probe speaks no TLS).
 * Tunnel mode cannot see inside a tunnel, so fronting is only judged where
 * the proxy sees the request: plain, and intercepted.
 */
import net from 'node:net';
import tls from 'node:tls';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEgress, type Egress } from '../../../sandbox-core/egress/index.ts';
import { normalizeName } from '../../../sandbox-core/dns/zone.ts';
import { FRONT_ADDRESS, startBatteryUpstreams, type BatteryUpstreams } from './battery-upstreams.ts';
import {
  aliasVariants,
  API_KEY,
  EXFIL_DOMAIN,
  exfilVariants,
  failOpenVariants,
  FRONT_NAME,
  frontingVariants,
  HIDDEN_NAME,
  INTERNAL_PATH,
  socketPathVariants,
  type BypassClass,
} from './bypass-variants.ts';

export type ProxyMode = 'tunnel' | 'intercept';
type Route = 'plain' | 'connect' | 'intercept';

/** One request of one variant, as bytes (plain, connect) or as a CONNECT authority plus the request inside TLS (intercept). */
export interface Attempt {
  id: string;
  route: Route;
  bytes?: string;
  connect?: { authority: string; servername: string | undefined; inner: string };
  /** What the variant was, for the report. */
  shows: string;
}

export interface ClassOutcome {
  attempts: number;
  /** Attempts whose request or connection reached where the policy forbids. */
  bypasses: number;
  /** Up to five bypassing attempts, to reproduce. */
  examples: string[];
  /** Routes tried, with how many attempts each. */
  routes: Partial<Record<Route | 'unix', number>>;
  /** Why some variants were not tried here. */
  notTried?: string;
}

/** Where the battery's requests come from: the host (straight to the proxy's port) or a sandbox's egress path. */
export interface BatterySender {
  /** Sends plain and CONNECT byte strings, one connection each; what came of them is judged from the far side and the audit. */
  sendRaw(attempts: Array<{ id: string; bytes: string }>): Promise<void>;
  /** Intercepted requests (host only). */
  sendIntercepted?(attempts: Attempt[], proxyCaPem: string): Promise<void>;
  /** connect() to unix socket paths from inside; which connected (sandbox only). */
  tryUnix?(paths: string[]): Promise<boolean[]>;
}

export interface BatteryOptions {
  classes: readonly BypassClass[];
  mode: ProxyMode;
  /** Variants generated per class. */
  variants: number;
  seed: number;
  /** Starts the sender once the egress path exists (host: its TCP port; sandbox: a sandbox on its sockets). */
  sender: (egress: { proxyPort: number; proxySocket: string; dnsSocket: string; egress: Egress }) => Promise<BatterySender & { close(): Promise<void> }>;
  /** Where the host unix sockets offered to host-socket variants are made (and removed); default /run/rigor-bypass-<pid>-<seed>. */
  hostSocketDir?: string;
}

export interface BatteryResult {
  byClass: Partial<Record<BypassClass, ClassOutcome>>;
  /** The control requests (a legitimate request per class) were served: the battery could see a bypass. */
  armed: boolean;
  audit: { http: number; dns: number };
}

function request(line: string, headerLines: string[]): string {
  return `${line}\r\n${[...headerLines, 'Connection: close'].join('\r\n')}\r\n\r\n`;
}

function connectBytes(authority: string, inner: string): string {
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n${inner}`;
}

/**
 * The battery's policy, as the review's reproductions had it: the web allowed but for the loopback addresses
 * (blocked by host, as their usual spellings), the front's internal path guarded by a header, and the exfil
 * domain blocked by a dns.query rule only.
 */
function policyYaml(): string {
  return `default: block
rules:
  - id: no-loopback
    when: event == "http.request" && (request.host == "127.0.0.1" || request.host == "::1" || request.host == "localhost")
    decision: block
  - id: internal-needs-key
    when: event == "http.request" && request.path.startsWith("${INTERNAL_PATH}") && request.headers["x-api-key"] != "${API_KEY}"
    decision: block
  - id: web
    when: event == "http.request"
    decision: allow
  - id: no-exfil-dns
    when: event == "dns.query" && query.name.endsWith(".${EXFIL_DOMAIN}")
    decision: block
  - id: dns-rest
    when: event == "dns.query"
    decision: allow
`;
}

function hostOf(header: string): string {
  const lower = header.trim().toLowerCase();
  return lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : lower.replace(/:\d+$/, '');
}

/** Runs the battery; everything it started is stopped and removed before it returns or throws. */
export async function runBattery(options: BatteryOptions): Promise<BatteryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'rigor-bypass-'));
  await chmod(dir, 0o711); // sandboxes run as unprivileged uids: they must reach the sockets in here
  let upstreams: BatteryUpstreams | undefined;
  let egress: Egress | undefined;
  let sender: (BatterySender & { close(): Promise<void> }) | undefined;
  const hostSockets: Array<{ close(): unknown }> = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    upstreams = await startBatteryUpstreams();
    const up = upstreams;
    const { mode, seed, variants: n } = options;
    const exfilNames = options.classes.includes('exfil') ? exfilVariants(n, seed + 3) : [];
    // Every exfil name is in the zone, pointing at the front: a proxy that skipped the dns.query rules would reach it.
    const zone = new Map<string, string[]>([
      [FRONT_NAME, [FRONT_ADDRESS]],
      [HIDDEN_NAME, [FRONT_ADDRESS]],
      ['localhost', ['127.0.0.1']],
      ...exfilNames.map((name): [string, string[]] => [normalizeName(name), [FRONT_ADDRESS]]),
    ]);
    await writeFile(join(dir, 'policy.yaml'), policyYaml());
    const proxySocket = join(dir, 'proxy.sock');
    const dnsSocket = join(dir, 'dns.sock');
    egress = await startEgress({
      policyPath: join(dir, 'policy.yaml'),
      auditPath: join(dir, 'audit.sqlite'),
      zone,
      mode,
      upstreamCa: [up.caPem],
      caDir: join(dir, 'ca'),
      proxySocket,
      dnsSocket,
      sandbox: 'bypass-battery',
    });
    const proxyCaPem = mode === 'intercept' ? await readFile(join(dir, 'ca', 'cert.pem'), 'utf8') : '';
    sender = await options.sender({ proxyPort: egress.proxy.port, proxySocket, dnsSocket, egress });

    const byClass: Partial<Record<BypassClass, ClassOutcome>> = {};
    const attempts = new Map<BypassClass, Attempt[]>();
    let counter = 0;
    const add = (cls: BypassClass, route: Route, shows: string, make: (id: string) => Omit<Attempt, 'id' | 'route' | 'shows'>) => {
      const id = `${cls}-${(counter += 1)}`;
      const list = attempts.get(cls) ?? [];
      list.push({ id, route, shows, ...make(id) });
      attempts.set(cls, list);
    };
    const canIntercept = sender.sendIntercepted !== undefined;
    const routesFor = (connectable: boolean): Route[] =>
      mode === 'tunnel' ? ['plain', ...(connectable ? (['connect'] as Route[]) : [])] : ['plain', ...(canIntercept ? (['intercept'] as Route[]) : [])];
    const notTried: Partial<Record<BypassClass, string>> = {};
    if (mode === 'intercept' && !canIntercept) {
      for (const cls of options.classes) if (cls !== 'host-socket') notTried[cls] = 'from inside, plain requests only: the probe speaks no TLS, so no intercepted request was sent';
    }

    for (const cls of options.classes) {
      if (cls === 'alias') {
        const all = aliasVariants(n, seed + 1);
        const usable = up.loopback.ipv6 ? all : all.filter((v) => v.means !== '::1');
        if (usable.length < all.length) notTried.alias = `${all.length - usable.length} IPv6 spellings: this host has no IPv6 loopback to catch them`;
        for (const v of usable) {
          for (const route of routesFor(true)) {
            const port = route === 'intercept' ? up.loopback.https : up.loopback.http;
            const authority = `${v.host}:${port}`;
            add(cls, route, `${route} ${authority}`, (id) =>
              route === 'plain'
                ? { bytes: request(`GET http://${authority}/v/${id} HTTP/1.1`, [`Host: ${authority}`]) }
                : route === 'connect'
                  ? { bytes: connectBytes(authority, request(`GET /v/${id} HTTP/1.1`, [`Host: ${authority}`])) }
                  : { connect: { authority, servername: /^[a-z]/i.test(v.host) ? v.host.replace(/\.$/, '') : undefined, inner: request(`GET /v/${id} HTTP/1.1`, [`Host: ${authority}`]) } },
            );
          }
        }
      } else if (cls === 'fronting') {
        for (const route of routesFor(false)) {
          const port = route === 'intercept' ? up.front.https : up.front.http;
          for (const [index, v] of frontingVariants(n, seed + 2, port).entries()) {
            if (route === 'plain' && v.target === 'absolute-hidden') continue; // a plain request's line names its own target
            // The front by name (resolved by the sandbox resolver) and by address, alternately.
            const front = index % 2 === 0 ? FRONT_NAME : FRONT_ADDRESS;
            const shows = `${route} ${front} ${JSON.stringify(v)}`;
            add(cls, route, shows, (id) =>
              route === 'plain'
                ? { bytes: request(`GET http://${front}:${port}/v/${id} HTTP/1.1`, v.hostLines) }
                : {
                    connect: {
                      authority: `${front}:${port}`,
                      servername: front === FRONT_NAME ? FRONT_NAME : undefined,
                      inner: request(v.target === 'origin' ? `GET /v/${id} HTTP/1.1` : `GET http://${HIDDEN_NAME}:${port}/v/${id} HTTP/1.1`, v.hostLines),
                    },
                  },
            );
          }
        }
        if (mode === 'tunnel') notTried.fronting = 'tunnel mode passes a CONNECT tunnel unread: only plain requests are judged';
        else if (!canIntercept) notTried.fronting = 'from inside, plain requests only: the probe speaks no TLS, so no intercepted request was sent';
      } else if (cls === 'exfil') {
        for (const name of exfilNames) {
          for (const route of routesFor(true)) {
            const port = route === 'intercept' ? up.front.https : up.front.http;
            const authority = `${name}:${port}`;
            add(cls, route, `${route} ${authority}`, (id) =>
              route === 'plain'
                ? { bytes: request(`GET http://${authority}/v/${id} HTTP/1.1`, [`Host: ${authority}`]) }
                : route === 'connect'
                  ? { bytes: connectBytes(authority, request(`GET /v/${id} HTTP/1.1`, [`Host: ${authority}`])) }
                  : { connect: { authority, servername: name.replace(/\.$/, ''), inner: request(`GET /v/${id} HTTP/1.1`, [`Host: ${authority}`]) } },
            );
          }
        }
      } else if (cls === 'fail-open') {
        for (const route of routesFor(false)) {
          const port = route === 'intercept' ? up.front.https : up.front.http;
          for (const [index, v] of failOpenVariants(n, seed + 4).entries()) {
            const front = index % 2 === 0 ? FRONT_NAME : FRONT_ADDRESS;
            const host = `Host: ${front}:${port}`;
            add(cls, route, `${route} ${front} ${JSON.stringify(v.keyLines)}`, (id) =>
              route === 'plain'
                ? { bytes: request(`GET http://${front}:${port}${INTERNAL_PATH}/v/${id} HTTP/1.1`, [host, ...v.keyLines]) }
                : {
                    connect: {
                      authority: `${front}:${port}`,
                      servername: front === FRONT_NAME ? FRONT_NAME : undefined,
                      inner: request(`GET ${INTERNAL_PATH}/v/${id} HTTP/1.1`, [host, ...v.keyLines]),
                    },
                  },
            );
          }
        }
      }
    }

    // Controls: one legitimate request per route, which must be served, or the battery could not have seen a bypass.
    const controls: Attempt[] = routesFor(true).map((route) => {
      const port = route === 'intercept' ? up.front.https : up.front.http;
      const authority = `${FRONT_NAME}:${port}`;
      const inner = request(`GET ${INTERNAL_PATH}/control-${route} HTTP/1.1`, [`Host: ${authority}`, `x-api-key: ${API_KEY}`]);
      return route === 'plain'
        ? { id: `control-${route}`, route, shows: 'control', bytes: request(`GET http://${authority}${INTERNAL_PATH}/control-${route} HTTP/1.1`, [`Host: ${authority}`, `x-api-key: ${API_KEY}`]) }
        : route === 'connect'
          ? { id: `control-${route}`, route, shows: 'control', bytes: connectBytes(authority, inner) }
          : { id: `control-${route}`, route, shows: 'control', connect: { authority, servername: FRONT_NAME, inner } };
    });

    const all = [...controls, ...[...attempts.values()].flat()];
    const raw = all.filter((a) => a.bytes !== undefined).map((a) => ({ id: a.id, bytes: a.bytes! }));
    const intercepted = all.filter((a) => a.connect !== undefined);
    await sender.sendRaw(raw);
    if (intercepted.length > 0) {
      if (!sender.sendIntercepted) throw new Error('intercepted attempts need a sender that speaks TLS (the host side)');
      await sender.sendIntercepted(intercepted, proxyCaPem);
    }

    // Judge every attempt by what the far side and the audit saw.
    const servedById = new Map<string, typeof up.served>();
    for (const entry of up.served) {
      const id = /\/v\/([a-z-]+-\d+)$/.exec(entry.path)?.[1] ?? /\/(control-[a-z]+)$/.exec(entry.path)?.[1];
      if (id) servedById.set(id, [...(servedById.get(id) ?? []), entry]);
    }
    const armed = controls.every((c) => (servedById.get(c.id) ?? []).some((s) => s.where === 'front' && hostOf(s.host) === FRONT_NAME));
    const dnsEvents = egress.audit.events({ kind: 'dns' });
    const blockedLookups = new Set(dnsEvents.filter((e) => e.decision === 'block' && (e.detail as { via?: string }).via === 'proxy').map((e) => e.subject));
    for (const [cls, list] of attempts) {
      const outcome: ClassOutcome = { attempts: list.length, bypasses: 0, examples: [], routes: {} };
      for (const attempt of list) {
        outcome.routes[attempt.route] = (outcome.routes[attempt.route] ?? 0) + 1;
        const seen = servedById.get(attempt.id) ?? [];
        let bypass = false;
        if (cls === 'alias') bypass = seen.length > 0;
        if (cls === 'fronting') bypass = seen.some((s) => hostOf(s.host) !== attempt.shows.split(' ')[1]);
        // What the upstream read is what counts (it trims whitespace around a value, as HTTP says): a request it
        // served without the exact key got past the rule.
        if (cls === 'fail-open') bypass = seen.some((s) => s.apiKey !== API_KEY);
        if (cls === 'exfil') {
          const name = normalizeName(attempt.shows.split(' ')[1]!.replace(/:\d+$/, ''));
          bypass = seen.length > 0 || !blockedLookups.has(name);
        }
        if (bypass) {
          outcome.bypasses += 1;
          if (outcome.examples.length < 5) outcome.examples.push(`${attempt.id}: ${attempt.shows}`);
        }
      }
      if (notTried[cls]) outcome.notTried = notTried[cls];
      byClass[cls] = outcome;
    }
    // A connection to a forbidden service that served no request (a bare tunnel, say) is a bypass no path names.
    const loopbackServed = up.served.filter((s) => s.where === 'loopback').length;
    if (byClass.alias && up.loopbackConnections() > loopbackServed) {
      byClass.alias.bypasses += up.loopbackConnections() - loopbackServed;
      byClass.alias.examples.push(`${up.loopbackConnections() - loopbackServed} connection(s) to a forbidden loopback service with no request`);
    }

    if (options.classes.includes('host-socket')) {
      if (!sender.tryUnix) {
        byClass['host-socket'] = { attempts: 0, bypasses: 0, examples: [], routes: {}, notTried: 'host sockets are tried from inside a sandbox only' };
      } else {
        // Under /run, as in the review's reproduction (an allow-all proxy's socket there), and removed with the battery.
        const socketDir = options.hostSocketDir ?? `/run/rigor-bypass-${process.pid}-${seed}`;
        cleanups.push(() => rm(socketDir, { recursive: true, force: true }));
        const paths = await listenHostSockets(socketDir, hostSockets);
        // The egress sockets' own host paths too: inside, they exist only where the backend bound them.
        const candidates = socketPathVariants([...paths, proxySocket, dnsSocket], n, seed + 5);
        const abstract = `@rigor-bypass-${process.pid}`;
        hostSockets.push(await listenAbstract(abstract.slice(1)));
        const tried = [...candidates, abstract];
        const connected = await sender.tryUnix(tried);
        const hits = tried.filter((_, i) => connected[i]);
        byClass['host-socket'] = { attempts: tried.length, bypasses: hits.length, examples: hits.slice(0, 5), routes: { unix: tried.length } };
      }
    }
    return { byClass, armed, audit: { http: egress.audit.count({ kind: 'http' }), dns: egress.audit.count({ kind: 'dns' }) } };
  } finally {
    for (const server of hostSockets) server.close();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await sender?.close().catch(() => undefined);
    await egress?.close().catch(() => undefined);
    await upstreams?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** World-connectable unix sockets in a searchable dir (what an allow-all proxy or a daemon leaves on a host). */
async function listenHostSockets(socketDir: string, servers: Array<{ close(): unknown }>): Promise<string[]> {
  await mkdir(socketDir, { recursive: true, mode: 0o711 });
  await chmod(socketDir, 0o711);
  const paths = [join(socketDir, 'daemon.sock')];
  for (const path of paths) {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ path, readableAll: true, writableAll: true }, () => resolve()));
    servers.push(server);
  }
  return paths;
}

/** An abstract unix socket (Linux: a name in the network namespace, no file); Node 20 cannot listen on one, so python3 does. */
async function listenAbstract(name: string): Promise<{ close(): unknown }> {
  const child = execa('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind('\\0${name}')\ns.listen(64)\nprint('ready',flush=True)\nsys.stdin.read()`], { stdin: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error(`the abstract socket @${name} helper exited`)));
  });
  child.catch(() => undefined);
  return { close: () => child.kill() };
}

/** The host side: straight to the proxy's TCP port; intercepted requests over TLS to the proxy's leaf. */
export function hostSender(proxyPort: number): BatterySender & { close(): Promise<void> } {
  return {
    async sendRaw(list) {
      for (const { bytes } of list) await exchange(net.connect({ host: '127.0.0.1', port: proxyPort }), bytes);
    },
    async sendIntercepted(list, proxyCaPem) {
      for (const attempt of list) {
        const { authority, servername, inner } = attempt.connect!;
        const socket = net.connect({ host: '127.0.0.1', port: proxyPort });
        const head = await readHead(socket, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
        if (!/^HTTP\/1\.1 200/.test(head)) {
          socket.destroy();
          continue;
        }
        const secure = tls.connect({ socket, servername, ca: [proxyCaPem], checkServerIdentity: () => undefined });
        await exchange(secure, inner);
      }
    },
    close: async () => undefined,
  };
}

/** Writes `bytes`, reads until the peer ends or 2 s pass quietly; never throws (a refusal is an outcome). */
function exchange(socket: net.Socket | tls.TLSSocket, bytes: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(2_000, done);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => undefined);
    socket.on('end', done);
    if (socket instanceof tls.TLSSocket) socket.once('secureConnect', () => socket.write(bytes));
    else socket.once('connect', () => socket.write(bytes));
  });
}

/** Sends a CONNECT and reads the proxy's response head; '' when the connection failed. */
function readHead(socket: net.Socket, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.setTimeout(2_000, () => resolve(got));
    socket.once('error', () => resolve(''));
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.off('data', onData);
        socket.setTimeout(0);
        // anything after the head belongs to TLS: put it back
        const rest = Buffer.from(got.slice(end + 4), 'latin1');
        if (rest.length > 0) socket.unshift(rest);
        resolve(got.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('connect', () => socket.write(bytes));
  });
}
