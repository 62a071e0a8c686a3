// The simulated world, driven as a user drives it: the Targets page (stop the node exporter,
// step the clock, see it down with its error; garbage bodies, down with the parse error, heal), the Workshop (send a request, see the lines it
// changed, run the seed's exceptions ratio after half an hour of virtual time) and the time
// controls (speed, a day-long jump that keeps the tab responsive).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath, watchProblems, virtualTime } from './harness.mjs';

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

function row(address) {
  return page.locator(`[data-testid="target-row"][data-address="${address}"]`);
}

test('Targets: three endpoints up; the stopped node exporter goes down with its error', async () => {
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const rows = page.getByTestId('target-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  const pools = await page.getByTestId('target-pool').evaluateAll((s) => s.map((e) => e.dataset.job));
  assert.deepEqual(pools.sort(), ['example', 'node', 'prometheus']);
  for (const addr of ['localhost:9090', 'localhost:9100', 'localhost:8000']) {
    assert.equal(await row(addr).getByTestId('target-state').innerText(), 'UP', addr);
    assert.equal(await row(addr).getByTestId('target-error').innerText(), '', addr);
  }
  const node = row('localhost:9100');
  assert.match(await node.innerText(), /instance="localhost:9100"/);
  assert.match(await node.innerText(), /job="node"/);

  await node.getByTestId('target-stop').click();
  const before = await virtualTime(page);
  await page.getByTestId('clock-step').click(); // pauses and runs one scrape interval
  await page.waitForFunction(
    (b) => {
      const t = document.querySelector('[data-testid="virtual-time"]').innerText;
      return Date.parse(t.replace(' UTC', 'Z').replace(' ', 'T')) >= b + 10000;
    },
    before,
  );
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'play', 'step paused the clock');
  await node.getByTestId('target-state').filter({ hasText: 'DOWN' }).waitFor();
  assert.equal(
    await node.getByTestId('target-error').innerText(),
    'Get "http://localhost:9100/metrics": dial tcp 127.0.0.1:9100: connect: connection refused',
  );
  assert.equal(await row('localhost:8000').getByTestId('target-state').innerText(), 'UP');
  assert.ok(await node.getByTestId('target-stop').isDisabled());
  await page.screenshot({ path: await artifactPath('targets-down.png'), fullPage: true });

  // The Query page sees it too.
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('query-input').fill('up == 0');
  await page.getByTestId('execute').click();
  const r = page.locator('[data-testid="result-table"] tr');
  await r.first().waitFor();
  assert.deepEqual(await r.allInnerTexts(), ['up{instance="localhost:9100", job="node"}\t0']);

  // Started again, it is up after the next scrape.
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  await row('localhost:9100').getByTestId('target-start').click();
  await page.getByTestId('clock-step').click();
  await row('localhost:9100').getByTestId('target-state').filter({ hasText: 'UP' }).waitFor();
});

test('Workshop: a request marks the lines it changed; the exceptions ratio is near 0.2', async () => {
  await page.getByRole('link', { name: 'Workshop', exact: true }).click();
  const code = await page.getByTestId('python').innerText();
  assert.match(code, /EXCEPTIONS = Counter\('hello_world_exceptions_total'/);
  const metrics = page.getByTestId('app-metrics');
  await metrics.getByText(/^hello_worlds_total \d/).waitFor();

  // The clock is paused (the Targets test stepped it): a request, then one step, completes it.
  await page.getByTestId('send-request').click();
  await page.getByTestId('clock-step').click();
  const changed = metrics.locator('[data-changed="true"]');
  await changed.first().waitFor();
  const lines = await changed.allInnerTexts();
  assert.ok(lines.some((l) => l.startsWith('hello_worlds_total ')), `changed: ${lines}`);
  assert.ok(lines.every((l) => !l.startsWith('#')), `changed: ${lines}`);

  const ratio = 'rate(hello_world_exceptions_total[1m]) / rate(hello_worlds_total[1m])';
  await page.getByRole('button', { name: ratio, exact: true }).click();
  await page.getByTestId('workshop-value').first().waitFor();
  // Half an hour of virtual time, then read the ratio.
  const before = await virtualTime(page);
  await page.getByTestId('jump').fill('+30m');
  await page.getByTestId('jump-go').click();
  await page.waitForFunction(
    (b) => {
      const t = document.querySelector('[data-testid="virtual-time"]').innerText;
      return Date.parse(t.replace(' UTC', 'Z').replace(' ', 'T')) >= b + 30 * 60000;
    },
    before,
    { timeout: 60000 },
  );
  await page.waitForTimeout(200); // the result follows the clock
  const values = await page.getByTestId('workshop-value').allInnerTexts();
  assert.equal(values.length, 1, `${values}`);
  // One minute holds ~60 requests: single readings scatter around 0.2. Ten disjoint minutes
  // average close to hello.py's failure probability.
  const readings = [Number(values[0])];
  for (let i = 0; i < 9; i++) {
    const t = await virtualTime(page);
    await page.getByTestId('jump').fill('+1m');
    await page.getByTestId('jump-go').click();
    await page.waitForFunction(
      (b) => {
        const t = document.querySelector('[data-testid="virtual-time"]').innerText;
        return Date.parse(t.replace(' UTC', 'Z').replace(' ', 'T')) >= b + 60000;
      },
      t,
    );
    await page.waitForTimeout(100);
    readings.push(Number(await page.getByTestId('workshop-value').first().innerText()));
  }
  const mean = readings.reduce((a, b) => a + b, 0) / readings.length;
  console.log(`exceptions ratio over 10 one-minute windows: mean ${mean.toFixed(3)} (${readings.map((r) => r.toFixed(2)).join(' ')})`);
  assert.ok(readings.every((r) => r >= 0 && r <= 1), `${readings}`);
  assert.ok(mean > 0.12 && mean < 0.28, `mean ratio ${mean} near 0.2`);

  // Each seed query answers.
  for (const q of [
    'rate(hello_worlds_total[1m])',
    'rate(hello_world_sales_euro_total[1m])',
    'time() - hello_world_last_time_seconds',
  ]) {
    await page.getByRole('button', { name: q, exact: true }).click();
    await page.waitForTimeout(100);
    const vs = await page.getByTestId('workshop-value').allInnerTexts();
    assert.equal(vs.length, 1, `${q}: ${vs}`);
    assert.ok(Number(vs[0]) >= 0, `${q}: ${vs}`);
  }

  // Another example deploys its code.
  await page.getByTestId('example-set-function').click();
  assert.match(await page.getByTestId('python').innerText(), /set_function/);
  await metrics.getByText(/^time_seconds \d/).waitFor();
  await page.screenshot({ path: await artifactPath('workshop.png'), fullPage: true });
});

test('time controls: speed, and a day-long jump in slices with the tab responsive', async () => {
  await page.getByRole('link', { name: 'Query', exact: true }).click();
  await page.getByTestId('speed').selectOption('3600');
  await page.getByTestId('clock-toggle').click(); // play
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'pause');
  const t1 = await virtualTime(page);
  await page.waitForTimeout(2000);
  const t2 = await virtualTime(page);
  console.log(`×3600 for 2 s of real time: ${((t2 - t1) / 60000).toFixed(1)} virtual minutes`);
  assert.ok(t2 - t1 > 10 * 60000, `×3600 moved ${(t2 - t1) / 1000} s`);
  await page.getByTestId('clock-toggle').click(); // pause

  await page.getByTestId('jump').fill('2025-01-01 00:00:00');
  await page.getByTestId('jump-go').click();
  await page.getByTestId('jump-error').waitFor();

  const start = await virtualTime(page);
  await page.getByTestId('jump').fill('+24h');
  const w0 = performance.now();
  await page.getByTestId('jump-go').click();
  await page.getByTestId('catchup').waitFor();
  // While it catches up the page answers: a click on another page renders it.
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  await page.getByTestId('target-row').first().waitFor({ timeout: 2000 });
  const tClick = performance.now() - w0;
  await page.waitForFunction(
    (b) => {
      const t = document.querySelector('[data-testid="virtual-time"]').innerText;
      return Date.parse(t.replace(' UTC', 'Z').replace(' ', 'T')) >= b + 24 * 3600000;
    },
    start,
    { timeout: 600000, polling: 250 },
  );
  const wall = performance.now() - w0;
  console.log(`timing: 24 h of virtual time simulated in the browser in ${(wall / 1000).toFixed(1)} s (page switch answered after ${tClick.toFixed(0)} ms)`);
  await page.getByTestId('catchup').waitFor({ state: 'detached' });
  const states = await page.getByTestId('target-state').allInnerTexts();
  assert.deepEqual(states, ['UP', 'UP', 'UP']);
});

test('Targets: the node exporter sends garbage, is down with the parse error, heals', async () => {
  if (!page.url().startsWith(server.url)) await page.goto(server.url); // run on its own
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const node = row('localhost:9100');
  await node.waitFor();
  if ((await page.getByTestId('clock-toggle').innerText()) === 'pause') {
    await page.getByTestId('clock-toggle').click();
  }
  await node.getByTestId('target-state').filter({ hasText: 'UP' }).waitFor();
  assert.equal(await node.getByTestId('target-faults').innerText(), '');
  assert.ok(await node.getByTestId('target-heal').isDisabled(), 'nothing to heal yet');

  await node.getByTestId('target-garbage').click();
  await node.getByTestId('target-faults').filter({ hasText: 'garbage' }).waitFor();
  await page.getByTestId('clock-step').click();
  await node.getByTestId('target-state').filter({ hasText: 'DOWN' }).waitFor();
  const err = await node.getByTestId('target-error').innerText();
  // Prometheus's text parser's words for a body that starts with `<html>`.
  assert.equal(err, 'expected a valid start token, got "<" ("INVALID") while parsing: "<"');
  assert.equal(await row('localhost:8000').getByTestId('target-state').innerText(), 'UP');
  await page.screenshot({ path: await artifactPath('targets-garbage.png'), fullPage: true });

  // The slow control lists its delays; heal clears every fault and the next scrape is up.
  const delays = await node.getByTestId('target-slow').locator('option').allInnerTexts();
  assert.deepEqual(delays, ['0 s', '2 s', '15 s']);
  await node.getByTestId('target-heal').click();
  await page.waitForFunction(
    () =>
      document.querySelector('[data-address="localhost:9100"] [data-testid="target-faults"]').innerText === '',
  );
  assert.ok(await node.getByTestId('target-heal').isDisabled(), 'healed');
  await page.getByTestId('clock-step').click();
  await node.getByTestId('target-state').filter({ hasText: 'UP' }).waitFor();
  assert.equal(await node.getByTestId('target-error').innerText(), '');
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});
