import { describe, expect, it } from 'vitest';
import { baseUrl, screenshot, signIn, useBrowser } from './support';

describe('signing in', () => {
  const browser = useBrowser();

  it('a visitor is sent to sign-in, picks a demo user and lands on the dashboard', async () => {
    const { page } = browser;
    await page.goto(`${baseUrl}/projects`);
    await page.getByRole('heading', { name: 'Sign in to itbm' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByRole('heading', { name: 'Demo users' }).waitFor();
    await screenshot(page, 'sign-in');

    await page.getByRole('button', { name: /^Portfolio manager/ }).click();
    // Back where the visitor wanted to go, signed in.
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('demo-portfolio-manager · Portfolio manager');
    expect(await page.evaluate(() => sessionStorage.getItem('itbm.token'))).toMatch(/^ey/);

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Portfolio dashboard' }).waitFor();
    await page.getByRole('heading', { name: /Budget, forecast and actual, FY\d{4}/ }).waitFor();
    await screenshot(page, 'dashboard');
  });

  it('a pasted token signs in, and one the server refuses is explained', async () => {
    const { page } = browser;
    await page.goto(`${baseUrl}/sign-in`);
    const field = page.getByLabel('Bearer token');
    await field.fill('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.forged');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Sign-in failed');
    // A refused new token is not an expired session.
    expect(await page.getByText('no longer accepts your token').count()).toBe(0);
    await screenshot(page, 'sign-in-refused');

    const r = await fetch(`${baseUrl}/api/v1/demo/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'viewer' }),
    });
    await field.fill((await r.json()).token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Portfolio dashboard' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('Viewer');
  });

  it('a reload on any client route shows the UI, and unknown API paths stay problem+json', async () => {
    const html = await fetch(`${baseUrl}/projects/some-project`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    const api = await fetch(`${baseUrl}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toBe('application/problem+json');

    const { page } = browser;
    await signIn(page, 'viewer', '/projects/no-such-project');
    expect(await page.getByRole('alert').textContent()).toMatch(/Not found:.*no-such-project/);
    await page.goto(`${baseUrl}/no-such-page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await screenshot(page, 'not-found');
  });
});
