// The text a model reads for a command: a few header lines of facts, then the output. Fixed and
// parseable, like Codex's unified exec: the first line is either `Process exited with code N` or
// `Process running with session ID N`.
import type { ModelOutput } from './output.js';

export type ExecReport =
  | {
      state: 'exited';
      exitCode: number;
      timedOut: boolean;
      killed: boolean;
      timeoutMs: number;
      wallMs: number;
      output: ModelOutput;
      /** One-line explanations: a limit that was hit, what the sandbox refused and what to do instead. */
      notes?: readonly string[];
    }
  | { state: 'running'; sessionId: number; wallMs: number; output: ModelOutput; notes?: readonly string[] };

export function formatReport(r: ExecReport): string {
  const lines: string[] = [];
  if (r.state === 'exited') {
    lines.push(`Process exited with code ${r.exitCode}`);
    if (r.timedOut) lines.push(`Timed out after ${r.timeoutMs} ms: the command and everything it started were killed.`);
    else if (r.killed) lines.push('Killed on request, with everything it started.');
  } else {
    lines.push(`Process running with session ID ${r.sessionId}`);
  }
  lines.push(`Wall time: ${(r.wallMs / 1000).toFixed(3)} seconds`);
  for (const note of r.notes ?? []) lines.push(`Note: ${note}`);
  const { text, totalBytes, omittedBytes } = r.output;
  if (totalBytes === 0) lines.push('Output: (none)');
  else if (omittedBytes > 0) {
    lines.push(`Output (${totalBytes} bytes, ${omittedBytes} omitted from the middle; to see all of it, run the command again with its output redirected to a file, then grep or read_file it):`, text);
  }
  else lines.push('Output:', text);
  return lines.join('\n');
}
