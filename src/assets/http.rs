//! Routes for assets. Handlers only authorise, extract and delegate.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Asset, AssetFilter, AssetPatch, NewAsset, Transition};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(get_asset, update_asset, delete_asset))
        .routes(routes!(transition_asset))
        .merge(super::depreciation::http::routes())
        .merge(super::lifecycle_cost::http::routes())
}

#[utoipa::path(get, path = "/assets", tag = "assets", params(AssetFilter, PageParams),
    responses((status = 200, body = Page<Asset>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_assets(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<AssetFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Asset>>> {
    Ok(axum::Json(super::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/assets", tag = "assets", request_body = NewAsset,
    responses((status = 201, body = Asset), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_asset(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewAsset>) -> Result<Created<Asset>> {
    c.require(Permission::WriteFinance)?;
    let asset = super::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/assets/{}", asset.id), asset.version, asset))
}

#[utoipa::path(get, path = "/assets/{id}", tag = "assets", responses((status = 200, body = Asset), (status = 404, body = Problem)))]
async fn get_asset(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Asset>> {
    let asset = super::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(asset.version, asset))
}

/// Changes an asset. `If-Match` is required (428 without it, 412 when stale).
/// The state changes only through transitions.
#[utoipa::path(patch, path = "/assets/{id}", tag = "assets", request_body = AssetPatch,
    params(("If-Match" = String, Header, description = "The asset's current ETag")),
    responses((status = 200, body = Asset), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem)))]
async fn update_asset(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<AssetPatch>,
) -> Result<Tagged<Asset>> {
    c.require(Permission::WriteFinance)?;
    let asset = super::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(asset.version, asset))
}

#[utoipa::path(delete, path = "/assets/{id}", tag = "assets",
    responses((status = 204), (status = 409, body = Problem), (status = 412, body = Problem)))]
async fn delete_asset(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    super::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves an asset through its lifecycle: requested → ordered → in_stock →
/// deployed ⇄ in_maintenance; deployed and in_maintenance may return to stock;
/// in_stock, deployed and in_maintenance → retired → disposed; a request or
/// order abandoned before delivery → disposed.
#[utoipa::path(post, path = "/assets/{id}/transitions", tag = "assets", request_body = Transition,
    responses((status = 200, body = Asset), (status = 409, description = "Illegal transition; the detail lists the legal ones", body = Problem),
        (status = 422, body = Problem)))]
async fn transition_asset(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(step): Json<Transition>,
) -> Result<Tagged<Asset>> {
    c.require(Permission::WriteFinance)?;
    let asset = super::transition(&s.db, &c, &id, if_match, step).await?;
    Ok(Tagged(asset.version, asset))
}
