/**
 * `policy`: the sandbox policy engine (CEL, sandbox-core/policy) timed in
 * process beside a hand-written TypeScript lookup of the same rules, so the
 * price of CEL is measured against the code it replaces in the same run.
 * params.task picks the shape, params.impl `cel` or `typescript`.
 */
import { z } from 'zod';
import { compilePolicy, PolicyEngine, type Decision, type HttpRequestEvent, type Rule, type Verdict } from '../../sandbox-core/policy/index.ts';
import { microWorkload, type MicroTask } from './micro.ts';

/** One HTTP rule as data: every field given must hold. Both implementations are built from it. */
export interface HttpRuleSpec {
  id: string;
  decision: Decision;
  host?: string;
  hostSuffix?: string;
  method?: string;
  pathPrefix?: string;
  /** A header (lower-case name) that must be present. */
  header?: string;
}

export function celRuleOf(spec: HttpRuleSpec): Rule {
  const terms = ['event == "http.request"'];
  if (spec.host !== undefined) terms.push(`request.host == ${JSON.stringify(spec.host)}`);
  if (spec.hostSuffix !== undefined) terms.push(`request.host.endsWith(${JSON.stringify(spec.hostSuffix)})`);
  if (spec.method !== undefined) terms.push(`request.method == ${JSON.stringify(spec.method)}`);
  if (spec.pathPrefix !== undefined) terms.push(`request.path.startsWith(${JSON.stringify(spec.pathPrefix)})`);
  if (spec.header !== undefined) terms.push(`${JSON.stringify(spec.header)} in request.headers`);
  return { id: spec.id, when: terms.join(' && '), decision: spec.decision };
}

type Lookup = (event: HttpRequestEvent) => Verdict;

/** The hand-written equivalent: a closure per rule, indexed by exact host as the CEL engine is. */
export function typescriptLookupOf(specs: readonly HttpRuleSpec[], fallback: Decision): Lookup {
  const rules = specs.map((s) => ({
    spec: s,
    test: (e: HttpRequestEvent) =>
      (s.host === undefined || e.host === s.host) &&
      (s.hostSuffix === undefined || e.host.endsWith(s.hostSuffix)) &&
      (s.method === undefined || e.method === s.method) &&
      (s.pathPrefix === undefined || e.path.startsWith(s.pathPrefix)) &&
      (s.header === undefined || s.header in e.headers),
  }));
  const unkeyed = rules.filter((r) => r.spec.host === undefined);
  const byHost = new Map<string, typeof rules>();
  for (const { spec } of rules) {
    if (spec.host !== undefined && !byHost.has(spec.host)) byHost.set(spec.host, rules.filter((r) => r.spec.host === undefined || r.spec.host === spec.host));
  }
  return (event) => {
    for (const rule of byHost.get(event.host) ?? unkeyed) if (rule.test(event)) return { decision: rule.spec.decision, ruleId: rule.spec.id };
    return { decision: fallback, ruleId: null };
  };
}

const get = (host: string, path = '/', headers: Record<string, string> = {}, method = 'GET'): HttpRequestEvent => ({ event: 'http.request', host, address: '127.0.0.1', method, path, headers });

/** A sandbox's HTTP policy of ten rules, most not keyed by host, so a request no rule matches tries seven. */
export const httpPolicy: readonly HttpRuleSpec[] = [
  { id: 'block-metadata', decision: 'block', host: '169.254.169.254' },
  { id: 'allow-npm', decision: 'allow', host: 'registry.npmjs.org', method: 'GET' },
  { id: 'allow-pypi', decision: 'allow', hostSuffix: '.pythonhosted.org', method: 'GET' },
  { id: 'block-example-posts', decision: 'block', hostSuffix: '.example.com', method: 'POST' },
  { id: 'log-github', decision: 'log', hostSuffix: '.github.com' },
  { id: 'block-deletes', decision: 'block', method: 'DELETE' },
  { id: 'block-admin', decision: 'block', pathPrefix: '/admin' },
  { id: 'log-credentials', decision: 'log', header: 'authorization' },
  { id: 'block-internal', decision: 'block', hostSuffix: '.internal' },
  { id: 'allow-api', decision: 'allow', host: 'api.example.com', pathPrefix: '/v1/' },
];

/** 100 rules each naming an exact host: the engine's index finds the last one directly. */
export const hundredHosts: readonly HttpRuleSpec[] = Array.from({ length: 100 }, (_, i) => ({ id: `svc-${i}`, decision: 'allow', host: `svc-${i}.test`, method: 'GET' }));
/** 100 rules each naming a host suffix: no index applies, the last match is the 100th rule tried. */
export const hundredSuffixes: readonly HttpRuleSpec[] = Array.from({ length: 100 }, (_, i) => ({ id: `zone-${i}`, decision: 'allow', hostSuffix: `.zone-${i}.test` }));

/** Each task: the rules, the one event it judges, and what that event must get (checked before timing). */
export const shapes = {
  'evaluate-one': { specs: [httpPolicy[3]!], event: get('a.example.com', '/', {}, 'POST'), expected: 'block-example-posts' },
  'http-policy': { specs: httpPolicy, event: get('cdn.example.org', '/lib.js', { accept: '*/*' }), expected: null },
  'last-of-100': { specs: hundredHosts, event: get('svc-99.test'), expected: 'svc-99' },
  'last-of-100-unindexed': { specs: hundredSuffixes, event: get('www.zone-99.test'), expected: 'zone-99' },
} as const;

const impls = ['cel', 'typescript'] as const;
type Impl = (typeof impls)[number];

function evaluator(impl: Impl, specs: readonly HttpRuleSpec[]): Lookup {
  if (impl === 'typescript') return typescriptLookupOf(specs, 'allow');
  const engine = new PolicyEngine({ default: 'allow', rules: specs.map(celRuleOf) });
  return (event) => engine.evaluate(event);
}

function evaluateTask(impl: Impl, shape: (typeof shapes)[keyof typeof shapes]): MicroTask {
  const lookup = evaluator(impl, shape.specs);
  const verdict = lookup(shape.event);
  // A lookup that does not reach the intended rule would time the wrong thing.
  if (verdict.ruleId !== shape.expected) throw new Error(`expected rule ${shape.expected}, got ${verdict.ruleId}`);
  return () => lookup(shape.event);
}

/** Rebuild after one rule changes: rule 50 of 100 flips its method each call, so every call is a real change. */
function rebuildTask(impl: Impl): MicroTask {
  const variants = (['GET', 'POST'] as const).map((method) => ({ ...hundredHosts[50]!, method }));
  let flip = 0;
  if (impl === 'cel') {
    const engine = new PolicyEngine({ default: 'allow', rules: hundredHosts.map(celRuleOf) });
    const rules = variants.map(celRuleOf);
    return () => engine.upsertRule(rules[(flip ^= 1)]!);
  }
  return () => typescriptLookupOf(hundredHosts.map((spec, i) => (i === 50 ? variants[(flip ^= 1)]! : spec)), 'allow');
}

/** The task names tasksFor() gives, declared so a rig's `task` is checked when it is loaded. */
export const POLICY_TASKS: readonly string[] = ['compile-one', ...Object.keys(shapes), 'rebuild-one-change'];

function tasksFor(impl: Impl): Record<string, MicroTask> {
  const one = celRuleOf(httpPolicy[3]!);
  return {
    'compile-one': impl === 'cel' ? () => compilePolicy([one]) : () => typescriptLookupOf([httpPolicy[3]!], 'allow'),
    ...Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, evaluateTask(impl, shape)])),
    'rebuild-one-change': rebuildTask(impl),
  };
}

export const policyWorkload = microWorkload({
  name: 'policy',
  description: 'times the CEL policy engine (sandbox-core/policy) or an equivalent hand-written TypeScript lookup (params.impl) on one shape (params.task)',
  params: { impl: z.enum(impls) },
  taskNames: POLICY_TASKS,
  // Engines and lookups are built here, once per cell, outside the timed call.
  tasks: (params) => tasksFor(params.impl as Impl),
});
