/** Exec rules enforced on a real bwrap sandbox: a blocked command never starts, every attempt audited once. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../sandbox-core/audit/audit-log.ts';
import { ExecBlockedError } from '../../../sandbox-core/backends/agent-sandbox.ts';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { policyDeciders } from '../../../sandbox-core/egress/index.ts';
import { parsePolicy, PolicyEngine } from '../../../sandbox-core/policy/index.ts';

const POLICY = `default: allow
rules:
  - id: no-touch
    when: event == "process.exec" && process.argv[0] == "touch"
    decision: block
`;

const available = await bwrapBackend.available();

describe.skipIf(!available.ok)(`exec policy on bwrap${available.ok ? '' : ` (skipped: ${!available.ok && available.reason})`}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-exec-policy-'));
  const audit = AuditLog.open(join(dir, 'audit.db'));
  const deciders = policyDeciders(new PolicyEngine(parsePolicy(POLICY, 'policy.yaml')), { audit, sandbox: 'exec-test' });
  let sandbox: Sandbox | undefined;
  afterAll(async () => {
    await sandbox?.destroy();
    audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs allowed commands and refuses blocked ones before they start, auditing each attempt once', async () => {
    sandbox = await bwrapBackend.create({ execPolicy: deciders.exec });
    const allowed = await sandbox.exec({ argv: ['sh', '-c', 'echo ok > /workspace/allowed'] });
    expect(allowed.exitCode).toBe(0);

    await expect(sandbox.exec({ argv: ['touch', '/workspace/blocked'] })).rejects.toBeInstanceOf(ExecBlockedError);
    await expect(sandbox.exec({ argv: ['touch', '/workspace/blocked'] })).rejects.toThrow(/blocked by rule no-touch/);
    const check = await sandbox.exec({ argv: ['sh', '-c', 'ls /workspace'] });
    expect(check.stdout.toString().split('\n')).toEqual(['allowed', '']);
    expect(existsSync(join(dir, 'blocked'))).toBe(false);

    expect(audit.count({ kind: 'exec' })).toBe(4);
    expect(audit.count({ kind: 'exec', decision: 'block' })).toBe(2);
    expect(audit.events({ kind: 'exec', decision: 'block' }).every((event) => event.ruleId === 'no-touch')).toBe(true);
  });
});
