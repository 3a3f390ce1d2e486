// `npm run e2e`: agentbox driven by real hosts (the MCP Inspector CLI, the Codex CLI), each a
// separate program talking to the built server over stdio and HTTP. Kept out of `npm test` because
// it installs pinned external tools on first use and takes longer; .ci/run runs both.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 20_000,
    pool: 'forks',
  },
});
