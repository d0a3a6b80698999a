//! Cross-province medical settlement across three real SQLite databases: a hub, deployment BJ
//! (the hospital's, origin) and deployment XM (the card's, decider). The hops between them are
//! direct calls of the use cases each side's server makes (the HTTP between them is not part of
//! this test); a switch takes XM down.

use async_trait::async_trait;
use sscard_app::nation_medical::{self as nm, Decision, MedicalDecider, MedicalHub};
use sscard_app::onecard::{ledger, medical};
use sscard_conformance::fixtures::*;
use sscard_conformance::{books_clean, operators, tctx, terminal};
use sscard_domain::ids::RegionCode;
use sscard_domain::medical::MedicalPolicy;
use sscard_domain::nation::medical::{Presented, RemoteBill};
use sscard_domain::nation::wire::DeploymentCode;
use sscard_store::{Result, Store, StoreError};
use sscard_store_sql::sqlite::TempDatabase;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

async fn open() -> (Arc<dyn Store>, TempDatabase) {
    let db = TempDatabase::new();
    let store = sscard_store_sql::sqlite::open(&db.url(), sscard_store_sql::DataKeys::ephemeral()).await.expect("open");
    (Arc::new(store), db)
}

fn code(s: &str) -> DeploymentCode {
    DeploymentCode::parse(s).expect("code")
}

/// XM as the hub reaches it; `down` stands for a deployment that does not answer.
struct Xm {
    store: Arc<dyn Store>,
    down: AtomicBool,
}

fn unavailable() -> StoreError {
    StoreError::Unavailable { code: "deployment_unavailable", detail: "XM does not answer".into() }
}

#[async_trait]
impl MedicalDecider for Xm {
    async fn settle(&self, to: &DeploymentCode, from: &DeploymentCode, bill: &RemoteBill) -> Result<Decision> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unavailable());
        }
        nm::settle_at_decider(&*self.store, &ctx(admin()), to, from, bill, None).await
    }
    async fn refund(
        &self,
        _to: &DeploymentCode,
        from: &DeploymentCode,
        hospital: &str,
        bill_id: &str,
    ) -> Result<Decision> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unavailable());
        }
        nm::refund_at_decider(&*self.store, &ctx(admin()), from, hospital, bill_id).await
    }
}

/// The hub as BJ reaches it: the card identification code names XM (region 3502).
struct Hub {
    store: Arc<dyn Store>,
    xm: Xm,
}

#[async_trait]
impl MedicalHub for Hub {
    async fn settle(&self, bill: &RemoteBill) -> Result<Decision> {
        nm::settle_at_hub(&*self.store, &ctx(admin()), &code("BJ"), &code("XM"), bill, &self.xm).await
    }
    async fn refund(&self, hospital: &str, bill_id: &str) -> Result<Decision> {
        nm::refund_at_hub(&*self.store, &ctx(admin()), &code("BJ"), hospital, bill_id, &self.xm).await
    }
}

async fn balance_of(store: &dyn Store, id: &str) -> i64 {
    let mut tx = store.read().await.expect("tx");
    let a = tx.get_account(id, false).await.expect("account");
    tx.commit().await.expect("commit");
    a.map_or(0, |a| a.balance_fen)
}

fn xm_policy() -> MedicalPolicy {
    MedicalPolicy {
        region: RegionCode::parse(REGION).expect("region"),
        deductible_fen: 50_000,
        ratio_local_bp: 9_000,
        ratio_in_province_bp: 8_500,
        ratio_cross_province_bp: 8_000,
        annual_cap_fen: 10_000_000,
    }
}

fn by_code(code: &sscard_domain::ids::CardIdCode) -> Presented {
    Presented::CardIdCode { code: code.clone() }
}

/// XM: a person with an active card and 500 yuan in the personal account, under XM's own policy.
async fn xm_with_a_person(xm: &dyn Store) -> (sscard_domain::person::Person, sscard_domain::card::Card) {
    seed(xm).await;
    let person = register(xm, 1).await;
    let card = active_card(xm, &person).await;
    let deposit = ledger::Deposit::parse(&person.id, 50_000, "m1").expect("deposit");
    ledger::deposit_medical(xm, &ctx(admin()), &deposit).await.expect("deposit");
    medical::set_policy(xm, &ctx(admin()), xm_policy()).await.expect("policy");
    (person, card)
}

// One story from the first settlement to the refund, as the conformance cases read.
#[allow(clippy::too_many_lines)]
#[tokio::test]
async fn a_bill_of_another_deployments_person_settles_through_the_hub() {
    let ((hub_store, _h), (bj, _b), (xm, _x)) = (open().await, open().await, open().await);
    let (person, card) = xm_with_a_person(&*xm).await;
    let id_code = card.card_id_code.clone().expect("a made card has an identification code");
    // BJ: the hospital and its terminal; BJ's own policy (the default, 60% cross-province) is not asked.
    operators(&*bj).await;
    let t = terminal(&*bj, "BJ-HOSP", "medical", "110105", &[]).await.terminal;
    let hub = Hub { store: hub_store.clone(), xm: Xm { store: xm.clone(), down: AtomicBool::new(false) } };
    let c = tctx(&t);
    // 2,000 yuan under XM's policy, cross-province: 500 deductible, 80% of 1,500 = 1,200 pool,
    // 500 from the personal account, 300 self-pay.
    let s = nm::settle_at_origin(&*bj, &c, &t, "BJ-INV-1", 200_000, by_code(&id_code), &hub).await.expect("settle");
    let split = s.decision.decided.split;
    assert_eq!(
        (split.pool_fen, split.account_fen, split.self_pay_fen, split.ratio_bp),
        (120_000, 50_000, 30_000, 8_000)
    );
    assert!(!s.replayed);
    assert_eq!(s.decision.decider, code("XM"));
    let (pool, acct) = (format!("pool:{}", person.region), format!("medical:{}", person.id));
    let bank = format!("bank:{}", card.card_no.as_str());
    let xm_books = async || {
        (balance_of(&*xm, &pool).await, balance_of(&*xm, &acct).await, balance_of(&*xm, "clearing:NATION-BJ").await)
    };
    let bj_books = async || {
        (
            balance_of(&*bj, "clearing:NATION-XM").await,
            balance_of(&*bj, &bank).await,
            balance_of(&*bj, "clearing:BJ-HOSP").await,
        )
    };
    assert_eq!(xm_books().await, (-120_000, 0, 170_000));
    assert_eq!(bj_books().await, (-170_000, -30_000, 200_000));
    let day = ctx(admin()).today().to_string();
    let cleared = nm::clearing_day(&*hub_store, &day).await.expect("clearing");
    assert_eq!((cleared.pairs.len(), cleared.entries), (1, 1));
    let pair = &cleared.pairs[0];
    assert_eq!((pair.debtor.as_str(), pair.creditor.as_str(), pair.net_fen), ("XM", "BJ", 170_000));
    assert_eq!(cleared.positions.values().sum::<i64>(), 0);

    // The same bill again answers the first result and moves nothing; another body is a 409
    // (at BJ, and also at the hub and XM, which keep the bill too).
    let again = nm::settle_at_origin(&*bj, &c, &t, "BJ-INV-1", 200_000, by_code(&id_code), &hub).await.expect("replay");
    assert_eq!((again.id.as_str(), again.replayed), (s.id.as_str(), true));
    let other = nm::settle_at_origin(&*bj, &c, &t, "BJ-INV-1", 200_001, by_code(&id_code), &hub).await;
    assert!(matches!(other, Err(StoreError::Domain(ref e)) if e.code == "bill_settled"), "{other:?}");
    let mut body = RemoteBill {
        bill_id: "BJ-INV-1".into(),
        amount_fen: 200_001,
        hospital: "BJ-HOSP".into(),
        institution_region: t.region,
        presented: by_code(&id_code),
    };
    let at_hub = hub.settle(&body).await;
    assert!(matches!(at_hub, Err(StoreError::Domain(ref e)) if e.code == "bill_settled"), "{at_hub:?}");
    let at_xm = nm::settle_at_decider(&*xm, &ctx(admin()), &code("XM"), &code("BJ"), &body, None).await;
    assert!(matches!(at_xm, Err(StoreError::Domain(ref e)) if e.code == "bill_settled"), "{at_xm:?}");
    body.amount_fen = 200_000;
    let replayed_at_xm =
        nm::settle_at_decider(&*xm, &ctx(admin()), &code("XM"), &code("BJ"), &body, None).await.expect("replay");
    assert_eq!(replayed_at_xm.settlement_id, s.decision.settlement_id);
    assert_eq!(xm_books().await, (-120_000, 0, 170_000));
    assert_eq!(bj_books().await, (-170_000, -30_000, 200_000));

    // XM down: 503-class error, nothing moved at BJ, nothing kept anywhere.
    hub.xm.down.store(true, Ordering::SeqCst);
    let down = nm::settle_at_origin(&*bj, &c, &t, "BJ-INV-2", 10_000, by_code(&id_code), &hub).await;
    assert!(matches!(down, Err(StoreError::Unavailable { .. })), "{down:?}");
    assert_eq!(bj_books().await, (-170_000, -30_000, 200_000));
    hub.xm.down.store(false, Ordering::SeqCst);

    // Refund: back the same way, once; the day nets to zero.
    let r = nm::refund_at_origin(&*bj, &c, &t, "BJ-INV-1", &hub).await.expect("refund");
    assert!(r.decision.refunded_at_ms.is_some());
    assert_eq!(xm_books().await, (0, 50_000, 0));
    assert_eq!(bj_books().await, (0, 0, 0));
    let twice = nm::refund_at_origin(&*bj, &c, &t, "BJ-INV-1", &hub).await;
    assert!(matches!(twice, Err(StoreError::Domain(ref e)) if e.code == "already_refunded"), "{twice:?}");
    let cleared = nm::clearing_day(&*hub_store, &day).await.expect("clearing");
    assert_eq!((cleared.pairs[0].net_fen, cleared.pairs[0].gross_fen, cleared.entries), (0, 340_000, 2));
    assert!(cleared.positions.values().all(|v| *v == 0));
    // XM's policy year is restored: the same bill under a new id splits as the first did.
    let s3 = nm::settle_at_origin(&*bj, &c, &t, "BJ-INV-3", 200_000, by_code(&id_code), &hub).await.expect("settle");
    assert_eq!(s3.decision.decided.split, split);
    books_clean(&*bj).await;
    books_clean(&*xm).await;
}

#[tokio::test]
async fn an_unknown_card_id_code_is_refused_and_nothing_moves() {
    let ((hub_store, _h), (bj, _b), (xm, _x)) = (open().await, open().await, open().await);
    xm_with_a_person(&*xm).await;
    operators(&*bj).await;
    let t = terminal(&*bj, "BJ-HOSP", "medical", "110105", &[]).await.terminal;
    let hub = Hub { store: hub_store.clone(), xm: Xm { store: xm.clone(), down: AtomicBool::new(false) } };
    let unknown = sscard_domain::ids::CardIdCode::issue(RegionCode::parse(REGION).expect("region"), 999_999);
    let r = nm::settle_at_origin(&*bj, &tctx(&t), &t, "BJ-X", 10_000, by_code(&unknown), &hub).await;
    assert!(matches!(r, Err(StoreError::Domain(ref e)) if e.code == "unknown_card"), "{r:?}");
    assert_eq!(balance_of(&*bj, "clearing:BJ-HOSP").await, 0);
    let cleared = nm::clearing_day(&*hub_store, &ctx(admin()).today().to_string()).await.expect("clearing");
    assert_eq!(cleared.entries, 0);
    books_clean(&*bj).await;
    books_clean(&*xm).await;
}
