// The web chat in a real browser against the real server: Debian's Chromium, driven by
// playwright-core, talks to heliosdb-conversational-bi serving the built page and the demo
// database. Each step asserts what a person would see, and saves a screenshot.
//
// Environment:
//   HELIOS_BINARY          the server binary (may be a sanitizer build)
//   HELIOS_WEB_ROOT        the built page (node web/build.mjs --outdir DIR)
//   HELIOS_SCREENSHOT_DIR  where the screenshots go (created when missing)
// Run: node --test tests/web/chat.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(new URL('../../web/package.json', import.meta.url));

const PASSWORD = 'a long enough password for the browser test';
const JWT_SECRET = 'a-browser-test-secret-that-is-longer-than-32-bytes';
const CHROMIUM = '/usr/bin/chromium';
const START_TIMEOUT_MS = 120_000; // a sanitizer build starts slowly (the schema, the lexicon)
const STEP_TIMEOUT_MS = 30_000;
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };

// Everything the suite needs from outside, checked before anything starts.
function environment() {
  const missing = ['HELIOS_BINARY', 'HELIOS_WEB_ROOT', 'HELIOS_SCREENSHOT_DIR'].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not set: HELIOS_BINARY is the server binary, HELIOS_WEB_ROOT the ` +
        'page built by `node web/build.mjs --outdir DIR`, HELIOS_SCREENSHOT_DIR where ' +
        'screenshots go',
    );
  }
  const binary = process.env.HELIOS_BINARY;
  const webRoot = process.env.HELIOS_WEB_ROOT;
  if (!existsSync(binary)) throw new Error(`HELIOS_BINARY: ${binary} does not exist`);
  if (!existsSync(join(webRoot, 'index.html'))) {
    throw new Error(`HELIOS_WEB_ROOT: no index.html in ${webRoot}; build it with web/build.mjs`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium fonts-dejavu-core`);
  }
  let playwright;
  try {
    playwright = require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: run `npm ci` in web/');
  }
  const screenshots = process.env.HELIOS_SCREENSHOT_DIR;
  mkdirSync(screenshots, { recursive: true });
  return { binary, webRoot, screenshots, chromium: playwright.chromium };
}

function run(binary, args, { cwd, input }) {
  const r = spawnSync(binary, args, { cwd, input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr || r.error}`);
  }
}

// The server in dir with config; resolves once its JSON log says "listening".
function startServer(binary, dir, config) {
  writeFileSync(join(dir, config.name), config.text);
  const child = spawn(binary, ['--config', config.name, 'serve'], {
    cwd: dir,
    env: { ...process.env, JWT_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" within ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.message === 'listening' && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // Not a JSON log line.
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${stderr}`));
    });
  });
  return { child, port };
}

// Holds an exclusive lock on the SQLite file through the sqlite3 shell, as a long write by
// another program would: the server's reads then fail with "busy" after its busy timeout, a
// real 503. Resolves to a function that releases the lock.
async function lockDatabase(path) {
  const shell = spawn('sqlite3', [path], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sqlite3 did not lock ${path}: ${out}`)), 20_000);
    shell.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
    shell.stderr.on('data', (d) => {
      out += d;
    });
    shell.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run sqlite3: ${e.message}`));
    });
    shell.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  });
  return () =>
    new Promise((resolve) => {
      const kill = setTimeout(() => shell.kill('SIGKILL'), 10_000);
      shell.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      shell.stdin.end('COMMIT;\n.quit\n');
    });
}

function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

test('the web chat, as a person uses it', { timeout: 170_000 }, async (t) => {
  const env = environment();
  const dir = mkdtempSync(join(tmpdir(), 'helios-web-test-'));
  const profile = mkdtempSync(join(tmpdir(), 'helios-web-profile-'));
  const servers = [];
  let context;
  try {
    run(env.binary, ['demo-data', join(dir, 'demo.db')], { cwd: dir });
    for (const [name, tenant] of [
      ['alice', 'acme'],
      ['tina', 'tiny'],
    ]) {
      run(
        env.binary,
        ['user', 'add', name, '--tenant', tenant, '--password-stdin', '--users-file', 'users.json'],
        {
          cwd: dir,
          input: `${PASSWORD}\n`,
        },
      );
    }
    // The port is read from the "listening" line of the JSON log.
    const common =
      `[database]\nurl = "sqlite://demo.db"\n[metrics]\nenabled = false\n` +
      `[logging]\nlevel = "info"\nformat = "json"\noutput = "stdout"\n`;
    const withAuth = startServer(env.binary, dir, {
      name: 'auth.toml',
      text:
        `[server]\nhost = "127.0.0.1"\nport = 0\nweb_root = ${JSON.stringify(env.webRoot)}\n` +
        `[auth]\nenabled = true\nusers_file = "users.json"\n` +
        common +
        // tina's tenant may ask one question a minute: the second is refused.
        `[production.rate_limiting.tenants.tiny]\nqueries_per_minute = 1\nburst_allowance = 1\n`,
    });
    const noAuth = startServer(env.binary, dir, {
      name: 'open.toml',
      text:
        `[server]\nhost = "127.0.0.1"\nport = 0\nweb_root = ${JSON.stringify(env.webRoot)}\n` +
        `[auth]\nenabled = false\n` +
        common,
    });
    servers.push(withAuth.child, noAuth.child);
    const [port, openPort] = await Promise.all([withAuth.port, noAuth.port]);
    const base = `http://127.0.0.1:${port}/`;
    const openBase = `http://127.0.0.1:${openPort}/`;

    context = await env.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
      viewport: DESKTOP,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: base.slice(0, -1),
    });

    // Nothing may leave the server's origin, on any page, for the whole run.
    const foreign = [];
    const pageErrors = [];
    const watch = (p) => {
      p.on('request', (r) => {
        const url = r.url();
        const ok =
          url.startsWith(base) || url.startsWith(openBase) || /^(data|blob|about):/.test(url);
        if (!ok) foreign.push(url);
      });
      p.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() !== 'error') return;
        if (/Content Security Policy|Refused to/i.test(m.text())) {
          pageErrors.push(`CSP: ${m.text()}`);
        }
        // The API's error replies are expected here; a page asset that fails to load is not.
        const url = m.location()?.url ?? '';
        if (/Failed to load resource/.test(m.text()) && !url.includes('/api/v1/')) {
          pageErrors.push(`${m.text()}: ${url}`);
        }
      });
    };
    context.pages().forEach(watch);
    context.on('page', watch);
    const page = context.pages()[0] ?? (await context.newPage());

    const shot = async (name) => {
      await page.screenshot({ path: join(env.screenshots, `${name}.png`) });
    };
    const lastTurn = () => page.locator('ol.turns > li.turn').last();
    // Asks through the question box; resolves when the turn shows its answer or error.
    const ask = async (question, { submit = 'enter' } = {}) => {
      const reply = page.waitForResponse(
        (r) =>
          r.url() === `${new URL(page.url()).origin}/api/v1/query` &&
          r.request().method() === 'POST',
      );
      await page.locator('#question').fill(question);
      if (submit === 'enter') await page.locator('#question').press('Enter');
      else await page.getByRole('button', { name: 'Ask' }).click();
      const response = await reply;
      const body = await response.json().catch(() => null);
      const turn = lastTurn();
      await turn.locator('.answer:not(.pending)').waitFor();
      return { response, body, turn };
    };
    const showWhole = async (turn) => {
      await turn.evaluate((node) => node.scrollIntoView({ block: 'start' }));
    };
    const cellTexts = (turn, column) =>
      turn.locator(`table.result-table tbody tr td:nth-child(${column})`).allTextContents();

    let firstSession = '';
    let sqlOfFirst = '';

    await t.test('the login form comes first when authentication is on', async () => {
      await page.goto(base);
      await page.locator('#login-view').waitFor();
      assert.equal(await page.getByLabel('Username').isVisible(), true);
      assert.equal(await page.getByLabel('Password').isVisible(), true);
      assert.equal(await page.locator('#app-view').isVisible(), false);
      await shot('login');
    });

    await t.test('a wrong password shows an error', async () => {
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('not the password');
      const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal((await refused).status(), 401);
      const message = page.locator('.login-message.is-error');
      await message.waitFor();
      assert.match(await message.textContent(), /do not match/);
      assert.equal(await page.locator('#app-view').isVisible(), false);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('helios.token')), null);
      await shot('login-wrong-password');
    });

    await t.test('logging in opens the chat and keeps the token for the tab', async () => {
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#app-view').waitFor();
      assert.equal(await page.locator('#login-view').isVisible(), false);
      assert.equal(await page.locator('#user-name').textContent(), 'alice');
      const token = await page.evaluate(() => sessionStorage.getItem('helios.token'));
      assert.match(token ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(await page.locator('.welcome').isVisible(), true);
      await shot('welcome');
    });

    await t.test('revenue by month: a table, a line chart, the SQL', async () => {
      const { body, turn } = await ask('revenue by month');
      assert.equal(body.turn, 1);
      firstSession = body.session_id;
      sqlOfFirst = body.sql;
      assert.equal(await turn.locator('.question-text').textContent(), 'revenue by month');
      assert.equal(await turn.locator('.explanation').textContent(), body.explanation);
      // 36 months: 25 on the first page.
      assert.equal(body.rows.length, 36);
      assert.equal(await turn.locator('table.result-table tbody tr').count(), 25);
      assert.equal(await turn.locator('.page-range').textContent(), 'Rows 1–25 of 36');
      const firstRow = await turn
        .locator('table.result-table tbody tr')
        .first()
        .locator('td')
        .allTextContents();
      assert.equal(firstRow[0], 'Jan 2023');
      assert.equal(firstRow[1], decimal.format(body.rows[0][1]));
      // The chart: Vega's SVG with the line mark's path.
      const line = turn.locator('.chart svg g.mark-line path');
      await line.first().waitFor();
      assert.ok((await line.first().getAttribute('d')).length > 20);
      // The SQL: one highlighted line that opens to the whole statement, copyable as sent.
      const sql = turn.locator('details.sql-block');
      assert.equal(await sql.evaluate((d) => d.open), false);
      assert.equal(await sql.locator('summary .sql-preview').isVisible(), true);
      assert.ok((await sql.locator('summary .tok-keyword').allTextContents()).includes('SELECT'));
      assert.equal(await sql.locator('pre').isVisible(), false);
      await sql.locator('summary').click();
      assert.equal(await sql.evaluate((d) => d.open), true);
      assert.equal(await sql.locator('pre').isVisible(), true);
      const shown = await sql.locator('code.sql').textContent();
      assert.equal(shown.replace(/\s+/g, ' '), body.sql.replace(/\s+/g, ' '));
      assert.match(shown, /\nFROM orders\nGROUP BY /, 'one clause per line');
      assert.ok((await sql.locator('code.sql .tok-keyword').allTextContents()).includes('SELECT'));
      assert.ok((await sql.locator('code.sql .tok-function').count()) > 0);
      assert.ok((await sql.locator('code.sql .tok-string').count()) > 0);
      await sql.getByRole('button', { name: 'Copy' }).click();
      await sql.locator('.copy-status', { hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), body.sql);
      await shot('sql-open');
      await sql.locator('summary').click();
      assert.equal(await sql.evaluate((d) => d.open), false);
      assert.equal(await sql.locator('pre').isVisible(), false);
      await showWhole(turn);
      await shot('line-chart');
    });

    await t.test('the table sorts by a column and pages', async () => {
      const turn = lastTurn();
      const header = turn.getByRole('button', { name: /sum total amount/i });
      await header.click();
      // Numbers sort numerically, largest first on the first click.
      const values = (await cellTexts(turn, 2)).map((s) => Number(s.replace(/,/g, '')));
      const sortedDesc = [...values].sort((a, b) => b - a);
      assert.deepEqual(values, sortedDesc);
      assert.equal(await turn.locator('th').nth(1).getAttribute('aria-sort'), 'descending');
      assert.equal((await cellTexts(turn, 1))[0], 'Dec 2025');
      await header.click();
      const ascending = (await cellTexts(turn, 2)).map((s) => Number(s.replace(/,/g, '')));
      assert.deepEqual(
        ascending,
        [...ascending].sort((a, b) => a - b),
      );
      assert.equal((await cellTexts(turn, 1))[0], 'Feb 2023');
      await turn.getByRole('button', { name: /month/i }).click();
      assert.deepEqual((await cellTexts(turn, 1)).slice(0, 3), [
        'Jan 2023',
        'Feb 2023',
        'Mar 2023',
      ]);
      await shot('table-sorted');
      await turn.getByRole('button', { name: 'Next' }).click();
      assert.equal(await turn.locator('.page-range').textContent(), 'Rows 26–36 of 36');
      assert.equal(await turn.locator('table.result-table tbody tr').count(), 11);
      assert.equal((await cellTexts(turn, 1))[0], 'Feb 2025');
      assert.equal(await turn.getByRole('button', { name: 'Next' }).isDisabled(), true);
      await turn.getByRole('button', { name: 'Previous' }).click();
      assert.equal(await turn.locator('.page-range').textContent(), 'Rows 1–25 of 36');
    });

    let barTurn;
    await t.test('customers by country: a bar chart', async () => {
      const { body, turn } = await ask('number of customers by country');
      barTurn = turn;
      assert.equal(body.session_id, firstSession);
      assert.equal(body.rows.length, 18);
      const bars = turn.locator('.chart svg g.mark-rect path');
      await bars.first().waitFor();
      assert.ok((await bars.count()) > 5, `${await bars.count()} bars`);
      assert.equal(await turn.locator('.page-range').textContent(), '18 rows');
      await showWhole(turn);
      await shot('bar-chart');
    });

    await t.test('a follow-up refines the previous answer in the same conversation', async () => {
      const suggestion = barTurn.locator('.chip-suggestion', { hasText: /top 5/i });
      let result;
      if ((await suggestion.count()) > 0) {
        const reply = page.waitForResponse((r) => r.url().endsWith('/api/v1/query'));
        await suggestion.first().click();
        const response = await reply;
        const turn = lastTurn();
        await turn.locator('.answer:not(.pending)').waitFor();
        result = { body: await response.json(), turn };
      } else {
        result = await ask('top 5 instead');
      }
      const { body, turn } = result;
      assert.equal(body.session_id, firstSession);
      assert.equal(body.turn, 3);
      assert.match(body.sql, /LIMIT 5\b/i);
      assert.equal(await turn.locator('table.result-table tbody tr').count(), 5);
      assert.match(await turn.locator('code.sql').textContent(), /LIMIT 5/);
      assert.equal(await turn.getAttribute('data-session-id'), firstSession);
      await showWhole(turn);
      await shot('follow-up');
    });

    await t.test('marking an answer correct is acknowledged', async () => {
      const turn = lastTurn();
      const sent = page.waitForResponse((r) => r.url().endsWith('/api/v1/feedback'));
      await turn.getByRole('button', { name: 'Correct' }).click();
      const response = await sent;
      assert.equal(response.status(), 204);
      assert.deepEqual(JSON.parse(response.request().postData()), {
        session_id: firstSession,
        turn: 3,
        correct: true,
      });
      await turn.locator('.feedback-status.done').waitFor();
      assert.match(await turn.locator('.feedback-status').textContent(), /Marked correct/);
      assert.equal(
        await turn.getByRole('button', { name: 'Correct' }).getAttribute('aria-pressed'),
        'true',
      );
      assert.equal(await turn.getByRole('button', { name: 'Wrong' }).isDisabled(), true);
      await turn.locator('.answer-foot').scrollIntoViewIfNeeded();
      await shot('feedback');
    });

    await t.test('a question the engine cannot understand explains itself', async () => {
      const { response, turn } = await ask('what is the weather like');
      assert.equal(response.status(), 422);
      const block = turn.locator('.error-block');
      assert.equal(
        await block.locator('.error-title').textContent(),
        "I couldn't turn that into a query",
      );
      assert.match(await block.locator('.error-message').textContent(), /weather/);
      assert.match(await block.locator('.unknown-word').first().textContent(), /weather/);
      const tables = await block.locator('.table-picks button').allTextContents();
      for (const table of ['customers', 'orders', 'products'])
        assert.ok(tables.includes(table), tables.join());
      await block.getByRole('button', { name: 'customers' }).click();
      assert.equal(await page.locator('#question').inputValue(), 'how many customers are there');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'question');
      await showWhole(turn);
      await shot('not-understood');
    });

    await t.test('a 503 says the service is unavailable', async () => {
      // Real: another program holds the database locked, so the server's read fails with
      // "busy" (503) after its busy timeout; the lock is released afterwards.
      const release = await lockDatabase(join(dir, 'demo.db'));
      let turn;
      let response;
      try {
        ({ turn, response } = await ask('how many orders are there'));
      } finally {
        await release();
      }
      assert.equal(response.status(), 503);
      assert.equal(
        await turn.locator('.error-title').textContent(),
        'The service is unavailable right now; try again in a moment',
      );
      assert.match(await turn.locator('.error-message').textContent(), /busy/);
      assert.equal(await page.locator('#question').inputValue(), 'how many orders are there');
      await shot('unavailable');
    });

    await t.test('a network failure says the server cannot be reached', async () => {
      // Simulated: the request is failed by the browser as if the connection dropped.
      await page.route('**/api/v1/query', (route) => route.abort('connectionrefused'), {
        times: 1,
      });
      await page.locator('#question').fill('how many orders are there');
      await page.locator('#question').press('Enter');
      const turn = lastTurn();
      await turn.locator('.error-block').waitFor();
      assert.equal(await turn.locator('.error-title').textContent(), 'Could not reach the server');
      await page.unrouteAll();
    });

    let secondSession = '';
    await t.test('a new conversation, then the first one reopened from the list', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      assert.equal(await page.locator('ol.turns > li').count(), 0);
      assert.equal(await page.locator('.welcome').isVisible(), true);
      const { body, turn } = await ask('how many orders are there');
      assert.equal(body.turn, 1);
      assert.notEqual(body.session_id, firstSession);
      secondSession = body.session_id;
      // A single value is a figure with its column's name.
      await turn.locator('.figure-value').waitFor();
      assert.equal(
        await turn.locator('.figure-value').textContent(),
        decimal.format(body.rows[0][0]),
      );
      await shot('number');
      const entry = page.locator(`.session-button[data-session-id="${firstSession}"]`);
      await entry.waitFor();
      assert.match(await entry.locator('.session-title').textContent(), /top 5/i);
      assert.match(await entry.locator('.session-meta').textContent(), /3 questions/);
      const opened = page.waitForResponse((r) =>
        r.url().endsWith(`/api/v1/sessions/${firstSession}`),
      );
      await entry.click();
      assert.equal((await opened).status(), 200);
      const turns = page.locator('ol.turns > li.turn');
      await turns.first().waitFor();
      assert.equal(await turns.count(), 3);
      const questions = await turns.locator('.question-text').allTextContents();
      assert.deepEqual(questions.slice(0, 2), [
        'revenue by month',
        'number of customers by country',
      ]);
      assert.match(questions[2], /top 5/i);
      assert.match(await turns.nth(0).locator('.history-rows').textContent(), /^36 rows/);
      assert.match(await turns.nth(1).locator('.history-rows').textContent(), /^18 rows/);
      assert.match(await turns.nth(2).locator('.history-rows').textContent(), /^5 rows/);
      await turns.nth(0).locator('details.sql-block summary').click();
      assert.equal(
        (await turns.nth(0).locator('code.sql').textContent()).replace(/\s+/g, ' '),
        sqlOfFirst.replace(/\s+/g, ' '),
      );
      assert.equal(await entry.getAttribute('aria-current'), 'true');
      await shot('reopened');
      // And it goes on: the next question is its fourth turn.
      const next = await ask('top 3 instead');
      assert.equal(next.body.session_id, firstSession);
      assert.equal(next.body.turn, 4);
      assert.equal(await next.turn.locator('table.result-table tbody tr').count(), 3);
    });

    await t.test('an expired conversation says so and starts a new one', async () => {
      const token = await page.evaluate(() => sessionStorage.getItem('helios.token'));
      const gone = await page.request.delete(`${base}api/v1/sessions/${secondSession}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.ok(gone.ok(), `DELETE answered ${gone.status()}`);
      // The list still shows it (it was loaded before); choosing it meets the server's 404.
      await page.locator(`.session-button[data-session-id="${secondSession}"]`).click();
      const notice = page.locator('.notice-item', { hasText: 'This conversation has expired' });
      await notice.waitFor();
      assert.equal(await page.locator('ol.turns > li.turn').count(), 0);
      await page
        .locator(`.session-button[data-session-id="${secondSession}"]`)
        .waitFor({ state: 'detached' });
      await shot('conversation-expired');
    });

    await t.test('an expired login asks to log in again and keeps the question', async () => {
      await page.locator(`.session-button[data-session-id="${firstSession}"]`).click();
      await page.locator('ol.turns > li.turn').first().waitFor();
      // A token the server does not accept (as an expired one is not): a real 401.
      await page.evaluate(() =>
        sessionStorage.setItem(
          'helios.token',
          'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.bm90LWEtdmFsaWQtc2lnbmF0dXJl',
        ),
      );
      await page.locator('#question').fill('top 2 instead');
      const reply = page.waitForResponse((r) => r.url().endsWith('/api/v1/query'));
      await page.locator('#question').press('Enter');
      assert.equal((await reply).status(), 401);
      await page.locator('#login-view').waitFor();
      assert.equal(
        await page.locator('.login-message').textContent(),
        'Your login has expired; please log in again.',
      );
      assert.equal(await page.evaluate(() => sessionStorage.getItem('helios.token')), null);
      await shot('login-expired');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#app-view').waitFor();
      // The conversation and the unanswered question are still there.
      assert.equal(await page.locator('#question').inputValue(), 'top 2 instead');
      assert.equal(await page.locator('ol.turns > li.turn').count(), 4);
      // A reload with a bad token: the same message, from the start-up check.
      await page.evaluate(() => sessionStorage.setItem('helios.token', 'not-a-token'));
      await page.reload();
      await page.locator('.login-message', { hasText: 'Your login has expired' }).waitFor();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#app-view').waitFor();
    });

    await t.test('the keyboard alone: Tab to the question box, Enter asks', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      await page.evaluate(() => document.activeElement?.blur());
      await page.locator('body').press('Tab');
      let focusedOutline = null;
      for (let i = 0; i < 60; i += 1) {
        const id = await page.evaluate(() => document.activeElement?.id ?? '');
        if (id === 'question') break;
        if (id === 'new-conversation') {
          focusedOutline = await page.evaluate(
            () => getComputedStyle(document.activeElement).outlineStyle,
          );
        }
        await page.keyboard.press('Tab');
      }
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'question');
      assert.equal(focusedOutline, 'solid', 'a focused button shows a visible outline');
      const reply = page.waitForResponse((r) => r.url().endsWith('/api/v1/query'));
      await page.keyboard.type('how many customers are there');
      await page.keyboard.press('Enter');
      assert.equal((await reply).status(), 200);
      const turn = lastTurn();
      await turn.locator('.figure-value').waitFor();
      await page.waitForFunction(() =>
        document.getElementById('announcer').textContent.startsWith('Answer:'),
      );
      await shot('keyboard');
    });

    await t.test('on a phone the page fits and the list hides behind a button', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      await ask('number of customers by country');
      await page.setViewportSize(PHONE);
      const turn = lastTurn();
      await turn.locator('.chart svg').waitFor();
      // The chart follows its container's new width (Vega listens for the resize).
      await page.waitForFunction(
        () => {
          const svg = document.querySelector('ol.turns > li.turn:last-child .chart svg');
          const box = svg.closest('.chart').getBoundingClientRect();
          return svg.getBoundingClientRect().width <= box.width + 1;
        },
        null,
        { timeout: 5_000 },
      );
      const chartBox = await turn.locator('.chart svg').boundingBox();
      assert.ok(
        chartBox.x >= 0 && chartBox.x + chartBox.width <= PHONE.width,
        JSON.stringify(chartBox),
      );
      const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
      assert.ok(width <= PHONE.width, `scrollWidth ${width}`);
      const innerWidest = await page.evaluate(() => {
        const c = document.getElementById('conversation');
        return c.scrollWidth - c.clientWidth;
      });
      assert.ok(innerWidest <= 0, `the conversation scrolls sideways by ${innerWidest}px`);
      await turn.locator('.explanation').scrollIntoViewIfNeeded();
      assert.equal(await turn.locator('.explanation').isVisible(), true);
      // The list slides out of view (a short transition) and waits behind its button.
      await page.locator('#sidebar').waitFor({ state: 'hidden', timeout: 5_000 });
      const toggle = page.locator('#sessions-toggle');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await shot('phone');
      await toggle.click();
      await page.locator('#sidebar .session-button').first().waitFor({ state: 'visible' });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await page.waitForFunction(
        () => getComputedStyle(document.getElementById('sidebar')).transform === 'none',
      );
      await shot('phone-conversations');
      await page.keyboard.press('Escape');
      await page.locator('#sidebar').waitFor({ state: 'hidden' });
      await page.setViewportSize(DESKTOP);
    });

    await t.test('a long result: the truncation notice, NULL markers, readable dates', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      const { body, turn } = await ask('list all customers');
      assert.equal(body.truncated, true);
      assert.equal(body.chart.type, 'table');
      assert.equal(await turn.locator('.chart-panel').count(), 0, 'a table has no chart');
      assert.equal(
        await turn.locator('.notice-warning').textContent(),
        `Showing the first ${decimal.format(body.rows.length)} rows; the result had more.`,
      );
      assert.equal(
        await turn.locator('.page-range').textContent(),
        `Rows 1–25 of ${decimal.format(body.rows.length)}`,
      );
      // Dates as people write them, not ISO.
      const dateColumn = body.columns.indexOf('signup_date');
      assert.ok(dateColumn >= 0, body.columns.join());
      const readable = new Intl.DateTimeFormat('en-US', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        timeZone: 'UTC',
      }).format(Date.parse(`${body.rows[0][dateColumn]}T00:00:00Z`));
      assert.equal((await cellTexts(turn, dateColumn + 1))[0], readable);
      // The first page with a NULL shows each one as the NULL marker.
      const firstNull = body.rows.findIndex((row) => row.includes(null));
      assert.ok(firstNull >= 0, 'the demo has NULL cells');
      const pageOfNull = Math.floor(firstNull / 25);
      for (let i = 0; i < pageOfNull; i += 1) {
        await turn.getByRole('button', { name: 'Next' }).click();
      }
      const shown = body.rows.slice(pageOfNull * 25, pageOfNull * 25 + 25);
      const nulls = shown.reduce((n, row) => n + row.filter((c) => c === null).length, 0);
      assert.equal(await turn.locator('td .null-marker').count(), nulls);
      assert.equal(await turn.locator('td .null-marker').first().textContent(), 'NULL');
      // A wide table scrolls within its box; the page itself never sideways.
      assert.ok((await page.evaluate(() => document.scrollingElement.scrollWidth)) <= 1280);
      await showWhole(turn);
      await shot('truncated');
    });

    await t.test('too many questions: the retry time counts down and asking waits', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.locator('#login-view').waitFor();
      await page.getByLabel('Username').fill('tina');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#app-view').waitFor();
      // Another user sees none of alice's conversations.
      assert.equal(await page.locator('.session-button').count(), 0);
      const first = await ask('how many products are there');
      assert.equal(first.response.status(), 200);
      const { response, turn } = await ask('how many orders are there');
      assert.equal(response.status(), 429);
      const retryAfter = Number(response.headers()['retry-after']);
      assert.ok(retryAfter > 2, `Retry-After ${retryAfter}`);
      assert.equal(await turn.locator('.error-title').textContent(), 'Too many questions for now');
      const line = turn.locator('.retry-line');
      const seconds = async () =>
        Number((await line.textContent()).match(/ask again in (\d+) s/)[1]);
      const before = await seconds();
      assert.ok(before > 0 && before <= retryAfter, `${before} s`);
      assert.equal(await page.locator('#question').isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Ask' }).isDisabled(), true);
      assert.match(
        await page.locator('#composer-status').textContent(),
        /You can ask again in \d+ s/,
      );
      await shot('rate-limited');
      await page.waitForFunction(
        (b) =>
          Number((document.querySelector('.retry-line')?.textContent.match(/(\d+) s/) ?? [])[1]) <
          b,
        before,
        { timeout: 5_000 },
      );
    });

    await t.test('logging out shows the login form and forgets the token', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.locator('#login-view').waitFor();
      assert.equal(await page.locator('#app-view').isVisible(), false);
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.equal(await page.locator('.login-message').textContent(), 'You have logged out.');
      await shot('logged-out');
      // A reload does not bring the chat back.
      await page.reload();
      await page.locator('#login-view').waitFor();
    });

    await t.test('with authentication off there is no login form', async () => {
      await page.goto(openBase);
      await page.locator('#app-view').waitFor();
      assert.equal(await page.locator('#login-view').isVisible(), false);
      assert.equal(await page.locator('#logout').isVisible(), false);
      const { response, turn } = await ask('how many customers are there', { submit: 'button' });
      assert.equal(response.status(), 200);
      await turn.locator('.figure-value').waitFor();
      assert.equal(response.request().headers().authorization, undefined);
      await shot('auth-off');
    });

    await t.test('nothing left the origin and the page raised no error', () => {
      assert.deepEqual(foreign, []);
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    if (context) await context.close().catch(() => {});
    await Promise.all(servers.map(stopServer));
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
