// The seed's story on the Alerts and Rules pages, driven as a user drives it: read the virtual
// clock, stop the node exporter on the Targets page, press the Alerts page's Step until
// InstanceDown turns pending (at most 20 s after the stop), then firing (exactly 60 s after it
// turned pending); then move the cursor back (Back, and the scrub slider) to before the firing
// and see it pending with its `for` countdown, marked as the past; Step walks the cursor back
// to the present and then moves the clock again. The Rules page shows the seed's group.
// Then the same pages against Debian's Prometheus (when installed) through the data-source
// switch: its rule's alert pending then firing, the lanes from its ALERTS series, scrubbed back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDist, launchBrowser, artifactPath, watchProblems, virtualTime, freePort } from './harness.mjs';

const PROMETHEUS = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';
let prometheus; // { child, log } when started
let tmp;

let server;
let browser;
let page;
const problems = []; // console errors and uncaught page errors
// The data-source switch probes whether a companion serves the page; the static server says no.
const PROBE = /404 \(Not Found\) \S+\/api\/v1\/status\/buildinfo$/;

before(async () => {
  server = await serveDist();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  watchProblems(page, problems, PROBE);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (prometheus && prometheus.child.exitCode === null && prometheus.child.signalCode === null) {
    const gone = new Promise((ok) => prometheus.child.once('exit', ok));
    prometheus.child.kill('SIGTERM');
    const t = setTimeout(() => prometheus.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** ms → `2026-01-01 00:01:41` (whole seconds, as the pages print times). */
function fmt(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
}

const headerTime = () => virtualTime(page);

const at = () => page.getByTestId('alerts-at');
const rule = () => page.locator('[data-testid="alert-rule"][data-rule="InstanceDown"]');

/** What the Alerts page shows: its instant, the world's now, whether it is the past, the state. */
async function shown() {
  const a = at();
  return {
    at: Number(await a.getAttribute('data-ms')),
    now: Number(await a.getAttribute('data-now-ms')),
    past: (await a.getAttribute('data-past')) === 'true',
    state: await rule().getAttribute('data-state'),
  };
}

/** Presses a control of the Alerts page and waits until the page shows a new instant. */
async function press(testid, read = shown) {
  const before = await at().getAttribute('data-ms');
  await page.getByTestId(testid).click();
  await page.waitForFunction(
    (b) => document.querySelector('[data-testid="alerts-at"]')?.dataset.ms !== b,
    before,
  );
  return read();
}

/** `fires in 1m5s` → seconds. */
function countdownSeconds(text) {
  const m = /^fires in (?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  assert.ok(m, `countdown ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

test('Alerts: InstanceDown goes pending, then firing 60 s later; Back and the slider show the past', async () => {
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Alerts', exact: true }).click();
  await rule().waitFor();
  assert.equal(await rule().getAttribute('data-state'), 'inactive');
  assert.match(await rule().innerText(), /up == 0/);
  assert.match(await rule().innerText(), /for: 1m/);
  assert.equal(await page.getByTestId('alerts-step').innerText(), 'step 10s ▶');

  // Step pauses the header's clock and advances it one evaluation interval; the header follows.
  const t0 = await headerTime();
  let s = await press('alerts-step');
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'play', 'Step paused the clock');
  assert.ok(s.now >= t0 + 10_000 && !s.past, JSON.stringify(s));
  await page.waitForTimeout(300);
  const s2 = await press('alerts-step');
  assert.equal(s2.now, s.now + 10_000, 'paused: exactly one interval per Step');
  assert.equal(await headerTime(), Math.floor(s2.now / 1000) * 1000, 'the header shows the same time');

  // Stop the node exporter at a known virtual time.
  const stopAt = s2.now;
  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const node = page.locator('[data-testid="target-row"][data-address="localhost:9100"]');
  await node.getByTestId('target-stop').click();
  await page.getByRole('link', { name: 'Alerts', exact: true }).click();
  await rule().waitFor();
  s = await shown();
  assert.equal(s.now, stopAt, 'the clock did not move');

  // Step until pending.
  for (let i = 0; i < 5 && s.state !== 'pending'; i++) s = await press('alerts-step');
  assert.equal(s.state, 'pending');
  const alert = rule().getByTestId('alert-row');
  assert.equal(await alert.count(), 1);
  assert.equal(
    await alert.getAttribute('data-key'),
    '{alertname="InstanceDown", instance="localhost:9100", job="node"}',
  );
  const since = alert.getByTestId('alert-active-since');
  const pendingAt = Number(await since.getAttribute('data-ms'));
  const dPending = pendingAt - stopAt;
  console.log(`stop ${fmt(stopAt)} (${stopAt}); pending ${dPending} ms after the stop`);
  assert.ok(dPending > 0 && dPending <= 20_000, `pending ${dPending} ms after the stop`);
  assert.ok((await since.innerText()).startsWith(`${fmt(pendingAt)} UTC`), await since.innerText());
  assert.equal(await alert.getByTestId('alert-state').innerText(), 'PENDING');
  assert.equal(await alert.getByTestId('alert-value').innerText(), '0');
  let cd = await alert.getByTestId('alert-countdown').innerText();
  assert.equal(countdownSeconds(cd), Math.ceil((pendingAt + 60_000 - s.now) / 1000), cd);
  let bands = rule().getByTestId('band');
  assert.equal(await bands.count(), 1);
  assert.equal(await bands.first().getAttribute('data-state'), 'pending');
  assert.equal(Number(await bands.first().getAttribute('data-from')), pendingAt);
  await page.screenshot({ path: await artifactPath('alerts-pending.png'), fullPage: true });

  // Step until firing.
  for (let i = 0; i < 10 && s.state !== 'firing'; i++) s = await press('alerts-step');
  assert.equal(s.state, 'firing');
  assert.equal(await alert.getByTestId('alert-state').innerText(), 'FIRING');
  assert.equal(Number(await since.getAttribute('data-ms')), pendingAt, 'active since stays');
  const firingAt = Number(await alert.getByTestId('alert-firing-since').getAttribute('data-ms'));
  console.log(`firing ${firingAt - pendingAt} ms after pending; shown firing at ${s.now - stopAt} ms after the stop`);
  assert.equal(firingAt - pendingAt, 60_000, 'firing exactly 60 s after pending');
  assert.ok(s.now >= firingAt && s.now - firingAt < 10_000, 'shown firing at the first Step after it fired');
  assert.equal(await alert.getByTestId('alert-firing-since').innerText(), `firing since ${fmt(firingAt)} UTC`);
  assert.equal(await headerTime(), Math.floor(s.now / 1000) * 1000);
  bands = rule().getByTestId('band');
  assert.deepEqual(
    await bands.evaluateAll((bs) => bs.map((b) => [b.dataset.state, Number(b.dataset.from), Number(b.dataset.to)])),
    [
      ['pending', pendingAt, firingAt],
      ['firing', firingAt, s.now],
    ],
  );
  assert.equal(await rule().getByTestId('alert-countdown').count(), 0);
  await page.screenshot({ path: await artifactPath('alerts-firing.png'), fullPage: true });
  const now = s.now;

  // Back: before the firing, pending again, with its countdown, and marked as the past.
  for (let i = 0; i < 3 && !(s.past && s.at < firingAt); i++) s = await press('alerts-back');
  assert.ok(s.past && s.at < firingAt && s.at >= firingAt - 10_000, JSON.stringify(s));
  assert.equal(s.now, now, 'Back does not move the clock');
  assert.equal(s.state, 'pending');
  await page.getByTestId('alerts-past-banner').waitFor();
  assert.match(await at().innerText(), /^THE PAST: /);
  assert.equal(Number(await since.getAttribute('data-ms')), pendingAt);
  cd = await alert.getByTestId('alert-countdown').innerText();
  assert.equal(countdownSeconds(cd), Math.ceil((firingAt - s.at) / 1000), cd);
  assert.deepEqual(
    await rule().getByTestId('band').evaluateAll((bs) => bs.map((b) => [b.dataset.state, Number(b.dataset.to)])).then((b) => b.at(-1)),
    ['pending', s.at],
    'the lanes end at the cursor',
  );
  await page.screenshot({ path: await artifactPath('alerts-past.png'), fullPage: true });

  // The slider: half-way through the pending minute (on its grid: now − k × 10 s).
  const k = Math.ceil((now - (pendingAt + 30_000)) / 10_000);
  const target = now - k * 10_000;
  await page.getByTestId('alerts-scrub').evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, target);
  await page.waitForFunction((v) => document.querySelector('[data-testid="alerts-at"]').dataset.ms === String(v), target);
  s = await shown();
  assert.ok(s.past && s.state === 'pending', JSON.stringify(s));
  cd = await alert.getByTestId('alert-countdown').innerText();
  assert.equal(countdownSeconds(cd), Math.ceil((firingAt - target) / 1000), cd);
  // Before the stop: nothing was wrong yet.
  const beforeStop = now - Math.ceil((now - stopAt) / 10_000 + 1) * 10_000;
  await page.getByTestId('alerts-scrub').evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, beforeStop);
  await page.waitForFunction((v) => document.querySelector('[data-testid="alerts-at"]').dataset.ms === String(v), beforeStop);
  assert.equal((await shown()).state, 'inactive');
  assert.equal(await rule().getByTestId('alert-row').count(), 0);

  // Step walks the cursor forward to the present without moving the clock, then moves it.
  let steps = 0;
  s = await shown();
  while (s.past) {
    s = await press('alerts-step');
    assert.equal(s.now, now);
    steps++;
    assert.ok(steps < 100);
  }
  assert.equal(s.at, now);
  assert.equal(await page.getByTestId('alerts-past-banner').count(), 0);
  assert.equal(s.state, 'firing');
  s = await press('alerts-step');
  assert.equal(s.now, now + 10_000);
  assert.deepEqual(problems, []);
});

test('Rules: the seed group with its interval, last evaluation and the healthy InstanceDown rule', async () => {
  await page.getByRole('link', { name: 'Rules', exact: true }).click();
  const group = page.locator('[data-testid="rule-group"][data-group="example"]');
  await group.waitFor();
  assert.match(await group.innerText(), /rules\.yml/);
  assert.equal(await group.getByTestId('group-interval').innerText(), '10s');
  const now = await headerTime();
  const last = Number(await group.getByTestId('group-last-evaluation').getAttribute('data-ms'));
  assert.ok(now - last < 11_000 && last <= now + 1000, `${last} vs ${now}`);
  const row = group.locator('[data-testid="rule-row"][data-rule="InstanceDown"]');
  assert.equal(await row.getAttribute('data-kind'), 'alerting');
  assert.equal(await row.getByTestId('rule-expr').innerText(), 'up == 0');
  assert.equal(await row.getByTestId('rule-health').innerText(), 'OK');
  assert.equal(Number(await row.getByTestId('rule-last-evaluation').getAttribute('data-ms')), last);
  assert.match(await row.innerText(), /for: 1m/);
  // Evaluation times are measured by the tab's timer (performance.now(), coarsened by the
  // browser to about 0.1 ms), not the virtual clock.
  for (const t of [group.getByTestId('group-evaluation-time'), row.getByTestId('rule-evaluation-time')]) {
    assert.match(await t.innerText(), /^(0s|\d+\.\d{3}ms|\d+\.\d{3}s)$/);
  }
  await page.screenshot({ path: await artifactPath('rules.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test("Alerts and Rules of Debian's Prometheus: a dead target's alert, its lanes, scrubbed back", async (t) => {
  try {
    await access(PROMETHEUS);
  } catch {
    t.skip(`${PROMETHEUS} is not installed`);
    return;
  }
  tmp = await mkdtemp(join(tmpdir(), 'promplay-alerts-'));
  const port = await freePort();
  const dead = await freePort(); // nothing listens there
  const url = `http://127.0.0.1:${port}`;
  await writeFile(
    join(tmp, 'rules.yml'),
    'groups:\n  - name: lab\n    rules:\n      - alert: Dead\n        expr: up{job="dead"} == 0\n        for: 3s\n        labels:\n          severity: page\n        annotations:\n          summary: "{{ $labels.instance }} is down"\n',
  );
  await writeFile(
    join(tmp, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [${join(tmp, 'rules.yml')}]\nscrape_configs:\n  - job_name: dead\n    static_configs:\n      - targets: ['127.0.0.1:${dead}']\n`,
  );
  const child = spawn(PROMETHEUS, [
    `--config.file=${join(tmp, 'prometheus.yml')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.path=${join(tmp, 'data')}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus = { child, log: '' };
  child.stdout.on('data', (d) => (prometheus.log += d));
  child.stderr.on('data', (d) => (prometheus.log += d));
  // Until the alert fires (3 s after it turns pending).
  let activeAt;
  const deadline = Date.now() + 60000;
  while (!activeAt) {
    assert.ok(Date.now() < deadline, `no firing alert: ${prometheus.log}`);
    assert.equal(child.exitCode, null, prometheus.log);
    try {
      const j = await (await fetch(`${url}/api/v1/alerts`)).json();
      const a = j.data.alerts.find((x) => x.labels.alertname === 'Dead' && x.state === 'firing');
      if (a) activeAt = Date.parse(a.activeAt);
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }

  await page.goto(`${server.url}?source=${encodeURIComponent(url)}#/alerts`);
  await page.getByTestId('alerts-remote').waitFor();
  const dead1 = page.locator('[data-testid="alert-rule"][data-rule="Dead"]');
  await dead1.waitFor();
  assert.equal(await dead1.getAttribute('data-state'), 'firing');
  assert.equal(await page.getByTestId('alerts-step').innerText(), 'refresh');
  const alert = dead1.getByTestId('alert-row');
  assert.equal(await alert.getAttribute('data-key'), `{alertname="Dead", instance="127.0.0.1:${dead}", job="dead", severity="page"}`);
  // Date.parse keeps ms: the page's active-since is the API's activeAt truncated to ms.
  assert.equal(Number(await alert.getByTestId('alert-active-since').getAttribute('data-ms')), activeAt);
  assert.match(await alert.innerText(), new RegExp(`summary: 127\\.0\\.0\\.1:${dead} is down`));
  const bands = await dead1.getByTestId('band').evaluateAll((bs) => bs.map((b) => [b.dataset.state, Number(b.dataset.from), Number(b.dataset.to)]));
  console.log(`Prometheus: activeAt ${new Date(activeAt).toISOString()}, bands ${JSON.stringify(bands.map(([s, f, to]) => [s, f - activeAt, to - activeAt]))} (ms after activeAt)`);
  const pendingBand = bands.find((b) => b[0] === 'pending');
  const firingBand = bands.find((b) => b[0] === 'firing');
  assert.ok(firingBand, JSON.stringify(bands));
  // The evaluation that fired it is 3 s after the one that made it pending (ALERTS' timestamps;
  // the lanes' steps follow lastEvaluation, a few ms after the slots).
  assert.ok(Math.abs(firingBand[1] - activeAt - 3000) < 100, `firing band at ${firingBand[1] - activeAt} ms`);
  if (pendingBand) assert.equal(pendingBand[2], firingBand[1], 'pending until it fires');
  const firingAt = Number(await alert.getByTestId('alert-firing-since').getAttribute('data-ms'));
  assert.equal(firingAt, firingBand[1]);

  // Back (1 s per press, the group's interval) to before the firing: pending, counting down.
  let s = await shown2();
  for (let i = 0; i < 120 && !(s.past && s.at < firingAt); i++) s = await press('alerts-back', shown2);
  assert.ok(s.past && s.at < firingAt, JSON.stringify(s));
  await dead1.getByTestId('alert-row').waitFor();
  assert.equal(await dead1.getAttribute('data-state'), 'pending');
  const cd = await dead1.getByTestId('alert-countdown').innerText();
  assert.match(cd, /^fires in [1-3]s$/);
  assert.equal(Number(await dead1.getByTestId('alert-active-since').getAttribute('data-ms')) / 1000 | 0, activeAt / 1000 | 0, 'ALERTS_FOR_STATE');
  await page.screenshot({ path: await artifactPath('alerts-prometheus.png'), fullPage: true });
  await page.getByTestId('alerts-live').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="alerts-at"]')?.dataset.past === 'false');

  await page.getByRole('link', { name: 'Rules', exact: true }).click();
  const group = page.locator('[data-testid="rule-group"][data-group="lab"]');
  await group.waitFor();
  assert.equal(await group.getByTestId('group-interval').innerText(), '1s');
  const row = group.locator('[data-testid="rule-row"][data-rule="Dead"]');
  assert.equal(await row.getByTestId('rule-health').innerText(), 'OK');
  assert.equal(await row.getByTestId('rule-expr').innerText(), 'up{job="dead"} == 0');
  const last = Number(await row.getByTestId('rule-last-evaluation').getAttribute('data-ms'));
  assert.ok(Math.abs(Date.now() - last) < 15_000, `last evaluation ${Date.now() - last} ms ago`);
  assert.deepEqual(problems, []);
});

/** Like `shown`, for any rule. */
async function shown2() {
  const a = at();
  return {
    at: Number(await a.getAttribute('data-ms')),
    now: Number(await a.getAttribute('data-now-ms')),
    past: (await a.getAttribute('data-past')) === 'true',
  };
}
