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
/// Not in the document: the document itself, and the two server-to-server hops of the
/// cross-province services (a deployment's secret at the hub, the hub's at a deployment),
/// which no client of the API calls.
const UNDOCUMENTED: &[&str] = &["/api/v1/openapi.json", "/api/v1/hub/forward", "/api/v1/hub-inbound"];

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

/// One route of app.rs with its handler: (/api/v1 + path, method, module, function).
struct Handler {
    path: String,
    method: String,
    module: String,
    name: String,
}

/// Every `.route("PATH", get(module::name).post(..))` of app.rs, one entry per method.
fn source_handlers() -> Vec<Handler> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs")).expect("read src/app.rs");
    let mut out = Vec::new();
    for call in src.split(".route(\"").skip(1) {
        let (path, args) = call.split_once('"').expect("closing quote");
        let args = args.split_once(".layer(").map_or(args, |(a, _)| a);
        for method in ["get", "post", "put", "patch", "delete"] {
            for (k, _) in args.match_indices(&format!("{method}(")) {
                let before = args[..k].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let target = &args[k + method.len() + 1..];
                let target = &target[..target.find(')').expect("closing parenthesis")];
                let (module, name) = target.rsplit_once("::").unwrap_or(("", target));
                out.push(Handler {
                    path: format!("/api/v1{path}"),
                    method: method.to_string(),
                    module: module.to_string(),
                    name: name.to_string(),
                });
            }
        }
    }
    out
}

/// The handler's signature as written, from `pub async fn NAME(` to the opening brace.
fn signature(h: &Handler) -> String {
    let file = if h.module.is_empty() { "app".to_string() } else { format!("routes/{}", h.module) };
    let path = format!("{}/src/{file}.rs", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let start =
        src.find(&format!("pub async fn {}(", h.name)).unwrap_or_else(|| panic!("no handler {} in {path}", h.name));
    let sig = &src[start..];
    sig[..sig.find('{').expect("body")].to_string()
}

/// Answers that return a JSON array although the handler's return type does not say so
/// (they render a `Vec` into a `Response`).
const ARRAY_ANSWERS: &[(&str, &str)] = &[
    ("get", "/api/v1/terminals"),
    ("get", "/api/v1/library/overdue"),
    ("get", "/api/v1/persons/{id}/uses"),
    ("get", "/api/v1/stats/usage"),
];

/// Authenticated operations that cannot answer 403: any valid session may call them.
const NEVER_FORBIDDEN: &[(&str, &str)] =
    &[("get", "/api/v1/me"), ("get", "/api/v1/banks"), ("post", "/api/v1/auth/logout")];

/// What one handler's signature says about its operation, checked against the document.
fn check_operation(h: &Handler, op: &Value, out: &mut Vec<String>) {
    let at = format!("{} {}", h.method, h.path);
    let sig = signature(h);
    let params: Vec<&Value> = op["parameters"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let named = |place: &str| -> BTreeSet<String> {
        params.iter().filter(|p| p["in"] == place).filter_map(|p| p["name"].as_str().map(str::to_string)).collect()
    };
    // Path parameters are exactly the template's variables.
    let template: BTreeSet<String> = h
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect();
    if named("path") != template {
        out.push(format!("{at}: path parameters {:?}, template {template:?}", named("path")));
    }
    for p in &params {
        if !matches!(p["in"].as_str(), Some("path" | "query" | "header")) {
            out.push(format!("{at}: parameter {} in {}", p["name"], p["in"]));
        }
    }
    let takes_query = sig.contains("Query<");
    let documents_query = !named("query").is_empty();
    if takes_query != documents_query {
        out.push(format!("{at}: handler reads a query: {takes_query}, documented query {:?}", named("query")));
    }
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    let mut needed: Vec<(&str, &str)> = Vec::new();
    if takes_query {
        needed.push(("400", "a bad query"));
    }
    // The Idempotency-Key header, with its limit.
    if sig.contains("IdemKey") {
        let header = params.iter().find(|p| p["in"] == "header" && p["name"] == "Idempotency-Key");
        match header {
            None => out.push(format!("{at}: Idempotency-Key header not declared")),
            Some(p) if p["schema"]["maxLength"] != sscard_app::idem::MAX_KEY_LEN => {
                out.push(format!("{at}: Idempotency-Key maxLength {}", p["schema"]["maxLength"]));
            }
            Some(_) => {}
        }
        needed.push(("400", "a bad Idempotency-Key"));
        needed.push(("409", "an Idempotency-Key reused with another body"));
    } else if named("header").contains("Idempotency-Key") {
        out.push(format!("{at}: declares an Idempotency-Key the handler ignores"));
    }
    // Request bodies: JSON, a 400 when malformed, 413 when too large, 415 when not JSON.
    let strict_json = sig.contains("JsonBody<");
    let has_body = strict_json || sig.contains(": Bytes");
    let body_types: Vec<String> =
        op["requestBody"]["content"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default();
    if has_body != (body_types == ["application/json"]) {
        out.push(format!("{at}: handler takes a body: {has_body}, documented {body_types:?}"));
    }
    if has_body {
        needed.push(("400", "a malformed body"));
        needed.push(("413", "a body over the limit"));
    }
    if strict_json {
        needed.push(("415", "a body that is not application/json"));
    }
    // Authentication: the operation's security says what the extractors do.
    let public =
        op["security"].as_array().is_some_and(|s| s.is_empty() || s.iter().all(|r| r == &serde_json::json!({})));
    let authenticates = ["Auth(", "TerminalAuth(", "Caller", "bearer("].iter().any(|a| sig.contains(a));
    let authenticates = authenticates || h.name == "logout";
    if public == authenticates {
        out.push(format!("{at}: documented public: {public}, handler authenticates: {authenticates}"));
    }
    if authenticates {
        needed.push(("401", "no or a bad token"));
        if !NEVER_FORBIDDEN.contains(&(h.method.as_str(), h.path.as_str())) {
            needed.push(("403", "the caller may not"));
        }
    }
    // Arrays are declared as arrays.
    let ok = responses.iter().find(|(s, _)| s.starts_with('2')).map(|(_, r)| r.clone()).unwrap_or_default();
    let schema = &ok["content"]["application/json"]["schema"];
    let returns_array = sig.contains("Json<Vec<") || ARRAY_ANSWERS.contains(&(h.method.as_str(), h.path.as_str()));
    if returns_array != (schema["type"] == "array") && !schema.is_null() {
        out.push(format!("{at}: answers an array: {returns_array}, documented {schema}"));
    }
    for (status, why) in needed {
        if !responses.contains_key(status) {
            out.push(format!("{at}: {status} ({why}) not documented"));
        }
    }
    check_error_bodies(&at, &responses, out);
}

/// Every 4xx and 5xx answer is application/problem+json with the Problem schema.
fn check_error_bodies(at: &str, responses: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
    for (status, r) in responses {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        let types: Vec<&String> = r["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
        if types != ["application/problem+json"] {
            out.push(format!("{at}: {status} is {types:?}, not application/problem+json"));
        } else if r["content"]["application/problem+json"]["schema"]["$ref"] != "#/components/schemas/Problem" {
            out.push(format!("{at}: {status} is not a Problem"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_says_what_the_handlers_do() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let handlers = source_handlers();
    assert!(handlers.len() >= 50, "could not read the handlers of app.rs: {}", handlers.len());
    let mut wrong = Vec::new();
    for h in &handlers {
        if UNDOCUMENTED.contains(&h.path.as_str()) {
            continue;
        }
        let op = &doc["paths"][&h.path][&h.method];
        if !op.is_object() {
            wrong.push(format!("{} {}: not documented", h.method, h.path));
            continue;
        }
        check_operation(h, op, &mut wrong);
    }
    // The offline batch limit is the one the code enforces.
    let batch = &doc["paths"]["/api/v1/transit/batches"]["post"];
    let text = format!("{} {}", batch["summary"], batch["description"]);
    let max = sscard_domain::transit::MAX_BATCH;
    if text.contains("1,000") || !text.contains(&format!("{},{:03}", max / 1000, max % 1000)) {
        wrong.push(format!("post /api/v1/transit/batches: the description does not give the limit {max}: {text}"));
    }
    let lines = &doc["components"]["schemas"]["BatchRequest"]["properties"]["transactions"];
    if lines["maxItems"] != max || lines["minItems"] != 1 {
        wrong.push(format!("BatchRequest.transactions: maxItems {} minItems {}", lines["maxItems"], lines["minItems"]));
    }
    assert!(wrong.is_empty(), "{} untrue statements:\n{}", wrong.len(), wrong.join("\n"));
}
