//! The console's benefit batch pages: a payer's staff see their own payer's batches and
//! nothing of another payer's (its batch id is the not-found page, even naming that payer);
//! the card office sees every payer's; tellers and holders none. SSNs are shown masked.

use crate::benefits::{batch, payers, who};
use crate::helpers::{Resp, TestApp, send_req};
use sscard_domain::access::Role;

pub async fn page(app: &TestApp, token: &str, path: &str, lang: &str) -> Resp {
    let req = app
        .client
        .get(format!("{}{path}", app.address))
        .header("cookie", format!("sscard_session={token}"))
        .header("accept-language", lang);
    send_req(req).await
}

#[tokio::test]
async fn payers_see_their_own_batches_in_the_console_and_the_card_office_sees_all() {
    let app = TestApp::spawn().await;
    let (pf, tax) = payers(&app).await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let me = who(&app, &holder.person_id).await;
    let ghost =
        crate::benefits::Who { ssn: app.resident_id(time::macros::date!(1950 - 05 - 05)), name: "无名氏".into() };
    let body = batch("PF-B-7", "taxref", "2026-04", &[("1", &me, 10_000), ("2", &ghost, 500)]);
    app.post(Some(&tax), "/benefits/batches", &body).await.expect(200);
    let body = batch("PF-ONLY", "PENSION", "2026-04", &[("1", &ghost, 700)]);
    app.post(Some(&pf), "/benefits/batches", &body).await.expect(200);

    // The tax office's staff: their batch, its progress and outcomes, in both languages.
    for (lang, words) in [
        ("en", ["Benefit batches", "Paid", "Refused: unknown person"]),
        ("zh-CN", ["待遇发放批次", "已发放", "拒付：查无此人"]),
    ] {
        let r = page(&app, &tax, "/console/benefits", lang).await;
        let html = r.expect(200).text();
        assert!(words.iter().all(|w| html.contains(w)), "{lang}: {html}");
        assert!(html.contains(r#"data-batch="PF-B-7""#) && !html.contains("PF-ONLY"), "{html}");
        assert!(html.contains("2 / 2") && html.contains("100.00"), "{html}");
    }
    let r = page(&app, &tax, "/console/benefits/PF-B-7", "en").await;
    let html = r.expect(200).text();
    assert!(html.contains(&sscard_domain::document::mask_id(&me.ssn)) && !html.contains(&me.ssn), "{html}");
    assert!(html.contains(&me.name) && html.contains("Refused: unknown person"), "{html}");
    let r = page(&app, &tax, "/console/benefits/PF-B-7?outcome=paid", "en").await;
    let html = r.expect(200).text();
    assert!(html.contains(&sscard_domain::document::mask_id(&me.ssn)), "{html}");
    assert!(!html.contains(&sscard_domain::document::mask_id(&ghost.ssn)), "{html}");
    page(&app, &tax, "/console/benefits/PF-B-7?outcome=nope", "en").await.expect(400);

    // Another payer's batch is not found, even naming that payer in the address.
    for path in ["/console/benefits/PF-ONLY", "/console/benefits/PF-ONLY?payer=PF-XM"] {
        let r = page(&app, &tax, path, "en").await;
        assert!(!r.expect(404).text().contains("data-outcome"), "{path}");
    }
    // Naming another payer does not widen what payer staff read: still their own batch.
    let r = page(&app, &tax, "/console/benefits/PF-B-7?payer=PF-XM", "en").await;
    assert!(r.expect(200).text().contains("TAX-XM"));
    let r = page(&app, &pf, "/console/benefits/PF-B-7?payer=TAX-XM", "en").await;
    r.expect(404);

    // The card office sees every payer's; tellers and holders see none.
    let r = page(&app, &app.tokens.clerk, "/console/benefits", "en").await;
    let html = r.expect(200).text();
    assert!(html.contains("PF-B-7") && html.contains("PF-ONLY") && html.contains("TAX-XM"), "{html}");
    page(&app, &app.tokens.clerk, "/console/benefits/PF-ONLY?payer=PF-XM", "en").await.expect(200);
    page(&app, &app.tokens.clerk, "/console/benefits/PF-ONLY", "en").await.expect(404);
    for token in [&app.tokens.teller_icbc, &holder.token] {
        page(&app, token, "/console/benefits", "en").await.expect(403);
        page(&app, token, "/console/benefits/PF-B-7?payer=TAX-XM", "en").await.expect(403);
    }
}
