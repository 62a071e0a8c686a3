// The Config page, driven as a user drives it: a broken prometheus.yml shows its error (with
// its line) as it is typed and Apply refuses it, the old config keeps scraping; a config
// without the node job, applied, stops scraping the node exporter. A broken rules.yml is
// refused naming its line; a new alertmanager.yml, applied, routes the next alert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath, watchProblems } from './harness.mjs';

let server;
let browser;
let page;
const problems = []; // console errors and uncaught page errors

before(async () => {
  server = await serveDist();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  watchProblems(page, problems);
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
  assert.equal(await page.getByTestId('config-running').textContent(), seed);

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

async function openTab(prefix) {
  await page.getByRole('link', { name: 'Config', exact: true }).click();
  await page.getByTestId(`config-tab-${prefix}`).click();
  const input = page.getByTestId(`${prefix}-input`);
  await input.waitFor();
  return input;
}

test('Config: a broken rules.yml is refused with its line, the running rules are kept', async () => {
  const input = await openTab('rules');
  const seed = await input.inputValue();
  assert.match(seed, /alert: InstanceDown/);
  assert.equal(await page.getByTestId('rules-error').count(), 0);
  assert.equal(await page.getByTestId('rules-running').textContent(), seed);
  // Line 5: the expression does not parse.
  await input.fill(seed.replace('expr: up == 0', 'expr: up =='));
  const error = await page.getByTestId('rules-error').innerText(); // shown as it is typed
  assert.match(error, /rules\.yml/);
  assert.match(error, /\b5\b/, error);
  await page.getByTestId('rules-apply').click();
  assert.match(await page.getByTestId('rules-status').innerText(), /^Refused: the running rules\.yml is unchanged\./);
  assert.equal(await page.getByTestId('rules-running').textContent(), seed);
  await page.screenshot({ path: await artifactPath('config-rules-refused.png'), fullPage: true });
  // Switching tabs keeps the text being edited; Revert brings back what runs.
  await page.getByTestId('config-tab-config').click();
  await page.getByTestId('config-input').waitFor();
  await page.getByTestId('config-tab-rules').click();
  const again = page.getByTestId('rules-input');
  assert.equal(await again.inputValue(), seed.replace('expr: up == 0', 'expr: up =='));
  await page.getByTestId('rules-revert').click();
  assert.equal(await again.inputValue(), seed);
  assert.equal(await page.getByTestId('rules-error').count(), 0);
});

test('Config: a new alertmanager.yml, applied, routes the next alert to its webhook', async () => {
  const input = await openTab('alertmanager');
  const seed = await input.inputValue();
  assert.match(seed, /example-email/);
  await input.fill('route:\n  receiver: nobody\n');
  assert.match(await page.getByTestId('alertmanager-error').innerText(), /nobody/);
  const hook = [
    'route:',
    '  receiver: hook',
    '  group_wait: 5s',
    'receivers:',
    '  - name: hook',
    '    webhook_configs:',
    '      - url: http://127.0.0.1:5001/',
    '',
  ].join('\n');
  await input.fill(hook);
  assert.equal(await page.getByTestId('alertmanager-error').count(), 0);
  await page.getByTestId('alertmanager-apply').click();
  assert.match(await page.getByTestId('alertmanager-status').innerText(), /^Applied/);
  assert.equal(await page.getByTestId('alertmanager-running').textContent(), hook);

  // The seed's alert now goes to the webhook: stop the hello app (the node job is no longer
  // scraped), 2.5 minutes later the inbox holds the POST (firing + group_wait 5s).
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const app = page.locator('[data-testid="target-row"][data-address="localhost:8000"]');
  await app.getByTestId('target-stop').click();
  await page.getByTestId('jump').fill('+150s');
  await page.getByTestId('jump-go').click();
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  const row = page.getByTestId('inbox-row');
  await row.first().waitFor({ timeout: 20_000 });
  assert.equal(await row.first().getByTestId('inbox-subject').textContent(), 'POST http://127.0.0.1:5001/');
  await row.first().click();
  assert.match(await page.getByTestId('inbox-json').innerText(), /^\{"receiver":"hook","status":"firing"/);
  // Back on Config, the editor holds the applied file.
  assert.equal(await (await openTab('alertmanager')).inputValue(), hook);
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});
