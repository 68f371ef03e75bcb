import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { placeProblem, pointer, problemOf, type Problem } from '../api/problem';
import { Field } from '../components/Field';
import { ProblemAlert } from '../components/ProblemAlert';

type NewDemand = Schemas['NewDemand'];
type DemandDetail = Schemas['DemandDetail'];

interface EstimateRow {
  fiscal_year: string;
  capex: string;
  opex: string;
  benefit: string;
}

const TOP_FIELDS = ['/title', '/description', '/portfolio_id', '/investment_category', '/risk', '/requested_start', '/currency', '/estimates'];
const ROW_FIELDS = ['fiscal_year', 'capex', 'opex', 'benefit'] as const;

/** Every pointer the form can show an error at. */
export function demandFormPointers(rows: number): string[] {
  const pointers = [...TOP_FIELDS];
  for (let i = 0; i < rows; i++) {
    pointers.push(pointer('estimates', i));
    for (const f of ROW_FIELDS) pointers.push(pointer('estimates', i, f));
  }
  return pointers;
}

/**
 * The intake form: a demand and its business case, one row per fiscal year.
 * The server validates everything and answers a 422 listing each wrong field
 * by JSON pointer; each message is shown beside the input it names.
 */
export function DemandForm({
  portfolios,
  firstYear,
  onCreated,
  onCancel,
}: {
  portfolios: Schemas['Portfolio'][];
  firstYear: number;
  onCreated: (demand: DemandDetail) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState({
    title: '',
    description: '',
    portfolio_id: '',
    investment_category: 'grow' as NonNullable<NewDemand['investment_category']>,
    risk: '3',
    requested_start: '',
  });
  const [rows, setRows] = useState<EstimateRow[]>([{ fiscal_year: String(firstYear), capex: '0', opex: '0', benefit: '0' }]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const placed = placeProblem(problem, demandFormPointers(rows.length));
  const errors = (p: string) => placed.fields[p];

  const set = (name: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value });
  const setRow = (i: number, name: keyof EstimateRow, value: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [name]: value } : r)));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    const body: NewDemand = {
      title: form.title,
      description: form.description || null,
      portfolio_id: form.portfolio_id || null,
      investment_category: form.investment_category,
      risk: Number(form.risk),
      requested_start: form.requested_start || null,
      // Amounts go as the strings typed: the server reads them exactly.
      estimates: rows.map((r) => ({ fiscal_year: Number(r.fiscal_year), capex: r.capex.trim(), opex: r.opex.trim(), benefit: r.benefit.trim() })),
    };
    try {
      const created = await unwrap(api.POST('/api/v1/demands', { body }));
      onCreated(created);
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card form" onSubmit={submit} aria-labelledby="intake-heading" noValidate>
      <h2 id="intake-heading">New demand</h2>
      <ProblemAlert problem={problem} unplaced={placed.unplaced} />
      <div className="form-grid">
        <Field label="Title" errors={errors('/title')} className="wide">
          <input value={form.title} onChange={set('title')} required />
        </Field>
        <Field label="Description" errors={errors('/description')} className="wide">
          <textarea value={form.description} onChange={set('description')} rows={3} />
        </Field>
        <Field label="Portfolio" errors={errors('/portfolio_id')} hint="May stay open until approval.">
          <select value={form.portfolio_id} onChange={set('portfolio_id')}>
            <option value="">Not decided yet</option>
            {portfolios.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Investment category" errors={errors('/investment_category')}>
          <select value={form.investment_category} onChange={set('investment_category')}>
            <option value="run">Run (keep the lights on)</option>
            <option value="grow">Grow the business</option>
            <option value="transform">Transform the business</option>
          </select>
        </Field>
        <Field label="Risk (1 low to 5 very high)" errors={errors('/risk')}>
          <input type="number" min={1} max={5} value={form.risk} onChange={set('risk')} />
        </Field>
        <Field label="Requested start" errors={errors('/requested_start')}>
          <input type="date" value={form.requested_start} onChange={set('requested_start')} />
        </Field>
      </div>
      <fieldset className="estimates">
        <legend>Business case per fiscal year</legend>
        {errors('/estimates') && <p className="field-error">{errors('/estimates')!.join('; ')}</p>}
        <table>
          <thead>
            <tr>
              <th scope="col">Fiscal year</th>
              <th scope="col">CapEx</th>
              <th scope="col">OpEx</th>
              <th scope="col">Benefit</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {ROW_FIELDS.map((f) => {
                  const messages = [...(errors(pointer('estimates', i, f)) ?? []), ...(f === 'fiscal_year' ? (errors(pointer('estimates', i)) ?? []) : [])];
                  return (
                    <td key={f}>
                      <Field label={`${fieldName(f)}, row ${i + 1}`} errors={messages.length ? messages : undefined} className="compact">
                        <input
                          value={r[f]}
                          inputMode={f === 'fiscal_year' ? 'numeric' : 'decimal'}
                          onChange={(e) => setRow(i, f, e.target.value)}
                        />
                      </Field>
                    </td>
                  );
                })}
                <td>
                  <button type="button" className="link" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`Remove row ${i + 1}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          onClick={() => {
            const last = rows.length ? Number(rows[rows.length - 1].fiscal_year) : firstYear - 1;
            setRows([...rows, { fiscal_year: String((Number.isFinite(last) ? last : firstYear - 1) + 1), capex: '0', opex: '0', benefit: '0' }]);
          }}
        >
          Add a year
        </button>
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Create demand'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function fieldName(f: (typeof ROW_FIELDS)[number]): string {
  return { fiscal_year: 'Fiscal year', capex: 'CapEx', opex: 'OpEx', benefit: 'Benefit' }[f];
}
