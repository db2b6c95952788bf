/**
 * Layering rules, checked by `npm test` (pretest): docs/architecture.md, "Direction of imports".
 * Type-only imports count too: a type from the converter in the core is still a wrong direction.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles hide layering mistakes and break tree shaking.',
      from: { path: '^(src|adapters)/' },
      to: { circular: true },
    },
    {
      name: 'spec-imports-nothing',
      severity: 'error',
      comment: 'src/spec is the contracts (types, schemas) and their small helpers: it may import zod, the errors and itself.',
      from: { path: '^src/spec/' },
      to: { path: '^(src|adapters)/', pathNot: '^src/(spec|errors)/' },
    },
    {
      name: 'core-stays-core',
      severity: 'error',
      comment:
        'The core is family-neutral and runtime-agnostic: never an adapter, ORT, the converter, a platform, Node or browser platform code, the worker, the CLI, or a family.',
      from: { path: '^src/core/' },
      to: {
        path: '^(adapters/|src/(convert|families|platform|node|browser|worker|cli|testing)/|src/index\\.)|^onnxruntime',
      },
    },
    {
      name: 'core-no-node-builtins',
      severity: 'error',
      comment: 'Every file read goes through the platform seam; the core runs in browsers.',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'families-are-independent',
      severity: 'error',
      comment: 'A family never imports another family: shared pieces live in src/core or src/convert.',
      from: { path: '^src/families/([^/]+)/' },
      to: { path: '^src/families/', pathNot: '^src/families/$1/' },
    },
    {
      name: 'family-runtime-is-browser-safe',
      severity: 'error',
      comment: "A family's runtime half (everything but its convert/ folder and converter.ts) must not reach the Node-only converter.",
      from: { path: '^src/families/[^/]+/', pathNot: '^src/families/[^/]+/(convert/|converter\\.ts$)' },
      to: { path: '^src/(convert|node|platform|cli)/|^node:' },
    },
    {
      name: 'converter-blocks-are-family-neutral',
      severity: 'error',
      comment: 'src/convert holds the reusable blocks; families assemble them, not the other way round.',
      from: { path: '^src/convert/', pathNot: '^src/convert/index\\.ts$' },
      to: { path: '^src/families/' },
    },
    {
      name: 'adapters-only-spec-and-errors',
      severity: 'error',
      comment: 'Adapters run graphs and nothing else.',
      from: { path: '^adapters/' },
      to: { path: '^src/', pathNot: '^src/(spec|errors)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
