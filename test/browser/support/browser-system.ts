/**
 * A real browser against the real product: the APIs in-process on free ports (test/support/system.ts), the
 * web app's server in front of them serving a fresh `vite build`, and Debian's Chromium driven by
 * playwright-core. Screenshots go to test/browser/artifacts/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startWebServer, type RunningWebServer } from '../../../services/web-app/src/server/web-server';
import { startSystem, type RunningSystem } from '../../support/system';
import { silentLogLevel } from '../../support/infra';
import { executablePath } from '../../support/chromium';

export { describeWithBrowser, executablePath } from '../../support/chromium';

const root = path.resolve(__dirname, '../../..');
const webAppDir = path.join(root, 'services/web-app');
export const ARTIFACTS = path.join(root, 'test/browser/artifacts');

export const DEMO_SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';

let built = false;
/** Builds the front end once per test process, so the tests always drive the current sources. */
function buildFrontEnd() {
  if (built) return;
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: webAppDir, stdio: 'inherit' });
  built = true;
}

export interface BrowserSystem {
  system: RunningSystem;
  web: RunningWebServer;
  browser: Browser;
  /** A fresh browser profile (its own localStorage, so its own user id) with the app open at `hash`. */
  openPage(hash?: string, options?: { width?: number; height?: number }): Promise<{ context: BrowserContext; page: Page }>;
  screenshot(page: Page, name: string): Promise<string>;
  stop(): Promise<void>;
}

const suffix = (process.env.TEST_DATABASE_SUFFIX ?? '').replace(/[^a-z0-9_]/g, '');

export async function startBrowserSystem(label: string, options: { ttlSeconds?: number } = {}): Promise<BrowserSystem> {
  buildFrontEnd();
  mkdirSync(ARTIFACTS, { recursive: true });
  const system = await startSystem(`${label}${suffix}`, options);
  const web = await startWebServer({
    HOST: '127.0.0.1',
    PORT: 0,
    LOG_LEVEL: silentLogLevel,
    EVENT_API_URL: system.eventUrl,
    BOOKING_API_URL: system.bookingUrl,
    STATIC_DIR: path.join(webAppDir, 'dist/public'),
  });
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const contexts: BrowserContext[] = [];
  return {
    system,
    web,
    browser,
    async openPage(hash = '#/', size = {}) {
      const context = await browser.newContext({ viewport: { width: size.width ?? 1280, height: size.height ?? 860 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[browser page error] ${error.message}`));
      await page.goto(`${web.url}/${hash}`);
      return { context, page };
    },
    async screenshot(page, name) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await web.stop();
      await system.stop();
    },
  };
}

/** The seat buttons of the map, by status. */
export const seatSelector = (status?: string) => (status ? `button.seat[data-status="${status}"]` : 'button.seat');

/** Calls an API through the web server's proxy, as the browser does. */
export async function viaWeb<T>(env: BrowserSystem, path: string, options: { method?: string; body?: unknown; userId?: string } = {}): Promise<T> {
  const response = await fetch(`${env.web.url}/api/v1${path}`, {
    method: options.method ?? 'GET',
    headers: { 'Content-Type': 'application/json', ...(options.userId ? { 'X-User-ID': options.userId } : {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (!response.ok) throw new Error(`${options.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
