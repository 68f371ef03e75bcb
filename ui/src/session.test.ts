import { describe, expect, it } from 'vitest';
import { decodeToken, may, session } from './session';

const b64url = (o: object) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const token = (claims: object) => `${b64url({ alg: 'HS256' })}.${b64url(claims)}.signature`;

describe('the session', () => {
  it('reads the user and role from a local token', () => {
    expect(decodeToken(token({ sub: 'alice', role: 'finance', exp: 10 }))).toEqual({ sub: 'alice', roles: ['finance'], exp: 10 });
  });

  it('reads roles given as a list or a space-separated string', () => {
    expect(decodeToken(token({ sub: 'b', role: ['viewer', 'admin'] }))?.roles).toEqual(['viewer', 'admin']);
    expect(decodeToken(token({ sub: 'c', roles: 'viewer finance' }))?.roles).toEqual(['viewer', 'finance']);
  });

  it('refuses what is not a JWT', () => {
    expect(decodeToken('not a token')).toBeNull();
    expect(decodeToken('a.%%%.c')).toBeNull();
  });

  it('keeps the token in sessionStorage and forgets it when the server refuses it', () => {
    session.signIn(token({ sub: 'dora', role: 'viewer' }));
    expect(session.user()?.sub).toBe('dora');
    session.expire();
    expect(session.token()).toBeNull();
    expect(session.wasExpired()).toBe(true);
  });

  it('does not call a token refused at sign-in an expired session', () => {
    session.signIn(token({ sub: 'eve', role: 'viewer' }));
    session.expire();
    session.signOut();
    expect(session.wasExpired()).toBe(false);
  });

  it('lets each role change what the server lets it change', () => {
    const user = (role: string) => decodeToken(token({ sub: 'x', role }));
    expect(may(user('portfolio_manager'), 'portfolio')).toBe(true);
    expect(may(user('portfolio_manager'), 'finance')).toBe(false);
    expect(may(user('finance'), 'finance')).toBe(true);
    expect(may(user('viewer'), 'portfolio')).toBe(false);
    expect(may(user('admin'), 'finance')).toBe(true);
  });
});
