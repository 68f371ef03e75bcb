// The API client: types generated from openapi/openapi.json (schema.d.ts, by
// openapi-typescript) and requests made by openapi-fetch. Every request carries
// the session's bearer token; a 401 ends the session.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { ApiError, isProblem, type Problem } from './problem';
import { session } from '../session';
import { activity } from '../activity';

export type Schemas = components['schemas'];

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    activity.start();
    return request;
  },
  onResponse({ response }) {
    activity.end();
    if (response.status === 401) session.expire();
    return response;
  },
  onError() {
    activity.end();
  },
};

export const api = createClient<paths>({
  // Same origin: the server that served the UI serves the API.
  baseUrl: globalThis.location?.origin ?? '',
  // Looked up at call time, so that tests can replace fetch.
  fetch: (request) => globalThis.fetch(request),
});
api.use(auth);

/** What openapi-fetch answers: data on success, error (the body) otherwise. */
type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer; throws an {@link ApiError} otherwise. */
export async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await pending;
  } catch (e) {
    throw new ApiError(networkProblem(e), 0);
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  throw new ApiError(toProblem(error, response), response.status);
}

function toProblem(body: unknown, response: Response): Problem {
  if (isProblem(body)) return body;
  return {
    type: 'about:blank',
    title: response.statusText || 'Error',
    status: response.status,
    detail: typeof body === 'string' && body ? body : `the server answered ${response.status}`,
  };
}

function networkProblem(e: unknown): Problem {
  return {
    type: 'urn:itbm:problem:network',
    title: 'Network error',
    status: 0,
    detail: `the server could not be reached (${e instanceof Error ? e.message : String(e)})`,
  };
}

/** The ETag for a resource of `version`, as the server sends it. */
export const etag = (version: number) => `"${version}"`;

/** Every item of a list, page by page (lists cap `per_page` at 500). */
export async function fetchAll<T>(
  load: (page: number) => Promise<{ items: T[]; total: number; per_page: number }>,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const answer = await load(page);
    items.push(...answer.items);
    if (answer.items.length === 0 || items.length >= answer.total) return items;
  }
}
