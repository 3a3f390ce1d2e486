// Commands known to only read, for the `untrusted` approval policy: these run (sandboxed) without
// asking; everything else asks the host's user first. Deliberately conservative: any shell feature
// this parser does not fully understand (substitutions, redirections, variables, globs that could
// expand into options, background jobs) makes the command "not known read-only", which only means
// the user is asked.

/**
 * The argument shapes a program accepts while it only reads. Options are allowed by name, never
 * refused by name: anything not listed (an unknown option, an abbreviation such as `sort --o=f`,
 * a new option in a later version) makes the command "not known read-only".
 */
interface ArgShape {
  /** Every option of the program is harmless (none writes a file or runs a program). */
  anyOption?: boolean;
  /** Single-letter flags that may be bundled (`-la`). */
  letters?: string;
  /** Single-letter options that take a value, attached (`-n5`) or as the next word (`-n 5`). */
  valuedLetters?: string;
  /** Whole option words allowed as they are (`--stat`, `-ps`), also with `=value` when `withValue` has them. */
  words?: readonly string[];
  /** Long options taking a required value, as `--key=v` or `--key v`. */
  valued?: readonly string[];
  /** Whole option words matched by pattern (`-5`, `-U3`, `-unormal`). */
  patterns?: readonly RegExp[];
  /** The most operands (non-option words); more means an output file (`xxd in out`, `uniq in out`). */
  maxOperands?: number;
  /** What each operand must look like (`date +%F`; any other operand sets the clock). */
  operand?: RegExp;
}

/** Programs that never change anything, whatever their options. */
const ANY_OPTION: ArgShape = { anyOption: true };

const SHAPES: Record<string, ArgShape> = Object.fromEntries([
  ...[
    'ls', 'cat', 'head', 'tail', 'wc', 'pwd', 'echo', 'printf', 'true', 'false', 'grep', 'egrep', 'fgrep', 'nl', 'cut', 'tr',
    'diff', 'cmp', 'comm', 'stat', 'du', 'df', 'which', 'whoami', 'id', 'uname', 'basename', 'dirname', 'realpath', 'readlink',
    'md5sum', 'sha1sum', 'sha256sum', 'sha512sum', 'cksum', 'test', '[', 'column', 'fold', 'rev', 'tac', 'expand', 'od',
    'hexdump', 'strings', 'seq', 'printenv',
  ].map((p) => [p, ANY_OPTION] as const),
  // `xxd in out` writes out; -r writes binary. Options are matched by xxd as prefixes, so only exact words pass.
  ['xxd', { words: ['-a', '-b', '-C', '-e', '-E', '-i', '-p', '-ps', '-u', '-d', '-h', '-v'], valuedLetters: 'cglosn', maxOperands: 1 }],
  // `uniq in out` writes out.
  ['uniq', {
    letters: 'cdDiuz', valuedLetters: 'fsw', maxOperands: 1,
    words: ['--count', '--repeated', '--all-repeated', '--ignore-case', '--unique', '--zero-terminated', '--group'],
    valued: ['--skip-fields', '--skip-chars', '--check-chars'], patterns: [/^--(all-repeated|group)=\w+$/],
  }],
  // Not -o/--output (writes), -T/--temporary-directory, --compress-program (runs a program).
  ['sort', {
    letters: 'bdfgiMhnRrVcCmsuz', valuedLetters: 'ktS',
    words: [
      '--ignore-leading-blanks', '--dictionary-order', '--ignore-case', '--general-numeric-sort', '--ignore-nonprinting', '--month-sort',
      '--human-numeric-sort', '--numeric-sort', '--random-sort', '--reverse', '--version-sort', '--check', '--merge', '--stable',
      '--unique', '--zero-terminated', '--debug',
    ],
    valued: ['--check', '--sort', '--key', '--field-separator', '--buffer-size', '--parallel', '--batch-size', '--random-source', '--files0-from'],
  }],
  // Not -s/--set, and no operand but +FORMAT (any other operand sets the clock).
  ['date', { letters: 'uR', valuedLetters: 'dfr', words: ['--utc', '--universal', '--rfc-email', '--iso-8601', '--debug'], valued: ['--date', '--file', '--reference', '--rfc-3339', '--iso-8601'], patterns: [/^-I\w*$/], maxOperands: 1, operand: /^\+/ }],
  // An operand or -F/-b sets the host name.
  ['hostname', { letters: 'fsdiIA', words: ['--fqdn', '--long', '--short', '--domain', '--ip-address', '--all-ip-addresses', '--all-fqdns', '--alias'], maxOperands: 0 }],
  // Not -o (writes) or -R (writes 00Tree.html into every directory).
  ['tree', {
    letters: 'adlfxACDFgiJNnpQqrstuvhSUX', valuedLetters: 'LPI',
    words: ['--noreport', '--dirsfirst', '--du', '--prune', '--matchdirs', '--ignore-case', '--gitignore', '--si', '--inodes', '--device', '--filesfirst'],
    valued: ['--charset', '--filelimit', '--timefmt', '--sort'],
  }],
  // Not -C/--compile (writes magic.mgc) or -p/--preserve-date (changes access times).
  ['file', {
    letters: 'bcdEhiIkLlNnrsSz0Z', valuedLetters: 'FfemP',
    words: ['--brief', '--mime', '--mime-type', '--mime-encoding', '--dereference', '--no-dereference', '--uncompress', '--uncompress-noreport', '--keep-going', '--print0', '--raw', '--special-files', '--extension', '--apple', '--no-buffer', '--no-pad'],
    valued: ['--separator', '--files-from', '--exclude', '--exclude-quiet', '--magic-file', '--parameter'],
  }],
  // Not --pre (runs a program on each file) or --hostname-bin.
  ['rg', {
    letters: 'iSswxvnNlcoFUuLHIabpzq0', valuedLetters: 'egtTABCmjdMrE',
    words: [
      '--hidden', '--no-ignore', '--no-ignore-vcs', '--no-ignore-parent', '--no-ignore-dot', '--no-ignore-global', '--no-ignore-exclude',
      '--files', '--files-with-matches', '--files-without-match', '--count', '--count-matches', '--json', '--vimgrep', '--fixed-strings',
      '--word-regexp', '--line-regexp', '--line-number', '--no-line-number', '--no-heading', '--heading', '--follow', '--multiline',
      '--multiline-dotall', '--pcre2', '--stats', '--trim', '--null', '--null-data', '--with-filename', '--no-filename', '--column',
      '--byte-offset', '--pretty', '--text', '--one-file-system', '--ignore-case', '--smart-case', '--case-sensitive', '--invert-match',
      '--only-matching', '--passthru', '--passthrough', '--no-messages', '--unrestricted', '--debug', '--trace', '--type-list', '--quiet',
      '--search-zip', '--binary', '--no-config', '--crlf', '--no-unicode', '--sort-files', '--no-require-git', '--glob-case-insensitive',
      '--no-follow', '--no-hidden', '--no-binary', '--no-column', '--no-crlf', '--max-columns-preview', '--include-zero',
    ],
    valued: [
      '--regexp', '--glob', '--iglob', '--type', '--type-not', '--after-context', '--before-context', '--context', '--max-count',
      '--threads', '--max-depth', '--max-filesize', '--replace', '--sort', '--sortr', '--color', '--colors', '--encoding', '--engine',
      '--file', '--ignore-file', '--path-separator', '--context-separator', '--field-context-separator', '--field-match-separator',
      '--max-columns', '--dfa-size-limit', '--regex-size-limit', '--type-add', '--type-clear',
    ],
  }],
]);

/** find's tests and safe actions; the rest (-exec, -execdir, -ok, -okdir, -delete, -fprint*, -fls, ...) are not allowed. */
const FIND_FLAGS = new Set([
  '-print', '-print0', '-ls', '-prune', '-quit', '-true', '-false', '-empty', '-readable', '-writable', '-executable', '-nouser',
  '-nogroup', '-depth', '-follow', '-xdev', '-mount', '-noleaf', '-daystart', '-ignore_readdir_race', '-noignore_readdir_race',
  '-not', '-and', '-or', '-a', '-o', '-H', '-L', '-P', '(', ')', '!', ',',
]);
const FIND_VALUED = new Set([
  '-name', '-iname', '-path', '-ipath', '-wholename', '-iwholename', '-regex', '-iregex', '-lname', '-ilname', '-type', '-xtype',
  '-maxdepth', '-mindepth', '-newer', '-anewer', '-cnewer', '-mtime', '-mmin', '-atime', '-amin', '-ctime', '-cmin', '-used', '-size',
  '-perm', '-user', '-group', '-uid', '-gid', '-links', '-inum', '-samefile', '-fstype', '-regextype', '-printf', '-context',
]);

/** git's options before the subcommand: `-c`, `--config-env`, `--exec-path`, `--git-dir` and the rest are not allowed. */
const GIT_GLOBAL_FLAGS = new Set(['--no-pager', '-P', '--no-optional-locks', '--literal-pathspecs', '--glob-pathspecs', '--noglob-pathspecs', '--icase-pathspecs', '--no-replace-objects']);

/** Options shared by the history and diff commands (log, show, diff, shortlog); not --output, --ext-diff, --textconv. */
const GIT_DIFF_WORDS = [
  '--oneline', '--stat', '--shortstat', '--numstat', '--name-only', '--name-status', '--patch', '--no-patch', '--raw', '--patch-with-stat',
  '--patch-with-raw', '--summary', '--compact-summary', '--dirstat', '--cumulative', '--no-color', '--color', '--color-words', '--word-diff',
  '--graph', '--all', '--branches', '--tags', '--remotes', '--decorate', '--no-decorate', '--reverse', '--first-parent', '--merges', '--no-merges',
  '--follow', '--ignore-all-space', '--ignore-space-change', '--ignore-space-at-eol', '--ignore-blank-lines', '--ignore-cr-at-eol', '--cached',
  '--staged', '--abbrev-commit', '--no-abbrev-commit', '--no-abbrev', '--abbrev', '--relative-date', '--left-right', '--left-only',
  '--right-only', '--cherry-pick', '--cherry-mark', '--cherry', '--source', '--check', '--no-ext-diff', '--no-textconv', '--minimal',
  '--histogram', '--patience', '--full-index', '--binary', '--exit-code', '--quiet', '--find-renames', '--find-copies',
  '--find-copies-harder', '--no-renames', '--break-rewrites', '--topo-order', '--date-order', '--author-date-order', '--boundary',
  '--simplify-by-decoration', '--ancestry-path', '--full-history', '--dense', '--sparse', '--relative', '--no-relative', '--text',
  '--merge-base', '--no-index', '--function-context', '--indent-heuristic', '--no-indent-heuristic', '--no-prefix', '--default-prefix',
  '--irreversible-delete', '--pickaxe-all', '--pickaxe-regex', '--null', '--log-size', '--use-mailmap', '--no-mailmap', '--mailmap',
  '--expand-tabs', '--no-expand-tabs', '--no-notes', '--children', '--parents', '--count', '--no-walk', '--do-walk', '--in-commit-order',
  '--remerge-diff', '--combined-all-paths', '--invert-grep', '--all-match', '--regexp-ignore-case', '--extended-regexp', '--fixed-strings',
  '--perl-regexp', '--walk-reflogs', '--clear-decorations', '--numbered', '--email', '--committer',
];
const GIT_DIFF_VALUED = [
  '--format', '--pretty', '--max-count', '--skip', '--since', '--until', '--after', '--before', '--author', '--committer', '--grep',
  '--unified', '--inter-hunk-context', '--diff-filter', '--diff-algorithm', '--date', '--abbrev', '--stat', '--stat-width',
  '--stat-name-width', '--stat-count', '--stat-graph-width', '--dirstat', '--color', '--color-moved', '--word-diff', '--word-diff-regex',
  '--color-words', '--find-renames', '--find-copies', '--break-rewrites', '--decorate', '--decorate-refs', '--decorate-refs-exclude',
  '--glob', '--exclude', '--branches', '--tags', '--remotes', '--relative', '--src-prefix', '--dst-prefix', '--line-prefix',
  '--output-indicator-new', '--output-indicator-old', '--output-indicator-context', '--ignore-matching-lines', '--ignore-submodules',
  '--submodule', '--encoding', '--expand-tabs', '--diff-merges', '--anchored', '--rotate-to', '--skip-to', '--orderfile', '--group',
  '--since-as-filter', '--min-parents', '--max-parents',
];
const GIT_DIFF_SHAPE: ArgShape = {
  letters: 'pusRabwMCBDqiEFtcmzne', words: GIT_DIFF_WORDS, valued: GIT_DIFF_VALUED,
  patterns: [/^-\d+$/, /^-[nUlO]\S+$/, /^-[SG]./, /^-L./, /^-[MCB]\d+%?$/, /^-w\d*(,\d+)*$/],
};

/** Read-only git subcommands and the options each accepts. */
const GIT_SHAPES: Record<string, ArgShape> = {
  log: GIT_DIFF_SHAPE,
  show: GIT_DIFF_SHAPE,
  diff: GIT_DIFF_SHAPE,
  shortlog: GIT_DIFF_SHAPE,
  status: {
    letters: 'sbvz',
    words: ['--short', '--branch', '--porcelain', '--long', '--verbose', '--untracked-files', '--ignored', '--ignore-submodules', '--column', '--no-column', '--ahead-behind', '--no-ahead-behind', '--renames', '--no-renames', '--find-renames', '--show-stash', '--null'],
    valued: ['--porcelain', '--untracked-files', '--ignored', '--ignore-submodules', '--column', '--find-renames'],
    patterns: [/^-u\w*$/],
  },
  'rev-parse': {
    letters: 'q',
    words: [
      '--show-toplevel', '--git-dir', '--absolute-git-dir', '--git-common-dir', '--is-inside-work-tree', '--is-inside-git-dir',
      '--is-bare-repository', '--is-shallow-repository', '--show-prefix', '--show-cdup', '--abbrev-ref', '--short', '--verify', '--quiet',
      '--symbolic', '--symbolic-full-name', '--all', '--branches', '--tags', '--remotes', '--show-superproject-working-tree',
      '--show-object-format', '--revs-only', '--no-revs', '--flags', '--no-flags', '--sq', '--not', '--local-env-vars', '--show-ref-format',
    ],
    valued: ['--abbrev-ref', '--short', '--branches', '--tags', '--remotes', '--glob', '--exclude', '--since', '--until', '--default', '--path-format', '--git-path', '--disambiguate', '--show-object-format'],
  },
  'ls-files': {
    letters: 'cdmoiskuztvf',
    words: ['--cached', '--deleted', '--modified', '--others', '--ignored', '--stage', '--unmerged', '--killed', '--full-name', '--recurse-submodules', '--abbrev', '--debug', '--eol', '--deduplicate', '--exclude-standard', '--error-unmatch', '--directory', '--no-empty-directory', '--sparse', '--resolve-undo'],
    valuedLetters: 'xX',
    valued: ['--exclude', '--exclude-from', '--exclude-per-directory', '--with-tree', '--abbrev', '--format'],
  },
  blame: {
    letters: 'blptfnsewcMCh',
    valuedLetters: 'LS',
    words: ['--root', '--show-stats', '--reverse', '--first-parent', '--porcelain', '--line-porcelain', '--incremental', '--progress', '--no-progress', '--color-lines', '--color-by-age', '--score-debug', '--show-name', '--show-number', '--show-email', '--abbrev'],
    valued: ['--encoding', '--contents', '--date', '--ignore-rev', '--ignore-revs-file', '--abbrev'],
    patterns: [/^-[MC]\d+$/],
  },
  describe: {
    words: ['--all', '--tags', '--contains', '--exact-match', '--debug', '--long', '--always', '--first-parent', '--dirty', '--broken'],
    valued: ['--abbrev', '--candidates', '--match', '--exclude', '--dirty', '--broken'],
  },
  // Not -O/--open-files-in-pager (runs a program), --textconv, --ext-grep.
  grep: {
    letters: 'iIwvhHEGPFnlLzocpWqar',
    valuedLetters: 'ABCmef',
    words: [
      '--ignore-case', '--word-regexp', '--invert-match', '--full-name', '--extended-regexp', '--basic-regexp', '--perl-regexp',
      '--fixed-strings', '--line-number', '--column', '--files-with-matches', '--name-only', '--files-without-match', '--null',
      '--only-matching', '--count', '--color', '--no-color', '--break', '--heading', '--show-function', '--function-context', '--and',
      '--or', '--not', '--all-match', '--quiet', '--cached', '--untracked', '--no-index', '--no-exclude-standard', '--exclude-standard',
      '--recurse-submodules', '--text', '--no-textconv', '--recursive', '--no-recursive',
    ],
    valued: ['--threads', '--max-depth', '--max-count', '--after-context', '--before-context', '--context', '--color'],
    patterns: [/^-\d+$/],
  },
  'ls-tree': {
    letters: 'drtlz',
    words: ['--long', '--name-only', '--name-status', '--object-only', '--full-name', '--full-tree', '--abbrev'],
    valued: ['--abbrev', '--format'],
  },
  // Not --textconv or --filters (run the repository's drivers).
  'cat-file': {
    letters: 'tsepZz',
    words: ['--batch', '--batch-check', '--batch-command', '--batch-all-objects', '--buffer', '--unordered', '--follow-symlinks', '--allow-unknown-type', '--use-mailmap', '--no-use-mailmap'],
    valued: ['--batch', '--batch-check', '--batch-command'],
  },
  // Listing only: any operand would create a branch.
  branch: { letters: 'arv', words: ['--list', '--all', '--remotes', '--show-current', '--verbose'], maxOperands: 0 },
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
  if (program === 'git') return isReadOnlyGit(args);
  if (program === 'find') return isReadOnlyFind(args);
  // sed: only `sed -n 'N,Mp' files...` (every other script may write with w or e).
  if (program === 'sed') return args.length >= 2 && args[0] === '-n' && /^\d+(,\d+)?p$/.test(args[1]!) && args.slice(2).every((a) => !a.startsWith('-'));
  const shape = SHAPES[program];
  return shape !== undefined && fitsShape(args, shape);
}

/** git [safe global options] <read-only subcommand> [its allowed options] [operands]. */
function isReadOnlyGit(args: string[]): boolean {
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C') i++; // -C <dir>: only where git looks
    else if (!GIT_GLOBAL_FLAGS.has(a)) break;
  }
  const sub = args[i];
  const shape = sub === undefined ? undefined : GIT_SHAPES[sub];
  return shape !== undefined && fitsShape(args.slice(i + 1), shape);
}

function isReadOnlyFind(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (FIND_VALUED.has(a) || /^-newer[aBcmt][aBcmt]$/.test(a)) i++;
    else if (a.startsWith('-') || FIND_FLAGS.has(a)) {
      if (!FIND_FLAGS.has(a)) return false;
    }
  }
  return true;
}

/** Whether `args` fits `shape`: every option allowed, at most maxOperands operands, each of the right form. */
function fitsShape(args: readonly string[], shape: ArgShape): boolean {
  if (shape.anyOption) return true;
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      operands.push(a);
      continue;
    }
    const taken = optionWords(a, shape);
    if (taken === undefined) return false;
    // The next word is taken as the value, unless it looks like an option: then it is checked as one
    // (a wrong guess about a value can only make the command "not known read-only", never let an option through).
    const next = args[i + 1];
    if (taken === 1 && next !== undefined && !(next.startsWith('-') && next !== '-')) i++;
  }
  if (shape.maxOperands !== undefined && operands.length > shape.maxOperands) return false;
  return shape.operand === undefined || operands.every((o) => shape.operand!.test(o));
}

/** For an allowed option word: how many following words it takes as its value (0 or 1); undefined when not allowed. */
function optionWords(a: string, shape: ArgShape): number | undefined {
  if (a.startsWith('--')) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (eq >= 0) return shape.valued?.includes(name) || shape.patterns?.some((p) => p.test(a)) ? 0 : undefined;
    if (shape.words?.includes(name)) return 0;
    if (shape.valued?.includes(name)) return 1;
    return shape.patterns?.some((p) => p.test(a)) ? 0 : undefined;
  }
  if (shape.words?.includes(a) || shape.patterns?.some((p) => p.test(a))) return 0;
  // A bundle of single letters, optionally ending in one that takes a value (attached, or the next word).
  const letters = shape.letters ?? '';
  const valued = shape.valuedLetters ?? '';
  for (let k = 1; k < a.length; k++) {
    const c = a[k]!;
    if (valued.includes(c)) return k === a.length - 1 ? 1 : 0;
    if (!letters.includes(c)) return undefined;
  }
  return 0;
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
