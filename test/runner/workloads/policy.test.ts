import { describe, expect, it } from 'vitest';
import { PolicyEngine, type HttpRequestEvent } from '../../../sandbox-core/policy/index.ts';
import { celRuleOf, httpPolicy, hundredHosts, hundredSuffixes, policyWorkload, typescriptLookupOf } from '../../../runner/workloads/policy.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../helpers/param-problems.ts';

const events: HttpRequestEvent[] = [
  ['169.254.169.254', 'GET', '/'],
  ['registry.npmjs.org', 'GET', '/x'],
  ['registry.npmjs.org', 'POST', '/x'],
  ['files.pythonhosted.org', 'GET', '/'],
  ['a.example.com', 'POST', '/'],
  ['api.github.com', 'GET', '/'],
  ['x.test', 'DELETE', '/'],
  ['x.test', 'GET', '/admin/users'],
  ['db.internal', 'GET', '/'],
  ['api.example.com', 'GET', '/v1/items'],
  ['api.example.com', 'GET', '/v2/items'],
  ['svc-99.test', 'GET', '/'],
  ['svc-99.test', 'PUT', '/'],
  ['www.zone-42.test', 'GET', '/'],
  ['cdn.example.org', 'GET', '/lib.js'],
].flatMap(([host, method, path]) =>
  ([{}, { authorization: 'Bearer t' }] as Record<string, string>[]).map((headers): HttpRequestEvent => ({ event: 'http.request', host: host!, address: '127.0.0.1', method: method!, path: path!, headers })),
);

describe('policy workload', () => {
  it('the CEL rules and the TypeScript lookup give the same verdict on every event', () => {
    for (const specs of [httpPolicy, hundredHosts, hundredSuffixes]) {
      const engine = new PolicyEngine({ default: 'allow', rules: specs.map(celRuleOf) });
      const lookup = typescriptLookupOf(specs, 'allow');
      for (const event of events) expect(lookup(event), `${event.method} ${event.host}${event.path}`).toEqual(engine.evaluate(event));
    }
  });

  it('times each task for each implementation', async () => {
    expect(paramProblemsOf(policyWorkload, { task: 'last-of-100', impl: 'java' })).toEqual(['params.impl: expected one of cel, typescript, found "java"']);
    expect(paramProblemsOf(policyWorkload, { task: 'last-of-10', impl: 'cel' })[0]).toMatch(/^params\.task: expected one of compile-one, .* \(did you mean "last-of-100"\?\), found "last-of-10"$/);
    for (const impl of ['cel', 'typescript']) {
      for (const task of ['compile-one', 'evaluate-one', 'http-policy', 'last-of-100', 'last-of-100-unindexed', 'rebuild-one-change']) {
        expect(paramProblemsOf(policyWorkload, { task, impl })).toEqual([]);
        const { ctx } = testCell({ params: { task, impl }, sampling: { warmup: 1, iterations: 5 }, metrics: { call_ms: { clock: 'call -> return' } } });
        const result = await policyWorkload.run(ctx);
        expect(result.samples.call_ms).toHaveLength(5);
        expect(result.facts).toMatchObject({ task });
      }
    }
  });
});
