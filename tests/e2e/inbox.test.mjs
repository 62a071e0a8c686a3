// The seed's story in the browser, driven as a user drives it: stop the node exporter on the
// Targets page, step the clock three minutes with the header's controls, open the Inbox and
// read the InstanceDown email at the virtual time a real stack sends it (pending ≤ 20 s after
// the stop, firing 60 s later, the email group_wait = 30 s after that); then add a silence on
// the Silences page, see it listed and muting the alert, and expire it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser, artifactPath, watchProblems, parseTime, virtualTime } from './harness.mjs';

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

async function waitForTime(atLeast) {
  await page.waitForFunction(
    (b) => {
      const t = document.querySelector('[data-testid="virtual-time"]').innerText;
      return Date.parse(t.replace(' UTC', 'Z').replace(' ', 'T')) >= b;
    },
    atLeast,
  );
}

let stopAt; // the header's time when the exporter was stopped (whole seconds, floor)

test('Inbox: the InstanceDown email arrives group_wait after firing, as on a real stack', async () => {
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  await page.getByTestId('inbox-empty').waitFor();
  assert.equal(await page.getByTestId('nflog-empty').count(), 1);

  await page.getByRole('link', { name: 'Targets', exact: true }).click();
  const node = page.locator('[data-testid="target-row"][data-address="localhost:9100"]');
  await node.waitFor();
  // One step pauses the clock; the stop then happens at a known virtual time.
  const t = await virtualTime(page);
  await page.getByTestId('clock-step').click();
  await waitForTime(t + 10_000);
  assert.equal(await page.getByTestId('clock-toggle').innerText(), 'play');
  await page.waitForTimeout(100);
  stopAt = await virtualTime(page);
  await node.getByTestId('target-stop').click();
  // Three minutes, one scrape interval at a time.
  for (let i = 0; i < 18; i++) await page.getByTestId('clock-step').click();
  await waitForTime(stopAt + 180_000);
  await node.getByTestId('target-state').filter({ hasText: 'DOWN' }).waitFor();

  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  const rows = page.getByTestId('inbox-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  // textContent: the subject's two spaces, exactly (innerText collapses them).
  assert.equal(await rows.first().getByTestId('inbox-subject').textContent(), '[FIRING:1]  (InstanceDown localhost:9100 node)');
  assert.equal(await page.getByTestId('inbox-row-error').count(), 0);
  const text = await rows.first().innerText();
  assert.match(text, /example-email \(email\)/);
  assert.match(text, /alertmanager@example\.org/);
  assert.match(text, /youraddress@example\.org/);
  const sentAt = parseTime(await rows.first().getByTestId('inbox-time').innerText());
  const afterStop = sentAt - stopAt; // the stop was at most 1 s after stopAt
  assert.ok(afterStop >= 90_000 && afterStop <= 111_000, `email ${afterStop} ms after the stop`);

  await rows.first().click();
  const detail = page.getByTestId('inbox-detail');
  await detail.waitFor();
  const firingAt = parseTime(await detail.getByTestId('inbox-alert-starts').innerText());
  assert.equal(sentAt - firingAt, 30_000, 'group_wait after firing');
  const pendingToFiring = firingAt - stopAt;
  assert.ok(pendingToFiring >= 60_000 && pendingToFiring <= 81_000, `firing ${pendingToFiring} ms after the stop`);
  assert.equal(await detail.getByTestId('inbox-alert-labels').innerText(), '{alertname="InstanceDown", instance="localhost:9100", job="node"}');
  assert.match(await detail.getByTestId('inbox-route').innerText(), /default-route {2}receiver: example-email/);
  const headers = await detail.getByTestId('inbox-headers').innerText();
  assert.match(headers, /Subject\s+\[FIRING:1\]\s+\(InstanceDown localhost:9100 node\)/);
  assert.equal(await detail.getByTestId('inbox-detail-subject').textContent(), '[FIRING:1]  (InstanceDown localhost:9100 node)');
  assert.match(headers, /To\s+youraddress@example\.org/);

  // The HTML body, in a frame that runs no script.
  const frame = page.getByTestId('inbox-html');
  assert.equal(await frame.getAttribute('sandbox'), '');
  assert.match(await frame.getAttribute('srcdoc'), /InstanceDown/);
  const body = page.frameLocator('[data-testid="inbox-html"]').locator('body');
  assert.match(await body.innerText(), /InstanceDown/);
  await page.screenshot({ path: await artifactPath('inbox-email.png'), fullPage: true });

  await page.getByTestId('inbox-tab-raw').click();
  assert.match(await page.getByTestId('inbox-raw').innerText(), /^Subject: \[FIRING:1\]/);
  const log = page.getByTestId('nflog-row');
  assert.equal(await log.count(), 1);
  assert.match(await log.first().innerText(), /example-email\/email\[0\]/);
});

test('Silences: no matchers is refused, one added is listed and mutes the alert, then expired', async () => {
  await page.getByRole('link', { name: 'Silences', exact: true }).click();
  await page.getByTestId('silences-empty').waitFor();
  // The firing alert, held by the Alertmanager, is not muted yet; "Silence…" fills the form.
  const held = page.getByTestId('am-alert');
  assert.equal(await held.count(), 1);
  assert.equal(await held.getByTestId('am-alert-state').innerText(), 'active');
  await held.getByTestId('am-alert-silence').click();
  assert.equal(await page.getByTestId('silence-matchers').inputValue(), 'alertname="InstanceDown", instance="localhost:9100", job="node"');
  await page.getByTestId('silence-matchers').fill('');
  await page.getByTestId('silence-add').click();
  assert.equal(await page.getByTestId('silence-error').innerText(), 'at least one matcher required');
  await page.getByTestId('silence-matchers').fill('alertname="InstanceDown", =x');
  await page.getByTestId('silence-add').click();
  assert.match(await page.getByTestId('silence-error').innerText(), /^matcher 2 at character 27: bad matcher format: =x$/);

  await page.getByTestId('silence-matchers').fill('alertname="InstanceDown", instance=~"localhost.*"');
  await page.getByTestId('silence-end').fill('1h');
  await page.getByTestId('silence-comment').fill('node exporter maintenance');
  await page.getByTestId('silence-add').click();
  const row = page.getByTestId('silence-row');
  await row.first().waitFor();
  assert.equal(await page.getByTestId('silence-error').count(), 0);
  assert.equal(await row.count(), 1);
  assert.equal(await row.getByTestId('silence-matchers-shown').innerText(), '{alertname="InstanceDown",instance=~"localhost.*"}');
  assert.equal(await row.getByTestId('silence-state').innerText(), 'active');
  assert.match(await row.innerText(), /node exporter maintenance/);
  // The alert still fires (the exporter is down): the silence mutes it now.
  assert.equal(await row.getByTestId('silence-mutes').innerText(), '{alertname="InstanceDown", instance="localhost:9100", job="node"}');
  assert.equal(await held.getByTestId('am-alert-state').innerText(), 'suppressed');
  await page.screenshot({ path: await artifactPath('silences.png'), fullPage: true });

  await row.getByTestId('silence-expire').click();
  await row.getByTestId('silence-state').filter({ hasText: 'expired' }).waitFor();
  assert.ok(await row.getByTestId('silence-expire').isDisabled());
  assert.equal(await row.getByTestId('silence-mutes').innerText(), '');
  assert.equal(await held.getByTestId('am-alert-state').innerText(), 'active');
});

test('no console errors, no uncaught exceptions, no panic banner', async () => {
  assert.equal(await page.locator('#panic-banner').count(), 0);
  assert.deepEqual(problems, []);
});
