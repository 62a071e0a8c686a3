// The Config page, driven as a user drives it: a broken prometheus.yml shows its error (with
// its line) as it is typed and Apply refuses it, the old config keeps scraping; a config
// without the node job, applied, stops scraping the node exporter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath } from './harness.mjs';

let server;
let browser;
let page;
const problems = []; // console errors and uncaught page errors

before(async () => {
  server = await serveDist();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs `up` on the Query page; resolves to the rows' texts. */
async function upRows() {
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('query-input').fill('up');
  await page.getByTestId('execute').click();
  const rows = page.locator('[data-testid="result-table"] tr');
  await rows.first().waitFor();
  return rows.allInnerTexts();
}

async function openConfig() {
  await page.getByRole('link', { name: 'Config', exact: true }).click();
  const input = page.getByTestId('config-input');
  await input.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="config-input"]').value.includes('scrape_configs'));
  return input;
}

test('Config: a broken prometheus.yml is refused, the running one keeps scraping', async () => {
  await page.goto(server.url);
  const input = await openConfig();
  const seed = await input.inputValue();
  assert.match(seed, /job_name: node/);
  assert.equal(await page.getByTestId('config-error').count(), 0);
  assert.match(await page.getByTestId('config-not-yet').innerText(), /rules\.yml and alertmanager\.yml arrives with the Rules and Alerts work/);

  await input.fill(seed.replace('scrape_interval: 10s', 'scrape_interval: 1x'));
  const error = await page.getByTestId('config-error').innerText(); // shown as it is typed
  assert.match(error, /line 2: /);
  assert.match(error, /scrape_interval/);
  await page.getByTestId('config-apply').click();
  assert.match(await page.getByTestId('config-status').innerText(), /^Refused/);
  await page.screenshot({ path: await artifactPath('config-refused.png'), fullPage: true });

  await page.getByTestId('clock-step').click();
  const rows = await upRows();
  assert.equal(rows.length, 3, `${rows}`);
  assert.ok(rows.every((r) => r.endsWith('\t1')), `${rows}`);
  // Back on Config, the editor holds the running (seed) config again.
  assert.equal(await (await openConfig()).inputValue(), seed);
});

test('Config: without the node job, applied, the node exporter is no longer scraped', async () => {
  const input = await openConfig();
  const seed = await input.inputValue();
  const without = seed.replace(/  - job_name: node\n    static_configs:\n      - targets:\n          - localhost:9100\n/, '');
  assert.notEqual(without, seed);
  await input.fill(without);
  assert.equal(await page.getByTestId('config-error').count(), 0);
  await page.getByTestId('config-apply').click();
  assert.match(await page.getByTestId('config-status').innerText(), /^Applied/);

  await page.getByTestId('clock-step').click();
  await page.getByTestId('clock-step').click();
  const rows = await upRows();
  assert.deepEqual(rows, [
    'up{instance="localhost:8000", job="example"}\t1',
    'up{instance="localhost:9090", job="prometheus"}\t1',
  ]);
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  await page.getByTestId('target-row').first().waitFor();
  const pools = await page.getByTestId('target-pool').evaluateAll((s) => s.map((e) => e.dataset.job));
  assert.deepEqual(pools.sort(), ['example', 'prometheus']);
  assert.equal(await (await openConfig()).inputValue(), without);
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});
