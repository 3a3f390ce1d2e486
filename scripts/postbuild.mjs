// Makes the CLI executable after tsc (npm links `bin` entries, but a fresh clone runs dist/cli.js directly too).
import { chmodSync, existsSync } from 'node:fs';
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
