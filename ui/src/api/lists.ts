// Whole lists the pages need for pickers and summaries.
import { api, fetchAll, unwrap, type Schemas } from './client';

const MAX = 500;

export const allPortfolios = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/portfolios', { params: { query: { page, per_page: MAX } } })));

export const allProjects = (portfolio_id?: string) =>
  fetchAll((page) =>
    unwrap(api.GET('/api/v1/projects', { params: { query: { page, per_page: MAX, portfolio_id: portfolio_id || undefined } } })),
  );

export const allCostCenters = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/cost-centers', { params: { query: { page, per_page: MAX } } })));

export const allCostTypes = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/cost-types', { params: { query: { page, per_page: MAX, sort: 'code' } } })));

export const allBudgetLines = (id: string, query: { cost_type_id?: string } = {}) =>
  fetchAll((page) =>
    unwrap(api.GET('/api/v1/budget-versions/{id}/lines', { params: { path: { id }, query: { page, per_page: MAX, ...query } } })),
  );

export const allBudgetVersions = (fiscal_year?: number) =>
  fetchAll((page) =>
    unwrap(api.GET('/api/v1/budget-versions', { params: { query: { page, per_page: MAX, fiscal_year } } })),
  );

/** The version a report should show for a year: the most final plan there is. */
export function preferredVersion(versions: Schemas['BudgetVersion'][]): Schemas['BudgetVersion'] | undefined {
  const rank = { locked: 0, approved: 1, submitted: 2, draft: 3 } as const;
  return [...versions].sort(
    (a, b) =>
      rank[a.state] - rank[b.state] ||
      (a.kind === b.kind ? 0 : a.kind === 'reforecast' ? -1 : 1) ||
      b.updated_at.localeCompare(a.updated_at),
  )[0];
}

export const allServices = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/services', { params: { query: { page, per_page: MAX } } })));

export const allVendors = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/vendors', { params: { query: { page, per_page: MAX } } })));

export const allTowers = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/tbm/towers', { params: { query: { page, per_page: MAX } } })));

export const allCostPools = () =>
  fetchAll((page) => unwrap(api.GET('/api/v1/tbm/cost-pools', { params: { query: { page, per_page: MAX } } })));
