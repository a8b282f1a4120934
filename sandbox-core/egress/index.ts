export { policyDeciders, type PolicyDeciders, type PolicyDecidersOptions } from './deciders.ts';
export { startEgress, type Egress, type EgressOptions } from './egress.ts';
