//! Routes for finance settings, the fiscal calendar and finance master data;
//! budget routes live in [`super::budgets::http`]. Handlers only authorise,
//! extract and delegate to the domain functions beside this file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::calendar::{self, PeriodInfo};
use super::cost_centers::{self, CostCenter, CostCenterFilter, CostCenterPatch, NewCostCenter};
use super::cost_types::{self, CostType, CostTypeFilter, CostTypePatch, NewCostType};
use super::currencies::{self, Currency, CurrencyFilter};
use super::rates::{self, ExchangeRate, ExchangeRateFilter, ExchangeRatePatch, NewExchangeRate};
use super::services::{self, NewService, Service, ServiceFilter, ServicePatch};
use super::settings::{self, Settings, SettingsPatch};
use super::taxonomy::{self, CostPool, TaxonomyFilter, Tower};
use super::vendors::{self, NewVendor, Vendor, VendorFilter, VendorPatch};
use crate::auth::Permission;
use crate::error::{Error, FieldError, Result};
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, update_settings))
        .routes(routes!(fiscal_year_periods))
        .routes(routes!(current_fiscal_period))
        .routes(routes!(list_currencies))
        .routes(routes!(get_currency))
        .routes(routes!(list_exchange_rates, create_exchange_rate))
        .routes(routes!(get_exchange_rate, update_exchange_rate, delete_exchange_rate))
        .routes(routes!(list_cost_centers, create_cost_center))
        .routes(routes!(get_cost_center, update_cost_center, delete_cost_center))
        .routes(routes!(list_cost_types, create_cost_type))
        .routes(routes!(get_cost_type, update_cost_type, delete_cost_type))
        .routes(routes!(list_cost_pools))
        .routes(routes!(list_towers))
        .routes(routes!(list_vendors, create_vendor))
        .routes(routes!(get_vendor, update_vendor, delete_vendor))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service, delete_service))
        .merge(super::budgets::http::routes())
        .merge(super::evaluate::routes())
        .merge(super::analytics::http::routes())
}

// ---- settings and the fiscal calendar ----

#[utoipa::path(get, path = "/settings", tag = "finance", responses((status = 200, body = Settings)))]
async fn get_settings(State(s): State<AppState>, Caller(_who): Caller) -> Result<Tagged<Settings>> {
    let settings = settings::get(&mut s.db.clone()).await?;
    Ok(Tagged(settings.version, settings))
}

/// Changes the reporting currency or the fiscal year's start month. The start
/// month is fixed (409) once budget lines or ledger lines exist.
#[utoipa::path(patch, path = "/settings", tag = "finance", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_settings(State(s): State<AppState>, Caller(c): Caller, if_match: IfMatch, Json(input): Json<SettingsPatch>) -> Result<Tagged<Settings>> {
    c.require(Permission::WriteFinance)?;
    let settings = settings::update(&s.db, &c, if_match, input).await?;
    Ok(Tagged(settings.version, settings))
}

/// The twelve periods of a fiscal year with their dates, under the current
/// fiscal calendar.
#[utoipa::path(get, path = "/fiscal-years/{year}/periods", tag = "finance",
    params(("year" = i32, Path, description = "Fiscal year, named after the calendar year it ends in", example = 2027)),
    responses((status = 200, body = Vec<PeriodInfo>), (status = 422, body = Problem)))]
async fn fiscal_year_periods(State(s): State<AppState>, Caller(_who): Caller, Path(year): Path<String>) -> Result<axum::Json<Vec<PeriodInfo>>> {
    let year = year
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| Error::Validation(vec![FieldError::param("year", "must be a year between 2000 and 2100")]))?;
    let calendar = calendar::load(&mut s.db.clone()).await?;
    Ok(axum::Json(calendar.periods(year)))
}

/// The fiscal period today falls in.
#[utoipa::path(get, path = "/fiscal-periods/current", tag = "finance", responses((status = 200, body = PeriodInfo)))]
async fn current_fiscal_period(State(s): State<AppState>, Caller(_who): Caller) -> Result<axum::Json<PeriodInfo>> {
    let calendar = calendar::load(&mut s.db.clone()).await?;
    let id = calendar.period_of(chrono::Utc::now().date_naive());
    let (start_date, end_date) = calendar.bounds(id);
    Ok(axum::Json(PeriodInfo { id, fiscal_year: id.year, number: id.number, start_date, end_date }))
}

// ---- currencies and exchange rates ----

#[utoipa::path(get, path = "/currencies", tag = "finance", params(CurrencyFilter, PageParams),
    responses((status = 200, body = Page<Currency>)))]
async fn list_currencies(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<CurrencyFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Currency>>> {
    Ok(axum::Json(currencies::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(get, path = "/currencies/{code}", tag = "finance",
    responses((status = 200, body = Currency), (status = 404, body = Problem)))]
async fn get_currency(State(s): State<AppState>, Caller(_who): Caller, Path(code): Path<String>) -> Result<axum::Json<Currency>> {
    Ok(axum::Json(currencies::get(&mut s.db.clone(), &code).await?))
}

#[utoipa::path(get, path = "/exchange-rates", tag = "finance", params(ExchangeRateFilter, PageParams),
    responses((status = 200, body = Page<ExchangeRate>)))]
async fn list_exchange_rates(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<ExchangeRateFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<ExchangeRate>>> {
    Ok(axum::Json(rates::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/exchange-rates", tag = "finance", request_body = NewExchangeRate,
    responses((status = 201, body = ExchangeRate), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_exchange_rate(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewExchangeRate>) -> Result<Created<ExchangeRate>> {
    c.require(Permission::WriteFinance)?;
    let r = rates::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/exchange-rates/{}", r.id), r.version, r))
}

#[utoipa::path(get, path = "/exchange-rates/{id}", tag = "finance",
    responses((status = 200, body = ExchangeRate), (status = 404, body = Problem)))]
async fn get_exchange_rate(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<ExchangeRate>> {
    let r = rates::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(r.version, r))
}

#[utoipa::path(patch, path = "/exchange-rates/{id}", tag = "finance", request_body = ExchangeRatePatch,
    responses((status = 200, body = ExchangeRate), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_exchange_rate(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ExchangeRatePatch>,
) -> Result<Tagged<ExchangeRate>> {
    c.require(Permission::WriteFinance)?;
    let r = rates::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(r.version, r))
}

#[utoipa::path(delete, path = "/exchange-rates/{id}", tag = "finance",
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
async fn delete_exchange_rate(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    rates::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- cost centers ----

#[utoipa::path(get, path = "/cost-centers", tag = "finance", params(CostCenterFilter, PageParams),
    responses((status = 200, body = Page<CostCenter>)))]
async fn list_cost_centers(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<CostCenterFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<CostCenter>>> {
    Ok(axum::Json(cost_centers::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/cost-centers", tag = "finance", request_body = NewCostCenter,
    responses((status = 201, body = CostCenter), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_cost_center(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewCostCenter>) -> Result<Created<CostCenter>> {
    c.require(Permission::WriteFinance)?;
    let cc = cost_centers::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/cost-centers/{}", cc.id), cc.version, cc))
}

#[utoipa::path(get, path = "/cost-centers/{id}", tag = "finance",
    responses((status = 200, body = CostCenter), (status = 404, body = Problem)))]
async fn get_cost_center(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<CostCenter>> {
    let cc = cost_centers::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(cc.version, cc))
}

/// Changes a cost center; a parent that would make it its own ancestor is
/// refused at `/parent_id`.
#[utoipa::path(patch, path = "/cost-centers/{id}", tag = "finance", request_body = CostCenterPatch,
    responses((status = 200, body = CostCenter), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_cost_center(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<CostCenterPatch>,
) -> Result<Tagged<CostCenter>> {
    c.require(Permission::WriteFinance)?;
    let cc = cost_centers::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(cc.version, cc))
}

#[utoipa::path(delete, path = "/cost-centers/{id}", tag = "finance",
    responses((status = 204), (status = 409, description = "Still in use", body = Problem), (status = 412, body = Problem)))]
async fn delete_cost_center(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    cost_centers::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- cost types ----

#[utoipa::path(get, path = "/cost-types", tag = "finance", params(CostTypeFilter, PageParams),
    responses((status = 200, body = Page<CostType>)))]
async fn list_cost_types(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<CostTypeFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<CostType>>> {
    Ok(axum::Json(cost_types::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/cost-types", tag = "finance", request_body = NewCostType,
    responses((status = 201, body = CostType), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_cost_type(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewCostType>) -> Result<Created<CostType>> {
    c.require(Permission::WriteFinance)?;
    let t = cost_types::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/cost-types/{}", t.id), t.version, t))
}

#[utoipa::path(get, path = "/cost-types/{id}", tag = "finance",
    responses((status = 200, body = CostType), (status = 404, body = Problem)))]
async fn get_cost_type(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<CostType>> {
    let t = cost_types::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(t.version, t))
}

#[utoipa::path(patch, path = "/cost-types/{id}", tag = "finance", request_body = CostTypePatch,
    responses((status = 200, body = CostType), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_cost_type(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<CostTypePatch>,
) -> Result<Tagged<CostType>> {
    c.require(Permission::WriteFinance)?;
    let t = cost_types::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(t.version, t))
}

#[utoipa::path(delete, path = "/cost-types/{id}", tag = "finance",
    responses((status = 204), (status = 409, description = "Still in use", body = Problem), (status = 412, body = Problem)))]
async fn delete_cost_type(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    cost_types::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the TBM taxonomy ----

#[utoipa::path(get, path = "/tbm/cost-pools", tag = "finance", params(TaxonomyFilter, PageParams),
    responses((status = 200, body = Page<CostPool>)))]
async fn list_cost_pools(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<TaxonomyFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<CostPool>>> {
    Ok(axum::Json(taxonomy::cost_pools(&s.db, &filter, &page).await?))
}

#[utoipa::path(get, path = "/tbm/towers", tag = "finance", params(TaxonomyFilter, PageParams),
    responses((status = 200, body = Page<Tower>)))]
async fn list_towers(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<TaxonomyFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Tower>>> {
    Ok(axum::Json(taxonomy::towers(&s.db, &filter, &page).await?))
}

// ---- vendors ----

#[utoipa::path(get, path = "/vendors", tag = "finance", params(VendorFilter, PageParams),
    responses((status = 200, body = Page<Vendor>)))]
async fn list_vendors(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<VendorFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Vendor>>> {
    Ok(axum::Json(vendors::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/vendors", tag = "finance", request_body = NewVendor,
    responses((status = 201, body = Vendor), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_vendor(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewVendor>) -> Result<Created<Vendor>> {
    c.require(Permission::WriteFinance)?;
    let v = vendors::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/vendors/{}", v.id), v.version, v))
}

#[utoipa::path(get, path = "/vendors/{id}", tag = "finance",
    responses((status = 200, body = Vendor), (status = 404, body = Problem)))]
async fn get_vendor(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Vendor>> {
    let v = vendors::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(v.version, v))
}

#[utoipa::path(patch, path = "/vendors/{id}", tag = "finance", request_body = VendorPatch,
    responses((status = 200, body = Vendor), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_vendor(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<VendorPatch>,
) -> Result<Tagged<Vendor>> {
    c.require(Permission::WriteFinance)?;
    let v = vendors::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(v.version, v))
}

#[utoipa::path(delete, path = "/vendors/{id}", tag = "finance",
    responses((status = 204), (status = 409, description = "Still in use", body = Problem), (status = 412, body = Problem)))]
async fn delete_vendor(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    vendors::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- services ----

#[utoipa::path(get, path = "/services", tag = "finance", params(ServiceFilter, PageParams),
    responses((status = 200, body = Page<Service>)))]
async fn list_services(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<ServiceFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Service>>> {
    Ok(axum::Json(services::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/services", tag = "finance", request_body = NewService,
    responses((status = 201, body = Service), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_service(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewService>) -> Result<Created<Service>> {
    c.require(Permission::WriteFinance)?;
    let svc = services::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/services/{}", svc.id), svc.version, svc))
}

#[utoipa::path(get, path = "/services/{id}", tag = "finance",
    responses((status = 200, body = Service), (status = 404, body = Problem)))]
async fn get_service(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Service>> {
    let svc = services::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(svc.version, svc))
}

#[utoipa::path(patch, path = "/services/{id}", tag = "finance", request_body = ServicePatch,
    responses((status = 200, body = Service), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_service(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ServicePatch>,
) -> Result<Tagged<Service>> {
    c.require(Permission::WriteFinance)?;
    let svc = services::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(svc.version, svc))
}

#[utoipa::path(delete, path = "/services/{id}", tag = "finance",
    responses((status = 204), (status = 409, description = "Still in use", body = Problem), (status = 412, body = Problem)))]
async fn delete_service(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    services::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}
