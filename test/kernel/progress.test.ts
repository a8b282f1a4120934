/** Build progress: stage lines at once, compile counts at most once per interval. */
import { describe, expect, it } from 'vitest';
import { buildProgress, isCompileLine } from '../../kernel/progress.ts';

describe('buildProgress', () => {
  it('recognises kbuild compile lines only', () => {
    expect(isCompileLine('  CC      kernel/fork.o')).toBe(true);
    expect(isCompileLine('  CC [M]  fs/x.o')).toBe(true);
    expect(isCompileLine('  LD      vmlinux.o')).toBe(false);
    expect(isCompileLine('CC is not a line kbuild prints')).toBe(false);
  });

  it('prints stages at once and a running count no more often than the interval', () => {
    let clock = 0;
    const lines: string[] = [];
    const progress = buildProgress((line) => lines.push(line), { intervalMs: 1000, now: () => clock });
    progress.stage('make bzImage');
    for (let i = 0; i < 300; i++) {
      clock += 10; // 300 files in 3 s
      progress.makeLine(`  CC      file${i}.o`);
      progress.makeLine(`  AR      lib${i}.a`);
    }
    expect(progress.compiled).toBe(300);
    expect(lines[0]).toBe('kernel: make bzImage (0 s)');
    expect(lines.slice(1)).toEqual(['kernel:   100 files compiled (1 s)', 'kernel:   200 files compiled (2 s)', 'kernel:   300 files compiled (3 s)']);
  });
});
