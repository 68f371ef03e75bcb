import type { FieldError, Problem } from '../api/problem';

/** A refused request, in words: the problem's detail and the errors no field shows. */
export function ProblemAlert({ problem, unplaced, title }: { problem: Problem | null; unplaced?: FieldError[]; title?: string }) {
  if (!problem) return null;
  const others = unplaced ?? problem.errors ?? [];
  return (
    <div className="alert alert-error" role="alert">
      <strong>{title ?? heading(problem)}</strong> {problem.detail}
      {others.length > 0 && (
        <ul>
          {others.map((e, i) => (
            <li key={i}>
              {e.pointer || e.parameter ? <code>{e.pointer ?? e.parameter}</code> : null} {e.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function heading(problem: Problem): string {
  switch (problem.status) {
    case 403:
      return 'Not allowed:';
    case 404:
      return 'Not found:';
    case 409:
      return 'Refused:';
    case 412:
      return 'Changed by someone else:';
    case 422:
      return 'Please check the form:';
    case 0:
      return 'No connection:';
    default:
      return `${problem.title}:`;
  }
}
