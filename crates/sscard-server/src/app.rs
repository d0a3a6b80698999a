//! Building the router, opening the store from a URL, and serving.

use crate::clock::SystemClock;
use crate::routes::{
    admin, applications, auth, bank_files, benefits, cards, ecard, hub, nation_medical, national, onecard, persons,
};
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Json, Router};
use sscard_domain::clock::Clock;
use sscard_domain::policy::Policy;
use sscard_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::OpenApi;

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/api/v1/health", tag = "ops", security(), responses((status = 200, body = Object)))]
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("no such route; the API is described at /api/v1/openapi.json")
}

/// The "one card for everything" routes: operators and terminals, the scenarios, the holder's
/// uses and balances, and the ledger.
fn onecard_routes(api: Router<AppState>) -> Router<AppState> {
    api.route("/operators", post(onecard::add_operator))
        .route("/terminals", post(onecard::add_terminal).get(onecard::list_terminals))
        .route("/terminals/{id}/disable", post(onecard::disable_terminal))
        .route("/terminals/{id}/enable", post(onecard::enable_terminal))
        .route("/terminals/{id}/rotate-secret", post(onecard::rotate_terminal_secret))
        .route("/medical/policies", post(onecard::set_policy))
        .route("/medical/deposits", post(onecard::deposit))
        .route("/medical/settlements", post(onecard::settle))
        .route("/medical/settlements/{id}/refund", post(onecard::refund))
        .route("/ewallet/topups", post(onecard::topup))
        .route("/transit/taps", post(onecard::tap))
        .route("/transit/batches", post(onecard::batch).layer(DefaultBodyLimit::max(onecard::BATCH_BODY_BYTES)))
        .route("/library/patrons", post(onecard::register_patron))
        .route("/library/policies", post(onecard::set_library_policy))
        .route("/library/loans", post(onecard::borrow))
        .route("/library/returns", post(onecard::give_back))
        .route("/library/overdue", get(onecard::overdue))
        .route("/parks", post(onecard::put_park))
        .route("/parks/entries", post(onecard::park_entry))
        .route("/parks/passes", post(onecard::buy_pass))
        .route("/identity/verify", post(onecard::identify))
        .route("/persons/{id}/uses", get(onecard::uses))
        .route("/persons/{id}/balances", get(onecard::balances))
        .route("/stats/usage", get(onecard::usage))
        .route("/ledger/check", get(onecard::ledger_check))
        .route("/ledger/floats", post(onecard::fund_float))
}

/// The national hub's routes (`serve --hub`, docs/NATION.md).
fn hub_routes(api: Router<AppState>) -> Router<AppState> {
    api.route("/deployments", get(hub::deployments))
        .route("/hub/index-key", get(hub::index_key))
        .route("/hub/key-ids", get(hub::key_ids))
        .route("/hub/claims", post(hub::claim))
        .route("/hub/keys", post(hub::publish_keys))
        .route("/hub/clearing", get(nation_medical::clearing))
        .route("/ecard/keys", get(hub::national_keys))
        .route("/revocations", get(hub::national_revocations))
}

/// All routes with their limits.
pub fn build_router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi_json))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/qr-login", post(ecard::qr_login))
        .route("/ecard", get(ecard::get))
        .route("/ecard/qr", post(ecard::qr))
        .route("/ecard/qr.png", get(ecard::qr_png))
        .route("/ecard/verify", post(ecard::verify))
        .route("/ecard/authorizations", get(ecard::authorizations).post(ecard::grant))
        .route("/ecard/authorizations/{id}/revoke", post(ecard::revoke))
        .route("/me", get(auth::me))
        .route("/persons", post(persons::register).get(persons::find))
        .route("/persons/newborn", post(persons::register_newborn))
        .route("/persons/{id}", get(persons::get))
        .route("/persons/{id}/cards", get(persons::cards))
        .route("/persons/{id}/reads", get(persons::reads))
        .route("/applications", post(applications::create).get(applications::list))
        .route("/applications/{id}", get(applications::get))
        .route("/applications/{id}/fee-waiver", post(applications::waive_fee))
        .route("/applications/{id}/{step}", post(applications::step))
        .route("/cards/{card_no}", get(cards::get))
        .route("/cards/{card_no}/{action}", post(cards::act))
        .route("/banks", get(admin::banks).post(admin::add_bank))
        .route("/banks/{code}/branches", post(admin::add_branch))
        .route("/users", post(admin::add_user))
        .route("/jobs/{name}/run", post(admin::run_job))
        .route("/audit/verify", get(admin::verify_audit))
        .route("/stats/overview", get(admin::overview));
    // The hub answers the nation's merged trust list where a deployment answers its own.
    let api = if state.hub.is_some() {
        hub_routes(api)
    } else {
        api.route("/ecard/keys", get(ecard::keys)).route("/revocations", get(ecard::revocations))
    };
    let api = onecard_routes(api)
        .route("/payers", post(benefits::add_payer))
        .route("/benefits/programs", post(benefits::add_program))
        .route("/benefits/batches", post(benefits::submit).layer(DefaultBodyLimit::disable()))
        .route("/benefits/batches/{id}", get(benefits::get_batch))
        .route("/benefits/batches/{id}/lines", get(benefits::lines))
        .route("/benefits/batches/{id}/lines.csv", get(benefits::lines_csv_page))
        .route("/benefits/batches/{id}/banks/{bank_code}/pain.001", get(bank_files::pain001))
        .route("/benefits/batches/{id}/banks/{bank_code}/credits.csv", get(bank_files::credits_csv))
        .route("/benefits/batches/{id}/reconciliation", get(bank_files::reconciliation))
        .route("/benefits/bank-reports", post(bank_files::bank_report).layer(DefaultBodyLimit::disable()))
        .route("/benefits/certifications", post(benefits::certify))
        .route("/benefits/certifications/terminal", post(onecard::certify_at_terminal))
        .route("/persons/{id}/benefits", get(benefits::person_benefits))
        .route("/me/export", get(persons::export_me))
        .route("/hub/forward", post(national::hub_forward))
        .route("/hub-inbound", post(national::hub_inbound))
        .route("/national/persons/{ssn}", get(national::person))
        .route("/national/persons/{ssn}/cards/{action}", post(national::card_action))
        .route("/national/applications", post(national::apply))
        .route("/national/applications/{deployment}/{id}", get(national::progress))
        .fallback(not_found)
        .layer(axum::middleware::map_response(crate::error::problem_for_rejections));
    let router = Router::new()
        .merge(crate::metrics::router())
        .nest("/api/v1", api)
        .merge(crate::web::router())
        .fallback(crate::web::errors::fallback)
        .layer(DefaultBodyLimit::max(crate::extract::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crate::limits::request_limits))
        .layer(axum::middleware::map_response(crate::security::security_headers));
    crate::metrics::instrument(router, state)
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub database_url: String,
    pub policy: Policy,
    /// Seconds between runs of the scheduled jobs.
    pub jobs_every_s: u64,
    /// The header a trusted reverse proxy sets to the client's address (e.g. X-Forwarded-For);
    /// `None` when clients connect directly.
    pub client_header: Option<axum::http::HeaderName>,
    /// The demo logins (username, role) to list on the login page (serving `--demo`).
    pub demo_logins: Vec<(String, sscard_domain::access::Role)>,
    /// Their password (empty without `--demo`).
    pub demo_password: String,
    /// Run as the national hub, with the key of the national blind index (`serve --hub`).
    pub hub: Option<sscard_app::hub::IndexKey>,
    /// Run as a deployment of the nation: approves ask the hub (`serve --deployment`).
    pub nation: Option<Arc<sscard_app::nation::Nation>>,
    /// Its way to the hub for the cross-province services (`serve --deployment`).
    pub national: Option<Arc<crate::routes::national::NationalLink>>,
    /// Read at each scrape of `/metrics` (the nation's lags, `serve --deployment` / `--hub`).
    pub probes: Vec<Arc<dyn crate::metrics::Probe>>,
}

/// Opens the store, starts the scheduler and serves until Ctrl-C. The master key comes from
/// `SSCARD_MASTER_KEY` or the SQLite database's key file (see [`crate::keys`]).
pub async fn serve(
    options: ServeOptions,
    store: Arc<dyn Store>,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let master = crate::keys::MasterKey::load(&options.database_url, None).map_err(std::io::Error::other)?;
    serve_with_keys(options, store, Arc::new(crate::keys::KeyManager::new(&master)), on_ready).await
}

/// Like [`serve`] with the issuer key manager given; makes sure a signing key exists first.
pub async fn serve_with_keys(
    options: ServeOptions,
    store: Arc<dyn Store>,
    keys: Arc<crate::keys::KeyManager>,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    serve_on(listener, options, store, keys, on_ready).await
}

/// Like [`serve_with_keys`] on a listener already bound (`options.listen` is not used), so a
/// caller can take the port before doing anything that must not be lost if it is taken.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    store: Arc<dyn Store>,
    keys: Arc<crate::keys::KeyManager>,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // The hub signs no QR code: it serves the deployments' keys and makes none of its own.
    if options.hub.is_none() {
        let ring = keys.ensure(store.as_ref(), clock.now_ms()).await.map_err(std::io::Error::other)?;
        tracing::info!(keys = ring.published.len(), "QR issuer keys loaded");
    }
    let state = AppState::new(store.clone(), clock, options.policy.clone())
        .with_keys(keys)
        .with_client_header(options.client_header.clone())
        .with_demo_logins(options.demo_logins.clone(), &options.demo_password)
        .with_hub(options.hub.clone())
        .with_nation(options.nation.clone());
    if let Some(link) = options.national.clone() {
        *state.national.write().unwrap_or_else(|p| p.into_inner()) = Some(link);
    }
    for probe in &options.probes {
        state.metrics.add_probe(Arc::clone(probe));
    }
    let addr = listener.local_addr()?;
    let scheduler = crate::scheduler::spawn(state.clone(), options.jobs_every_s);
    resume_benefit_batches(&state);
    on_ready(addr);
    let app = build_router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    scheduler.abort();
    store.close().await;
    Ok(())
}

/// Benefit batches left in payment by a stopped process go on where they stopped (each chunk
/// committed whole, so nothing is paid twice).
fn resume_benefit_batches(state: &AppState) {
    let store = state.store.clone();
    let ctx = state.ctx(sscard_domain::access::Actor::system("benefits"), None);
    tokio::spawn(async move {
        match sscard_app::benefits::pay::resume_all(store.as_ref(), &ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(batches = n, "benefit batches resumed"),
            Err(e) => tracing::error!(error = %e, "resuming benefit batches"),
        }
    });
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
