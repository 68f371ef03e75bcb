import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allBudgetVersions, allCostCenters, allPortfolios, allProjects, preferredVersion } from '../api/lists';
import { useLoad } from '../hooks';
import { toNumber } from '../decimal';
import { label, money } from '../format';
import { BarChart } from '../components/BarChart';
import { ScatterChart } from '../components/ScatterChart';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { Link } from '../router';

type Project = Schemas['Project'];
const STATES: Project['state'][] = ['proposed', 'approved', 'in_progress', 'on_hold', 'completed', 'cancelled'];
const HEALTHS: Project['health'][] = ['green', 'amber', 'red'];
const CATEGORIES: Project['investment_category'][] = ['run', 'grow', 'transform'];
const COLORS = { budget: '#1d4ed8', actual: '#f59e0b', run: '#64748b', grow: '#16a34a', transform: '#9333ea' };

/** Portfolio dashboard: the projects by state and health, the run/grow/transform split, and budget against actual. */
export function Dashboard() {
  const [portfolio, setPortfolio] = useState('');
  const [versionId, setVersionId] = useState('');
  const base = useLoad(async () => {
    const [settings, period, portfolios] = await Promise.all([
      unwrap(api.GET('/api/v1/settings')),
      unwrap(api.GET('/api/v1/fiscal-periods/current')),
      allPortfolios(),
    ]);
    return { settings, period, portfolios };
  }, []);
  const projects = useLoad(() => allProjects(portfolio), [portfolio]);
  const year = base.data?.period.fiscal_year;

  return (
    <section>
      <div className="page-head">
        <h1>Portfolio dashboard</h1>
        <div className="filters">
          <label>
            Portfolio{' '}
            <select value={portfolio} onChange={(e) => setPortfolio(e.target.value)}>
              <option value="">All portfolios</option>
              {base.data?.portfolios.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <ProblemAlert problem={base.problem ?? projects.problem} />
      {projects.loading && !projects.data ? <Loading what="Loading projects" /> : null}
      {projects.data && <ProjectSummary projects={projects.data} />}
      {base.data && <ValueMapCard portfolioIds={portfolio ? [portfolio] : base.data.portfolios.map((p) => p.id)} />}
      {year !== undefined && base.data && (
        <BudgetVsActual year={year} versionId={versionId} onVersion={setVersionId} />
      )}
    </section>
  );
}

function ProjectSummary({ projects }: { projects: Project[] }) {
  const count = (f: (p: Project) => boolean) => projects.filter(f).length;
  const active = count((p) => p.state === 'in_progress');
  const red = count((p) => p.health === 'red' && p.state !== 'completed' && p.state !== 'cancelled');
  return (
    <>
      <div className="kpis">
        <Kpi label="Projects" value={String(projects.length)} />
        <Kpi label="In progress" value={String(active)} />
        <Kpi label="Red and open" value={String(red)} tone={red > 0 ? 'bad' : undefined} />
        <Kpi label="Proposed" value={String(count((p) => p.state === 'proposed'))} />
      </div>
      <div className="grid-2">
        <div className="card">
          <h2>Projects by state and health</h2>
          <table className="data matrix">
            <caption className="visually-hidden">Number of projects per state and health</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                {HEALTHS.map((h) => (
                  <th key={h} scope="col" className="num">
                    <span className={`dot dot-${h}`} aria-hidden="true" /> {label(h)}
                  </th>
                ))}
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {STATES.map((s) => (
                <tr key={s}>
                  <th scope="row">
                    <Link to={`/projects?state=${s}`}>{label(s)}</Link>
                  </th>
                  {HEALTHS.map((h) => (
                    <td key={h} className="num">
                      {count((p) => p.state === s && p.health === h) || ''}
                    </td>
                  ))}
                  <td className="num">
                    <strong>{count((p) => p.state === s)}</strong>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card">
          <BarChart
            title="Run, grow, transform (number of projects)"
            series={[{ name: 'Projects', color: COLORS.grow }]}
            groups={CATEGORIES.map((c) => ({ label: label(c), values: [count((p) => p.investment_category === c)], color: COLORS[c] }))}
            format={(v) => (Number.isInteger(v) ? String(v) : '')}
            height={200}
          />
          <p className="split">
            {CATEGORIES.map((c) => {
              const n = count((p) => p.investment_category === c);
              const share = projects.length ? Math.round((100 * n) / projects.length) : 0;
              return (
                <span key={c}>
                  <span className="swatch" style={{ background: COLORS[c] }} aria-hidden="true" /> {label(c)} {share}%
                </span>
              );
            })}
          </p>
        </div>
      </div>
    </>
  );
}

function Kpi({ label: name, value, tone }: { label: string; value: string; tone?: 'bad' }) {
  return (
    <div className={`kpi ${tone ?? ''}`}>
      <span className="kpi-label">{name}</span>
      <span className="kpi-value">{value}</span>
    </div>
  );
}

function BudgetVsActual({ year, versionId, onVersion }: { year: number; versionId: string; onVersion: (id: string) => void }) {
  const versions = useLoad(() => allBudgetVersions(year), [year]);
  const plans = (versions.data ?? []).filter((v) => v.kind === 'plan');
  const chosen = versionId || preferredVersion(plans)?.id || '';
  // Budget, the newest reforecast and actuals, every currency converted into
  // the reporting currency at each period's rate (the server names the rates).
  const report = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/budget-analytics/variance', {
          params: { query: { fiscal_year: year, budget_version_id: chosen || undefined, group_by: 'period' } },
        }),
      ),
    [year, chosen],
  );
  const byCenter = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/budget-analytics/variance', {
          params: { query: { fiscal_year: year, budget_version_id: chosen || undefined, group_by: 'cost_center' } },
        }),
      ),
    [year, chosen],
  );
  const centers = useLoad(allCostCenters, []);
  const centerName = new Map(centers.data?.map((c) => [c.id, `${c.code} ${c.name}`]));
  const data = report.data;
  const t = data?.totals;

  return (
    <div className="card">
      <div className="page-head">
        <h2>Budget, forecast and actual, FY{year}</h2>
        <label>
          Budget version{' '}
          <select value={chosen} onChange={(e) => onVersion(e.target.value)} disabled={!plans.length}>
            {!plans.length && <option value="">No budget for FY{year}</option>}
            {plans.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} ({label(v.state)})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ProblemAlert problem={versions.problem ?? report.problem} />
      {report.loading && !data ? <Loading what="Loading budget, forecast and actuals" /> : null}
      {data && t && (
        <>
          <div className="kpis">
            <Kpi label="Budget" value={money(t.budget, data.currency)} />
            <Kpi label="Forecast" value={t.forecast == null ? 'no reforecast' : money(t.forecast, data.currency)} />
            <Kpi label="Actual to date" value={money(t.actual, data.currency)} />
            <Kpi label="Estimate at completion" value={money(t.eac, data.currency)} />
            <Kpi
              label="Variance at completion"
              value={money(t.variance_at_completion, data.currency)}
              // Variance is actual (or EAC) minus budget: above zero is an overspend.
              tone={toNumber(t.variance_at_completion) > 0 ? 'bad' : undefined}
            />
          </div>
          <BarChart
            title={`Budget, forecast and actual per period, ${data.currency}`}
            series={[
              { name: 'Budget', color: COLORS.budget },
              { name: 'Forecast', color: '#64748b' },
              { name: 'Actual', color: COLORS.actual },
            ]}
            groups={data.rows.map((r) => ({
              label: (r.fiscal_period ?? '').replace(/^FY\d+-/, ''),
              values: [toNumber(r.budget), toNumber(r.forecast), toNumber(r.actual)],
            }))}
          />
          <p className="hint">
            {data.elapsed_periods} of the year's periods have elapsed{data.through_period ? ` (through ${data.through_period})` : ''}. EAC: {data.eac_basis}
            {data.rates_used.length > 0 && `. Converted into ${data.currency} at ${data.rates_used.length} monthly rates.`}
          </p>
          {byCenter.data && byCenter.data.rows.length > 0 && (
            <table className="data">
              <caption>By cost center ({byCenter.data.currency})</caption>
              <thead>
                <tr>
                  <th scope="col">Cost center</th>
                  <th scope="col" className="num">Budget</th>
                  <th scope="col" className="num">Actual</th>
                  <th scope="col" className="num">Variance</th>
                  <th scope="col" className="num">Variance %</th>
                  <th scope="col" className="num">EAC</th>
                </tr>
              </thead>
              <tbody>
                {byCenter.data.rows.map((r) => (
                  <tr key={r.cost_center_id ?? 'none'}>
                    <th scope="row">{r.cost_center_id ? (centerName.get(r.cost_center_id) ?? r.cost_center_id) : '—'}</th>
                    <td className="num">{money(r.budget, byCenter.data!.currency)}</td>
                    <td className="num">{money(r.actual, byCenter.data!.currency)}</td>
                    <td className={`num ${toNumber(r.variance) > 0 ? 'negative' : ''}`}>{money(r.variance, byCenter.data!.currency)}</td>
                    <td className="num">{r.variance_percent == null ? '—' : `${r.variance_percent} %`}</td>
                    <td className="num">{money(r.eac, byCenter.data!.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

/**
 * Value versus cost versus risk: each open project and pending demand as a
 * bubble, its cost across, its NPV up, its risk as the bubble's size.
 */
function ValueMapCard({ portfolioIds }: { portfolioIds: string[] }) {
  const maps = useLoad(
    () => Promise.all(portfolioIds.map((id) => unwrap(api.GET('/api/v1/portfolios/{id}/value-map', { params: { path: { id } } })))),
    [portfolioIds.join(',')],
  );
  const items = maps.data?.flatMap((m) => m.items) ?? [];
  const currency = maps.data?.[0]?.currency ?? '';
  const skipped = maps.data?.reduce((n, m) => n + m.skipped.length, 0) ?? 0;
  return (
    <div className="card">
      <h2>Value, cost and risk</h2>
      <ProblemAlert problem={maps.problem} />
      <ScatterChart
        title={`Open projects and pending demands: cost and NPV (${currency}); bubble size is risk (1–5)`}
        xLabel="Cost (CapEx + OpEx)"
        yLabel="NPV"
        sizeLabel="Risk"
        legend={[
          { name: 'Project', color: COLORS.grow },
          { name: 'Demand', color: COLORS.transform },
        ]}
        points={items.map((i) => ({
          label: i.name,
          x: toNumber(i.cost),
          y: toNumber(i.npv),
          size: i.risk,
          color: i.item_kind === 'project' ? COLORS.grow : COLORS.transform,
        }))}
      />
      {skipped > 0 && <p className="hint">{skipped} items in another currency than {currency} are not shown.</p>}
    </div>
  );
}
