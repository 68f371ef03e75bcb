import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { useLoad } from '../hooks';
import { money } from '../format';
import { toNumber } from '../decimal';
import { BarChart } from '../components/BarChart';
import { ProblemAlert } from '../components/ProblemAlert';

/** Plan (the business case), budget and actual (the ledger) per fiscal year, in the reporting currency. */
export function ProjectFinancials({ id }: { id: string }) {
  const f = useLoad(() => unwrap(api.GET('/api/v1/projects/{id}/financials', { params: { path: { id } } })), [id]);
  const data = f.data;
  return (
    <div className="card">
      <h2>Financials over time{data ? ` (${data.currency})` : ''}</h2>
      <ProblemAlert problem={f.problem} />
      {data && data.years.length === 0 && <p>No plan, budget or actual names this project yet.</p>}
      {data && data.years.length > 0 && (
        <>
          <BarChart
            title="Cost per fiscal year: plan, budget and actual"
            series={[
              { name: 'Plan', color: '#64748b' },
              { name: 'Budget', color: '#1d4ed8' },
              { name: 'Actual', color: '#f59e0b' },
              { name: 'Planned benefit', color: '#16a34a' },
            ]}
            groups={data.years.map((y) => ({
              label: `FY${y.fiscal_year}`,
              values: [toNumber(y.plan.total), toNumber(y.budget.total), toNumber(y.actual.total), toNumber(y.plan.benefit)],
            }))}
          />
          <table className="data">
            <caption className="visually-hidden">Plan, budget and actual per fiscal year</caption>
            <thead>
              <tr>
                <th scope="col">Fiscal year</th>
                <th scope="col" className="num">Plan CapEx</th>
                <th scope="col" className="num">Plan OpEx</th>
                <th scope="col" className="num">Budget</th>
                <th scope="col" className="num">Actual CapEx</th>
                <th scope="col" className="num">Actual OpEx</th>
                <th scope="col" className="num">Planned benefit</th>
              </tr>
            </thead>
            <tbody>
              {data.years.map((y) => (
                <tr key={y.fiscal_year}>
                  <th scope="row">FY{y.fiscal_year}</th>
                  <td className="num">{money(y.plan.capex, data.currency)}</td>
                  <td className="num">{money(y.plan.opex, data.currency)}</td>
                  <td className="num">{money(y.budget.total, data.currency)}</td>
                  <td className="num">{money(y.actual.capex, data.currency)}</td>
                  <td className="num">{money(y.actual.opex, data.currency)}</td>
                  <td className="num">{money(y.plan.benefit, data.currency)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td className="num">{money(data.totals.plan.capex, data.currency)}</td>
                <td className="num">{money(data.totals.plan.opex, data.currency)}</td>
                <td className="num">{money(data.totals.budget.total, data.currency)}</td>
                <td className="num">{money(data.totals.actual.capex, data.currency)}</td>
                <td className="num">{money(data.totals.actual.opex, data.currency)}</td>
                <td className="num">{money(data.totals.plan.benefit, data.currency)}</td>
              </tr>
            </tfoot>
          </table>
          {data.rates_used.length > 0 && (
            <p className="hint">Converted at: {data.rates_used.map((r) => `${r.from_currency}→${r.to_currency} ${r.month} ${r.rate}`).join('; ')}.</p>
          )}
        </>
      )}
    </div>
  );
}

/** The metrics of the project's ROI model (or another chosen here), with the model's explanation. */
export function ProjectRoi({ id, defaultModel }: { id: string; defaultModel: string }) {
  const models = useLoad(() => unwrap(api.GET('/api/v1/roi-models')), []);
  const [model, setModel] = useState(defaultModel);
  const roi = useLoad(() => unwrap(api.GET('/api/v1/projects/{id}/roi', { params: { path: { id }, query: { model } } })), [id, model]);
  const e = roi.data?.evaluation;
  return (
    <div className="card">
      <div className="page-head">
        <h2>Return on investment</h2>
        <label>
          Model{' '}
          <select value={model} onChange={(ev) => setModel(ev.target.value)}>
            {(models.data ?? [{ model: defaultModel, enabled: true }]).filter((m) => m.enabled).map((m) => (
              <option key={m.model} value={m.model}>
                {m.model}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ProblemAlert problem={roi.problem} />
      {roi.loading && !e && <p className="hint">Evaluating…</p>}
      {e && (
        <>
          <div className="kpis">
            {e.metrics.map((m) => (
              <div className="kpi" key={m.name}>
                <span className="kpi-label">{m.name}</span>
                <span className="kpi-value">{formatMetric(m.value, m.unit, e.currency)}</span>
              </div>
            ))}
          </div>
          {e.percentiles.length > 0 && (
            <table className="data">
              <caption>Simulated percentiles (statistics over random draws)</caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col" className="num">Percentile</th>
                  <th scope="col" className="num">Value</th>
                </tr>
              </thead>
              <tbody>
                {e.percentiles.map((p) => (
                  <tr key={`${p.metric}-${p.rank}`}>
                    <th scope="row">{p.metric}</th>
                    <td className="num">P{p.rank}</td>
                    <td className="num">{money(p.value, e.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="hint">
            {e.explanation} Discount rate {e.discount_rate}; {e.model} {e.model_version}.
          </p>
        </>
      )}
    </div>
  );
}

function formatMetric(value: string | null | undefined, unit: string, currency: string): string {
  if (value == null) return 'undefined';
  if (unit === currency) return money(value, currency);
  if (unit === 'ratio') return `${(toNumber(value) * 100).toFixed(1)} %`;
  return `${value} ${unit}`;
}
