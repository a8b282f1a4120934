/**
 * Host-side deadlines: an agent that is stopped, or a peer that promises a
 * frame and never finishes it, fails the pending requests with
 * AgentDeadlineError instead of leaving them hanging, and a sandbox whose
 * agent missed a deadline is destroyed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { AgentChannelBrokenError, AgentClient, AgentDeadlineError, type ConnectOptions } from '../../../sandbox-core/agent/client.ts';
import { encodeFrame, field, MessageType, Tag } from '../../../sandbox-core/agent/protocol.ts';
import { SandboxBrokenError } from '../../../sandbox-core/backends/agent-sandbox.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { isAlive, waitFor } from '../../helpers/processes.ts';
import { KINDS, pidFrom, spawnAgent } from './agents.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-deadline-test-'));
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const started: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** A real agent over stdio, with `opts` for its client; the breaks the client reports are collected. */
async function agentWith(kind: (typeof KINDS)[number], opts: ConnectOptions) {
  const { child, exited } = spawnAgent(await agentCommand(kind, { cacheDir }));
  started.push(child);
  const breaks: AgentChannelBrokenError[] = [];
  const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 20_000, ...opts, onBroken: (error) => breaks.push(error) });
  return { child, exited, client, breaks };
}

describe.each(KINDS)('the host deadline with a stopped %s agent', (kind) => {
  it('fails an exec past its timeout plus the grace, and every pending ping with it', async () => {
    const { child, exited, client, breaks } = await agentWith(kind, { execGraceMs: 200, requestDeadlineMs: 60_000 });
    child.kill('SIGSTOP');
    const exec = client.exec({ argv: ['true'], timeoutMs: 500 });
    const pings = [client.ping(), client.ping()];
    const error = await exec.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentDeadlineError);
    expect(error).toMatchObject({ requestType: 'EXEC', requestId: 1, deadlineMs: 700 });
    expect((error as Error).message).toBe('agent channel closed: agent missed the 700 ms deadline of EXEC #1: channel marked broken');
    for (const ping of pings) await expect(ping).rejects.toThrow(new AgentDeadlineError('EXEC', 1, 700));
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toBeInstanceOf(AgentDeadlineError);
    expect(client.broken).toBe(breaks[0]);
    // Later requests fail at once, with the same cause.
    await expect(client.stats()).rejects.toThrow('agent missed the 700 ms deadline of EXEC #1');
    // The host dropped the channel: continued, the agent reads end of stream and exits.
    child.kill('SIGCONT');
    expect(await exited).toBe(0);
  });

  it('fails a ping past the request deadline', async () => {
    const { child, exited, client, breaks } = await agentWith(kind, { requestDeadlineMs: 300 });
    expect(await client.ping()).toBeGreaterThan(0);
    child.kill('SIGSTOP');
    await expect(client.ping()).rejects.toThrow(new AgentDeadlineError('PING', 2, 300));
    expect(breaks.map((error) => error.message)).toEqual(['agent channel closed: agent missed the 300 ms deadline of PING #2: channel marked broken']);
    child.kill('SIGCONT');
    expect(await exited).toBe(0);
  });

  it('holds the deadlines while they are suspended (a sandbox paused on purpose)', async () => {
    const { child, client, breaks } = await agentWith(kind, { requestDeadlineMs: 200 });
    child.kill('SIGSTOP');
    client.suspendDeadlines();
    const ping = client.ping();
    await new Promise((resolve) => setTimeout(resolve, 600)); // three deadlines long
    child.kill('SIGCONT');
    client.resumeDeadlines();
    expect(await ping).toBeGreaterThan(0);
    expect(breaks).toEqual([]);
    client.close();
  });
});

/**
 * A peer on a real pipe that says HELLO and answers the first request with
 * `reply` (its id patched in), then keeps the channel open and silent; exits at end of stream.
 */
function hostilePeer(reply: Buffer): ChildProcessWithoutNullStreams {
  const hello = encodeFrame(MessageType.HELLO, 0, [field.string(Tag.VERSION, 'hostile'), field.string(Tag.KIND, 'native')]);
  const script = `
    process.stdout.write(Buffer.from(process.argv[1], 'hex'));
    process.stdin.once('data', (request) => {
      const reply = Buffer.from(process.argv[2], 'hex');
      request.copy(reply, 6, 6, 10); // the request's id
      process.stdout.write(reply);
    });
    process.stdin.on('end', () => process.exit(0));
    setInterval(() => {}, 60_000);
  `;
  const peer = spawn(process.execPath, ['-e', script, '--', hello.toString('hex'), reply.toString('hex')], { stdio: 'pipe' });
  started.push(peer);
  return peer;
}

/** A frame header promising `bodyBytes` bytes of a FILE_DATA body, and `sent` of them. */
function promise(bodyBytes: number, sent: number): Buffer {
  const header = Buffer.alloc(10 + sent);
  header.writeUInt32BE(6 + bodyBytes, 0);
  header[4] = 1;
  header[5] = MessageType.FILE_DATA;
  return header;
}

describe('the host deadline with a hostile peer', () => {
  it('fails the request whose reply promises 60 MB and never sends them', async () => {
    const peer = hostilePeer(promise(60 * 1024 * 1024, 100));
    const peerExited = new Promise((resolve) => peer.once('exit', resolve));
    const breaks: AgentChannelBrokenError[] = [];
    const client = await AgentClient.connect(peer.stdout, peer.stdin, { requestDeadlineMs: 300, onBroken: (error) => breaks.push(error) });
    expect(client.hello.version).toBe('hostile');
    await expect(client.readFile('/etc/hostname')).rejects.toThrow(new AgentDeadlineError('READ_FILE', 1, 300));
    expect(breaks).toHaveLength(1);
    // The broken channel is dropped, not left open: the peer reads end of stream.
    expect(await peerExited).toBe(0);
  });

  it('fails an exec the same way, its deadline its timeout plus the grace', async () => {
    const peer = hostilePeer(promise(60 * 1024 * 1024, 0));
    const client = await AgentClient.connect(peer.stdout, peer.stdin, { execGraceMs: 100 });
    await expect(client.exec({ argv: ['true'], timeoutMs: 200 })).rejects.toThrow(new AgentDeadlineError('EXEC', 1, 300));
  });

  it('marks the channel broken at once on unreadable data', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 5, 0, 0, 0, 0]);
    const peer = hostilePeer(garbage);
    const breaks: AgentChannelBrokenError[] = [];
    const client = await AgentClient.connect(peer.stdout, peer.stdin, { onBroken: (error) => breaks.push(error) });
    const error = await client.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentChannelBrokenError);
    expect(error).not.toBeInstanceOf(AgentDeadlineError);
    expect((error as Error).message).toBe('agent channel closed: unreadable data from the agent: frame length 4294967295 out of range (6..67174400)');
    expect(breaks).toHaveLength(1);
  });
});

const processReady = await processBackend.available();
const skipSandbox = processReady.ok ? '' : ` (skipped: ${processReady.reason})`;

describe('a process sandbox whose agent missed a deadline', () => {
  it.skipIf(!processReady.ok)(`is destroyed, its processes gone, and later calls say why${skipSandbox}`, async () => {
    const sandbox = await processBackend.create({});
    try {
      const agentPid = Number((await sandbox.exec({ argv: ['sh', '-c', 'echo $PPID'] })).stdout.toString());
      const pidFile = join(scratch, 'sandbox-command-pid');
      const long = sandbox.exec({ argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`] }).catch((e: unknown) => e);
      const command = await pidFrom(pidFile);
      process.kill(agentPid, 'SIGSTOP');
      // The default grace (5 s) on top of the timeout: the sandbox has no way to shorten it.
      const missed = await sandbox.exec({ argv: ['true'], timeoutMs: 100 }).catch((e: unknown) => e);
      expect(missed).toBeInstanceOf(AgentDeadlineError);
      expect(missed).toMatchObject({ requestType: 'EXEC', deadlineMs: 5100 });
      expect(await long).toBeInstanceOf(AgentDeadlineError);
      await sandbox.destroy(); // the destroy the break started: the same promise
      expect(isAlive(agentPid)).toBe(false);
      expect(await waitFor(() => !isAlive(command))).toBe(true);
      const later = await sandbox.ping().catch((e: unknown) => e);
      expect(later).toBeInstanceOf(SandboxBrokenError);
      expect((later as Error).message).toMatch(
        /^process-\S+: sandbox was destroyed because its agent channel broke: agent missed the 5100 ms deadline of EXEC #\d+: channel marked broken$/,
      );
      await expect(sandbox.exec({ argv: ['true'] })).rejects.toThrow(SandboxBrokenError);
      await expect(sandbox.readFile('x')).rejects.toThrow(/sandbox was destroyed because its agent channel broke/);
    } finally {
      await sandbox.destroy().catch(() => undefined);
    }
  });

  it.skipIf(!processReady.ok)(`is not broken by a pause longer than a deadline: requests wait for resume${skipSandbox}`, async () => {
    const sandbox = await processBackend.create({});
    try {
      await sandbox.pause();
      const held = sandbox.exec({ argv: ['echo', 'after resume'], timeoutMs: 200 });
      // Its deadline (200 ms + 5 s grace) would have passed; paused, the clock does not run.
      await new Promise((resolve) => setTimeout(resolve, 5500));
      await sandbox.resume();
      const result = await held;
      expect(result.exitCode === 0 || result.timedOut).toBe(true);
      expect(await sandbox.ping()).toBeGreaterThan(0);
    } finally {
      await sandbox.destroy();
    }
  });
});
