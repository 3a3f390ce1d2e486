// What `npm start` prints once the HTTP server listens: the URL and config snippets a user can
// paste into their host. Printed on stdout: in HTTP mode stdout is not the protocol channel.
export interface BannerFacts {
  url: string;
  withToken: boolean;
  workspace: readonly string[];
  mode: string;
}

export function printBanner({ url: boundUrl, withToken, workspace, mode }: BannerFacts): void {
  // A wildcard bind is not an address a client can use: show localhost and say so.
  const wildcard = /\/\/(0\.0\.0\.0|\[::\])[:/]/.test(boundUrl);
  const url = wildcard ? boundUrl.replace(/\/\/(0\.0\.0\.0|\[::\])/, '//127.0.0.1') : boundUrl;
  const auth = withToken ? ' (clients must send "Authorization: Bearer <token>")' : '';
  const header = withToken ? ', "headers": { "Authorization": "Bearer ${env:AGENTBOX_AUTH_TOKEN}" }' : '';
  const text = `
agentbox is listening on ${url}${auth}${wildcard ? `\n  (bound to every interface: from other machines use this machine's address instead of 127.0.0.1)` : ''}
workspace: ${workspace.length > 0 ? workspace.join(', ') : '(none: pass --root DIR)'}; sandbox: ${mode}

Claude Code:
  claude mcp add --transport http agentbox ${url}${withToken ? ' --header "Authorization: Bearer $AGENTBOX_AUTH_TOKEN"' : ''}

Codex (~/.codex/config.toml):
  [mcp_servers.agentbox]
  url = "${url}"${withToken ? '\n  bearer_token_env_var = "AGENTBOX_AUTH_TOKEN"' : ''}

VS Code (.vscode/mcp.json):
  { "servers": { "agentbox": { "type": "http", "url": "${url}"${header} } } }

Cursor (~/.cursor/mcp.json):
  { "mcpServers": { "agentbox": { "url": "${url}"${header} } } }

Claude Desktop launches servers over stdio; see the README ("agentbox serve --stdio").
Press Ctrl+C to stop.
`;
  process.stdout.write(text);
}
