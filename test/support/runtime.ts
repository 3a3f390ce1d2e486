// An in-process Runtime for tests that drive the server or a transport directly.
import { loadConfig, type ConfigInput, flagsLayer } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { tempDir } from './workspace.js';

/** A runtime with a fresh AGENTBOX_HOME, quiet logs, and `overrides` as the flags layer. */
export function testRuntime(overrides: ConfigInput = {}, env: NodeJS.ProcessEnv = {}): Runtime {
  const home = tempDir('agentbox-home-');
  const { config } = loadConfig({ env: { AGENTBOX_HOME: home.dir, ...env }, flags: flagsLayer(overrides, {}) });
  const runtime = createRuntime({ config, home: home.dir, log: createLogger('silent') });
  runtime.onShutdown(() => home.cleanup());
  return runtime;
}
