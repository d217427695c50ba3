// The conversation: each turn's question and its answer (explanation, chart, table, SQL,
// feedback buttons, follow-up suggestions) or its error, and the earlier turns of a reopened
// conversation (question, SQL and row count: the server keeps no rows).

import { h, clear, icon } from './dom.js';
import { createResultTable } from './table.js';
import { chartKind, renderChart } from './chart.js';
import { highlightSql } from './sql_highlight.js';
import { createErrorBlock } from './errors.js';
import { formatNumber, formatRowCount } from './format.js';

const SOURCE_NAMES = {
  engine: 'Built-in engine',
  llm: 'Language model',
  cache: 'From cache',
};

/** Copies text to the clipboard; falls back to a selected textarea where the API is missing. */
async function copyText(text) {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (no permission, not focused): the fallback below may still work.
    }
  }
  const area = h('textarea', { class: 'copy-buffer', value: text, readOnly: true });
  area.setAttribute('aria-hidden', 'true');
  document.body.append(area);
  area.select();
  let done = false;
  try {
    done = document.execCommand('copy');
  } catch {
    done = false;
  }
  area.remove();
  return done;
}

// The SQL, collapsed to one highlighted line that opens to the whole statement.
function sqlBlock(sql) {
  const status = h('span', { class: 'copy-status', attrs: { 'aria-live': 'polite' } });
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-ghost copy-button',
      on: {
        click: async () => {
          const ok = await copyText(sql);
          status.textContent = ok ? 'Copied' : 'Copy failed: select the text instead';
          setTimeout(() => {
            status.textContent = '';
          }, 2500);
        },
      },
    },
    icon('copy'),
    h('span', { text: 'Copy' }),
  );
  const preview = highlightSql(sql.replace(/\s+/g, ' ').trim(), { layout: false });
  preview.className = 'sql-preview';
  preview.setAttribute('aria-hidden', 'true');
  return h(
    'details',
    { class: 'sql-block' },
    h('summary', {}, h('span', { class: 'summary-label', text: 'SQL' }), preview),
    h(
      'div',
      { class: 'sql-body' },
      h('div', { class: 'sql-tools' }, status, copy),
      h('pre', { class: 'sql-pre' }, highlightSql(sql)),
    ),
  );
}

function metaList(answer) {
  const items = [formatRowCount(answer.row_count ?? answer.rows?.length ?? 0)];
  if (answer.truncated) items.push('truncated');
  const source = answer.cache_hit ? 'cache' : answer.source;
  if (SOURCE_NAMES[source]) items.push(SOURCE_NAMES[source]);
  if (typeof answer.confidence === 'number' && answer.source === 'engine') {
    items.push(`confidence ${Math.round(answer.confidence * 100)}%`);
  }
  if (typeof answer.latency_ms === 'number')
    items.push(`${formatNumber(Math.round(answer.latency_ms))} ms`);
  return h(
    'ul',
    { class: 'meta', attrs: { 'aria-label': 'About this answer' } },
    items.map((t) => h('li', { text: t })),
  );
}

export class ConversationView {
  /**
   * root: the scrolling element that holds the turns. handlers: onAsk(question),
   * onFeedback(sessionId, turn, correct) -> Promise, onPickTable(table), announce(text).
   */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.list = h('ol', { class: 'turns', attrs: { 'aria-label': 'Conversation' } });
    this.reset();
  }

  /** Empties the view and shows the welcome. */
  reset() {
    clear(this.root);
    clear(this.list);
    this.welcome = h(
      'div',
      { class: 'welcome' },
      h('div', { class: 'welcome-icon' }, icon('chat')),
      h('h2', { text: 'Ask a question about your data' }),
      h('p', {
        text:
          'Name what you want to measure and how to break it down, for example ' +
          '“revenue by month” or “number of customers by country”. ' +
          'Follow up in plain words: “top 5 instead”, “only in Germany”.',
      }),
    );
    this.root.append(this.welcome, this.list);
  }

  hideWelcome() {
    this.welcome?.remove();
    this.welcome = null;
  }

  /** A notice between turns ("This conversation has expired ..."). */
  addNotice(text, kind = 'info') {
    this.hideWelcome();
    const item = h('li', {
      class: `notice-item notice notice-${kind}`,
      attrs: { role: 'status' },
      text,
    });
    this.list.append(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
  }

  /** A new turn for question, waiting for its answer. Returns its controller. */
  addQuestion(question) {
    this.hideWelcome();
    const answerSlot = h(
      'div',
      { class: 'answer pending', attrs: { 'aria-busy': 'true' } },
      h(
        'div',
        { class: 'thinking' },
        h('span', { class: 'dots', attrs: { 'aria-hidden': 'true' } }, h('i'), h('i'), h('i')),
        h('span', { text: 'Working on it…' }),
      ),
    );
    const item = h('li', { class: 'turn' }, this.questionBubble(question), answerSlot);
    this.list.append(item);
    item.scrollIntoView({ block: 'end' });
    return {
      element: item,
      showAnswer: (answer) => this.fillAnswer(item, answerSlot, question, answer),
      showError: (error) => this.fillError(item, answerSlot, question, error),
      remove: () => item.remove(),
    };
  }

  questionBubble(question, turnNumber) {
    return h(
      'div',
      { class: 'question' },
      h('span', { class: 'who', attrs: { 'aria-hidden': 'true' }, text: 'You' }),
      h('p', { class: 'question-text', text: question }),
      turnNumber ? h('span', { class: 'turn-number', text: `Turn ${turnNumber}` }) : null,
    );
  }

  fillAnswer(item, slot, question, answer) {
    const columns = Array.isArray(answer.columns) ? answer.columns : [];
    const rows = Array.isArray(answer.rows) ? answer.rows : [];
    item.dataset.sessionId = answer.session_id ?? '';
    item.dataset.turn = String(answer.turn ?? '');
    slot.classList.remove('pending');
    slot.removeAttribute('aria-busy');
    clear(slot);

    const chartArea = h('div', {
      class: 'chart',
      attrs: { role: 'img', 'aria-label': `Chart: ${answer.chart?.type ?? 'none'}` },
    });
    const note = typeof answer.chart?.note === 'string' ? answer.chart.note : '';
    const noteNode = note ? h('p', { class: 'chart-note', text: note }) : null;
    const kind = chartKind(answer.chart, columns, rows);
    const tablePanel = h(
      'div',
      { class: 'table-panel' },
      createResultTable(columns, rows, { truncated: answer.truncated === true }),
    );
    // Beside the chart: the table, the SQL, and the feedback and follow-ups.
    const side = h(
      'div',
      { class: 'answer-side' },
      kind === 'none' ? noteNode : null,
      tablePanel,
      typeof answer.sql === 'string' && answer.sql ? sqlBlock(answer.sql) : null,
      this.answerFooter(answer.session_id, answer.turn, answer.suggestions),
    );
    const chartPanel =
      kind === 'none' ? null : h('div', { class: 'chart-panel' }, chartArea, noteNode);
    // A few rows are shown whole; more scroll within the height the chart leaves.
    const fewRows = rows.length <= 6 ? ' few-rows' : '';
    const body = h('div', { class: `answer-body kind-${kind}${fewRows}` }, chartPanel, side);

    const head = h(
      'div',
      { class: 'answer-head' },
      h('p', { class: 'explanation', text: answer.explanation || 'Here is the answer.' }),
      metaList(answer),
      answer.cache_hit && answer.cached_question
        ? h('p', {
            class: 'cache-note',
            text: `Re-used the query of an earlier, similar question: “${answer.cached_question}”.`,
          })
        : null,
    );
    slot.append(head, body);
    item.scrollIntoView({ block: 'start' });
    this.handlers.announce?.(`Answer: ${answer.explanation ?? ''} ${formatRowCount(rows.length)}.`);
    if (!chartPanel) return Promise.resolve('none');
    // Drawn once the panel is in the page, so a chart sized to its container can measure it.
    return renderChart(chartArea, answer.chart, columns, rows).then((drawn) => {
      chartPanel.dataset.chart = drawn;
      if (drawn === 'error') body.classList.replace(`kind-${kind}`, 'kind-error');
      return drawn;
    });
  }

  answerFooter(sessionId, turn, suggestions) {
    const footer = h('div', { class: 'answer-foot' });
    if (sessionId && Number.isInteger(turn)) footer.append(this.feedback(sessionId, turn));
    const picks = Array.isArray(suggestions)
      ? suggestions.filter((s) => typeof s === 'string' && s)
      : [];
    if (picks.length > 0) {
      footer.append(
        h(
          'div',
          { class: 'suggestions' },
          h('span', { class: 'foot-label', text: 'Follow up:' }),
          h(
            'ul',
            { class: 'chip-list', attrs: { 'aria-label': 'Suggested follow-up questions' } },
            picks.map((s) =>
              h(
                'li',
                {},
                h('button', {
                  type: 'button',
                  class: 'chip chip-suggestion',
                  text: s,
                  on: { click: () => this.handlers.onAsk?.(s) },
                }),
              ),
            ),
          ),
        ),
      );
    }
    return footer;
  }

  feedback(sessionId, turn) {
    const status = h('span', { class: 'feedback-status', attrs: { role: 'status' } });
    const make = (correct) =>
      h(
        'button',
        {
          type: 'button',
          class: `btn btn-small btn-feedback ${correct ? 'is-correct' : 'is-wrong'}`,
          attrs: { 'aria-pressed': 'false' },
          on: { click: () => send(correct) },
        },
        icon(correct ? 'check' : 'cross'),
        h('span', { text: correct ? 'Correct' : 'Wrong' }),
      );
    const yes = make(true);
    const no = make(false);
    const send = async (correct) => {
      yes.disabled = true;
      no.disabled = true;
      status.textContent = 'Sending…';
      try {
        await this.handlers.onFeedback(sessionId, turn, correct);
        (correct ? yes : no).setAttribute('aria-pressed', 'true');
        (correct ? yes : no).classList.add('chosen');
        status.textContent = correct
          ? 'Marked correct: thank you. It helps answer similar questions.'
          : 'Marked wrong: thank you for telling us.';
        status.classList.add('done');
      } catch (e) {
        yes.disabled = false;
        no.disabled = false;
        status.textContent = `Could not send: ${e.message}`;
        status.classList.add('failed');
      }
    };
    return h(
      'div',
      { class: 'feedback', attrs: { role: 'group', 'aria-label': 'Was this answer right?' } },
      h('span', { class: 'foot-label', text: 'Is this right?' }),
      yes,
      no,
      status,
    );
  }

  fillError(item, slot, question, error) {
    slot.classList.remove('pending');
    slot.removeAttribute('aria-busy');
    slot.classList.add('failed');
    clear(slot);
    const { node, retryLine } = createErrorBlock(error, { onPickTable: this.handlers.onPickTable });
    slot.append(node);
    item.scrollIntoView({ block: 'start' });
    this.handlers.announce?.(`${node.querySelector('.error-title')?.textContent ?? 'Error'}.`);
    return { retryLine };
  }

  /** The kept turns of a reopened conversation (GET /api/v1/sessions/{id}). */
  showHistory(session) {
    this.hideWelcome();
    const turns = Array.isArray(session?.turns) ? session.turns : [];
    if (turns.length === 0) {
      this.addNotice('This conversation has no kept turns yet; ask a question to continue it.');
      return;
    }
    const first = turns[0]?.turn ?? 1;
    if (first > 1) {
      this.addNotice(
        `Earlier turns (1–${first - 1}) are no longer kept; the most recent ones are shown.`,
      );
    }
    for (const t of turns) {
      const rows = Number.isFinite(t.row_count) ? t.row_count : 0;
      const slot = h(
        'div',
        { class: 'answer history' },
        h(
          'div',
          { class: 'answer-head' },
          h(
            'p',
            { class: 'history-rows' },
            h('strong', { text: formatRowCount(rows) }),
            ' — results of earlier turns are not kept.',
          ),
          h('button', {
            type: 'button',
            class: 'btn btn-small',
            text: 'Ask again',
            on: { click: () => this.handlers.onAsk?.(t.question) },
          }),
        ),
        typeof t.sql === 'string' && t.sql ? sqlBlock(t.sql) : null,
        this.answerFooter(session.session_id, t.turn, []),
      );
      const item = h(
        'li',
        {
          class: 'turn is-history',
          dataset: { sessionId: session.session_id ?? '', turn: String(t.turn ?? '') },
        },
        this.questionBubble(String(t.question ?? ''), t.turn),
        slot,
      );
      this.list.append(item);
    }
    this.list.lastElementChild?.scrollIntoView({ block: 'end' });
    this.handlers.announce?.(
      `Reopened a conversation of ${turns.length} ${turns.length === 1 ? 'turn' : 'turns'}.`,
    );
  }
}
