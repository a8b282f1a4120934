export { PolicyEngine, type EvaluationErrors, type Verdict } from './engine.ts';
export { compilePolicy, type CompiledPolicy } from './compile.ts';
export { eventTypes, type DnsQueryEvent, type EventType, type HttpRequestEvent, type PolicyEvent, type ProcessExecEvent } from './events.ts';
export { loadPolicy, parsePolicy } from './load.ts';
export { decisions, formatProblem, PolicyError, type Decision, type Policy, type PolicyProblem, type Rule } from './rule.ts';
