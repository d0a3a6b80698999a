//! The conformance suite: one set of behaviour tests that every backend must pass.
//! Each case is a `pub async fn` taking a fresh, empty, migrated store and
//! drives it only through the use cases in [`sscard_app`], so the suite checks the whole
//! path: domain decision, SQL, transaction, event and audit record.
//!
//! A backend runs the suite with [`conformance_tests!`](sscard_store::conformance_tests) and a
//! factory returning `Option<(Arc<dyn Store>, Guard)>` (`None` skips the test, e.g. when
//! the database server is not there outside CI):
//!
//! ```ignore
//! async fn factory() -> Option<(Arc<dyn Store>, Guard)> {
//!     let db = sscard_store_sqlite::TempDatabase::new();
//!     let store = sscard_store_sqlite::open(&db.url()).await.expect("open");
//!     Some((Arc::new(store), Guard::keep(db)))
//! }
//! sscard_store::conformance_tests!(factory);
//! ```
//!
//! The fixtures ([`fixtures`], re-exported here) are public so that the HTTP tests can
//! build the same situations.

// The cases are tests: a case reads best as one story from setup to the last check, so the
// length rule for production functions does not apply to them.
#![allow(clippy::too_many_lines)]

mod applications;
mod at_rest;
mod bank_files;
mod banks;
mod benefits;
mod cards;
pub mod fixtures;
mod floats;
mod handover;
mod hub;
mod hub_stops;
mod jobs;
mod live;
mod nation;
mod onecard;
mod persons;
mod privacy;
mod records;
mod relay;
mod terminals;

pub use applications::*;
pub use at_rest::*;
pub use bank_files::*;
pub use banks::*;
pub use benefits::*;
pub use cards::*;
pub use fixtures::*;
pub use floats::*;
pub use handover::*;
pub use hub::*;
pub use hub_stops::*;
pub use jobs::*;
pub use live::*;
pub use nation::*;
pub use onecard::*;
pub use persons::*;
pub use privacy::*;
pub use records::*;
pub use relay::*;
pub use terminals::*;

#[doc(hidden)]
pub use sscard_store::Store;

/// Expands to one `#[tokio::test]` per conformance case. `$factory` is an async fn
/// returning `Option<(Arc<dyn Store>, Guard)>`: one fresh database per case, kept alive
/// by the guard until the case ends; `None` skips the case.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::__conformance_cases!(
            $factory;
            registration_of_a_resident,
            registration_of_every_document_type,
            registration_refuses_bad_numbers_and_writes_nothing,
            registration_refuses_contradicting_sex_or_birth_date,
            guardian_rules,
            newborn_registration,
            newborn_failure_leaves_no_person,
            branch_path,
            illegal_steps_change_nothing,
            online_path_and_promise,
            instant_issuance,
            card_state_machine,
            activation_needs_a_good_pin,
            stop_and_cancel_need_reasons,
            replacement_after_loss,
            replacement_fee_collected_once,
            hand_over_waits_for_the_fee,
            intake_rules_and_fees,
            upgrade_from_second_generation,
            concurrent_activation_has_one_winner,
            concurrent_temporary_and_replacement,
            auto_lift_after_the_configured_days,
            dormant_sweep,
            temporary_cards_expire,
            audit_chain_verifies,
            audit_detects_an_edited_record,
            audit_detects_a_deleted_record,
            audit_detects_a_removed_last_record,
            outbox_in_order,
            hub_claim_goes_or_waits_for_the_holder,
            hub_holder_stop_releases_the_remote_stop,
            hub_replayed_event_changes_nothing,
            hub_concurrent_claims_give_one_go,
            hub_keys_and_merged_revocations,
            hub_several_waiting_stops_are_served_in_turn,
            nation_approve_go_approves,
            nation_wait_then_resume,
            nation_release_stops_the_live_card,
            nation_release_withdraws_or_waits_for_production,
            nation_hub_unavailable_changes_nothing,
            idempotency_records,
            legacy_idempotency_records_replay_as_stored,
            access_rules,
            overview_counts,
            find_by_any_document_number,
            failed_operations_leave_no_trace,
            onecard_terminals_and_refusals,
            onecard_ledger_rules,
            onecard_medical_settlement,
            onecard_transit,
            onecard_library,
            onecard_visitors_by_deployment_and_ecard,
            onecard_parks,
            onecard_concurrent_debits_never_overdraw,
            onecard_wallet_follows_the_replacement,
            onecard_refusals_before_the_card_is_known,
            live_set_follows_commits,
            onecard_large_batches_apply_each_line_once,
            onecard_offline_tap_follows_the_money_to_the_replacement,
            onecard_organisation_accounts_take_concurrent_writers,
            onecard_wallet_goes_back_when_the_card_ends,
            banks_have_their_own_bins_and_cards_their_own_pans,
            terminal_secret_rotation,
            staff_see_full_numbers_and_money_only_with_business,
            staff_looks_at_unmasked_data_are_listed_to_the_holder,
            personal_data_is_sealed_at_rest,
            benefit_lines_are_sealed_at_rest,
            benefits_each_line_once_to_the_current_card,
            benefits_long_batches_keep_line_order,
            benefits_line_ids_with_quotes_round_trip,
            benefits_chunks_in_flight_pay_each_person_once,
            benefits_bad_lines_behind_staged_chunks_leave_nothing,
            bank_reports_return_and_reconcile,
            cash_floats_fund_and_draw,
            relay_cursors_and_first_delivery,
            relay_reads_the_outbox_as_events_after,
        );
    };
}

/// The expansion of [`conformance_tests!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, guard)) = $factory().await else {
                    return;
                };
                $crate::$case(::std::sync::Arc::clone(&store)).await;
                $crate::Store::close(&*store).await;
                drop(store);
                $crate::Guard::finish(guard).await;
            }
        )*
    };
}
