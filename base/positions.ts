/** Where a field of a parsed YAML document sits in the text, for line:column in problems. */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number | null;
  column: number | null;
}

export type FieldPath = readonly (string | number)[];

export interface RigText {
  doc: Document;
  lineCounter: LineCounter;
}

function positionOf(text: RigText, node: Node | null | undefined): Position | undefined {
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = text.lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * The position of the value at `path` (or of its key with `part: 'key'`). When the
 * path does not exist in full, the deepest part that does: a missing field points
 * at the mapping that lacks it.
 */
export function locate(text: RigText, path: FieldPath, part: 'value' | 'key' = 'value'): Position {
  let node: unknown = text.doc.contents;
  let best = positionOf(text, node as Node) ?? { line: 1, column: 1 };
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(text.doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return best;
      const keyPosition = positionOf(text, pair.key as Node);
      if (part === 'key' && index === path.length - 1) return keyPosition ?? best;
      node = pair.value;
      best = positionOf(text, node as Node) ?? keyPosition ?? best;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
      if (node === undefined) return best;
      best = positionOf(text, node as Node) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

/** `gates[1].metric`, `metrics["a.b"].unit`; the empty path is `(top level)`. */
export function formatField(path: FieldPath): string {
  if (path.length === 0) return '(top level)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
