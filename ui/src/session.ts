// The signed-in user: a bearer token kept in sessionStorage (it ends with the
// tab), and what its claims say about the user. The token is not verified
// here; the server does that on every request.
export type Role = 'admin' | 'portfolio_manager' | 'finance' | 'viewer';

export interface User {
  sub: string;
  roles: Role[];
  /** Seconds since the epoch. */
  exp?: number;
}

const KEY = 'itbm.token';
type Listener = () => void;
const listeners = new Set<Listener>();
let expired = false;

function notify() {
  listeners.forEach((l) => l());
}

export function decodeToken(token: string): User | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    const raw = claims.role ?? claims.roles ?? [];
    const roles = (Array.isArray(raw) ? raw : String(raw).split(/[ ,]/)).filter(Boolean) as Role[];
    return { sub: String(claims.sub ?? ''), roles, exp: typeof claims.exp === 'number' ? claims.exp : undefined };
  } catch {
    return null;
  }
}

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  user(): User | null {
    const token = session.token();
    return token ? decodeToken(token) : null;
  },
  signIn(token: string) {
    sessionStorage.setItem(KEY, token.trim());
    expired = false;
    notify();
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    expired = false;
    notify();
  },
  /** The server refused the token (401): sign out and say why. */
  expire() {
    if (!session.token()) return;
    expired = true;
    sessionStorage.removeItem(KEY);
    notify();
  },
  /** Whether the last session ended because the server refused its token. */
  wasExpired(): boolean {
    return expired;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** What a role may change, as the server's roles table says. */
export function may(user: User | null, what: 'portfolio' | 'finance'): boolean {
  const roles = user?.roles ?? [];
  if (roles.includes('admin')) return true;
  return what === 'portfolio' ? roles.includes('portfolio_manager') : roles.includes('finance');
}

export const ROLE_NAMES: Record<Role, string> = {
  admin: 'Administrator',
  portfolio_manager: 'Portfolio manager',
  finance: 'Finance',
  viewer: 'Viewer',
};
