/**
 * The native agent's hygiene toward what it runs: fds it inherited (a tool
 * harness's fd passed down through rigor and the launcher) never reach a
 * command, and a command dies with an agent that is SIGKILLed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../sandbox-core/agent/build.ts';
import { AgentClient } from '../../../sandbox-core/agent/client.ts';
import { which } from '../../../base/which.ts';
import { isAlive, waitFor } from '../../helpers/processes.ts';
import { pidFrom } from './agents.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/fds-in-process-sandbox.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-hygiene-test-'));
// a command run as another user writes its pid below it
chmodSync(scratch, 0o755);
/** A file the parent holds open and hands to the child as its fd EXTRA_FD, with no close-on-exec. */
const leaked = openSync(join(scratch, 'leaked'), 'w');
/** Above the low fds a Node process marks close-on-exec itself at startup (3 to 16 here), so it reaches the fixture's agent. */
const EXTRA_FD = 100;
/** stdio of a child that gets `leaked` as its fd EXTRA_FD. */
const withExtraFd = (std: Array<'pipe' | 'ignore' | 'inherit'>) => [...std, ...Array<'ignore'>(EXTRA_FD - 3).fill('ignore'), leaked];
afterAll(() => {
  closeSync(leaked);
  rmSync(scratch, { recursive: true, force: true });
});

const strace = which('strace');

/** The native agent over stdio, started (behind `wrapper`, with `options`) with the extra fd. */
async function agentWithExtraFd(wrapper: string[] = [], options: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; client: AgentClient }> {
  const [file, ...args] = [...wrapper, await nativeAgentPath(), ...options] as [string, ...string[]];
  const child = spawn(file, args, { stdio: withExtraFd(['pipe', 'pipe', 'pipe']) }) as ChildProcessWithoutNullStreams;
  const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 20_000 });
  return { child, client };
}

/** Fds above 3 that `ls /proc/self/fd` run by the agent sees (3 is ls's own directory). */
async function strayFds(client: AgentClient): Promise<string[]> {
  const listed = await client.exec({ argv: ['ls', '/proc/self/fd'] });
  expect(listed.exitCode).toBe(0);
  return listed.stdout.toString().split('\n').filter((fd) => fd !== '' && Number(fd) > 3);
}

async function stop({ child, client }: { child: ChildProcessWithoutNullStreams; client: AgentClient }): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  client.close();
  await exited;
}

describe('native agent and inherited fds', () => {
  it('marks them close-on-exec: the agent keeps the extra fd, a command does not see it', async () => {
    const agent = await agentWithExtraFd();
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${agent.child.pid}/fdinfo/${EXTRA_FD}`, 'utf8'))?.[1];
      expect(Number.parseInt(flags ?? '0', 8) & 0o2000000, 'O_CLOEXEC').toBeTruthy();
      expect(await strayFds(agent.client)).toEqual([]);
    } finally {
      await stop(agent);
    }
  });

  it.skipIf(!strace)(`falls back to /proc/self/fd where close_range is missing${strace ? '' : ' (skipped: strace not on PATH)'}`, async () => {
    const log = join(scratch, 'strace.log');
    const agent = await agentWithExtraFd(['strace', '-o', log, '-e', 'trace=close_range', '-e', 'inject=close_range:error=ENOSYS']);
    try {
      expect(await strayFds(agent.client)).toEqual([]);
    } finally {
      await stop(agent);
    }
    expect(readFileSync(log, 'utf8')).toMatch(/close_range\(3, .*\) = -1 ENOSYS .*\(INJECTED\)/);
  });

  it('keeps an fd rigor inherited from commands in a process sandbox', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, String(EXTRA_FD)], { stdio: withExtraFd(['ignore', 'pipe', 'inherit']) });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const seen = JSON.parse(out) as { inside: string[]; ours: boolean; agentHolds: boolean };
    // the fd really was passed down to the agent, which did not hand it on
    expect(seen.ours).toBe(true);
    expect(seen.agentHolds).toBe(true);
    expect(seen.inside.filter((fd) => Number(fd) > 3)).toEqual([]);
  });
});

const root = process.getuid?.() === 0;

describe('native agent SIGKILLed', () => {
  // --exec-user changes credentials in the child, which clears a parent-death signal set before it
  it.each([
    ['as itself', []],
    [`as another user${root ? '' : ' (skipped: --exec-user needs root)'}`, ['--exec-user', '65534:65534']],
  ])('takes its running command with it (parent-death signal), %s', async (_, options) => {
    if (options.length > 0 && !root) return;
    const agent = await agentWithExtraFd([], options);
    const dir = mkdtempSync(join(scratch, 'pid-'));
    chmodSync(dir, 0o777);
    const pidFile = join(dir, 'command-pid');
    void agent.client.exec({ argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`] }).catch(() => undefined);
    const command = await pidFrom(pidFile);
    agent.child.kill('SIGKILL');
    try {
      expect(await waitFor(() => !isAlive(command))).toBe(true);
    } finally {
      if (isAlive(command)) process.kill(command, 'SIGKILL');
    }
  });
});
