//! Cash floats over HTTP: `POST /api/v1/ledger/floats` (clerk or admin, Idempotency-Key
//! required), cash top-ups drawing a point's float and refused `float_exhausted` when it is
//! short, and the books check naming a cash account that went negative.

use crate::helpers::{Resp, TestApp};
use serde_json::{Value, json};
use sscard_domain::access::Role;
use sscard_domain::ledger::{AccountId, AccountKind};
use sscard_store::onecard::{BalanceChange, TransferRow, Writes};

const FLOATS: &str = "/ledger/floats";

fn transfers(r: &Resp) -> i64 {
    r.json["report"]["transfers"].as_i64().unwrap_or(-1)
}

async fn fund(app: &TestApp, token: &str, key: &str, body: &Value) -> Resp {
    app.post_idem(token, FLOATS, key, Some(body)).await
}

#[tokio::test]
async fn a_service_point_takes_cash_only_against_the_float_it_paid_in() {
    let app = TestApp::spawn().await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let teller = app.tokens.teller_icbc.clone();
    let cash = |fen: i64| json!({ "card_no": holder.card_no, "amount_fen": fen, "source": "cash" });
    let before = app.get(Some(&app.tokens.admin), "/ledger/check").await;

    // No float yet: the desk's cash is refused, saying the float and the amount; nothing moved.
    let r = app.post(Some(&teller), "/ewallet/topups", &cash(600)).await;
    r.problem(422, "float_exhausted");
    let detail = r.str("/detail");
    assert!(detail.contains("cash:CASH-ICBC") && detail.contains("0.00") && detail.contains("6.00"), "{detail}");
    let after = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(transfers(&after), transfers(&before), "a refused top-up moves nothing");

    // Who may record a funding, and what it must say.
    let body = json!({ "owner": "CASH-ICBC", "amount_fen": 1_000 });
    for token in [&teller, &holder.token, &app.tokens.holder1, &app.tokens.terminal] {
        fund(&app, token, "f1", &body).await.problem(403, "forbidden");
    }
    app.post(None, FLOATS, &body).await.problem(401, "unauthorized");
    app.post(Some(&app.tokens.clerk), FLOATS, &body)
        .await
        .problem(400, "idempotency_key_required")
        .field("Idempotency-Key");
    for (bad, field) in [
        (json!({ "owner": "CASH-ICBC", "amount_fen": 0 }), "amount_fen"),
        (json!({ "owner": "CASH-ICBC", "amount_fen": -5 }), "amount_fen"),
        (json!({ "owner": "CASH-ICBC", "amount_fen": 1_000_000_001 }), "amount_fen"),
        (json!({ "owner": "no such point", "amount_fen": 1 }), "owner"),
    ] {
        assert_eq!(fund(&app, &app.tokens.clerk, "bad", &bad).await.expect(400).json["field"], field, "{bad}");
    }
    let extra = json!({ "owner": "CASH-ICBC", "amount_fen": 1, "admin": true });
    fund(&app, &app.tokens.clerk, "bad", &extra).await.expect(400);
    for unknown in ["CASH-NOBANK", "NO-SUCH-OPERATOR"] {
        fund(&app, &app.tokens.clerk, "f0", &json!({ "owner": unknown, "amount_fen": 1 }))
            .await
            .problem(404, "not_found");
    }

    // Recorded once: the replay answers the first funding, another body under the key is a 409.
    let first = fund(&app, &app.tokens.clerk, "f1", &body).await;
    first.expect(201);
    assert_eq!(first.str("/account"), "cash:CASH-ICBC");
    assert_eq!(first.str("/source"), "clearing:FLOAT-CASH-ICBC");
    assert_eq!((first.json["amount_fen"].as_i64(), first.json["float_fen"].as_i64()), (Some(1_000), Some(1_000)));
    let again = fund(&app, &app.tokens.clerk, "f1", &body).await;
    again.expect(200);
    assert_eq!(
        (again.json["transfer_id"].clone(), again.json["replayed"].clone()),
        (first.json["transfer_id"].clone(), json!(true))
    );
    assert_eq!(again.json["float_fen"].as_i64(), Some(1_000), "the replay moved nothing");
    fund(&app, &app.tokens.clerk, "f1", &json!({ "owner": "CASH-ICBC", "amount_fen": 2_000 }))
        .await
        .problem(409, "idempotency_mismatch");

    // Each cash top-up at the bank's desks draws the float; one it cannot cover is refused.
    app.post(Some(&teller), "/ewallet/topups", &cash(600)).await.expect(201);
    let also_icbc = app.post(Some(&app.tokens.teller_icbc2), "/ewallet/topups", &cash(500)).await;
    also_icbc.problem(422, "float_exhausted");
    assert!(also_icbc.str("/detail").contains("4.00") && also_icbc.str("/detail").contains("5.00"));
    app.post(Some(&app.tokens.teller_cmb), "/ewallet/topups", &cash(100)).await.problem(422, "float_exhausted");
    app.post(Some(&teller), "/ewallet/topups", &cash(400)).await.expect(201);
    // The admin funds the card office's own desk.
    fund(&app, &app.tokens.admin, "office-1", &json!({ "owner": "OFFICE", "amount_fen": 300 })).await.expect(201);
    app.post(Some(&app.tokens.admin), "/ewallet/topups", &cash(300)).await.expect(201);
    app.post(Some(&app.tokens.admin), "/ewallet/topups", &cash(1)).await.problem(422, "float_exhausted");

    let books = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(books.expect(200).json["clean"], true, "{}", books.text());
    let balances = app.get(Some(&holder.token), &format!("/persons/{}/balances", holder.person_id)).await;
    let wallet = format!("ewallet:{}", holder.card_no);
    let accounts = balances.expect(200).json["accounts"].as_array().cloned().unwrap_or_default();
    let held = accounts.iter().find(|a| a["id"] == wallet.as_str()).and_then(|a| a["balance_fen"].as_i64());
    assert_eq!(held, Some(1_300));
}

#[tokio::test]
async fn a_terminal_with_its_secret_may_not_fund_a_float() {
    let app = TestApp::spawn().await;
    let ctx = crate::helpers::ctx(app.now_ms());
    let op = sscard_domain::terminal::Operator {
        code: "XM-BUS".into(),
        name: "Xiamen bus".into(),
        kind: sscard_domain::terminal::OperatorKind::Transit,
        region: crate::helpers::rc(crate::helpers::CITY),
    };
    sscard_app::onecard::terminals::add_operator(app.store.as_ref(), &ctx, op).await.expect("operator");
    let made = app
        .post(
            Some(&app.tokens.admin),
            "/terminals",
            &json!({ "operator": "XM-BUS", "scenario": "transit", "region": crate::helpers::CITY }),
        )
        .await;
    let secret = made.expect(201).str("/secret");
    let holder = app.person_with_card(Role::Holder, true).await;
    let cash = json!({ "card_no": holder.card_no, "amount_fen": 200, "source": "cash" });
    app.post(Some(&secret), "/ewallet/topups", &cash).await.problem(422, "float_exhausted");
    let body = json!({ "owner": "XM-BUS", "amount_fen": 1_000 });
    fund(&app, &secret, "t1", &body).await.problem(403, "forbidden");
    fund(&app, &app.tokens.clerk, "bus-1", &body).await.expect(201);
    let r = app.post(Some(&secret), "/ewallet/topups", &cash).await;
    assert_eq!(r.expect(201).json["balance_fen"].as_i64(), Some(200));
}

#[tokio::test]
async fn the_books_check_names_a_cash_account_below_zero() {
    let app = TestApp::spawn().await;
    let clean = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(clean.expect(200).json["clean"], true, "{}", clean.text());
    // Books from before the rule: 7 yuan of cash nobody paid in, written past the use cases.
    let (cash, clearing) =
        (AccountId::new(AccountKind::Cash, "ROGUE").unwrap(), AccountId::new(AccountKind::Clearing, "ROGUE").unwrap());
    let now = app.now_ms();
    let writes = Writes {
        balances: vec![BalanceChange::new(&cash, None, -700), BalanceChange::new(&clearing, None, 700)],
        transfers: vec![TransferRow {
            id: sscard_app::new_id(),
            idem_key: "rogue-1".into(),
            from_account: cash.to_string(),
            to_account: clearing.to_string(),
            amount_fen: 700,
            kind: "topup".into(),
            ref_id: None,
            at_ms: now,
        }],
        now_ms: now,
        ..Writes::default()
    };
    let mut tx = app.store.write().await.expect("tx");
    tx.write_all(&writes).await.expect("raw write");
    tx.commit().await.expect("commit");

    let r = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    r.expect(200);
    assert_eq!(r.json["clean"], false, "{}", r.text());
    let findings = r.json["report"]["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(findings, vec![json!({ "Negative": { "account": "cash:ROGUE", "balance": -700 } })], "{}", r.text());
}
