//! The OpenAPI document served at /api/v1/openapi.json.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
        crate::routes::persons::register, crate::routes::persons::register_newborn, crate::routes::persons::get,
        crate::routes::persons::find, crate::routes::persons::cards,
        crate::routes::applications::create, crate::routes::applications::get, crate::routes::applications::list,
        crate::routes::applications::step,
        crate::routes::cards::get, crate::routes::cards::act,
        crate::routes::admin::banks, crate::routes::admin::add_bank, crate::routes::admin::add_branch,
        crate::routes::admin::add_user, crate::routes::admin::run_job, crate::routes::admin::verify_audit,
        crate::routes::admin::overview,
        crate::routes::ecard::keys, crate::routes::ecard::get, crate::routes::ecard::qr, crate::routes::ecard::qr_png,
        crate::routes::ecard::verify, crate::routes::ecard::qr_login, crate::routes::ecard::revocations,
        crate::routes::ecard::authorizations, crate::routes::ecard::grant, crate::routes::ecard::revoke,
        crate::app::health,
        crate::routes::onecard::add_operator, crate::routes::onecard::add_terminal,
        crate::routes::onecard::list_terminals, crate::routes::onecard::disable_terminal, crate::routes::onecard::rotate_terminal_secret,
        crate::routes::onecard::enable_terminal, crate::routes::onecard::set_policy, crate::routes::onecard::deposit,
        crate::routes::onecard::settle, crate::routes::onecard::refund, crate::routes::onecard::topup,
        crate::routes::onecard::tap, crate::routes::onecard::batch, crate::routes::onecard::register_patron,
        crate::routes::onecard::borrow, crate::routes::onecard::give_back, crate::routes::onecard::overdue,
        crate::routes::onecard::set_library_policy,
        crate::routes::onecard::put_park, crate::routes::onecard::park_entry, crate::routes::onecard::buy_pass,
        crate::routes::onecard::identify, crate::routes::onecard::uses, crate::routes::onecard::balances,
        crate::routes::onecard::usage, crate::routes::onecard::ledger_check,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;
