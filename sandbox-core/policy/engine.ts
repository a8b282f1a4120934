/**
 * The live policy: first matching rule wins, else the default. Every change
 * compiles the whole new set before it replaces the old one, so a bad change
 * leaves the rules in force untouched.
 */
import { compilePolicy, indexKeyOf, type CompiledPolicy, type CompiledRule } from './compile.ts';
import { contextOf, type PolicyEvent } from './events.ts';
import { decisions, PolicyError, type Decision, type Policy, type Rule } from './rule.ts';

export interface Verdict {
  decision: Decision;
  /** The rule that decided; null when the default did. */
  ruleId: string | null;
}

export interface EvaluationErrors {
  total: number;
  byRule: Map<string, number>;
  last: { ruleId: string; message: string } | null;
}

export class PolicyEngine {
  #compiled: CompiledPolicy;
  #default: Decision;
  /**
   * A rule whose expression fails on an event (a missing header, say) is
   * decided by what it would do, so an error can never turn a block into an
   * allow: a failing `block` rule blocks (an attacker who leaves out the
   * header a block rule inspects is blocked, not waved on to the next rule);
   * a failing `allow` or `log` rule does not match (the rules after it, or the
   * default, decide). Every failure is counted here so a broken rule is visible.
   */
  readonly errors: EvaluationErrors = { total: 0, byRule: new Map(), last: null };

  constructor(policy: Policy) {
    if (!decisions.includes(policy.default)) {
      throw new PolicyError([{ ruleId: null, path: ['default'], line: null, column: null, message: `expected one of ${decisions.join(', ')}, found ${JSON.stringify(policy.default)}` }]);
    }
    this.#default = policy.default;
    this.#compiled = compilePolicy(policy.rules);
  }

  get rules(): readonly Rule[] {
    return this.#compiled.rules;
  }

  get defaultDecision(): Decision {
    return this.#default;
  }

  evaluate(event: PolicyEvent): Verdict {
    const rules = this.#candidates(event);
    if (rules.length === 0) return { decision: this.#default, ruleId: null };
    const context = contextOf(event);
    for (const compiled of rules) {
      let matched: unknown;
      try {
        matched = compiled.test(context);
      } catch (error) {
        this.#countError(compiled, error);
        if (compiled.rule.decision === 'block') return { decision: 'block', ruleId: compiled.rule.id };
        continue;
      }
      if (matched === true) return { decision: compiled.rule.decision, ruleId: compiled.rule.id };
    }
    return { decision: this.#default, ruleId: null };
  }

  /** Replace every rule at once. */
  setRules(rules: readonly Rule[]): void {
    this.#compiled = compilePolicy(rules);
  }

  /** Change the rule with this id in place, or add it at the end. */
  upsertRule(rule: Rule): void {
    const current = this.#compiled.rules;
    const at = current.findIndex((r) => r.id === rule.id);
    this.setRules(at === -1 ? [...current, rule] : current.map((r, i) => (i === at ? rule : r)));
  }

  /** False when no rule has this id. */
  removeRule(id: string): boolean {
    const current = this.#compiled.rules;
    if (!current.some((r) => r.id === id)) return false;
    this.setRules(current.filter((r) => r.id !== id));
    return true;
  }

  #candidates(event: PolicyEvent): readonly CompiledRule[] {
    const forEvent = this.#compiled.byEvent[event.event];
    if (forEvent === undefined) throw new TypeError(`unknown event type ${JSON.stringify(event.event)}`);
    const key = indexKeyOf(event);
    return (key === null ? undefined : forEvent.byKey.get(key)) ?? forEvent.unkeyed;
  }

  #countError(compiled: CompiledRule, error: unknown): void {
    const id = compiled.rule.id;
    this.errors.total += 1;
    this.errors.byRule.set(id, (this.errors.byRule.get(id) ?? 0) + 1);
    this.errors.last = { ruleId: id, message: (error instanceof Error ? error.message : String(error)).split('\n')[0]! };
  }
}
