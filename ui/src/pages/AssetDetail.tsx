import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { useLoad } from '../hooks';
import { date, label, money } from '../format';
import { toNumber } from '../decimal';
import { Link } from '../router';
import { BarChart } from '../components/BarChart';
import { Loading } from '../components/Loading';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';

type Book = 'book' | 'tax';

/** One asset: its facts, total cost of ownership, and depreciation (book or tax) with its value on any date. */
export function AssetDetail({ id }: { id: string }) {
  const asset = useLoad(() => unwrap(api.GET('/api/v1/assets/{id}', { params: { path: { id } } })), [id]);
  if (asset.problem) return <ProblemAlert problem={asset.problem} />;
  if (!asset.data) return <Loading />;
  const a = asset.data;
  return (
    <section>
      <p>
        <Link to="/assets">← Assets</Link>
      </p>
      <div className="page-head">
        <h1>{a.name}</h1>
        <Badge value={a.state} />
      </div>
      <div className="grid-2">
        <div className="card">
          <h2>Facts</h2>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{label(a.kind)}</dd>
            <dt>Asset tag</dt>
            <dd>{a.asset_tag ?? '—'}</dd>
            <dt>Serial number</dt>
            <dd>{a.serial_number ?? '—'}</dd>
            <dt>Purchase cost</dt>
            <dd>{money(a.purchase_cost, a.currency)}</dd>
            <dt>In service</dt>
            <dd>{date(a.in_service_date)}</dd>
            <dt>End of life</dt>
            <dd>{date(a.end_of_life)}</dd>
            {a.disposed_on && (
              <>
                <dt>Disposed of</dt>
                <dd>{date(a.disposed_on)}</dd>
              </>
            )}
            <dt>Depreciation</dt>
            <dd>
              {label(a.depreciation_method)}, {label(a.depreciation_convention)}, {a.useful_life_months ?? '—'} months, residual{' '}
              {money(a.residual_value, a.currency)}
            </dd>
          </dl>
        </div>
        <Tco id={id} />
      </div>
      <Depreciation id={id} currency={a.currency} />
    </section>
  );
}

function Tco({ id }: { id: string }) {
  const tco = useLoad(() => unwrap(api.GET('/api/v1/assets/{id}/tco', { params: { path: { id }, query: {} } })), [id]);
  return (
    <div className="card">
      <h2>Total cost of ownership</h2>
      <ProblemAlert problem={tco.problem} />
      {tco.data && (
        <dl className="facts">
          <dt>Acquisition</dt>
          <dd>{money(tco.data.acquisition, tco.data.currency)}</dd>
          <dt>Running costs</dt>
          <dd>{money(tco.data.running_costs, tco.data.currency)}</dd>
          <dt>ITSM effort</dt>
          <dd>
            {tco.data.itsm_effort == null
              ? `${tco.data.itsm_effort_hours} h (no labour rate set)`
              : `${money(tco.data.itsm_effort, tco.data.currency)} (${tco.data.itsm_effort_hours} h)`}
          </dd>
          <dt>ITOM usage share</dt>
          <dd>{tco.data.itom_usage_share == null ? 'no utilisation-driven allocation' : money(tco.data.itom_usage_share, tco.data.currency)}</dd>
          <dt>Residual value</dt>
          <dd>− {money(tco.data.residual_value, tco.data.currency)}</dd>
          <dt>
            <strong>TCO</strong> as of {date(tco.data.as_of)}
          </dt>
          <dd>
            <strong>{money(tco.data.tco, tco.data.currency)}</strong>
          </dd>
          <dt>Per month in service</dt>
          <dd>
            {money(tco.data.monthly_tco, tco.data.currency)} over {tco.data.months_in_service} months
          </dd>
          {tco.data.rates_used.length > 0 && (
            <>
              <dt>Rates used</dt>
              <dd>{tco.data.rates_used.map((r) => `${r.from_currency}→${r.to_currency} ${r.month}: ${r.rate}`).join('; ')}</dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}

function Depreciation({ id, currency }: { id: string; currency: string }) {
  const [book, setBook] = useState<Book>('book');
  const [on, setOn] = useState(() => new Date().toISOString().slice(0, 10));
  const schedule = useLoad(() => unwrap(api.GET('/api/v1/assets/{id}/depreciation-schedule', { params: { path: { id }, query: { book } } })), [id, book]);
  const value = useLoad(
    () => (on ? unwrap(api.GET('/api/v1/assets/{id}/value', { params: { path: { id }, query: { date: on, book } } })) : Promise.resolve(undefined)),
    [id, on, book],
  );
  return (
    <div className="card">
      <div className="page-head">
        <h2>Depreciation</h2>
        <div className="filters">
          <label>
            Schedule{' '}
            <select value={book} onChange={(e) => setBook(e.target.value as Book)}>
              <option value="book">Book</option>
              <option value="tax">Tax</option>
            </select>
          </label>
          <label>
            Value on <input type="date" value={on} onChange={(e) => setOn(e.target.value)} />
          </label>
        </div>
      </div>
      {/* An asset not in service yet has no schedule: that is a fact about it, not an error. */}
      {schedule.problem?.status === 422 ? (
        <p className="alert alert-info" role="status">
          No depreciation schedule yet: {schedule.problem.errors?.[0]?.detail ?? schedule.problem.detail}
        </p>
      ) : (
        <ProblemAlert problem={schedule.problem ?? value.problem} />
      )}
      {value.data && (
        <p role="status">
          On {date(value.data.date)}: accumulated depreciation {money(value.data.accumulated_depreciation, value.data.currency)}, book value{' '}
          <strong>{money(value.data.book_value, value.data.currency)}</strong>
          {toNumber(value.data.written_off) !== 0 && <> (written off at disposal: {money(value.data.written_off, value.data.currency)})</>}.
        </p>
      )}
      {schedule.data && (
        <>
          <BarChart
            title={`Depreciation per fiscal year and book value at its end (${currency})`}
            series={[
              { name: 'Depreciation', color: '#f59e0b' },
              { name: 'Book value', color: '#1d4ed8' },
            ]}
            groups={schedule.data.years.map((y) => ({ label: `FY${y.fiscal_year}`, values: [toNumber(y.amount), toNumber(y.book_value)] }))}
          />
          <details>
            <summary>
              {schedule.data.periods.length} periods, {money(schedule.data.depreciable_amount, currency)} in all
              {schedule.data.disposed_on && <>; disposed of on {date(schedule.data.disposed_on)}, {money(schedule.data.not_depreciated, currency)} not depreciated</>}
            </summary>
            <table className="data">
              <caption className="visually-hidden">Depreciation per fiscal period</caption>
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col" className="num">
                    Depreciation
                  </th>
                  <th scope="col" className="num">
                    Accumulated
                  </th>
                  <th scope="col" className="num">
                    Book value
                  </th>
                </tr>
              </thead>
              <tbody>
                {schedule.data.periods.map((p) => (
                  <tr key={p.fiscal_period}>
                    <th scope="row">{p.fiscal_period}</th>
                    <td className="num">{money(p.amount, currency)}</td>
                    <td className="num">{money(p.accumulated, currency)}</td>
                    <td className="num">{money(p.book_value, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </div>
  );
}
