/**
 * `rigor-agent --relay`: what qemu's guestfwd starts per guest connection,
 * with that connection as stdin, stdout and stderr. Real sockets: the
 * "guest" end is a unix socket pair made by a server here, the "proxy" a
 * server that answers or holds connections open. With `--slots DIR --max N`
 * the relays share N slots (flocks on DIR/0..N-1): one that finds none free
 * closes the guest connection unrelayed and appends a line to DIR/refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../sandbox-core/agent/build.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-relay-test-'));
let agent: string;
const servers: Server[] = [];
const relays: ChildProcess[] = [];
beforeAll(async () => {
  agent = await nativeAgentPath();
});
afterAll(async () => {
  // A relay that failed to end (what the tests look for) must not outlive them.
  for (const relay of relays) if (relay.exitCode === null) relay.kill('SIGKILL');
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

async function listen(name: string, onConnection: (socket: Socket) => void, options: { allowHalfOpen?: boolean } = {}): Promise<string> {
  const path = join(dir, name);
  const server = createServer(options, onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return path;
}

/** A relay to `target` (then `options`) whose stdin/stdout/stderr is the server side of a fresh connection; returns the client side, the relay and its exit. */
async function relayTo(target: string, options: string[] = []): Promise<{ guest: Socket; child: ChildProcess; exited: Promise<number | null> }> {
  let handOver!: (socket: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (handOver = resolve));
  const entry = await listen(`entry-${Math.random().toString(36).slice(2)}.sock`, handOver);
  const guest = createConnection(entry);
  const side = await accepted;
  const child = spawn(agent, ['--relay', target, ...options], { stdio: [side, side, side] });
  relays.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The relay holds its own copy of the socket now.
  side.destroy();
  return { guest, child, exited };
}

/** A proxy that holds every connection open until its peer ends it; `next()` is the next connection it accepts (in accept order). */
async function holdingProxy(name: string): Promise<{ path: string; held: Socket[]; next(): Promise<Socket> }> {
  const held: Socket[] = [];
  const waiting: Array<(socket: Socket) => void> = [];
  const arrived: Socket[] = [];
  const path = await listen(
    name,
    (socket) => {
      held.push(socket);
      socket.on('error', () => {});
      const wake = waiting.shift();
      if (wake) wake(socket);
      else arrived.push(socket);
    },
  );
  const next = (): Promise<Socket> => {
    const ready = arrived.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
  };
  return { path, held, next };
}

/** Bytes `socket` receives until `expected` of them arrived. */
function receive(socket: Socket, expected: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.length >= expected) socket.off('data', onData), resolve(text);
    };
    socket.on('data', onData);
  });
}

function collect(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
}

describe('rigor-agent --relay', () => {
  it('carries bytes both ways and passes the half-close on', async () => {
    const proxy = await listen('echo.sock', (socket) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => socket.end(`echo: ${text}`));
    });
    const { guest, exited } = await relayTo(proxy);
    const answer = collect(guest);
    guest.end('GET / HTTP/1.1\r\n\r\n');
    expect(await answer).toBe('echo: GET / HTTP/1.1\r\n\r\n');
    expect(await exited).toBe(0);
  });

  it('ends when the guest side goes away, though the proxy holds its connection open', async () => {
    const held: Socket[] = [];
    // Half-open allowed: the relay's passed-on FIN does not make this side close, as a kept-alive upstream would not.
    const proxy = await listen('holding.sock', (socket) => held.push(socket), { allowHalfOpen: true });
    const { guest, exited } = await relayTo(proxy);
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    guest.destroy();
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 3000))]);
    expect(code).toBe(0);
    for (const socket of held) socket.destroy();
  });

  it('says nothing into the guest connection when the proxy socket is missing (no host path leaks in)', async () => {
    const { guest, exited } = await relayTo(join(dir, 'no-such.sock'));
    const heard = collect(guest);
    expect(await exited).toBe(1);
    expect(await heard).toBe('');
  });

  describe('--slots DIR --max N', () => {
    it('refuses a relay beyond the cap at once (EOF to the guest, nothing to the proxy, one line in DIR/refused) and takes one again when a slot frees', async () => {
      const slots = mkdtempSync(join(dir, 'slots-'));
      const proxy = await holdingProxy('cap.sock');
      const cap = ['--slots', slots, '--max', '2'];
      const first = await relayTo(proxy.path, cap);
      const firstUp = await proxy.next();
      const second = await relayTo(proxy.path, cap);
      await proxy.next();

      const before = Date.now();
      const third = await relayTo(proxy.path, cap);
      const heard = collect(third.guest);
      expect(await third.exited).toBe(3);
      expect(await heard).toBe('');
      // A direct connection after the refusal: had the third relay connected, the proxy would accept it first.
      const probe = createConnection(proxy.path);
      expect(await proxy.next()).toBe(proxy.held[2]);
      probe.destroy();
      expect(proxy.held).toHaveLength(3);
      const lines = readFileSync(join(slots, 'refused'), 'utf8').split('\n').filter((line) => line !== '');
      expect(lines).toHaveLength(1);
      const [ms, pid, socket, ...reason] = lines[0]!.split(' ');
      // epoch ms of the refusal
      expect(Number(ms)).toBeGreaterThanOrEqual(before);
      expect(Number(ms)).toBeLessThanOrEqual(Date.now());
      expect(Number(pid)).toBe(third.child.pid);
      expect(socket).toBe(proxy.path);
      expect(reason.join(' ')).toBe('relay cap of 2 connections reached');

      // The first two still relay.
      const got = receive(firstUp, 5);
      first.guest.write('hello');
      expect(await got).toBe('hello');

      // One ends: its slot is free for the next relay.
      first.guest.destroy();
      expect(await first.exited).toBe(0);
      const fourth = await relayTo(proxy.path, cap);
      const fourthUp = await proxy.next();
      const answer = receive(fourth.guest, 6);
      fourthUp.write('answer');
      expect(await answer).toBe('answer');
      expect(readFileSync(join(slots, 'refused'), 'utf8').split('\n').filter((line) => line !== '')).toHaveLength(1);
      second.guest.destroy();
      fourth.guest.destroy();
      await Promise.all([second.exited, fourth.exited]);
    });

    it('a SIGKILLed relay frees its slot (the kernel drops the flock)', async () => {
      const slots = mkdtempSync(join(dir, 'slots-'));
      const proxy = await holdingProxy('kill.sock');
      const cap = ['--slots', slots, '--max', '1'];
      const holder = await relayTo(proxy.path, cap);
      await proxy.next();
      const refused = await relayTo(proxy.path, cap);
      expect(await refused.exited).toBe(3);

      holder.child.kill('SIGKILL');
      expect(await holder.exited).toBe(null);
      const next = await relayTo(proxy.path, cap);
      const up = await proxy.next();
      const got = receive(up, 5);
      next.guest.write('again');
      expect(await got).toBe('again');
      next.guest.destroy();
      expect(await next.exited).toBe(0);
      expect(readFileSync(join(slots, 'refused'), 'utf8').split('\n').filter((line) => line !== '')).toHaveLength(1);
    });

    it('is a usage error (exit 2, nothing relayed) with one of --slots and --max, or a --max out of 1..1024', async () => {
      const slots = mkdtempSync(join(dir, 'slots-'));
      const proxy = await holdingProxy('usage.sock');
      for (const options of [['--slots', slots], ['--max', '2'], ['--slots', slots, '--max', '0'], ['--slots', slots, '--max', '1025'], ['--slots', slots, '--max', '2x'], ['--slots']]) {
        const { exited } = await relayTo(proxy.path, options);
        expect(await exited, options.join(' ')).toBe(2);
      }
      expect(proxy.held).toHaveLength(0);
    });
  });
});
