// The Query page, driven as a user drives it: type, Execute, read the table, switch to the
// graph and look at the pixels, make a parse error and read its position.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveDist, launchBrowser, artifactPath, REPO, watchProblems } from './harness.mjs';

let server;
let browser;
let page;
let upRows = 0; // rows of `up` in the table
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

async function execute(query) {
  const input = page.getByTestId('query-input');
  await input.fill(query);
  await page.getByTestId('execute').click();
}

test('up: navigation to a table of results', async () => {
  const t0 = performance.now();
  await page.goto(server.url);
  await page.getByTestId('query-input').waitFor();
  const tReady = performance.now();
  await execute('up');
  const rows = page.locator('[data-testid="result-table"] tr');
  await rows.first().waitFor();
  const tResult = performance.now();
  console.log(
    `timing: navigation to editor ready ${(tReady - t0).toFixed(0)} ms, ` +
      `navigation to first query result ${(tResult - t0).toFixed(0)} ms`,
  );
  const texts = await rows.allInnerTexts();
  // One row per scrape target, whatever the playground's data: `up{instance=…, job=…}` and
  // 0 or 1.
  assert.ok(texts.length >= 1, 'at least one target');
  for (const t of texts) {
    assert.match(t, /^up\{.*instance=".+".*\}\s+[01]$/s, t);
    assert.match(t, /job="[^"]+"/, t);
  }
  upRows = texts.length;
  await page.screenshot({ path: await artifactPath('query-table.png'), fullPage: true });
});

test('the virtual clock in the header advances', async () => {
  const clock = page.getByTestId('virtual-time');
  const first = await clock.innerText();
  assert.match(first, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await page.waitForFunction(
    (f) => document.querySelector('[data-testid="virtual-time"]').innerText !== f,
    first,
    { timeout: 5000 },
  );
});

test('Graph tab draws one line per series with a legend', async () => {
  await execute('up');
  await page.getByTestId('tab-graph').click();
  const canvas = page.getByTestId('graph');
  await canvas.waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="legend"] li').length > 0);
  const legend = await page.locator('[data-testid="legend"] li').allInnerTexts();
  assert.equal(legend.length, upRows, `one legend entry per series of the table: ${legend}`);
  assert.ok(legend.every((l) => l.startsWith('up{')), `${legend}`);
  // Count line pixels: saturated colours (axes, grid and labels are grey or black).
  const colored = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  });
  const grey = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 && d[i] === d[i + 1] && d[i] === d[i + 2]) n++;
    return n;
  });
  console.log(`graph: ${colored} line pixels, ${grey} axis/label pixels`);
  assert.ok(colored > 500, `lines drawn (${colored} coloured pixels)`);
  assert.ok(grey > 200, `axes and labels drawn (${grey} dark grey pixels)`);
  const shot = await artifactPath('query-graph.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.PROMPLAY_UPDATE_SCREENSHOT === '1') {
    // The README's picture: the seed's hello app under its simulated traffic.
    await execute('rate(hello_worlds_total[1m])');
    await page.getByTestId('tab-graph').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="legend"] li').length > 0);
    const readme = await artifactPath('readme.png');
    await page.screenshot({ path: readme, fullPage: true });
    await copyFile(readme, join(REPO, 'www', 'screenshot.png'));
  }
});

test('the range control re-runs the graph and rejects a bad duration', async () => {
  const range = page.getByTestId('range');
  await range.fill('bogus');
  await range.press('Tab'); // change event
  const err = page.getByTestId('query-error');
  await err.waitFor();
  assert.match(await err.innerText(), /not a valid duration string/);
  await range.fill('15m');
  await range.press('Tab');
  await err.waitFor({ state: 'detached' });
  await page.getByTestId('graph').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('step').getAttribute('placeholder'), /auto: 3s/);
  await range.fill('1h');
  await range.press('Tab');
});

test('a parse error shows its line:col and marks the span', async () => {
  await page.getByTestId('tab-table').click();
  const input = page.getByTestId('query-input');
  await input.fill('sum(rate(up[5m])');
  await input.press('Enter'); // Enter executes
  const err = page.getByTestId('query-error');
  await err.waitFor();
  const msg = await err.innerText();
  console.log(`parse error shown: ${msg}`);
  assert.match(msg, /^\d+:\d+: parse error: \S/);
  const mark = page.getByTestId('error-mark');
  await mark.waitFor({ state: 'attached' });
  assert.equal(await input.inputValue(), 'sum(rate(up[5m])', 'Enter did not add a newline');
  await page.screenshot({ path: await artifactPath('parse-error.png'), fullPage: true });
  // Editing the text removes the (now misplaced) mark; fixing the query clears the error.
  await input.press('End');
  await input.type(')');
  await mark.waitFor({ state: 'detached' });
  await input.press('Enter');
  await err.waitFor({ state: 'detached' });
  await page.locator('[data-testid="result-table"] tr').first().waitFor();
});

test('Shift+Enter adds a line instead of executing', async () => {
  const input = page.getByTestId('query-input');
  await input.fill('up');
  await input.press('End');
  await input.press('Shift+Enter');
  assert.equal(await input.inputValue(), 'up\n');
});

test('every page in the nav opens, and Back follows the pages', async () => {
  for (const name of ['Alerts', 'Rules', 'Inbox', 'Silences', 'Config']) {
    await page.getByRole('link', { name, exact: true }).click();
    await page.waitForFunction((n) => document.querySelector('main h1')?.innerText === n, name);
    assert.equal(await page.getByText('nothing here works yet').count(), 0);
  }
  await page.getByTestId('config-input').waitFor();
  await page.goBack(); // the browser's Back button follows the pages
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === 'Silences');
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('query-input').waitFor();
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});

test('Explain: the query as a tree, each node with its kind, count and rows', async () => {
  await page.getByTestId('query-input').waitFor();
  await execute('sum by (job) (rate(hello_worlds_total[1m]))');
  await page.locator('[data-testid="result-table"] tr').first().waitFor();
  await page.getByTestId('tab-explain').click();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="explain-node"]').length === 3,
  );
  const texts = await page.getByTestId('explain-text').allTextContents();
  assert.deepEqual(texts, [
    'sum by (job) (rate(hello_worlds_total[1m]))',
    'rate(hello_worlds_total[1m])',
    'hello_worlds_total[1m]',
  ]);
  const kinds = await page.getByTestId('explain-kind').allTextContents();
  assert.deepEqual(kinds, ['aggregation', 'function call', 'range selector']);
  const counts = await page.getByTestId('explain-count').allTextContents();
  console.log(
    `explain counts: ${JSON.stringify(counts)}; ${await page.getByTestId('stats').textContent()}`,
  );
  assert.deepEqual(counts, [
    '1 series (instant vector)',
    '1 series (instant vector)',
    '1 series (range vector)',
  ]);
  const changes = await page.getByTestId('explain-change').allTextContents();
  assert.deepEqual(changes, [
    'from its operand: 1 → 1 series; labels gone: instance',
    'from its operand: 1 → 1 series; labels gone: __name__',
  ]);
  const rows = await page.locator('[data-testid="explain-rows"]').allInnerTexts();
  assert.equal(rows.length, 3);
  assert.match(rows[0], /^\{job="example"\}\s+[\d.]+$/);
  assert.match(rows[2], /hello_worlds_total\{.*\}\s+6 points, last \d+ @\d+/s);
  await page.screenshot({ path: await artifactPath('explain.png'), fullPage: true });
  // A binary operation whose sides share no job: 0 pairs, an empty result.
  await execute('up == on (job) group_left label_replace(up, "job", "x-$1", "job", "(.*)")');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="explain-matching"]')?.textContent.includes('0 pairs matched'),
  );
  const first = await page.getByTestId('explain-count').first().textContent();
  assert.equal(first, '0 series (instant vector)');
  // the filter removed every series (it dropped no label: no series is left to have one)
  assert.equal(
    await page.getByTestId('explain-change').first().textContent(),
    'from its operand: 3 → 0 series',
  );
  await page.screenshot({ path: await artifactPath('explain-mismatch.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
