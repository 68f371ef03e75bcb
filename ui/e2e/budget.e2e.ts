import { describe, expect, it } from 'vitest';
import { call, screenshot, signIn, unique, useBrowser } from './support';

describe('editing a budget', () => {
  const browser = useBrowser();

  it('saves a cell, and when someone else changed it first says so and reloads it', async () => {
    const { page } = browser;
    const tag = unique();
    const year = (await call('finance', 'GET', '/fiscal-periods/current')).body.fiscal_year as number;
    const infra = (await call('finance', 'POST', '/cost-centers', { code: `INF-${tag}`, name: 'Infrastructure' })).body;
    // Codes that sort next to each other, whatever else the database holds (the
    // demo organisation has cost centers of its own).
    const apps = (await call('finance', 'POST', '/cost-centers', { code: `INF-${tag}-APP`, name: 'Applications' })).body;
    const costType = (await call('finance', 'POST', '/cost-types', { code: `HW-${tag}`, name: 'Hardware', classification: 'capex' })).body;
    const version = (await call('finance', 'POST', '/budget-versions', { name: `Plan ${tag}`, fiscal_year: year })).body;
    const line = (
      await call('finance', 'POST', `/budget-versions/${version.id}/lines`, {
        fiscal_period: `FY${year}-P01`,
        cost_center_id: infra.id,
        cost_type_id: costType.id,
        amount: '1000.00',
      })
    ).body;
    await call('finance', 'POST', `/budget-versions/${version.id}/lines`, {
      fiscal_period: `FY${year}-P02`,
      cost_center_id: apps.id,
      cost_type_id: costType.id,
      amount: '250.00',
    });

    await signIn(page, 'finance', `/budgets/${version.id}?cost_type=${costType.id}`);
    const cell = (cc: { code: string }, period: number) =>
      page.getByRole('button', { name: new RegExp(`^${cc.code} .*, FY${year}-P${String(period).padStart(2, '0')}:`) });
    await cell(infra, 1).waitFor();
    expect(await cell(infra, 1).getAttribute('aria-label')).toContain('$1,000');

    // An edit with the keyboard: Enter to edit, type, Enter to save.
    await cell(infra, 1).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: new RegExp(`Amount for INF-${tag}`) }).fill('1200.50');
    await page.keyboard.press('Enter');
    await page.getByText(/^Saved /).waitFor();
    expect(await cell(infra, 1).getAttribute('aria-label')).toContain('$1,200.5');
    expect((await call('finance', 'GET', `/budget-lines/${line.id}`)).body.amount).toBe('1200.50');
    // Focus stays on the saved cell; arrow keys move through the grid.
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(new RegExp(`^INF-${tag} .*P02: empty`));
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(new RegExp(`^INF-${tag}-APP .*P02: \\$250.00`));

    // Someone else changes the same cell through the API...
    const current = await call('finance', 'GET', `/budget-lines/${line.id}`);
    await call('finance', 'PATCH', `/budget-lines/${line.id}`, { amount: '1800.00' }, { 'If-Match': current.etag! });

    // ...and this page, which still shows 1,200.50, tries to save over it.
    await cell(infra, 1).click();
    await page.getByRole('textbox', { name: new RegExp(`Amount for INF-${tag}`) }).fill('1300.00');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Someone else changed this cell first');
    expect((await call('finance', 'GET', `/budget-lines/${line.id}`)).body.amount).toBe('1800.00');
    await screenshot(page, 'budget-conflict');

    await page.getByRole('button', { name: 'Reload the cell' }).click();
    await page.getByText(/Reloaded .*it is now \$1,800/).waitFor();
    expect(await cell(infra, 1).getAttribute('aria-label')).toContain('$1,800');
    await screenshot(page, 'budget-reloaded');
  });

  it('a finance user creates a version, fills a cell and copies the version as a reforecast', async () => {
    const { page } = browser;
    const tag = unique();
    await call('finance', 'POST', '/cost-centers', { code: `OPS-${tag}`, name: 'Operations' });
    const costType = (await call('finance', 'POST', '/cost-types', { code: `SV-${tag}`, name: 'Services', classification: 'opex' })).body;

    await signIn(page, 'finance', '/budgets');
    await page.getByRole('button', { name: 'New version' }).click();
    const form = page.getByRole('form', { name: 'New budget version' });
    await form.getByRole('button', { name: 'Create' }).click();
    await form.locator('.field-invalid').waitFor();
    expect(await form.locator('.field', { has: page.getByLabel('Name') }).locator('.field-error').textContent()).toContain('must not be empty');
    await form.getByLabel('Name').fill(`Plan ${tag}`);
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: new RegExp(`Plan ${tag}`) }).waitFor();

    await page.getByLabel('Cost type').selectOption(costType.id);
    const cell = page.getByRole('button', { name: new RegExp(`^OPS-${tag} .*P03: empty`) });
    await cell.click();
    await page.getByRole('textbox', { name: new RegExp(`Amount for OPS-${tag}`) }).fill('4200');
    await page.keyboard.press('Enter');
    await page.getByText(/^Saved /).waitFor();

    await page.getByRole('button', { name: 'Copy…' }).click();
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.getByRole('heading', { name: new RegExp(`Plan ${tag} reforecast`) }).waitFor();
    await page.getByLabel('Cost type').selectOption(costType.id);
    await page.getByRole('button', { name: new RegExp(`^OPS-${tag} .*P03: \\$4,200.00`) }).waitFor();
    await screenshot(page, 'budget-copy');
  });
});
