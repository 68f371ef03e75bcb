import { api, unwrap, type Schemas } from '../api/client';
import { allPortfolios } from '../api/lists';
import { useLoad } from '../hooks';
import { date, label } from '../format';
import { Link, setQuery, useLocation } from '../router';
import { DataTable, type Column } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { ProblemAlert } from '../components/ProblemAlert';
import { Badge } from '../components/Badge';
import { SearchBox, Select } from '../components/Filters';

type Project = Schemas['Project'];
const PER_PAGE = 25;
const STATES = ['proposed', 'approved', 'in_progress', 'on_hold', 'completed', 'cancelled'];

/** Projects: filters, sorting and paging live in the URL's query string. */
export function Projects() {
  const { query } = useLocation();
  const filters = {
    q: query.get('q') ?? '',
    portfolio_id: query.get('portfolio_id') ?? '',
    state: query.get('state') ?? '',
    health: query.get('health') ?? '',
    investment_category: query.get('investment_category') ?? '',
    owner: query.get('owner') ?? '',
  };
  const sort = query.get('sort') ?? 'name';
  const page = Number(query.get('page') ?? '1') || 1;
  const portfolios = useLoad(allPortfolios, []);
  const names = new Map(portfolios.data?.map((p) => [p.id, p.name]));

  const list = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/projects', {
          params: {
            query: {
              page,
              per_page: PER_PAGE,
              sort,
              q: filters.q || undefined,
              portfolio_id: filters.portfolio_id || undefined,
              state: (filters.state || undefined) as Project['state'] | undefined,
              health: (filters.health || undefined) as Project['health'] | undefined,
              investment_category: (filters.investment_category || undefined) as Project['investment_category'] | undefined,
              owner: filters.owner || undefined,
            },
          },
        }),
      ),
    [query.toString()],
  );

  const columns: Column<Project>[] = [
    { key: 'code', header: 'Code', sort: 'code', render: (p) => <code>{p.code}</code> },
    { key: 'name', header: 'Name', sort: 'name', render: (p) => <Link to={`/projects/${p.id}`}>{p.name}</Link> },
    { key: 'portfolio', header: 'Portfolio', render: (p) => names.get(p.portfolio_id) ?? '…' },
    { key: 'state', header: 'State', sort: 'state', render: (p) => <Badge value={p.state} /> },
    { key: 'health', header: 'Health', sort: 'health', render: (p) => <Badge value={p.health} kind="health" /> },
    { key: 'category', header: 'Category', render: (p) => label(p.investment_category) },
    { key: 'risk', header: 'Risk', sort: 'risk', numeric: true, render: (p) => p.risk },
    { key: 'owner', header: 'Owner', sort: 'owner', render: (p) => p.owner },
    { key: 'start', header: 'Start', sort: 'start_date', render: (p) => date(p.start_date) },
    { key: 'end', header: 'End', sort: 'end_date', render: (p) => date(p.end_date) },
  ];

  return (
    <section>
      <div className="page-head">
        <h1>Projects</h1>
      </div>
      <form className="filters" role="search" aria-label="Filter projects" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={filters.q} />
        <Select name="portfolio_id" label="Portfolio" value={filters.portfolio_id} options={(portfolios.data ?? []).map((p) => [p.id, p.name])} />
        <Select name="state" label="State" value={filters.state} options={STATES.map((s) => [s, label(s)])} />
        <Select name="health" label="Health" value={filters.health} options={['green', 'amber', 'red'].map((s) => [s, label(s)])} />
        <Select name="investment_category" label="Category" value={filters.investment_category} options={['run', 'grow', 'transform'].map((s) => [s, label(s)])} />
      </form>
      <ProblemAlert problem={list.problem} />
      <DataTable
        caption="Projects"
        columns={columns}
        rows={list.data?.items ?? []}
        rowKey={(p) => p.id}
        sort={sort}
        onSort={(s) => setQuery({ sort: s, page: null })}
        loading={list.loading}
        empty="No project matches these filters."
      />
      {list.data && <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => setQuery({ page: p })} />}
    </section>
  );
}
