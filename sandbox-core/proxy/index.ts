export { loadOrCreateCa, defaultCaDir, type Ca } from './ca.ts';
export { LeafCache, type Leaf } from './leaf-cache.ts';
export { startProxy, type ProxyOptions, type ProxyStats, type RunningProxy } from './proxy.ts';
export { allowAll, type Decide, type Decision, type HttpRequestEvent } from './decide.ts';
