// After tsc: bundles the CLI into one file and makes it executable.
//
// Why a bundle: started as tsc left it, `agentbox serve` loads ~690 module files (zod, execa, ajv,
// the MCP SDK, …) one by one, and a host waited ~350 ms from spawn to the initialize answer on a
// 2-core machine; bundled, ~190 ms (bench/: "server start to initialize"). dist/cli.js is replaced
// by the bundle, so hosts, `npm start` and the tests that spawn dist/cli.js all run what ships; the
// other tsc outputs in dist/ stay for code that imports modules directly (bench/). The native PTY
// module stays external (it is loaded on the first PTY command). Source maps point back to src/.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli.js'],
  outfile: 'dist/cli.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'bundle',
  external: ['@lydell/node-pty'],
  sourcemap: true,
  logLevel: 'warning',
  // Less to read and parse at start (~15 ms CPU of ~250); identifiers are kept, so stack traces
  // still name functions, and the source map (node --enable-source-maps) gives src/ lines.
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
  banner: { js: "import { createRequire as __agentboxCreateRequire } from 'node:module'; const require = __agentboxCreateRequire(import.meta.url);" },
});
chmodSync('dist/cli.js', 0o755);
