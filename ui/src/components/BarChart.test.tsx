import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { BarChart } from './BarChart';

const series = [
  { name: 'Budget', color: '#00f' },
  { name: 'Actual', color: '#f80' },
];

describe('the bar chart', () => {
  it('draws bars to a round scale and gives screen readers the figures as a table', () => {
    const { container } = render(
      <BarChart
        title="Budget and actual"
        series={series}
        groups={[
          { label: 'P01', values: [800, 400] },
          { label: 'P02', values: [200, 0] },
        ]}
        height={220}
      />,
    );
    expect(screen.getByRole('img', { name: 'Budget and actual' })).toBeTruthy();
    const heights = [...container.querySelectorAll('rect')].map((r) => Number(r.getAttribute('height')));
    // The scale runs to 1000 (the next round number above 800); the plot is 180 high.
    expect(heights).toEqual([144, 72, 36, 0]);
    const table = screen.getByRole('table', { name: 'Budget and actual' });
    expect(table.textContent).toContain('P01800400');
  });

  it('says so when there is nothing to draw', () => {
    render(<BarChart title="Run, grow, transform" series={series.slice(0, 1)} groups={[{ label: 'Run', values: [0] }]} />);
    expect(screen.getByText('Nothing to show yet.')).toBeTruthy();
    expect(screen.queryByRole('img')).toBeNull();
  });
});
