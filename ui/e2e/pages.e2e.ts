import { describe, expect, it } from 'vitest';
import { call, screenshot, signIn, unique, useBrowser } from './support';

describe('the lists', () => {
  const browser = useBrowser();

  it('assets can be filtered, sorted and paged', async () => {
    const { page } = browser;
    const tag = unique();
    for (let i = 1; i <= 30; i++) {
      await call('finance', 'POST', '/assets', {
        name: `Laptop ${tag} ${String(i).padStart(2, '0')}`,
        kind: i % 3 === 0 ? 'software' : 'hardware',
        asset_tag: `T-${tag}-${i}`,
        purchase_cost: '1499.00',
        end_of_life: `2029-0${(i % 9) + 1}-01`,
      });
    }
    await signIn(page, 'viewer', `/assets?q=${tag}`);
    await page.getByRole('heading', { name: 'Assets' }).waitFor();
    await page.getByText('1–25 of 30').waitFor();
    await page.getByRole('button', { name: /Next/ }).click();
    await page.getByText('26–30 of 30').waitFor();

    await page.getByLabel('Kind').selectOption('software');
    await page.getByText('1–10 of 10').waitFor();
    // Sorted by name ascending by default: one click turns it round.
    await page.getByRole('button', { name: /^Name/ }).click();
    await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"]') !== null);
    expect(await page.locator('table.data tbody tr').first().textContent()).toContain(`Laptop ${tag} 30`);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('-name');
    await screenshot(page, 'assets');
  });

  it('projects are filtered by state from the dashboard', async () => {
    const { page } = browser;
    const tag = unique();
    const portfolio = (await call('portfolio_manager', 'POST', '/portfolios', { name: `Finance systems ${tag}` })).body;
    for (const [name, health] of [['ERP upgrade', 'amber'], ['Invoice OCR', 'green'], ['Treasury API', 'red']]) {
      await call('portfolio_manager', 'POST', '/projects', { name: `${name} ${tag}`, portfolio_id: portfolio.id, health });
    }
    await signIn(page, 'portfolio_manager', '/');
    await page.getByLabel('Portfolio').selectOption({ label: portfolio.name });
    await page.waitForFunction(() => document.querySelector('.kpi-value')?.textContent === '3');
    await screenshot(page, 'dashboard-portfolio');
    await page.getByRole('link', { name: 'Proposed' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill(tag);
    await page.getByRole('link', { name: `Treasury API ${tag}` }).waitFor();
    await page.getByLabel('Health').selectOption('red');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await screenshot(page, 'projects');
  });
});
