/**
 * A command must not reach its agent's channel to forge replies: the native
 * agent is not dumpable, so a command of its own uid can neither open its
 * /proc fds nor pidfd_getfd them; the Node agent, which cannot make itself so,
 * runs commands and file requests as another user with --exec-user.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { AgentClient, AgentError } from '../../../sandbox-core/agent/client.ts';
import { which } from '../../../base/which.ts';
import { spawnAgent } from './agents.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-guard-test-'));
// the agents and files below are reached by uid 65534
chmodSync(scratch, 0o755);
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const root = process.getuid?.() === 0;
const python = which('python3');
const NOBODY = '65534';

/** An agent started with `wrapper` and `args`, over stdio. */
async function start(kind: 'native' | 'node', wrapper: string[], args: string[] = []) {
  const { child, exited } = spawnAgent([...wrapper, ...(await agentCommand(kind, { cacheDir }))], args);
  const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 20_000 });
  return { child, exited, client };
}

/**
 * Run by a command of the agent's uid: pidfd_getfd (syscall 438, the same on every
 * architecture) of fd 1 of its parent, the agent, and, as the control, of a child of
 * its own (same uid, dumpable). Prints "agent: ERRNO-NAME" and "control: ok".
 */
const PIDFD_PROBE = `
import ctypes, errno, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
def getfd(pid):
    pidfd = os.pidfd_open(pid)
    fd = libc.syscall(438, pidfd, 1, 0)
    return 'ok' if fd >= 0 else errno.errorcode[ctypes.get_errno()]
print('agent:', getfd(os.getppid()))
control = subprocess.Popen(['sleep', '30'], stdout=subprocess.PIPE)
print('control:', getfd(control.pid))
control.kill()
`;

const skipNative = !root ? ' (skipped: needs root to start the agent as another uid)' : !python ? ' (skipped: python3 not on PATH)' : '';

describe('native agent, not dumpable', () => {
  // As root the command would keep CAP_SYS_PTRACE, which overrides dumpability: the agent runs as nobody.
  it.skipIf(skipNative !== '')(`keeps its fds from a command of its own uid${skipNative}`, async () => {
    const agent = await start('native', ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--']);
    try {
      const status = await agent.client.exec({ argv: ['sh', '-c', 'cat /proc/$PPID/status'] });
      expect(status.exitCode).toBe(0);
      expect(status.stdout.toString()).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
      const own = await agent.client.exec({ argv: ['sh', '-c', 'id -u; ls /proc/self/fd > /dev/null && echo own fds listed'] });
      expect(own.stdout.toString()).toBe(`${NOBODY}\nown fds listed\n`);
      const list = await agent.client.exec({ argv: ['sh', '-c', 'ls /proc/$PPID/fd'] });
      expect(list.exitCode).not.toBe(0);
      expect(list.stderr.toString()).toMatch(/Permission denied/);
      // Were this allowed, "forged" would land on the channel and the client would break.
      const write = await agent.client.exec({ argv: ['sh', '-c', 'echo forged > /proc/$PPID/fd/1'] });
      expect(write.exitCode).not.toBe(0);
      expect(write.stderr.toString()).toMatch(/Permission denied/);
      const pidfd = await agent.client.exec({ argv: ['python3', '-c', PIDFD_PROBE] });
      expect(pidfd.stderr.toString()).toBe('');
      expect(pidfd.stdout.toString()).toBe('agent: EPERM\ncontrol: ok\n');
      expect(await agent.client.ping()).toBeGreaterThan(0);
    } finally {
      agent.client.close();
      await agent.exited;
    }
  });
});

const skipNode = root ? '' : ' (skipped: --exec-user needs root)';

describe('node agent with --exec-user', () => {
  it.skipIf(!root)(`runs commands and file requests as that user${skipNode}`, async () => {
    const closed = join(scratch, 'root-only');
    mkdirSync(closed, { mode: 0o755 });
    const secret = join(scratch, 'secret');
    writeFileSync(secret, 'root only', { mode: 0o600 });
    const open = join(scratch, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(open, 'readable'), 'for everyone', { mode: 0o644 });
    const agent = await start('node', [], ['--exec-user', `${NOBODY}:${NOBODY}`]);
    try {
      const id = await agent.client.exec({ argv: ['sh', '-c', 'id -u; id -g; id -G'] });
      expect(id.stdout.toString()).toBe(`${NOBODY}\n${NOBODY}\n${NOBODY}\n`);
      // The agent runs as root: its channel (its fds) is out of the command's reach.
      const list = await agent.client.exec({ argv: ['sh', '-c', 'ls /proc/$PPID/fd'] });
      expect(list.stderr.toString()).toMatch(/Permission denied/);
      const fds = await agent.client.exec({ argv: ['ls', '/proc/self/fd'] });
      expect(fds.stdout.toString().split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);

      await expect(agent.client.writeFile(join(closed, 'x'), 'no')).rejects.toThrow(new AgentError(`write ${join(closed, 'x')}: Permission denied`));
      await expect(agent.client.readFile(secret)).rejects.toThrow(new AgentError(`read ${secret}: Permission denied`));
      await expect(agent.client.readFile(join(scratch, 'missing'))).rejects.toThrow(`read ${join(scratch, 'missing')}: No such file or directory`);
      expect((await agent.client.readFile(join(open, 'readable'))).toString()).toBe('for everyone');
      const made = join(open, 'made');
      await agent.client.writeFile(made, 'by nobody', 0o600);
      expect(statSync(made)).toMatchObject({ uid: Number(NOBODY), gid: Number(NOBODY), mode: 0o100600 });
      expect((await agent.client.readFile(made)).toString()).toBe('by nobody');
    } finally {
      agent.client.close();
      await agent.exited;
    }
  });

  it(`refuses --exec-user when not root`, async () => {
    const wrapper = root ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] : [];
    const { child, exited } = spawnAgent([...wrapper, ...(await agentCommand('node', { cacheDir }))], ['--exec-user', `${NOBODY}:${NOBODY}`]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/^node-agent: --exec-user needs root \(running as uid \d+\)\n$/);
  });
});
