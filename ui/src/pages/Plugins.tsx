import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { placeProblem, type Problem, problemOf } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { date, label } from '../format';
import { Link, navigate } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { Field } from '../components/Field';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';

type Plugin = Schemas['Plugin'];
type Instance = Schemas['Instance'];
type TrustedKey = Schemas['TrustedKey'];

const loadPlugins = () => unwrap(api.GET('/api/v1/plugins', { params: { query: { per_page: 500 } } }));
const loadInstances = () => unwrap(api.GET('/api/v1/plugin-instances', { params: { query: { per_page: 500 } } }));
const loadKeys = () => unwrap(api.GET('/api/v1/plugin-trusted-keys', { params: { query: { per_page: 500 } } }));

/**
 * The plugin administration page: install signed packages, trust vendors'
 * keys, enable or disable plugins and open their instances. Admins only: the
 * server refuses everyone else, and the page says so.
 */
export function Plugins() {
  const plugins = useLoad(loadPlugins, []);
  const instances = useLoad(loadInstances, []);
  const keys = useLoad(loadKeys, []);
  const names = new Map(plugins.data?.items.map((p) => [p.id, p.manifest.name]));

  const toggle = useAction(async (p: Plugin) => {
    const path = p.enabled ? '/api/v1/plugins/{id}/disable' : '/api/v1/plugins/{id}/enable';
    await unwrap(api.POST(path, { params: { path: { id: p.id } } }));
    plugins.reload();
  });
  const uninstall = useAction(async (p: Plugin) => {
    if (!window.confirm(`Uninstall ${p.manifest.name} ${p.manifest.version}? Its instances go with it.`)) return;
    await unwrap(api.DELETE('/api/v1/plugins/{id}', { params: { path: { id: p.id } } }));
    plugins.reload();
    instances.reload();
  });

  const pluginColumns: Column<Plugin>[] = [
    {
      key: 'name',
      header: 'Plugin',
      render: (p) => (
        <>
          <strong>{p.manifest.name}</strong> <code>{p.manifest.id}</code>
        </>
      ),
    },
    { key: 'version', header: 'Version', render: (p) => p.manifest.version },
    { key: 'kind', header: 'Kind', render: (p) => label(p.manifest.kind) },
    { key: 'vendor', header: 'Vendor', render: (p) => p.manifest.vendor },
    { key: 'signed', header: 'Signed by', render: (p) => p.signed_by ?? <em>unsigned (development)</em> },
    { key: 'state', header: 'State', render: (p) => <Badge value={p.enabled ? 'enabled' : 'disabled'} /> },
    {
      key: 'actions',
      header: 'Actions',
      render: (p) => (
        <span className="row-actions">
          <Link to={`/plugins/${encodeURIComponent(p.id)}/new-instance`}>New instance</Link>
          <button type="button" className="link" onClick={() => toggle.perform(p)} disabled={toggle.busy}>
            {p.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="link danger" onClick={() => uninstall.perform(p)} disabled={uninstall.busy}>
            Uninstall
          </button>
        </span>
      ),
    },
  ];
  const instanceColumns: Column<Instance>[] = [
    { key: 'name', header: 'Instance', render: (i) => <Link to={`/plugin-instances/${encodeURIComponent(i.id)}`}>{i.name}</Link> },
    { key: 'plugin', header: 'Plugin', render: (i) => names.get(i.plugin_id) ?? i.plugin_id },
    { key: 'hosts', header: 'Granted hosts', render: (i) => (i.grants.http?.length ? i.grants.http.join(', ') : '—') },
    { key: 'secrets', header: 'Secrets set', render: (i) => (i.secret_names.length ? i.secret_names.join(', ') : '—') },
    { key: 'created', header: 'Created', render: (i) => date(i.created_at) },
  ];

  return (
    <section>
      <div className="page-head">
        <h1>Plugins</h1>
      </div>
      <ProblemAlert problem={plugins.problem ?? toggle.problem ?? uninstall.problem} />
      <InstallPackage
        onInstalled={() => {
          plugins.reload();
        }}
      />
      <h2>Installed</h2>
      <DataTable
        caption="Installed plugins"
        columns={pluginColumns}
        rows={plugins.data?.items ?? []}
        rowKey={(p) => p.id}
        loading={plugins.loading}
        empty="No plugin is installed."
      />
      <h2>Instances</h2>
      <ProblemAlert problem={instances.problem} />
      <DataTable
        caption="Plugin instances"
        columns={instanceColumns}
        rows={instances.data?.items ?? []}
        rowKey={(i) => i.id}
        loading={instances.loading}
        empty="No instance yet: create one from an installed plugin."
      />
      <TrustedKeys keys={keys.data?.items ?? []} problem={keys.problem} loading={keys.loading} onChange={keys.reload} />
    </section>
  );
}

/** Uploads a package file; the server checks its signature, manifest and component. */
function InstallPackage({ onInstalled }: { onInstalled: (p: Plugin) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [installed, setInstalled] = useState<Plugin | null>(null);
  const install = useAction(async (f: File) => {
    const body = new Uint8Array(await f.arrayBuffer());
    const plugin = await unwrap(
      api.POST('/api/v1/plugins', {
        // The package goes as it is, not as JSON.
        body: body as unknown as number[],
        bodySerializer: (b: unknown) => b as BodyInit,
        headers: { 'Content-Type': 'application/octet-stream' },
      }),
    );
    setInstalled(plugin);
    onInstalled(plugin);
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setInstalled(null);
    if (file) install.perform(file);
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Install a plugin package">
      <h2>Install a package</h2>
      <p className="hint">
        A package made with <code>itbm plugin sign</code>. It installs only when a trusted key signed it (below), unless the server
        runs with <code>--plugin-dev</code>.
      </p>
      <Field label="Package file">
        <input type="file" accept=".itbm,application/octet-stream" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </Field>
      <button type="submit" disabled={!file || install.busy}>
        {install.busy ? 'Installing…' : 'Install'}
      </button>
      <ProblemAlert problem={install.problem} title="Not installed:" />
      {installed && (
        <p role="status" className="alert alert-success">
          Installed {installed.manifest.name} {installed.manifest.version}.{' '}
          <Link to={`/plugins/${encodeURIComponent(installed.id)}/new-instance`}>Create an instance</Link>
        </p>
      )}
    </form>
  );
}

function TrustedKeys({ keys, problem, loading, onChange }: { keys: TrustedKey[]; problem: Problem | null; loading: boolean; onChange: () => void }) {
  const [form, setForm] = useState({ name: '', public_key: '' });
  const [error, setError] = useState<Problem | null>(null);
  const placed = placeProblem(error, ['/name', '/public_key']);
  async function add(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await unwrap(api.POST('/api/v1/plugin-trusted-keys', { body: { name: form.name.trim(), public_key: form.public_key.trim() } }));
      setForm({ name: '', public_key: '' });
      onChange();
    } catch (err) {
      setError(problemOf(err));
    }
  }
  const remove = useAction(async (k: TrustedKey) => {
    if (!window.confirm(`Stop trusting the key of ${k.name}? Installed plugins stay installed.`)) return;
    await unwrap(api.DELETE('/api/v1/plugin-trusted-keys/{id}', { params: { path: { id: k.id } } }));
    onChange();
  });
  const columns: Column<TrustedKey>[] = [
    { key: 'name', header: 'Owner', render: (k) => k.name },
    { key: 'key', header: 'Public key', render: (k) => <code>{k.public_key}</code> },
    { key: 'added', header: 'Added', render: (k) => date(k.created_at) },
    {
      key: 'remove',
      header: 'Actions',
      render: (k) => (
        <button type="button" className="link danger" onClick={() => remove.perform(k)}>
          Remove
        </button>
      ),
    },
  ];
  return (
    <>
      <h2>Trusted keys</h2>
      <ProblemAlert problem={problem ?? remove.problem} />
      <DataTable caption="Trusted keys" columns={columns} rows={keys} rowKey={(k) => k.id} loading={loading} empty="No key is trusted yet." />
      <form className="card inline-form" onSubmit={add} aria-label="Trust a key">
        <Field label="Owner" errors={placed.fields['/name']}>
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </Field>
        <Field label="Public key (base64)" errors={placed.fields['/public_key']} hint="From the .pub file itbm plugin keygen writes.">
          <input value={form.public_key} onChange={(e) => setForm({ ...form, public_key: e.target.value })} />
        </Field>
        <button type="submit">Trust key</button>
        <ProblemAlert problem={error} unplaced={placed.unplaced} />
      </form>
    </>
  );
}

export const goToInstance = (id: string) => navigate(`/plugin-instances/${encodeURIComponent(id)}`);
