import { describe, expect, it } from 'vitest';
import { call, screenshot, signIn, unique, useBrowser } from './support';

describe('a demand becomes a project', () => {
  const browser = useBrowser();

  it('is created with field errors first, then submitted, reviewed, approved, and its project found', async () => {
    const { page } = browser;
    const tag = unique();
    const portfolio = (await call('portfolio_manager', 'POST', '/portfolios', { name: `Workplace ${tag}` })).body;
    const title = `Self-service password reset ${tag}`;

    await signIn(page, 'portfolio_manager', '/demands');
    await page.getByRole('heading', { name: 'Demand board' }).waitFor();
    await page.getByRole('button', { name: 'New demand' }).click();

    // A first attempt with no title and a negative amount: the server's 422
    // names both fields, and each message appears beside its input.
    await page.getByLabel('CapEx, row 1').fill('-120000');
    await page.getByRole('button', { name: 'Create demand' }).click();
    await page.locator('.field-invalid').first().waitFor();
    const titleField = page.locator('.field', { has: page.getByLabel('Title', { exact: true }) });
    expect(await titleField.locator('.field-error').textContent()).toMatch(/empty|blank|required/i);
    const capexField = page.locator('.field', { has: page.getByLabel('CapEx, row 1') });
    expect(await capexField.locator('.field-error').textContent()).toMatch(/negative/i);
    await screenshot(page, 'demand-field-errors');

    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Investment category').selectOption('run');
    await page.getByLabel('CapEx, row 1').fill('120000.00');
    await page.getByLabel('OpEx, row 1').fill('18000.00');
    await page.getByLabel('Benefit, row 1').fill('95000.00');
    await page.getByRole('button', { name: 'Add a year' }).click();
    await page.getByLabel('OpEx, row 2').fill('18000.00');
    await page.getByLabel('Benefit, row 2').fill('110000.00');
    await page.getByRole('button', { name: 'Create demand' }).click();

    const panel = page.getByRole('complementary');
    await panel.getByRole('heading', { name: title }).waitFor();
    expect(await panel.locator('tfoot').textContent()).toContain('$36,000');

    // Scored in WSJF: every criterion within its scale, and the score with each part.
    const scoring = panel.getByRole('region', { name: 'Scoring' });
    await scoring.getByLabel('Framework').selectOption({ label: 'WSJF' });
    const inputs = scoring.locator('input');
    await inputs.first().waitFor();
    for (let i = 0; i < (await inputs.count()); i++) await inputs.nth(i).fill('3');
    await scoring.getByRole('button', { name: 'Save scores' }).click();
    await scoring.getByRole('status').filter({ hasText: /WSJF score: [0-9]/ }).waitFor();
    await screenshot(page, 'demand-scored');

    for (const step of ['Submit', 'Start review']) {
      await panel.getByRole('button', { name: step }).click();
      await panel.getByRole('button', { name: step }).waitFor({ state: 'detached' });
    }
    await panel.getByRole('button', { name: 'Approve…' }).click();
    await panel.getByLabel('Portfolio').selectOption({ label: portfolio.name });
    await panel.getByLabel('Note (kept with the decision)').fill('Cuts help-desk calls');
    await screenshot(page, 'demand-approval');
    await panel.getByRole('button', { name: 'Approve and create the project' }).click();

    const link = panel.getByRole('link', { name: 'open the project' });
    await link.waitFor();
    expect(await page.locator('.column', { hasText: 'Decided' }).textContent()).toContain(title);
    await screenshot(page, 'demand-approved');

    await link.click();
    await page.getByRole('heading', { name: new RegExp(title) }).waitFor();
    expect(await page.locator('main').textContent()).toContain('Approved');
    expect(await page.locator('tfoot').first().textContent()).toContain('$205,000');
    await screenshot(page, 'project-from-demand');

    // And the projects list finds it.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill(tag);
    await page.getByRole('link', { name: title }).waitFor();
    const rows = page.locator('table.data tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    expect(await rows.first().textContent()).toContain(portfolio.name);
    await screenshot(page, 'projects-search');
  });

  it('a lifecycle step the project can no longer take shows the 409 problem', async () => {
    const { page } = browser;
    const tag = unique();
    const portfolio = (await call('portfolio_manager', 'POST', '/portfolios', { name: `Data platform ${tag}` })).body;
    const project = (
      await call('portfolio_manager', 'POST', '/projects', {
        name: `Lakehouse ${tag}`,
        portfolio_id: portfolio.id,
        estimates: [{ fiscal_year: 2027, capex: '50000', opex: '12000', benefit: '0' }],
      })
    ).body;
    await signIn(page, 'portfolio_manager', `/projects/${project.id}`);
    await page.getByRole('button', { name: 'Approve' }).waitFor();

    // The manager reports the project's health.
    await page.getByLabel('Health').selectOption('red');
    await page.locator('.page-head .badge-red').waitFor();
    expect((await call('viewer', 'GET', `/projects/${project.id}`)).body.health).toBe('red');

    // Someone else cancels the project while this page is open.
    await call('portfolio_manager', 'POST', `/projects/${project.id}/transitions`, { to: 'cancelled', reason: 'budget cut' });
    await page.getByRole('button', { name: 'Approve' }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('a project cannot move from cancelled to approved');
    // The page now shows the project as it is.
    await page.getByText('its lifecycle has ended').waitFor();
    await screenshot(page, 'project-409');
  });
});
