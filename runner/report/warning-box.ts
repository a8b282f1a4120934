/** Warnings that must not be missed, set between rules so they stand out above a table. */

/** No right border: long warnings may wrap in a narrow terminal without breaking the box. */
export function renderWarnings(warnings: string[], opts: { maxWidth?: number } = {}): string {
  if (warnings.length === 0) return '';
  const lines = warnings.map((warning) => `!! WARNING: ${warning}`);
  const width = Math.min(Math.max(...lines.map((line) => line.length)), opts.maxWidth ?? (process.stdout.columns || 100));
  const rule = '!'.repeat(width);
  return [rule, ...lines, rule].join('\n');
}
