// The seed's story on the Alerts and Rules pages, driven as a user drives it: read the virtual
// clock, stop the node exporter on the Targets page, press the Alerts page's Step until
// InstanceDown turns pending (at most 20 s after the stop), then firing (exactly 60 s after it
// turned pending); then move the cursor back (Back, and the scrub slider) to before the firing
// and see it pending with its `for` countdown, marked as the past; Step walks the cursor back
// to the present and then moves the clock again. The Rules page shows the seed's group.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath } from './harness.mjs';

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
  page.on('console', (m) => {
    const text = `console: ${m.text()} ${m.location()?.url ?? ''}`;
    if (m.type() === 'error' && !PROBE.test(text)) problems.push(text);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** `2026-01-01 00:01:41[ UTC]` → ms since the epoch. */
function parseTime(t) {
  return Date.parse(t.trim().replace(' UTC', '').replace(' ', 'T') + 'Z');
}

/** ms → `2026-01-01 00:01:41` (whole seconds, as the pages print times). */
function fmt(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
}

/** The virtual time shown in the header (whole seconds), as ms since the epoch. */
async function headerTime() {
  return parseTime(await page.getByTestId('virtual-time').innerText());
}

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
async function press(testid) {
  const before = await at().getAttribute('data-ms');
  await page.getByTestId(testid).click();
  await page.waitForFunction(
    (b) => document.querySelector('[data-testid="alerts-at"]')?.dataset.ms !== b,
    before,
  );
  return shown();
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
  await page.screenshot({ path: await artifactPath('rules.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
