// A failed question explained the way a person understands it, built from the server's error
// body ({"error":{"code","message","details"?}}) or a network failure.

import { h, icon } from './dom.js';

const UNAVAILABLE = 'The service is unavailable right now; try again in a moment';

function list(values) {
  return Array.isArray(values) ? values.filter((v) => typeof v === 'string' && v !== '') : [];
}

/** A short title for an error, as the conversation and the login form show it. */
export function errorTitle(error) {
  if (error.kind === 'network') return 'Could not reach the server';
  if (error.kind === 'timeout') return 'The server did not answer in time';
  switch (error.status) {
    case 422:
      return error.code === 'unsafe_sql'
        ? 'That query is not allowed'
        : "I couldn't turn that into a query";
    case 429:
      return 'Too many questions for now';
    case 503:
      return UNAVAILABLE;
    case 504:
      return 'The question took too long to answer';
    case 502:
      return 'The database could not run the query';
    case 403:
      return 'You may not ask questions here';
    case 400:
    case 413:
      return 'The question could not be sent';
    case 404:
      return 'Not found';
    default:
      return error.status >= 500 ? 'Something went wrong on the server' : 'Something went wrong';
  }
}

/**
 * The error block for a failed question. `onPickTable(table)`: a table button of a
 * not-understood question was chosen. Returns {node, retryLine}: retryLine (a 429's "you can
 * ask again in N s") is null for other errors; the caller keeps it up to date.
 */
export function createErrorBlock(error, { onPickTable } = {}) {
  const body = [];
  const message =
    error.kind === 'network'
      ? 'Check your connection and try again.'
      : error.kind === 'timeout'
        ? 'Try again, or ask a simpler question.'
        : error.message;
  // For a 503 the title says it all; the server's own words follow as a detail.
  if (message && message !== errorTitle(error)) {
    body.push(h('p', { class: 'error-message', text: message }));
  }
  let retryLine = null;
  if (error.status === 422 && error.code === 'not_understood') {
    const recognised = list(error.details?.recognised);
    const unknown = list(error.details?.unknown_words);
    const tables = list(error.details?.tables);
    if (recognised.length > 0) {
      body.push(
        h(
          'p',
          { class: 'error-detail' },
          h('span', { class: 'detail-label', text: 'I recognised: ' }),
          recognised.join(', '),
        ),
      );
    }
    if (unknown.length > 0) {
      body.push(
        h(
          'p',
          { class: 'error-detail' },
          h('span', { class: 'detail-label', text: 'Words I did not understand: ' }),
          unknown.map((w, i) => [i > 0 ? ', ' : '', h('q', { class: 'unknown-word', text: w })]),
        ),
      );
    }
    if (tables.length > 0) {
      body.push(
        h(
          'div',
          { class: 'table-picks' },
          h('p', {
            class: 'detail-label',
            text: 'This database has these tables; pick one to start from:',
          }),
          h(
            'ul',
            { class: 'chip-list', attrs: { 'aria-label': 'Tables in this database' } },
            tables.map((table) =>
              h(
                'li',
                {},
                h('button', {
                  type: 'button',
                  class: 'chip',
                  text: table,
                  title: `Ask “how many ${table} are there”`,
                  on: { click: () => onPickTable?.(table) },
                }),
              ),
            ),
          ),
        ),
      );
    }
  }
  if (error.status === 429) {
    retryLine = h('p', { class: 'retry-line', attrs: { 'aria-live': 'polite' } });
    body.push(retryLine);
  }
  const node = h(
    'div',
    {
      class: `error-block${error.status === 429 ? ' is-warning' : ''}`,
      attrs: { role: 'alert' },
      dataset: { status: String(error.status || error.kind) },
    },
    h('div', { class: 'error-icon' }, icon(error.status === 429 ? 'clock' : 'alert')),
    h(
      'div',
      { class: 'error-text' },
      h('p', { class: 'error-title', text: errorTitle(error) }),
      body,
    ),
  );
  return { node, retryLine };
}
