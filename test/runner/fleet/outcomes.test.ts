import { describe, expect, it } from 'vitest';
import { hostOutcome, parseEvents, stageOf, type AnsibleEvent, type HostReturn } from '../../../runner/fleet/outcomes.ts';

const none: HostReturn = { artifact: null, hostId: null, fingerprint: null, logTail: null, problem: null };
const back: HostReturn = { artifact: 'startup/x.json', hostId: 'h-1', fingerprint: 'abc', logTail: ['table'], problem: null };
const ended = { interrupted: false, exitCode: 2 };
const ev = (task: string, status: AnsibleEvent['status'], extra: Partial<AnsibleEvent> = {}): AnsibleEvent => ({ host: 'h', task, status, ...extra });

describe('stageOf and parseEvents', () => {
  it('reads the step from a task name and passes over a line cut off by a kill', () => {
    expect(stageOf('rig: rigor run')).toBe('rig');
    expect(stageOf('the rig on this host')).toBeNull();
    expect(parseEvents('{"host":"h","task":"copy: x","status":"ok"}\n{"host":"h","ta')).toHaveLength(1);
  });
});

describe('hostOutcome', () => {
  it('is ok when the artifact came back', () => {
    const outcome = hostOutcome('h', [ev('copy: x', 'ok'), ev('fetch: y', 'ok')], back, ended);
    expect(outcome).toMatchObject({ outcome: 'ok', answered: true, reason: null, artifact: 'startup/x.json', log_tail: ['table'] });
  });

  it('is unreachable when the first connection failed, with what SSH said', () => {
    const outcome = hostOutcome('h', [ev('copy: make the work directory', 'unreachable', { msg: 'Failed to connect to the host via ssh: Connection refused' })], none, ended);
    expect(outcome).toMatchObject({ outcome: 'unreachable', answered: false, stage: 'copy' });
    expect(outcome.reason).toContain('Connection refused');
  });

  it('is lost when the connection dropped after the host had answered, as a host killed mid-run', () => {
    const events = [ev('copy: x', 'ok'), ev('rig: rigor run', 'start'), ev('rig: rigor run', 'unreachable', { msg: 'Shared connection closed' }), ev('clean: remove', 'unreachable')];
    const outcome = hostOutcome('h', events, none, ended);
    expect(outcome).toMatchObject({ outcome: 'lost', answered: true, stage: 'rig' });
    expect(outcome.reason).toContain('during "rig: rigor run"');
  });

  it('names the step that failed: setup, or the rig (keeping an artifact it wrote)', () => {
    const setup = hostOutcome('h', [ev('copy: x', 'ok'), ev('setup: scripts/setup.sh', 'failed', { msg: 'non-zero return code', stderr_tail: ['E: no apt'] })], none, ended);
    expect(setup).toMatchObject({ outcome: 'setup-failed', stage: 'setup', reason: '"setup: scripts/setup.sh" failed: non-zero return code: E: no apt', log_tail: ['E: no apt'] });
    const rig = hostOutcome('h', [ev('copy: x', 'ok'), ev('rig: rigor run exit code', 'failed', { msg: 'rigor run exited 1' })], back, ended);
    expect(rig).toMatchObject({ outcome: 'rig-failed', stage: 'rig', artifact: 'startup/x.json', log_tail: ['table'] });
  });

  it('is fetch-failed when what came back is not a valid artifact, saying why', () => {
    const cut = hostOutcome('h', [ev('fetch: bring the artifact back', 'ok')], { ...none, problem: 'x.json: not valid JSON' }, ended);
    expect(cut).toMatchObject({ outcome: 'fetch-failed', stage: 'fetch', reason: 'x.json: not valid JSON' });
  });

  it('is not-reached when ansible-playbook never came to the host, interrupted when Ctrl-C stopped it', () => {
    expect(hostOutcome('h', [], none, ended)).toMatchObject({ outcome: 'not-reached', reason: 'ansible-playbook exited 2 before it came to this host' });
    expect(hostOutcome('h', [ev('copy: x', 'ok')], none, { interrupted: true, exitCode: null })).toMatchObject({
      outcome: 'interrupted',
      reason: 'interrupted (Ctrl-C) after "copy: x"',
    });
  });
});
