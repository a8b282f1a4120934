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

function compileOne(rule: Rule, index: number, problems: PolicyProblem[]): { compiled: CompiledRule; place: Placement } | null {
  const field = ['rules', index, 'when'];
  if (!decisions.includes(rule.decision)) {
    problems.push(problem(rule, ['rules', index, 'decision'], `expected one of ${decisions.join(', ')}, found ${JSON.stringify(rule.decision)}`));
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

