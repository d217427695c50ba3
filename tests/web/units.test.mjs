// The web chat's pure modules in Node, without a browser: value formatting, table sorting, the
// SQL tokenizer and layout, Retry-After parsing. Run: node --test tests/web/units.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  formatCell,
  formatIsoDate,
  formatNumber,
  humanizeColumn,
  isNumericColumn,
  sortRows,
} from '../../web/src/format.js';
import { layoutSql, tokenizeSql } from '../../web/src/sql_highlight.js';
import { parseRetryAfter } from '../../web/src/api.js';

// Exact strings are checked in English (the browser test pins en-US); in any other default
// locale the structural checks still run.
const english = new Intl.NumberFormat().resolvedOptions().locale.startsWith('en');

test('numbers: thousands separators, at most two decimals, integers without any', () => {
  const fraction = formatNumber(1234.5678);
  const decimals = fraction.split(/[.,]/).pop();
  assert.ok(decimals.length <= 2, fraction);
  assert.doesNotMatch(formatNumber(1000000), /[.,]\d{1,2}$/);
  if (english) {
    assert.equal(formatNumber(1234567), '1,234,567');
    assert.equal(formatNumber(1234.5678), '1,234.57');
    assert.equal(formatNumber(443977.7999999993), '443,977.8');
    assert.equal(formatNumber(-0.004), '0');
    assert.equal(formatNumber(-1234.5), '-1,234.5');
    assert.equal(formatNumber(12), '12');
  }
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

test('ISO dates are made readable; anything else is left alone', () => {
  assert.equal(formatIsoDate('revenue'), null);
  assert.equal(formatIsoDate('2024-13'), null);
  assert.equal(formatIsoDate('2023-02-30'), null);
  assert.equal(formatIsoDate('2024-W05'), null);
  assert.equal(formatIsoDate('2024'), null);
  assert.notEqual(formatIsoDate('2024-03'), null);
  if (english) {
    assert.equal(formatIsoDate('2024-03'), 'Mar 2024');
    assert.equal(formatIsoDate('2024-03-05'), 'Mar 5, 2024');
    // Shown as written: no shift into the viewer's time zone.
    assert.match(formatIsoDate('2024-03-05 23:30:00'), /^Mar 5, 2024.*11:30/);
    assert.match(formatIsoDate('2024-03-05T00:15:00Z'), /^Mar 5, 2024.*12:15/);
  }
});

test('cells: NULL is a marker of its own, numbers and dates are formatted, text is kept', () => {
  assert.deepEqual(formatCell(null), { text: 'NULL', kind: 'null' });
  assert.equal(formatCell('NULL').kind, 'text');
  assert.equal(formatCell(42).kind, 'number');
  assert.equal(formatCell('2024-01').kind, 'date');
  assert.deepEqual(formatCell('<b>bold</b>'), { text: '<b>bold</b>', kind: 'text' });
  assert.deepEqual(formatCell(true), { text: 'true', kind: 'text' });
});

test('a column is numeric when every non-NULL cell is a number', () => {
  const rows = [
    ['a', 1, null, '1'],
    ['b', null, null, 2],
  ];
  assert.equal(isNumericColumn(rows, 0), false);
  assert.equal(isNumericColumn(rows, 1), true);
  assert.equal(isNumericColumn(rows, 2), false, 'all NULL');
  assert.equal(isNumericColumn(rows, 3), false, 'mixed');
});

test('sorting: numbers numerically, text naturally, NULLs last, stable', () => {
  const rows = [
    ['b', 10, 'x'],
    ['a', 9, 'y'],
    ['c', null, 'z'],
    ['d', 100, 'w'],
    ['e', 10, 'v'],
  ];
  assert.deepEqual(
    sortRows(rows, 1, 'asc').map((r) => r[0]),
    ['a', 'b', 'e', 'd', 'c'],
  );
  assert.deepEqual(
    sortRows(rows, 1, 'desc').map((r) => r[0]),
    ['d', 'b', 'e', 'a', 'c'],
    'equal values keep their order; NULL stays last',
  );
  assert.deepEqual(
    sortRows([['item 10'], ['item 9'], [null], ['Item 1']], 0, 'asc').map((r) => r[0]),
    ['Item 1', 'item 9', 'item 10', null],
  );
  assert.deepEqual(rows[0], ['b', 10, 'x'], 'the input is not changed');
});

test('column names read as words', () => {
  assert.equal(humanizeColumn('sum_total_amount'), 'sum total amount');
  assert.equal(humanizeColumn('___'), '___');
});

test('the SQL tokenizer gives back the text exactly and types each token', () => {
  const sql =
    'SELECT c.name, SUM(o.total_amount) AS "Total €" FROM orders o -- note\n' +
    "JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'it''s' AND x >= 1.5e3 /* c */";
  const tokens = tokenizeSql(sql);
  assert.equal(tokens.map((t) => t.text).join(''), sql);
  const typeOf = (text) => tokens.find((t) => t.text === text)?.type;
  assert.equal(typeOf('SELECT'), 'keyword');
  assert.equal(typeOf('SUM'), 'function');
  assert.equal(typeOf('"Total €"'), 'quoted');
  assert.equal(typeOf("'it''s'"), 'string');
  assert.equal(typeOf('1.5e3'), 'number');
  assert.equal(typeOf('-- note'), 'comment');
  assert.equal(typeOf('/* c */'), 'comment');
  assert.equal(typeOf('<>'), 'operator');
  assert.equal(typeOf('name'), 'identifier');
  // An unterminated string runs to the end instead of failing.
  const open = tokenizeSql("SELECT 'abc");
  assert.deepEqual(open[open.length - 1], { type: 'string', text: "'abc" });
  // A keyword after a dot is a column name.
  assert.equal(tokenizeSql('t.order').pop().type, 'identifier');
});

test('one clause per line, but only outside parentheses and only for one-line SQL', () => {
  const text = (sql) =>
    layoutSql(tokenizeSql(sql))
      .map((t) => t.text)
      .join('');
  assert.equal(
    text(
      'SELECT a, COUNT(*) FROM t LEFT JOIN u ON t.id = u.id WHERE b IN (SELECT b FROM v) ' +
        'GROUP BY a ORDER BY 2 DESC LIMIT 5',
    ),
    'SELECT a, COUNT(*)\nFROM t\nLEFT JOIN u ON t.id = u.id\nWHERE b IN (SELECT b FROM v)\n' +
      'GROUP BY a\nORDER BY 2 DESC\nLIMIT 5',
  );
  const written = 'SELECT a\n  FROM t WHERE b = 1';
  assert.equal(text(written), written);
});

test('Retry-After: seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('42'), 42);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('soon'), null);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
});
