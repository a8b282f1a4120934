import { describe, expect, it } from 'vitest';
import type { GateResult } from '../../../runner/artifact/schema.ts';
import { gateMarkdown } from '../../../runner/gate/markdown.ts';
import type { RatioGoal } from '../../../runner/gate/ratio-goals.ts';
import type { Unchecked } from '../../../runner/gate/strict.ts';

const pass: GateResult = {
  gate: 0, kind: 'absolute', metric: 'total_ms', stat: 'p95', cell: 'backend=bwrap,concurrency=1', verdict: 'pass',
  value: 120.4, bound: { max: 250 }, detail: 'p95 120 ms within max 250 ms → pass',
};
const fail: GateResult = {
  gate: 1, kind: 'relative', metric: 'total_ms', stat: 'median', cell: 'backend=runc', verdict: 'fail', value: 12.3,
  bound: { max_ratio: 1.1 }, baseline_value: 10.1, ratio: 1.2178, ratio_ci95: { low: 1.18, high: 1.26 }, p_value: 0.0003,
  detail: 'median 12.3 ms vs 10.1 ms: 1.22× [1.18–1.26], p = 0.0003 (Mann-Whitney U) → worse; 1.22× > 1.1× → regression',
};
const skipped: GateResult = {
  gate: 1, kind: 'relative', metric: 'total_ms', stat: 'median', cell: 'backend=qemu', verdict: 'skipped', value: null,
  bound: { max_ratio: 1.1 }, baseline_value: null, ratio: null, ratio_ci95: null, p_value: null, detail: 'candidate cell skipped: a|b',
};

describe('gateMarkdown', () => {
  it('headlines a pass and lists candidate and baseline', () => {
    const md = gateMarkdown([pass], { rig: 'lifecycle', candidate: 'results/lifecycle/new.json', warnings: [] });
    expect(md.split('\n')[0]).toBe('## rigor gate `lifecycle`: ✅ pass');
    expect(md).toContain('- candidate: `results/lifecycle/new.json`');
    expect(md).toContain('- baseline: none');
    expect(md).not.toContain('>');
  });

  it('headlines regressions and gives one table row per result', () => {
    const md = gateMarkdown([pass, fail, skipped], {
      rig: 'lifecycle', candidate: 'new.json', baseline: 'old.json', warnings: ['artifacts come from different hosts (a vs b)', 'second'],
    });
    const lines = md.split('\n');
    expect(lines[0]).toBe('## rigor gate `lifecycle`: ❌ 1 regression');
    expect(md).toContain('1 regression, 1 pass, 1 skipped.');
    const rows = lines.filter((line) => line.startsWith('| '));
    expect(rows).toHaveLength(4); // header + 3 results
    expect(rows[2]).toBe(
      '| ❌ fail | 1 | backend=runc | median total_ms ≤ 1.1× baseline | 12.3 | 10.1 | 1.22× (1.18–1.26) | 0.0003 | median 12.3 ms vs 10.1 ms: 1.22× [1.18–1.26], p = 0.0003 (Mann-Whitney U) → worse; 1.22× > 1.1× → regression |',
    );
    expect(rows[3]).toContain('candidate cell skipped: a\\|b'); // a pipe would split the cell
    expect(md).toContain('> ⚠️ **Warning:** artifacts come from different hosts (a vs b)\n>\n> ⚠️ **Warning:** second');
  });

  it('says so when the rig has no gates', () => {
    expect(gateMarkdown([], { rig: 'x', candidate: 'c.json', warnings: [] })).toContain('The rig defines no gates.');
  });

  it('headlines what went unchecked, lists it, and tables the ratio goals: a failure in strict mode, a warning otherwise', () => {
    const goals: RatioGoal[] = [
      { name: 'ours_over_bare', max: 1.5, verdict: 'missed', ratio: 2, ci95: { low: 1.9, high: 2.1 }, detail: '4 ms / 2 ms = 2.00× (CI 1.90–2.10); goal ≤ 1.5×: missed by 1.33×' },
    ];
    const unchecked: Unchecked[] = [{ kind: 'goal-missed', reason: `ratio goal ours_over_bare ≤ 1.5× missed: ${goals[0]!.detail}` }];
    const ctx = { rig: 'lifecycle', candidate: 'new.json', warnings: [], goals, unchecked };
    const strict = gateMarkdown([pass], { ...ctx, mode: { strict: true, source: 'CI=true' } });
    expect(strict.split('\n')[0]).toBe('## rigor gate `lifecycle`: ❌ 1 goal missed');
    expect(strict).toContain('1 pass; ratio goal: 1 missed; 1 goal missed (fails because CI=true; --no-strict makes it a warning).');
    expect(strict).toContain(`❌ **Goal missed** — fails because CI=true; --no-strict makes it a warning:\n\n- ${unchecked[0]!.reason}\n`);
    expect(strict).toContain(`| ours_over_bare ≤ 1.5× | ❌ missed | 2.00× (1.90–2.10) | ${goals[0]!.detail} |`);
    const lenient = gateMarkdown([pass], { ...ctx, mode: { strict: false, source: 'CI unset' } });
    expect(lenient.split('\n')[0]).toBe('## rigor gate `lifecycle`: ⚠️ pass, 1 goal missed');
    expect(lenient).toContain('⚠️ **Goal missed** — a warning here; --strict or CI would fail it:');
    expect(lenient).toContain('| ours_over_bare ≤ 1.5× | ⚠️ missed |');
  });
});
