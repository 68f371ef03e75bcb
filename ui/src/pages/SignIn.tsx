import { useEffect, useState, type FormEvent } from 'react';
import { navigate, useLocation } from '../router';
import { decodeToken, ROLE_NAMES, session, type Role } from '../session';
import { api, unwrap } from '../api/client';
import { ApiError, isProblem, problemOf, type Problem } from '../api/problem';
import { ProblemAlert } from '../components/ProblemAlert';
import { Field } from '../components/Field';

const ROLE_HELP: Record<Role, string> = {
  portfolio_manager: 'portfolios, projects and demands',
  finance: 'budgets, the ledger and assets',
  viewer: 'reads everything, changes nothing',
  admin: 'everything',
};

/**
 * Sign-in: paste a token (from `itbm token` or an identity provider). A server
 * started with `--demo` also offers its demo users, one per role
 * (`/api/v1/demo/tokens`, which exists only then).
 */
export function SignIn() {
  const { query } = useLocation();
  const next = query.get('next') || '/';
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [demoRoles, setDemoRoles] = useState<Role[] | null>(null);
  const expired = session.wasExpired();

  useEffect(() => {
    let live = true;
    fetch('/api/v1/demo/tokens')
      .then((r) => (r.ok ? r.json() : null))
      .then((body) => live && setDemoRoles(body?.roles ?? null))
      .catch(() => live && setDemoRoles(null));
    return () => {
      live = false;
    };
  }, []);

  async function enter(candidate: string) {
    session.signIn(candidate);
    try {
      // Any read proves the server accepts the token.
      await unwrap(api.GET('/api/v1/settings'));
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (e) {
      session.signOut();
      setProblem(problemOf(e));
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const value = token.trim().replace(/^Bearer\s+/i, '');
    if (!decodeToken(value)) {
      setProblem({ type: 'about:blank', title: 'Invalid token', status: 0, detail: 'this is not a JSON Web Token (three parts separated by dots)' });
      return;
    }
    setBusy('token');
    await enter(value);
    setBusy(null);
  }

  async function demo(role: Role) {
    setProblem(null);
    setBusy(role);
    try {
      const r = await fetch('/api/v1/demo/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ role }),
      });
      const body = await r.json();
      if (!r.ok) throw new ApiError(isProblem(body) ? body : { type: 'about:blank', title: r.statusText, status: r.status, detail: r.statusText }, r.status);
      await enter(body.token);
    } catch (e) {
      setProblem(problemOf(e));
    }
    setBusy(null);
  }

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to itbm</h1>
      {expired && (
        <p className="alert alert-info" role="status">
          The server no longer accepts your token (it expired or was revoked). Sign in again.
        </p>
      )}
      <ProblemAlert problem={problem} title="Sign-in failed:" />
      {demoRoles && (
        <section aria-labelledby="demo-heading" className="card">
          <h2 id="demo-heading">Demo users</h2>
          <p>This server runs in demo mode (<code>--demo</code>). Sign in as:</p>
          <div className="demo-roles">
            {demoRoles.map((role) => (
              <button key={role} type="button" className="primary" onClick={() => demo(role)} disabled={busy !== null}>
                {busy === role ? 'Signing in…' : ROLE_NAMES[role]}
                <small>{ROLE_HELP[role]}</small>
              </button>
            ))}
          </div>
        </section>
      )}
      <section aria-labelledby="token-heading" className="card">
        <h2 id="token-heading">With a token</h2>
        <form onSubmit={submit}>
          <Field label="Bearer token" hint="From `itbm token --role portfolio_manager --sub you`, or your identity provider. Kept in this tab only.">
            <textarea value={token} onChange={(e) => setToken(e.target.value)} rows={4} spellCheck={false} autoComplete="off" required />
          </Field>
          <button type="submit" className="primary" disabled={busy !== null}>
            {busy === 'token' ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </section>
    </main>
  );
}
