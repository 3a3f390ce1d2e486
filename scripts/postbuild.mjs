// After tsc: bundles the CLI with esbuild, as ES modules split into chunks, behind a small entry.
//
// Why a bundle: started as tsc left it, `agentbox serve` loads ~690 module files (zod, execa, ajv,
// the MCP SDK, …) one by one, and a host waited ~350 ms from spawn to the initialize answer on a
// 2-core machine; bundled, under 200 ms (BENCHMARKS.md: "server start to initialize").
//
// Why chunks (`splitting`): a single-file bundle inlines every `import()`, so a stdio server would
// read and parse what only other commands use (express and its dependencies for HTTP, doctor,
// the terminal commands). With splitting, each dynamic import stays a chunk of its own, loaded
// when that code runs. Chunks sit in dist/ beside the entry (`chunk-<hash>.js`), so that code
// finding files relative to its own module (src/version.ts reads ../package.json) works from any
// chunk.
//
// The entry, dist/cli.js, is written last: on Node 22+ it turns on the module compile cache
// (`module.enableCompileCache`, a no-op on Node 20) before importing the bundle
// (dist/agentbox.js), so later starts skip compiling it. hosts, `npm start` and the tests that
// spawn dist/cli.js all run what ships; the other tsc outputs in dist/ stay for code that imports
// modules directly (bench/).
//
// The native PTY module stays external (loaded on the first PTY command). Source maps point back
// to src/: run `node --enable-source-maps dist/cli.js …` for stack traces with src/ lines.
import { chmodSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const DIST = 'dist';
// tsc's map of cli.js goes (the entry written below replaces cli.js). Chunks of earlier builds stay
// a day: a server started from this checkout before a rebuild (an agent working on agentbox itself)
// still loads its lazy chunks by their old names; hashed names never collide with new ones.
const DAY_MS = 24 * 60 * 60 * 1000;
for (const f of readdirSync(DIST)) {
  const file = path.join(DIST, f);
  if (f === 'cli.js.map') rmSync(file);
  else if (/^chunk-[\w-]+\.js(\.map)?$/.test(f) && Date.now() - statSync(file).mtimeMs > DAY_MS) rmSync(file);
}

await build({
  // From the TypeScript source (not tsc's dist/cli.js, which the entry replaces): running this twice gives the same result.
  entryPoints: { agentbox: 'src/cli.ts' },
  outdir: DIST,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'bundle',
  external: ['@lydell/node-pty'],
  sourcemap: true,
  logLevel: 'warning',
  // Less to read and parse at start; identifiers are kept, so stack traces still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  // In every chunk: CommonJS dependencies bundled into an ES module still call require() for Node
  // built-ins, and some refer to __dirname / __filename. The only such reference in what is
  // bundled is pino's worker-thread transport (pino.transport()), which agentbox never uses (log.ts
  // writes to stderr synchronously through pino.destination); defined here all the same, so that
  // such code would fail with a missing file rather than a ReferenceError.
  banner: {
    js: [
      "import { createRequire as __agentboxCreateRequire } from 'node:module';",
      "import { fileURLToPath as __agentboxFileURLToPath } from 'node:url';",
      'const require = __agentboxCreateRequire(import.meta.url);',
      'const __filename = __agentboxFileURLToPath(import.meta.url);',
      "const __dirname = __agentboxFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
});

// The entry: no shebang from the bundle (esbuild keeps tsc's on agentbox.js, harmless there).
writeFileSync(
  `${DIST}/cli.js`,
  [
    '#!/usr/bin/env node',
    '// The agentbox command (scripts/postbuild.mjs): turns on the compile cache where Node has one, then runs the bundle.',
    "import module from 'node:module';",
    'module.enableCompileCache?.();',
    "await import('./agentbox.js');",
    '',
  ].join('\n'),
);
chmodSync(`${DIST}/cli.js`, 0o755);
