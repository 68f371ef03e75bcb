// A fetch double for component tests: answers requests from a list of
// handlers and records every request it saw.
import { vi } from 'vitest';

export interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

type Handler = (req: Seen) => Response | undefined;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, ...headers } });
}

export function mockFetch(...handlers: Handler[]) {
  const seen: Seen[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const request = input instanceof Request ? input : new Request(String(input));
    const text = await request.clone().text();
    const req: Seen = {
      method: request.method,
      path: new URL(request.url, 'http://localhost').pathname,
      headers: request.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    seen.push(req);
    for (const h of handlers) {
      const answer = h(req);
      if (answer) return answer;
    }
    throw new Error(`unexpected request ${req.method} ${req.path}`);
  });
  vi.stubGlobal('fetch', fetch);
  return seen;
}
