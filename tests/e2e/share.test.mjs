// Sharing a session by URL: stop the node exporter, step three minutes, add a silence, Share;
// the URL opened in a new page replays the session: the same virtual time, up == 0 for the node
// exporter, the same email in the Inbox, the silence in Silences, the clock paused. A damaged
// session URL shows a banner and the playground starts fresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath, watchProblems, virtualTime } from './harness.mjs';

let server;
let browser;
const problems = []; // console errors and uncaught page errors, on every page

function watch(page) {
  watchProblems(page, problems);
  return page;
}

before(async () => {
  server = await serveDist();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function waitForTime(page, t) {
  await page.waitForFunction(
    (b) => {
      const s = document.querySelector('[data-testid="virtual-time"]').innerText;
      return Date.parse(s.replace(' UTC', 'Z').replace(' ', 'T')) >= b;
    },
    t,
    { timeout: 60000 },
  );
}

/** What the Inbox, Silences and Query pages show (the state a shared URL must reproduce). */
async function observe(page) {
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  const rows = page.getByTestId('inbox-row');
  await rows.first().waitFor();
  const inbox = [];
  for (const r of await rows.all()) {
    inbox.push([await r.getByTestId('inbox-time').innerText(), await r.getByTestId('inbox-subject').textContent()]);
  }
  await page.getByRole('link', { name: 'Silences', exact: true }).click();
  const srows = page.getByTestId('silence-row');
  await srows.first().waitFor();
  const silences = [];
  for (const r of await srows.all()) {
    silences.push([
      await r.getByTestId('silence-matchers-shown').innerText(),
      await r.getByTestId('silence-state').innerText(),
      await r.getByTestId('silence-mutes').innerText(),
    ]);
  }
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('query-input').fill('up == 0');
  await page.getByTestId('execute').click();
  const r = page.locator('[data-testid="result-table"] tr');
  await r.first().waitFor();
  const down = await r.allInnerTexts();
  return { time: await page.getByTestId('virtual-time').innerText(), inbox, silences, down };
}

test('a shared URL replays the session: time, up == 0, the email, the silence', async () => {
  const page = watch(browser.context.pages()[0] ?? (await browser.context.newPage()));
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const node = page.locator('[data-testid="target-row"][data-address="localhost:9100"]');
  await node.getByTestId('target-state').filter({ hasText: 'UP' }).waitFor();
  await page.getByTestId('clock-toggle').click(); // pause
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'play');
  const stopAt = await virtualTime(page);
  await node.getByTestId('target-stop').click();
  for (let i = 0; i < 18; i++) await page.getByTestId('clock-step').click();
  await waitForTime(page, stopAt + 180_000);
  await node.getByTestId('target-state').filter({ hasText: 'DOWN' }).waitFor();

  await page.getByRole('link', { name: 'Silences', exact: true }).click();
  await page.getByTestId('silence-matchers').fill('alertname="InstanceDown", instance=~"localhost.*"');
  await page.getByTestId('silence-end').fill('2h');
  await page.getByTestId('silence-comment').fill('shared');
  await page.getByTestId('silence-add').click();
  await page.getByTestId('silence-row').first().waitFor();

  const original = await observe(page);
  assert.deepEqual(original.down, ['up{instance="localhost:9100", job="node"}\t0']);
  assert.equal(original.inbox.length, 1);
  assert.equal(original.inbox[0][1], '[FIRING:1]  (InstanceDown localhost:9100 node)');
  assert.equal(original.silences.length, 1);
  assert.equal(original.silences[0][1], 'active');

  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').inputValue();
  console.log(`shared URL: ${url.length} characters`);
  assert.match(url, /\?session=v1\.[A-Za-z0-9_-]+\.[0-9a-f]{16}#\/query$/);
  assert.ok(url.length < 1000, `${url.length}`);
  await page.screenshot({ path: await artifactPath('share.png'), fullPage: true });

  // A new page opens the URL and reproduces the session.
  const other = watch(await browser.context.newPage());
  await other.goto(url);
  await other.getByTestId('session-replayed').waitFor({ timeout: 60000 });
  assert.equal(await other.getByTestId('session-replaying').count(), 0);
  assert.equal(await other.getByTestId('virtual-time').innerText(), original.time);
  assert.equal(await other.getByTestId('clock-toggle').innerText(), 'play', 'paused after the replay');
  const replayed = await observe(other);
  assert.deepEqual(replayed, original);
  await other.getByRole('link', { name: 'Targets', exact: true }).click();
  const n2 = other.locator('[data-testid="target-row"][data-address="localhost:9100"]');
  assert.equal(await n2.getByTestId('target-state').innerText(), 'DOWN');
  await other.screenshot({ path: await artifactPath('share-replayed.png'), fullPage: true });
  // Still paused: nothing moved while we looked.
  assert.equal(await other.getByTestId('virtual-time').innerText(), original.time);
  await other.close();
});

async function table(page, q) {
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('query-input').fill(q);
  await page.getByTestId('execute').click();
  const r = page.locator('[data-testid="result-table"] tr');
  await r.first().waitFor();
  await page.waitForTimeout(100);
  return r.allInnerTexts();
}

test('a day-long session replays in slices with its progress, to the same samples', async () => {
  const page = watch(await browser.context.newPage());
  await page.goto(server.url);
  await page.getByTestId('clock-toggle').click(); // pause
  const start = await virtualTime(page);
  await page.getByTestId('jump').fill('+25h'); // past the 24 h retention
  await page.getByTestId('jump-go').click();
  await waitForTime(page, start + 25 * 3600_000);
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const node = page.locator('[data-testid="target-row"][data-address="localhost:9100"]');
  await node.getByTestId('target-garbage').click();
  await page.getByTestId('clock-step').click();
  await node.getByTestId('target-state').filter({ hasText: 'DOWN' }).waitFor();
  const queries = ['up', 'prometheus_tsdb_head_series', 'count_over_time(up[2d])', 'sum(rate(hello_worlds_total[1h]))'];
  const original = [];
  for (const q of queries) original.push(await table(page, q));
  const time = await page.getByTestId('virtual-time').innerText();
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.close();

  const other = watch(await browser.context.newPage());
  const w0 = performance.now();
  await other.goto(url);
  await other.getByTestId('session-replaying').waitFor();
  await other.getByTestId('session-replayed').waitFor({ timeout: 120000 });
  console.log(`replaying ${time} (25 h, 2 actions) took ${((performance.now() - w0) / 1000).toFixed(1)} s`);
  assert.equal(await other.getByTestId('virtual-time').innerText(), time);
  const replayed = [];
  for (const q of queries) replayed.push(await table(other, q));
  assert.deepEqual(replayed, original);
  assert.match(replayed[0].join('\n'), /up\{instance="localhost:9100", job="node"\}\t0/);
  await other.close();
});

test('a damaged session URL shows a banner and the playground starts fresh', async () => {
  const page = watch(await browser.context.newPage());
  await page.goto(`${server.url}?session=v1.eyJzZWVkIjo0Mn0.0123456789abcdef#/targets`);
  const banner = page.getByTestId('session-error');
  await banner.waitFor();
  assert.match(await banner.innerText(), /could not be opened: the session is damaged/);
  await page.getByTestId('target-row').first().waitFor();
  const states = await page.getByTestId('target-state').allInnerTexts();
  assert.deepEqual(states, ['UP', 'UP', 'UP']);
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'pause', 'a fresh playground plays');
  await page.close();
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.deepEqual(problems, []);
});
