import { describe, expect, it } from 'vitest';
import { compareArtifacts } from '../../../runner/compare/compare.ts';
import { formatComparison } from '../../../runner/compare/format.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

describe('formatComparison', () => {
  const a = buildArtifact({
    hostId: 'laptop',
    commit: '1111111aaaaaaa',
    cells: [
      { params: { backend: 'process' }, samples: { time_ms: lognormalSamples(30, 10, 0.02, 1) } },
      { params: { backend: 'qemu' }, samples: { time_ms: lognormalSamples(5, 1200, 0.02, 2) } },
    ],
  });
  const b = buildArtifact({
    hostId: 'ci',
    commit: '2222222bbbbbbb',
    cells: [
      { params: { backend: 'process' }, samples: { time_ms: lognormalSamples(30, 12, 0.02, 3) } },
      { params: { backend: 'qemu' }, status: 'skipped', reason: 'no KVM' },
    ],
  });
  const text = formatComparison(compareArtifacts(a, b, { labels: { a: 'old.json', b: 'new.json' } }), { maxWidth: 200 });
  const lines = text.split('\n');

  it('puts the warnings first, between rules', () => {
    expect(lines[0]).toMatch(/^!+$/);
    expect(lines[1]).toContain('!! WARNING: artifacts come from different hosts (laptop vs ci)');
  });

  it('names both artifacts with rig, commit and host', () => {
    expect(text).toContain('A: old.json  (rig synthetic, 1111111, host laptop, 2025-01-01T00:00:00.000Z)');
    expect(text).toContain('B: new.json  (rig synthetic, 2222222, host ci,');
  });

  it('shows medians with units, the ratio with its CI, p and the verdict, aligned', () => {
    const header = lines.find((line) => line.startsWith('cell'))!;
    expect(header).toMatch(/^cell\s+metric\s+stat\s+A\s+B\s+B\/A \[95% CI\]\s+p\s+verdict$/);
    const row = lines.find((line) => line.startsWith('backend=process'))!;
    expect(row).toMatch(/^backend=process\s+time_ms\s+median\s+\d+\.\d ms\s+1\d\.\d ms\s+1\.\d\d× \[1\.\d\d–1\.\d\d\]\s+<0\.0001\s+worse$/);
    expect(row.indexOf('worse')).toBe(header.indexOf('verdict'));
  });

  it('explains rows without samples and tallies the verdicts', () => {
    expect(lines.find((line) => line.startsWith('backend=qemu'))).toMatch(/\d{4} ms\s+—\s+—\s+—\s+no-samples$/);
    expect(text).toContain('  backend=qemu time_ms: B: cell skipped (no KVM)');
    expect(text).toContain('1 worse, 1 no-samples.');
  });
});
