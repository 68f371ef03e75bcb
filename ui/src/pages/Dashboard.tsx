import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allBudgetLines, allBudgetVersions, allPortfolios, allProjects, preferredVersion } from '../api/lists';
import { useLoad } from '../hooks';
import { subtract, sum, toNumber } from '../decimal';
import { label, money } from '../format';
import { BarChart } from '../components/BarChart';
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
      {year !== undefined && base.data && (
        <BudgetVsActual year={year} currency={base.data.settings.reporting_currency} versionId={versionId} onVersion={setVersionId} />
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

function BudgetVsActual({ year, currency, versionId, onVersion }: { year: number; currency: string; versionId: string; onVersion: (id: string) => void }) {
  const versions = useLoad(() => allBudgetVersions(year), [year]);
  const chosen = versionId || preferredVersion(versions.data ?? [])?.id || '';
  const figures = useLoad(async () => {
    const [periods, actuals, version, lines] = await Promise.all([
      unwrap(api.GET('/api/v1/fiscal-years/{year}/periods', { params: { path: { year } } })),
      unwrap(api.GET('/api/v1/ledger/summary', { params: { query: { group_by: 'fiscal_period' } } })),
      chosen ? unwrap(api.GET('/api/v1/budget-versions/{id}', { params: { path: { id: chosen } } })) : Promise.resolve(null),
      chosen ? allBudgetLines(chosen) : Promise.resolve([]),
    ]);
    return { periods, actuals: actuals.filter((a) => a.key?.startsWith(`FY${year}-`)), version, lines };
  }, [year, chosen]);

  const data = figures.data;
  const byPeriod = (period: string) => ({
    budget: sum(data?.lines.filter((l) => l.fiscal_period === period && l.currency === currency).map((l) => l.amount) ?? []),
    actual: sum(data?.actuals.filter((a) => a.key === period && a.currency === currency).map((a) => a.amount) ?? []),
  });
  const currencies = [...new Set([...(data?.version?.totals.map((t) => t.currency) ?? []), ...(data?.actuals.map((a) => a.currency) ?? [])])].sort();

  return (
    <div className="card">
      <div className="page-head">
        <h2>
          Budget and actual, FY{year}
        </h2>
        <label>
          Budget version{' '}
          <select value={chosen} onChange={(e) => onVersion(e.target.value)} disabled={!versions.data?.length}>
            {!versions.data?.length && <option value="">No budget for FY{year}</option>}
            {versions.data?.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} ({label(v.kind)}, {label(v.state)})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ProblemAlert problem={versions.problem ?? figures.problem} />
      {figures.loading && !data ? <Loading what="Loading budget and actuals" /> : null}
      {data && (
        <>
          <table className="data totals">
            <caption>Totals for FY{year}, per currency (amounts are not converted)</caption>
            <thead>
              <tr>
                <th scope="col">Currency</th>
                <th scope="col" className="num">Budget</th>
                <th scope="col" className="num">Actual</th>
                <th scope="col" className="num">Remaining</th>
              </tr>
            </thead>
            <tbody>
              {currencies.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No budget lines and no actuals yet.
                  </td>
                </tr>
              )}
              {currencies.map((c) => {
                const budget = data.version?.totals.find((t) => t.currency === c)?.total ?? '0';
                const actual = sum(data.actuals.filter((a) => a.currency === c).map((a) => a.amount));
                const remaining = subtract(budget, actual);
                return (
                  <tr key={c}>
                    <th scope="row">{c}</th>
                    <td className="num">{money(budget, c)}</td>
                    <td className="num">{money(actual, c)}</td>
                    <td className={`num ${remaining.startsWith('-') ? 'negative' : ''}`}>{money(remaining, c)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <BarChart
            title={`Budget and actual per period, ${currency}`}
            series={[
              { name: 'Budget', color: COLORS.budget },
              { name: 'Actual', color: COLORS.actual },
            ]}
            groups={data.periods.map((p) => {
              const f = byPeriod(p.id);
              return { label: `P${String(p.number).padStart(2, '0')}`, values: [toNumber(f.budget), toNumber(f.actual)] };
            })}
          />
        </>
      )}
    </div>
  );
}
