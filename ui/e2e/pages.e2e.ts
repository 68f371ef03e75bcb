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

  it('every page opens on the demo organisation with its figures and no error', async () => {
    const { page } = browser;
    await signIn(page, 'admin', '/');
    const noProblem = async (name: string) => {
      await page.waitForFunction(() => !document.querySelector('.loading'), undefined, { timeout: 30_000 }).catch(() => {});
      const alerts = await page.locator('.alert-error').allTextContents();
      expect(alerts, `${name}: ${alerts.join(' | ')}`).toEqual([]);
      await screenshot(page, `page-${name}`);
    };

    // The dashboard: KPIs, the budget and actual figures, the bubble chart.
    await page.getByRole('heading', { name: 'Value, cost and risk' }).waitFor();
    await page.getByText('Estimate at completion').first().waitFor();
    await noProblem('dashboard');

    // A project with its financials and its ROI from roi-dcf.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.locator('table.data tbody tr a').first().click();
    await page.getByRole('heading', { name: 'Financials over time' , exact: false }).waitFor();
    await page.getByText('npv', { exact: true }).first().waitFor({ timeout: 30_000 });
    await noProblem('project');

    // The scenario planner: the optimiser over the first portfolio, with the frontier.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Scenarios' }).click();
    await page.getByLabel('Portfolio').selectOption({ index: 1 });
    for (const [label, amount] of [[/CapEx budget FY/, '5000000'], [/OpEx budget FY/, '2000000']] as const) {
      const inputs = page.getByLabel(label);
      for (let i = 0; i < (await inputs.count()); i++) await inputs.nth(i).fill(amount);
    }
    await page.getByRole('button', { name: 'Run optimiser' }).click();
    await page.getByRole('heading', { name: 'Result' }).waitFor({ timeout: 30_000 });
    await noProblem('scenarios');

    // An asset: TCO and its depreciation chart.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Assets' }).click();
    await page.getByRole('heading', { name: 'Refresh forecast' }).waitFor();
    await page.locator('table.data tbody tr a').first().click();
    await page.getByRole('heading', { name: 'Total cost of ownership' }).waitFor();
    await page.getByText(/book value/).first().waitFor();
    await noProblem('asset');

    // Cost reports over the demo ledger.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cost reports' }).click();
    await page.getByRole('button', { name: 'Run report' }).click();
    await page.getByRole('table', { name: /Cost report in/ }).waitFor({ timeout: 30_000 });
    await noProblem('cost-report');

    // The plugins page lists the built-ins.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Plugins' }).click();
    await page.getByRole('cell', { name: /roi-dcf/ }).first().waitFor();
    await noProblem('plugins');
  });
});
