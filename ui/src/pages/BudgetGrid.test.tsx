import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { BudgetGrid } from './BudgetGrid';
import { json, mockFetch } from '../testing';
import type { Schemas } from '../api/client';

const periods = [1, 2].map((n) => ({
  id: `FY2027-P0${n}`,
  fiscal_year: 2027,
  number: n,
  start_date: `2026-0${n}-01`,
  end_date: `2026-0${n}-28`,
}));
const costCenters = [{ id: 'cc1', code: 'CC-10', name: 'Infrastructure', created_at: '', updated_at: '', version: 1 }];
const line = (amount: string, version: number): Schemas['BudgetLine'] => ({
  id: 'l1',
  budget_version_id: 'v1',
  fiscal_period: 'FY2027-P01',
  cost_center_id: 'cc1',
  cost_type_id: 'ct1',
  amount,
  currency: 'EUR',
  created_at: '',
  updated_at: '',
  version,
});

function grid() {
  return render(
    <BudgetGrid versionId="v1" currency="EUR" costTypeId="ct1" periods={periods} costCenters={costCenters} lines={[line('1000.00', 3)]} editable />,
  );
}

async function edit(cell: RegExp, value: string) {
  fireEvent.click(screen.getByRole('button', { name: cell }));
  const input = screen.getByRole('textbox', { name: /Amount for/ });
  fireEvent.change(input, { target: { value } });
  fireEvent.keyDown(input, { key: 'Enter' });
}

describe('the budget grid', () => {
  it('saves a cell with PATCH and the line’s ETag in If-Match', async () => {
    const seen = mockFetch((req) => (req.method === 'PATCH' ? json(200, line('1500.00', 4), { ETag: '"4"' }) : undefined));
    grid();
    await edit(/CC-10 Infrastructure, FY2027-P01/, '1500.00');
    await waitFor(() => expect(screen.getByRole('button', { name: /FY2027-P01: €1,500/ })).toBeTruthy());
    expect(seen[0].path).toBe('/api/v1/budget-lines/l1');
    expect(seen[0].headers.get('If-Match')).toBe('"3"');
    expect(seen[0].body).toEqual({ amount: '1500.00' });
  });

  it('says so when someone else changed the cell first (412) and reloads it on request', async () => {
    const seen = mockFetch(
      (req) =>
        req.method === 'PATCH'
          ? json(412, { type: 'urn:itbm:problem:precondition-failed', title: 'Precondition Failed', status: 412, detail: 'changed by someone else' })
          : undefined,
      (req) => (req.method === 'GET' && req.path === '/api/v1/budget-lines/l1' ? json(200, line('2000.00', 4), { ETag: '"4"' }) : undefined),
    );
    grid();
    await edit(/CC-10 Infrastructure, FY2027-P01/, '1500.00');

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Someone else changed this cell first');
    expect(alert.textContent).toContain('your value (1500.00) was not saved');
    // The cell still shows what was loaded, not the value that was refused.
    expect(screen.getByRole('button', { name: /FY2027-P01: €1,000/ })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Reload the cell' }));
    await waitFor(() => expect(screen.getByRole('button', { name: /FY2027-P01: €2,000/ })).toBeTruthy());
    expect(screen.queryByText(/Someone else changed this cell first/)).toBeNull();
    expect(screen.getByRole('status').textContent).toContain('Your value was 1500.00');

    // Editing again now sends the new ETag.
    await edit(/CC-10 Infrastructure, FY2027-P01/, '1500.00');
    await waitFor(() => expect(seen.filter((r) => r.method === 'PATCH')).toHaveLength(2));
    expect(seen.filter((r) => r.method === 'PATCH')[1].headers.get('If-Match')).toBe('"4"');
  });

  it('creates a line for an empty cell', async () => {
    const seen = mockFetch((req) =>
      req.method === 'POST' ? json(201, { ...line('75', 1), id: 'l2', fiscal_period: 'FY2027-P02' }) : undefined,
    );
    grid();
    await edit(/CC-10 Infrastructure, FY2027-P02: empty/, '75');
    await waitFor(() => expect(screen.getByRole('button', { name: /FY2027-P02: €75/ })).toBeTruthy());
    expect(seen[0]).toMatchObject({
      path: '/api/v1/budget-versions/v1/lines',
      body: { fiscal_period: 'FY2027-P02', cost_center_id: 'cc1', cost_type_id: 'ct1', amount: '75' },
    });
  });

  it('refuses text that is not an amount without asking the server', async () => {
    const seen = mockFetch();
    grid();
    await edit(/FY2027-P01/, '1,500');
    expect(await screen.findByText(/not an amount/)).toBeTruthy();
    expect(seen).toHaveLength(0);
  });
});
