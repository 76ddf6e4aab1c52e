//! The behaviour suites, generic over the store backend. `tests/memory.rs` and
//! `tests/dynamodb.rs` run every test listed in `all_tests!` on their backend.

pub mod apps;
pub mod assertions;
pub mod authorization_code;
pub mod discovery;
pub mod dpop;
pub mod internal_codes;
pub mod introspection;
pub mod public_clients;
pub mod refresh;
pub mod requests;
pub mod revocation;
pub mod store;

/// Declares one `#[tokio::test]` per suite test, on the backend built by `$backend`, calling
/// `$cleanup(&backend)` after each.
#[macro_export]
macro_rules! all_tests {
    ($backend:expr, $cleanup:expr) => {
        $crate::all_tests!(@each $backend, $cleanup;
            authorization_code::code_redemption_answers_the_documented_fields,
            authorization_code::access_token_is_a_jwt_with_the_rfc9068_claims,
            authorization_code::a_code_works_once_and_its_replay_revokes_the_grant,
            authorization_code::an_expired_code_is_refused,
            authorization_code::a_code_is_bound_to_its_client,
            authorization_code::another_clients_replay_of_a_used_code_revokes_nothing,
            authorization_code::redirect_uri_must_be_present_and_equal,
            authorization_code::pkce_s256_and_plain_verifiers_are_checked,
            authorization_code::pkce_failures_are_refused_without_consuming_the_code,
            authorization_code::a_verifier_for_a_code_without_challenge_is_refused,
            authorization_code::unknown_and_forged_codes_are_invalid_grant,
            authorization_code::a_code_is_required,
            authorization_code::racing_redemptions_of_one_code_have_one_winner_and_revoke,
            authorization_code::issuing_a_code_checks_the_request_against_the_client,
            authorization_code::a_grant_is_kept_as_long_as_it_can_work,
            refresh::a_refresh_rotates_the_token,
            refresh::a_grace_retry_gets_the_identical_refresh_token,
            refresh::a_retry_after_the_window_revokes_the_grant,
            refresh::the_predecessor_after_the_successor_was_used_revokes,
            refresh::reuse_of_an_older_token_revokes_the_grant,
            refresh::a_zero_grace_window_turns_retries_into_reuse,
            refresh::a_zero_grace_window_keeps_no_sealed_successor,
            refresh::forged_and_unknown_tokens_revoke_nothing,
            refresh::a_refresh_token_is_bound_to_its_client,
            refresh::scope_can_be_narrowed_but_not_widened,
            refresh::the_idle_limit_expires_an_unused_grant,
            refresh::the_absolute_limit_expires_even_an_active_grant,
            refresh::fifty_racing_refreshes_share_one_successor,
            refresh::a_revoked_grant_refuses_its_current_token,
            refresh::a_record_and_old_tokens_do_not_open_the_sealed_successor,
            requests::other_paths_are_404_and_other_methods_405,
            requests::the_longest_client_id_works_and_a_longer_one_is_refused,
            requests::only_form_bodies_are_accepted,
            requests::an_oversized_body_is_refused,
            requests::repeated_parameters_are_refused_and_unknown_ones_ignored,
            requests::grant_type_errors,
            requests::failed_client_authentication_looks_the_same_every_way,
            requests::basic_authentication_works_and_is_challenged,
            requests::both_authentication_methods_at_once_are_refused,
            requests::error_bodies_never_echo_what_was_sent,
            store::records_round_trip_unchanged,
            store::issuing_the_same_code_again_is_its_own_write,
            store::a_code_redeems_once_and_the_refusal_returns_the_record,
            store::redemption_conditions_each_refuse,
            store::a_rotation_applies_once_and_installs_the_successor,
            store::rotation_conditions_each_refuse,
            store::a_revoked_grant_refuses_rotation_and_revocation_is_idempotent,
            store::concurrent_rotations_have_exactly_one_winner,
            store::a_rotation_without_a_seal_removes_the_old_one,
            store::revocation_conditions_each_refuse,
            apps::a_backend_gets_a_token_for_itself_and_nothing_is_stored,
            apps::a_client_token_has_the_scope_asked_for_within_the_clients,
            apps::only_clients_registered_for_it_get_client_tokens,
            apps::client_credentials_is_refused_where_not_enabled,
            apps::a_client_token_introspects_as_its_client_says,
            apps::a_client_token_cannot_be_revoked_and_says_so,
            apps::both_secrets_work_during_a_rotation_and_the_old_one_ends,
            apps::a_clients_own_lifetimes_shorten_the_servers,
            assertions::a_client_with_keys_gets_tokens_with_an_assertion,
            assertions::an_assertion_works_once,
            assertions::bad_assertions_are_refused_and_change_nothing,
            assertions::each_client_authenticates_only_its_way,
            assertions::private_key_jwt_is_refused_where_not_served,
            assertions::the_metadata_lists_private_key_jwt_where_served,
            assertions::assertions_work_at_revocation_and_introspection,
            assertions::registered_keys_can_change,
            store::an_assertion_is_spent_once_and_again_once_forgotten,
            dpop::a_proof_binds_the_access_token_and_a_public_clients_grant,
            dpop::a_proof_works_once,
            dpop::an_ed25519_key_binds_like_a_p256_one,
            dpop::a_grace_retry_needs_a_new_proof_of_the_key,
            dpop::racing_refreshes_with_fresh_proofs_share_one_successor,
            dpop::a_confidential_clients_refresh_tokens_stay_unbound,
            dpop::a_client_token_with_a_proof_is_bound,
            dpop::bad_proofs_are_refused_and_change_nothing,
            dpop::proofs_are_required_where_configured,
            dpop::dpop_is_listed_only_where_served,
            dpop::nonces_are_asked_for_and_shared_by_every_instance,
            dpop::a_code_bound_with_dpop_jkt_needs_a_proof_of_that_key,
            public_clients::a_public_client_redeems_and_refreshes_with_its_id_alone,
            public_clients::each_client_authenticates_only_the_way_it_is_registered,
            public_clients::public_clients_are_refused_where_not_served,
            public_clients::a_public_clients_codes_need_an_s256_challenge,
            public_clients::native_redirect_uris_work_as_rfc_8252_says,
            public_clients::a_public_clients_id_proves_nothing,
            public_clients::a_public_client_revokes_with_its_id_alone,
            revocation::revoking_a_refresh_token_revokes_its_grant,
            revocation::an_older_refresh_token_of_the_grant_revokes_it,
            revocation::revoking_an_access_token_revokes_its_grant,
            revocation::unknown_forged_and_expired_tokens_answer_200_and_change_nothing,
            revocation::another_clients_token_is_refused_and_changes_nothing,
            revocation::revocation_authenticates_the_client_and_needs_a_token,
            revocation::a_revocation_racing_a_refresh_always_wins,
            introspection::only_allowed_clients_may_introspect,
            introspection::an_access_token_is_active_until_its_grant_is_revoked,
            introspection::an_expired_or_foreign_access_token_is_inactive,
            introspection::a_refresh_token_is_never_active_for_a_resource_server,
            introspection::an_access_token_is_active_only_as_its_grant_says,
            discovery::the_metadata_names_every_endpoint_and_each_answers,
            discovery::the_jwks_publishes_no_symmetric_secret,
            internal_codes::an_iam_caller_gets_a_code_that_redeems,
            internal_codes::without_the_iam_context_the_route_does_not_exist,
            internal_codes::only_allowlisted_principals_through_the_configured_route_get_a_code,
            internal_codes::the_issuers_checks_refuse_bad_requests,
            internal_codes::pkce_is_s256_unless_the_client_is_registered_for_less,
        );
    };
    (@each $backend:expr, $cleanup:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let backend = $backend;
                suite::$module::$name(&backend).await;
                #[allow(clippy::redundant_closure_call)]
                ($cleanup)(&backend).await;
            }
        )*
    };
}
