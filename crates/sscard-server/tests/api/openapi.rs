//! The OpenAPI document describes every route the router serves, its references resolve,
//! and unknown routes answer 404 problem+json.

use crate::helpers::TestApp;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every route of the API router in app.rs, with its methods (OpenAPI path syntax).
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/health", &["get"]),
    ("/api/v1/auth/login", &["post"]),
    ("/api/v1/auth/logout", &["post"]),
    ("/api/v1/auth/qr-login", &["post"]),
    ("/api/v1/ecard", &["get"]),
    ("/api/v1/ecard/keys", &["get"]),
    ("/api/v1/ecard/qr", &["post"]),
    ("/api/v1/ecard/qr.png", &["get"]),
    ("/api/v1/ecard/verify", &["post"]),
    ("/api/v1/ecard/authorizations", &["get", "post"]),
    ("/api/v1/ecard/authorizations/{id}/revoke", &["post"]),
    ("/api/v1/revocations", &["get"]),
    ("/api/v1/me", &["get"]),
    ("/api/v1/persons", &["get", "post"]),
    ("/api/v1/persons/newborn", &["post"]),
    ("/api/v1/persons/{id}", &["get"]),
    ("/api/v1/persons/{id}/cards", &["get"]),
    ("/api/v1/applications", &["get", "post"]),
    ("/api/v1/applications/{id}", &["get"]),
    ("/api/v1/applications/{id}/{step}", &["post"]),
    ("/api/v1/cards/{card_no}", &["get"]),
    ("/api/v1/cards/{card_no}/{action}", &["post"]),
    ("/api/v1/banks", &["get", "post"]),
    ("/api/v1/banks/{code}/branches", &["post"]),
    ("/api/v1/users", &["post"]),
    ("/api/v1/jobs/{name}/run", &["post"]),
    ("/api/v1/audit/verify", &["get"]),
    ("/api/v1/stats/overview", &["get"]),
];

/// The document does not describe itself.
const UNDOCUMENTED: &[&str] = &["/api/v1/openapi.json"];

async fn document(app: &TestApp) -> Value {
    let r = app.get(None, "/openapi.json").await;
    r.expect(200);
    assert_eq!(r.content_type(), "application/json");
    assert!(r.json.is_object(), "not JSON: {}", r.text());
    r.json.clone()
}

fn methods_of(doc: &Value, path: &str) -> BTreeSet<String> {
    doc["paths"][path]
        .as_object()
        .map(|o| {
            o.keys().filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description")).cloned().collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "openapi version: {}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "sscard API");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object(), "no bearer scheme");
    for (path, methods) in ROUTES {
        let want: BTreeSet<String> = methods.iter().map(|m| m.to_string()).collect();
        let got = methods_of(&doc, path);
        assert!(want.is_subset(&got), "{path}: documented {got:?}, served {want:?}");
        for m in methods.iter() {
            let op = &doc["paths"][path][m];
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{m} {path}: no responses"));
            assert!(responses.keys().any(|s| s.starts_with('2')), "{m} {path}: no success response in {responses:?}");
            // Every path parameter is declared.
            for param in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == param && p["in"] == "path"));
                assert!(declared, "{m} {path}: path parameter {param} not declared");
            }
        }
    }
    // Nothing documented that is not served.
    let served: BTreeSet<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    for path in doc["paths"].as_object().expect("paths").keys() {
        assert!(
            served.contains(path.as_str()) || !path.starts_with("/api/v1/") || extra_route_in_source(path),
            "documented but not served: {path}"
        );
    }
}

/// Routes added to app.rs after this test was written are checked from the source itself.
fn extra_route_in_source(openapi_path: &str) -> bool {
    source_routes().iter().any(|(p, _)| p == openapi_path)
}

/// The `.route("PATH", method(..).method(..))` calls of app.rs, as (/api/v1 + PATH, methods).
fn source_routes() -> Vec<(String, BTreeSet<String>)> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs")).expect("read src/app.rs");
    let mut routes = Vec::new();
    let mut rest = src.as_str();
    while let Some(i) = rest.find(".route(\"") {
        rest = &rest[i + ".route(\"".len()..];
        let end = rest.find('"').expect("closing quote");
        let path = &rest[..end];
        // The call's arguments run to the matching parenthesis.
        let (mut depth, mut close) = (1i32, rest.len());
        for (j, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &rest[end..close];
        let methods = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| {
                args.match_indices(&format!("{m}(")).any(|(k, _)| {
                    k == 0 || !args.as_bytes()[k - 1].is_ascii_alphanumeric() && args.as_bytes()[k - 1] != b'_'
                })
            })
            .map(str::to_string)
            .collect();
        routes.push((format!("/api/v1{path}"), methods));
        rest = &rest[close..];
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_matches_the_router_source_and_the_document() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let routes = source_routes();
    assert!(routes.len() >= ROUTES.len(), "could not read the routes of app.rs: {routes:?}");
    // Every route listed here is in the router...
    for (path, methods) in ROUTES {
        let found = routes.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path} is not in app.rs"));
        let want: BTreeSet<String> = methods.iter().map(|m| m.to_string()).collect();
        assert_eq!(found.1, want, "{path}: methods in app.rs");
    }
    // ...and every route of the router, including ones added later, is documented.
    for (path, methods) in &routes {
        if UNDOCUMENTED.contains(&path.as_str()) {
            continue;
        }
        assert!(!methods.is_empty(), "{path}: no method found in app.rs");
        let got = methods_of(&doc, path);
        assert!(methods.is_subset(&got), "{path}: served {methods:?} but documented {got:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_resolves() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.iter().any(|r| r == "#/components/schemas/Problem"), "errors are not described as Problem");
    for r in &refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolved reference {r}");
    }
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "field", "current_state"] {
        assert!(problem[field].is_object(), "Problem lacks {field}");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_404_problems() {
    let app = TestApp::spawn().await;
    let health = app.get(None, "/health").await;
    health.expect(200);
    assert_eq!(health.json, serde_json::json!({ "status": "ok" }));
    for path in ["/nope", "/persons/x/y/z", "/v2/persons", "/stats"] {
        let r = app.get(Some(&app.tokens.admin), path).await;
        r.problem(404, "not_found");
        let r = app.get(None, path).await;
        r.problem(404, "not_found");
        let r = app.post_empty(Some(&app.tokens.admin), path).await;
        r.problem(404, "not_found");
    }
    for url in ["/api/v2/persons", "/api/nothing", "/api"] {
        let r = app.send(app.client.get(format!("{}{url}", app.address))).await;
        r.problem(404, "not_found");
    }
}
