/**
 * `rigor-agent --relay`: what qemu's guestfwd starts per guest connection,
 * with that connection as stdin, stdout and stderr. Real sockets: the
 * "guest" end is a unix socket pair made by a server here, the "proxy" a
 * server that answers or holds connections open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** A relay to `target` whose stdin/stdout/stderr is the server side of a fresh connection; returns the client side and the relay's exit. */
async function relayTo(target: string): Promise<{ guest: Socket; exited: Promise<number | null> }> {
  let handOver!: (socket: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (handOver = resolve));
  const entry = await listen(`entry-${Math.random().toString(36).slice(2)}.sock`, handOver);
  const guest = createConnection(entry);
  const side = await accepted;
  const child = spawn(agent, ['--relay', target], { stdio: [side, side, side] });
  relays.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The relay holds its own copy of the socket now.
  side.destroy();
  return { guest, exited };
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
});
