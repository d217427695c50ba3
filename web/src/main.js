// The chat page: finds out whether the server wants a login, then wires the login form, the
// conversation, the question box and the list of earlier conversations to the API.

import './styles.css';
import { api, ApiError, probeAuthentication, tokenStore } from './api.js';
import { h, icon } from './dom.js';
import { LoginForm } from './login.js';
import { ConversationView } from './conversation.js';
import { SessionsList } from './sessions.js';
import { Composer } from './composer.js';
import { createErrorBlock } from './errors.js';

const SESSION_KEY = 'helios.session';
const EXPIRED_LOGIN = 'Your login has expired; please log in again.';
const EXPIRED_CONVERSATION = 'This conversation has expired; a new one has started.';
// Retry-After missing from a 429: wait this long.
const DEFAULT_RETRY_SECONDS = 5;

const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.authRequired = false;
    this.sessionId = null;
    this.viewUser = null; // whose conversation the view holds
    this.busy = false;
    this.viewGeneration = 0;

    this.bootView = $('boot');
    this.appView = $('app-view');
    this.announcer = $('announcer');
    this.login = new LoginForm($('login-view'), { onLogin: (u, p) => this.handleLogin(u, p) });
    this.conversation = new ConversationView($('conversation'), {
      onAsk: (q) => this.ask(q),
      onFeedback: (sessionId, turn, correct) => this.sendFeedback(sessionId, turn, correct),
      onPickTable: (table) => {
        this.composer.value = `how many ${table} are there`;
        this.composer.focus();
      },
      announce: (text) => this.announce(text),
    });
    this.sessions = new SessionsList($('sessions'), { onOpen: (id) => this.openSession(id) });
    this.composer = new Composer($('composer'), { onAsk: (q) => this.ask(q) });

    $('new-conversation').addEventListener('click', () => this.newConversation());
    $('logout').addEventListener('click', () => this.logout());
    $('skip-link').addEventListener('click', (e) => {
      e.preventDefault();
      this.composer.focus();
    });
    const toggle = $('sessions-toggle');
    toggle.append(icon('menu'));
    toggle.addEventListener('click', () =>
      this.setSidebar(!this.appView.classList.contains('sidebar-open')),
    );
    $('sidebar-close').addEventListener('click', () => this.setSidebar(false));
    $('scrim').addEventListener('click', () => this.setSidebar(false));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.appView.classList.contains('sidebar-open')) {
        this.setSidebar(false);
        toggle.focus();
      }
    });
    $('new-conversation').prepend(icon('plus'));
    $('logout').prepend(icon('logout'));
  }

  announce(text) {
    // Cleared first so that the same text twice is announced twice.
    this.announcer.textContent = '';
    setTimeout(() => {
      this.announcer.textContent = text;
    }, 50);
  }

  setSidebar(open) {
    this.appView.classList.toggle('sidebar-open', open);
    $('sessions-toggle').setAttribute('aria-expanded', String(open));
    if (open) $('sidebar').querySelector('button')?.focus();
  }

  async start() {
    let required;
    try {
      required = await probeAuthentication();
    } catch (e) {
      this.showBootError(e);
      return;
    }
    this.authRequired = required;
    this.bootView.hidden = true;
    if (!required) {
      tokenStore.clear();
      this.enterApp({ restore: true });
      return;
    }
    if (!tokenStore.token) {
      this.showLogin();
      return;
    }
    try {
      const list = await api.sessions();
      this.enterApp({ restore: true, sessions: list });
    } catch (e) {
      if (e.status === 401) {
        tokenStore.clear();
        this.showLogin(EXPIRED_LOGIN, 'warning');
      } else {
        this.enterApp({ restore: true });
      }
    }
  }

  showBootError(error) {
    this.bootView.hidden = false;
    this.bootView.replaceChildren(
      createErrorBlock(error).node,
      h('button', {
        type: 'button',
        class: 'btn',
        text: 'Try again',
        on: { click: () => window.location.reload() },
      }),
    );
  }

  showLogin(message = '', kind = 'info') {
    this.appView.hidden = true;
    this.composer.unlock();
    this.login.show(message, kind);
  }

  async handleLogin(username, password) {
    const reply = await api.login(username, password);
    if (!reply || typeof reply.token !== 'string') {
      throw new ApiError({ kind: 'http', status: 500, message: 'The server sent no token.' });
    }
    tokenStore.save(reply.token, username);
    this.login.hide();
    this.enterApp({ restore: false });
  }

  enterApp({ restore, sessions } = {}) {
    const user = this.authRequired ? tokenStore.user : null;
    $('user-name').textContent = user ? user : 'Demo (no login)';
    $('logout').hidden = !this.authRequired;
    const saved = restore ? sessionStorage.getItem(SESSION_KEY) : null;
    if (this.viewUser !== user) {
      // Another person's conversation is never shown to the next one.
      this.setSession(null);
      this.resetView();
      this.viewUser = user;
    }
    this.appView.hidden = false;
    this.bootView.hidden = true;
    if (sessions) this.sessions.render(sessions.sessions);
    else this.refreshSessions();
    if (saved && !this.sessionId) this.openSession(saved, { quiet: true });
    this.composer.focus();
  }

  // Empties the conversation view. An answer still on its way for the old view is then shown
  // nowhere and changes nothing (see ask()).
  resetView() {
    this.viewGeneration += 1;
    this.conversation.reset();
  }

  setSession(id) {
    this.sessionId = id;
    if (id) sessionStorage.setItem(SESSION_KEY, id);
    else sessionStorage.removeItem(SESSION_KEY);
    this.sessions.setActive(id);
  }

  async refreshSessions() {
    try {
      const list = await api.sessions();
      this.sessions.render(list?.sessions);
    } catch (e) {
      if (e.status === 401 && this.authRequired) this.loginExpired();
      else this.sessions.showMessage('Earlier conversations could not be loaded.');
    }
  }

  loginExpired() {
    tokenStore.clear();
    this.showLogin(EXPIRED_LOGIN, 'warning');
  }

  newConversation() {
    this.setSession(null);
    this.resetView();
    this.setSidebar(false);
    this.composer.value = '';
    this.composer.focus();
  }

  async openSession(id, { quiet = false } = {}) {
    this.setSidebar(false);
    try {
      const session = await api.session(id);
      this.resetView();
      this.setSession(session?.session_id || id);
      this.conversation.showHistory(session);
      this.composer.focus();
    } catch (e) {
      if (e.status === 401 && this.authRequired) {
        this.loginExpired();
      } else if (e.status === 404) {
        this.setSession(null);
        this.resetView();
        if (!quiet) this.conversation.addNotice(EXPIRED_CONVERSATION, 'warning');
        this.refreshSessions();
      } else {
        this.conversation.addNotice(`This conversation could not be opened: ${e.message}`, 'error');
      }
    }
  }

  async ask(question) {
    if (this.busy || this.composer.isLocked()) return;
    this.busy = true;
    this.composer.setBusy(true);
    this.composer.value = '';
    const turn = this.conversation.addQuestion(question);
    const generation = this.viewGeneration;
    try {
      const answer = await api.ask(question, this.sessionId);
      this.busy = false;
      this.composer.setBusy(false);
      if (generation !== this.viewGeneration) {
        // The person moved on (another conversation, a new one, logged out) meanwhile.
        if (tokenStore.token || !this.authRequired) this.refreshSessions();
        return;
      }
      this.setSession(answer.session_id);
      turn.showAnswer(answer);
      this.refreshSessions();
    } catch (e) {
      this.busy = false;
      this.composer.setBusy(false);
      if (generation !== this.viewGeneration) return;
      if (e.status === 401 && this.authRequired) {
        // Kept for after the login, which leaves the conversation as it was.
        turn.remove();
        this.composer.value = question;
        this.loginExpired();
        return;
      }
      const { retryLine } = turn.showError(e);
      if (e.status === 429) {
        const seconds = e.retryAfter ?? DEFAULT_RETRY_SECONDS;
        this.composer.lock(seconds, (left) => {
          retryLine.textContent =
            left > 0 ? `You can ask again in ${left} s.` : 'You can ask again now.';
        });
      }
      // Back in the box, to edit or to ask again.
      if (!this.composer.value) this.composer.value = question;
    } finally {
      if (!this.composer.isLocked()) this.composer.focus();
    }
  }

  async sendFeedback(sessionId, turn, correct) {
    try {
      await api.feedback(sessionId, turn, correct);
    } catch (e) {
      if (e.status === 401 && this.authRequired) this.loginExpired();
      throw e;
    }
  }

  logout() {
    tokenStore.clear();
    sessionStorage.clear();
    this.sessionId = null;
    this.viewUser = null;
    this.resetView();
    this.sessions.showMessage('No conversations yet.');
    this.showLogin('You have logged out.', 'info');
  }
}

function main() {
  const app = new App();
  app.start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
