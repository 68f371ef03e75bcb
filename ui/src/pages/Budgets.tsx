import { useEffect, useState } from 'react';
import { api, etag, unwrap, type Schemas } from '../api/client';
import { allBudgetLines, allBudgetVersions, allCostCenters, allCostTypes, preferredVersion } from '../api/lists';
import { useAction, useLoad } from '../hooks';
import { label, money } from '../format';
import { navigate, setQuery, useLocation } from '../router';
import { may, session } from '../session';
import { Badge } from '../components/Badge';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { BudgetGrid } from './BudgetGrid';
import { VersionForm } from './VersionForm';

type BudgetState = Schemas['BudgetState'];

const BUDGET_ACTIONS: Record<BudgetState, { to: BudgetState; verb: string }[]> = {
  draft: [{ to: 'submitted', verb: 'Submit for approval' }],
  submitted: [
    { to: 'approved', verb: 'Approve' },
    { to: 'draft', verb: 'Return to draft' },
  ],
  approved: [{ to: 'locked', verb: 'Lock' }],
  locked: [],
};

/** Budgets: pick a version, then edit its grid of periods by cost centers, one cost type at a time. */
export function Budgets({ versionId }: { versionId?: string }) {
  const versions = useLoad(() => allBudgetVersions(), []);
  const period = useLoad(() => unwrap(api.GET('/api/v1/fiscal-periods/current')), []);
  // Without a version in the URL, open this year's most final plan.
  useEffect(() => {
    if (versionId || !versions.data || !period.data) return;
    const pick = preferredVersion(versions.data.filter((v) => v.fiscal_year === period.data!.fiscal_year)) ?? versions.data[0];
    if (pick) navigate(`/budgets/${pick.id}`, { replace: true });
  }, [versionId, versions.data, period.data]);
  const [creating, setCreating] = useState(false);
  const canWrite = may(session.user(), 'finance');
  return (
    <section>
      <div className="page-head">
        <h1>Budgets</h1>
        <div className="actions">
          <label>
            Budget version{' '}
            <select value={versionId ?? ''} onChange={(e) => navigate(`/budgets/${e.target.value}`)} disabled={!versions.data?.length}>
              {!versionId && <option value="">Choose a version</option>}
              {versions.data?.map((v) => (
                <option key={v.id} value={v.id}>
                  FY{v.fiscal_year} · {v.name} ({label(v.kind)}, {label(v.state)})
                </option>
              ))}
            </select>
          </label>
          {canWrite && (
            <button type="button" onClick={() => setCreating(true)} disabled={creating}>
              New version
            </button>
          )}
        </div>
      </div>
      <ProblemAlert problem={versions.problem} />
      {creating && period.data && (
        <VersionForm
          fiscalYear={period.data.fiscal_year}
          onCreated={(v) => {
            setCreating(false);
            versions.reload();
            navigate(`/budgets/${v.id}`);
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      {versions.data?.length === 0 && !creating && (
        <p>There is no budget version yet.{canWrite ? ' Create one with “New version”.' : ' A finance user creates them.'}</p>
      )}
      {versionId && <Version key={versionId} id={versionId} onChange={versions.reload} />}
    </section>
  );
}

function Version({ id, onChange }: { id: string; onChange: () => void }) {
  const { query } = useLocation();
  const version = useLoad(() => unwrap(api.GET('/api/v1/budget-versions/{id}', { params: { path: { id } } })), [id]);
  const year = version.data?.fiscal_year;
  const setup = useLoad(async () => {
    if (year === undefined) return undefined;
    const [periods, costCenters, costTypes, lines] = await Promise.all([
      unwrap(api.GET('/api/v1/fiscal-years/{year}/periods', { params: { path: { year } } })),
      allCostCenters(),
      allCostTypes(),
      allBudgetLines(id),
    ]);
    return { periods, costCenters, costTypes, lines };
  }, [id, year]);
  const move = useAction(async (to: BudgetState, v: number) => {
    try {
      await unwrap(
        api.POST('/api/v1/budget-versions/{id}/transitions', { params: { path: { id } }, headers: { 'If-Match': etag(v) }, body: { to } }),
      );
    } finally {
      version.reload();
      onChange();
    }
  });
  const [copying, setCopying] = useState(false);
  // Lines the grid saved, per cost type, so that switching back shows them.
  const [saved, setSaved] = useState<Record<string, Schemas['BudgetLine'][]>>({});

  if (version.problem && !version.data) return <ProblemAlert problem={version.problem} />;
  if (!version.data || (setup.loading && !setup.data)) return <Loading what="Loading the budget" />;
  const v = version.data;
  const s = setup.data;
  const canWrite = may(session.user(), 'finance');
  const editable = canWrite && v.state === 'draft';
  // The cost type shown: the one in the URL, else the first that has lines.
  const used = new Set(s?.lines.map((l) => l.cost_type_id));
  const costTypeId = query.get('cost_type') || s?.costTypes.find((t) => used.has(t.id))?.id || s?.costTypes[0]?.id || '';

  return (
    <>
      <div className="card version-head">
        <div>
          <h2>
            {v.name} <Badge value={v.state} />
          </h2>
          <p>
            FY{v.fiscal_year} · {label(v.kind)} · default currency {v.currency}
            {v.approved_by ? ` · approved by ${v.approved_by}` : ''}
          </p>
        </div>
        <dl className="totals-inline">
          {v.totals.map((t) => (
            <div key={t.currency}>
              <dt>Total {t.currency}</dt>
              <dd>
                {money(t.total, t.currency)} <small>(CapEx {money(t.capex, t.currency)}, OpEx {money(t.opex, t.currency)})</small>
              </dd>
            </div>
          ))}
        </dl>
        {canWrite && (
          <div className="actions" role="group" aria-label="Version workflow">
            {BUDGET_ACTIONS[v.state].map((a) => (
              <button key={a.to} type="button" disabled={move.busy} onClick={() => move.perform(a.to, v.version)}>
                {a.verb}
              </button>
            ))}
            <button type="button" onClick={() => setCopying(true)} disabled={copying}>
              Copy…
            </button>
          </div>
        )}
      </div>
      {copying && (
        <VersionForm
          copyOf={v}
          fiscalYear={v.fiscal_year}
          onCreated={(copy) => {
            setCopying(false);
            onChange();
            navigate(`/budgets/${copy.id}`);
          }}
          onCancel={() => setCopying(false)}
        />
      )}
      <ProblemAlert problem={move.problem ?? setup.problem} />
      {s && (
        <div className="card">
          <div className="page-head">
            <label>
              Cost type{' '}
              <select value={costTypeId} onChange={(e) => setQuery({ cost_type: e.target.value })}>
                {s.costTypes.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.code} {t.name} ({t.classification === 'capex' ? 'CapEx' : 'OpEx'}){used.has(t.id) ? '' : ' · no lines'}
                  </option>
                ))}
              </select>
            </label>
            <p className="hint">
              {editable
                ? 'Click a cell or press Enter to edit; Enter saves, Escape cancels, an empty cell deletes its line.'
                : v.state === 'draft'
                  ? 'Your role may read budgets but not change them.'
                  : `This version is ${label(v.state).toLowerCase()}: only drafts can change.`}
            </p>
          </div>
          {s.costCenters.length === 0 ? (
            <p>There are no cost centers yet.</p>
          ) : (
            <BudgetGrid
              key={costTypeId}
              versionId={id}
              currency={v.currency}
              costTypeId={costTypeId}
              periods={s.periods}
              costCenters={s.costCenters}
              lines={saved[costTypeId] ?? s.lines.filter((l) => l.cost_type_id === costTypeId)}
              editable={editable}
              onLinesChange={(ls) => {
                setSaved((prev) => ({ ...prev, [costTypeId]: ls }));
                // The version's totals changed with the line.
                version.reload();
              }}
            />
          )}
        </div>
      )}
    </>
  );
}
