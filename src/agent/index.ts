// The delegate's public surface: the service that starts and continues threads, the thread store
// (for resources and, later, the CLI), and the transcript renderer.
export { agentService, AgentService, type DelegateParams, type ToolsFor } from './service.js';
export { Run, type DelegateResult, type RunHost } from './run.js';
export { ThreadStore, isThreadId, type ThreadSummary, type ThreadStatus, type RunStatus } from './threads.js';
export { renderTranscript } from './transcript.js';
export { providerIds } from './provider.js';
export type { FileChange } from './changes.js';
