import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { screenshot, signIn, unique, useBrowser } from './support';

/** A stand-in for the API the example connector reads: `/health` and `/items`, behind a bearer token. */
function exampleApi(token: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === '/health') res.end('{"ok": true}');
    else if (url.pathname === '/items')
      // Two assets the sync stores, and one without a name that it rejects with the reason.
      res.end(JSON.stringify({ items: [{ id: 1, name: `Laptop ${token}-1` }, { id: 2, name: `Laptop ${token}-2` }, { id: 3 }], next: false }));
    else res.writeHead(404).end('{}');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describe('the plugins page', () => {
  const browser = useBrowser();
  let source: Server;
  const token = `tok-${unique()}`;
  beforeAll(async () => {
    source = await exampleApi(token);
  });
  afterAll(() => new Promise<void>((done) => source.close(() => done())));

  it('an admin trusts a vendor key, uploads its signed package, configures an instance and checks the connection', async () => {
    const { page } = browser;
    await signIn(page, 'admin', '/plugins');
    await page.getByRole('heading', { name: 'Plugins', exact: true }).waitFor();

    // Not trusted yet: the upload is refused, with the reason.
    const upload = page.getByLabel('Package file');
    await upload.setInputFiles(inject('pluginPackage'));
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    await page.getByText('Not installed:').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'Not installed' }).textContent()).toMatch(/trusted|signature|key/i);

    await page.getByLabel('Owner').fill('itbm examples');
    await page.getByLabel('Public key (base64)').fill(inject('pluginPublicKey'));
    await page.getByRole('button', { name: 'Trust key' }).click();
    await page.getByRole('cell', { name: inject('pluginPublicKey') }).waitFor();

    await upload.setInputFiles(inject('pluginPackage'));
    await page.getByRole('button', { name: 'Install', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Installed Hello connector' }).waitFor();
    await page.getByRole('link', { name: 'Create an instance' }).click();

    // The configuration form comes from the plugin's JSON Schema.
    await page.getByRole('heading', { name: 'New instance of Hello connector' }).waitFor();
    const port = (source.address() as AddressInfo).port;
    await page.getByLabel('Instance name').fill(`Example API ${unique()}`);
    await page.getByLabel('base_url *').fill(`http://127.0.0.1:${port}`);
    await page.getByLabel('token').fill(token);
    await page.getByLabel('Outbound hosts').fill(`http://127.0.0.1:${port}`);
    // Loopback is refused unless the admin grants the range.
    await page.getByRole('button', { name: 'Create instance' }).click();
    await page.getByRole('button', { name: 'Check connection' }).waitFor();
    await page.getByRole('button', { name: 'Check connection' }).click();
    await page.getByRole('status').filter({ hasText: 'Check:' }).waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'Check:' }).textContent()).toMatch(/capability denied|loopback/i);
    await screenshot(page, 'plugin-check-denied');

    await page.getByRole('link', { name: '← Plugins' }).click();
    await page.getByRole('row', { name: /Hello connector/ }).getByRole('link', { name: 'New instance' }).click();
    await page.getByLabel('Instance name').fill(`Example API on loopback ${unique()}`);
    await page.getByLabel('base_url *').fill(`http://127.0.0.1:${port}`);
    await page.getByLabel('token').fill(token);
    await page.getByLabel('Outbound hosts').fill(`http://127.0.0.1:${port}`);
    await page.getByLabel('Private address ranges').fill('127.0.0.1/32');
    await page.getByRole('button', { name: 'Create instance' }).click();
    await page.getByRole('button', { name: 'Check connection' }).click();
    await page.getByRole('status').filter({ hasText: 'Check: succeeded' }).waitFor();
    await page.getByRole('button', { name: 'Discover streams' }).click();
    await page.getByRole('cell', { name: 'items', exact: true }).waitFor();
    // Every call is in the history, with the plugin's own log lines.
    await page.getByRole('cell', { name: 'discover', exact: true }).waitFor();
    await page.getByText('1 log line', { exact: true }).first().click();
    await page.getByText('INFO the API answered /health').waitFor();
    await screenshot(page, 'plugin-instance');

    // A sync, with its progress, its counts and the record it refused.
    await page.getByRole('button', { name: 'Run sync now' }).click();
    const outcome = page.getByRole('status').filter({ hasText: /Sync (succeeded|failed)/ });
    await outcome.waitFor({ timeout: 60_000 });
    const text = (await outcome.textContent()) ?? '';
    expect(text).toContain('Sync succeeded');
    expect(text).toMatch(/3 records read \(2 inserted, 0 updated, 0 unchanged, 1 rejected\)/);
    await page.getByText('Rejected records').first().click();
    await page.getByText(/name/).first().waitFor();
    await screenshot(page, 'plugin-sync');
  });
});
