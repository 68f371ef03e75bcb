import { useState } from 'react';
import { api, etag, unwrap, type Schemas } from '../api/client';
import { useAction, useLoad } from '../hooks';
import { sum, toNumber } from '../decimal';
import { date, label, money } from '../format';
import { Link } from '../router';
import { may, session } from '../session';
import { Badge } from '../components/Badge';
import { BarChart } from '../components/BarChart';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { ProjectFinancials, ProjectRoi } from './ProjectFinance';

type State = Schemas['ProjectState'];

/** The lifecycle steps offered from each state, with the words on their buttons. */
export const PROJECT_ACTIONS: Record<State, { to: State; verb: string }[]> = {
  proposed: [
    { to: 'approved', verb: 'Approve' },
    { to: 'cancelled', verb: 'Cancel' },
  ],
  approved: [
    { to: 'in_progress', verb: 'Start' },
    { to: 'on_hold', verb: 'Put on hold' },
    { to: 'cancelled', verb: 'Cancel' },
  ],
  in_progress: [
    { to: 'on_hold', verb: 'Put on hold' },
    { to: 'completed', verb: 'Complete' },
    { to: 'cancelled', verb: 'Cancel' },
  ],
  on_hold: [
    { to: 'in_progress', verb: 'Resume' },
    { to: 'cancelled', verb: 'Cancel' },
  ],
  completed: [],
  cancelled: [],
};

/** One project: its facts, its business case by year, its actual cost, and its lifecycle. */
export function ProjectDetail({ id }: { id: string }) {
  const project = useLoad(() => unwrap(api.GET('/api/v1/projects/{id}', { params: { path: { id } } })), [id]);
  const [reason, setReason] = useState('');
  // No If-Match: the server checks the step against the project's state as it
  // is now, and a step that is no longer legal comes back as a 409 saying why.
  const move = useAction(async (to: State) => {
    try {
      await unwrap(api.POST('/api/v1/projects/{id}/transitions', { params: { path: { id } }, body: { to, reason: reason || null } }));
      setReason('');
    } finally {
      // Refused or not, show the project as it is now.
      project.reload();
    }
  });

  // The health a manager reports; If-Match, so that a report made on an
  // outdated page is refused (412) rather than overwriting a newer one.
  const report = useAction(async (health: Schemas['Health'], version: number) => {
    try {
      await unwrap(api.PATCH('/api/v1/projects/{id}', { params: { path: { id } }, headers: { 'If-Match': etag(version) }, body: { health } }));
    } finally {
      project.reload();
    }
  });

  if (project.problem && !project.data) return <ProblemAlert problem={project.problem} />;
  if (!project.data) return <Loading what="Loading the project" />;
  const p = project.data;
  const canWrite = may(session.user(), 'portfolio');
  const totals = {
    capex: sum(p.estimates.map((e) => e.capex)),
    opex: sum(p.estimates.map((e) => e.opex)),
    benefit: sum(p.estimates.map((e) => e.benefit)),
  };
  const actions = PROJECT_ACTIONS[p.state];

  return (
    <section>
      <p className="crumbs">
        <Link to="/projects">Projects</Link> ›
      </p>
      <div className="page-head">
        <h1>
          {p.name} <code className="code">{p.code}</code>
        </h1>
        <div>
          <Badge value={p.state} /> <Badge value={p.health} kind="health" />
        </div>
      </div>
      <div className="grid-2">
        <div className="card">
          <h2>Facts</h2>
          <ProblemAlert
            problem={report.problem}
            title={report.problem?.status === 412 ? 'Someone else changed this project first:' : undefined}
          />
          <dl className="facts">
            <dt>
              <label htmlFor="project-health">Health</label>
            </dt>
            <dd>
              <select
                id="project-health"
                value={p.health}
                disabled={!canWrite || report.busy}
                onChange={(e) => report.perform(e.target.value as Schemas['Health'], p.version)}
              >
                <option value="green">Green</option>
                <option value="amber">Amber</option>
                <option value="red">Red</option>
              </select>
              {report.busy && <span className="hint"> Saving…</span>}
            </dd>
            <dt>Owner</dt>
            <dd>{p.owner}</dd>
            <dt>Category</dt>
            <dd>{label(p.investment_category)}</dd>
            <dt>Risk</dt>
            <dd>{p.risk} of 5</dd>
            <dt>Dates</dt>
            <dd>
              {date(p.start_date)} to {date(p.end_date)}
            </dd>
            <dt>Currency</dt>
            <dd>{p.currency}</dd>
            {p.demand_id && (
              <>
                <dt>From demand</dt>
                <dd>
                  <Link to={`/demands/${p.demand_id}`}>the approved demand</Link>
                </dd>
              </>
            )}
          </dl>
          {p.description && <p>{p.description}</p>}
        </div>
        <div className="card">
          <h2>Lifecycle</h2>
          <ProblemAlert problem={move.problem} />
          {actions.length === 0 ? (
            <p>This project is {label(p.state).toLowerCase()}: its lifecycle has ended.</p>
          ) : (
            <>
              <div className="field">
                <label htmlFor="transition-reason">Reason (optional)</label>
                <input id="transition-reason" value={reason} onChange={(e) => setReason(e.target.value)} disabled={!canWrite} />
              </div>
              <div className="actions" role="group" aria-label="Lifecycle actions">
                {actions.map((a) => (
                  <button
                    key={a.to}
                    type="button"
                    className={a.to === 'cancelled' ? 'danger' : 'primary'}
                    disabled={move.busy || !canWrite}
                    onClick={() => move.perform(a.to)}
                  >
                    {a.verb}
                  </button>
                ))}
              </div>
              {!canWrite && <p className="hint">Your role may read this project but not change it.</p>}
            </>
          )}
        </div>
      </div>
      <div className="card">
        <h2>Business case by fiscal year ({p.currency})</h2>
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Fiscal year</th>
              <th scope="col" className="num">CapEx</th>
              <th scope="col" className="num">OpEx</th>
              <th scope="col" className="num">Benefit</th>
            </tr>
          </thead>
          <tbody>
            {p.estimates.map((e) => (
              <tr key={e.fiscal_year}>
                <th scope="row">FY{e.fiscal_year}</th>
                <td className="num">{money(e.capex, p.currency)}</td>
                <td className="num">{money(e.opex, p.currency)}</td>
                <td className="num">{money(e.benefit, p.currency)}</td>
              </tr>
            ))}
            {p.estimates.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  No estimates.
                </td>
              </tr>
            )}
          </tbody>
          {p.estimates.length > 0 && (
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td className="num">{money(totals.capex, p.currency)}</td>
                <td className="num">{money(totals.opex, p.currency)}</td>
                <td className="num">{money(totals.benefit, p.currency)}</td>
              </tr>
            </tfoot>
          )}
        </table>
        {p.estimates.length > 0 && (
          <BarChart
            title="Estimates per fiscal year"
            series={[
              { name: 'CapEx', color: '#1d4ed8' },
              { name: 'OpEx', color: '#f59e0b' },
              { name: 'Benefit', color: '#16a34a' },
            ]}
            groups={p.estimates.map((e) => ({ label: `FY${e.fiscal_year}`, values: [toNumber(e.capex), toNumber(e.opex), toNumber(e.benefit)] }))}
          />
        )}
      </div>
      <ProjectFinancials id={id} />
      <ProjectRoi id={id} defaultModel={p.roi_model} />
    </section>
  );
}
