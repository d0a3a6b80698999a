//! The pages of issue 14's last items, over plain HTTP (the browser walks them in
//! web-tests/tests/nation.test.js and handover.test.js): the customer's PIN is typed on a
//! customer screen opened with a one-time code, in no one's session; a deployment on its own
//! says that it has no cross-province services; in a nation the desk finds a walk-in's card at
//! another deployment, masked, with the application in flight.

use crate::helpers::{Resp, TestApp, ctx, send_req};
use sscard_app::nation::NationalIndexKey;
use sscard_domain::application::AppKind;
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::DeploymentCode;
use sscard_server::routes::national::{NationalLink, NationalSlot};
use std::sync::Arc;

/// A browser's CSRF token (43 characters, as the pages make them), also its form field.
const TELLER_BROWSER: &str = "teller-browser-csrf-token-0123456789abcdefg";
const SCREEN_BROWSER: &str = "screen-browser-csrf-token-0123456789abcdefg";

fn cookies(session: Option<&str>, browser: &str) -> String {
    match session {
        Some(s) => format!("sscard_session={s}; sscard_csrf={browser}; sscard_lang=en"),
        None => format!("sscard_csrf={browser}; sscard_lang=en"),
    }
}

async fn get(app: &TestApp, session: Option<&str>, browser: &str, path: &str) -> Resp {
    let req = app.client.get(format!("{}{path}", app.address)).header("cookie", cookies(session, browser));
    send_req(req).await
}

/// A form post; the values are plain letters and digits, sent as they are.
async fn post(app: &TestApp, session: Option<&str>, browser: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
    let body: Vec<String> =
        std::iter::once(("csrf", browser)).chain(fields.iter().copied()).map(|(k, v)| format!("{k}={v}")).collect();
    let req = app
        .client
        .post(format!("{}{path}", app.address))
        .header("cookie", cookies(session, browser))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"));
    send_req(req).await
}

fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default()
}

#[tokio::test]
async fn the_customer_sets_the_pin_on_a_screen_opened_with_a_one_time_code_not_in_the_teller_session() {
    let app = TestApp::spawn().await;
    let card = app.instant_card(&app.holder1_person, AppKind::First).await;
    let teller = Some(app.tokens.teller_icbc.as_str());

    // The teller starts the request; the teller's page shows the code and has no PIN field.
    let started = post(&app, teller, TELLER_BROWSER, &format!("/desk/pin/{card}"), &[("q", "x")]).await;
    assert_eq!((started.status, location(&started)), (303, format!("/desk/pin/{card}?q=x")));
    let desk = get(&app, teller, TELLER_BROWSER, &format!("/desk/pin/{card}")).await.expect(200).text();
    assert!(!desk.contains(r#"name="pin""#), "no PIN field for the teller");
    let code = desk.split(r#"data-testid="pin-code">"#).nth(1).and_then(|s| s.split('<').next()).expect("the code");
    assert_eq!(code.len(), 8, "{code}");
    // A holder cannot start one.
    let holder = post(&app, Some(&app.tokens.holder1), TELLER_BROWSER, &format!("/desk/pin/{card}"), &[]).await;
    assert_eq!(holder.status, 403);

    // The customer screen: no session, its own browser; the card masked, nobody's name.
    let screen = get(&app, None, SCREEN_BROWSER, &format!("/kiosk/pin?code={}", code.to_lowercase())).await;
    let html = screen.expect(200).text();
    assert!(html.contains(&format!("*****{}", &card[5..])) && !html.contains(&card), "{html}");
    assert!(!html.contains("teller.icbc") && !html.contains("林一"), "nobody's login or name");

    // Two different PINs are refused, and the card stays issued; the same one twice activates.
    let pin = |a: &'static str, b: &'static str| [("code", code), ("pin", a), ("pin_confirmation", b)];
    let differ = post(&app, None, SCREEN_BROWSER, "/kiosk/pin", &pin("582937", "582938")).await;
    assert_eq!((differ.status, location(&differ)), (303, format!("/kiosk/pin?code={code}")));
    assert_eq!(app.card_status(&card).await, "issued");
    let done = post(&app, None, SCREEN_BROWSER, "/kiosk/pin", &pin("582937", "582937")).await;
    assert!(done.expect(200).text().contains("Your PIN is set"), "{}", done.text());
    assert_eq!(app.card_status(&card).await, "active");
    assert!(!done.text().contains("582937"), "the PIN is never shown");

    // The code works once; the teller's page now says it is done.
    let again = post(&app, None, SCREEN_BROWSER, "/kiosk/pin", &pin("582937", "582937")).await;
    assert_eq!((again.status, location(&again)), (303, "/kiosk/pin".to_string()));
    assert_eq!(get(&app, None, SCREEN_BROWSER, &format!("/kiosk/pin?code={code}")).await.status, 303);
    let state = get(&app, teller, TELLER_BROWSER, &format!("/desk/pin/{card}/state")).await.expect(200).text();
    assert!(state.contains(r#"data-pin-state="done""#), "{state}");
}

#[tokio::test]
async fn a_deployment_on_its_own_says_it_has_no_cross_province_services() {
    let app = TestApp::spawn().await;
    let words = "not connected to the national platform";
    for (token, path) in [
        (&app.tokens.teller_icbc, "/desk/national"),
        (&app.tokens.holder1, "/portal/national"),
        (&app.tokens.clerk, "/console"),
    ] {
        let html = get(&app, Some(token), TELLER_BROWSER, path).await.expect(200).text();
        assert!(html.contains(words), "{path}: {html}");
        assert!(!html.contains(r#"action="/console/national/stop""#) && !html.contains(r#"action="/desk/national""#));
    }
    // A form sent anyway comes back to the page with the same words, nothing broken.
    let ssn = app.register_adult().await["ssn"].as_str().expect("ssn").to_string();
    let stop = post(
        &app,
        Some(&app.tokens.clerk),
        TELLER_BROWSER,
        "/console/national/stop",
        &[("ssn", &ssn), ("reason", "x")],
    )
    .await;
    assert_eq!((stop.status, location(&stop)), (303, "/console".to_string()));
    let html = get(&app, Some(&app.tokens.clerk), TELLER_BROWSER, "/console").await.expect(200).text();
    assert!(html.contains(r#"class="flash err" role="alert""#) && html.contains(words), "{html}");
}

/// A hub, and deployments A (1101) and B (3502) in it, as the HTTP tests of the API build them.
async fn nation() -> (TestApp, TestApp, TestApp, NationalIndexKey) {
    let hub = TestApp::spawn().await;
    let key = NationalIndexKey::from_hex(&"5a".repeat(16)).expect("key");
    let mut deployments = Vec::new();
    for (code, regions) in [("XA", "1101"), ("XB", "3502")] {
        let slot = NationalSlot::default();
        let app = TestApp::spawn_in_nation(slot.clone()).await;
        let info = parse_deployment(code, code, regions, &app.address).expect("deployment");
        let added = sscard_app::hub::add_deployment(hub.store.as_ref(), &ctx(hub.now_ms()), info).await.expect("add");
        let dc = DeploymentCode::parse(code).expect("code");
        sscard_app::national::remember_secret(hub.store.as_ref(), &dc, &added.secret, hub.now_ms())
            .await
            .expect("seal");
        let link =
            NationalLink { deployment: dc, hub_url: hub.address.clone(), secret: added.secret, index_key: key.clone() };
        *slot.write().expect("slot") = Some(Arc::new(link));
        deployments.push(app);
    }
    let b = deployments.pop().expect("B");
    let a = deployments.pop().expect("A");
    (hub, a, b, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_desk_finds_a_walk_in_held_elsewhere_masked_with_the_application_in_flight() {
    let (hub, a, b, key) = nation().await;
    // B made holder 1 a card (claimed at the hub), which was lost; a replacement is in flight.
    let person = sscard_app::persons::get(b.store.as_ref(), &ctx(b.now_ms()), &b.holder1_person).await.expect("person");
    let ssn = person.person.ssn.as_str().to_string();
    let card = b.instant_card(&b.holder1_person, AppKind::First).await;
    let deployments = sscard_app::hub::deployments(hub.store.as_ref()).await.expect("deployments");
    let xb = deployments.iter().find(|d| d.info.code.as_str() == "XB").expect("XB");
    let claim = sscard_app::hub::ClaimInput {
        person_index: key.person_index(&ssn),
        person_id: b.holder1_person.clone(),
        application_id: "0190a000-0000-7000-8000-000000000001".into(),
    };
    sscard_app::hub::claim(hub.store.as_ref(), xb, &claim, hub.now_ms()).await.expect("claim");
    b.activate(&card).await;
    b.post(Some(&b.tokens.holder1), &format!("/cards/{card}/report-lost"), &serde_json::json!({})).await.expect(200);
    let body = serde_json::json!({ "person_id": b.holder1_person, "kind": "replacement", "reason": "lost", "channel": "branch", "bank_code": "ICBC", "branch_code": "ICBC-HL" });
    let replacement = b.post(Some(&b.tokens.teller_icbc), "/applications", &body).await.expect(201).str("/id");

    // The API lists it in flight (not only the person's oldest application).
    let seen = a.get(Some(&a.tokens.clerk), &format!("/national/persons/{ssn}")).await.expect(200).json.clone();
    let ids: Vec<&str> =
        seen["applications"].as_array().expect("list").iter().filter_map(|x| x["id"].as_str()).collect();
    assert_eq!(ids, [replacement.as_str()], "{seen}");

    // The desk: the SSN typed once, kept for this browser; the page shows it masked only.
    let teller = Some(a.tokens.teller_icbc.as_str());
    let found = post(&a, teller, TELLER_BROWSER, "/desk/national", &[("ssn", &ssn)]).await;
    assert_eq!((found.status, location(&found)), (303, "/desk/national".to_string()));
    let html = get(&a, teller, TELLER_BROWSER, "/desk/national").await.expect(200).text();
    assert!(html.contains(r#"data-testid="deployment">XB<"#), "{html}");
    assert!(
        html.contains(&format!(r#"data-nat-app="{replacement}""#)) && html.contains(r#"data-status="lost""#),
        "{html}"
    );
    assert!(!html.contains(&ssn) && html.contains(&person.person.ssn.masked()), "masked only");
    // Another browser of the same teller serves nobody yet.
    let other = get(&a, teller, SCREEN_BROWSER, "/desk/national").await.expect(200).text();
    assert!(!other.contains("data-serving"), "{other}");
}
