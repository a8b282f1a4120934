/** Both agents, native and Node, as real child processes: the same behaviour is asked of each. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { AgentClient, AgentError } from '../../../sandbox-core/agent/client.ts';
import { encodeFrame, field, Fields, MessageType, Tag } from '../../../sandbox-core/agent/protocol.ts';
import { childrenOf, isAlive, waitFor } from '../../helpers/processes.ts';
import { FrameReader, KINDS, pidFrom, spawnAgent, startAgent, type RunningAgent } from './agents.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-test-'));
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Shell words that run a command in a new session after writing its pid to `pidFile`. The
 * shell must wait for that file before it exits: until then the command is still in the
 * group the agent sweeps when the shell exits.
 */
const leaveGroup = (pidFile: string): string => `setsid sh -c 'echo $$ > ${pidFile}; exec "$@"' -`;
const waitForFile = (file: string): string => `while [ ! -s ${file} ]; do sleep 0.01; done`;

describe.each(KINDS)('%s agent over stdio', (kind) => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent(kind, cacheDir, ['--stage', 'mounts_done=12.5']);
  });
  afterAll(async () => {
    agent.client.close();
    await agent.exited;
  });

  it('says hello with its kind and boot stages, its own last', () => {
    expect(agent.client.hello.kind).toBe(kind);
    expect(agent.client.hello.version).not.toBe('');
    const [given, start] = agent.client.hello.stages;
    expect(given).toEqual({ name: 'mounts_done', ms: 12.5 });
    expect(start?.name).toBe('agent_start');
    // CLOCK_BOOTTIME: the agent started after the kernel did, and not in the future.
    const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    expect(start!.ms).toBeGreaterThan(0);
    expect(start!.ms).toBeLessThanOrEqual(uptimeMs + 20);
  });

  it('answers a ping', async () => {
    expect(await agent.client.ping()).toBeGreaterThan(0);
  });

  // Only the refusal: an accepted RESEED would set this host's clock (the guest's is tested in backends/qemu/snapshot.test.ts).
  it('refuses a RESEED of more than 512 bytes of entropy before touching anything', async () => {
    await expect(agent.client.reseed(new Uint8Array(513), Date.now() * 1000)).rejects.toThrow('reseed: 513 bytes of entropy, at most 512');
    expect(await agent.client.ping()).toBeGreaterThan(0);
  });

  it('refuses a well-formed RESEED outside a guest: on the host it would set the host\'s clock', async () => {
    // The time sent is now's, so that were the refusal ever gone, the host's clock would be set to what it is.
    await expect(agent.client.reseed(new Uint8Array(16), Date.now() * 1000)).rejects.toThrow("reseed: refused: only the agent that is a guest's init (pid 1) takes entropy and the time");
  });

  it('runs a command and returns its stdout, exit code and guest timings in order', async () => {
    const result = await agent.client.exec({ argv: ['echo', 'hello'] });
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, truncated: false });
    expect(result.stdout.toString()).toBe('hello\n');
    expect(result.guest.received).toBeLessThanOrEqual(result.guest.spawned);
    expect(result.guest.spawned).toBeLessThanOrEqual(result.guest.exited);
    expect(result.roundTripMs).toBeGreaterThan(0);
  });

  it('reports a failing exit code and captures stderr apart', async () => {
    expect((await agent.client.exec({ argv: ['false'] })).exitCode).toBe(1);
    const result = await agent.client.exec({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(result.exitCode).toBe(3);
    expect(result.stdout.toString()).toBe('out\n');
    expect(result.stderr.toString()).toBe('err\n');
  });

  it('gives a clean environment with a default PATH, plus the env and cwd asked for', async () => {
    const env = await agent.client.exec({ argv: ['env'], env: { GREETING: 'hi there' } });
    expect(env.stdout.toString().trim().split('\n').sort()).toEqual([
      'GREETING=hi there',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    const pwd = await agent.client.exec({ argv: ['pwd'], cwd: scratch });
    expect(pwd.stdout.toString()).toBe(`${scratch}\n`);
  });

  it('pipes stdin bytes through to the command', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    const result = await agent.client.exec({ argv: ['cat'], stdin: bytes });
    expect(result.stdout.equals(bytes)).toBe(true);
  });

  it('streams output in OUTPUT frames while the command runs when asked, the result holding all of it', async () => {
    // The command waits for a file the host makes only on hearing its first line: without streaming it would never end.
    const gate = join(scratch, `${kind}-stream-gate`);
    const heard: string[] = [];
    const result = await agent.client.exec({
      argv: ['sh', '-c', `echo first; ${waitForFile(gate)}; echo second >&2; echo third`],
      timeoutMs: 60_000,
      onOutput: (stream, chunk) => {
        heard.push(`${stream}:${chunk.toString()}`);
        if (heard.length === 1) writeFileSync(gate, 'go');
      },
    });
    expect(heard[0]).toBe('stdout:first\n');
    expect(heard.join('')).toContain('stderr:second\n');
    expect(result).toMatchObject({ exitCode: 0, truncated: false });
    expect(result.stdout.toString()).toBe('first\nthird\n');
    expect(result.stderr.toString()).toBe('second\n');
  });

  it('cuts streamed output kept for the result beyond 16 MiB, and passes all of it on', async () => {
    let passed = 0;
    const result = await agent.client.exec({ argv: ['head', '-c', '17000000', '/dev/zero'], onOutput: (_stream, chunk) => (passed += chunk.length) });
    expect(passed).toBe(17_000_000);
    expect(result.stdout.length).toBe(16 * 1024 * 1024);
    expect(result.truncated).toBe(true);
  });

  it('cuts output beyond 16 MiB and says so', async () => {
    const result = await agent.client.exec({ argv: ['head', '-c', '17000000', '/dev/zero'] });
    expect(result.stdout.length).toBe(16 * 1024 * 1024);
    expect(result.truncated).toBe(true);
  });

  it('kills the command and its grandchild at the timeout', async () => {
    const pids = join(scratch, `${kind}-timeout-pids`);
    const result = await agent.client.exec({ argv: ['sh', '-c', `sleep 10 & echo $! > ${pids}; sleep 10`], timeoutMs: 300 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(result.guest.exited - result.guest.received).toBeGreaterThanOrEqual(299); // Node timers may fire a fraction of a ms early
    const grandchild = await pidFrom(pids);
    expect(await waitFor(() => !isAlive(grandchild))).toBe(true);
  });

  it('answers a ping while a long command runs', async () => {
    let execDone = false;
    const running = agent.client.exec({ argv: ['sleep', '0.5'] }).then((result) => ((execDone = true), result));
    await agent.client.ping();
    expect(execDone).toBe(false);
    expect((await running).exitCode).toBe(0);
  });

  it('does not wait for a process that left the group but holds the output pipe', async () => {
    const pidFile = join(scratch, `${kind}-holder-pid`);
    const result = await agent.client.exec({ argv: ['sh', '-c', `${leaveGroup(pidFile)} sleep 30 & ${waitForFile(pidFile)}`] });
    expect(result.exitCode).toBe(0);
    // The reply came while the holder still runs (it sleeps 30 s): the agent did not wait for it.
    const holder = await pidFrom(pidFile);
    expect(isAlive(holder)).toBe(true);
    process.kill(holder, 'SIGKILL');
  });

  it('writes a file with its mode, then reads it back', async () => {
    const path = join(scratch, `${kind}-file`);
    // 5 MiB: a frame that arrives in many reads, both ways.
    const data = Buffer.from(Array.from({ length: 5 * 1024 * 1024 + 3 }, (_, i) => (i * 7) % 256));
    await agent.client.writeFile(path, data, 0o600);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await agent.client.readFile(path)).equals(data)).toBe(true);
  });

  it('reads a /proc file, whose size says 0, to its end', async () => {
    expect((await agent.client.readFile('/proc/version')).toString()).toBe(readFileSync('/proc/version', 'utf8'));
  });

  it('answers a missing file or program with an error naming it', async () => {
    const missing = join(scratch, 'no-such-file');
    await expect(agent.client.readFile(missing)).rejects.toThrow(new AgentError(`read ${missing}: No such file or directory`));
    await expect(agent.client.writeFile(join(missing, 'x'), 'x')).rejects.toThrow(`write ${join(missing, 'x')}: No such file or directory`);
    await expect(agent.client.exec({ argv: ['no-such-program'] })).rejects.toThrow('exec no-such-program: No such file or directory');
    await expect(agent.client.exec({ argv: ['true'], cwd: missing })).rejects.toThrow(`chdir ${missing}: No such file or directory`);
  });

  it('reports guest stats', async () => {
    const stats = await agent.client.stats();
    expect(Object.keys(stats).sort()).toEqual(['boot_id', 'load1', 'mem_available_kib', 'mem_total_kib', 'pid_ns', 'uptime_ms']);
    expect(stats.boot_id).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(Number(stats.mem_total_kib)).toBeGreaterThan(Number(stats.mem_available_kib));
    expect(stats.pid_ns).toMatch(/^pid:\[\d+\]$/);
  });
});

describe.each(KINDS)('%s agent lifecycle', (kind) => {
  const started: RunningAgent[] = [];
  afterEach(() => {
    for (const { child } of started.splice(0)) child.kill('SIGKILL');
  });

  it('at end of stream kills its commands and exits 0, failing what was pending', async () => {
    const agent = await startAgent(kind, cacheDir);
    started.push(agent);
    const pidFile = join(scratch, `${kind}-eof-pid`);
    const running = agent.client.exec({ argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 10`] });
    const command = await pidFrom(pidFile);
    agent.client.close();
    await expect(running).rejects.toThrow('agent channel closed: closed by the host');
    await expect(agent.client.ping()).rejects.toThrow('agent channel closed: closed by the host');
    expect(await agent.exited).toBe(0);
    expect(await waitFor(() => !isAlive(command))).toBe(true);
  });

  it('answers bad frames with ERROR and keeps reading; closes on a bad length', async () => {
    const { child, exited } = spawnAgent(await agentCommand(kind, { cacheDir }));
    started.push({ child, exited, client: undefined as unknown as AgentClient });
    const frames = new FrameReader(child.stdout);
    expect((await frames.next()).type).toBe(MessageType.HELLO);
    const error = async (id: number): Promise<string | undefined> => {
      const frame = await frames.next();
      expect(frame).toMatchObject({ type: MessageType.ERROR, id });
      return Fields.of(frame).string(Tag.MESSAGE);
    };
    child.stdin.write(encodeFrame(MessageType.PING, 11, [], 2));
    expect(await error(11)).toBe('unsupported protocol version 2');
    child.stdin.write(encodeFrame(0x7e, 12));
    expect(await error(12)).toBe('unknown message type 0x7e');
    const truncated = encodeFrame(MessageType.READ_FILE, 13, [field.string(Tag.PATH, '/etc/hostname')]);
    truncated.writeUInt32BE(100, 10 + 1); // the field claims more bytes than the frame has
    child.stdin.write(truncated);
    expect(await error(13)).toBe('malformed field at offset 0');
    child.stdin.write(encodeFrame(MessageType.PING, 14, [field.string(0xee, 'unknown tag, skipped')]));
    expect(await frames.next()).toMatchObject({ type: MessageType.PONG, id: 14 });
    child.stdin.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 0, 0, 0, 15]));
    expect(await error(0)).toBe('frame length 4294967295 out of range (6..67174400)');
    expect(await exited).toBe(2);
  });

  it('speaks over a unix socket given as --port', async () => {
    const socketPath = join(scratch, `${kind}.sock`);
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const { child, exited } = spawnAgent(await agentCommand(kind, { cacheDir }), ['--port', socketPath]);
    child.stdin.end(); // stdin is not the channel: its end must not stop the agent
    const socket = await accepted;
    server.close();
    const client = await AgentClient.connect(socket, socket);
    started.push({ child, exited, client });
    expect(client.hello.kind).toBe(kind);
    expect((await client.exec({ argv: ['echo', 'over a socket'] })).stdout.toString()).toBe('over a socket\n');
    client.close();
    expect(await exited).toBe(0);
  });
});

describe('native agent as init (--init)', () => {
  it('reaps orphans handed to it and ignores SIGTERM', async () => {
    const agent = await startAgent('native', cacheDir, ['--init']);
    const pidFile = join(scratch, 'orphan-pid');
    await agent.client.exec({ argv: ['sh', '-c', `${leaveGroup(pidFile)} sleep 0.3 > /dev/null & ${waitForFile(pidFile)}`] });
    const orphan = await pidFrom(pidFile);
    expect(childrenOf(agent.child.pid!)).toEqual([orphan]); // handed to the agent, a child subreaper
    agent.child.kill('SIGTERM');
    expect(await agent.client.ping()).toBeGreaterThan(0);
    // Reaped, not a zombie: /proc/<pid> disappears altogether.
    expect(await waitFor(() => !existsSync(`/proc/${orphan}`))).toBe(true);
    expect(childrenOf(agent.child.pid!)).toEqual([]);
    agent.client.close();
    expect(await agent.exited).toBe(0);
  });
});
