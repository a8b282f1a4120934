/**
 * The native agent's options the qemu guest relies on, exercised on the
 * host: `--now` for init's stage stamps, `--exec-user`/`--exec-caps` for
 * commands and file requests without the agent's root powers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../../sandbox-core/agent/build.ts';
import { AgentClient, AgentError } from '../../../../sandbox-core/agent/client.ts';
import { spawnAgent } from '../../agent/agents.ts';

const agent = await nativeAgentPath();
const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-options-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

async function startAs(args: string[]): Promise<{ client: AgentClient; exited: Promise<number | string> }> {
  const { child, exited } = spawnAgent([agent], args);
  const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 10_000 });
  return { client, exited };
}

function status(text: string, field: string): string {
  return new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(text)![1]!.trim();
}

describe('rigor-agent --now', () => {
  it('prints CLOCK_BOOTTIME in ms with three decimals and exits 0', () => {
    const before = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    const printed = execFileSync(agent, ['--now'], { encoding: 'utf8' });
    const after = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    expect(printed).toMatch(/^\d+\.\d{3}\n$/);
    // /proc/uptime has 10 ms steps
    expect(Number(printed)).toBeGreaterThanOrEqual(before - 10);
    expect(Number(printed)).toBeLessThanOrEqual(after + 10);
  });

  it('rejects malformed privilege options with usage and status 2', () => {
    for (const args of [['--exec-user', 'nobody'], ['--exec-user', '1:'], ['--exec-user', '1:2', '--exec-caps', '64'], ['--exec-caps', '12']]) {
      const run = spawnSync(agent, args, { encoding: 'utf8', input: '' });
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/usage: rigor-agent|--exec-caps needs --exec-user/);
    }
  });
});

describe.skipIf(!isRoot)(`rigor-agent --exec-user as root${isRoot ? '' : ' (skipped: needs root)'}`, () => {
  it('runs commands as the user with no capabilities, no groups and no_new_privs', async () => {
    const { client, exited } = await startAs(['--exec-user', '65534:65534']);
    const result = await client.exec({ argv: ['cat', '/proc/self/status'] });
    const text = result.stdout.toString();
    expect(status(text, 'Uid').split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(status(text, 'Gid').split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(status(text, 'Groups')).toBe('');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status(text, set), set).toBe('0000000000000000');
    expect(status(text, 'NoNewPrivs')).toBe('1');
    client.close();
    expect(await exited).toBe(0);
  });

  it('keeps exactly the granted capabilities across the uid change', async () => {
    const { client } = await startAs(['--exec-user', '65534:65534', '--exec-caps', '12,13']);
    const text = (await client.exec({ argv: ['cat', '/proc/self/status'] })).stdout.toString();
    const granted = ((1n << 12n) | (1n << 13n)).toString(16).padStart(16, '0');
    for (const set of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status(text, set), set).toBe(granted);
    client.close();
  });

  it('checks file requests with the user\'s permissions and gives new files to the user', async () => {
    const rootOnly = join(scratch, 'root-only');
    mkdirSync(rootOnly, { mode: 0o700 });
    const open = join(scratch, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const { client } = await startAs(['--exec-user', '65534:65534']);
    await expect(client.writeFile(join(rootOnly, 'x'), 'no')).rejects.toThrow(new AgentError(`write ${join(rootOnly, 'x')}: Permission denied`));
    await expect(client.readFile('/etc/shadow')).rejects.toThrow(/read \/etc\/shadow: Permission denied/);
    await client.writeFile(join(open, 'mine'), 'yes');
    expect(statSync(join(open, 'mine')).uid).toBe(65534);
    expect((await client.readFile(join(open, 'mine'))).toString()).toBe('yes');
    // the agent itself keeps its powers between requests: its own reads of /proc still work
    expect((await client.stats()).mem_total_kib).toMatch(/^\d+$/);
    const denied = await client.exec({ argv: ['sh', '-c', `echo x > ${rootOnly}/y`] });
    expect(denied.exitCode).not.toBe(0);
    client.close();
  });
});
