// The scripted model for bench/delegate.bench.mjs, in a worker thread so that its own work does not
// count as agentbox's. It counts the tool results in a request to know where the conversation is:
// a `turns` prompt gets TURNS update_plan calls, a `concurrent` prompt read_file, a sandboxed
// `echo` through exec_command and update_plan, then each gets a final answer.
import { parentPort, workerData } from 'node:worker_threads';
import { startModelServer } from '../test/support/model-server.mjs';

const { turns: TURNS } = workerData;
const model = await startModelServer();
const plan = { name: 'update_plan', args: { plan: [{ step: 'benchmark', status: 'in_progress' }] } };
model.otherwise((req) => {
  const input = Array.isArray(req.body.input) ? req.body.input : [];
  const done = input.filter((i) => i.type === 'function_call_output').length;
  const prompt = input.filter((i) => i.type === 'message' && i.role === 'user').at(-1)?.content ?? '';
  const concurrent = prompt.startsWith('concurrent');
  const usage = { input_tokens: 100, output_tokens: 5 };
  if (done >= (concurrent ? 3 : TURNS)) {
    const outputs = input.filter((i) => i.type === 'function_call_output').map((i) => i.output);
    const exec = concurrent ? (outputs.some((o) => o.startsWith('Process exited with code 0')) ? ' exec ok' : ' exec failed') : '';
    return { output: [{ type: 'message', text: `done after ${done} tool calls${exec}` }], usage };
  }
  const concurrentSteps = [{ name: 'read_file', args: { path: 'notes.txt' } }, { name: 'exec_command', args: { cmd: 'echo ok', yield_time_ms: 30000 } }, plan];
  const step = concurrent ? concurrentSteps[done] : plan;
  return { output: [{ type: 'function_call', name: step.name, arguments: step.args }], usage };
});
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
port.postMessage(model.url);
port.on('message', async (m) => {
  if (m === 'close') {
    await model.close();
    process.exit(0);
  }
});
