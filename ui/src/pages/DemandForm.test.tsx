import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { DemandForm } from './DemandForm';
import { json, mockFetch } from '../testing';

const portfolios = [{ id: 'p1', name: 'Digital workplace', owner: 'o', created_at: '', updated_at: '', version: 1 }];

function errorOf(input: HTMLElement): string | undefined {
  const ids = input.getAttribute('aria-describedby')?.split(' ') ?? [];
  return ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains('field-error'))?.textContent ?? undefined;
}

describe('the demand intake form', () => {
  it('shows each problem+json error next to the field its pointer names', async () => {
    const seen = mockFetch((req) =>
      req.method === 'POST' && req.path === '/api/v1/demands'
        ? json(422, {
            type: 'urn:itbm:problem:validation',
            title: 'Unprocessable Entity',
            status: 422,
            detail: '3 fields are invalid',
            errors: [
              { pointer: '/title', detail: 'must not be empty' },
              { pointer: '/estimates/1/capex', detail: 'must not be negative' },
              { pointer: '/requester', detail: 'must not be empty' },
            ],
          })
        : undefined,
    );
    const onCreated = vi.fn();
    render(<DemandForm portfolios={portfolios} firstYear={2027} onCreated={onCreated} onCancel={() => {}} />);
    fireEvent.click(screen.getByRole('button', { name: 'Add a year' }));
    fireEvent.change(screen.getByLabelText('CapEx, row 2'), { target: { value: '-5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create demand' }));

    const title = screen.getByLabelText('Title');
    await waitFor(() => expect(errorOf(title)).toBe('must not be empty'));
    expect(title.getAttribute('aria-invalid')).toBe('true');
    expect(errorOf(screen.getByLabelText('CapEx, row 2'))).toBe('must not be negative');
    expect(errorOf(screen.getByLabelText('CapEx, row 1'))).toBeUndefined();
    // The error no field of the form shows is in the summary.
    expect(screen.getByRole('alert').textContent).toContain('/requester');
    expect(onCreated).not.toHaveBeenCalled();

    // The amounts went as typed, as strings.
    expect(seen[0].body).toMatchObject({
      title: '',
      estimates: [
        { fiscal_year: 2027, capex: '0' },
        { fiscal_year: 2028, capex: '-5' },
      ],
    });
  });

  it('hands the created demand on', async () => {
    mockFetch((req) => (req.method === 'POST' ? json(201, { id: 'd1', title: 'Laptops', estimates: [], totals: {} }) : undefined));
    const onCreated = vi.fn();
    render(<DemandForm portfolios={portfolios} firstYear={2027} onCreated={onCreated} onCancel={() => {}} />);
    fireEvent.change(screen.getByLabelText('Title'), { target: { value: 'Laptops' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create demand' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(expect.objectContaining({ id: 'd1' })));
  });
});
