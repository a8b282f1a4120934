/** Plain aligned text tables for the terminal (results, comparisons, gates). */

export interface Column {
  header: string;
  /** Default 'left'; numbers read best right-aligned. */
  align?: 'left' | 'right';
}

const GAP = '  ';
/** A truncated column keeps at least this many characters, ellipsis included. */
const MIN_TRUNCATED_WIDTH = 8;

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/**
 * A header, a rule and the rows, columns separated by two spaces. When the
 * table is wider than maxWidth the widest left-aligned column is cut with "…"
 * (labels can lose their tail; numbers never lose digits).
 */
export function renderTable(columns: Column[], rows: string[][], opts: { maxWidth?: number } = {}): string {
  const maxWidth = opts.maxWidth ?? (process.stdout.columns || 100);
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const total = widths.reduce((sum, w) => sum + w, 0) + GAP.length * Math.max(0, columns.length - 1);
  if (total > maxWidth) {
    let widest = -1;
    columns.forEach((column, i) => {
      if ((column.align ?? 'left') === 'left' && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest >= 0) {
      const floor = Math.min(widths[widest]!, Math.max(MIN_TRUNCATED_WIDTH, columns[widest]!.header.length));
      widths[widest] = Math.max(floor, widths[widest]! - (total - maxWidth));
    }
  }
  const line = (cells: string[]) =>
    columns
      .map((column, i) => pad(truncate(cells[i] ?? '', widths[i]!), widths[i]!, column.align ?? 'left'))
      .join(GAP)
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    widths.map((w) => '─'.repeat(w)).join(GAP),
    ...rows.map(line),
  ].join('\n');
}
