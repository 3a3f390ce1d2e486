// The delegate service: starts and continues threads. One per Runtime (shared by every MCP
// session of the server, so a thread's one-turn-at-a-time rule holds across sessions); it keeps
// the runs in progress, the model clients per provider, and the thread store.
//
// Starting a turn:
// 1. Check what the caller asked for against what its session allows (cwd inside the
//    workspace, sandbox no wider than the server's), resolve the provider, compile output_schema.
// 2. Take the thread's lock, create (or open) its JSONL file, build a child SessionContext confined
//    to the run's cwd, sandbox and approval policy, and take the before-snapshot of the files.
// 3. Run the loop with the child session's own tools (the host's ToolSpecs, picked by name).
// 4. Whatever happened: close the child session (killing every process it started), take the
//    diff, commit a worktree thread's changes on its branch, record the end of the turn, unlock.
//
// A codex-backend thread (codex.ts) follows the same steps, with `codex exec` in place of step 3.
// A run outlives the call that started it when its host is detached (background runs, MCP
// tasks); state() answers for any thread and turn, live or from its file.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ApprovalPolicy, ReasoningEffort, SandboxMode } from '../config/index.js';
import type { Runtime } from '../runtime.js';
import { gitSettings, openRepo, type GitContext } from '../git/index.js';
import { ConfinedView, isInside, resolveForRead, resolveForWrite, type Policy } from '../sandbox/index.js';
import { createSessionContext, type SessionContext } from '../session.js';
import type { AnyToolSpec, CallContext } from '../tools/define.js';
import { changedMeanwhile } from '../fs/index.js';
import { fail, ok, type Result } from '../util/result.js';
import { settledWithin } from '../util/wait.js';
import { answerCheck } from './answer.js';
import { trackChanges, type ChangeSet } from './changes.js';
import { codexBinary, runCodexTurn } from './codex.js';
import { CODEX_BUILTIN_CREDENTIALS, codexConfigCredentials, codexProcessEnv, codexShellEnvConfig, type CodexEnvPolicy } from './codex-env.js';
import { openingItems, permissionsText } from './context.js';
import { ItemEvents, turnEndEvent, type RunEvent } from './events.js';
import { addUsage, type Item, type Usage } from './items.js';
import { runTurn, type AnswerCheck, type TurnOutcome } from './loop.js';
import { createModelClient, type ModelClient } from './model.js';
import { checkApproval, checkCodexApproval, MODE_RANK, narrowForReply } from './permissions.js';
import { BASE_INSTRUCTIONS } from './prompts/base.js';
import { resolveProvider, useFreeformApplyPatch, type ResolvedProvider } from './provider.js';
import { Run, type DelegateResult, type RunHost } from './run.js';
import {
  CODEX_CONFIGURED_MODEL,
  CODEX_CONFIGURED_PROVIDER,
  isCodexConfiguredModel,
  modelLabel,
  newThreadId,
  ThreadStore,
  turnLines,
  type Backend,
  type ThreadLog,
  type ThreadMeta,
  type ThreadStatus,
} from './threads.js';
import { buildToolbox, SUBAGENT_TOOLS } from './toolbox.js';
import { commitWorktree, createWorktree, mapIntoWorktree, mapOutOfWorktree } from './worktree.js';

export interface DelegateParams {
  prompt: string;
  cwd?: string;
  model?: string;
  provider?: string;
  sandbox?: SandboxMode;
  approval_policy?: ApprovalPolicy;
  reasoning_effort?: ReasoningEffort;
  developer_instructions?: string;
  base_instructions?: string;
  worktree?: boolean;
  output_schema?: Record<string, unknown>;
  max_turns?: number;
  timeout_ms?: number;
  /** agentbox's own loop (default) or the Codex CLI. */
  backend?: Backend;
  /** Network inside the sandbox: never more than the server allows (default: what it allows). */
  network?: boolean;
}

/** Where a thread's turn stands: running here or in another agentbox process, finished, or cut off by a dead server. */
export type ThreadState =
  | { state: 'running'; run: Run }
  | { state: 'running_elsewhere'; turn: number }
  | { state: 'finished'; result: DelegateResult }
  | { state: 'interrupted'; turn: number };

/** Every tool the server has for a session (server.ts `allTools`); the subagent's tools are picked from it. */
export type ToolsFor = (session: SessionContext) => AnyToolSpec[];

interface TurnSetup {
  meta: ThreadMeta & { opening_items: number; max_turns?: number; timeout_ms?: number };
  turn: number;
  prompt: string;
  history: Item[];
  /** Items to write before the prompt (the opening, for a new thread). */
  opening: Item[];
  child: SessionContext;
  /** The subagent's host tools: the child session's, in the groups the server publishes. */
  tools: AnyToolSpec[];
  /** What the caller should know about this turn's settings (narrowed since the thread started). */
  notes?: string[];
  /** The calling session's policy: the repository is opened with it (the child's may be narrower). */
  parentPolicy: Policy;
  /** The model endpoint (agentbox's own loop); the codex executable (codex backend). */
  provider?: ResolvedProvider;
  codexBin?: string;
  /** The Codex thread to resume (a codex thread's later turns). */
  codexThreadId?: string;
  /** Codex's session total so far (codex-backend threads; see codex.ts usageBefore). */
  codexUsage?: Usage;
  answer?: AnswerCheck;
  log: ThreadLog;
  unlock: () => void;
}

/** The runtime's delegate service (created on first use; cancelled runs end at shutdown). */
export function agentService(runtime: Runtime, toolsFor: ToolsFor): AgentService {
  return runtime.shared('agent.service', () => new AgentService(runtime, toolsFor));
}

/** The error saved for a turn the server's shutdown stopped (status cancelled). */
const SERVER_SHUTDOWN = 'interrupted: the agentbox server shut down during this turn; delegate_reply (or agentbox exec --resume) continues the thread';

export class AgentService {
  readonly threads: ThreadStore;
  readonly #runs = new Map<string, Run>();
  readonly #clients = new Map<string, ModelClient>();

  constructor(
    readonly runtime: Runtime,
    private readonly toolsFor: ToolsFor,
  ) {
    this.threads = new ThreadStore(path.join(runtime.home, 'threads'));
    runtime.onShutdown(async () => {
      const running = [...this.#runs.values()];
      for (const run of running) run.cancel('cancelled', SERVER_SHUTDOWN);
      await Promise.allSettled(running.map((r) => r.done));
    });
  }

  /** The run in progress on a thread, if any. */
  running(threadId: string): Run | undefined {
    return this.#runs.get(threadId);
  }

  /** Starts a new thread. Fails (before anything is created) when the request is not allowed. */
  async start(params: DelegateParams, parent: SessionContext, host: RunHost): Promise<Result<Run>> {
    const { config } = this.runtime;
    const parentPolicy = parent.policy();
    const mode = params.sandbox ?? parentPolicy.mode;
    const wider = checkMode(mode, parentPolicy);
    if (!wider.ok) return wider;
    const approved = checkApproval(params.approval_policy, parent.approvalPolicy());
    if (!approved.ok) return approved;
    const network = checkNetwork(params.network, parentPolicy);
    if (!network.ok) return network;
    const backend = params.backend ?? 'agentbox';
    if (backend === 'codex') {
      const codexApproval = checkCodexApproval(
        approved.value,
        params.approval_policy ? `the call asks for approval_policy ${approved.value}` : `this server runs with approval_policy ${approved.value}`,
      );
      if (!codexApproval.ok) return codexApproval;
    }
    // The codex backend uses Codex's own config for what is not given (model, provider).
    const providerId = params.provider ?? (backend === 'codex' ? CODEX_CONFIGURED_PROVIDER : config.model_provider);
    const engine = this.#engine(backend, providerId);
    if (!engine.ok) return engine;
    let answer: AnswerCheck | undefined;
    if (params.output_schema) {
      const compiled = answerCheck(params.output_schema);
      if (!compiled.ok) return compiled;
      answer = compiled.value;
    }
    const cwd = await checkCwd(parentPolicy, params.cwd ?? parentPolicy.roots[0] ?? this.runtime.cwd, mode);
    if (!cwd.ok) return cwd;

    const id = newThreadId();
    let workDir = cwd.value;
    let worktree: ThreadMeta['worktree'];
    if (params.worktree) {
      if (parentPolicy.mode === 'read-only') {
        return fail('read_only', 'worktree: true adds a branch and a worktree to the repository, and this server runs with sandbox read-only.', 'Call delegate without worktree.');
      }
      const wt = await createWorktree(this.#git(parentPolicy), cwd.value, id);
      if (!wt.ok) return wt;
      worktree = wt.value;
      workDir = mapIntoWorktree(wt.value, cwd.value);
    }
    // Codex always runs with never (within the policy, checked above): the thread records what runs.
    const approval = backend === 'codex' ? 'never' : approved.value;
    const readRoots = await this.#repoAbove(parentPolicy, workDir);
    const child = createSessionContext(this.runtime, { cwd: workDir, roots: [workDir], readRoots, mode, network: network.value, approvalPolicy: approval });
    const same = sameRoot(child, workDir, params.cwd ?? workDir);
    if (!same.ok) return same;
    const tools = this.#subagentTools(child);
    const toolNames = new Set([...tools.map((t) => t.name), 'update_plan']);
    // Codex builds its own opening (instructions, permissions, AGENTS.md, environment).
    const opening = backend === 'codex' ? [] : await openingItems({
      cwd: workDir,
      policy: child.policy(),
      approvalPolicy: approval,
      toolNames,
      ...(params.developer_instructions ? { developerInstructions: params.developer_instructions } : {}),
      ...(params.output_schema ? { outputSchema: params.output_schema } : {}),
    });
    const meta: TurnSetup['meta'] = {
      id,
      created: new Date().toISOString(),
      title: titleOf(params.prompt),
      cwd: workDir,
      model: params.model ?? (backend === 'codex' ? CODEX_CONFIGURED_MODEL : config.model),
      provider: providerId,
      sandbox: mode,
      approval_policy: approval,
      network: child.policy().network,
      opening_items: opening.length,
      ...(params.reasoning_effort ?? config.model_reasoning_effort ? { reasoning_effort: params.reasoning_effort ?? config.model_reasoning_effort } : {}),
      ...(params.base_instructions ? { base_instructions: params.base_instructions } : {}),
      ...(params.developer_instructions ? { developer_instructions: params.developer_instructions } : {}),
      ...(params.output_schema ? { output_schema: params.output_schema } : {}),
      ...(worktree ? { worktree } : {}),
      ...(params.max_turns ? { max_turns: params.max_turns } : {}),
      ...(params.timeout_ms ? { timeout_ms: params.timeout_ms } : {}),
      ...(backend === 'codex' ? { backend } : {}),
    };
    const lock = this.threads.lock(id);
    if (!lock.ok) {
      await child.close();
      return lock;
    }
    let log: ThreadLog;
    try {
      log = await this.threads.create(meta);
    } catch (err) {
      lock.value();
      await child.close();
      return fail('thread_store', `Cannot create the thread file in ${this.threads.dir}: ${(err as Error).message}`);
    }
    return ok(
      this.#launch(
        { meta, turn: 1, prompt: params.prompt, history: [], opening, child, tools, parentPolicy, ...engine.value, ...(answer ? { answer } : {}), log, unlock: lock.value },
        host,
      ),
    );
  }

  /** Continues a thread with a new prompt and its full history (also threads of an earlier server process). */
  async reply(threadId: string, prompt: string, parent: SessionContext, host: RunHost): Promise<Result<Run>> {
    let active = this.#runs.get(threadId);
    // A turn whose end is already recorded (its result may have been read) is not in the way; a
    // cancelled (or timed-out) turn is still killing its processes and saving the thread: a reply
    // right after the cancel waits for that, up to a bound, instead of failing as busy.
    if (active?.ending) {
      await active.done.catch(() => undefined);
      active = this.#runs.get(threadId);
    } else if (active?.signal.aborted) {
      await settledWithin(active.done, CANCEL_WAIT_MS);
      active = this.#runs.get(threadId);
    }
    if (active) {
      return fail(
        'thread_busy',
        `Thread ${threadId} is already running a turn (started ${Math.round((Date.now() - active.startedAt) / 1000)} s ago, now: ${active.step}).`,
        'One turn at a time per thread: wait for that call to finish (or cancel it), then call delegate_reply again.',
      );
    }
    const loaded = await this.threads.load(threadId);
    if (!loaded.ok) return loaded;
    const meta = loaded.value.meta as TurnSetup['meta'];
    const parentPolicy = parent.policy();
    // The thread keeps its settings, narrowed to what the server allows now.
    const narrowed = narrowForReply(
      threadId,
      { mode: meta.sandbox, network: meta.network, approval: meta.approval_policy },
      { mode: parentPolicy.mode, network: parentPolicy.network, approval: parent.approvalPolicy() },
    );
    if (!narrowed.ok) return narrowed;
    const limits = narrowed.value;
    if (meta.backend === 'codex') {
      const codexApproval = checkCodexApproval(limits.approval, `thread ${threadId} would continue under approval_policy ${limits.approval} (this server's)`);
      if (!codexApproval.ok) return codexApproval;
    }
    // A worktree thread is checked by the directory it was started from in the main checkout.
    const origin = meta.worktree ? mapOutOfWorktree(meta.worktree, meta.cwd) : meta.cwd;
    const inside = await checkCwd(parentPolicy, origin, limits.mode);
    if (!inside.ok) return fail(inside.error.code, `Thread ${threadId} works in ${meta.cwd}, which this session may not use: ${inside.error.message}`, inside.error.hint);
    if (!(await isDirectory(meta.cwd))) {
      return fail('thread_cwd_gone', `Thread ${threadId} worked in ${meta.cwd}, which no longer exists${meta.worktree ? ' (its worktree was removed)' : ''}.`, 'Start a new thread with delegate.');
    }
    const engine = this.#engine(meta.backend ?? 'agentbox', meta.provider);
    if (!engine.ok) return engine;
    let answer: AnswerCheck | undefined;
    if (meta.output_schema) {
      const compiled = answerCheck(meta.output_schema);
      if (compiled.ok) answer = compiled.value;
    }
    const lock = this.threads.lock(threadId);
    if (!lock.ok) return lock;
    let log: ThreadLog;
    try {
      log = await this.threads.openLog(threadId);
    } catch (err) {
      lock.value();
      return fail('thread_store', `Cannot open the thread file ${this.threads.file(threadId)}: ${(err as Error).message}`);
    }
    const child = createSessionContext(this.runtime, {
      cwd: meta.cwd,
      roots: [meta.cwd],
      readRoots: await this.#repoAbove(parentPolicy, meta.cwd),
      mode: limits.mode,
      network: limits.network,
      approvalPolicy: limits.approval,
    });
    const same = sameRoot(child, meta.cwd, meta.cwd);
    if (!same.ok) {
      lock.value();
      await log.close();
      return same;
    }
    const tools = this.#subagentTools(child);
    const { skipped } = loaded.value;
    const notes = [
      ...limits.notes,
      ...(skipped > 0 ? [`${skipped} unreadable line${skipped === 1 ? ' was' : 's were'} skipped in the thread file ${this.threads.file(threadId)}; the conversation may miss those steps.`] : []),
    ];
    // The subagent was told the thread's rules when it started; tell it what changed.
    const opening: Item[] =
      limits.notes.length > 0
        ? [
            {
              type: 'message',
              role: 'developer',
              content: `The rules for this thread changed since it started:\n${limits.notes.map((n) => `- ${n}`).join('\n')}\n\n${permissionsText(child.policy(), limits.approval, new Set([...tools.map((t) => t.name), 'update_plan']))}`,
            },
          ]
        : [];
    return ok(
      this.#launch(
        {
          meta: { ...meta, opening_items: meta.opening_items ?? 0 },
          turn: loaded.value.turns + 1,
          prompt,
          history: loaded.value.history,
          opening,
          child,
          tools,
          ...(notes.length > 0 ? { notes } : {}),
          parentPolicy,
          ...engine.value,
          ...(loaded.value.codexThreadId ? { codexThreadId: loaded.value.codexThreadId } : {}),
          // Threads from before codex_usage lines: what the thread recorded is the best guess of Codex's total.
          ...(meta.backend === 'codex' ? { codexUsage: loaded.value.codexUsage ?? loaded.value.usage } : {}),
          ...(answer ? { answer } : {}),
          log,
          unlock: lock.value,
        },
        host,
      ),
    );
  }

  /**
   * The host tools a subagent gets: the child session's own, in the groups `agent.tools` allows
   * (whatever the host sees: `tools` only chooses the server's own list).
   */
  #subagentTools(child: SessionContext): AnyToolSpec[] {
    const groups = new Set(this.runtime.config.agent.tools);
    return this.toolsFor(child).filter((t) => groups.has(t.group) && (SUBAGENT_TOOLS as readonly string[]).includes(t.name));
  }

  /**
   * The top of the repository `dir` lies in, when that is above `dir` and the calling session may
   * read it: the child session gets it as a read root, so that git_status and git_diff (which read
   * the repository from its top) work for a run confined to a subdirectory. Writes stay in `dir`.
   */
  async #repoAbove(policy: Policy, dir: string): Promise<string[]> {
    const repo = await openRepo(this.#git(policy), dir, 'read');
    return repo.ok && repo.value.top !== dir && isInside(repo.value.top, dir) ? [repo.value.top] : [];
  }

  /** What runs the turns: the model endpoint of `providerId` (agentbox's own loop), or the codex executable. */
  #engine(backend: Backend, providerId: string): Result<Pick<TurnSetup, 'provider' | 'codexBin'>> {
    if (backend === 'codex') {
      const bin = codexBinary(this.runtime.bin.codex, this.runtime.config.codex.path);
      return bin.ok ? ok({ codexBin: bin.value }) : bin;
    }
    const resolved = resolveProvider(this.runtime.config, providerId);
    return resolved.ok ? ok({ provider: resolved.value }) : resolved;
  }

  /** How the git core runs for this server, with `policy` deciding which repositories may be used. */
  #git(policy: Policy): GitContext {
    return { policy, settings: gitSettings(this.runtime.config.git, this.runtime.bin.git), view: ConfinedView.of(this.runtime) };
  }

  /** Codex's own environment and its commands' (codex-env.ts), from the server's environment and config. */
  #codexEnv(): { env: Record<string, string>; shellEnv: string[] } {
    const { config } = this.runtime;
    const policy: CodexEnvPolicy = {
      include: config.shell.env.include,
      set: config.shell.env.set,
      credentials: [...CODEX_BUILTIN_CREDENTIALS, ...codexConfigCredentials(process.env), ...config.codex.env_keys],
    };
    const env = codexProcessEnv(process.env, policy);
    return { env, shellEnv: codexShellEnvConfig(env, policy) };
  }

  #client(provider: ResolvedProvider): ModelClient {
    const key = `${provider.id}\0${provider.baseUrl}\0${provider.wire}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = createModelClient(provider);
      this.#clients.set(key, client);
    }
    return client;
  }

  #launch(setup: TurnSetup, host: RunHost): Run {
    const run = new Run(setup.meta.id, setup.turn);
    this.#runs.set(run.threadId, run);
    run.done = this.#execute(setup, run, host).finally(() => {
      this.#runs.delete(run.threadId);
      setup.unlock();
      run.end(); // the end is a change too, even one that failed before the last update
    });
    return run;
  }

  async #execute(setup: TurnSetup, run: Run, host: RunHost): Promise<DelegateResult> {
    const { meta, child, log } = setup;
    const { config } = this.runtime;
    const rlog = this.runtime.log.child({ thread: meta.id, turn: setup.turn });
    const emit = (e: RunEvent) => {
      try {
        host.event?.(e);
      } catch (err) {
        rlog.debug({ err }, 'a run event watcher failed');
      }
    };
    // The Codex backend passes Codex's items (item_0, …) through: agentbox's own get ids of their own.
    const events = host.event ? new ItemEvents(emit, meta.backend === 'codex' ? 'agentbox_' : 'item_') : undefined;
    // The subagent's tools send their own progress (a patch tool may report "patch applied: …"
    // itself); a step the loop reports with the same words is then only logged, not sent twice.
    let lastToolProgress: string | undefined;
    // A step goes out once, as progress; as a log line only at debug (a host that asked for debug
    // logs gets both), while warnings are log lines at their own level.
    const report = (message: string, level: 'info' | 'warning' = 'info', echo = true) => {
      run.update({ step: message });
      if (message !== lastToolProgress) host.progress(message);
      host.log(level === 'info' ? 'debug' : level, message);
      if (level === 'warning' && echo) events?.warning(message);
      rlog.debug({ step: message }, 'delegate step');
    };
    const timeoutMs = meta.timeout_ms ?? config.agent.timeout_ms;
    const timer = setTimeout(() => run.cancel('timeout'), timeoutMs);
    timer.unref?.();
    const onShutdown = () => run.cancel('cancelled', SERVER_SHUTDOWN);
    this.runtime.signal.addEventListener('abort', onShutdown, { once: true });

    let outcome: TurnOutcome = { status: 'failed', content: '', error: 'the run did not start', usage: run.usage, turns: 0 };
    let changes: ChangeSet = { diff: '', files: [] };
    const tracker = await trackChanges(meta.cwd, this.#git(setup.parentPolicy)).catch((err: Error) => {
      rlog.warn({ err: err.message }, 'cannot snapshot the files; the diff will be empty');
      return undefined;
    });
    // A codex thread that names no model leaves it to Codex: the event then names none.
    const named = meta.backend === 'codex' && isCodexConfiguredModel(meta.model) ? {} : { model: meta.model };
    emit({ type: 'thread.started', thread_id: meta.id, turn: setup.turn, ...named, cwd: meta.cwd, backend: meta.backend ?? 'agentbox' });
    emit({ type: 'turn.started' });
    try {
      await this.threads.index(summaryOf(meta, setup.turn, 'running'));
      log.append({ type: 'turn_started', turn: setup.turn, prompt: setup.prompt });
      const prompt: Item = { type: 'message', role: 'user', content: setup.prompt };
      const background: Item[] =
        host.detached && meta.approval_policy !== 'never' && meta.backend !== 'codex'
          ? [{ type: 'message', role: 'developer', content: 'This turn runs in the background: no user is there to answer approval requests, so every request (escalation, or a command the approval policy would ask about) is declined. Work within the sandbox, and say in your final message what you could not do.' }]
          : [];
      for (const item of [...setup.opening, ...background, prompt]) log.append({ type: 'item', item });
      await log.flush();
      const history = [...setup.history, ...setup.opening, ...background, prompt];
      const short = meta.id.slice(-8);
      report(
        setup.turn === 1
          ? `started thread ${meta.id} with ${meta.backend === 'codex' ? `the Codex CLI (${'model' in named ? `model ${meta.model}` : "Codex's configured model"})` : meta.model} in ${meta.cwd}`
          : `continuing thread ${meta.id} (turn ${setup.turn})`,
      );
      for (const note of setup.notes ?? []) report(note, 'warning');

      if (meta.backend === 'codex') {
        const codexEnv = this.#codexEnv();
        outcome = await runCodexTurn({
          bin: setup.codexBin!,
          request: {
            prompt: setup.prompt,
            cwd: meta.cwd,
            ...(setup.codexThreadId ? { resumeId: setup.codexThreadId } : {}),
            ...(isCodexConfiguredModel(meta.model) ? {} : { model: meta.model }),
            ...(meta.provider !== CODEX_CONFIGURED_PROVIDER ? { provider: meta.provider } : {}),
            sandbox: meta.sandbox,
            network: meta.network,
            ...(meta.reasoning_effort ? { reasoningEffort: meta.reasoning_effort } : {}),
            ...(meta.developer_instructions ? { developerInstructions: meta.developer_instructions } : {}),
            shellEnv: codexEnv.shellEnv,
          },
          ...(meta.base_instructions ? { baseInstructions: meta.base_instructions } : {}),
          ...(setup.answer ? { answer: setup.answer } : {}),
          env: codexEnv.env,
          signal: run.signal,
          report,
          stepDone: () => run.stepDone(),
          ...(events ? { events } : {}),
          onThread: (id) => {
            if (id === setup.codexThreadId) return;
            setup.codexThreadId = id;
            log.append({ type: 'codex_thread', id });
            void log.flush().catch(() => undefined);
          },
          record: (item) => {
            log.append({ type: 'item', item });
            void log.flush().catch(() => undefined);
          },
          ...(setup.codexUsage ? { usageBefore: setup.codexUsage } : {}),
          onUsage: (used, total) => {
            log.append({ type: 'usage', usage: used });
            log.append({ type: 'codex_usage', total });
            run.update({ usage: addUsage({ ...run.usage }, used) });
            run.stepDone();
          },
        });
        if (outcome.status === 'completed') report('answered');
      } else {
        const toolbox = buildToolbox(setup.tools, {
          freeformPatch: useFreeformApplyPatch(setup.provider!, meta.model),
          onPlan: (plan, explanation) => {
            run.update({ plan });
            log.append({ type: 'plan', plan, ...(explanation ? { explanation } : {}) });
            const done = plan.filter((s) => s.status === 'completed').length;
            const current = plan.find((s) => s.status === 'in_progress')?.step;
            report(`plan updated: ${done}/${plan.length} done${current ? `; now: ${current}` : ''}`);
          },
        });
        const toolContext: CallContext = {
          signal: run.signal,
          progress: (m) => {
            lastToolProgress = m;
            host.progress(m);
          },
          log: (level, m) => host.log(level, m),
          askApproval: host.detached
            ? async (m) => {
                report(`approval request declined: this run is in the background, with no host to ask (${m.split('\n')[0]?.slice(0, 120)})`, 'warning');
                return 'unavailable';
              }
            : // A run that stops (cancel, timeout) withdraws an open question at the host.
              (m, o) => host.askApproval(host.ownTerminal ? m : `[delegate ${short}] ${m}`, { signal: o?.signal ? AbortSignal.any([o.signal, run.signal]) : run.signal }),
        };
        outcome = await runTurn({
          client: this.#client(setup.provider!),
          model: meta.model,
          instructions: meta.base_instructions ?? BASE_INSTRUCTIONS,
          ...(meta.reasoning_effort ? { reasoningEffort: meta.reasoning_effort } : {}),
          toolbox,
          history,
          openingItems: meta.opening_items,
          log,
          signal: run.signal,
          toolContext,
          maxTurns: meta.max_turns ?? config.agent.max_turns,
          contextWindow: setup.provider!.contextWindow ?? config.agent.context_window,
          compactThreshold: config.agent.compact_threshold,
          ...(setup.answer ? { answer: setup.answer } : {}),
          cacheKey: meta.id,
          report,
          onTurn: (turns, usage) => run.update({ turns, usage: { ...usage } }),
          stepDone: () => run.stepDone(),
          ...(events ? { observe: events } : {}),
        });
      }
    } catch (err) {
      rlog.error({ err }, 'delegate run failed unexpectedly');
      outcome = { ...outcome, status: 'failed', error: `agentbox failed while running the thread: ${(err as Error)?.message ?? String(err)}` };
    } finally {
      // A cancel accepted before this point wins even if the loop had just finished: the caller was told "cancelled".
      const stopped = run.settle();
      if (stopped) outcome = { ...outcome, status: stopped.status, ...(stopped.note ? { error: stopped.note } : {}) };
      clearTimeout(timer);
      this.runtime.signal.removeEventListener('abort', onShutdown);
      // Ends every process and session the run started, whatever state it stopped in.
      await child.close();
    }
    events?.finish();

    if (tracker) {
      changes = await tracker.finish().catch((err: Error) => {
        rlog.warn({ err: err.message }, 'cannot compute the diff');
        return changes;
      });
    }
    if (meta.worktree && changes.files.length > 0) {
      const committed = await commitWorktree(this.#git(setup.parentPolicy), meta.worktree, `agentbox: ${meta.title}\n\nThread ${meta.id}, turn ${setup.turn}.`);
      if (!committed.ok) report(committed.error.message, 'warning');
    }
    const duration = Date.now() - run.startedAt;
    const result: DelegateResult = {
      threadId: meta.id,
      status: outcome.status,
      content: outcome.content,
      ...(outcome.output !== undefined ? { output: outcome.output } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      diff: changes.diff,
      files_changed: changes.files,
      usage: outcome.usage,
      duration_ms: duration,
      ...(meta.worktree ? { branch: meta.worktree.branch } : {}),
      ...(setup.notes ? { notes: setup.notes } : {}),
      turns: outcome.turns,
    };
    run.ending = true;
    // A turn the server's shutdown cut short is left open in the file, as a killed server leaves it:
    // the next server reports it `interrupted`, and delegate_reply continues it.
    const interrupted = outcome.error === SERVER_SHUTDOWN;
    if (!interrupted) log.append({
      type: 'turn_ended',
      turn: setup.turn,
      status: result.status,
      content: result.content,
      ...(result.error ? { error: result.error } : {}),
      usage: result.usage,
      duration_ms: duration,
      files_changed: result.files_changed.length,
      files: result.files_changed,
      diff: result.diff,
      ...(result.output !== undefined ? { output: result.output } : {}),
      model_turns: result.turns,
    });
    await log.close();
    await this.threads.index(summaryOf(meta, setup.turn, interrupted ? 'interrupted' : result.status)).catch(() => undefined);
    report(`${result.status}${result.error ? `: ${result.error.split('\n')[0]}` : ''} after ${outcome.turns} model turn${outcome.turns === 1 ? '' : 's'}`, result.status === 'completed' ? 'info' : 'warning');
    run.update({ status: result.status, result });
    emit(turnEndEvent(result));
    return result;
  }

  /**
   * Where a thread's turn stands (the last turn without `turn`): the live run when it runs in this
   * server, else what its file says (finished with its full result, interrupted, or running in
   * another agentbox process on the same home).
   */
  async state(threadId: string, turn?: number): Promise<Result<ThreadState>> {
    const run = this.#runs.get(threadId);
    if (run && (turn === undefined || run.turn === turn)) return ok(run.result ? { state: 'finished', result: run.result } : { state: 'running', run });
    const loaded = await this.threads.load(threadId);
    if (!loaded.ok) return loaded;
    const wanted = turn ?? loaded.value.turns;
    const { started, ended } = turnLines(loaded.value, wanted);
    if (!started) return fail('turn_not_found', `Thread ${threadId} has no turn ${wanted} (it has ${loaded.value.turns}).`);
    if (ended) {
      const { meta } = loaded.value;
      return ok({
        state: 'finished',
        result: {
          threadId,
          status: ended.status,
          content: ended.content,
          ...(ended.output !== undefined ? { output: ended.output } : {}),
          ...(ended.error ? { error: ended.error } : {}),
          diff: ended.diff ?? '',
          files_changed: ended.files ?? [],
          usage: ended.usage,
          duration_ms: ended.duration_ms,
          ...(meta.worktree ? { branch: meta.worktree.branch } : {}),
          turns: ended.model_turns ?? 0,
        },
      });
    }
    if (this.threads.isLocked(threadId)) return ok({ state: 'running_elsewhere', turn: wanted });
    return ok({ state: 'interrupted', turn: wanted });
  }
}

function checkNetwork(wanted: boolean | undefined, parent: Policy): Result<boolean> {
  if (wanted === undefined) return ok(parent.network);
  if (!wanted || parent.network) return ok(wanted);
  return fail('network_not_allowed', 'This server runs without network access in the sandbox; a delegate cannot turn it on.', 'Start agentbox with --network (or sandbox.network = true) to allow it.');
}

function checkMode(mode: SandboxMode, parent: Policy): Result<void> {
  if (MODE_RANK[mode] <= MODE_RANK[parent.mode]) return ok(undefined);
  return fail(
    'sandbox_too_wide',
    `This server runs with sandbox ${parent.mode}; a delegate cannot ask for ${mode}.`,
    `Use sandbox ${parent.mode} or narrower, or start agentbox with --sandbox ${mode}.`,
  );
}

/** The run's directory must be an existing directory the calling session may use in that mode. */
async function checkCwd(policy: Policy, requested: string, mode: SandboxMode): Promise<Result<string>> {
  const resolved = mode === 'read-only' ? await resolveForRead(policy, requested) : await resolveForWrite(policy, requested);
  if (!resolved.ok) return resolved;
  if (!(await isDirectory(resolved.value))) return fail('not_a_directory', `cwd ${requested} is not an existing directory.`, 'Give a directory inside the workspace.');
  return ok(resolved.value);
}

/** How long delegate_reply waits for a cancelled turn of the same thread to finish stopping. */
const CANCEL_WAIT_MS = 20_000;

const isDirectory = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

function titleOf(prompt: string): string {
  const line = prompt.trim().split('\n', 1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
}

function summaryOf(meta: ThreadMeta, turns: number, status: ThreadStatus) {
  return {
    id: meta.id,
    title: meta.title,
    cwd: meta.cwd,
    created: meta.created,
    updated: new Date().toISOString(),
    status,
    turns,
    model: modelLabel(meta),
    ...(meta.worktree ? { branch: meta.worktree.branch } : {}),
  };
}

/**
 * The subagent's policy resolves its root again (buildPolicy realpaths every root): unless that
 * gives back exactly the directory checked, a process swapped a directory on its path for a link
 * in between, and the run must not start there.
 */
function sameRoot(child: { policy(): Policy }, checked: string, shown: string): Result<void> {
  if (child.policy().roots[0] === checked) return ok(undefined);
  return changedMeanwhile(shown);
}
