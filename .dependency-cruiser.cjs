/**
 * The layer rule of docs/DESIGN: imports flow one way only,
 *   base/  <-  kernel/, guest-bench/  <-  sandbox-core/  <-  runner/  <-  bin/
 * and no file takes part in an import cycle. `npm test` runs it (npm run deps);
 * each violation names the importing file and the imported one.
 */
const layer = (name, mayNotImport, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${name}/` },
  to: { path: `^(${mayNotImport.join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'files that import each other in a loop', severity: 'error', from: {}, to: { circular: true } },
    layer('base', ['kernel', 'guest-bench', 'sandbox-core', 'runner', 'bin', 'scripts'], 'base knows nothing of kernels, sandboxes or rigs'),
    layer('kernel', ['guest-bench', 'sandbox-core', 'runner', 'bin', 'scripts'], 'the guest kernel builds on base only'),
    layer('guest-bench', ['kernel', 'sandbox-core', 'runner', 'bin', 'scripts'], 'guest-bench builds on base only'),
    layer('sandbox-core', ['runner', 'bin', 'scripts'], 'what is measured does not know the harness'),
    layer('runner', ['bin', 'scripts'], 'the harness does not import its entry points'),
  ],
  options: {
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with: swc reads the sources instead.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
