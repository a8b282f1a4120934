import { describe, expect, it } from 'vitest';
import { PolicyEngine, PolicyError, type HttpRequestEvent, type Rule } from '../../../sandbox-core/policy/index.ts';

const http = (host: string, method = 'GET', headers: Record<string, string> = {}, path = '/'): HttpRequestEvent => ({ event: 'http.request', host, address: '127.0.0.1', method, path, headers });

describe('PolicyEngine.evaluate', () => {
  it('takes the first matching rule, in list order', () => {
    const engine = new PolicyEngine({
      default: 'allow',
      rules: [
        { id: 'log-example', when: 'request.host.endsWith(".example.com")', decision: 'log' },
        { id: 'block-api', when: 'request.host == "api.example.com"', decision: 'block' },
      ],
    });
    expect(engine.evaluate(http('api.example.com'))).toEqual({ decision: 'log', ruleId: 'log-example' });
    engine.setRules([...engine.rules].reverse());
    expect(engine.evaluate(http('api.example.com'))).toEqual({ decision: 'block', ruleId: 'block-api' });
    expect(engine.evaluate(http('www.example.com'))).toEqual({ decision: 'log', ruleId: 'log-example' });
  });

  it('falls back to the default decision with no rule id', () => {
    const engine = new PolicyEngine({ default: 'block', rules: [{ id: 'ok', when: 'request.host == "ok.test"', decision: 'allow' }] });
    expect(engine.evaluate(http('other.test'))).toEqual({ decision: 'block', ruleId: null });
    expect(engine.evaluate({ event: 'dns.query', name: 'ok.test', type: 'A' })).toEqual({ decision: 'block', ruleId: null });
  });

  it('judges each event type by its own variable', () => {
    const engine = new PolicyEngine({
      default: 'allow',
      rules: [
        { id: 'post', when: 'event == "http.request" && request.method == "POST" && request.path.startsWith("/upload")', decision: 'block' },
        { id: 'txt', when: 'query.type == "TXT" || query.name.endsWith(".evil.test")', decision: 'block' },
        { id: 'curl', when: 'process.argv.size() > 0 && process.argv[0] == "curl" && process.cwd == "/tmp"', decision: 'log' },
        { id: 'any', when: 'event == "process.exec" || event == "dns.query"', decision: 'log' },
      ],
    });
    expect(engine.evaluate(http('a.test', 'POST', {}, '/upload/1'))).toEqual({ decision: 'block', ruleId: 'post' });
    expect(engine.evaluate(http('a.test', 'GET', {}, '/upload/1'))).toEqual({ decision: 'allow', ruleId: null });
    expect(engine.evaluate({ event: 'dns.query', name: 'x.test', type: 'TXT' })).toEqual({ decision: 'block', ruleId: 'txt' });
    expect(engine.evaluate({ event: 'dns.query', name: 'a.evil.test', type: 'A' })).toEqual({ decision: 'block', ruleId: 'txt' });
    expect(engine.evaluate({ event: 'dns.query', name: 'fine.test', type: 'A' })).toEqual({ decision: 'log', ruleId: 'any' });
    expect(engine.evaluate({ event: 'process.exec', argv: ['curl', '-s'], cwd: '/tmp' })).toEqual({ decision: 'log', ruleId: 'curl' });
    expect(engine.evaluate({ event: 'process.exec', argv: ['ls'], cwd: '/tmp' })).toEqual({ decision: 'log', ruleId: 'any' });
    // Rules of other event types were never tried, so none of them counted an error.
    expect(engine.errors.total).toBe(0);
  });

  it('reads headers by lower-case name', () => {
    const engine = new PolicyEngine({
      default: 'allow',
      rules: [{ id: 'token', when: '"authorization" in request.headers && request.headers["authorization"].startsWith("Bearer ")', decision: 'log' }],
    });
    expect(engine.evaluate(http('a.test', 'GET', { authorization: 'Bearer x' }))).toEqual({ decision: 'log', ruleId: 'token' });
    expect(engine.evaluate(http('a.test', 'GET', { authorization: 'Basic x' }))).toEqual({ decision: 'allow', ruleId: null });
    expect(engine.evaluate(http('a.test'))).toEqual({ decision: 'allow', ruleId: null });
    expect(engine.errors.total).toBe(0);
  });

  it('lets a failing block rule block and a failing allow or log rule not match, and counts each failure', () => {
    const engine = new PolicyEngine({
      default: 'allow',
      rules: [
        { id: 'agent', when: 'request.headers["user-agent"] == "bad"', decision: 'block' },
        { id: 'host', when: 'request.host == "a.test"', decision: 'log' },
      ],
    });
    // No user-agent header: the block rule errors, and an error must not wave the request on to the next rule.
    expect(engine.evaluate(http('a.test'))).toEqual({ decision: 'block', ruleId: 'agent' });
    expect(engine.evaluate(http('b.test', 'GET', { 'user-agent': 'good' }))).toEqual({ decision: 'allow', ruleId: null });
    expect(engine.evaluate(http('b.test', 'GET', { 'user-agent': 'bad' }))).toEqual({ decision: 'block', ruleId: 'agent' });
    expect(engine.errors.total).toBe(1);
    expect(engine.errors.byRule.get('agent')).toBe(1);
    expect(engine.errors.last).toEqual({ ruleId: 'agent', message: 'No such key: user-agent' });

    const allowing = new PolicyEngine({
      default: 'block',
      rules: [
        { id: 'keyed', when: 'request.headers["x-api-key"] == "good"', decision: 'allow' },
        { id: 'watch', when: 'request.headers["x-trace"] == "1"', decision: 'log' },
      ],
    });
    expect(allowing.evaluate(http('a.test'))).toEqual({ decision: 'block', ruleId: null });
    expect(allowing.evaluate(http('a.test', 'GET', { 'x-api-key': 'good' }))).toEqual({ decision: 'allow', ruleId: 'keyed' });
    expect(allowing.errors.total).toBe(2);
  });

  it("closes the review's fail-open: a block rule on a header is not bypassed by leaving the header out", () => {
    const engine = new PolicyEngine({
      default: 'block',
      rules: [
        { id: 'internal-needs-key', when: 'request.host == "allowed.test" && request.path.startsWith("/internal") && request.headers["x-api-key"] != "good"', decision: 'block' },
        { id: 'allowed', when: 'request.host == "allowed.test"', decision: 'allow' },
      ],
    });
    expect(engine.evaluate(http('allowed.test', 'GET', { 'x-api-key': 'wrong' }, '/internal/a'))).toEqual({ decision: 'block', ruleId: 'internal-needs-key' });
    expect(engine.evaluate(http('allowed.test', 'GET', {}, '/internal/a'))).toEqual({ decision: 'block', ruleId: 'internal-needs-key' });
    expect(engine.evaluate(http('allowed.test', 'GET', { 'x-api-key': 'good' }, '/internal/a'))).toEqual({ decision: 'allow', ruleId: 'allowed' });
    expect(engine.evaluate(http('allowed.test', 'GET', {}, '/public'))).toEqual({ decision: 'allow', ruleId: 'allowed' });
  });

  it('finds a host-keyed rule at the end of a long list, and keeps unkeyed rules in order around it', () => {
    const rules: Rule[] = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, when: `request.host == "h${i}.test" && request.method == "GET"`, decision: 'block' }));
    rules.splice(50, 0, { id: 'mid', when: 'request.path == "/mid"', decision: 'log' });
    const engine = new PolicyEngine({ default: 'allow', rules });
    expect(engine.evaluate(http('h99.test'))).toEqual({ decision: 'block', ruleId: 'r99' });
    expect(engine.evaluate(http('h99.test', 'PUT'))).toEqual({ decision: 'allow', ruleId: null });
    expect(engine.evaluate(http('h99.test', 'GET', {}, '/mid'))).toEqual({ decision: 'log', ruleId: 'mid' });
    expect(engine.evaluate(http('h10.test', 'GET', {}, '/mid'))).toEqual({ decision: 'block', ruleId: 'r10' });
    expect(engine.evaluate(http('nowhere.test', 'GET', {}, '/mid'))).toEqual({ decision: 'log', ruleId: 'mid' });
  });
});

describe('PolicyEngine changes while in use', () => {
  const base = (): PolicyEngine =>
    new PolicyEngine({
      default: 'allow',
      rules: [
        { id: 'a', when: 'request.host == "a.test"', decision: 'block' },
        { id: 'b', when: 'request.host == "b.test"', decision: 'block' },
      ],
    });

  it('adds, changes in place and removes rules', () => {
    const engine = base();
    engine.upsertRule({ id: 'c', when: 'request.host.startsWith("c")', decision: 'log' });
    expect(engine.evaluate(http('c.test'))).toEqual({ decision: 'log', ruleId: 'c' });
    engine.upsertRule({ id: 'a', when: 'request.host.endsWith(".test")', decision: 'log' });
    expect(engine.rules.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(engine.evaluate(http('b.test'))).toEqual({ decision: 'log', ruleId: 'a' });
    expect(engine.removeRule('a')).toBe(true);
    expect(engine.removeRule('a')).toBe(false);
    expect(engine.evaluate(http('b.test'))).toEqual({ decision: 'block', ruleId: 'b' });
  });

  it('leaves the old rules in force when a change is bad', () => {
    const engine = base();
    expect(() => engine.upsertRule({ id: 'a', when: 'request.host ==', decision: 'allow' })).toThrow(PolicyError);
    expect(() => engine.setRules([{ id: 'x', when: 'true', decision: 'allow' }, { id: 'y', when: 'request.hots == "a"', decision: 'allow' }])).toThrow(
      /rule "y" rules\[1\]\.when: column 9: No such key: hots/,
    );
    expect(engine.rules.map((r) => r.id)).toEqual(['a', 'b']);
    expect(engine.evaluate(http('a.test'))).toEqual({ decision: 'block', ruleId: 'a' });
  });
});

describe('bad rules', () => {
  const problems = (rules: Rule[]) => {
    try {
      new PolicyEngine({ default: 'allow', rules });
    } catch (error) {
      if (error instanceof PolicyError) return error.problems;
      throw error;
    }
    throw new Error('expected a PolicyError');
  };

  it('names the rule and the column of a parse error', () => {
    const [p] = problems([{ id: 'ok', when: 'true', decision: 'allow' }, { id: 'broken', when: 'request.host == "a" &&', decision: 'block' }]);
    expect(p).toMatchObject({ ruleId: 'broken', path: ['rules', 1, 'when'], line: 1, column: 23, message: 'Unexpected token: EOF' });
  });

  it('names the rule and the place of a type error, across lines', () => {
    const [p] = problems([{ id: 'sum', when: 'request.method == "GET" &&\n  request.host + 1 == 2', decision: 'block' }]);
    expect(p).toMatchObject({ ruleId: 'sum', line: 2, column: 3 });
    expect(p!.message).toMatch(/string \+ int/);
  });

  it('rejects a non-bool expression, an unknown event type, and duplicate ids, all at once', () => {
    const found = problems([
      { id: 'n', when: '1 + 2', decision: 'allow' },
      { id: 'e', when: 'event == "http.reqest"', decision: 'allow' },
      { id: 'n', when: 'true', decision: 'allow' },
      { id: 'mix', when: 'event == "dns.query" && request.host == "a"', decision: 'allow' },
    ]);
    expect(found.map((p) => [p.ruleId, p.message])).toEqual([
      ['n', 'duplicate id; rules[0] has it too'],
      ['n', 'expected an expression of type bool, found int'],
      ['e', 'unknown event type "http.reqest"; expected one of http.request, dns.query, process.exec'],
      ['mix', 'can never match: its terms demand different event types'],
    ]);
  });
});
