import { describe, expect, it } from 'vitest';
import { placeProblem, pointer, type Problem } from './problem';

const problem = (errors: Problem['errors']): Problem => ({
  type: 'urn:itbm:problem:validation',
  title: 'Unprocessable Entity',
  status: 422,
  detail: `${errors?.length} fields are invalid`,
  errors,
});

describe('placing a problem’s errors on a form', () => {
  it('puts each error at the field its JSON pointer names', () => {
    const placed = placeProblem(
      problem([
        { pointer: '/title', detail: 'must not be empty' },
        { pointer: '/estimates/1/capex', detail: 'must not be negative' },
      ]),
      ['/title', '/estimates/0/capex', '/estimates/1/capex'],
    );
    expect(placed.fields).toEqual({ '/title': ['must not be empty'], '/estimates/1/capex': ['must not be negative'] });
    expect(placed.unplaced).toEqual([]);
  });

  it('places a pointer inside a field at that field, preferring the deepest one shown', () => {
    const placed = placeProblem(problem([{ pointer: '/estimates/1/capex', detail: 'bad' }, { pointer: '/estimates/2', detail: 'row' }]), [
      '/estimates',
      '/estimates/1',
      '/estimates/1/capex',
    ]);
    expect(placed.fields['/estimates/1/capex']).toEqual(['bad']);
    expect(placed.fields['/estimates']).toEqual(['row']);
  });

  it('does not confuse a field with another whose name it begins (/risk is not /risk_note)', () => {
    const placed = placeProblem(problem([{ pointer: '/risk_note', detail: 'too long' }]), ['/risk']);
    expect(placed.fields).toEqual({});
    expect(placed.unplaced).toHaveLength(1);
  });

  it('keeps errors no field shows, and query-parameter errors, for the summary', () => {
    const placed = placeProblem(
      problem([
        { pointer: '/requester', detail: 'must not be empty' },
        { parameter: 'sort', detail: 'unknown key' },
      ]),
      ['/title'],
    );
    expect(placed.unplaced.map((e) => e.detail)).toEqual(['must not be empty', 'unknown key']);
  });

  it('copes with no problem at all and with a problem without errors', () => {
    expect(placeProblem(null, ['/title'])).toEqual({ fields: {}, unplaced: [] });
    expect(placeProblem({ type: 't', title: 'Conflict', status: 409, detail: 'illegal step' }, ['/title'])).toEqual({ fields: {}, unplaced: [] });
  });

  it('escapes member names as RFC 6901 says', () => {
    expect(pointer('estimates', 1, 'capex')).toBe('/estimates/1/capex');
    expect(pointer('a/b', 'c~d')).toBe('/a~1b/c~0d');
  });
});
