// SQL for reading: a small tokenizer that colours keywords, functions, strings, numbers and
// comments, and lays a one-line query out with one clause per line. For display only: it never
// judges or changes what runs, and the Copy button copies the SQL exactly as the server sent it.

const KEYWORDS = new Set(
  `select from where group by order having limit offset as and or not in is null like ilike
  between join inner left right full outer cross on using distinct all union intersect except
  case when then else end asc desc with recursive exists any some cast true false interval
  nulls first last over partition rows range preceding following unbounded current row filter
  within values insert update delete into set create table view index drop alter returning
  natural lateral fetch next only top escape collate`
    .split(/\s+/)
    .filter(Boolean),
);

/**
 * Tokens of sql as [{type, text}], types: "keyword", "function", "identifier", "quoted"
 * (a quoted identifier), "string", "number", "comment", "operator", "punctuation", "space".
 * Concatenating the texts gives back sql exactly.
 */
export function tokenizeSql(sql) {
  const tokens = [];
  let i = 0;
  const n = sql.length;
  const push = (type, end) => {
    tokens.push({ type, text: sql.slice(i, end) });
    i = end;
  };
  // The end of a quoted run opened at i by `quote`; a doubled quote is an escaped one.
  const quotedEnd = (quote) => {
    let j = i + 1;
    while (j < n) {
      if (sql[j] === quote) {
        if (sql[j + 1] === quote) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      if (sql[j] === '\\' && quote === "'" && j + 1 < n) {
        j += 2;
        continue;
      }
      j += 1;
    }
    return n;
  };
  while (i < n) {
    const c = sql[i];
    const rest = sql.slice(i);
    let m;
    if ((m = /^\s+/.exec(rest))) {
      push('space', i + m[0].length);
    } else if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      push('comment', end === -1 ? n : end);
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      push('comment', end === -1 ? n : end + 2);
    } else if (c === "'") {
      push('string', quotedEnd("'"));
    } else if (c === '"' || c === '`') {
      push('quoted', quotedEnd(c));
    } else if (c === '[') {
      const end = sql.indexOf(']', i);
      push('quoted', end === -1 ? n : end + 1);
    } else if ((m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest))) {
      push('number', i + m[0].length);
    } else if ((m = /^[A-Za-z_\u00C0-\uFFFF][\w$\u00C0-\uFFFF]*/.exec(rest))) {
      const word = m[0];
      const after = sql.slice(i + word.length);
      const lower = word.toLowerCase();
      let type = 'identifier';
      if (/^\s*\(/.test(after) && !KEYWORDS.has(lower)) type = 'function';
      else if (KEYWORDS.has(lower)) type = 'keyword';
      // A keyword used as a column after a dot ("t.order") is a name.
      const previous = tokens[tokens.length - 1];
      if (previous && previous.text === '.') type = 'identifier';
      push(type, i + word.length);
    } else if ((m = /^(?:<>|<=|>=|!=|\|\||::|[=<>+\-*/%|&^~!])/.exec(rest))) {
      push('operator', i + m[0].length);
    } else {
      push('punctuation', i + 1);
    }
  }
  return tokens;
}

// Clauses that start a new line when they are not inside parentheses.
const CLAUSE_STARTS = [
  ['from'],
  ['where'],
  ['group', 'by'],
  ['order', 'by'],
  ['having'],
  ['limit'],
  ['offset'],
  ['union'],
  ['intersect'],
  ['except'],
  ['join'],
  ['inner', 'join'],
  ['left', 'join'],
  ['left', 'outer', 'join'],
  ['right', 'join'],
  ['right', 'outer', 'join'],
  ['full', 'join'],
  ['full', 'outer', 'join'],
  ['cross', 'join'],
];

function clauseAt(tokens, index) {
  const words = [];
  for (let j = index; j < tokens.length && words.length < 3; j += 1) {
    if (tokens[j].type === 'space') continue;
    if (tokens[j].type !== 'keyword') break;
    words.push(tokens[j].text.toLowerCase());
  }
  return CLAUSE_STARTS.some((clause) => clause.every((w, k) => words[k] === w));
}

/**
 * Tokens laid out one clause per line (only for SQL written on one line; SQL that has line
 * breaks of its own keeps them). Only whitespace between tokens changes.
 */
export function layoutSql(tokens) {
  if (tokens.some((t) => (t.type === 'space' && t.text.includes('\n')) || t.type === 'comment')) {
    return tokens;
  }
  const out = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i];
    if (token.text === '(') depth += 1;
    if (token.text === ')') depth = Math.max(0, depth - 1);
    const previous = tokens[i - 1];
    const beforeWordOfClause =
      token.type === 'space' && depth === 0 && i + 1 < tokens.length && clauseAt(tokens, i + 1);
    // The first keyword of a multi-word clause starts the line; the words after it stay.
    if (beforeWordOfClause && !(previous && isClauseContinuation(tokens, i))) {
      out.push({ type: 'space', text: '\n' });
      continue;
    }
    out.push(token);
  }
  return out;
}

// True when the space at i sits inside a multi-word clause ("GROUP | BY", "LEFT | JOIN").
function isClauseContinuation(tokens, i) {
  const before = tokens[i - 1];
  if (!before || before.type !== 'keyword') return false;
  const word = before.text.toLowerCase();
  return ['group', 'order', 'left', 'right', 'full', 'inner', 'cross', 'outer'].includes(word);
}

/**
 * A <code> element holding sql, highlighted, built with textContent only. `layout`: one clause
 * per line (see layoutSql).
 */
export function highlightSql(sql, { layout = true } = {}) {
  const code = document.createElement('code');
  code.className = 'sql';
  const tokens = tokenizeSql(sql);
  for (const token of layout ? layoutSql(tokens) : tokens) {
    if (token.type === 'space' || token.type === 'punctuation' || token.type === 'identifier') {
      code.append(document.createTextNode(token.text));
      continue;
    }
    const span = document.createElement('span');
    span.className = `tok-${token.type}`;
    span.textContent = token.text;
    code.append(span);
  }
  return code;
}
