// The question box: a labelled input in a real form (Enter asks), an Ask button, and a status
// line. It can be busy (an answer is on its way) or locked for a number of seconds (rate
// limited), counting down live.

import { h, icon } from './dom.js';

export class Composer {
  /** root: the composer's container. onAsk(question): the form was submitted. */
  constructor(root, { onAsk }) {
    this.onAsk = onAsk;
    this.busy = false;
    this.lockedUntil = 0;
    this.timer = null;
    this.tickListeners = new Set();
    this.input = h('input', {
      id: 'question',
      name: 'question',
      type: 'text',
      autocomplete: 'off',
      maxLength: 10000,
      placeholder: 'Ask a question, e.g. “revenue by month”',
      attrs: { 'aria-describedby': 'composer-status', enterkeyhint: 'send' },
    });
    this.button = h(
      'button',
      { type: 'submit', class: 'btn btn-primary ask-button' },
      h('span', { text: 'Ask' }),
      icon('send'),
    );
    this.status = h('p', {
      id: 'composer-status',
      class: 'composer-status',
      attrs: { 'aria-live': 'polite' },
    });
    this.form = h(
      'form',
      { class: 'composer-form', on: { submit: (e) => this.handleSubmit(e) } },
      h('label', {
        htmlFor: 'question',
        class: 'visually-hidden',
        text: 'Your question about the data',
      }),
      h('div', { class: 'composer-row' }, this.input, this.button),
      this.status,
    );
    root.append(this.form);
  }

  handleSubmit(event) {
    event.preventDefault();
    const question = this.input.value.trim();
    if (!question || this.busy || this.isLocked()) return;
    this.onAsk(question);
  }

  get value() {
    return this.input.value;
  }

  set value(text) {
    this.input.value = text;
  }

  focus() {
    this.input.focus();
  }

  isLocked() {
    return Date.now() < this.lockedUntil;
  }

  setBusy(busy) {
    this.busy = busy;
    this.refresh();
  }

  refresh() {
    const locked = this.isLocked();
    this.input.disabled = locked;
    this.button.disabled = locked || this.busy;
    this.form.classList.toggle('is-busy', this.busy);
    // While busy the pending turn says so; the status line is for the rate limit.
    this.status.textContent = locked ? `You can ask again in ${this.secondsLeft()} s.` : '';
  }

  secondsLeft() {
    return Math.max(0, Math.ceil((this.lockedUntil - Date.now()) / 1000));
  }

  /**
   * Disables asking for seconds, counting down in the status line; onTick(secondsLeft) is
   * called every second until 0 (for other places that show the countdown).
   */
  lock(seconds, onTick) {
    this.lockedUntil = Math.max(this.lockedUntil, Date.now() + seconds * 1000);
    if (onTick) this.tickListeners.add(onTick);
    const tick = () => {
      const left = this.secondsLeft();
      for (const listener of this.tickListeners) listener(left);
      this.refresh();
      if (left <= 0) {
        clearInterval(this.timer);
        this.timer = null;
        this.tickListeners.clear();
        this.lockedUntil = 0;
        this.refresh();
        this.input.focus();
      }
    };
    if (this.timer === null) this.timer = setInterval(tick, 1000);
    tick();
  }

  /** Ends a lock at once (e.g. on logout). */
  unlock() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.tickListeners.clear();
    this.lockedUntil = 0;
    this.refresh();
  }
}
