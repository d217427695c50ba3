// An answer's rows as a table: sortable by clicking a column header (numbers numerically, NULLs
// last, stable), paginated, cells formatted for reading. Owns only the element it returns.

import { h, clear } from './dom.js';
import { formatCell, formatNumber, humanizeColumn, isNumericColumn, sortRows } from './format.js';

export const PAGE_SIZE = 25;

/**
 * The table for columns and rows (arrays of cells). `truncated`: the server dropped rows past
 * its cap, which the table says. Returns the element.
 */
export function createResultTable(columns, rows, { truncated = false, pageSize = PAGE_SIZE } = {}) {
  const numeric = columns.map((_, i) => isNumericColumn(rows, i));
  const state = { sortIndex: -1, direction: 'asc', page: 0, rows };

  const headButtons = [];
  const headCells = columns.map((name, i) => {
    const label = h('span', { class: 'th-label', text: humanizeColumn(name) });
    const arrow = h('span', { class: 'sort-arrow', attrs: { 'aria-hidden': 'true' } });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'th-button',
        title: `Sort by ${name}`,
        on: { click: () => sortBy(i) },
      },
      label,
      arrow,
    );
    headButtons.push({ button, arrow });
    return h(
      'th',
      { scope: 'col', class: numeric[i] ? 'num' : '', dataset: { column: name } },
      button,
    );
  });
  const body = h('tbody');
  const table = h('table', { class: 'result-table' }, h('thead', {}, h('tr', {}, headCells)), body);
  const scroller = h(
    'div',
    { class: 'table-scroll', tabIndex: 0, attrs: { role: 'region', 'aria-label': 'Result rows' } },
    table,
  );

  const range = h('span', { class: 'page-range', attrs: { 'aria-live': 'polite' } });
  const prev = h('button', {
    type: 'button',
    class: 'btn btn-small',
    text: 'Previous',
    on: { click: () => goTo(state.page - 1) },
  });
  const next = h('button', {
    type: 'button',
    class: 'btn btn-small',
    text: 'Next',
    on: { click: () => goTo(state.page + 1) },
  });
  const pageCount = Math.max(1, Math.ceil(rows.length / pageSize));
  const pager = h(
    'div',
    { class: 'pager' },
    range,
    pageCount > 1 ? h('span', { class: 'pager-buttons' }, prev, next) : null,
  );
  const notice = truncated
    ? h('p', {
        class: 'notice notice-warning',
        text: `Showing the first ${formatNumber(rows.length)} rows; the result had more.`,
      })
    : null;

  function render() {
    clear(body);
    scroller.scrollTop = 0;
    const start = state.page * pageSize;
    const slice = state.rows.slice(start, start + pageSize);
    for (const row of slice) {
      body.append(
        h(
          'tr',
          {},
          columns.map((_, i) => {
            const { text, kind } = formatCell(row[i]);
            let cls = '';
            if (kind === 'null') cls = 'cell-null';
            else if (numeric[i]) cls = 'num';
            else if (kind === 'date') cls = 'cell-date';
            // Short text stays on one line; long text wraps in a column of readable width.
            else if (text.length > 40) cls = 'cell-long';
            const cell = h('td', { class: cls });
            if (kind === 'null') cell.append(h('span', { class: 'null-marker', text }));
            else cell.textContent = text;
            // The exact value, for long or formatted cells.
            if (kind !== 'null' && String(row[i]) !== text) cell.title = String(row[i]);
            return cell;
          }),
        ),
      );
    }
    if (rows.length === 0) {
      body.append(
        h('tr', {}, h('td', { class: 'empty', colSpan: columns.length || 1, text: 'No rows.' })),
      );
    }
    const first = rows.length === 0 ? 0 : start + 1;
    const last = Math.min(rows.length, start + pageSize);
    range.textContent =
      rows.length <= pageSize
        ? `${formatNumber(rows.length)} ${rows.length === 1 ? 'row' : 'rows'}`
        : `Rows ${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(rows.length)}`;
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pageCount - 1;
    headCells.forEach((th, i) => {
      const sorted = i === state.sortIndex;
      th.setAttribute(
        'aria-sort',
        sorted ? (state.direction === 'asc' ? 'ascending' : 'descending') : 'none',
      );
      headButtons[i].arrow.textContent = sorted ? (state.direction === 'asc' ? '▲' : '▼') : '';
    });
  }

  function sortBy(index) {
    if (state.sortIndex === index) {
      state.direction = state.direction === 'asc' ? 'desc' : 'asc';
    } else {
      state.sortIndex = index;
      // Numbers read best largest first; text alphabetically.
      state.direction = numeric[index] ? 'desc' : 'asc';
    }
    state.rows = sortRows(rows, index, state.direction);
    state.page = 0;
    render();
  }

  function goTo(page) {
    state.page = Math.min(Math.max(0, page), pageCount - 1);
    render();
  }

  render();
  return h(
    'div',
    { class: 'result-table-wrap' },
    notice,
    scroller,
    h('div', { class: 'table-footer' }, pager),
  );
}
