// What every end-to-end test needs: Debian's Chromium driven by
// playwright-core, the API of the server under test, and screenshots.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, inject } from 'vitest';

export const baseUrl = inject('baseUrl');
const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** The flags this machine's closed network needs (see the env notes). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  page: Page;
  close: () => Promise<void>;
}

/** A fresh browser profile (its own --user-data-dir) at a laptop's screen size. */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'itbm-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1366, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
    },
  };
}

/** A fresh browser for each test of the calling `describe`; `.page` is the test's page. */
export function useBrowser(): { readonly page: Page } {
  let browser: Browser | undefined;
  beforeEach(async () => {
    browser = await openBrowser();
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  return {
    get page() {
      return browser!.page;
    },
  };
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export type Role = 'admin' | 'portfolio_manager' | 'finance' | 'viewer';
export const ROLE_BUTTON: Record<Role, string> = {
  portfolio_manager: 'Portfolio manager',
  finance: 'Finance',
  viewer: 'Viewer',
  admin: 'Administrator',
};

/** Signs in through the sign-in page's demo buttons. */
export async function signIn(page: Page, role: Role, path = '/') {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('button', { name: new RegExp(`^${ROLE_BUTTON[role]}`) }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const tokens = new Map<Role, string>();

/** Calls the API directly as a demo user of `role` (for setting up data, and for changing it behind the UI's back). */
export async function call<T = any>(role: Role, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  if (!tokens.has(role)) {
    const r = await fetch(`${baseUrl}/api/v1/demo/tokens`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role }) });
    if (!r.ok) throw new Error(`no demo token: ${r.status}`);
    tokens.set(role, (await r.json()).token);
  }
  const r = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${tokens.get(role)}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return { body: (text ? JSON.parse(text) : undefined) as T, etag: r.headers.get('etag') };
}

/** A suffix that keeps names unique across runs against one server. */
export const unique = () => Math.random().toString(36).slice(2, 7);
