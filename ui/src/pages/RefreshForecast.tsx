import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allBudgetVersions } from '../api/lists';
import { useAction, useLoad } from '../hooks';
import { date, money } from '../format';
import { Link } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';

type Item = Schemas['RefreshItem'];

/** Assets reaching their end of life within N months, priced for replacement; writable into a draft budget version. */
export function RefreshForecast() {
  const [months, setMonths] = useState('12');
  const [uplift, setUplift] = useState('0');
  const forecast = useLoad(
    () => unwrap(api.GET('/api/v1/assets/refresh-forecast', { params: { query: { months: Number(months) || undefined, uplift_percent: uplift || undefined } } })),
    [months, uplift],
  );
  const versions = useLoad(() => allBudgetVersions(), []);
  const drafts = (versions.data ?? []).filter((v) => v.state === 'draft');
  const [versionId, setVersionId] = useState('');
  const [written, setWritten] = useState<Schemas['RefreshBudgetResult'] | null>(null);
  const write = useAction(async () => {
    setWritten(
      await unwrap(
        api.POST('/api/v1/assets/refresh-forecast/budget', {
          body: { budget_version_id: versionId, months: Number(months) || null, uplift_percent: uplift || null },
        }),
      ),
    );
  });
  const columns: Column<Item>[] = [
    { key: 'name', header: 'Asset', render: (i) => <Link to={`/assets/${encodeURIComponent(i.asset_id)}`}>{i.name}</Link> },
    { key: 'state', header: 'State', render: (i) => <Badge value={i.state} /> },
    { key: 'eol', header: 'End of life', render: (i) => (i.overdue ? <strong>{date(i.end_of_life)} (overdue)</strong> : date(i.end_of_life)) },
    { key: 'period', header: 'Replace in', render: (i) => i.fiscal_period },
    { key: 'cost', header: 'Replacement cost', numeric: true, render: (i) => money(i.replacement_cost, i.currency) },
  ];
  return (
    <div className="card">
      <h2>Refresh forecast</h2>
      <form className="filters" aria-label="Refresh horizon" onSubmit={(e) => e.preventDefault()}>
        <label>
          Within{' '}
          <input className="narrow" inputMode="numeric" value={months} onChange={(e) => setMonths(e.target.value)} /> months
        </label>
        <label>
          Price change{' '}
          <input className="narrow" inputMode="decimal" value={uplift} onChange={(e) => setUplift(e.target.value)} /> %
        </label>
      </form>
      <ProblemAlert problem={forecast.problem} />
      {forecast.data && (
        <p>
          {forecast.data.items.length} assets reach their end of life by {date(forecast.data.until)}:{' '}
          {forecast.data.totals.map((t) => money(t.amount, t.currency)).join(' + ') || 'nothing to replace'}.
          {forecast.data.unpriced.length > 0 && ` ${forecast.data.unpriced.length} have no purchase cost to price them by.`}
        </p>
      )}
      <DataTable caption="Assets to replace" columns={columns} rows={forecast.data?.items ?? []} rowKey={(i) => i.asset_id} loading={forecast.loading} empty="No asset reaches its end of life in this horizon." />
      <form
        className="inline-form"
        aria-label="Write the refresh into a budget version"
        onSubmit={(e) => {
          e.preventDefault();
          write.perform();
        }}
      >
        <label>
          Draft budget version{' '}
          <select value={versionId} onChange={(e) => setVersionId(e.target.value)}>
            <option value="">—</option>
            {drafts.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} (FY{v.fiscal_year})
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!versionId || write.busy}>
          Write replacements into the budget
        </button>
      </form>
      <ProblemAlert problem={write.problem} />
      {written && (
        <p role="status" className="alert alert-success">
          {written.lines_created} budget lines created and {written.lines_updated} updated
          {written.outside_fiscal_year.length > 0 && `; ${written.outside_fiscal_year.length} replacements fall outside the version's fiscal year`}.{' '}
          <Link to={`/budgets/${encodeURIComponent(written.budget_version_id)}`}>Open the budget</Link>
        </p>
      )}
    </div>
  );
}
