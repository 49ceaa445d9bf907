// The web console in a real browser (headless chromium via playwright-core): sign in with the master key, the
// overview charts render from real traffic, logs filter and open, a virtual key is created and revoked, a provider
// key is set and removed, the models page lists prices, and a playground chat streams. Screenshots of each page are
// saved as artefacts (and to docs/console/ with CRUX_UPDATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const GATEWAY = process.env.CRUX_GATEWAY_URL;
const MASTER = process.env.CRUX_MASTER_KEY;
const ARTIFACTS = process.env.CRUX_BROWSER_ARTIFACTS;
const DOCS = process.env.CRUX_UPDATE_SCREENSHOTS === '1' ? process.env.CRUX_DOCS_DIR : null;

let browser;
let page;
const errors = [];

async function shot(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  if (DOCS) {
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, `${name}.png`), fullPage: true });
  }
}

/** Real traffic through the gateway (master key), so the overview and the logs have rows. */
async function traffic() {
  const call = (model, content) => fetch(`${GATEWAY}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  for (let i = 0; i < 6; i++) assert.equal((await call('openai/gpt-4o-mini', `hello ${i}`)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await call('anthropic/claude-3-5-haiku-latest', `bonjour ${i}`)).status, 200);
  // A streamed request, for the time-to-first-token chart.
  const streamed = await fetch(`${GATEWAY}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream' }] }),
  });
  assert.equal(streamed.status, 200);
  assert.match(await streamed.text(), /\[DONE\]/);
  // A failure for the error-rate chart and the status filter: the mock's scripted fault (a 400 is not retried).
  const bad = await call('openai/gpt-4o', 'fail [[mock status=400]]');
  assert.equal(bad.status, 400);
  // The write queue is asynchronous: wait until the logs are stored.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${GATEWAY}/api/logs?limit=20`, { headers: { authorization: `Bearer ${MASTER}` } });
    const { logs } = await r.json();
    if (logs.length >= 11) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail('the chat logs were not stored');
}

before(async () => {
  await traffic();
  browser = await chromium.launch({ executablePath: process.env.CRUX_CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  // The refusals the tests provoke (401 before sign-in and after logout, 403 without CSRF) are expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[13] /.test(m.text())) errors.push(m.text());
  });
});

after(async () => { await browser?.close(); });

test('the page is served with a strict CSP and no-store, assets with an ETag', async () => {
  const html = await fetch(`${GATEWAY}/ui`);
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type'), /^text\/html/);
  assert.equal(html.headers.get('cache-control'), 'no-store');
  assert.match(html.headers.get('content-security-policy'), /script-src 'self'/);
  const js = await fetch(`${GATEWAY}/ui/assets/app.js`);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const etag = js.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${GATEWAY}/ui/assets/app.js`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
});

test('a wrong key is refused, the master key signs in, the key is not kept in the page', async () => {
  await page.goto(`${GATEWAY}/ui`);
  await page.fill('#login-key', 'not-the-key');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#login-error:has-text("wrong master key")');
  await shot('login');
  await page.fill('#login-key', MASTER);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(MASTER), 'the master key is in the page storage');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'crux_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict');
});

test('the overview draws its charts from the traffic', async () => {
  await page.goto(`${GATEWAY}/ui#overview`);
  await page.waitForSelector('#charts .chart svg path.line');
  await page.waitForSelector('#charts .chart:has-text("Time to first token") circle');
  const charts = await page.locator('#charts .chart').count();
  assert.equal(charts, 6);
  const lines = await page.locator('#charts path.line').count();
  assert.ok(lines >= 6, `only ${lines} lines drawn`);
  const providers = await page.locator('#charts .chart:has-text("Tokens per provider") .legend').innerText();
  assert.match(providers, /openai/);
  assert.match(providers, /anthropic/);
  const requests = await page.locator('.stat:has-text("Requests") b').innerText();
  assert.ok(Number(requests.replace(/\D/g, '')) >= 10, `requests: ${requests}`);
  await shot('overview');
});

test('logs filter by provider and status, and a row opens the request', async () => {
  await page.goto(`${GATEWAY}/ui#logs`);
  await page.waitForSelector('#logs tbody tr');
  assert.ok((await page.locator('#logs tbody tr').count()) >= 10);
  await page.fill('#log-filters input[name=provider]', 'anthropic');
  await page.click('#log-filters button[type=submit]');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#logs tbody tr')];
    return rows.length === 3 && rows.every((r) => r.cells[1].textContent === 'anthropic');
  });
  await page.fill('#log-filters input[name=provider]', '');
  await page.selectOption('#log-filters select[name=status]', 'error');
  await page.click('#log-filters button[type=submit]');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#logs tbody tr')];
    return rows.length === 1 && rows[0].textContent.includes('error');
  });
  await page.selectOption('#log-filters select[name=status]', 'ok');
  await page.fill('#log-filters input[name=model]', 'gpt-4o-mini');
  await page.click('#log-filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#logs tbody tr').length === 7);
  await page.locator('#logs tbody tr').first().click();
  const detail = page.locator('#log-detail');
  await detail.waitFor();
  const text = await detail.innerText();
  assert.match(text, /openai\/gpt-4o-mini/);
  assert.match(text, /Usage: prompt \d+/);
  assert.match(text, /latency \d+ ms/);
  await shot('logs');
});

test('a virtual key is created with limits and revoked; a provider key is set and removed', async () => {
  await page.goto(`${GATEWAY}/ui#keys`);
  await page.waitForSelector('#provider-keys tbody tr');
  await page.fill('#create-key input[name=name]', 'browser-test');
  await page.fill('#create-key input[name=budget]', '2.5');
  await page.fill('#create-key input[name=rpm]', '30');
  await page.fill('#create-key input[name=models]', 'openai/gpt-4o-mini');
  await page.click('#create-key button[type=submit]');
  const secret = await page.locator('#new-key').innerText();
  assert.ok(secret.length > 20);
  const row = page.locator('#virtual-keys tr[data-name="browser-test"]');
  await row.waitFor();
  const rowText = await row.innerText();
  assert.match(rowText, /\$2\.50/);
  assert.match(rowText, /30/);
  assert.match(rowText, /active/);
  // The new key works as a client key until revoked.
  const use = () => fetch(`${GATEWAY}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal((await use()).status, 200);
  const groq = page.locator('#provider-keys tr[data-env="GROQ_API_KEY"]');
  await groq.locator('input').fill('gsk-browser-test-key');
  await groq.locator('button:has-text("Set")').click();
  await page.waitForSelector('#provider-keys tr[data-env="GROQ_API_KEY"] .badge.ok');
  assert.ok(!(await page.content()).includes('gsk-browser-test-key'), 'a provider key value is shown');
  await shot('keys');
  await page.locator('#provider-keys tr[data-env="GROQ_API_KEY"] button:has-text("Remove")').click();
  await page.waitForSelector('#provider-keys tr[data-env="GROQ_API_KEY"] .badge:not(.ok)');
  await row.locator('button:has-text("Revoke")').click();
  await page.waitForSelector('#virtual-keys tr[data-name="browser-test"]:has-text("revoked")');
  assert.equal((await use()).status, 401);
});

test('a state-changing call without the CSRF token is refused', async () => {
  const status = await page.evaluate(async () => (await fetch('/api/virtual-keys', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"csrf"}',
  })).status);
  assert.equal(status, 403);
});

test('the models page lists the registry with prices and validates defaults', async () => {
  await page.goto(`${GATEWAY}/ui#models`);
  await page.selectOption('#model-provider', 'openai');
  await page.waitForSelector('#models tbody tr:has-text("gpt-4o-mini")');
  const row = await page.locator('#models tbody tr:has-text("gpt-4o-mini")').first().innerText();
  assert.match(row, /\d+(\.\d+)?/);
  await page.click('#validate-defaults');
  await page.waitForSelector('#problems > *');
  await page.click('#refresh-models');
  await page.waitForSelector('.row .ok:has-text("refreshed"), .row .error');
  await shot('models');
});

test('the playground streams a chat with a system prompt', async () => {
  await page.goto(`${GATEWAY}/ui#playground`);
  await page.selectOption('#pg-provider', 'openai');
  await page.fill('#pg-model', 'gpt-4o-mini');
  await page.fill('#pg-system', 'You are terse.');
  await page.fill('#pg-input', 'stream please');
  await page.click('#pg-send');
  const reply = page.locator('#pg-chat .msg.assistant').last();
  await page.waitForSelector('#pg-chat .msg.assistant[data-chunks]');
  const text = await reply.innerText();
  assert.match(text, /stream please/);
  assert.ok(Number(await reply.getAttribute('data-chunks')) > 1, 'the reply arrived in several chunks');
  assert.match(await page.locator('#pg-meta').innerText(), /chunks/);
  await shot('playground');
});

test('logging out ends the session', async () => {
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  const status = await page.evaluate(async () => (await fetch('/api/virtual-keys')).status);
  assert.equal(status, 401);
  assert.deepEqual(errors, [], 'the page logged errors');
});
