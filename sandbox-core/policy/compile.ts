/**
 * Turning rules into something fast to evaluate: each expression parsed and
 * type-checked once, and each rule filed under the event types it can match,
 * indexed by an exact host (http) or name (dns) when it demands one.
 */
import { ParseError, TypeError as CelTypeError, type ASTNode } from '@marcbachmann/cel-js';
import type { FieldPath } from '../../base/positions.ts';
import { eventTypes, policyEnvironment, variableOf, type EventType, type PolicyEvent } from './events.ts';
import { decisions, PolicyError, type PolicyProblem, type Rule } from './rule.ts';

export interface CompiledRule {
  rule: Rule;
  /** Position in the rule list: the order first-match-wins follows. */
  index: number;
  test: (context: Record<string, unknown>) => unknown;
}

/** The rules one event type can meet, in order; keyed lists already merged with the unkeyed ones. */
export interface EventRules {
  all: CompiledRule[];
  unkeyed: CompiledRule[];
  byKey: Map<string, CompiledRule[]>;
}

export interface CompiledPolicy {
  rules: readonly Rule[];
  byEvent: Readonly<Record<EventType, EventRules>>;
}

/** The field an event type's rules are indexed by: `request.host == "x"` finds only the rules for host x. */
const indexField: Readonly<Record<EventType, string | null>> = {
  'http.request': 'host',
  'dns.query': 'name',
  'process.exec': null,
};

export function indexKeyOf(event: PolicyEvent): string | null {
  switch (event.event) {
    case 'http.request':
      return event.host;
    case 'dns.query':
      return event.name;
    case 'process.exec':
      return null;
  }
}

const eventOfVariable = new Map<string, EventType>(eventTypes.map((type) => [variableOf[type], type]));

function conjuncts(node: ASTNode): ASTNode[] {
  return node.op === '&&' ? [...conjuncts(node.args[0]), ...conjuncts(node.args[1])] : [node];
}

function identifiers(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) identifiers(item, into);
  else if (value !== null && typeof value === 'object' && 'op' in value) {
    const node = value as ASTNode;
    if (node.op === 'id') into.add(node.args);
    else identifiers(node.args, into);
  }
  return into;
}

function stringLiteral(node: ASTNode): string | null {
  return node.op === 'value' && typeof node.args === 'string' ? node.args : null;
}

/** `a == "lit"` or `"lit" == a`, with `a` matched by `isSubject`. */
function equalsLiteral(node: ASTNode, isSubject: (n: ASTNode) => boolean): string | null {
  if (node.op !== '==') return null;
  const [left, right] = node.args;
  if (isSubject(left)) return stringLiteral(right);
  if (isSubject(right)) return stringLiteral(left);
  return null;
}

const isEventVariable = (n: ASTNode) => n.op === 'id' && n.args === 'event';
const isField = (variable: string, field: string) => (n: ASTNode) =>
  n.op === '.' && n.args[1] === field && n.args[0].op === 'id' && n.args[0].args === variable;

interface Placement {
  events: EventType[];
  /** The exact index value per event type this rule demands, if any. */
  keys: Partial<Record<EventType, string>>;
}

/**
 * Which event types a rule can match. Narrowing only looks at top-level `&&`
 * terms: a term that tests `event == "T"`, or reads only T's variable, is false
 * or an error for any other event type, and so is the whole rule.
 */
function placement(ast: ASTNode): Placement | string {
  let events = new Set<EventType>(eventTypes);
  const keys: Partial<Record<EventType, string>> = {};
  for (const term of conjuncts(ast)) {
    const named = equalsLiteral(term, isEventVariable);
    if (named !== null) {
      if (!eventTypes.includes(named as EventType)) return `unknown event type ${JSON.stringify(named)}; expected one of ${eventTypes.join(', ')}`;
      events = new Set([...events].filter((e) => e === named));
      continue;
    }
    const owners = new Set([...identifiers(term, new Set())].flatMap((id) => eventOfVariable.get(id) ?? []));
    if (owners.size === 1) {
      const owner = [...owners][0]!;
      events = new Set([...events].filter((e) => e === owner));
      const field = indexField[owner];
      const key = field === null ? null : equalsLiteral(term, isField(variableOf[owner], field));
      if (key !== null && keys[owner] === undefined) keys[owner] = key;
    }
  }
  if (events.size === 0) return 'can never match: its terms demand different event types';
  return { events: [...events], keys };
}

/** 0-based offset in `text` → 1-based line and column. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function celProblem(rule: Rule, path: FieldPath, error: { message: string; range?: { start: number } }): PolicyProblem {
  const where = error.range ? lineColumn(rule.when, error.range.start) : null;
  // The library appends a source excerpt with a caret; the position says the same in one line.
  return { ruleId: rule.id, path, line: where?.line ?? null, column: where?.column ?? null, message: error.message.split('\n')[0]! };
}

function problem(rule: Rule | null, path: FieldPath, message: string): PolicyProblem {
  return { ruleId: rule?.id ?? null, path, line: null, column: null, message };
}

/**
 * The CEL library parses and checks recursively: its depth limit covers
 * brackets and calls but not `!`/`-` (10,000 of them overflowed the stack) nor a
 * chain like `a && b && …` (parsed in a loop, checked recursively); a stack
 * overflow can abort Node itself, so these are refused before they recurse.
 */
export const MAX_UNARY_OPERATORS = 100;
/** Levels of the parsed expression; the library's own bracket limit is 250. */
export const MAX_EXPRESSION_DEPTH = 250;

/** `!` (not `!=`) and `-` outside string literals: the operators whose nesting the parser does not bound. */
function unaryOperators(expression: string): number {
  let count = 0;
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i]!;
    if (char === '"' || char === "'") {
      // skip the literal; an escaped quote does not end it
      for (i++; i < expression.length && expression[i] !== char; i++) if (expression[i] === '\\') i++;
    } else if ((char === '!' && expression[i + 1] !== '=') || char === '-') count++;
  }
  return count;
}

/** The depth of a parsed expression, walked with a stack of its own. */
function expressionDepth(ast: ASTNode): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[ast, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth]);
    } else if (value !== null && typeof value === 'object' && 'op' in value) {
      const node = value as ASTNode;
      deepest = Math.max(deepest, depth + 1);
      if (deepest > MAX_EXPRESSION_DEPTH) return deepest;
      if (node.op !== 'value') stack.push([node.args, depth + 1]);
    }
  }
  return deepest;
}

function compileOne(rule: Rule, index: number, problems: PolicyProblem[]): { compiled: CompiledRule; place: Placement } | null {
  const field = ['rules', index, 'when'];
  if (!decisions.includes(rule.decision)) {
    problems.push(problem(rule, ['rules', index, 'decision'], `expected one of ${decisions.join(', ')}, found ${JSON.stringify(rule.decision)}`));
  }
  if (typeof rule.when !== 'string') {
    problems.push(problem(rule, field, `expected a CEL expression (a string), found ${typeof rule.when}`));
    return null;
  }
  const unary = unaryOperators(rule.when);
  if (unary > MAX_UNARY_OPERATORS) {
    problems.push(problem(rule, field, `expected at most ${MAX_UNARY_OPERATORS} ! and - operators, found ${unary}`));
    return null;
  }
  let parsed;
  try {
    parsed = policyEnvironment.parse(rule.when);
  } catch (error) {
    if (error instanceof ParseError) {
      problems.push(celProblem(rule, field, error));
      return null;
    }
    throw error;
  }
  const depth = expressionDepth(parsed.ast);
  if (depth > MAX_EXPRESSION_DEPTH) {
    problems.push(problem(rule, field, `expected an expression nested at most ${MAX_EXPRESSION_DEPTH} deep, found deeper (a chain of ${MAX_EXPRESSION_DEPTH}+ operators?)`));
    return null;
  }
  const checked = parsed.check();
  if (!checked.valid) {
    const error = checked.error;
    problems.push(error instanceof CelTypeError ? celProblem(rule, field, error) : problem(rule, field, String(error?.message)));
    return null;
  }
  if (checked.type !== 'bool') {
    problems.push(problem(rule, field, `expected an expression of type bool, found ${checked.type}`));
    return null;
  }
  const place = placement(parsed.ast);
  if (typeof place === 'string') {
    problems.push(problem(rule, field, place));
    return null;
  }
  return { compiled: { rule, index, test: parsed }, place };
}

/** Compile a whole rule set, or throw every problem in it; nothing is half-applied. */
export function compilePolicy(rules: readonly Rule[]): CompiledPolicy {
  const problems: PolicyProblem[] = [];
  const seen = new Map<string, number>();
  for (const [index, rule] of rules.entries()) {
    if (typeof rule.id !== 'string' || rule.id === '') problems.push(problem(null, ['rules', index, 'id'], 'expected a non-empty string'));
    else if (seen.has(rule.id)) problems.push(problem(rule, ['rules', index, 'id'], `duplicate id; rules[${seen.get(rule.id)}] has it too`));
    else seen.set(rule.id, index);
  }
  const placed = rules.map((rule, index) => compileOne(rule, index, problems));
  if (problems.length > 0) throw new PolicyError(problems);

  const byEvent = {} as Record<EventType, EventRules>;
  for (const type of eventTypes) {
    const here = placed.filter((p) => p !== null && p.place.events.includes(type)) as { compiled: CompiledRule; place: Placement }[];
    const unkeyed = here.filter((p) => p.place.keys[type] === undefined).map((p) => p.compiled);
    const byKey = new Map<string, CompiledRule[]>();
    for (const p of here) {
      const key = p.place.keys[type];
      if (key !== undefined && !byKey.has(key)) {
        byKey.set(key, here.filter((q) => q.place.keys[type] === undefined || q.place.keys[type] === key).map((q) => q.compiled));
      }
    }
    byEvent[type] = { all: here.map((p) => p.compiled), unkeyed, byKey };
  }
  return { rules: [...rules], byEvent };
}

