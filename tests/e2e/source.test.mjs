// The data-source switch, against real servers started here on 127.0.0.1: the companion
// (`promplay serve`, scraping itself, serving this build at `/`) and, when installed, Debian's
// Prometheus. Every process started here is killed in `after`, also when a test fails.
//
// Needs the companion built: `cargo build -p promplay-companion` (target/debug/promplay).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDist, launchBrowser, artifactPath, REPO, DIST, watchProblems, freePort } from './harness.mjs';

const PROMPLAY = process.env.PROMPLAY_BIN || join(REPO, 'target', 'debug', 'promplay');
const PROMETHEUS = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';

let server; // the harness's static server (another origin)
let browser;
let page;
let tmp;
const procs = []; // { name, child, log }
let companionUrl;
const problems = [];

function start(name, cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { name, child, log: '' };
  child.stdout.on('data', (d) => (p.log += d));
  child.stderr.on('data', (d) => (p.log += d));
  procs.push(p);
  return p;
}

async function stopAll() {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      const gone = new Promise((ok) => p.child.once('exit', ok));
      p.child.kill('SIGTERM');
      const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
  }
}

/** Polls `url` + the query API until `up` has a sample with value 1 (the server scraped itself). */
async function waitUp(p, url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.log}`);
    try {
      const r = await fetch(`${url}/api/v1/query?query=up`);
      last = await r.text();
      const j = JSON.parse(last);
      if (j.status === 'success' && j.data.result.some((s) => s.value[1] === '1')) return;
    } catch (e) {
      last = String(e);
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`${p.name} at ${url} never had up == 1: ${last}\n${p.log}`);
}

async function selfScrapingConfig(name, port) {
  const file = join(tmp, `${name}.yml`);
  await writeFile(
    file,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
  );
  return file;
}

before(async () => {
  await access(PROMPLAY).catch(() => {
    throw new Error(`${PROMPLAY} is missing: run \`cargo build -p promplay-companion\` first`);
  });
  tmp = await mkdtemp(join(tmpdir(), 'promplay-source-'));
  const port = await freePort();
  companionUrl = `http://127.0.0.1:${port}`;
  const config = await selfScrapingConfig('companion', port);
  const c = start('promplay serve', PROMPLAY, [
    'serve',
    '--config.file',
    config,
    '--web.listen-address',
    `127.0.0.1:${port}`,
    '--web.ui-dir',
    DIST,
  ]);
  server = await serveDist();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  // Refused connections and 404s of the probes are expected here; anything else is not.
  watchProblems(page, problems, /Failed to load resource|ERR_CONNECTION_REFUSED|Failed to fetch/);
  await waitUp(c, companionUrl);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close().catch(() => {});
  await stopAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function execute(query) {
  await page.getByTestId('query-input').fill(query);
  await page.getByTestId('execute').click();
}

/** Executes `up` and returns the table's rows once they are there. */
async function upRows() {
  await page.getByTestId('tab-table').click();
  await execute('up');
  const rows = page.locator('[data-testid="result-table"] tr');
  await rows.first().waitFor();
  return rows.allInnerTexts();
}

async function connectUrl(url) {
  await page.getByTestId('source-select').selectOption('url');
  await page.getByTestId('source-url').fill(url);
  await page.getByTestId('source-connect').click();
}

test('served by the companion: "This companion" shows its real target, graph and Targets', async () => {
  await page.goto(`${companionUrl}/`);
  await page.getByTestId('query-input').waitFor();
  // The option appears once the page's origin answered /api/v1/status/buildinfo, which the
  // switch asks when it is first focused.
  assert.equal(await page.locator('[data-testid="source-select"] option[value="companion"]').count(), 0);
  await page.getByTestId('source-select').focus();
  await page.waitForFunction(
    () => !!document.querySelector('[data-testid="source-select"] option[value="companion"]'),
  );
  await page.getByTestId('source-select').selectOption('companion');
  await page.getByTestId('real-clock').waitFor();
  assert.equal(await page.getByTestId('virtual-time').count(), 0, 'the virtual clock is hidden');
  assert.match(page.url(), /\?source=companion/);
  const rows = await upRows();
  const port = new URL(companionUrl).port;
  assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), [
    `up{instance="127.0.0.1:${port}", job="prometheus"} 1`,
  ]);
  assert.match(await page.getByTestId('stats').innerText(), /^answered in \d+ ms$/);

  // A parse error comes back in Prometheus's words, with its position marked.
  await execute('sum(rate(up[5m])');
  const err = page.getByTestId('query-error');
  await err.waitFor();
  assert.match(await err.innerText(), /^invalid parameter "query": 1:17: parse error: /);
  await page.getByTestId('error-mark').waitFor({ state: 'attached' });

  await execute('up');
  await page.getByTestId('tab-graph').click();
  // The companion has scraped for seconds only: a 1m range at a 1s step has points in them
  // (an hour at the automatic 14s step may have none yet).
  await page.getByTestId('range').fill('1m');
  await page.getByTestId('range').press('Tab');
  await page
    .waitForFunction(() => document.querySelectorAll('[data-testid="legend"] li').length > 0)
    .catch(async (e) => {
      await page.screenshot({ path: await artifactPath('source-companion-graph-failed.png'), fullPage: true });
      throw new Error(`no legend: ${await page.locator('main').innerText()}\n${e}`);
    });
  const legend = await page.locator('[data-testid="legend"] li').allInnerTexts();
  assert.deepEqual(legend, [`up{instance="127.0.0.1:${port}", job="prometheus"}`]);
  const canvas = page.getByTestId('graph');
  await canvas.waitFor({ state: 'visible' });
  const colored = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
    }
    return n;
  });
  assert.ok(colored > 20, `the line is drawn (${colored} coloured pixels)`);
  await page.screenshot({ path: await artifactPath('source-companion-graph.png'), fullPage: true });

  // Explain asks the companion for every node of the tree, at one instant.
  await execute('count by (job) (up == 1)');
  await page.getByTestId('tab-explain').click();
  await page.waitForFunction(
    () =>
      document.querySelectorAll('[data-testid="explain-count"]').length === 4 &&
      [...document.querySelectorAll('[data-testid="explain-count"]')].every((e) => /series|scalar/.test(e.textContent)),
  );
  assert.deepEqual(await page.getByTestId('explain-text').allTextContents(), [
    'count by (job) (up == 1)',
    'up == 1',
    'up',
    '1',
  ]);
  assert.deepEqual((await page.getByTestId('explain-count').allTextContents()).slice(0, 3), [
    '1 series (instant vector)',
    '1 series (instant vector)',
    '1 series (instant vector)',
  ]);

  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const row = page.locator(`[data-testid="target-row"][data-address="127.0.0.1:${port}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId('target-state').innerText(), 'UP');
  assert.equal(await page.getByTestId('target-stop').count(), 0, 'no host actions remotely');
  assert.match(await page.locator('[data-testid="target-pool"] h2').innerText(), /^prometheus \(1\/1 up\)$/);
  await page.screenshot({ path: await artifactPath('source-companion-targets.png'), fullPage: true });

  // A link reopens the choice.
  await page.reload();
  await page.locator(`[data-testid="target-row"][data-address="127.0.0.1:${port}"]`).waitFor();
  assert.equal(await page.getByTestId('source-select').inputValue(), 'companion');
});

test('from another origin: "Prometheus URL" reaches the companion through CORS', async () => {
  await page.goto(server.url);
  await page.getByTestId('query-input').waitFor();
  await connectUrl(companionUrl);
  await page.waitForFunction(
    (u) => document.querySelector('[data-testid="source-status"]')?.innerText.includes(u),
    companionUrl,
  );
  const rows = await upRows();
  assert.equal(rows.length, 1);
  assert.match(rows[0], /^up\{instance="127\.0\.0\.1:\d+", job="prometheus"\}\s+1$/);
  assert.ok(page.url().includes(`source=${encodeURIComponent(companionUrl)}`), page.url());

  // A slow answer to an older execution does not overwrite a newer one: hold `up`'s answer
  // back for 1.5 s, execute `1+1` meanwhile, and the table keeps showing `1+1`.
  let held = 0;
  await page.route(/\/api\/v1\/query\?query=up(&|$)/, async (route) => {
    held++;
    await new Promise((ok) => setTimeout(ok, 1500));
    await route.continue();
  });
  await execute('up');
  assert.equal(await page.getByTestId('stats').innerText(), 'running…', 'busy while the answer is out');
  await execute('1+1');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="result-table"]')?.innerText.replace(/\s+/g, ' ').trim() === 'scalar 2',
  );
  await new Promise((ok) => setTimeout(ok, 2500));
  assert.equal(
    (await page.getByTestId('result-table').innerText()).replace(/\s+/g, ' ').trim(),
    'scalar 2',
    'the late answer to `up` was dropped',
  );
  assert.equal(held, 1, 'the answer to `up` was held back');
  await page.unroute(/\/api\/v1\/query\?query=up(&|$)/);

  // A link reopens the choice, with the URL in the switch.
  await page.reload();
  await page.getByTestId('source-url').waitFor();
  assert.equal(await page.getByTestId('source-select').inputValue(), 'url');
  assert.equal(await page.getByTestId('source-url').inputValue(), companionUrl);
  assert.equal((await upRows()).length, 1);
});

test("Debian's Prometheus through \"Prometheus URL\"", async (t) => {
  try {
    await access(PROMETHEUS);
  } catch {
    console.log(`skipped: ${PROMETHEUS} is not installed (scripts/tools.sh ensure_peers installs it)`);
    t.skip(`${PROMETHEUS} is not installed`);
    return;
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const p = start('prometheus', PROMETHEUS, [
    `--config.file=${await selfScrapingConfig('prometheus', port)}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.path=${join(tmp, 'prometheus-data')}`,
  ]);
  await waitUp(p, url, 60000);
  await page.goto(server.url);
  await page.getByTestId('query-input').waitFor();
  await connectUrl(url);
  await page.waitForFunction(
    (u) => /Prometheus API \d/.test(document.querySelector('[data-testid="source-status"]')?.innerText ?? '') &&
      document.querySelector('[data-testid="source-status"]').innerText.includes(u),
    url,
  );
  const status = await page.getByTestId('source-status').innerText();
  console.log(`connected: ${status}`);
  const rows = await upRows();
  assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), [
    `up{instance="127.0.0.1:${port}", job="prometheus"} 1`,
  ]);
  await execute('sum(rate(up[5m])');
  await page.getByTestId('query-error').waitFor();
  const msg = await page.getByTestId('query-error').innerText();
  console.log(`Prometheus's error shown: ${msg}`);
  assert.match(msg, /parse error/);
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const row = page.locator(`[data-testid="target-row"][data-address="127.0.0.1:${port}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId('target-state').innerText(), 'UP');
  await page.getByRole('link', { name: 'Query', exact: true }).click();
});

test('a bad URL shows an error; back to the simulated world', async () => {
  await page.goto(server.url);
  await page.getByTestId('query-input').waitFor();
  // Nothing listens there.
  const dead = `http://127.0.0.1:${await freePort()}`;
  await connectUrl(dead);
  const err = page.getByTestId('source-error');
  await err.waitFor();
  assert.match(await err.innerText(), /^could not fetch http:\/\/127\.0\.0\.1:\d+\/api\/v1\/status\/buildinfo: .*CORS/);
  // A server that is not a Prometheus (the static server answers 404).
  await connectUrl(server.url);
  await page.waitForFunction(() =>
    /not a Prometheus API answer \(HTTP 404\)/.test(document.querySelector('[data-testid="source-error"]')?.innerText ?? ''),
  );
  // Not a URL at all.
  await connectUrl('ftp://x');
  await page.waitForFunction(() =>
    /not an http:\/\/ or https:\/\/ URL/.test(document.querySelector('[data-testid="source-error"]')?.innerText ?? ''),
  );
  await page.screenshot({ path: await artifactPath('source-bad-url.png'), fullPage: true });
  // Still the simulated world; switch to the companion, then back.
  await connectUrl(companionUrl);
  await page.getByTestId('real-clock').waitFor();
  await page.getByTestId('source-select').selectOption('simulated');
  await page.getByTestId('virtual-time').waitFor();
  assert.ok(!page.url().includes('source='), page.url());
  const rows = await upRows();
  const jobs = rows.map((r) => r.match(/job="([^"]+)"/)[1]).sort();
  assert.deepEqual(jobs, ['example', 'node', 'prometheus'], 'the simulated world answers again');
  assert.match(await page.getByTestId('stats').innerText(), /^evaluated in/);
});

test('no uncaught exceptions, no unexpected console errors, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});
