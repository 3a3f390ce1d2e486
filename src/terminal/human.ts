// How `agentbox exec` shows a run to a person: one line per step on stderr as it happens (commands
// with their exit codes, patches with their files, other tool calls, plan updates, warnings), a
// spinner while the model thinks or a command runs (only on a terminal), then the answer on stdout
// and a summary on stderr (files changed with +/- counts, tokens, time, the thread id). stdout
// carries nothing but the answer, so `agentbox exec "…" > answer.md` keeps just that.
import { formatUsage, type DelegateResult, type ExecItem, type RunEvent } from '../agent/index.js';
import { stripControlsDeep } from './sanitize.js';
import { Spinner } from './spinner.js';

export interface HumanOptions {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: a spinner, colours (unless NO_COLOR), lines redrawn in place. */
  tty: boolean;
  color: boolean;
}

export class HumanRenderer {
  readonly #spinner: Spinner | undefined;
  /** The latest assistant message: the answer if the turn ends now, else a note shown when work goes on. */
  #pending: string | undefined;

  constructor(private readonly o: HumanOptions) {
    this.#spinner = o.tty ? new Spinner((frame) => o.err(frame)) : undefined;
  }

  event(raw: RunEvent): void {
    // Model and command text must not drive the terminal (escape sequences); our colours come after.
    const e = stripControlsDeep(raw);
    switch (e.type) {
      case 'thread.started':
        this.#line(this.#dim(`agentbox exec · thread ${e.thread_id}${e.turn > 1 ? ` (turn ${e.turn})` : ''} · ${e.backend === 'codex' ? `codex${e.model ? ` (${e.model})` : ''}` : e.model} · ${e.cwd}`));
        break;
      case 'model.request':
        this.#flushNote();
        this.#spinner?.start(`thinking (model turn ${e.turn})`);
        break;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        this.#item(e.type, e.item);
        break;
      case 'turn.completed':
      case 'turn.failed':
        this.#spinner?.stop();
        break;
    }
  }

  /** Stops the spinner while something else (an approval question) uses the terminal. */
  pause(): void {
    this.#spinner?.stop();
  }

  /** The answer on stdout, the summary on stderr. */
  finish(raw: DelegateResult): void {
    const result = stripControlsDeep(raw);
    this.#spinner?.stop();
    const answer = result.content.trim();
    if (this.#pending !== undefined && this.#pending.trim() !== answer) this.#flushNote();
    this.#pending = undefined;
    if (answer) this.o.out(`${answer}\n`);
    const lines: string[] = [''];
    if (result.files_changed.length > 0) {
      const stats = diffStat(result.diff);
      const mark = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R' } as const;
      for (const f of result.files_changed) {
        const s = stats.get(f.path);
        lines.push(`${mark[f.kind]} ${f.from ? `${f.from} -> ` : ''}${f.path}${s ? ` ${this.#green(`+${s.added}`)} ${this.#red(`-${s.removed}`)}` : ''}`);
      }
    } else lines.push(this.#dim('no files changed'));
    lines.push(
      this.#dim(
        `tokens: ${formatUsage(result.usage)} · ${result.turns} model turn${result.turns === 1 ? '' : 's'} · ${(result.duration_ms / 1000).toFixed(1)} s`,
      ),
    );
    if (result.branch) lines.push(`branch: ${result.branch}`);
    const status = result.status === 'completed' ? this.#green(result.status) : this.#red(result.status);
    lines.push(`${status}${result.error ? `: ${result.error}` : ''} · thread ${result.threadId}`);
    lines.push(this.#dim(`continue: agentbox exec --resume ${result.threadId} "…"`));
    this.o.err(`${lines.join('\n')}\n`);
  }

  #item(phase: string, item: ExecItem): void {
    switch (item.type) {
      case 'agent_message':
        if (phase === 'item.completed') {
          this.#spinner?.stop();
          this.#flushNote();
          this.#pending = item.text;
        }
        break;
      case 'reasoning':
        if (phase === 'item.completed') this.#line(this.#dim(`thinking: ${oneLine(item.text)}`));
        break;
      case 'command_execution':
        if (phase === 'item.started') {
          this.#flushNote();
          this.#line(`$ ${oneLine(item.command)}`);
          this.#spinner?.start('running');
        } else if (phase === 'item.completed') {
          const tail = lastLine(item.aggregated_output);
          const code = item.exit_code === null ? item.status : `exit ${item.exit_code}`;
          this.#line(`  ${item.status === 'completed' ? this.#green(`✓ ${code}`) : this.#red(`✗ ${code}`)}${tail ? this.#dim(` · ${tail}`) : ''}`);
        } else this.#line(this.#dim('  (still running in a session)'));
        break;
      case 'file_change':
        if (phase === 'item.started') this.#flushNote();
        else if (phase === 'item.completed') {
          const mark = { add: 'A', update: 'M', delete: 'D' } as const;
          const files = item.changes.map((c) => `${mark[c.kind] ?? 'M'} ${c.path}`).join(', ');
          this.#line(item.status === 'completed' ? `${this.#green('✎ patch')} ${files}` : `${this.#red('✗ patch failed')} ${files}`);
        }
        break;
      case 'tool_call':
        if (phase === 'item.started') {
          this.#flushNote();
          this.#line(`› ${item.tool}${describeArgs(item.arguments)}`);
        } else if (phase === 'item.completed' && item.status === 'failed') this.#line(`  ${this.#red(`✗ ${item.error ?? 'failed'}`)}`);
        break;
      case 'todo_list': {
        if (phase === 'item.completed') break;
        const done = item.items.filter((i) => i.completed).length;
        const now = item.items.find((i) => !i.completed)?.text;
        this.#line(this.#dim(`plan: ${done}/${item.items.length} done${now ? ` · next: ${now}` : ''}`));
        break;
      }
      case 'error':
        this.#line(this.#yellow(`! ${item.message}`));
        break;
    }
  }

  /** An assistant message followed by more work was a note, not the answer: show it now. */
  #flushNote(): void {
    if (this.#pending === undefined) return;
    const text = this.#pending.trim();
    this.#pending = undefined;
    if (text) this.#line(this.#dim(`• ${text.split('\n').join('\n  ')}`));
  }

  #line(text: string): void {
    this.#spinner?.stop();
    this.o.err(`${text}\n`);
  }

  #paint = (code: number) => (text: string) => (this.o.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  #dim = this.#paint(2);
  #red = this.#paint(31);
  #green = this.#paint(32);
  #yellow = this.#paint(33);
}

/** Lines added and removed per file in a unified diff (git or plain). */
export function diffStat(diff: string): Map<string, { added: number; removed: number }> {
  const stats = new Map<string, { added: number; removed: number }>();
  let current: { added: number; removed: number } | undefined;
  // Lines still to come in the current hunk (old side, new side): inside a hunk, a line such as
  // "--- x" is a removed "-- x", not a file header.
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      if (line.startsWith('+')) {
        current!.added++;
        newLeft--;
      } else if (line.startsWith('-')) {
        current!.removed++;
        oldLeft--;
      } else if (!line.startsWith('\\')) {
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
    } else if (line.startsWith('--- ')) {
      const source = line.slice(4).replace(/^a\//, '');
      current = { added: 0, removed: 0 };
      // A deletion has no +++ name: it counts under the old one.
      if (source !== '/dev/null') stats.set(source, current);
    } else if (line.startsWith('+++ ')) {
      const target = line.slice(4).replace(/^b\//, '');
      if (target !== '/dev/null' && current) stats.set(target, current);
    }
  }
  return stats;
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return oneLine(lines[lines.length - 1] ?? '');
}

function describeArgs(args: unknown): string {
  if (!args || typeof args !== 'object') return '';
  const a = args as Record<string, unknown>;
  const main = [a.path, a.pattern, a.cmd].find((v) => typeof v === 'string') as string | undefined;
  return main ? ` ${oneLine(main)}` : '';
}
