// A thread as a Markdown transcript (the resource agentbox://threads/{id}): each turn's prompt,
// the assistant's messages, tool calls with a short excerpt of their results, plan updates,
// compactions and how the turn ended. The opening (sandbox rules, AGENTS.md, environment) is left
// out; the JSONL file has everything.
import { formatUsage, type Item } from './items.js';
import { CODEX_CONFIGURED_PROVIDER, modelLabel, type LoadedThread } from './threads.js';

const EXCERPT = 1200;

export function renderTranscript(thread: LoadedThread): string {
  const { meta } = thread;
  const out: string[] = [
    `# ${meta.title.replace(/\s+/g, ' ').trim() || 'Thread'}`,
    '',
    `- thread: ${meta.id}`,
    `- status: ${thread.status}, ${thread.turns} turn${thread.turns === 1 ? '' : 's'}`,
    `- model: ${modelLabel(meta)} (${meta.backend === 'codex' ? `Codex CLI${meta.provider === CODEX_CONFIGURED_PROVIDER ? '' : `, provider ${meta.provider}`}` : meta.provider}), sandbox ${meta.sandbox}, approvals ${meta.approval_policy}`,
    `- cwd: ${meta.cwd}${meta.worktree ? ` (worktree of ${meta.worktree.repo}, branch ${meta.worktree.branch})` : ''}`,
    `- created: ${meta.created}`,
    `- tokens: ${formatUsage(thread.usage)}`,
  ];
  let skip = (meta as { opening_items?: number }).opening_items ?? 0;
  for (const line of thread.lines) {
    switch (line.type) {
      case 'turn_started':
        out.push('', `## Turn ${line.turn} (${line.ts})`, '', '**Prompt:**', '', quote(line.prompt));
        break;
      case 'item':
        if (skip > 0) {
          skip--;
          break;
        }
        out.push(...renderItem(line.item));
        break;
      case 'plan':
        out.push('', `**Plan:**${line.explanation ? ` ${line.explanation}` : ''}`, ...line.plan.map((s) => `- [${s.status === 'completed' ? 'x' : ' '}] ${s.step}${s.status === 'in_progress' ? ' (in progress)' : ''}`));
        break;
      case 'compacted':
        out.push('', `_The conversation was compacted here. Summary:_`, '', quote(line.summary));
        break;
      case 'turn_ended':
        out.push('', `**Turn ${line.turn} ended: ${line.status}**${line.error ? `: ${line.error}` : ''} (${(line.duration_ms / 1000).toFixed(1)} s, ${line.files_changed} file${line.files_changed === 1 ? '' : 's'} changed)`);
        break;
    }
  }
  return `${out.join('\n')}\n`;
}

function renderItem(item: Item): string[] {
  switch (item.type) {
    case 'message':
      // User messages are the turn's prompt (shown under its heading) or agentbox's own notes.
      return item.role === 'assistant' ? ['', '**Assistant:**', '', item.content] : [];
    case 'reasoning':
      return item.summary.length > 0 ? ['', `_Reasoning: ${item.summary.join(' ')}_`] : [];
    case 'function_call':
      return ['', `**Tool call** \`${item.name}\` (${item.call_id}):`, '', fence(item.arguments, 'json')];
    case 'custom_tool_call':
      return ['', `**Tool call** \`${item.name}\` (${item.call_id}):`, '', fence(item.input)];
    case 'function_call_output':
    case 'custom_tool_call_output':
      return ['', `Result (${item.call_id}):`, '', fence(excerpt(item.output))];
  }
}

function excerpt(text: string): string {
  return text.length <= EXCERPT ? text : `${text.slice(0, EXCERPT)}\n[… ${text.length - EXCERPT} more characters]`;
}

function fence(text: string, lang = ''): string {
  const ticks = text.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
}
