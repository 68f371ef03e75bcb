import { api, unwrap, type Schemas } from '../api/client';
import { allCostCenters } from '../api/lists';
import { useLoad } from '../hooks';
import { date, label, money } from '../format';
import { Link, setQuery, useLocation } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';
import { SearchBox, Select } from '../components/Filters';
import { RefreshForecast } from './RefreshForecast';

type Asset = Schemas['Asset'];
const PER_PAGE = 25;
const KINDS: Asset['kind'][] = ['hardware', 'software', 'licence', 'contract', 'cloud_resource'];
const STATES: Asset['state'][] = ['requested', 'ordered', 'in_stock', 'deployed', 'in_maintenance', 'retired', 'disposed'];

/** Assets: filters, sorting and paging in the URL's query string. */
export function Assets() {
  const { query } = useLocation();
  const sort = query.get('sort') ?? 'name';
  const page = Number(query.get('page') ?? '1') || 1;
  const costCenters = useLoad(allCostCenters, []);
  const centers = new Map(costCenters.data?.map((c) => [c.id, `${c.code} ${c.name}`]));
  const list = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/assets', {
          params: {
            query: {
              page,
              per_page: PER_PAGE,
              sort,
              q: query.get('q') || undefined,
              kind: (query.get('kind') || undefined) as Asset['kind'] | undefined,
              state: (query.get('state') || undefined) as Asset['state'] | undefined,
              cost_center_id: query.get('cost_center_id') || undefined,
              end_of_life_before: query.get('end_of_life_before') || undefined,
            },
          },
        }),
      ),
    [query.toString()],
  );

  const columns: Column<Asset>[] = [
    { key: 'name', header: 'Name', sort: 'name', render: (a) => <Link to={`/assets/${encodeURIComponent(a.id)}`}><strong>{a.name}</strong></Link> },
    { key: 'tag', header: 'Tag', sort: 'asset_tag', render: (a) => (a.asset_tag ? <code>{a.asset_tag}</code> : '—') },
    { key: 'kind', header: 'Kind', render: (a) => label(a.kind) },
    { key: 'state', header: 'State', render: (a) => <Badge value={a.state} /> },
    { key: 'model', header: 'Model', render: (a) => a.model ?? '—' },
    { key: 'cost', header: 'Purchase cost', numeric: true, render: (a) => money(a.purchase_cost, a.currency) },
    { key: 'center', header: 'Cost center', render: (a) => (a.cost_center_id ? (centers.get(a.cost_center_id) ?? '…') : '—') },
    { key: 'in_service', header: 'In service', sort: 'in_service_date', render: (a) => date(a.in_service_date) },
    { key: 'eol', header: 'End of life', sort: 'end_of_life', render: (a) => date(a.end_of_life) },
  ];

  return (
    <section>
      <div className="page-head">
        <h1>Assets</h1>
      </div>
      <form className="filters" role="search" aria-label="Filter assets" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={query.get('q') ?? ''} placeholder="Name, tag or serial" />
        <Select name="kind" label="Kind" value={query.get('kind') ?? ''} options={KINDS.map((k) => [k, label(k)])} />
        <Select name="state" label="State" value={query.get('state') ?? ''} options={STATES.map((s) => [s, label(s)])} />
        <Select
          name="cost_center_id"
          label="Cost center"
          value={query.get('cost_center_id') ?? ''}
          options={(costCenters.data ?? []).map((c) => [c.id, `${c.code} ${c.name}`])}
        />
        <label>
          End of life before{' '}
          <input
            type="date"
            value={query.get('end_of_life_before') ?? ''}
            onChange={(e) => setQuery({ end_of_life_before: e.target.value, page: null })}
          />
        </label>
      </form>
      <ProblemAlert problem={list.problem} />
      <DataTable
        caption="Assets"
        columns={columns}
        rows={list.data?.items ?? []}
        rowKey={(a) => a.id}
        sort={sort}
        onSort={(s) => setQuery({ sort: s, page: null })}
        loading={list.loading}
        empty="No asset matches these filters."
      />
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQuery({ page: p })} />}
      <RefreshForecast />
    </section>
  );
}
