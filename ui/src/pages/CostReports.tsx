import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allCostCenters, allCostPools, allCostTypes, allProjects, allServices, allTowers, allVendors } from '../api/lists';
import { ApiError, isProblem, placeProblem, problemOf, type Problem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { label, money } from '../format';
import { toNumber } from '../decimal';
import { BarChart } from '../components/BarChart';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { session } from '../session';

type Spec = Schemas['ReportSpec'];
type Result = Schemas['ReportResult'];

const DIMENSIONS: [string, string][] = [
  ['cost_center', 'Cost center'],
  ['cost_type', 'Cost type'],
  ['capex_opex', 'CapEx / OpEx'],
  ['project', 'Project'],
  ['service', 'Service'],
  ['tower', 'TBM tower'],
  ['cost_pool', 'TBM cost pool'],
  ['vendor', 'Vendor'],
  ['provider', 'Provider'],
  ['currency', 'Original currency'],
  ['fiscal_period', 'Fiscal period'],
];
const FORMATS = [
  ['csv', 'CSV'],
  ['xlsx', 'Excel (XLSX)'],
  ['parquet', 'Parquet'],
] as const;

/** Names for the ids a report groups by, so that rows read as words. */
async function loadNames(): Promise<Record<string, Map<string, string>>> {
  const [centers, types, projects, services, vendors, towers, pools] = await Promise.all([
    allCostCenters(),
    allCostTypes(),
    allProjects(),
    allServices(),
    allVendors(),
    allTowers(),
    allCostPools(),
  ]);
  const by = <T extends { id: string }>(items: T[], name: (t: T) => string) => new Map(items.map((i) => [i.id, name(i)]));
  return {
    cost_center: by(centers, (c) => `${c.code} ${c.name}`),
    cost_type: by(types, (t) => t.name),
    project: by(projects, (p) => `${p.code} ${p.name}`),
    service: by(services, (s) => s.name),
    vendor: by(vendors, (v) => v.name),
    tower: by(towers, (t) => t.name),
    cost_pool: by(pools, (p) => p.name),
  };
}

/**
 * Cost reports: the ledger grouped by the dimensions picked, filtered, with
 * periods as columns, in the reporting currency, exported as CSV, XLSX or
 * Parquet; definitions can be saved and opened again.
 */
export function CostReports() {
  const base = useLoad(async () => {
    const [period, names, centers, definitions] = await Promise.all([
      unwrap(api.GET('/api/v1/fiscal-periods/current')),
      loadNames(),
      allCostCenters(),
      unwrap(api.GET('/api/v1/costs/reports/definitions', { params: { query: { per_page: 100 } } })),
    ]);
    return { period, names, centers, definitions };
  }, []);
  if (base.problem) return <ProblemAlert problem={base.problem} />;
  if (!base.data) return <Loading />;
  return <ReportBuilder {...base.data} onSaved={base.reload} />;
}

function ReportBuilder({
  period,
  names,
  centers,
  definitions,
  onSaved,
}: {
  period: Schemas['PeriodInfo'];
  names: Record<string, Map<string, string>>;
  centers: Schemas['CostCenter'][];
  definitions: Schemas['Page_ReportDefinition'];
  onSaved: () => void;
}) {
  const year = period.fiscal_year;
  const [spec, setSpec] = useState<Spec>({
    group_by: ['cost_center'],
    from_period: `FY${year}-P01`,
    to_period: `FY${year}-P12`,
    pivot_periods: true,
    filters: {},
  });
  const [tag, setTag] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState('');
  const placed = placeProblem(problem, ['/group_by', '/from_period', '/to_period', '/pivot_periods', '/filters']);

  const groupBy = spec.group_by ?? [];
  const toggle = (d: string) => {
    const next = groupBy.includes(d) ? groupBy.filter((g) => g !== d) : [...groupBy, d];
    setSpec({ ...spec, group_by: next, pivot_periods: next.includes('fiscal_period') ? false : spec.pivot_periods });
  };
  const centerFilter = spec.filters?.cost_center?.[0] ?? '';
  const classFilter = spec.filters?.capex_opex?.[0] ?? '';
  const setFilter = (dimension: string, value: string) => {
    const filters = { ...(spec.filters ?? {}) };
    if (value) filters[dimension] = [value];
    else delete filters[dimension];
    setSpec({ ...spec, filters });
  };

  async function run(e?: FormEvent, definition?: Spec) {
    e?.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      setResult(await unwrap(api.POST('/api/v1/costs/reports/run', { body: definition ?? spec })));
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  }

  const save = useAction(async () => {
    await unwrap(api.POST('/api/v1/costs/reports/definitions', { body: { name: name.trim(), spec } }));
    setName('');
    onSaved();
  });
  const exportAs = useAction(async (format: string) => {
    // The file comes as it is; fetch it with the session's token and hand it to the browser.
    const response = await fetch(`/api/v1/costs/reports/export?format=${format}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${session.token()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(spec),
    });
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      if (isProblem(body)) throw new ApiError(body, response.status);
      throw new Error(`the server answered ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `cost-report-${spec.from_period}-${spec.to_period}.${format}`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  });

  const nameOf = (dimension: string, key: string | null | undefined) => {
    if (key == null) return <em>none</em>;
    if (dimension === 'capex_opex') return label(key);
    return names[dimension]?.get(key) ?? key;
  };

  return (
    <section>
      <div className="page-head">
        <h1>Cost reports</h1>
        {definitions.items.length > 0 && (
          <label>
            Saved reports{' '}
            <select
              value=""
              onChange={(e) => {
                const d = definitions.items.find((x) => x.id === e.target.value);
                if (d) {
                  setSpec(d.spec);
                  run(undefined, d.spec);
                }
              }}
            >
              <option value="">Open…</option>
              {definitions.items.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <form className="card" onSubmit={run} aria-label="Report definition" noValidate>
        <ProblemAlert problem={problem} unplaced={placed.unplaced} />
        <fieldset>
          <legend>Group by</legend>
          <div className="checks">
            {DIMENSIONS.map(([d, text]) => (
              <label key={d}>
                <input type="checkbox" checked={groupBy.includes(d)} onChange={() => toggle(d)} /> {text}
              </label>
            ))}
            {groupBy
              .filter((g) => g.startsWith('tag:'))
              .map((g) => (
                <label key={g}>
                  <input type="checkbox" checked onChange={() => toggle(g)} /> Tag {g.slice(4)}
                </label>
              ))}
            <span className="tag-add">
              <input aria-label="Tag key" placeholder="tag key" value={tag} onChange={(e) => setTag(e.target.value)} />
              <button
                type="button"
                className="secondary"
                disabled={!tag.trim()}
                onClick={() => {
                  toggle(`tag:${tag.trim()}`);
                  setTag('');
                }}
              >
                Add tag
              </button>
            </span>
          </div>
          {placed.fields['/group_by'] && <p className="field-error">{placed.fields['/group_by'].join('; ')}</p>}
        </fieldset>
        <div className="form-row">
          <Field label="From period" errors={placed.fields['/from_period']}>
            <input value={spec.from_period} onChange={(e) => setSpec({ ...spec, from_period: e.target.value })} />
          </Field>
          <Field label="To period" errors={placed.fields['/to_period']}>
            <input value={spec.to_period} onChange={(e) => setSpec({ ...spec, to_period: e.target.value })} />
          </Field>
          <Field label="Only cost center" errors={placed.fields["/filters"]}>
            <select value={centerFilter ?? ''} onChange={(e) => setFilter('cost_center', e.target.value)}>
              <option value="">All</option>
              {centers.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.code} {c.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Only CapEx or OpEx">
            <select value={classFilter ?? ''} onChange={(e) => setFilter('capex_opex', e.target.value)}>
              <option value="">Both</option>
              <option value="capex">CapEx</option>
              <option value="opex">OpEx</option>
            </select>
          </Field>
          <Field label="Periods as columns" errors={placed.fields['/pivot_periods']} className="field-check">
            <input
              type="checkbox"
              checked={spec.pivot_periods ?? false}
              disabled={groupBy.includes('fiscal_period')}
              onChange={(e) => setSpec({ ...spec, pivot_periods: e.target.checked })}
            />
          </Field>
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Running…' : 'Run report'}
          </button>
          {FORMATS.map(([format, text]) => (
            <button key={format} type="button" disabled={exportAs.busy} onClick={() => exportAs.perform(format)}>
              Export {text}
            </button>
          ))}
        </div>
        {exportAs.problem && <ProblemAlert problem={exportAs.problem} title="Not exported:" />}
        <div className="inline-form save-row">
          <Field label="Save as">
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Report name" />
          </Field>
          <button type="button" disabled={!name.trim() || save.busy} onClick={() => save.perform()}>
            Save definition
          </button>
        </div>
        <ProblemAlert problem={save.problem} />
      </form>
      {result && <ReportTable result={result} nameOf={nameOf} />}
    </section>
  );
}

function ReportTable({ result, nameOf }: { result: Result; nameOf: (dimension: string, key: string | null | undefined) => React.ReactNode }) {
  const top = [...result.rows].sort((a, b) => toNumber(b.total) - toNumber(a.total)).slice(0, 12);
  const rowName = (keys: (string | null | undefined)[]) =>
    keys.map((k, i) => {
      const n = nameOf(result.group_by[i], k);
      return typeof n === 'string' ? n : (k ?? 'none');
    }).join(' · ') || 'All';
  return (
    <div className="card">
      <p>
        {result.rows.length} rows from {result.lines} ledger lines, {money(result.total, result.currency)} in all.
        {result.rates.length > 0 && ` Converted at ${result.rates.length} rates.`}
      </p>
      {top.length > 0 && (
        <BarChart
          title={`Largest rows (${result.currency})`}
          series={[{ name: 'Total', color: '#1d4ed8' }]}
          groups={top.map((r) => ({ label: rowName(r.keys).slice(0, 18), values: [toNumber(r.total)] }))}
        />
      )}
      <div className="table-scroll">
        <table className="data pivot">
          <caption>Cost report in {result.currency}</caption>
          <thead>
            <tr>
              {result.group_by.map((g) => (
                <th key={g} scope="col">
                  {DIMENSIONS.find(([d]) => d === g)?.[1] ?? g.replace(/^tag:/, 'Tag ')}
                </th>
              ))}
              {result.columns.length > 1 &&
                result.columns.map((c) => (
                  <th key={c} scope="col" className="num">
                    {c}
                  </th>
                ))}
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((r, i) => (
              <tr key={i}>
                {r.keys.map((k, j) => (
                  <td key={j}>{nameOf(result.group_by[j], k)}</td>
                ))}
                {result.columns.length > 1 &&
                  r.amounts.map((a, j) => (
                    <td key={j} className="num">
                      {money(a)}
                    </td>
                  ))}
                <td className="num">
                  <strong>{money(r.total)}</strong>
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={Math.max(1, result.group_by.length)}>
                Total
              </th>
              {result.columns.length > 1 &&
                result.totals.map((t, j) => (
                  <td key={j} className="num">
                    {money(t)}
                  </td>
                ))}
              <td className="num">
                <strong>{money(result.total, result.currency)}</strong>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
    </div>
  );
}
