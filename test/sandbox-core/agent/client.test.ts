/** The client against real processes: agents that never say hello, die mid-request, or run inside bwrap; and a stand-in peer that sends what no agent does. */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { AgentClient } from '../../../sandbox-core/agent/client.ts';
import { encodeFrame, field, MessageType, Tag } from '../../../sandbox-core/agent/protocol.ts';
import { KINDS, pidFrom, spawnAgent, startAgent } from './agents.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-client-test-'));
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('AgentClient.connect', () => {
  it('gives up when no HELLO comes in time', async () => {
    const silent = spawn('sleep', ['10'], { stdio: 'pipe' });
    await expect(AgentClient.connect(silent.stdout, silent.stdin, { helloTimeoutMs: 200 })).rejects.toThrow(
      'agent did not say hello: no HELLO within 200 ms',
    );
    silent.kill('SIGKILL');
  });

  it('fails at once when the channel ends before HELLO', async () => {
    const quits = spawn('true', { stdio: 'pipe' });
    await expect(AgentClient.connect(quits.stdout, quits.stdin)).rejects.toThrow(/agent did not say hello: agent channel closed: (end of stream|stream closed)/);
  });

  it('stops waiting when its signal aborts', async () => {
    const silent = spawn('sleep', ['10'], { stdio: 'pipe' });
    const controller = new AbortController();
    const connecting = AgentClient.connect(silent.stdout, silent.stdin, { signal: controller.signal });
    controller.abort(new Error('create() cancelled'));
    await expect(connecting).rejects.toThrow('agent did not say hello: aborted (Error: create() cancelled)');
    silent.kill('SIGKILL');
  });
});

describe('AgentClient and OUTPUT frames', () => {
  it('fails a request that did not ask for streamed output when OUTPUT comes for it (a stand-in peer: no agent of ours sends it)', async () => {
    const toHost = new PassThrough();
    const toAgent = new PassThrough();
    toHost.write(encodeFrame(MessageType.HELLO, 0, [field.string(Tag.KIND, 'stand-in')]));
    const client = await AgentClient.connect(toHost, toAgent);
    const exec = client.exec({ argv: ['true'] });
    toHost.write(encodeFrame(MessageType.OUTPUT, 1, [field.bytes(Tag.STDOUT, 'unasked')]));
    await expect(exec).rejects.toThrow('agent sent OUTPUT for EXEC #1, which did not ask for streamed output');
    client.close();
  });
});

describe.each(KINDS)('AgentClient with the %s agent', (kind) => {
  it('rejects every pending request when the agent dies, and later ones at once', async () => {
    const agent = await startAgent(kind, cacheDir);
    const pidFiles = [1, 2].map((n) => join(scratch, `${kind}-orphan-${n}`));
    const pending = pidFiles.map((file) => agent.client.exec({ argv: ['sh', '-c', `echo $$ > ${file}; exec sleep 10`] }));
    const groups = await Promise.all(pidFiles.map(pidFrom));
    agent.child.kill('SIGKILL');
    for (const request of pending) await expect(request).rejects.toThrow(/^agent channel closed: (end of stream|stream closed)/);
    await expect(agent.client.stats()).rejects.toThrow(/^agent channel closed/);
    for (const group of groups) process.kill(-group, 'SIGKILL'); // a killed agent cannot clean up: the test does
  });

  it('matches replies to requests by id when they come back out of order', async () => {
    const agent = await startAgent(kind, cacheDir);
    const slow = agent.client.exec({ argv: ['sh', '-c', 'sleep 0.3; echo slow'] });
    const fast = agent.client.exec({ argv: ['echo', 'fast'] });
    expect((await fast).stdout.toString()).toBe('fast\n');
    expect((await slow).stdout.toString()).toBe('slow\n');
    agent.client.close();
    await agent.exited;
  });

  it('runs inside bwrap with the host root read-only, in its own pid namespace', async () => {
    const command = await agentCommand(kind, { cacheDir });
    const bwrap = ['bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', ...command];
    const { child, exited } = spawnAgent(bwrap);
    const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 20_000 });
    expect((await client.exec({ argv: ['echo', 'inside'] })).stdout.toString()).toBe('inside\n');
    expect((await client.stats()).pid_ns).not.toBe(readlinkSync('/proc/self/ns/pid'));
    await expect(client.writeFile('/usr/rigor-probe', 'x')).rejects.toThrow('write /usr/rigor-probe: Read-only file system');
    client.close();
    expect(await exited).toBe(0);
  });
});
