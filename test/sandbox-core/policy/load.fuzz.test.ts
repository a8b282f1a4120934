/**
 * Fuzzing the policy loader (parsePolicy: YAML, shape, CEL) and CEL rules
 * (compilePolicy, then the engine on generated events): 10,000 generated
 * policies and 10,000 generated rules, from a valid policy mutated as text and
 * as data, expressions from a small CEL grammar with hostile tokens spliced
 * in, and raw garbage. Properties: a policy loads or is refused with a
 * PolicyError (an InputError) naming the file, each problem with its field and
 * message and no control character; a compiled rule never throws out of the
 * engine, whatever the event. Seeds fixed; cases found are regressions below.
 */
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { hasUnprintable } from '../../../base/printable.ts';
import { compilePolicy, MAX_EXPRESSION_DEPTH, MAX_UNARY_OPERATORS } from '../../../sandbox-core/policy/compile.ts';
import { PolicyEngine } from '../../../sandbox-core/policy/engine.ts';
import type { PolicyEvent } from '../../../sandbox-core/policy/events.ts';
import { parsePolicy } from '../../../sandbox-core/policy/load.ts';
import { PolicyError, type Rule } from '../../../sandbox-core/policy/rule.ts';
import { garbageText, mutatedData, mutatedText, TRICKY_TOKENS } from '../../helpers/fuzz.ts';

const FILE = 'fuzz/policy.yaml';
const POLICY = `default: allow
rules:
  - id: no-posts
    when: event == "http.request" && request.host.endsWith(".example.com") && request.method == "POST"
    decision: block
  - id: dns-log
    when: |
      query.name.endsWith(".test") || query.type in ["TXT", "ANY"]
    decision: log
  - id: no-curl
    when: process.argv.size() > 0 && process.argv[0] == "curl" && !process.cwd.startsWith("/tmp")
    decision: block
  - id: header
    when: "'x-debug' in request.headers && request.headers['x-debug'] == '1'"
    decision: allow
`;

/** Loads, or a PolicyError naming the file in every problem. */
function loadOrRefuse(text: string): 'loaded' | 'refused' {
  try {
    parsePolicy(text, FILE);
    return 'loaded';
  } catch (error) {
    if (!(error instanceof PolicyError)) throw new Error(`not a PolicyError: ${String(error)}\n--- input ---\n${JSON.stringify(text)}`);
    const bad = error.problems.find((p) => p.file !== FILE || !p.message);
    if (error.problems.length === 0 || bad) throw new Error(`a problem without file or message: ${JSON.stringify(bad)}`);
    if (hasUnprintable(error.message.replaceAll('\n', ' '))) throw new Error(`a control character in: ${JSON.stringify(error.message)}`);
    return 'refused';
  }
}

const str = fc.oneof(fc.constantFrom('', 'a', 'example.com', '.test', 'POST', 'curl', '/tmp', 'x-debug', 'TXT'), fc.string({ maxLength: 8 }));
const literal = fc.oneof(str.map((s) => JSON.stringify(s)), fc.integer().map(String), fc.constantFrom('true', 'false', 'null', '1.5', '-1', 'b"x"', '1u', '[]', '{}'));
const field = fc.constantFrom('event', 'request.host', 'request.method', 'request.path', 'request.address', 'request.headers', 'query.name', 'query.type', 'process.argv', 'process.cwd', 'nope', 'request.nope');
/** CEL from a small grammar: comparisons, calls, macros, indexing, operators; depth-bounded. */
const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    field,
    literal,
    fc.tuple(field, fc.constantFrom('==', '!=', '<', '>=', 'in'), literal).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(field, fc.constantFrom('endsWith', 'startsWith', 'contains', 'matches', 'size', 'exists'), literal).map(([a, f, b]) => (f === 'size' ? `${a}.size()` : f === 'exists' ? `${a}.exists(x, x == ${b})` : `${a}.${f}(${b})`)),
    fc.tuple(tie('e'), fc.constantFrom('&&', '||', '+', '-', '*', '/', '%', '==', '<'), tie('e')).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(fc.constantFrom('!', '-', '('), tie('e')).map(([op, a]) => (op === '(' ? `(${a})` : `${op}${a}`)),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
    fc.tuple(field, literal).map(([a, b]) => `${a}[${b}]`),
  ),
})).e;
/** A generated expression with a hostile token or garbage spliced in at a random place, or garbage alone. */
const when = fc.oneof(
  expression,
  fc.tuple(expression, fc.nat(), fc.oneof(fc.constantFrom(...TRICKY_TOKENS, '"', "'''", 'r"', '\\', '.', '?.', '[?', '{', '}', ')', '('), garbageText)).map(([e, at, t]) => `${e.slice(0, at % (e.length + 1))}${t}${e.slice(at % (e.length + 1))}`),
  garbageText,
);
const event: fc.Arbitrary<PolicyEvent> = fc.oneof(
  fc.record({ event: fc.constant('http.request' as const), host: str, address: str, method: str, path: str, headers: fc.dictionary(str, str, { maxKeys: 3 }) }),
  fc.record({ event: fc.constant('dns.query' as const), name: str, type: str }),
  fc.record({ event: fc.constant('process.exec' as const), argv: fc.array(str, { maxLength: 3 }), cwd: str }),
);

describe('fuzzing the policy loader', () => {
  it('text mutations of a valid policy: 5,000 cases (seed 16011)', () => {
    const counts = { loaded: 0, refused: 0 };
    fc.assert(fc.property(mutatedText([POLICY]), (text) => void counts[loadOrRefuse(text)]++), { seed: 16011, numRuns: 5000 });
    expect(counts.loaded).toBeGreaterThan(100);
  });

  it('data mutations written back as YAML: 3,000 cases (seed 16012); raw garbage: 2,000 cases (seed 16013)', () => {
    fc.assert(fc.property(mutatedData([parseYaml(POLICY)]), (data) => void loadOrRefuse(stringify(data))), { seed: 16012, numRuns: 3000 });
    fc.assert(fc.property(garbageText, (text) => void loadOrRefuse(text)), { seed: 16013, numRuns: 2000 });
  });
});

describe('fuzzing CEL rules', () => {
  it('10,000 generated rules (seed 16014): compiled, or a PolicyError naming the rule; a compiled rule never throws out of the engine', () => {
    const counts = { compiled: 0, refused: 0 };
    fc.assert(
      fc.property(when, fc.constantFrom('allow', 'block', 'log'), fc.array(event, { minLength: 1, maxLength: 4 }), (expression, decision, events) => {
        const rule = { id: 'r', when: expression, decision } as Rule;
        try {
          compilePolicy([rule]);
        } catch (error) {
          if (!(error instanceof PolicyError)) throw new Error(`not a PolicyError: ${String(error)} for ${JSON.stringify(expression)}`);
          if (!error.problems.every((p) => p.ruleId === 'r' && p.message) || hasUnprintable(error.message)) throw new Error(`an incomplete problem: ${error.message}`);
          counts.refused++;
          return;
        }
        counts.compiled++;
        const engine = new PolicyEngine({ default: 'allow', rules: [rule] });
        for (const e of events) engine.evaluate(e);
      }),
      { seed: 16014, numRuns: 10_000 },
    );
    // most generated expressions are ill-typed (a string compared with a number): refused by the checker
    expect(counts.compiled).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(1000);
  });
});

describe('CEL built to exhaust the parser and checker, refused before it recurses', () => {
  const refusal = (expression: string) => {
    try {
      compilePolicy([{ id: 'deep', when: expression, decision: 'block' }]);
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as PolicyError).message;
    }
    throw new Error('compiled');
  };

  it.each([
    ['10,000 ! (a regression: a RangeError escaped)', `${'!'.repeat(10_000)}true`, `expected at most ${MAX_UNARY_OPERATORS} ! and - operators, found 10000`],
    ['10,000 unary - (a regression: a RangeError escaped)', `${'-'.repeat(10_000)}1 == 1`, `expected at most ${MAX_UNARY_OPERATORS} ! and - operators, found 10000`],
    ['a chain of 10,000 && (a regression: "Maximum call stack size exceeded" from inside the checker)', Array(10_000).fill('true').join(' && '), `expected an expression nested at most ${MAX_EXPRESSION_DEPTH} deep`],
    ['a chain of 10,000 +', `${Array(10_000).fill('1').join(' + ')} == 1`, `expected an expression nested at most ${MAX_EXPRESSION_DEPTH} deep`],
    ['10,000 nested brackets', `${'('.repeat(10_000)}true${')'.repeat(10_000)}`, 'Exceeded maxDepth (250)'],
    ['10,000 nested lists', `${'['.repeat(10_000)}${']'.repeat(10_000)} == []`, 'Exceeded maxDepth (250)'],
  ])('%s', (_, expression, message) => {
    const said = refusal(expression);
    expect(said).toContain(`rule "deep" rules[0].when: `);
    expect(said).toContain(message);
  });

  it('a ! or - inside a string literal is not counted', () => {
    expect(() => compilePolicy([{ id: 'ok', when: `request.path == "${'-!'.repeat(200)}"`, decision: 'block' }])).not.toThrow();
  });

  it('a policy file nested past the YAML limit, or whose aliases expand exponentially', () => {
    expect(() => parsePolicy(`default: allow\nrules: ${'['.repeat(100_000)}`, FILE)).toThrow(/^fuzz\/policy\.yaml:2:\d+: \(top level\): expected lists and mappings nested at most 64 deep/);
    const laughs = ['default: allow', 'a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
    expect(() => parsePolicy(laughs.join('\n'), FILE)).toThrow(/expected aliases that add at most 100000 nodes when expanded/);
  });
});
