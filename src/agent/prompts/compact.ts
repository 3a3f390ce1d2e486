// The texts of a compaction: the request that asks the model for a handoff summary of the
// conversation so far, and the message that carries that summary into the rebuilt history.
export const COMPACT_PROMPT = `You are performing a context checkpoint: the conversation is about to be cut down to fit the context window, and another model will continue the task from your summary alone. Write a handoff summary that lets it continue without repeating work:
- the task and any constraints or preferences stated by the user;
- what has been done so far, including the files changed and the key decisions and their reasons;
- the current state: what works, what fails (with the exact error messages that matter), what was being tried;
- what remains to be done, as clear next steps;
- any data, paths, commands, identifiers or snippets needed to continue.
Be concise and structured. Do not call any tools.`;

export const SUMMARY_PREFIX = `Another model worked on this task before you and was stopped to save context. Its handoff summary follows. The workspace is in the state it left (files it changed are changed; processes it started are gone). Continue the task from here; verify anything you depend on rather than assuming it.

Summary:
`;
