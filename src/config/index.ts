// The configuration's public surface: the schema, its types and the layered loader.
export * from './schema.js';
export { loadConfig, parseLayers, flagsLayer, agentboxHome, envKeys, assertDirectories, ConfigError } from './load.js';
export type { ConfigLayer, LoadedConfig } from './load.js';
