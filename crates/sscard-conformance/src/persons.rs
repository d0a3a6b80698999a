//! Cases 1-3: registration, guardians, newborns.

use super::fixtures::*;
use sscard_app::persons::NewbornInput;
use sscard_app::{self};
use sscard_domain::application::{AppKind, AppStatus, Channel};
use sscard_domain::document::{DocType, Sex, Ssn};
use sscard_domain::error::ErrorKind;
use sscard_domain::ids::RegionCode;
use sscard_domain::person::{GuardianLink, RegistrationInput};
use sscard_store::{Store, StoreError};
use std::sync::Arc;
use time::macros::date;

/// A resident ID person is registered, found by id and by SSN; the same SSN again is a 409.
pub async fn registration_of_a_resident(store: Arc<dyn Store>) {
    let store = &*store;
    let c = ctx(clerk());
    let birth = date!(1990 - 05 - 17);
    let number = resident_number_born(birth, 123);
    let input =
        RegistrationInput { sex: Some(Sex::Male), birth_date: Some(birth), ..resident_input(&number, "陈明") };
    let person = sscard_app::persons::register(store, &c, input.clone()).await.expect("a valid resident ID registers");
    assert_eq!(person.ssn.as_str(), number);
    assert!(!person.ssn.is_assigned());
    assert_eq!(person.doc_type, DocType::ResidentId);
    assert_eq!(person.doc_number, number);
    assert_eq!(person.name.as_str(), "陈明");
    assert_eq!(person.sex, Sex::Male);
    assert_eq!(person.birth_date, birth);
    assert_eq!(person.region, region());
    assert_eq!(person.guardian, None);
    assert!(!person.pension_recorded);
    assert_eq!(person.created_at_ms, base_ms());

    let by_id = sscard_app::persons::get(store, &c, &person.id).await.expect("found by id").person;
    assert_eq!(by_id, person);
    let by_ssn = try_find_by_ssn(store, &c, &number).await.expect("found by SSN").person;
    assert_eq!(by_ssn, person);

    let unknown = resident_number_born(birth, 125);
    match try_find_by_ssn(store, &c, &unknown).await {
        Err(StoreError::NotFound { what: "person", .. }) => {}
        other => panic!("an unregistered SSN is not found, got {other:?}"),
    }
    match sscard_app::persons::get(store, &c, "no-such-id").await {
        Err(StoreError::NotFound { what: "person", .. }) => {}
        other => panic!("an unknown id is not found, got {other:?}"),
    }

    // The same SSN again, even under another name: 409 naming the existing person.
    let again = RegistrationInput { name: "陈小明".to_string(), ..input };
    let e = conflict(sscard_app::persons::register(store, &c, again).await, "person_exists", &person.id);
    assert!(!e.message.contains(&number), "no message repeats a whole ID number: {}", e.message);
    assert_eq!(overview(store).await.persons, 1);
    assert_eq!(row_count(store, Table::Events).await, 1);
    assert_eq!(row_count(store, Table::AuditLog).await, 1);
}

/// Every document type registers; passports and permits get an assigned SSN ('A...'),
/// unique per person and kept: the same document again is a 409.
pub async fn registration_of_every_document_type(store: Arc<dyn Store>) {
    let store = &*store;
    let c = ctx(clerk());
    let cases = document_cases();
    let assigned = each_registers_with_its_ssn(store, &c, &cases).await;
    assert_eq!(assigned.len(), 4);
    let mut unique = assigned.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "assigned SSNs are unique: {assigned:?}");
    assert_eq!(overview(store).await.persons, cases.len() as i64);

    // The same document again never gets a second SSN.
    for (input, _, _, _) in cases.iter().cloned() {
        let doc_type = input.doc_type;
        let result = sscard_app::persons::register(store, &c, input).await;
        let e = refusal(result, ErrorKind::Conflict, "person_exists");
        assert_eq!(e.kind, ErrorKind::Conflict, "{}", doc_type.as_str());
    }
    assert_eq!(overview(store).await.persons, cases.len() as i64);
    assert_eq!(row_count(store, Table::Events).await, cases.len() as u64);
}

/// One registration of every document type: (input, SSN is the number itself, expected sex,
/// expected birth date).
fn document_cases() -> Vec<(RegistrationInput, bool, Sex, time::Date)> {
    let permit_region = RegionCode::parse("810000").expect("fixture region");
    let permit = sscard_domain::document::make_resident_id(permit_region, date!(1992 - 07 - 08), 246);
    let fpr2023 = with_check_char("93500019850312002");
    let given = |doc_type: DocType, number: &str, sex: Sex, birth: time::Date| RegistrationInput {
        doc_type,
        doc_number: number.to_string(),
        name: "Test Person".to_string(),
        sex: Some(sex),
        birth_date: Some(birth),
        region: region(),
        guardian_id: None,
        relationship_proof: None,
    };
    let derived =
        |doc_type: DocType, number: &str| RegistrationInput { doc_type, ..resident_input(number, "Test Person") };
    // (input, SSN is the number itself, expected sex, expected birth date)
    vec![
        (derived(DocType::ResidentId, &resident_number(1)), true, Sex::Male, adult_birth(1)),
        (derived(DocType::ResidencePermit, &permit), true, Sex::Female, date!(1992 - 07 - 08)),
        (derived(DocType::ForeignPermanentId, &fpr2023), true, Sex::Female, date!(1985 - 03 - 12)),
        (
            given(DocType::ForeignPermanentId, "USA123456789012", Sex::Male, date!(1979 - 11 - 30)),
            true,
            Sex::Male,
            date!(1979 - 11 - 30),
        ),
        (
            given(DocType::Passport, "E12345678", Sex::Female, date!(1988 - 02 - 29)),
            false,
            Sex::Female,
            date!(1988 - 02 - 29),
        ),
        (
            given(DocType::HkMacauTravelPermit, "H12345678", Sex::Male, date!(1970 - 01 - 01)),
            false,
            Sex::Male,
            date!(1970 - 01 - 01),
        ),
        (
            given(DocType::TaiwanTravelPermit, "12345678", Sex::Female, date!(1975 - 12 - 31)),
            false,
            Sex::Female,
            date!(1975 - 12 - 31),
        ),
        (
            given(DocType::ForeignWorkPermit, "WP2023000001234", Sex::Male, date!(1983 - 06 - 15)),
            false,
            Sex::Male,
            date!(1983 - 06 - 15),
        ),
    ]
}

/// Registers every case and checks the person it gives (derived fields, the SSN: the number
/// itself or an assigned `A...` one) and that it is found by SSN; answers the assigned SSNs.
async fn each_registers_with_its_ssn(
    store: &dyn Store,
    c: &sscard_app::Ctx,
    cases: &[(RegistrationInput, bool, Sex, time::Date)],
) -> Vec<Ssn> {
    let mut assigned = Vec::new();
    for (input, number_is_ssn, sex, birth) in cases.iter().cloned() {
        let doc_type = input.doc_type;
        let number = input.doc_number.clone();
        let person = match sscard_app::persons::register(store, c, input).await {
            Ok(p) => p,
            Err(e) => panic!("{} {number} should register: {e:?}", doc_type.as_str()),
        };
        assert_eq!(person.doc_type, doc_type);
        assert_eq!(person.doc_number, number);
        assert_eq!(person.sex, sex, "{}", doc_type.as_str());
        assert_eq!(person.birth_date, birth, "{}", doc_type.as_str());
        if number_is_ssn {
            assert_eq!(person.ssn.as_str(), number, "{}", doc_type.as_str());
        } else {
            let ssn = person.ssn.as_str();
            assert!(ssn.starts_with('A'), "assigned SSN {ssn}");
            assert!(person.ssn.is_assigned());
            assert_eq!(ssn.len(), 18);
            assert_eq!(&ssn[1..7], REGION, "the assigned SSN carries the region");
            assert_eq!(Ssn::parse(ssn).ok(), Some(person.ssn.clone()));
            assigned.push(person.ssn.clone());
        }
        let found = try_find_by_ssn(store, c, person.ssn.as_str()).await.expect("every person is found by SSN").person;
        assert_eq!(found, person);
    }
    assigned
}

/// Bad check character, bad date, wrong region, future birth: 400 on doc_number, nothing written.
pub async fn registration_refuses_bad_numbers_and_writes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let c = ctx(clerk());
    let good = resident_number_born(date!(1990 - 05 - 17), 123);
    let flipped = {
        let last = good.chars().last().unwrap_or('0');
        let other = if last == '0' { '1' } else { '0' };
        format!("{}{other}", &good[..17])
    };
    let permit_number = {
        let permit_region = RegionCode::parse("810000").expect("fixture region");
        sscard_domain::document::make_resident_id(permit_region, date!(1990 - 05 - 17), 123)
    };
    let cases: Vec<(DocType, String)> = vec![
        (DocType::ResidentId, flipped),
        // 30 February
        (DocType::ResidentId, with_check_char("35020319900230123")),
        // month 13
        (DocType::ResidentId, with_check_char("35020319901301123")),
        // 99 is no province
        (DocType::ResidentId, with_check_char("99010119900517123")),
        // a residence permit number registered as a resident ID
        (DocType::ResidentId, permit_number),
        // a resident ID number registered as a residence permit
        (DocType::ResidencePermit, good.clone()),
        // born after today
        (DocType::ResidentId, resident_number_born(today_plus(1), 123)),
        (DocType::ResidentId, good[..17].to_string()),
        (DocType::ResidentId, "   ".to_string()),
        (DocType::Passport, "ABCDEFG".to_string()),
        (DocType::HkMacauTravelPermit, "X12345678".to_string()),
        (DocType::ForeignPermanentId, "XXX123456789012".to_string()),
    ];
    let before = row_counts(store).await;
    for (doc_type, number) in cases {
        let input = RegistrationInput {
            doc_type,
            sex: Some(Sex::Male),
            birth_date: Some(date!(1990 - 05 - 17)),
            ..resident_input(&number, "李四")
        };
        let e = invalid(sscard_app::persons::register(store, &c, input).await, "bad_document", "doc_number");
        if number.trim().len() >= 15 {
            assert!(!e.message.contains(number.trim()), "no message repeats a whole number: {}", e.message);
        }
    }
    assert_eq!(row_counts(store).await, before, "refusals write nothing");
    assert_eq!(overview(store).await.persons, 0);
}

/// Sex or birth date contradicting the number, or missing where the document lacks them: 400.
pub async fn registration_refuses_contradicting_sex_or_birth_date(store: Arc<dyn Store>) {
    let store = &*store;
    let c = ctx(clerk());
    let birth = date!(1990 - 05 - 17);
    let male = resident_number_born(birth, 123);
    let before = row_counts(store).await;
    let wrong_sex = RegistrationInput { sex: Some(Sex::Female), ..resident_input(&male, "王五") };
    invalid(sscard_app::persons::register(store, &c, wrong_sex).await, "sex_mismatch", "sex");
    let wrong_birth = RegistrationInput { birth_date: Some(date!(1990 - 05 - 18)), ..resident_input(&male, "王五") };
    invalid(sscard_app::persons::register(store, &c, wrong_birth).await, "birth_date_mismatch", "birth_date");
    let passport = |sex, birth_date| RegistrationInput {
        doc_type: DocType::Passport,
        sex,
        birth_date,
        ..resident_input("E12345678", "John Smith")
    };
    invalid(sscard_app::persons::register(store, &c, passport(None, Some(birth))).await, "sex_required", "sex");
    invalid(
        sscard_app::persons::register(store, &c, passport(Some(Sex::Male), None)).await,
        "birth_date_required",
        "birth_date",
    );
    invalid(
        sscard_app::persons::register(store, &c, passport(Some(Sex::Male), Some(today_plus(1)))).await,
        "bad_birth_date",
        "birth_date",
    );
    invalid(sscard_app::persons::register(store, &c, resident_input(&male, "   ")).await, "bad_name", "name");
    assert_eq!(row_counts(store).await, before, "refusals write nothing");

    // The matching claims are accepted.
    let right = RegistrationInput { sex: Some(Sex::Male), birth_date: Some(birth), ..resident_input(&male, "王五") };
    let person = sscard_app::persons::register(store, &c, right).await.expect("matching sex and birth date register");
    assert_eq!((person.sex, person.birth_date), (Sex::Male, birth));
}

/// Under 16 a guardian and a proof are needed; the guardian must be an adult.
pub async fn guardian_rules(store: Arc<dyn Store>) {
    let store = &*store;
    let c = ctx(clerk());
    let parent = register(store, 1).await;
    // 17 years old: needs no guardian, but cannot be one.
    let teen = register_input(store, resident_input(&resident_number_born(date!(2008 - 06 - 01), 311), "少年")).await;
    assert_eq!(teen.guardian, None);
    let child_number = resident_number_born(date!(2016 - 01 - 10), 222);
    let child = |guardian_id: Option<&str>, proof: Option<&str>| RegistrationInput {
        guardian_id: guardian_id.map(str::to_string),
        relationship_proof: proof.map(str::to_string),
        ..resident_input(&child_number, "小明")
    };
    let before = row_counts(store).await;
    invalid(sscard_app::persons::register(store, &c, child(None, None)).await, "guardian_required", "guardian_id");
    invalid(
        sscard_app::persons::register(store, &c, child(None, Some("HB3502031234"))).await,
        "guardian_required",
        "guardian_id",
    );
    invalid(
        sscard_app::persons::register(store, &c, child(Some(&parent.id), None)).await,
        "relationship_proof_required",
        "relationship_proof",
    );
    invalid(
        sscard_app::persons::register(store, &c, child(Some(&parent.id), Some("HB-12/34"))).await,
        "bad_relationship_proof",
        "relationship_proof",
    );
    invalid(
        sscard_app::persons::register(store, &c, child(Some("no-such-person"), Some("HB1"))).await,
        "guardian_unknown",
        "guardian_id",
    );
    refusal(
        sscard_app::persons::register(store, &c, child(Some(&teen.id), Some("HB3502031234"))).await,
        ErrorKind::Refused,
        "guardian_is_minor",
    );
    assert_eq!(row_counts(store).await, before, "refusals write nothing");

    let person = sscard_app::persons::register(store, &c, child(Some(&parent.id), Some("hb3502031234")))
        .await
        .expect("a child with an adult guardian and a proof registers");
    let link = Some(GuardianLink { guardian_id: parent.id.clone(), relationship_proof: "HB3502031234".to_string() });
    assert_eq!(person.guardian, link);
    assert!(person.is_minor(TODAY));
    let stored = sscard_app::persons::get(store, &c, &person.id).await.expect("the child is stored").person;
    assert_eq!(stored.guardian, link);
    assert_eq!(overview(store).await.persons, 3);
}

fn newborn(guardian_id: &str, number: &str, bank: &str) -> NewbornInput {
    NewbornInput {
        child: RegistrationInput {
            guardian_id: Some(guardian_id.to_string()),
            relationship_proof: Some("O350200260012345".to_string()),
            ..resident_input(number, "新生儿")
        },
        bank_code: bank_code(bank),
        branch_code: Some(branch_code(PLAIN_BRANCH)),
        mail_address: None,
    }
}

/// The newborn one-step registration creates the person and a first application together.
pub async fn newborn_registration(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let parent = register(store, 2).await;
    let c = ctx(clerk());
    let number = resident_number_born(date!(2026 - 02 - 20), 457);
    let done = sscard_app::persons::register_newborn(store, &c, newborn(&parent.id, &number, BANK))
        .await
        .expect("newborn registration");
    assert_eq!(done.person.ssn.as_str(), number);
    assert_eq!(done.person.birth_date, date!(2026 - 02 - 20));
    assert_eq!(
        done.person.guardian,
        Some(GuardianLink { guardian_id: parent.id.clone(), relationship_proof: "O350200260012345".to_string() })
    );
    let app = &done.application.application;
    assert_eq!(app.person_id, done.person.id);
    assert_eq!(app.kind, AppKind::First);
    assert_eq!(app.channel, Channel::Newborn);
    assert_eq!(app.status, AppStatus::Submitted);
    assert_eq!(app.fee_fen.value(), 0);
    assert_eq!(app.bank_code.as_str(), BANK);
    assert_eq!(done.application.timeline.len(), 1);
    assert_eq!(done.application.timeline[0].status, AppStatus::Submitted);
    assert_eq!(done.application.timeline[0].actor, "clerk.xm");
    let stored = application(store, &app.id).await;
    assert_eq!(&stored.application, app);
    let found = try_find_by_ssn(store, &c, &number).await.expect("the newborn is registered").person;
    assert_eq!(found, done.person);
    let o = overview(store).await;
    assert_eq!(o.persons, 2);
    assert_eq!(count_of(&o.applications_by_channel, "newborn"), 1);

    // Without a guardian the whole request is refused.
    let mut orphan = newborn(&parent.id, &resident_number_born(date!(2026 - 02 - 21), 458), BANK);
    orphan.child.guardian_id = None;
    invalid(sscard_app::persons::register_newborn(store, &c, orphan).await, "guardian_required", "guardian_id");
    assert_eq!(overview(store).await.persons, 2);
}

/// A failure in the application half of a newborn registration leaves no person behind.
pub async fn newborn_failure_leaves_no_person(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let parent = register(store, 2).await;
    let c = ctx(clerk());
    let number = resident_number_born(date!(2026 - 02 - 20), 457);
    let before = row_counts(store).await;
    invalid(
        sscard_app::persons::register_newborn(store, &c, newborn(&parent.id, &number, "NOBANK")).await,
        "unknown_bank",
        "bank_code",
    );
    let mut bad_branch = newborn(&parent.id, &number, BANK);
    bad_branch.branch_code = Some(branch_code("NO-SUCH"));
    invalid(sscard_app::persons::register_newborn(store, &c, bad_branch).await, "unknown_branch", "branch_code");
    assert_eq!(row_counts(store).await, before, "nothing of the newborn stays");
    match try_find_by_ssn(store, &c, &number).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("no newborn person may remain, got {other:?}"),
    }
    assert_eq!(overview(store).await.persons, 1);

    // The same child registers once the request is right.
    let done = sscard_app::persons::register_newborn(store, &c, newborn(&parent.id, &number, BANK))
        .await
        .expect("the corrected request registers");
    assert_eq!(done.person.ssn.as_str(), number);
    assert_eq!(overview(store).await.persons, 2);
}
