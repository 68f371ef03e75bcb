// RFC 9457 problem details, as every error of the API comes, and how a form
// shows them: each error next to the field its JSON pointer names.
import type { components } from './schema';

export type Problem = components['schemas']['Problem'];
export type FieldError = components['schemas']['FieldError'];

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.status === 'number' && typeof v.detail === 'string' && typeof v.title === 'string';
}

/** A refused request: its status and problem. */
export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    readonly status: number,
  ) {
    super(problem.detail);
    this.name = 'ApiError';
  }
}

export function problemOf(e: unknown): Problem {
  if (e instanceof ApiError) return e.problem;
  return { type: 'about:blank', title: 'Error', status: 0, detail: e instanceof Error ? e.message : String(e) };
}

/** Messages by the JSON pointer they name. */
export type FieldMessages = Record<string, string[]>;

export interface PlacedProblem {
  /** Errors whose pointer names a field the form shows. */
  fields: FieldMessages;
  /** Everything else, for a summary at the top of the form. */
  unplaced: FieldError[];
}

/**
 * Splits a problem's errors between the fields of a form. A pointer is placed
 * at the deepest field it lies in: `/estimates/1/capex` at that input, and
 * `/estimates/1` (a whole row) at the row when the form shows one. Pointers
 * escape `/` as `~1` and `~` as `~0` (RFC 6901); the form names its fields the
 * same way, so they compare as written.
 */
export function placeProblem(problem: Problem | null | undefined, known: Iterable<string>): PlacedProblem {
  const fields: FieldMessages = {};
  const unplaced: FieldError[] = [];
  const names = [...known];
  for (const error of problem?.errors ?? []) {
    const at = error.pointer == null ? undefined : deepestField(error.pointer, names);
    if (at === undefined) {
      unplaced.push(error);
    } else {
      (fields[at] ??= []).push(error.detail);
    }
  }
  return { fields, unplaced };
}

function deepestField(pointer: string, names: string[]): string | undefined {
  let best: string | undefined;
  for (const name of names) {
    const inside = pointer === name || pointer.startsWith(name + '/');
    if (inside && (best === undefined || name.length > best.length)) best = name;
  }
  return best;
}

/** The JSON pointer of a member path, e.g. `['estimates', 1, 'capex']`. */
export function pointer(...path: (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
