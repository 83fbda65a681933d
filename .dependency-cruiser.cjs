/**
 * The layering of src/, checked by `npm run lint:deps` (dependency-cruiser). docs/valves.md
 * ("Layers") says what each rule is for; test/unit/dependency-rules.test.ts checks that a deliberate
 * breach fails.
 *
 * Type-only imports (`import type`) are seen (tsPreCompilationDeps): the core must not learn a
 * feature's types by importing them either (features tell the core their service types by
 * declaration merging, see src/config/feature.ts). Cycles, though, count only through imports
 * that exist at run time: a cycle of type-only imports is erased by the compiler and cannot
 * change module initialisation order, and the feature contract needs one (a feature imports
 * the `Feature` type, whose `MainConfig` is derived from the list of features).
 */

/** The core: the engine, the error catalogue, the store contract and the leaf config helpers. */
const CORE = ['^src/engine/', '^src/errors[.]ts$', '^src/store/store[.]ts$', '^src/config-kit/'];

module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-feature',
      comment:
        'The engine, the error catalogue, the store contract and the leaf config helpers import nothing else from src/ ' +
        '(no valve, feature, loader, HTTP or CLI code, not even a type): every feature builds on the core, never the reverse.',
      severity: 'error',
      from: { path: CORE },
      to: { path: '^src/', pathNot: CORE },
    },
    {
      name: 'config-kit-imports-no-loader',
      comment:
        'The leaf config helpers (JSON files, issues, secrets, file modes, name patterns) import only each other and the error catalogue: ' +
        'the loader in src/config/ and every feature use them, so they must not reach back to the loader, the engine or a feature.',
      severity: 'error',
      from: { path: '^src/config-kit/' },
      to: { path: '^src/', pathNot: ['^src/config-kit/', '^src/errors[.]ts$'] },
    },
    {
      name: 'no-runtime-cycle',
      comment: 'No cycle of imports that exist at run time (type-only imports are erased, so a cycle through one is allowed).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'src-imports-no-test-code',
      comment: 'Production code never imports test or bench code (it is not shipped, and test hooks do not belong in src/).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'src-imports-no-dev-dependency',
      comment:
        'At run time src/ uses only "dependencies": `npm ci --omit=dev` must give a working server. Types from devDependencies are fine.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
