// Shared by the e2e tests: a static server for dist/ on 127.0.0.1 and Debian's chromium driven
// by playwright-core (never a downloaded browser), with a fresh profile per run.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// PROMPLAY_DIST lets several builds (e.g. a debug `trunk build --dist dist-x`) be tested side by side.
export const DIST = process.env.PROMPLAY_DIST ? join(REPO, process.env.PROMPLAY_DIST) : join(REPO, 'dist');
export const ARTIFACTS = join(REPO, 'tests', 'e2e', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Serves dist/ on 127.0.0.1 (a free port); resolves to { url, close }. */
export async function serveDist() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const rel = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(DIST, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launches chromium headless with a fresh user-data-dir; resolves to { context, close }. */
export async function launchBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'promplay-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function artifactPath(name) {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** Collects the page's console errors and uncaught exceptions into `problems` (every test
 * file ends by asserting there were none). `ignore` skips console texts it matches. */
export function watchProblems(page, problems, ignore = null) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `console: ${m.text()} ${m.location()?.url ?? ''}`.trimEnd();
    if (!ignore || !ignore.test(text)) problems.push(text);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
}

/** `2026-01-01 00:01:41[.537][ UTC]` (as the pages print times) → ms since the epoch. */
export function parseTime(t) {
  return Date.parse(t.trim().replace(' UTC', '').replace(' ', 'T') + 'Z');
}

/** The virtual time the header shows (whole seconds), as ms since the epoch. */
export async function virtualTime(page) {
  return parseTime(await page.getByTestId('virtual-time').innerText());
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}
