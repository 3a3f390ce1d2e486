// The delegate's public surface: the service that starts and continues threads, the thread store
// (for resources and the CLI), run events, and the transcript renderer.
export { agentService, AgentService, type DelegateParams, type ThreadState, type ToolsFor } from './service.js';
export { Run, detachedHost, type DelegateResult, type RunHost } from './run.js';
export { ThreadStore, isThreadId, type Backend, type ThreadSummary, type ThreadStatus, type RunStatus, type LoadedThread } from './threads.js';
export { type ExecItem, type RunEvent } from './events.js';
export { formatUsage } from './items.js';
export { renderTranscript } from './transcript.js';
export { providerIds, resolveProvider } from './provider.js';
export type { FileChange } from './changes.js';
