import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { placeProblem, problemOf, type Problem } from '../api/problem';
import { Field } from '../components/Field';
import { ProblemAlert } from '../components/ProblemAlert';

type Kind = Schemas['BudgetKind'];

/**
 * A new budget version, empty (`POST /budget-versions`) or as a copy of
 * another with all its lines (`POST /budget-versions/{id}/copy`), e.g. a
 * reforecast of the approved plan.
 */
export function VersionForm({
  copyOf,
  fiscalYear,
  onCreated,
  onCancel,
}: {
  copyOf?: Schemas['BudgetVersion'];
  fiscalYear: number;
  onCreated: (version: Schemas['BudgetVersionDetail']) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(copyOf ? `${copyOf.name} reforecast` : '');
  const [year, setYear] = useState(String(fiscalYear));
  const [kind, setKind] = useState<Kind>(copyOf ? 'reforecast' : 'plan');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const placed = placeProblem(problem, copyOf ? ['/name', '/kind'] : ['/name', '/fiscal_year', '/kind']);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const created = copyOf
        ? await unwrap(api.POST('/api/v1/budget-versions/{id}/copy', { params: { path: { id: copyOf.id } }, body: { name, kind } }))
        : await unwrap(api.POST('/api/v1/budget-versions', { body: { name, fiscal_year: Number(year), kind } }));
      onCreated(created);
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card form" onSubmit={submit} aria-labelledby="version-form-heading" noValidate>
      <h2 id="version-form-heading">{copyOf ? `Copy “${copyOf.name}” with its lines` : 'New budget version'}</h2>
      <ProblemAlert problem={problem} unplaced={placed.unplaced} />
      <div className="form-grid">
        <Field label="Name" errors={placed.fields['/name']}>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        {!copyOf && (
          <Field label="Fiscal year" errors={placed.fields['/fiscal_year']}>
            <input value={year} inputMode="numeric" onChange={(e) => setYear(e.target.value)} />
          </Field>
        )}
        <Field label="Kind" errors={placed.fields['/kind']}>
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            <option value="plan">Plan</option>
            <option value="reforecast">Reforecast</option>
          </select>
        </Field>
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? (copyOf ? 'Copying…' : 'Creating…') : copyOf ? 'Copy' : 'Create'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
