import { useState } from 'react';
import { api, etag, fetchAll, unwrap, type Schemas } from '../api/client';
import { allPortfolios } from '../api/lists';
import { placeProblem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { date, label, money } from '../format';
import { Link, navigate } from '../router';
import { may, session } from '../session';
import { Badge } from '../components/Badge';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { ScoreCard } from './Scoring';
import { DemandForm } from './DemandForm';

type Demand = Schemas['Demand'];
type DemandState = Schemas['DemandState'];

const COLUMNS: { title: string; states: DemandState[] }[] = [
  { title: 'Draft', states: ['draft'] },
  { title: 'Submitted', states: ['submitted'] },
  { title: 'Under review', states: ['under_review'] },
  { title: 'Deferred', states: ['deferred'] },
  { title: 'Decided', states: ['approved', 'rejected'] },
];

/** The review steps offered from each state (the server's lifecycle). */
export const DEMAND_ACTIONS: Record<DemandState, { to: DemandState; verb: string }[]> = {
  draft: [{ to: 'submitted', verb: 'Submit' }],
  submitted: [
    { to: 'under_review', verb: 'Start review' },
    { to: 'draft', verb: 'Withdraw to draft' },
  ],
  under_review: [
    { to: 'approved', verb: 'Approve…' },
    { to: 'rejected', verb: 'Reject' },
    { to: 'deferred', verb: 'Defer' },
  ],
  deferred: [{ to: 'under_review', verb: 'Revisit' }],
  approved: [],
  rejected: [],
};

/** The demand board: intake, the review lifecycle as columns, and approval into a project. */
export function Demands({ selected }: { selected?: string }) {
  const [intake, setIntake] = useState(false);
  const demands = useLoad(
    () => fetchAll((page) => unwrap(api.GET('/api/v1/demands', { params: { query: { page, per_page: 500, sort: '-updated_at' } } }))),
    [],
  );
  const portfolios = useLoad(allPortfolios, []);
  const period = useLoad(() => unwrap(api.GET('/api/v1/fiscal-periods/current')), []);
  const canWrite = may(session.user(), 'portfolio');

  return (
    <section>
      <div className="page-head">
        <h1>Demand board</h1>
        <div className="actions">
          {!canWrite && <span className="hint">Your role may read demands but not record or review them.</span>}
          <button type="button" className="primary" onClick={() => setIntake(true)} disabled={!canWrite || intake}>
            New demand
          </button>
        </div>
      </div>
      {intake && portfolios.data && period.data && (
        <DemandForm
          portfolios={portfolios.data}
          firstYear={period.data.fiscal_year}
          onCreated={(d) => {
            setIntake(false);
            demands.reload();
            navigate(`/demands/${d.id}`);
          }}
          onCancel={() => setIntake(false)}
        />
      )}
      <ProblemAlert problem={demands.problem} />
      <div className={`board-layout ${selected ? 'with-detail' : ''}`}>
        {!demands.data ? (
          <Loading what="Loading demands" />
        ) : (
          <div className="board">
            {COLUMNS.map((c) => {
              const cards = demands.data!.filter((d) => c.states.includes(d.state));
              return (
                <section key={c.title} className="column" aria-labelledby={`col-${c.title}`}>
                  <h2 id={`col-${c.title}`}>
                    {c.title} <span className="count">{cards.length}</span>
                  </h2>
                  <ul>
                    {cards.map((d) => (
                      <li key={d.id}>
                        <DemandCard demand={d} current={d.id === selected} />
                      </li>
                    ))}
                  </ul>
                </section>
              );
            })}
          </div>
        )}
        {selected && <DemandPanel key={selected} id={selected} portfolios={portfolios.data ?? []} onChange={demands.reload} />}
      </div>
    </section>
  );
}

function DemandCard({ demand: d, current }: { demand: Demand; current: boolean }) {
  return (
    <Link to={`/demands/${d.id}`} className={`demand-card ${current ? 'current' : ''}`} aria-current={current ? 'true' : undefined}>
      <strong>{d.title}</strong>
      <span className="meta">
        <Badge value={d.investment_category} kind="category" /> risk {d.risk} · {d.requester}
      </span>
      {d.state === 'approved' || d.state === 'rejected' ? <Badge value={d.state} /> : null}
    </Link>
  );
}

const APPROVAL_FIELDS = ['/portfolio_id', '/project_name', '/owner', '/program_id'];

function DemandPanel({ id, portfolios, onChange }: { id: string; portfolios: Schemas['Portfolio'][]; onChange: () => void }) {
  const demand = useLoad(() => unwrap(api.GET('/api/v1/demands/{id}', { params: { path: { id } } })), [id]);
  const [note, setNote] = useState('');
  const [approving, setApproving] = useState(false);
  const [approval, setApproval] = useState({ portfolio_id: '', project_name: '', owner: '' });
  const step = useAction(async (to: DemandState, version: number) => {
    try {
      // If-Match: a decision is about the business case the reviewer saw.
      await unwrap(
        api.POST('/api/v1/demands/{id}/transitions', {
          params: { path: { id } },
          headers: { 'If-Match': etag(version) },
          body:
            to === 'approved'
              ? {
                  to,
                  note: note || null,
                  portfolio_id: approval.portfolio_id || null,
                  project_name: approval.project_name || null,
                  owner: approval.owner || null,
                }
              : { to, note: note || null },
        }),
      );
      setNote('');
      setApproving(false);
    } finally {
      demand.reload();
      onChange();
    }
  });

  if (demand.problem && !demand.data) return <ProblemAlert problem={demand.problem} />;
  if (!demand.data) return <Loading what="Loading the demand" />;
  const d = demand.data;
  const canWrite = may(session.user(), 'portfolio');
  const placed = placeProblem(step.problem, approving ? APPROVAL_FIELDS : []);
  const stale = step.problem?.status === 412;

  return (
    <aside className="card panel" aria-labelledby="demand-title">
      <div className="page-head">
        <h2 id="demand-title">{d.title}</h2>
        <Link to="/demands" aria-label="Close the demand">
          ✕
        </Link>
      </div>
      <p>
        <Badge value={d.state} /> <Badge value={d.investment_category} kind="category" /> Risk {d.risk} of 5 · requested by {d.requester}
        {d.requested_start ? ` · start ${date(d.requested_start)}` : ''}
      </p>
      {d.description && <p>{d.description}</p>}
      {d.project_id && (
        <p className="alert alert-success" role="status">
          Approved into a project: <Link to={`/projects/${d.project_id}`}>open the project</Link>
        </p>
      )}
      {d.decision_note && (
        <p>
          <strong>Decision note:</strong> {d.decision_note} ({d.decided_by}, {date(d.decided_at)})
        </p>
      )}
      <table className="data">
        <caption>Business case ({d.currency})</caption>
        <thead>
          <tr>
            <th scope="col">Year</th>
            <th scope="col" className="num">CapEx</th>
            <th scope="col" className="num">OpEx</th>
            <th scope="col" className="num">Benefit</th>
          </tr>
        </thead>
        <tbody>
          {d.estimates.map((e) => (
            <tr key={e.fiscal_year}>
              <th scope="row">FY{e.fiscal_year}</th>
              <td className="num">{money(e.capex, d.currency)}</td>
              <td className="num">{money(e.opex, d.currency)}</td>
              <td className="num">{money(e.benefit, d.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td className="num">{money(d.totals.capex, d.currency)}</td>
            <td className="num">{money(d.totals.opex, d.currency)}</td>
            <td className="num">{money(d.totals.benefit, d.currency)}</td>
          </tr>
        </tfoot>
      </table>
      <ScoreCard itemKind="demand" itemId={d.id} portfolioId={d.portfolio_id} canWrite={canWrite} />

      <ProblemAlert problem={step.problem} unplaced={placed.unplaced} />
      {stale && (
        <p className="hint">Someone changed this demand while you were reading it; it now shows their version. Check it and decide again.</p>
      )}
      {DEMAND_ACTIONS[d.state].length > 0 && canWrite && (
        <div className="review">
          <Field label="Note (kept with the decision)">
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </Field>
          {approving && (
            <fieldset className="approval">
              <legend>Approve into a project</legend>
              <Field label="Portfolio" errors={placed.fields['/portfolio_id']}>
                <select value={approval.portfolio_id} onChange={(e) => setApproval({ ...approval, portfolio_id: e.target.value })}>
                  <option value="">{d.portfolio_id ? "The demand's portfolio" : 'Choose a portfolio'}</option>
                  {portfolios.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Project name" errors={placed.fields['/project_name']} hint="Defaults to the demand's title.">
                <input value={approval.project_name} onChange={(e) => setApproval({ ...approval, project_name: e.target.value })} />
              </Field>
              <Field label="Project owner" errors={placed.fields['/owner']} hint="Defaults to the requester.">
                <input value={approval.owner} onChange={(e) => setApproval({ ...approval, owner: e.target.value })} />
              </Field>
              <div className="actions">
                <button type="button" className="primary" disabled={step.busy} onClick={() => step.perform('approved', d.version)}>
                  {step.busy ? 'Approving…' : 'Approve and create the project'}
                </button>
                <button type="button" onClick={() => setApproving(false)}>
                  Cancel
                </button>
              </div>
            </fieldset>
          )}
          {!approving && (
            <div className="actions" role="group" aria-label="Review actions">
              {DEMAND_ACTIONS[d.state].map((a) => (
                <button
                  key={a.to}
                  type="button"
                  className={a.to === 'rejected' ? 'danger' : 'primary'}
                  disabled={step.busy}
                  onClick={() => (a.to === 'approved' ? setApproving(true) : step.perform(a.to, d.version))}
                >
                  {a.verb}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
      <p className="hint">
        Created {date(d.created_at)}, updated {date(d.updated_at)}. {label(d.state)}.
      </p>
    </aside>
  );
}
