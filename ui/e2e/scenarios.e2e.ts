import { describe, expect, it } from 'vitest';
import { call, screenshot, signIn, unique, useBrowser } from './support';

describe('the scenario planner', () => {
  const browser = useBrowser();

  it('optimises next year, keeps two scenarios, compares them and approves one into a budget version', async () => {
    const { page } = browser;
    const tag = unique();
    const year = ((await call('portfolio_manager', 'GET', '/fiscal-periods/current')).body.fiscal_year as number) + 1;
    const portfolio = (await call('portfolio_manager', 'POST', '/portfolios', { name: `Planning ${tag}` })).body;
    // Three proposals: the two cheap ones fit a CapEx budget of 150k together, the big one alone.
    for (const [name, capex, benefit] of [
      ['Chatbot', '60000', '150000'],
      ['Data catalogue', '80000', '160000'],
      ['ERP replacement', '150000', '250000'],
    ]) {
      await call('portfolio_manager', 'POST', '/projects', {
        name: `${name} ${tag}`,
        portfolio_id: portfolio.id,
        estimates: [
          { fiscal_year: year, capex, opex: '0', benefit: '0' },
          { fiscal_year: year + 1, capex: '0', opex: '0', benefit },
        ],
      });
    }

    await signIn(page, 'portfolio_manager', '/scenarios');
    await page.getByLabel('Portfolio').selectOption({ label: portfolio.name });
    await page.getByLabel(`CapEx budget FY${year}`).fill('150000');
    await page.getByRole('button', { name: 'Run optimiser' }).click();
    await page.getByRole('heading', { name: 'Result' }).waitFor();
    const funded = page.getByRole('table', { name: 'Funded items' });
    await funded.getByRole('link', { name: `Chatbot ${tag}` }).waitFor();
    expect(await funded.textContent()).toContain(`Data catalogue ${tag}`);
    // The one left out says which budget kept it out.
    const out = page.getByRole('table', { name: 'Items left out, and why' });
    expect(await out.getByRole('row', { name: new RegExp(`ERP replacement ${tag}`) }).textContent()).toMatch(/capex/i);
    await page.getByRole('img', { name: /Efficient frontier/ }).waitFor();
    await page.getByLabel('Scenario name').fill(`Two small ${tag}`);
    await page.getByRole('button', { name: 'Save as scenario' }).click();
    await page.getByRole('cell', { name: `Two small ${tag}`, exact: true }).waitFor();

    // A second scenario, chosen by risk-adjusted NPV.
    await page.getByLabel(`CapEx budget FY${year}`).fill('150000');
    await page.getByLabel('Objective', { exact: true }).selectOption('risk_adjusted_npv');
    await page.getByRole('button', { name: 'Run optimiser' }).click();
    await page.getByLabel('Scenario name').fill(`Risk adjusted ${tag}`);
    await page.getByRole('button', { name: 'Save as scenario' }).click();
    await page.getByRole('cell', { name: `Risk adjusted ${tag}`, exact: true }).waitFor();

    await page.getByLabel(`Compare Two small ${tag}`).check();
    await page.getByLabel(`Compare Risk adjusted ${tag}`).check();
    const comparison = page.getByRole('table', { name: /Scenarios side by side/ });
    await comparison.waitFor();
    expect(await comparison.textContent()).toContain('NPV');
    await screenshot(page, 'scenarios-compared');

    const center = (await call('finance', 'GET', '/cost-centers?per_page=1')).body.items[0];
    await page.getByRole('row', { name: new RegExp(`Two small ${tag}`) }).getByRole('button', { name: 'Approve…' }).click();
    const form = page.getByRole('form', { name: `Approve Two small ${tag}` });
    await form.getByLabel('Cost center for items without one').selectOption(center.id);
    await form.getByLabel('CapEx cost type').selectOption({ index: 1 });
    await form.getByLabel('OpEx cost type').selectOption({ index: 1 });
    await form.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Two small ${tag} is the plan.`).waitFor();
    await screenshot(page, 'scenario-approved');
    await page.getByRole('status').getByRole('link').first().click();
    await page.getByRole('heading', { name: /Budgets/ }).waitFor();
  });
});
