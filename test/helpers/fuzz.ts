/**
 * Generated inputs for the fuzz tests (fast-check): structure-aware mutations
 * of valid files (text edits at line and token level; a value replaced,
 * removed or retyped at a random path of the parsed data) and raw garbage.
 * Every fuzz test fixes its seed, so a failure reproduces; a failing case
 * found becomes a plain regression test beside it.
 */
import fc from 'fast-check';

/** Tokens that stress a YAML or JSON reader: anchors, aliases, tags, directives, flow starts, odd numbers, control characters. */
export const TRICKY_TOKENS = [
  '&a ', '*a', '<<: *a', '[', ']', '{', '}', '- ', '? ', ': ', '!!binary ', '!!str ', '!!map ', '!!python/object ', '%YAML 1.1', '---', '...',
  '\t', '"\\u0000"', '"\\x1b[2J"', '\u001b]0;x\u0007', '\u009b', '\u202e', '\ufeff', '0x10', '1e309', '-1e309', '.nan', '.inf', '~', 'null', '""', "''", '|', '>-',
  '#', '@', '`', '%', '\\', '"', "'", ',', '\r\n', '\r', '\u0085', '\u2028', '__proto__', 'constructor', 'toString', '-1', '0', '1.5', 'true', '9007199254740993',
];

const LINE_OPS = ['delete', 'duplicate', 'swap', 'insert', 'indent', 'truncate', 'replace-value', 'splice-token'] as const;

/** A text edit of `seed`: lines deleted, duplicated, swapped, re-indented; a token spliced in; a value replaced; the text cut short. */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.record({
    op: fc.constantFrom(...LINE_OPS),
    at: fc.nat(),
    other: fc.nat(),
    token: fc.oneof(fc.constantFrom(...TRICKY_TOKENS), fc.string({ unit: 'binary', maxLength: 12 })),
  });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let lines = seed.split('\n');
    for (const { op, at, other, token } of edits) {
      if (lines.length === 0) lines = [''];
      const i = at % lines.length;
      const j = other % lines.length;
      const line = lines[i]!;
      switch (op) {
        case 'delete':
          lines.splice(i, 1);
          break;
        case 'duplicate':
          lines.splice(i, 0, line);
          break;
        case 'swap':
          [lines[i], lines[j]] = [lines[j]!, line];
          break;
        case 'insert':
          lines.splice(i, 0, `${' '.repeat(other % 8)}${token}`);
          break;
        case 'indent':
          lines[i] = other % 2 === 0 ? ` ${line}` : line.replace(/^ /, '');
          break;
        case 'truncate':
          lines = lines.slice(0, i).concat(line.slice(0, other % (line.length + 1)));
          break;
        case 'replace-value':
          lines[i] = line.replace(/:\s.*$/, `: ${token}`);
          break;
        case 'splice-token': {
          const k = other % (line.length + 1);
          lines[i] = `${line.slice(0, k)}${token}${line.slice(k)}`;
          break;
        }
      }
    }
    return lines.join('\n');
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `data` (the root too). */
function pathsOf(data: unknown, prefix: (string | number)[] = [], into: (string | number)[][] = []): (string | number)[][] {
  into.push(prefix);
  if (Array.isArray(data)) data.forEach((item, i) => pathsOf(item, [...prefix, i], into));
  else if (data !== null && typeof data === 'object') for (const [key, value] of Object.entries(data)) pathsOf(value, [...prefix, key], into);
  return into;
}

/** Odd values for a field: other types, boundaries, huge and tiny numbers, empty and unicode strings, nested junk. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 0.5, '', ' ', 'NaN', '-1', '1e309', [], {}, [[]], { '': null }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const DATA_OPS = ['replace', 'delete', 'rename', 'wrap', 'duplicate-item', 'empty'] as const;

/** `seed` (parsed data) with a value replaced, removed, renamed, wrapped in a list, duplicated or emptied at random paths. */
export function mutatedData(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  const edit = fc.record({ op: fc.constantFrom(...DATA_OPS), pick: fc.nat(), value: oddValue, name: fc.oneof(fc.constantFrom(...TRICKY_TOKENS), fc.string({ maxLength: 8 })) });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([seed, edits]) => {
    let data = structuredClone(seed) as Json;
    for (const { op, pick, value, name } of edits) {
      const paths = pathsOf(data);
      const path = paths[pick % paths.length]!;
      if (path.length === 0) {
        data = op === 'replace' ? (value as Json) : op === 'wrap' ? [data] : data;
        continue;
      }
      const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, data) as Record<string | number, Json> | Json[];
      const key = path.at(-1)!;
      const current = (parent as Record<string | number, Json>)[key]!;
      switch (op) {
        case 'replace':
          (parent as Record<string | number, Json>)[key] = value as Json;
          break;
        case 'delete':
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
          break;
        case 'rename':
          if (!Array.isArray(parent)) {
            delete parent[key];
            parent[`${String(key)}${name}`] = current;
          }
          break;
        case 'wrap':
          (parent as Record<string | number, Json>)[key] = [current];
          break;
        case 'duplicate-item':
          if (Array.isArray(parent)) parent.splice(Number(key), 0, structuredClone(current));
          break;
        case 'empty':
          (parent as Record<string | number, Json>)[key] = Array.isArray(current) ? [] : current !== null && typeof current === 'object' ? {} : '';
          break;
      }
    }
    return data;
  });
}

/** Raw garbage: any unicode (control characters, lone surrogates), or bytes read as UTF-8. */
export const garbageText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
  fc.array(fc.constantFrom(...TRICKY_TOKENS), { maxLength: 30 }).map((tokens) => tokens.join('')),
);

/** A line of a Node stack trace ("    at fn (/x/y.ts:1:2)", "    at node:internal/…:1:2"): never shown to a user for a mistake in their input. */
export const STACK_FRAME = /^ {4}at (?:.+ \()?(?:file:\/\/|node:|\/)\S*:\d+:\d+\)?$/m;
