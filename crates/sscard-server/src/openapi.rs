//! The OpenAPI document served at /api/v1/openapi.json.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{PathItem, RefOr};
use utoipa::{IntoParams, Modify, OpenApi};

/// The `Idempotency-Key` request header of the repeat-safe operations: 1 to
/// [`sscard_app::idem::MAX_KEY_LEN`] visible ASCII characters (a longer or empty one is a 400).
/// A repeat with the same key answers the first answer; the same key with another body is a 409.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKey(
    /// Repeat-safe key: 1-128 visible ASCII characters, kept per caller and route.
    #[param(min_length = 1, max_length = 128)]
    pub Option<String>,
);

/// Every error answer is `application/problem+json` ([`crate::error::ApiError`] and the
/// rejections rewritten by [`crate::error::problem_for_rejections`]): the handlers' error
/// responses, written with `body = Problem`, are declared so here once.
struct ProblemContent;

impl Modify for ProblemContent {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                for (status, response) in &mut op.responses.responses {
                    let RefOr::T(response) = response else { continue };
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let Some(content) = response.content.shift_remove("application/json") {
                        response.content.insert("application/problem+json".to_string(), content);
                    }
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options]
        .into_iter()
        .filter_map(Option::as_mut)
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sscard API", description = "Third-generation social security cards: persons, applications, cards, the e-card and its QR codes. Errors are application/problem+json (RFC 9457)."),
    paths(
        crate::routes::auth::login, crate::routes::auth::logout, crate::routes::auth::me,
        crate::routes::persons::register, crate::routes::persons::register_newborn, crate::routes::persons::get, crate::routes::persons::reads,
        crate::routes::persons::find, crate::routes::persons::cards,
        crate::routes::applications::create, crate::routes::applications::get, crate::routes::applications::list,
        crate::routes::applications::step, crate::routes::applications::waive_fee,
        crate::routes::cards::get, crate::routes::cards::act,
        crate::routes::admin::banks, crate::routes::admin::add_bank, crate::routes::admin::add_branch,
        crate::routes::admin::add_user, crate::routes::admin::run_job, crate::routes::admin::verify_audit,
        crate::routes::admin::overview,
        crate::routes::ecard::keys, crate::routes::ecard::get, crate::routes::ecard::qr, crate::routes::ecard::qr_png,
        crate::routes::ecard::verify, crate::routes::ecard::qr_login, crate::routes::ecard::revocations,
        crate::routes::ecard::authorizations, crate::routes::ecard::grant, crate::routes::ecard::revoke,
        crate::app::health,
        crate::routes::benefits::add_payer, crate::routes::benefits::add_program, crate::routes::benefits::submit,
        crate::routes::benefits::get_batch, crate::routes::benefits::lines, crate::routes::benefits::lines_csv_page,
        crate::routes::benefits::certify, crate::routes::onecard::certify_at_terminal, crate::routes::benefits::person_benefits,
        crate::routes::bank_files::pain001, crate::routes::bank_files::credits_csv,
        crate::routes::bank_files::bank_report, crate::routes::bank_files::reconciliation,
        crate::routes::onecard::add_operator, crate::routes::onecard::add_terminal,
        crate::routes::onecard::list_terminals, crate::routes::onecard::disable_terminal, crate::routes::onecard::rotate_terminal_secret,
        crate::routes::onecard::enable_terminal, crate::routes::onecard::set_policy, crate::routes::onecard::deposit,
        crate::routes::onecard::settle, crate::routes::onecard::refund, crate::routes::onecard::topup,
        crate::routes::onecard::tap, crate::routes::onecard::batch, crate::routes::onecard::register_patron,
        crate::routes::onecard::borrow, crate::routes::onecard::give_back, crate::routes::onecard::overdue,
        crate::routes::onecard::set_library_policy,
        crate::routes::onecard::put_park, crate::routes::onecard::park_entry, crate::routes::onecard::buy_pass,
        crate::routes::onecard::identify, crate::routes::onecard::uses, crate::routes::onecard::balances,
        crate::routes::onecard::usage, crate::routes::onecard::ledger_check, crate::routes::onecard::fund_float, crate::routes::persons::export_me,
        crate::routes::national::person,
        crate::routes::national::card_action, crate::routes::national::apply, crate::routes::national::progress,
        crate::routes::hub::deployments, crate::routes::hub::index_key, crate::routes::hub::key_ids, crate::routes::hub::claim, crate::routes::hub::publish_keys,
        crate::routes::nation_medical::clearing,
    ),
    modifiers(&BearerAuth, &ProblemContent),
    security(("bearer" = []))
)]
pub struct ApiDoc;
