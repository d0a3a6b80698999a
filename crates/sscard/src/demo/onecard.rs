//! The demo city's "one card for everything": a hospital, a bus and ferry company, a library
//! network and a park, one terminal each, and a morning of uses through the real use cases:
//! e-wallet top-ups in cash at the bus company's point (against the float it paid in first),
//! bus and ferry taps, medical settlements, loans, park entries, and the refusals a real
//! morning has (a lost card at the gate, a wallet that is too low). The console then has usage
//! to chart and a holder has uses to list; the terminals' secrets are printed so that their
//! routes can be tried with curl.

use sscard_app::Ctx;
use sscard_app::onecard::terminals::{NewTerminal, add_operator, add_terminal};
use sscard_app::onecard::{Presentation, floats, library, medical, parks, terminal_actor, transit};
use sscard_domain::ids::RegionCode;
use sscard_domain::money::Fen;
use sscard_domain::park::ParkRule;
use sscard_domain::terminal::{Operator, OperatorKind, Terminal};
use sscard_domain::transit::{Fare, TopupSource};
use sscard_store::Store;
use sscard_store::onecard::ParkRow;

type Res<T> = Result<T, sscard_store::StoreError>;

/// A demo terminal, with its secret (a demo database only).
#[derive(Debug, Clone)]
pub struct DemoTerminal {
    pub operator: String,
    pub scenario: String,
    pub secret: String,
}

/// Most active cards the morning uses.
const HOLDERS: usize = 60;
const REGION: &str = "350203";

/// Seeds the operators, their terminals and a morning of uses on the first active `cards`;
/// the `stopped` cards (lost, suspended) are presented once each at the gate and refused.
pub async fn seed(store: &dyn Store, ctx: &Ctx, cards: &[String], stopped: &[String]) -> Res<Vec<DemoTerminal>> {
    let region = RegionCode::parse(REGION)?;
    let mut made = Vec::new();
    for (code, name, kind, scenario) in [
        ("XM-HOSP", "厦门市第一医院", OperatorKind::Hospital, "medical"),
        ("XM-BUS", "厦门公交与轮渡", OperatorKind::Transit, "transit"),
        ("XM-LIB", "厦门市图书馆", OperatorKind::Library, "library"),
        ("XM-PARK", "鼓浪屿景区", OperatorKind::Park, "park"),
    ] {
        add_operator(store, ctx, Operator { code: code.into(), name: name.into(), kind, region }).await?;
        let req = NewTerminal::parse(code, scenario, REGION, &[] as &[&str])?;
        let t = add_terminal(store, ctx, req).await?;
        made.push((
            t.terminal.clone(),
            DemoTerminal { operator: code.into(), scenario: scenario.into(), secret: t.secret },
        ));
    }
    let park = ParkRule {
        code: "GLY".into(),
        name: "鼓浪屿".into(),
        price_fen: 3_500,
        free_for_retirees: true,
        accepts_annual_pass: true,
        annual_pass_fen: Some(10_000),
    };
    parks::put_park(store, ctx, ParkRow { operator_code: "XM-PARK".into(), rule: park }).await?;
    // The bus company's top-up point and the hospital's desk take cash against their floats,
    // paid in before the morning, so the books stay clean and no cash comes from nowhere.
    for (owner, fen) in [("XM-BUS", HOLDERS as i64 * 5_000), ("XM-HOSP", 500_000)] {
        let cmd = floats::FundFloat::parse(owner, fen, &format!("demo-float-{owner}"))?;
        floats::fund_float(store, ctx, &cmd).await?;
    }
    let [hospital, gate, library_desk, park_gate] = [0, 1, 2, 3].map(|i| made[i].0.clone());
    morning(store, ctx, cards, &[hospital, gate.clone(), library_desk, park_gate]).await;
    let at_gate = Ctx::new(terminal_actor(&gate), ctx.now_ms, ctx.policy.clone());
    for no in stopped.iter().take(HOLDERS / 10) {
        let p = Presentation::CardNo(no.clone());
        log(
            "tap of a stopped card",
            transit::tap(store, &at_gate, &gate, &p, &Fare::parse(200, None)?).await.map(|_| ()),
        );
    }
    Ok(made.into_iter().map(|(_, d)| d).collect())
}

/// The uses; a refusal is part of the demo (it is recorded as a refused use), and any other
/// failure only shortens the morning.
async fn morning(store: &dyn Store, ctx: &Ctx, cards: &[String], t: &[Terminal; 4]) {
    let [hospital, gate, desk, park_gate] = t;
    let at = |t: &Terminal| Ctx::new(terminal_actor(t), ctx.now_ms, ctx.policy.clone());
    for (i, no) in cards.iter().take(HOLDERS).enumerate() {
        let p = Presentation::CardNo(no.clone());
        // Every fifth holder never topped up: their taps are refused for a low balance.
        if i % 5 != 4 {
            let key = format!("demo-topup-{no}");
            let cmd = transit::Topup { amount: Fen::new(5_000), source: TopupSource::Cash, key: Some(key) };
            let topped = transit::topup(store, &at(gate), Some(gate), &p, &cmd).await;
            log("top-up", topped.map(|_| ()));
        }
        for fare in [200, 100 + (i as i64 % 3) * 50] {
            let fare = Fare { full: Fen::new(fare), resident: Some(Fen::new(100)) };
            log("tap", transit::tap(store, &at(gate), gate, &p, &fare).await.map(|_| ()));
        }
        if i % 3 == 0 {
            let amount = Fen::new(8_000 + (i as i64 * 7_919) % 150_000);
            let bill = medical::Settle { bill_id: format!("DEMO-{i:04}"), amount };
            log("settlement", medical::settle(store, &at(hospital), hospital, &p, &bill).await.map(|_| ()));
        }
        if i % 4 == 0 {
            let _ = library::register(store, &at(desk), desk, &p).await;
            let item = format!("ISBN-978-7-{i:04}");
            log("loan", library::borrow(store, &at(desk), desk, &p, &item).await.map(|_| ()));
        }
        if i % 6 == 0 {
            log("park entry", parks::entry(store, &at(park_gate), park_gate, &p, "GLY").await.map(|_| ()));
        }
    }
}

fn log(what: &str, r: Res<()>) {
    if let Err(e) = r {
        tracing::debug!(error = %e, "demo {what} refused");
    }
}
