// The list of this user's earlier conversations (GET /api/v1/sessions), newest first; choosing
// one reopens it.

import { h, clear } from './dom.js';
import { formatRelativeTime } from './format.js';

export class SessionsList {
  /** root: the list's container. onOpen(sessionId): a conversation was chosen. */
  constructor(root, { onOpen }) {
    this.root = root;
    this.onOpen = onOpen;
    this.activeId = null;
    this.items = [];
    this.showMessage('No conversations yet.');
  }

  showMessage(text) {
    clear(this.root);
    this.root.append(h('p', { class: 'sessions-empty', text }));
  }

  /** Shows sessions ([{session_id, turn_count, database, last_question, updated_at}]). */
  render(sessions) {
    const sorted = (Array.isArray(sessions) ? sessions : [])
      .filter((s) => s && typeof s.session_id === 'string')
      .sort((a, b) => (Date.parse(b.updated_at) || 0) - (Date.parse(a.updated_at) || 0));
    this.items = sorted;
    if (sorted.length === 0) {
      this.showMessage('No conversations yet.');
      return;
    }
    clear(this.root);
    const list = h('ul', { class: 'sessions' });
    for (const s of sorted) {
      const when = Date.parse(s.updated_at);
      const turns = Number.isFinite(s.turn_count) ? s.turn_count : 0;
      const meta = [`${turns} ${turns === 1 ? 'question' : 'questions'}`];
      if (!Number.isNaN(when)) meta.push(formatRelativeTime(when));
      if (s.database && s.database !== 'default') meta.push(s.database);
      const button = h(
        'button',
        {
          type: 'button',
          class: 'session-button',
          dataset: { sessionId: s.session_id },
          on: { click: () => this.onOpen(s.session_id) },
        },
        h('span', { class: 'session-title', text: s.last_question || 'Untitled conversation' }),
        h('span', { class: 'session-meta', text: meta.join(' · ') }),
      );
      if (!Number.isNaN(when)) button.title = new Date(when).toLocaleString();
      list.append(h('li', {}, button));
    }
    this.root.append(list);
    this.setActive(this.activeId);
  }

  /** Marks the conversation being shown (null: a new one). */
  setActive(sessionId) {
    this.activeId = sessionId;
    for (const button of this.root.querySelectorAll('.session-button')) {
      const active = button.dataset.sessionId === sessionId;
      button.classList.toggle('active', active);
      if (active) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  }
}
