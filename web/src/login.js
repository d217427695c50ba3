// The login form, shown when the server has authentication on. It hands the username and
// password to onLogin and shows the error that comes back; it stores nothing itself.

import { h } from './dom.js';
import { errorTitle } from './errors.js';

export class LoginForm {
  /** root: the login view's container. onLogin(username, password) -> Promise. */
  constructor(root, { onLogin }) {
    this.root = root;
    this.onLogin = onLogin;
    this.username = h('input', {
      id: 'login-username',
      name: 'username',
      type: 'text',
      autocomplete: 'username',
      required: true,
      spellcheck: false,
      attrs: { autocapitalize: 'none' },
    });
    this.password = h('input', {
      id: 'login-password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    this.message = h('p', { class: 'login-message', attrs: { role: 'alert' } });
    this.submit = h('button', {
      type: 'submit',
      class: 'btn btn-primary btn-block',
      text: 'Sign in',
    });
    this.form = h(
      'form',
      { class: 'login-form', noValidate: false, on: { submit: (e) => this.handleSubmit(e) } },
      h(
        'div',
        { class: 'field' },
        h('label', { htmlFor: 'login-username', text: 'Username' }),
        this.username,
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { htmlFor: 'login-password', text: 'Password' }),
        this.password,
      ),
      this.message,
      this.submit,
    );
    root.append(
      h(
        'div',
        { class: 'login-card' },
        h(
          'div',
          { class: 'brand brand-large' },
          h('span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' } }),
          h('span', { class: 'brand-name', text: 'HeliosDB' }),
          h('span', { class: 'brand-product', text: 'Conversational BI' }),
        ),
        h('h1', { class: 'login-title', text: 'Sign in' }),
        h('p', { class: 'login-lead', text: 'Ask questions about your data in plain language.' }),
        this.form,
      ),
    );
  }

  /** Shows the form, with an optional message (e.g. "Your login has expired ..."). */
  show(message = '', kind = 'info') {
    this.root.hidden = false;
    this.setMessage(message, kind);
    this.password.value = '';
    this.submit.disabled = false;
    (this.username.value ? this.password : this.username).focus();
  }

  hide() {
    this.root.hidden = true;
  }

  setMessage(text, kind = 'error') {
    this.message.textContent = text;
    this.message.className = `login-message${text ? ` is-${kind}` : ''}`;
  }

  async handleSubmit(event) {
    event.preventDefault();
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.setMessage('Enter your username and password.');
      (username ? this.password : this.username).focus();
      return;
    }
    this.submit.disabled = true;
    this.setMessage('Signing in…', 'info');
    try {
      await this.onLogin(username, password);
      this.setMessage('');
    } catch (e) {
      let text;
      if (e.status === 401) text = 'That username and password do not match. Try again.';
      else if (e.status === 429) text = e.message;
      else if (e.kind === 'http' && e.status !== 503) text = `${errorTitle(e)}: ${e.message}`;
      else text = `${errorTitle(e)}.`;
      this.setMessage(text, 'error');
      this.password.value = '';
      this.password.focus();
    } finally {
      this.submit.disabled = false;
    }
  }
}
