// Commands known to only read, for the `untrusted` approval policy: these run (sandboxed) without
// asking; everything else asks the host's user first. Deliberately conservative: any shell feature
// this parser does not fully understand (substitutions, redirections, variables, globs that could
// expand into options, background jobs) makes the command "not known read-only", which only means
// the user is asked.

/** Programs that never change anything, whatever their (plain) arguments. */
const ALWAYS_READ_ONLY = new Set([
  'ls', 'cat', 'head', 'tail', 'wc', 'pwd', 'echo', 'printf', 'true', 'false', 'grep', 'egrep', 'fgrep', 'nl', 'cut',
  'tr', 'diff', 'cmp', 'comm', 'file', 'stat', 'du', 'df', 'which', 'whoami', 'id', 'uname', 'basename',
  'dirname', 'realpath', 'readlink', 'tree', 'md5sum', 'sha1sum', 'sha256sum', 'sha512sum', 'cksum', 'test', '[',
  'column', 'fold', 'rev', 'tac', 'expand', 'od', 'hexdump', 'xxd', 'strings', 'seq', 'hostname', 'printenv',
]);

/** Read-only git subcommands. */
const GIT_READ_ONLY = new Set(['status', 'log', 'diff', 'show', 'rev-parse', 'ls-files', 'blame', 'describe', 'shortlog', 'grep', 'ls-tree', 'cat-file']);

/** Options that make an otherwise read-only program write or run something. */
const FORBIDDEN_ARGS: Record<string, (arg: string) => boolean> = {
  find: (a) => /^-(exec|execdir|ok|okdir|delete|fprint|fprint0|fprintf|fls)$/.test(a),
  rg: (a) => a === '--pre' || a.startsWith('--pre=') || a === '--pre-glob' || a.startsWith('--pre-glob='),
  sort: (a) => a === '-o' || a.startsWith('--output') || /^-[a-zA-Z]*o/.test(a),
  date: (a) => a === '-s' || a.startsWith('--set'),
  git: (a) => a === '-c' || a.startsWith('--output') || a.startsWith('--exec-path') || a === '--ext-diff' || a === '-O' || a.startsWith('--open-files-in-pager') || a.startsWith('--git-dir') || a.startsWith('--work-tree'),
  hostname: () => true,
  xxd: (a) => a === '-r' || a.startsWith('-revert'),
  tree: (a) => a === '-o',
  file: (a) => a === '-C' || a === '--compile',
};

/** True when every part of `cmd` runs a program known only to read, with no redirections or substitutions. */
export function isKnownReadOnly(cmd: string): boolean {
  const segments = splitCommand(cmd);
  if (!segments || segments.length === 0) return false;
  return segments.every(isReadOnlySegment);
}

function isReadOnlySegment(words: string[]): boolean {
  const [program, ...args] = words;
  if (!program || program.includes('=') || program.includes('/')) return false;
  const forbidden = FORBIDDEN_ARGS[program];
  if (forbidden && args.some(forbidden)) return false;
  if (program === 'git') {
    const sub = args.find((a) => !a.startsWith('-'));
    if (sub === 'branch') return args.every((a) => a === 'branch' || /^(-a|-r|-v|-vv|--list|--all|--remotes|--show-current)$/.test(a));
    return sub !== undefined && GIT_READ_ONLY.has(sub);
  }
  // uniq's second operand is an output file.
  if (program === 'uniq') return args.filter((a) => !a.startsWith('-')).length <= 1;
  if (program === 'find' || program === 'rg' || program === 'sort' || program === 'date') return true;
  if (program === 'sed') return args.length >= 2 && args[0] === '-n' && /^\d+(,\d+)?p$/.test(args[1]!) && args.slice(2).every((a) => !a.startsWith('-'));
  return ALWAYS_READ_ONLY.has(program);
}

/**
 * Splits a command line into simple commands at `|`, `||`, `&&`, `;` and newlines, unquoting words.
 * Returns undefined for anything it does not fully understand.
 */
export function splitCommand(cmd: string): string[][] | undefined {
  const segments: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endSegment = () => {
    endWord();
    if (words.length > 0) segments.push(words);
    words = [];
  };
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += cmd.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      const end = cmd.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const inner = cmd.slice(i + 1, end);
      if (/[$`\\!]/.test(inner)) return undefined;
      word += inner;
      inWord = true;
      i = end;
    } else if (c === ' ' || c === '\t') endWord();
    else if (c === '\n' || c === ';') endSegment();
    else if (c === '|') {
      if (cmd[i + 1] === '|') i++;
      else if (cmd[i + 1] === '&') return undefined;
      endSegment();
    } else if (c === '&') {
      if (cmd[i + 1] !== '&') return undefined; // background job or &> redirection
      i++;
      endSegment();
    } else if ((c === '~' || c === '#') && inWord) {
      // Literal inside a word (HEAD~1, a#b); at the start it would be tilde expansion or a comment.
      word += c;
    } else if (/[<>$`\\(){}*?[\]~!#]/.test(c)) {
      // Redirections, substitutions, variables, subshells, globs, history and comments.
      // `[` alone is the test program; inside a word it could be a glob.
      if (c === '[' && !inWord && (cmd[i + 1] === ' ' || cmd[i + 1] === undefined)) {
        word = '[';
        inWord = true;
        continue;
      }
      if (c === ']' && !inWord && (i === cmd.length - 1 || cmd[i + 1] === ' ' || cmd[i + 1] === ';')) {
        word = ']';
        inWord = true;
        continue;
      }
      return undefined;
    } else {
      word += c;
      inWord = true;
    }
  }
  endSegment();
  return segments;
}
