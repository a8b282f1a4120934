/**
 * The host end of the vsock channel against a stand-in for Firecracker's
 * vsock muxer (a unix socket server speaking its "CONNECT <port>\n" /
 * "OK <port>\n" handshake), since Firecracker is absent from this machine.
 * Behind the handshake sits the real native agent on a pipe pair, so the
 * agent protocol that follows is the real one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../../sandbox-core/agent/build.ts';
import { agentOverVsock, connectVsock } from '../../../../sandbox-core/backends/firecracker/vsock.ts';

let dir: string;
let udsPath: string;
let server: Server | undefined;
const agents: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-fc-vsock-test-'));
  udsPath = join(dir, 'v.sock');
});

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.kill('SIGKILL');
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Reads the CONNECT line, then hands the connection and the port asked for to `onConnect`. */
function muxer(onConnect: (connection: Socket, port: number, attempt: number) => void): Promise<void> {
  let attempts = 0;
  server = createServer((connection) => {
    let line = '';
    const onData = (chunk: Buffer): void => {
      line += chunk.toString('latin1');
      if (!line.includes('\n')) return;
      connection.off('data', onData);
      attempts += 1;
      onConnect(connection, Number(/^CONNECT (\d+)\n/.exec(line)?.[1]), attempts);
    };
    connection.on('data', onData);
  });
  return new Promise((resolve) => server!.listen(udsPath, resolve));
}

/** The real agent on a pipe pair; its HELLO is sent in the same write as the OK line, as Firecracker may deliver them. */
async function bridgeToAgent(connection: Socket): Promise<void> {
  const agent = spawn(await nativeAgentPath(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  agents.push(agent);
  const hello = await new Promise<Buffer>((resolve) => agent.stdout!.once('data', resolve));
  connection.write(Buffer.concat([Buffer.from('OK 1073741824\n'), hello]));
  agent.stdout!.pipe(connection);
  connection.pipe(agent.stdin!);
}

describe('the vsock channel', () => {
  it('retries while the guest does not listen, then speaks the agent protocol through the handshake', async () => {
    const ports: number[] = [];
    await muxer((connection, port, attempt) => {
      ports.push(port);
      // the first two attempts come while the guest boots: nothing listens, Firecracker closes
      if (attempt <= 2) connection.destroy();
      else void bridgeToAgent(connection);
    });
    const client = await agentOverVsock(udsPath, 1024, { timeoutMs: 10_000 });
    try {
      expect(ports).toEqual([1024, 1024, 1024]);
      expect(client.hello.kind).toBe('native');
      expect(client.hello.stages.map((stage) => stage.name)).toContain('agent_start');
      expect((await client.exec({ argv: ['echo', 'through vsock'] })).stdout.toString()).toBe('through vsock\n');
    } finally {
      client.close();
    }
  });

  it('rejects a reply that is not the OK line, quoting it', async () => {
    await muxer((connection) => connection.end('ERR no such port\n'));
    await expect(connectVsock(udsPath, 7, { timeoutMs: 2000 })).rejects.toThrow(`vsock port 7 via ${udsPath}: expected "OK <port>" after CONNECT, found "ERR no such port"`);
  });

  it('gives up when no vsock socket appears, naming the last failure', async () => {
    await expect(connectVsock(udsPath, 1024, { timeoutMs: 100 })).rejects.toThrow(new RegExp(`vsock port 1024 via ${udsPath}: no guest listener within 100 ms \\(last: .*ENOENT`));
  });

  it('stops retrying when aborted', async () => {
    await muxer((connection) => connection.destroy());
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('create aborted')), 50);
    await expect(connectVsock(udsPath, 1024, { timeoutMs: 10_000, signal: controller.signal })).rejects.toThrow('create aborted');
  });
});
