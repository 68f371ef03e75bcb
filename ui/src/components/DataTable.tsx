import type { ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: string;
  /** The API's sort key, when the column can be sorted. */
  sort?: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
}

/** `name`, `-name` → which key, which direction. */
export function parseSort(sort: string | null | undefined): { key: string; descending: boolean } | null {
  if (!sort) return null;
  const first = sort.split(',')[0];
  return first.startsWith('-') ? { key: first.slice(1), descending: true } : { key: first, descending: false };
}

/** A table whose sortable headers are buttons; the sorted one says so to screen readers. */
export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  loading,
  empty,
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: string | null;
  onSort?: (sort: string) => void;
  loading?: boolean;
  empty?: ReactNode;
}) {
  const current = parseSort(sort);
  return (
    <div className="table-wrap">
      <table className="data" aria-busy={loading || undefined}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => {
              const sorted = current && c.sort === current.key ? (current.descending ? 'descending' : 'ascending') : undefined;
              return (
                <th key={c.key} scope="col" aria-sort={sorted} className={c.numeric ? 'num' : undefined}>
                  {c.sort && onSort ? (
                    <button
                      type="button"
                      className="sort"
                      onClick={() => onSort(sorted === 'ascending' ? `-${c.sort}` : c.sort!)}
                    >
                      {c.header}
                      <span aria-hidden="true">{sorted === 'ascending' ? ' ▲' : sorted === 'descending' ? ' ▼' : ' ↕'}</span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? 'num' : undefined}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
          {rows.length === 0 && !loading && (
            <tr>
              <td colSpan={columns.length} className="empty">
                {empty ?? 'Nothing matches.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
