import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { placeProblem, pointer, problemOf, type Problem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { date, label } from '../format';
import { Link } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';
import { SchemaForm, buildValue, initialDrafts, schemaPointers, type Drafts, type JsonSchema } from '../components/SchemaForm';
import { goToInstance } from './Plugins';
import { SyncPanel } from './SyncPanel';

type Invocation = Schemas['Invocation'];
type StreamInfo = Schemas['StreamInfo'];

const lines = (text: string) => text.split('\n').map((s) => s.trim()).filter(Boolean);

/**
 * A new instance of a plugin: its configuration, in a form generated from the
 * plugin's JSON Schema; its secrets (write-only); and the capabilities the
 * admin grants, within what the manifest asks for.
 */
export function NewPluginInstance({ pluginId }: { pluginId: string }) {
  const plugin = useLoad(() => unwrap(api.GET('/api/v1/plugins/{id}', { params: { path: { id: pluginId } } })), [pluginId]);
  if (plugin.problem) return <ProblemAlert problem={plugin.problem} />;
  if (!plugin.data) return <Loading />;
  return <InstanceForm plugin={plugin.data} />;
}

function InstanceForm({ plugin }: { plugin: Schemas['Plugin'] }) {
  const schema = (plugin.manifest.configuration_schema ?? {}) as JsonSchema;
  const asks = plugin.manifest.capabilities ?? {};
  const secretNames = asks.secrets ?? [];
  const [name, setName] = useState(plugin.manifest.name);
  const [drafts, setDrafts] = useState<Drafts>(() => initialDrafts(schema));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [grants, setGrants] = useState({ http: '', networks: '', memory_mb: '', timeout_ms: '' });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const hostLines = lines(grants.http);
  const networkLines = lines(grants.networks);
  const known = [
    '/name',
    '/config',
    ...schemaPointers(schema, '/config'),
    ...secretNames.map((s) => pointer('secrets', s)),
    '/grants/http',
    ...hostLines.map((_, i) => pointer('grants', 'http', i)),
    '/grants/networks',
    ...networkLines.map((_, i) => pointer('grants', 'networks', i)),
    '/grants/memory_mb',
    '/grants/timeout_ms',
  ];
  const placed = placeProblem(problem, known);
  // Errors of one host or range line are shown at the list, with the line's number.
  const listErrors = (list: string) =>
    Object.entries(placed.fields)
      .filter(([p]) => p === list || p.startsWith(list + '/'))
      .flatMap(([p, messages]) => (p === list ? messages : messages.map((m) => `line ${Number(p.slice(list.length + 1)) + 1}: ${m}`)));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    const setSecrets = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== ''));
    try {
      const created = await unwrap(
        api.POST('/api/v1/plugin-instances', {
          body: {
            plugin_id: plugin.id,
            name: name.trim(),
            // The server's schema type is a free-form object; the plugin's schema validates it.
            config: buildValue(schema, drafts) as unknown as Schemas['NewInstance']['config'],
            secrets: setSecrets,
            grants: {
              http: hostLines,
              networks: networkLines,
              memory_mb: grants.memory_mb ? Number(grants.memory_mb) : null,
              timeout_ms: grants.timeout_ms ? Number(grants.timeout_ms) : null,
            },
          },
        }),
      );
      goToInstance(created.id);
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <p>
        <Link to="/plugins">← Plugins</Link>
      </p>
      <h1>New instance of {plugin.manifest.name}</h1>
      <form className="card" onSubmit={submit} aria-label="New plugin instance" noValidate>
        <ProblemAlert problem={problem} unplaced={placed.unplaced} />
        <Field label="Instance name" errors={placed.fields['/name']}>
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <fieldset>
          <legend>Configuration</legend>
          <SchemaForm schema={schema} drafts={drafts} onChange={setDrafts} errors={placed.fields} prefix="/config" />
          {placed.fields['/config'] && <p className="field-error">{placed.fields['/config'].join('; ')}</p>}
        </fieldset>
        {secretNames.length > 0 && (
          <fieldset>
            <legend>Secrets</legend>
            <p className="hint">Stored encrypted; never shown again.</p>
            {secretNames.map((s) => (
              <Field key={s} label={s} errors={placed.fields[pointer('secrets', s)]}>
                <input type="password" autoComplete="off" value={secrets[s] ?? ''} onChange={(e) => setSecrets({ ...secrets, [s]: e.target.value })} />
              </Field>
            ))}
          </fieldset>
        )}
        <fieldset>
          <legend>Capabilities granted</legend>
          <Field
            label="Outbound hosts"
            errors={listErrors('/grants/http')}
            hint={`One per line, such as https://api.example.com. The plugin asks for: ${asks.http?.length ? asks.http.join(', ') : 'no host'}.`}
          >
            <textarea rows={3} value={grants.http} onChange={(e) => setGrants({ ...grants, http: e.target.value })} />
          </Field>
          <Field
            label="Private address ranges"
            errors={listErrors('/grants/networks')}
            hint="Only for on-premises sources: CIDR ranges such as 10.20.0.0/16 that outbound requests may reach. Empty: public addresses only."
          >
            <textarea rows={2} value={grants.networks} onChange={(e) => setGrants({ ...grants, networks: e.target.value })} />
          </Field>
          <Field label="Memory cap (MiB)" errors={placed.fields['/grants/memory_mb']} hint={`Default: ${asks.memory_mb ?? 64}.`}>
            <input inputMode="numeric" value={grants.memory_mb} onChange={(e) => setGrants({ ...grants, memory_mb: e.target.value })} />
          </Field>
          <Field label="Deadline per call (ms)" errors={placed.fields['/grants/timeout_ms']} hint="Default: 10000.">
            <input inputMode="numeric" value={grants.timeout_ms} onChange={(e) => setGrants({ ...grants, timeout_ms: e.target.value })} />
          </Field>
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create instance'}
        </button>
      </form>
    </section>
  );
}

/** An instance: its settings, `check` and `discover`, and every call it served. */
export function PluginInstance({ id }: { id: string }) {
  const instance = useLoad(() => unwrap(api.GET('/api/v1/plugin-instances/{id}', { params: { path: { id } } })), [id]);
  const history = useLoad(
    () => unwrap(api.GET('/api/v1/plugin-instances/{id}/invocations', { params: { path: { id }, query: { per_page: 50 } } })),
    [id],
  );
  const [last, setLast] = useState<Invocation | null>(null);
  const [streams, setStreams] = useState<StreamInfo[] | null>(null);
  const check = useAction(async () => {
    setLast(await unwrap(api.POST('/api/v1/plugin-instances/{id}/check', { params: { path: { id } } })));
    history.reload();
  });
  const discover = useAction(async () => {
    const answer = await unwrap(api.POST('/api/v1/plugin-instances/{id}/discover', { params: { path: { id } } }));
    setLast(answer.invocation);
    setStreams(answer.streams ?? null);
    history.reload();
  });

  if (instance.problem) return <ProblemAlert problem={instance.problem} />;
  if (!instance.data) return <Loading />;
  const i = instance.data;
  const busy = check.busy || discover.busy;

  const streamColumns: Column<StreamInfo>[] = [
    { key: 'name', header: 'Stream', render: (s) => <code>{s.name}</code> },
    { key: 'produces', header: 'Produces', render: (s) => label(s.produces) },
    { key: 'key', header: 'Primary key', render: (s) => s.primary_key.join(', ') },
    { key: 'cursor', header: 'Cursor', render: (s) => s.cursor_field ?? 'full refresh' },
    { key: 'description', header: 'Description', render: (s) => s.description },
  ];

  return (
    <section>
      <p>
        <Link to="/plugins">← Plugins</Link>
      </p>
      <div className="page-head">
        <h1>{i.name}</h1>
        <div className="actions">
          <button type="button" onClick={() => check.perform()} disabled={busy}>
            {check.busy ? 'Checking…' : 'Check connection'}
          </button>
          <button type="button" onClick={() => discover.perform()} disabled={busy}>
            {discover.busy ? 'Discovering…' : 'Discover streams'}
          </button>
        </div>
      </div>
      <ProblemAlert problem={check.problem ?? discover.problem} />
      {last && <Outcome invocation={last} />}
      {streams && (
        <DataTable caption="Streams" columns={streamColumns} rows={streams} rowKey={(s) => s.name} empty="The connector offers no stream." />
      )}
      <dl className="facts">
        <dt>Plugin</dt>
        <dd>
          <code>{i.plugin_id}</code>
        </dd>
        <dt>Granted hosts</dt>
        <dd>{i.grants.http?.length ? i.grants.http.join(', ') : 'none'}</dd>
        <dt>Private ranges</dt>
        <dd>{i.grants.networks?.length ? i.grants.networks.join(', ') : 'none'}</dd>
        <dt>Secrets set</dt>
        <dd>{i.secret_names.length ? i.secret_names.join(', ') : 'none'}</dd>
        <dt>Configuration</dt>
        <dd>
          <pre>{JSON.stringify(i.config, null, 2)}</pre>
        </dd>
      </dl>
      <SyncPanel instanceId={i.id} />
      <h2>Calls</h2>
      <Invocations rows={history.data?.items ?? []} loading={history.loading} problem={history.problem} />
    </section>
  );
}

/** What the last call did, in words, with the plugin's log lines. */
function Outcome({ invocation: v }: { invocation: Invocation }) {
  const ok = v.outcome === 'ok';
  return (
    <div className={`alert ${ok ? 'alert-success' : 'alert-error'}`} role="status">
      <strong>
        {label(v.operation)}: {ok ? 'succeeded' : label(v.outcome)}
      </strong>{' '}
      {v.detail} <span className="hint">({(v.duration_us / 1000).toFixed(1)} ms)</span>
      {v.logs.length > 0 && (
        <pre className="logs">{v.logs.map((l) => `${l.level.toUpperCase()} ${l.message}`).join('\n')}</pre>
      )}
    </div>
  );
}

function Invocations({ rows, loading, problem }: { rows: Invocation[]; loading: boolean; problem: Problem | null }) {
  const columns: Column<Invocation>[] = [
    { key: 'at', header: 'Started', render: (v) => `${date(v.started_at)} ${v.started_at.slice(11, 19)}` },
    { key: 'op', header: 'Call', render: (v) => v.operation },
    { key: 'outcome', header: 'Outcome', render: (v) => <Badge value={v.outcome === 'ok' ? 'ok' : 'failed'} kind={v.outcome} /> },
    { key: 'ms', header: 'Duration (ms)', numeric: true, render: (v) => (v.duration_us / 1000).toFixed(1) },
    { key: 'mem', header: 'Peak memory (KiB)', numeric: true, render: (v) => Math.round(v.peak_memory_bytes / 1024).toString() },
    { key: 'by', header: 'By', render: (v) => v.requested_by },
    {
      key: 'detail',
      header: 'Detail and logs',
      render: (v) =>
        v.detail || v.logs.length ? (
          <details>
            <summary>{v.detail ?? `${v.logs.length} log line${v.logs.length === 1 ? "" : "s"}`}</summary>
            <pre className="logs">{v.logs.map((l) => `${l.level.toUpperCase()} ${l.message}`).join('\n')}</pre>
          </details>
        ) : (
          '—'
        ),
    },
  ];
  return (
    <>
      <ProblemAlert problem={problem} />
      <DataTable caption="Calls of this instance" columns={columns} rows={rows} rowKey={(v) => String(v.id)} loading={loading} empty="No call yet." />
    </>
  );
}
