import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Link, match, navigate, useLocation } from './router';
import { ROLE_NAMES, session } from './session';
import { activity } from './activity';
import { SignIn } from './pages/SignIn';
import { Dashboard } from './pages/Dashboard';
import { Projects } from './pages/Projects';
import { ProjectDetail } from './pages/ProjectDetail';
import { Demands } from './pages/Demands';
import { Budgets } from './pages/Budgets';
import { Assets } from './pages/Assets';
import { Plugins } from './pages/Plugins';
import { AssetDetail } from './pages/AssetDetail';
import { Scenarios } from './pages/Scenarios';
import { CostReports } from './pages/CostReports';
import { NewPluginInstance, PluginInstance } from './pages/PluginInstance';

const NAV = [
  { to: '/', label: 'Dashboard' },
  { to: '/projects', label: 'Projects' },
  { to: '/demands', label: 'Demand board' },
  { to: '/scenarios', label: 'Scenarios' },
  { to: '/budgets', label: 'Budgets' },
  { to: '/assets', label: 'Assets' },
  { to: '/cost-reports', label: 'Cost reports' },
  { to: '/plugins', label: 'Plugins', admin: true },
];

function useUser() {
  const token = useSyncExternalStore(session.subscribe, session.token, session.token);
  return token ? session.user() : null;
}

export function App() {
  const user = useUser();
  const { path } = useLocation();

  useEffect(() => {
    if (!user && path !== '/sign-in') {
      const back = window.location.pathname + window.location.search;
      navigate(`/sign-in${back !== '/' ? `?next=${encodeURIComponent(back)}` : ''}`, { replace: true });
    }
  }, [user, path]);

  // After a move to another page, keyboard and screen-reader users start at
  // its content rather than at the top of the previous page.
  const previous = useRef(path);
  useEffect(() => {
    if (previous.current !== path) document.getElementById('main')?.focus({ preventScroll: true });
    previous.current = path;
  }, [path]);

  if (!user || path === '/sign-in') return <SignIn />;

  const page = route(path);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <ProgressBar />
      <header className="top">
        <Link to="/" className="brand">
          itbm
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.admin || user.roles.includes('admin')).map((n) => {
              const active = n.to === '/' ? path === '/' : path.startsWith(n.to);
              return (
                <li key={n.to}>
                  <Link to={n.to} aria-current={active ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="who">
          <span>
            {user.sub} · {user.roles.map((r) => ROLE_NAMES[r] ?? r).join(', ')}
          </span>
          <button
            type="button"
            className="link"
            onClick={() => {
              session.signOut();
              navigate('/sign-in');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function route(path: string) {
  let params: Record<string, string> | null;
  if (path === '/') return <Dashboard />;
  if (path === '/projects') return <Projects />;
  if ((params = match('/projects/:id', path))) return <ProjectDetail key={params.id} id={params.id} />;
  if (path === '/demands') return <Demands />;
  if ((params = match('/demands/:id', path))) return <Demands selected={params.id} />;
  if (path === '/budgets') return <Budgets />;
  if ((params = match('/budgets/:id', path))) return <Budgets versionId={params.id} />;
  if (path === '/assets') return <Assets />;
  if ((params = match('/assets/:id', path))) return <AssetDetail key={params.id} id={params.id} />;
  if (path === '/scenarios') return <Scenarios />;
  if (path === '/cost-reports') return <CostReports />;
  if (path === '/plugins') return <Plugins />;
  if ((params = match('/plugins/:id/new-instance', path))) return <NewPluginInstance key={params.id} pluginId={params.id} />;
  if ((params = match('/plugin-instances/:id', path))) return <PluginInstance key={params.id} id={params.id} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Back to the dashboard</Link>.
      </p>
    </section>
  );
}

/** A thin bar at the top while any request is in flight (after a short delay, so quick ones do not flicker). */
function ProgressBar() {
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = activity.subscribe((n) => {
      clearTimeout(timer);
      if (n > 0) timer = setTimeout(() => setBusy(true), 150);
      else setBusy(false);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, []);
  return busy ? <div className="progress" role="progressbar" aria-label="Loading" /> : null;
}
