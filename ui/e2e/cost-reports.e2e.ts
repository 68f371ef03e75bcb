import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, screenshot, signIn, unique, useBrowser } from './support';

describe('cost reports', () => {
  const browser = useBrowser();

  it('groups the ledger by cost center with periods as columns, and exports the same totals as CSV', async () => {
    const { page } = browser;
    const tag = unique();
    const year = (await call('finance', 'GET', '/fiscal-periods/current')).body.fiscal_year as number;
    // A cost center of its own, so the report's figures are known exactly.
    const center = (await call('finance', 'POST', '/cost-centers', { code: `RPT-${tag}`, name: `Reporting ${tag}` })).body;
    const costType = (await call('finance', 'POST', '/cost-types', { code: `SW-${tag}`, name: `Software ${tag}`, classification: 'opex' })).body;
    const periods = (await call('finance', 'GET', `/fiscal-years/${year}/periods`)).body as { number: number; start_date: string }[];
    for (const [number, amount] of [
      [1, '1200.50'],
      [2, '799.50'],
      [2, '1000.00'],
    ] as const) {
      await call('finance', 'POST', '/ledger/lines', {
        entry_date: periods.find((p) => p.number === number)!.start_date,
        currency: (await call('finance', 'GET', '/settings')).body.reporting_currency,
        amount,
        cost_type_id: costType.id,
        cost_center_id: center.id,
        description: `licence ${tag}`,
      });
    }

    await signIn(page, 'finance', '/cost-reports');
    await page.getByRole('heading', { name: 'Cost reports' }).waitFor();
    await page.getByLabel('Only cost center').selectOption({ label: `RPT-${tag} Reporting ${tag}` });
    await page.getByRole('button', { name: 'Run report' }).click();
    const table = page.getByRole('table', { name: /Cost report in/ });
    await table.waitFor();
    expect(await table.locator('tfoot').textContent()).toContain('3,000.00');
    expect(await table.locator('thead').textContent()).toContain(`FY${year}-P02`);
    await screenshot(page, 'cost-report');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain(center.id);
    expect(csv).toMatch(/3000(\.00)?/);
  });
});
