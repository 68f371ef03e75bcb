import { useEffect, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { allCostCenters, allCostTypes } from '../api/lists';
import { placeProblem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { date } from '../format';
import { DataTable, type Column } from '../components/DataTable';
import { Field } from '../components/Field';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';

type Run = Schemas['SyncRun'];

const when = (t: string | null | undefined) => (t ? `${date(t)} ${t.slice(11, 19)}` : '—');

/**
 * A connector instance's synchronisation: run it now and watch its progress,
 * its schedule, and the runs so far with their counts and rejected records.
 */
export function SyncPanel({ instanceId }: { instanceId: string }) {
  const runs = useLoad(
    () => unwrap(api.GET('/api/v1/sync-runs', { params: { query: { instance_id: instanceId, per_page: 20 } } })),
    [instanceId],
  );
  const [watching, setWatching] = useState<Run | null>(null);
  const start = useAction(async () => {
    setWatching(await unwrap(api.POST('/api/v1/plugin-instances/{id}/sync-runs', { params: { path: { id: instanceId } } })));
    runs.reload();
  });
  const cancel = useAction(async (id: string) => {
    setWatching(await unwrap(api.POST('/api/v1/sync-runs/{id}/cancel', { params: { path: { id } } })));
  });

  // While a run goes on, look at it every second.
  const running = watching?.status === 'running';
  useEffect(() => {
    if (!running || !watching) return;
    const timer = setInterval(async () => {
      try {
        const detail = await unwrap(api.GET('/api/v1/sync-runs/{id}', { params: { path: { id: watching.id } } }));
        setWatching(detail);
        if (detail.status !== 'running') runs.reload();
      } catch {
        // The next tick tries again; the history shows the outcome anyway.
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [running, watching?.id]);

  const columns: Column<Run>[] = [
    { key: 'started', header: 'Started', render: (r) => when(r.started_at) },
    { key: 'trigger', header: 'Trigger', render: (r) => r.trigger },
    { key: 'status', header: 'Status', render: (r) => <Badge value={r.status} /> },
    { key: 'read', header: 'Read', numeric: true, render: (r) => String(r.counts.read) },
    { key: 'inserted', header: 'Inserted', numeric: true, render: (r) => String(r.counts.inserted) },
    { key: 'updated', header: 'Updated', numeric: true, render: (r) => String(r.counts.updated) },
    { key: 'unchanged', header: 'Unchanged', numeric: true, render: (r) => String(r.counts.unchanged) },
    { key: 'rejected', header: 'Rejected', numeric: true, render: (r) => String(r.counts.rejected) },
    { key: 'detail', header: 'Detail', render: (r) => (r.counts.rejected > 0 ? <Rejections runId={r.id} /> : (r.error ?? '—')) },
  ];

  return (
    <div className="card">
      <div className="page-head">
        <h2>Synchronisation</h2>
        <div className="actions">
          <button type="button" className="primary" onClick={() => start.perform()} disabled={start.busy || running}>
            {running ? 'Sync running…' : 'Run sync now'}
          </button>
          {running && watching && (
            <button type="button" className="danger" onClick={() => cancel.perform(watching.id)} disabled={watching.cancel_requested}>
              {watching.cancel_requested ? 'Stopping…' : 'Cancel'}
            </button>
          )}
        </div>
      </div>
      <ProblemAlert problem={start.problem ?? cancel.problem ?? runs.problem} />
      {watching && (
        <div className={`alert ${watching.status === 'failed' ? 'alert-error' : watching.status === 'running' ? 'alert-info' : 'alert-success'}`} role="status" aria-live="polite">
          <strong>Sync {watching.status}</strong>: {watching.pages} pages, {watching.counts.read} records read ({watching.counts.inserted} inserted,{' '}
          {watching.counts.updated} updated, {watching.counts.unchanged} unchanged, {watching.counts.rejected} rejected)
          {watching.streams_done.length > 0 && `; streams done: ${watching.streams_done.join(', ')}`}
          {watching.retries > 0 && `; ${watching.retries} retries`}
          {watching.error && `. ${watching.error}`}
          {watching.status === 'running' && <progress aria-label="Sync in progress" />}
        </div>
      )}
      <Schedule instanceId={instanceId} />
      <DataTable caption="Sync runs of this instance" columns={columns} rows={runs.data?.items ?? []} rowKey={(r) => r.id} loading={runs.loading} empty="No run yet." />
    </div>
  );
}

function Rejections({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  const list = useLoad(
    () => (open ? unwrap(api.GET('/api/v1/sync-runs/{id}/rejections', { params: { path: { id: runId }, query: { per_page: 100 } } })) : Promise.resolve(undefined)),
    [open, runId],
  );
  return (
    <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Rejected records</summary>
      <ProblemAlert problem={list.problem} />
      <ul className="reasons">
        {list.data?.items.map((r) => (
          <li key={r.id}>
            <code>{r.stream}</code> {r.record_key ?? ''}: {r.reason}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Schedule({ instanceId }: { instanceId: string }) {
  const settings = useLoad(() => unwrap(api.GET('/api/v1/plugin-instances/{id}/sync-settings', { params: { path: { id: instanceId } } })), [instanceId]);
  const lists = useLoad(async () => ({ centers: await allCostCenters(), types: await allCostTypes() }), []);
  const [form, setForm] = useState({ minutes: '', precedence: '', cost_center_id: '', cost_type_id: '' });
  useEffect(() => {
    const s = settings.data;
    if (s)
      setForm({
        minutes: s.interval_seconds == null ? '' : String(s.interval_seconds / 60),
        precedence: String(s.precedence),
        cost_center_id: s.cost_center_id ?? '',
        cost_type_id: s.cost_type_id ?? '',
      });
  }, [settings.data]);
  const save = useAction(async () => {
    await unwrap(
      api.PUT('/api/v1/plugin-instances/{id}/sync-settings', {
        params: { path: { id: instanceId } },
        body: {
          interval_seconds: form.minutes.trim() ? Math.round(Number(form.minutes) * 60) : null,
          precedence: form.precedence.trim() ? Number(form.precedence) : null,
          cost_center_id: form.cost_center_id || null,
          cost_type_id: form.cost_type_id || null,
        },
      }),
    );
    settings.reload();
  });
  const placed = placeProblem(save.problem, ['/interval_seconds', '/precedence', '/cost_center_id', '/cost_type_id']);
  return (
    <form
      className="form-row schedule"
      aria-label="Sync schedule"
      onSubmit={(e) => {
        e.preventDefault();
        save.perform();
      }}
    >
      <Field label="Every (minutes)" errors={placed.fields['/interval_seconds']} hint="Empty: on demand only.">
        <input inputMode="decimal" value={form.minutes} onChange={(e) => setForm({ ...form, minutes: e.target.value })} />
      </Field>
      <Field label="Precedence for assets" errors={placed.fields['/precedence']} hint="Lower wins when two sources report one asset.">
        <input inputMode="numeric" value={form.precedence} onChange={(e) => setForm({ ...form, precedence: e.target.value })} />
      </Field>
      <Field label="Default cost center" errors={placed.fields['/cost_center_id']}>
        <select value={form.cost_center_id} onChange={(e) => setForm({ ...form, cost_center_id: e.target.value })}>
          <option value="">—</option>
          {lists.data?.centers.map((c) => (
            <option key={c.id} value={c.id}>
              {c.code} {c.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Default cost type" errors={placed.fields['/cost_type_id']}>
        <select value={form.cost_type_id} onChange={(e) => setForm({ ...form, cost_type_id: e.target.value })}>
          <option value="">—</option>
          {lists.data?.types.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" disabled={save.busy}>
        Save schedule
      </button>
      {settings.data?.next_run_at && <p className="hint">Next scheduled run: {when(settings.data.next_run_at)}</p>}
      <ProblemAlert problem={save.problem ?? settings.problem} unplaced={placed.unplaced} />
    </form>
  );
}
