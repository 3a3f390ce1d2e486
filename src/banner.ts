// What `npm start` prints once the HTTP server listens: the URL and config snippets a user can
// paste into their host. Printed on stdout: in HTTP mode stdout is not the protocol channel.
export function printBanner(url: string, withToken: boolean): void {
  const auth = withToken ? ' (add the header "Authorization: Bearer <your token>")' : '';
  const header = withToken ? ', "headers": { "Authorization": "Bearer ${AGENTBOX_AUTH_TOKEN}" }' : '';
  const text = `
agentbox is listening on ${url}${auth}

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
