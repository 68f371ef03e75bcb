import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api, etag, unwrap, type Schemas } from '../api/client';
import { ApiError, problemOf, type Problem } from '../api/problem';
import { isDecimal, sum } from '../decimal';
import { money } from '../format';

type Line = Schemas['BudgetLine'];
type CostCenter = Schemas['CostCenter'];
type Period = Schemas['PeriodInfo'];

export interface GridProps {
  versionId: string;
  currency: string;
  costTypeId: string;
  periods: Period[];
  costCenters: CostCenter[];
  /** The version's lines of this cost type, when the grid is first shown. */
  lines: Line[];
  editable: boolean;
  /** Called after each saved change, with the lines as they now are. */
  onLinesChange?: (lines: Line[]) => void;
}

type CellKey = string;
const cellKey = (period: string, costCenter: string): CellKey => `${period}|${costCenter}`;

interface Conflict {
  key: CellKey;
  where: string;
  yours: string;
  kind: 'changed' | 'created';
}

/**
 * Periods across, cost centers down, one cost type at a time: each cell is the
 * budget line of that period, cost center and cost type (without a project).
 * A cell is edited in place: Enter or F2 to edit, Enter to save, Escape to
 * cancel, arrow keys to move. Each save sends the line's ETag in If-Match, so
 * a cell someone else changed first is refused with 412 instead of being
 * overwritten; the grid says so and offers to reload the cell.
 */
export function BudgetGrid({ versionId, currency, costTypeId, periods, costCenters, lines: initial, editable, onLinesChange }: GridProps) {
  const [lines, setLines] = useState(initial);
  const [editing, setEditing] = useState<CellKey | null>(null);
  const [draft, setDraft] = useState('');
  const [saving, setSaving] = useState<CellKey | null>(null);
  const [cellErrors, setCellErrors] = useState<Record<CellKey, string>>({});
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState('');
  const table = useRef<HTMLTableElement>(null);
  /** Escape leaves the cell without saving, whatever blur events follow. */
  const cancelled = useRef(false);
  /** The cell a keyboard user left with Enter or Escape gets the focus back once it is a button again. */
  const returnTo = useRef<[number, number] | null>(null);

  useEffect(() => {
    if (editing !== null || saving !== null || !returnTo.current) return;
    const [row, col] = returnTo.current;
    returnTo.current = null;
    focusCell(row, col);
  });

  const byCell = new Map<CellKey, Line[]>();
  for (const l of lines) {
    const k = cellKey(l.fiscal_period, l.cost_center_id);
    byCell.set(k, [...(byCell.get(k) ?? []), l]);
  }
  /** The one line a cell edits: the line without a project. */
  const own = (k: CellKey) => byCell.get(k)?.find((l) => l.project_id == null);
  const amounts = (ls: Line[]) => ls.filter((l) => l.currency === currency).map((l) => l.amount);
  const name = (cc: CostCenter) => `${cc.code} ${cc.name}`;

  function replace(next: Line[]) {
    setLines(next);
    onLinesChange?.(next);
  }

  function focusCell(row: number, col: number) {
    table.current?.querySelector<HTMLElement>(`[data-row="${row}"][data-col="${col}"]`)?.focus();
  }

  function startEdit(k: CellKey) {
    if (!editable) return;
    cancelled.current = false;
    setEditing(k);
    setDraft(own(k)?.amount ?? '');
  }

  async function save(k: CellKey, period: string, cc: CostCenter) {
    const line = own(k);
    const value = draft.trim();
    setEditing(null);
    if (value === (line?.amount ?? '')) return;
    if (value !== '' && !isDecimal(value)) {
      setCellErrors({ ...cellErrors, [k]: 'not an amount: use digits and a decimal point, e.g. 1250.00' });
      return;
    }
    setSaving(k);
    setProblem(null);
    setNotice('');
    const { [k]: _cleared, ...others } = cellErrors;
    setCellErrors(others);
    const where = `${period}, ${name(cc)}`;
    try {
      if (line && value === '') {
        await unwrap(api.DELETE('/api/v1/budget-lines/{id}', { params: { path: { id: line.id }, header: { 'If-Match': etag(line.version) } } }));
        replace(lines.filter((l) => l.id !== line.id));
      } else if (line) {
        const updated = await unwrap(
          api.PATCH('/api/v1/budget-lines/{id}', {
            params: { path: { id: line.id }, header: { 'If-Match': etag(line.version) } },
            body: { amount: value },
          }),
        );
        replace(lines.map((l) => (l.id === updated.id ? updated : l)));
      } else if (value !== '') {
        const created = await unwrap(
          api.POST('/api/v1/budget-versions/{id}/lines', {
            params: { path: { id: versionId } },
            body: { fiscal_period: period, cost_center_id: cc.id, cost_type_id: costTypeId, amount: value },
          }),
        );
        replace([...lines, created]);
      }
      setNotice(`Saved ${where}.`);
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 0;
      if (status === 412 || (status === 409 && !line && problemOf(e).type.endsWith(':duplicate'))) {
        setConflict({ key: k, where, yours: value, kind: status === 412 ? 'changed' : 'created' });
      } else if (status === 422) {
        const p = problemOf(e);
        setCellErrors({ ...others, [k]: p.errors?.map((x) => x.detail).join('; ') || p.detail });
      } else {
        setProblem(problemOf(e));
      }
    } finally {
      setSaving(null);
    }
  }

  /** Reads the cell's line again after a conflict (or all lines of a new cell). */
  async function reload(c: Conflict) {
    const [period, ccId] = c.key.split('|');
    try {
      const line = own(c.key);
      if (line) {
        try {
          const fresh = await unwrap(api.GET('/api/v1/budget-lines/{id}', { params: { path: { id: line.id } } }));
          replace(lines.map((l) => (l.id === fresh.id ? fresh : l)));
          setNotice(`Reloaded ${c.where}: it is now ${money(fresh.amount, fresh.currency)}. Your value was ${c.yours || 'empty'}.`);
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
          replace(lines.filter((l) => l.id !== line.id));
          setNotice(`Reloaded ${c.where}: someone deleted this line. Your value was ${c.yours}.`);
        }
      } else {
        const fresh = await unwrap(
          api.GET('/api/v1/budget-versions/{id}/lines', {
            params: { path: { id: versionId }, query: { fiscal_period: period, cost_center_id: ccId, cost_type_id: costTypeId, per_page: 500 } },
          }),
        );
        replace([...lines.filter((l) => cellKey(l.fiscal_period, l.cost_center_id) !== c.key), ...fresh.items]);
        setNotice(`Reloaded ${c.where}. Your value was ${c.yours}.`);
      }
      setConflict(null);
    } catch (e) {
      setProblem(problemOf(e));
    }
  }

  function onKey(e: KeyboardEvent<HTMLElement>, row: number, col: number, k: CellKey) {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (e.key in moves) {
      e.preventDefault();
      const [dr, dc] = moves[e.key];
      focusCell(Math.min(costCenters.length - 1, Math.max(0, row + dr)), Math.min(periods.length - 1, Math.max(0, col + dc)));
    } else if (e.key === 'F2') {
      e.preventDefault();
      startEdit(k);
    }
  }

  const columnTotal = (p: Period) => sum(costCenters.flatMap((cc) => amounts(byCell.get(cellKey(p.id, cc.id)) ?? [])));
  const rowTotal = (cc: CostCenter) => sum(periods.flatMap((p) => amounts(byCell.get(cellKey(p.id, cc.id)) ?? [])));

  return (
    <div className="budget-grid">
      {conflict && (
        <div className="alert alert-warning" role="alert">
          <p>
            <strong>Someone else changed this cell first.</strong>{' '}
            {conflict.kind === 'changed'
              ? `${conflict.where} was changed after you loaded it, so your value (${conflict.yours || 'empty'}) was not saved.`
              : `Someone created a line for ${conflict.where} after you loaded the grid, so your value (${conflict.yours}) was not saved.`}
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={() => reload(conflict)}>
              Reload the cell
            </button>
            <button type="button" onClick={() => setConflict(null)}>
              Dismiss
            </button>
          </div>
        </div>
      )}
      {problem && (
        <div className="alert alert-error" role="alert">
          <strong>Not saved:</strong> {problem.detail}
        </div>
      )}
      <p className="notice" role="status">
        {notice}
      </p>
      <div className="table-wrap">
        <table ref={table} className="data grid">
          <caption className="visually-hidden">Budget per cost center and fiscal period, in {currency}</caption>
          <thead>
            <tr>
              <th scope="col">Cost center</th>
              {periods.map((p) => (
                <th key={p.id} scope="col" className="num" title={`${p.start_date} to ${p.end_date}`}>
                  P{String(p.number).padStart(2, '0')}
                </th>
              ))}
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {costCenters.map((cc, row) => (
              <tr key={cc.id}>
                <th scope="row">{name(cc)}</th>
                {periods.map((p, col) => {
                  const k = cellKey(p.id, cc.id);
                  const cellLines = byCell.get(k) ?? [];
                  const line = own(k);
                  const shared = cellLines.length > (line ? 1 : 0);
                  const label = `${name(cc)}, ${p.id}`;
                  const error = cellErrors[k];
                  const cls = ['cell', conflict?.key === k ? 'conflict' : '', error ? 'invalid' : '', saving === k ? 'saving' : ''].join(' ');
                  return (
                    <td key={p.id} className={`num ${cls}`}>
                      {editing === k ? (
                        <input
                          autoFocus
                          aria-label={`Amount for ${label}`}
                          inputMode="decimal"
                          value={draft}
                          onChange={(e) => setDraft(e.target.value)}
                          onBlur={() => (cancelled.current ? setEditing(null) : save(k, p.id, cc))}
                          onKeyDown={(e) => {
                            if (e.key === 'Enter') {
                              e.preventDefault();
                              returnTo.current = [row, col];
                              e.currentTarget.blur();
                            } else if (e.key === 'Escape') {
                              e.preventDefault();
                              cancelled.current = true;
                              returnTo.current = [row, col];
                              setEditing(null);
                            }
                          }}
                        />
                      ) : (
                        <button
                          type="button"
                          className="cell-button"
                          data-row={row}
                          data-col={col}
                          aria-label={`${label}: ${line ? money(line.amount, line.currency) : 'empty'}${shared ? ' and project lines' : ''}${editable ? ', press Enter to edit' : ''}`}
                          aria-invalid={error ? true : undefined}
                          aria-busy={saving === k || undefined}
                          title={error ?? (shared ? 'Includes lines of projects; edit them through the API' : undefined)}
                          onClick={() => startEdit(k)}
                          onKeyDown={(e) => onKey(e, row, col, k)}
                          disabled={saving === k}
                        >
                          {saving === k ? 'Saving…' : cellLines.length ? money(sum(cellLines.map((l) => l.amount))) : ''}
                          {cellLines.some((l) => l.currency !== currency) ? ` ${cellLines[0].currency}` : ''}
                          {shared ? <sup aria-hidden="true">+</sup> : null}
                        </button>
                      )}
                      {error && <span className="cell-error">{error}</span>}
                    </td>
                  );
                })}
                <td className="num total">{money(rowTotal(cc))}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              {periods.map((p) => (
                <td key={p.id} className="num total">
                  {money(columnTotal(p))}
                </td>
              ))}
              <td className="num total">{money(sum(amounts(lines)), currency)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </div>
  );
}
