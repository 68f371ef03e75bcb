import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allCostCenters, allCostTypes, allPortfolios } from '../api/lists';
import { placeProblem, pointer, problemOf, type Problem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { compact, label, money } from '../format';
import { toNumber } from '../decimal';
import { Link, setQuery, useLocation } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';
import { ScatterChart } from '../components/ScatterChart';

type OptimiseRequest = Schemas['OptimiseRequest'];
type OptimiseResult = Schemas['OptimiseResult'];
type Objective = OptimiseRequest['objective'];
type Scenario = Schemas['Scenario'];
type Summary = Schemas['ScenarioSummary'];

const OBJECTIVES: [Objective, string][] = [
  ['npv', 'Total NPV'],
  ['risk_adjusted_npv', 'Risk-adjusted NPV'],
  ['score', 'Total score (a scoring framework)'],
];

/**
 * The scenario planner: run the optimiser over a portfolio's candidates under
 * yearly CapEx and OpEx budgets, see what it funds, why it left the rest out
 * and the efficient frontier; keep results as scenarios, compare them side by
 * side, and approve one into a budget version.
 */
export function Scenarios() {
  const { query } = useLocation();
  const portfolioId = query.get('portfolio') ?? '';
  const base = useLoad(async () => {
    const [portfolios, period, settings, frameworks] = await Promise.all([
      allPortfolios(),
      unwrap(api.GET('/api/v1/fiscal-periods/current')),
      unwrap(api.GET('/api/v1/settings')),
      unwrap(api.GET('/api/v1/scoring-frameworks')),
    ]);
    return { portfolios, period, settings, frameworks };
  }, []);
  const scenarios = useLoad(
    () => (portfolioId ? unwrap(api.GET('/api/v1/portfolios/{id}/scenarios', { params: { path: { id: portfolioId } } })) : Promise.resolve([])),
    [portfolioId],
  );

  if (base.problem) return <ProblemAlert problem={base.problem} />;
  if (!base.data) return <Loading />;
  const { portfolios, period, settings, frameworks } = base.data;
  const currency = settings.reporting_currency;

  return (
    <section>
      <div className="page-head">
        <h1>Scenario planner</h1>
        <div className="filters">
          <label>
            Portfolio{' '}
            <select value={portfolioId} onChange={(e) => setQuery({ portfolio: e.target.value, compare: null })}>
              <option value="">Choose a portfolio</option>
              {portfolios.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {!portfolioId ? (
        <p className="hint">Choose a portfolio to plan its candidates: its proposed projects and its approved or submitted demands.</p>
      ) : (
        <>
          <Optimiser
            key={portfolioId}
            portfolioId={portfolioId}
            firstYear={period.fiscal_year + 1}
            currency={currency}
            frameworks={frameworks}
            onSaved={scenarios.reload}
          />
          <ScenarioList scenarios={scenarios.data ?? []} loading={scenarios.loading} problem={scenarios.problem} currency={currency} onChange={scenarios.reload} />
        </>
      )}
    </section>
  );
}

interface BudgetRow {
  capex: string;
  opex: string;
}

function Optimiser({
  portfolioId,
  firstYear,
  currency,
  frameworks,
  onSaved,
}: {
  portfolioId: string;
  firstYear: number;
  currency: string;
  frameworks: Schemas['Framework'][];
  onSaved: () => void;
}) {
  const [objective, setObjective] = useState<Objective>('npv');
  const [frameworkId, setFrameworkId] = useState(frameworks[0]?.id ?? '');
  const [start, setStart] = useState(String(firstYear));
  // Three years by default: benefits usually come after the first year's costs.
  const [budgets, setBudgets] = useState<BudgetRow[]>([{ capex: '', opex: '' }, { capex: '', opex: '' }, { capex: '', opex: '' }]);
  const [name, setName] = useState('');
  const [result, setResult] = useState<OptimiseResult | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const year0 = Number(start) || firstYear;
  const known = ['/objective', '/framework_id', '/first_fiscal_year', '/years', '/capex_budget', '/opex_budget', '/save_as_scenario'];
  budgets.forEach((_, i) => known.push(pointer('capex_budget', i), pointer('capex_budget', i, 'amount'), pointer('opex_budget', i), pointer('opex_budget', i, 'amount')));
  const placed = placeProblem(problem, known);
  const at = (p: string) => [...(placed.fields[p] ?? []), ...(placed.fields[p + '/amount'] ?? [])];
  // Only filled cells are sent, so the k-th entry of a list is the k-th filled row.
  const sentAs = (kind: 'capex' | 'opex', row: number) => budgets.slice(0, row).filter((b) => b[kind].trim()).length;

  async function run(e: FormEvent, save = false) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    const body: OptimiseRequest = {
      objective,
      framework_id: objective === 'score' ? frameworkId || null : null,
      first_fiscal_year: year0,
      years: budgets.length,
      // Amounts go as typed (the server reads them exactly); an empty cell is no limit.
      capex_budget: budgets.flatMap((b, i) => (b.capex.trim() ? [{ fiscal_year: year0 + i, amount: b.capex.trim() }] : [])),
      opex_budget: budgets.flatMap((b, i) => (b.opex.trim() ? [{ fiscal_year: year0 + i, amount: b.opex.trim() }] : [])),
      frontier_points: 12,
      save_as_scenario: save ? name.trim() : null,
    } as OptimiseRequest;
    try {
      const answer = await unwrap(api.POST('/api/v1/portfolios/{id}/optimise', { params: { path: { id: portfolioId } }, body }));
      setResult(answer);
      if (answer.scenario_id) onSaved();
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <form className="card" onSubmit={(e) => run(e)} aria-label="Optimiser" noValidate>
        <h2>Optimise</h2>
        <ProblemAlert problem={problem} unplaced={placed.unplaced} />
        <div className="form-row">
          <Field label="Objective" errors={placed.fields['/objective']}>
            <select value={objective} onChange={(e) => setObjective(e.target.value as Objective)}>
              {OBJECTIVES.map(([v, text]) => (
                <option key={v} value={v}>
                  {text}
                </option>
              ))}
            </select>
          </Field>
          {objective === 'score' && (
            <Field label="Scoring framework" errors={placed.fields['/framework_id']}>
              <select value={frameworkId} onChange={(e) => setFrameworkId(e.target.value)}>
                {frameworks.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
              </select>
            </Field>
          )}
          <Field label="First fiscal year" errors={placed.fields['/first_fiscal_year']}>
            <input inputMode="numeric" value={start} onChange={(e) => setStart(e.target.value)} />
          </Field>
        </div>
        <table className="data budgets-input">
          <caption>Budgets per fiscal year ({currency})</caption>
          <thead>
            <tr>
              <th scope="col">Fiscal year</th>
              <th scope="col">CapEx budget</th>
              <th scope="col">OpEx budget</th>
            </tr>
          </thead>
          <tbody>
            {budgets.map((b, i) => (
              <tr key={i}>
                <th scope="row">FY{year0 + i}</th>
                <td>
                  <Field label={`CapEx budget FY${year0 + i}`} errors={b.capex.trim() ? at(pointer('capex_budget', sentAs('capex', i))) : []} className="field-compact">
                    <input inputMode="decimal" value={b.capex} onChange={(e) => setBudgets(budgets.map((r, j) => (j === i ? { ...r, capex: e.target.value } : r)))} />
                  </Field>
                </td>
                <td>
                  <Field label={`OpEx budget FY${year0 + i}`} errors={b.opex.trim() ? at(pointer('opex_budget', sentAs('opex', i))) : []} className="field-compact">
                    <input inputMode="decimal" value={b.opex} onChange={(e) => setBudgets(budgets.map((r, j) => (j === i ? { ...r, opex: e.target.value } : r)))} />
                  </Field>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="actions">
          <button type="button" className="secondary" disabled={budgets.length >= 5} onClick={() => setBudgets([...budgets, { ...budgets[budgets.length - 1] }])}>
            Add a year
          </button>
          <button type="button" className="secondary" disabled={budgets.length <= 1} onClick={() => setBudgets(budgets.slice(0, -1))}>
            Remove last year
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Optimising…' : 'Run optimiser'}
          </button>
        </div>
        {result && (
          <div className="form-row save-row">
            <Field label="Scenario name" errors={placed.fields['/save_as_scenario']}>
              <input value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <button type="button" disabled={busy || !name.trim()} onClick={(e) => run(e, true)}>
              Save as scenario
            </button>
          </div>
        )}
      </form>
      {result && <OptimiseOutcome result={result} currency={currency} objective={objective} />}
    </>
  );
}

function OptimiseOutcome({ result, currency, objective }: { result: OptimiseResult; currency: string; objective: Objective }) {
  const valueOf = (v: string) => (objective === 'score' ? v : money(v, currency));
  const excludedColumns: Column<OptimiseResult['excluded'][number]>[] = [
    { key: 'name', header: 'Left out', render: (x) => <ItemLink kind={x.item_kind} id={x.item_id} name={x.name} /> },
    { key: 'value', header: 'Value', numeric: true, render: (x) => valueOf(x.value) },
    {
      key: 'why',
      header: 'Why',
      render: (x) => (
        <ul className="reasons">
          {x.reasons.map((r, i) => (
            <li key={i}>
              <Badge value={r.constraint} kind="constraint" /> {r.detail}
            </li>
          ))}
        </ul>
      ),
    },
  ];
  const selectedColumns: Column<OptimiseResult['selected'][number]>[] = [
    { key: 'name', header: 'Funded', render: (x) => <ItemLink kind={x.item_kind} id={x.item_id} name={x.name} /> },
    { key: 'kind', header: 'Kind', render: (x) => label(x.item_kind) },
    { key: 'value', header: 'Value', numeric: true, render: (x) => valueOf(x.value) },
  ];
  const frontier = result.frontier.filter((p) => p.objective_value != null);
  return (
    <div className="card" aria-live="polite">
      <h2>Result</h2>
      <div className="kpis">
        <div className="kpi">
          <span className="kpi-label">Objective</span>
          <span className="kpi-value">{valueOf(result.objective_value)}</span>
        </div>
        <div className="kpi">
          <span className="kpi-label">Status</span>
          <span className="kpi-value">{label(result.status)}</span>
        </div>
        <div className="kpi">
          <span className="kpi-label">Optimality gap (float)</span>
          <span className="kpi-value">{(result.gap * 100).toFixed(3)} %</span>
        </div>
        <div className="kpi">
          <span className="kpi-label">Gain over greedy ranking</span>
          <span className="kpi-value">{valueOf(result.greedy.gain)}</span>
        </div>
      </div>
      <p className="hint">
        Solved in {result.solve_ms} ms. A greedy ranking by value per unit of cost funds {result.greedy.selected} items for {valueOf(result.greedy.objective_value)}.
        {result.skipped.length > 0 && ` ${result.skipped.length} candidates in another currency were left out of the problem.`}
      </p>
      <table className="data">
        <caption>Spend against budget per fiscal year ({currency})</caption>
        <thead>
          <tr>
            <th scope="col">Fiscal year</th>
            <th scope="col" className="num">CapEx</th>
            <th scope="col" className="num">CapEx budget</th>
            <th scope="col" className="num">OpEx</th>
            <th scope="col" className="num">OpEx budget</th>
            <th scope="col" className="num">Benefit</th>
          </tr>
        </thead>
        <tbody>
          {result.years.map((y) => (
            <tr key={y.fiscal_year}>
              <th scope="row">FY{y.fiscal_year}</th>
              <td className="num">{money(y.capex, currency)}</td>
              <td className="num">{money(y.capex_budget, currency)}</td>
              <td className="num">{money(y.opex, currency)}</td>
              <td className="num">{money(y.opex_budget, currency)}</td>
              <td className="num">{money(y.benefit, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {frontier.length > 1 && (
        <ScatterChart
          title="Efficient frontier: the best objective as the budget varies"
          line
          xLabel="Total budget (CapEx + OpEx)"
          yLabel="Best objective"
          points={frontier.map((p) => ({
            label: `${Math.round(toNumber(p.budget_factor) * 100)} % of the budget`,
            x: toNumber(p.capex_budget_total) + toNumber(p.opex_budget_total),
            y: toNumber(p.objective_value),
          }))}
          format={compact}
        />
      )}
      <div className="grid-2">
        <DataTable caption="Funded items" columns={selectedColumns} rows={result.selected} rowKey={(x) => x.item_id} empty="Nothing fits these budgets." />
        <DataTable caption="Items left out, and why" columns={excludedColumns} rows={result.excluded} rowKey={(x) => x.item_id} empty="Every candidate is funded." />
      </div>
    </div>
  );
}

function ItemLink({ kind, id, name }: { kind: string; id: string; name: string }) {
  return <Link to={kind === 'project' ? `/projects/${encodeURIComponent(id)}` : `/demands/${encodeURIComponent(id)}`}>{name}</Link>;
}

/** The portfolio's scenarios: pick two or more to compare, approve one into a budget version. */
function ScenarioList({
  scenarios,
  loading,
  problem,
  currency,
  onChange,
}: {
  scenarios: Scenario[];
  loading: boolean;
  problem: Problem | null;
  currency: string;
  onChange: () => void;
}) {
  const { query } = useLocation();
  const picked = (query.get('compare') ?? '').split(',').filter(Boolean);
  const toggle = (id: string) => setQuery({ compare: (picked.includes(id) ? picked.filter((p) => p !== id) : [...picked, id]).join(',') });
  const [approving, setApproving] = useState<Scenario | null>(null);
  const columns: Column<Scenario>[] = [
    {
      key: 'pick',
      header: 'Compare',
      render: (s) => <input type="checkbox" aria-label={`Compare ${s.name}`} checked={picked.includes(s.id)} onChange={() => toggle(s.id)} />,
    },
    { key: 'name', header: 'Scenario', render: (s) => <strong>{s.name}</strong> },
    { key: 'years', header: 'Horizon', render: (s) => `FY${s.first_fiscal_year}–FY${s.first_fiscal_year + s.years - 1}` },
    { key: 'state', header: 'State', render: (s) => <Badge value={s.state} /> },
    {
      key: 'approve',
      header: 'Actions',
      render: (s) =>
        s.state === 'draft' ? (
          <button type="button" className="link" onClick={() => setApproving(s)}>
            Approve…
          </button>
        ) : (
          `approved by ${s.approved_by ?? '—'}`
        ),
    },
  ];
  return (
    <div className="card">
      <h2>Scenarios</h2>
      <ProblemAlert problem={problem} />
      <DataTable caption="Scenarios of this portfolio" columns={columns} rows={scenarios} rowKey={(s) => s.id} loading={loading} empty="No scenario yet: run the optimiser and save its result." />
      {approving && (
        <ApproveForm
          scenario={approving}
          onDone={() => {
            setApproving(null);
            onChange();
          }}
        />
      )}
      {picked.length >= 2 && <Comparison ids={picked} currency={currency} />}
    </div>
  );
}

function Comparison({ ids, currency }: { ids: string[]; currency: string }) {
  const compared = useLoad(() => unwrap(api.GET('/api/v1/scenarios/compare', { params: { query: { ids: ids.join(',') } } })), [ids.join(',')]);
  if (compared.problem) return <ProblemAlert problem={compared.problem} />;
  if (!compared.data) return <Loading what="Comparing" />;
  const rows = compared.data;
  const years = [...new Set(rows.flatMap((s) => s.years.map((y) => y.fiscal_year)))].sort();
  const yearOf = (s: Summary, fy: number) => s.years.find((y) => y.fiscal_year === fy);
  return (
    <table className="data comparison">
      <caption>Scenarios side by side ({currency})</caption>
      <thead>
        <tr>
          <th scope="col">Measure</th>
          {rows.map((s) => (
            <th key={s.scenario_id} scope="col" className="num">
              {s.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Items included</th>
          {rows.map((s) => (
            <td key={s.scenario_id} className="num">
              {s.items_included}
            </td>
          ))}
        </tr>
        {years.flatMap((fy) =>
          (['capex', 'opex', 'benefit'] as const).map((k) => (
            <tr key={`${fy}-${k}`}>
              <th scope="row">
                FY{fy} {k === 'capex' ? 'CapEx' : k === 'opex' ? 'OpEx' : 'benefit'}
              </th>
              {rows.map((s) => (
                <td key={s.scenario_id} className="num">
                  {money(yearOf(s, fy)?.[k], currency)}
                </td>
              ))}
            </tr>
          )),
        )}
        <tr>
          <th scope="row">NPV</th>
          {rows.map((s) => (
            <td key={s.scenario_id} className="num">
              <strong>{money(s.npv, currency)}</strong>
            </td>
          ))}
        </tr>
        <tr>
          <th scope="row">Average risk (1–5)</th>
          {rows.map((s) => (
            <td key={s.scenario_id} className="num">
              {s.risk ?? '—'}
            </td>
          ))}
        </tr>
        <tr>
          <th scope="row">Strategic alignment</th>
          {rows.map((s) => (
            <td key={s.scenario_id} className="num">
              {s.alignment ?? '—'}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}

function ApproveForm({ scenario, onDone }: { scenario: Scenario; onDone: () => void }) {
  const lists = useLoad(async () => {
    const [centers, types] = await Promise.all([allCostCenters(), allCostTypes()]);
    return { centers, types };
  }, []);
  const [form, setForm] = useState({ cost_center_id: '', capex_cost_type_id: '', opex_cost_type_id: '' });
  const [approved, setApproved] = useState<Schemas['ApprovedScenario'] | null>(null);
  const approve = useAction(async () => {
    setApproved(await unwrap(api.POST('/api/v1/scenarios/{id}/approve', { params: { path: { id: scenario.id } }, body: form })));
  });
  const placed = placeProblem(approve.problem, ['/cost_center_id', '/capex_cost_type_id', '/opex_cost_type_id']);
  if (approved) {
    return (
      <div className="alert alert-success" role="status">
        <strong>{scenario.name} is the plan.</strong> Budget versions written:{' '}
        {approved.budget_versions.map((v) => (
          <Link key={v.id} to={`/budgets/${encodeURIComponent(v.id)}`}>
            {v.name}{' '}
          </Link>
        ))}
        <button type="button" className="link" onClick={onDone}>
          Close
        </button>
      </div>
    );
  }
  const types = lists.data?.types ?? [];
  return (
    <form
      className="card approval"
      aria-label={`Approve ${scenario.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        approve.perform();
      }}
    >
      <h3>Approve “{scenario.name}” into a budget version</h3>
      <ProblemAlert problem={approve.problem} unplaced={placed.unplaced} />
      <Field label="Cost center for items without one" errors={placed.fields['/cost_center_id']}>
        <select value={form.cost_center_id} onChange={(e) => setForm({ ...form, cost_center_id: e.target.value })}>
          <option value="">—</option>
          {(lists.data?.centers ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.code} {c.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="CapEx cost type" errors={placed.fields['/capex_cost_type_id']}>
        <select value={form.capex_cost_type_id} onChange={(e) => setForm({ ...form, capex_cost_type_id: e.target.value })}>
          <option value="">—</option>
          {types.filter((t) => t.classification === 'capex').map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="OpEx cost type" errors={placed.fields['/opex_cost_type_id']}>
        <select value={form.opex_cost_type_id} onChange={(e) => setForm({ ...form, opex_cost_type_id: e.target.value })}>
          <option value="">—</option>
          {types.filter((t) => t.classification === 'opex').map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </Field>
      <div className="actions">
        <button type="submit" disabled={approve.busy}>
          {approve.busy ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
