/**
 * YAML from a user, parsed within bounds. The yaml library composes a
 * document recursively: a text nested a few hundred levels deep overflows the
 * stack, and a second overflow in one process can abort Node itself (V8 runs
 * out of stack compiling a regexp and exits with "process out of memory").
 * Its parser (text to tokens) is iterative, so the nesting is measured on the
 * tokens before anything is composed; aliases are expanded (without copying)
 * before toJS, so a document that aliases blow up ("billion laughs") or that
 * nests deeply through aliases is refused by a count, not by the library's
 * exception.
 */
import { Composer, isAlias, isCollection, isPair, isScalar, Parser, type CST, type Document, type LineCounter, type YAMLError, YAMLParseError } from 'yaml';

/** Deeper than any rig, policy or --set value needs, and far from the ~700 levels that overflow the composer's stack. */
export const MAX_YAML_DEPTH = 64;
/** Keys of one mapping: the library checks each new key against every earlier one (10,000 keys took seconds, 25,000 a minute; 1,000 a tenth of a second). */
export const MAX_YAML_MAP_KEYS = 1_000;
/** Nodes that aliases may add when expanded (each use of an anchor counts its whole subtree). */
export const MAX_YAML_ALIAS_NODES = 100_000;

/** Why a text was refused before (or instead of) its data; line and column are 1-based. */
export interface YamlRefusal {
  line: number | null;
  column: number | null;
  expected: string;
  found: string;
}

export type BoundedDocument = { doc: Document.Parsed; refusal?: never } | { doc?: never; refusal: YamlRefusal };

type Item = { key?: CST.Token | null; value?: CST.Token | null; sep?: CST.SourceToken[] };

/** The first collection token nested past maxDepth or a mapping of more than MAX_YAML_MAP_KEYS keys: iterative, over the parser's tokens. */
function tooLarge(tokens: readonly CST.Token[], maxDepth: number): { token: CST.Token; what: 'depth' | 'keys' } | null {
  const stack: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > maxDepth) return { token, what: 'depth' };
    const isMapping = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
    if (isMapping && token.items.length > MAX_YAML_MAP_KEYS) return { token, what: 'keys' };
    for (const item of token.items as Item[]) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
  return null;
}

/** yaml's parseDocument, refusing a text nested deeper than maxDepth before composing it. Errors carry linePos as with prettyErrors. */
export function parseBoundedDocument(source: string, lineCounter: LineCounter, maxDepth = MAX_YAML_DEPTH): BoundedDocument {
  const tokens = [...new Parser(lineCounter.addNewLine).parse(source)];
  const large = tooLarge(tokens, maxDepth);
  if (large) {
    const { line, col } = lineCounter.linePos((large.token as { offset: number }).offset);
    const refusal =
      large.what === 'depth'
        ? { expected: `lists and mappings nested at most ${maxDepth} deep`, found: 'deeper nesting (refused before parsing)' }
        : { expected: `a mapping of at most ${MAX_YAML_MAP_KEYS} keys`, found: `${large.token.type === 'block-map' || large.token.type === 'flow-collection' ? large.token.items.length : '?'} keys` };
    return { refusal: { line, column: col, ...refusal } };
  }
  let doc: Document.Parsed | null = null;
  for (const next of new Composer({}).compose(tokens, true, source.length)) {
    if (!doc) doc = next;
    else {
      // as parseDocument does
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  for (const error of [...doc!.errors, ...doc!.warnings] as YAMLError[]) {
    if (!error.linePos) error.linePos = [lineCounter.linePos(error.pos[0]), lineCounter.linePos(error.pos[1])];
  }
  return { doc: doc! };
}

/** Alias → the node of the nearest anchor of that name before it (YAML's rule), from one walk of the document. */
function anchorsOf(doc: Document): (alias: { source: string; range?: [number, number, number] | null }) => unknown {
  const anchors = new Map<string, [number, unknown][]>();
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isPair(node)) {
      stack.push(node.key, node.value);
      continue;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor && (isCollection(node) || isScalar(node))) {
      const list = anchors.get(anchor) ?? [];
      list.push([node.range?.[0] ?? 0, node]);
      anchors.set(anchor, list);
    }
    if (isCollection(node)) stack.push(...(node.items as unknown[]));
  }
  for (const list of anchors.values()) list.sort((a, b) => a[0] - b[0]);
  return (alias) => {
    const at = alias.range?.[0] ?? Number.POSITIVE_INFINITY;
    const before = (anchors.get(alias.source) ?? []).filter(([offset]) => offset < at);
    return before.at(-1)?.[1];
  };
}

/** What JSON can hold: YAML's !!binary (a Buffer) and !!timestamp (a Date) are not, and a schema check walks into their methods. */
function isPlainScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * The document's data (toJS), or why not: nesting deeper than maxDepth once
 * aliases are followed (a cycle is infinitely deep), or aliases adding more than
 * maxAliasNodes nodes, or a value JSON cannot hold (!!binary, !!timestamp,
 * !!set). Checked by walking the nodes with aliases followed, so
 * the work is bounded by the limits, not by what the aliases would expand to.
 */
export function boundedData(doc: Document, lineCounter: LineCounter, maxDepth = MAX_YAML_DEPTH, maxAliasNodes = MAX_YAML_ALIAS_NODES): { data: unknown; refusal?: never } | { data?: never; refusal: YamlRefusal } {
  const place = (node: unknown) => {
    const offset = (node as { range?: [number, number, number] | null } | null)?.range?.[0];
    if (offset === undefined) return { line: null, column: null };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const resolve = anchorsOf(doc);
  // [node, depth, the alias it was reached through (for the place of a refusal)]
  const stack: [unknown, number, unknown][] = [[doc.contents, 0, null]];
  let aliased = 0;
  while (stack.length > 0) {
    const [node, depth, via] = stack.pop()!;
    if (isPair(node)) {
      stack.push([node.key, depth, via], [node.value, depth, via]);
      continue;
    }
    if (isAlias(node)) {
      const target = resolve(node);
      if (target !== undefined) stack.push([target, depth, via ?? node]);
      continue;
    }
    if (isScalar(node) && !isPlainScalar(node.value)) {
      return { refusal: { ...place(via ?? node), expected: 'plain data (strings, numbers, booleans, null, lists and mappings)', found: `a ${node.tag ?? typeof node.value} value` } };
    }
    if (isCollection(node) && node.tag && /:(set|omap|pairs)$/.test(node.tag)) {
      return { refusal: { ...place(via ?? node), expected: 'plain data (strings, numbers, booleans, null, lists and mappings)', found: `a ${node.tag} collection` } };
    }
    if (via !== null && ++aliased > maxAliasNodes) {
      return { refusal: { ...place(via), expected: `aliases that add at most ${maxAliasNodes} nodes when expanded`, found: 'more (an alias expansion bomb?)' } };
    }
    if (!isCollection(node)) continue;
    if (depth + 1 > maxDepth) {
      const where = via ?? node;
      return { refusal: { ...place(where), expected: `lists and mappings nested at most ${maxDepth} deep with aliases followed`, found: 'deeper nesting (or an alias inside its own anchor)' } };
    }
    for (const item of node.items as unknown[]) stack.push([item, depth + 1, via]);
  }
  try {
    return { data: doc.toJS({ maxAliasCount: -1 }) };
  } catch (error) {
    // Checked above; what the library still refuses is told, not thrown.
    return { refusal: { line: null, column: null, expected: 'YAML whose aliases resolve', found: (error as Error).message.split('\n')[0]! } };
  }
}
