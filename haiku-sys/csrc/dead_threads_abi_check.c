/*
 * haiku-sys: layout check of the dead_threads ioctl ABI
 * (kernel-patch/module/dead_threads_ioctl.h).
 *
 * Compiled by build.rs with the target's C compiler. The static assertions
 * pin the ABI of version DEAD_THREADS_ABI_VERSION: a change of a size or an
 * offset fails the build here and must come with a new ABI version. The
 * table exported below lets a Rust test (tests/dead_threads_abi.rs) compare
 * the C layout with the one of the bindgen'd Rust structures.
 */

#include "dead_threads_ioctl.h"
#include "haiku_sys_c_facts.h"


#define CHECK_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), "size of " #type)
#define CHECK_OFFSET(type, field, offset) \
	_Static_assert(offsetof(type, field) == (offset), \
		"offset of " #type "." #field)

_Static_assert(DEAD_THREADS_ABI_VERSION == 1, "ABI version");

CHECK_SIZE(dead_threads_entry, 8);
CHECK_OFFSET(dead_threads_entry, thread, 0);
CHECK_OFFSET(dead_threads_entry, status, 4);

CHECK_SIZE(dead_threads_info_request, 24);
CHECK_OFFSET(dead_threads_info_request, version, 0);
CHECK_OFFSET(dead_threads_info_request, size, 4);
CHECK_OFFSET(dead_threads_info_request, limit, 8);
CHECK_OFFSET(dead_threads_info_request, list_kind, 12);
CHECK_OFFSET(dead_threads_info_request, max_list_entries, 16);
CHECK_OFFSET(dead_threads_info_request, max_scenario_threads, 20);

CHECK_SIZE(dead_threads_list_request, 40);
CHECK_OFFSET(dead_threads_list_request, version, 0);
CHECK_OFFSET(dead_threads_list_request, size, 4);
CHECK_OFFSET(dead_threads_list_request, team, 8);
CHECK_OFFSET(dead_threads_list_request, capacity, 12);
CHECK_OFFSET(dead_threads_list_request, entries, 16);
CHECK_OFFSET(dead_threads_list_request, resolved_team, 24);
CHECK_OFFSET(dead_threads_list_request, count, 28);
CHECK_OFFSET(dead_threads_list_request, returned, 32);
CHECK_OFFSET(dead_threads_list_request, reserved, 36);

CHECK_SIZE(dead_threads_scenario_request, 112);
CHECK_OFFSET(dead_threads_scenario_request, version, 0);
CHECK_OFFSET(dead_threads_scenario_request, size, 4);
CHECK_OFFSET(dead_threads_scenario_request, thread_count, 8);
CHECK_OFFSET(dead_threads_scenario_request, order, 12);
CHECK_OFFSET(dead_threads_scenario_request, seed, 16);
CHECK_OFFSET(dead_threads_scenario_request, exit_timeout, 24);
CHECK_OFFSET(dead_threads_scenario_request, team, 32);
CHECK_OFFSET(dead_threads_scenario_request, spawned, 36);
CHECK_OFFSET(dead_threads_scenario_request, spawn_error, 40);
CHECK_OFFSET(dead_threads_scenario_request, still_alive, 44);
CHECK_OFFSET(dead_threads_scenario_request, joined_ok, 48);
CHECK_OFFSET(dead_threads_scenario_request, joined_bad_thread_id, 52);
CHECK_OFFSET(dead_threads_scenario_request, joined_other_error, 56);
CHECK_OFFSET(dead_threads_scenario_request, first_other_error, 60);
CHECK_OFFSET(dead_threads_scenario_request, wrong_status, 64);
CHECK_OFFSET(dead_threads_scenario_request, entries_before, 68);
CHECK_OFFSET(dead_threads_scenario_request, entries_exited, 72);
CHECK_OFFSET(dead_threads_scenario_request, entries_after, 76);
CHECK_OFFSET(dead_threads_scenario_request, own_entries_exited, 80);
CHECK_OFFSET(dead_threads_scenario_request, own_entries_after, 84);
CHECK_OFFSET(dead_threads_scenario_request, spawn_time, 88);
CHECK_OFFSET(dead_threads_scenario_request, exit_time, 96);
CHECK_OFFSET(dead_threads_scenario_request, join_time, 104);

/* revision 2 */
CHECK_SIZE(dead_threads_churn_request, 96);
CHECK_OFFSET(dead_threads_churn_request, version, 0);
CHECK_OFFSET(dead_threads_churn_request, size, 4);
CHECK_OFFSET(dead_threads_churn_request, thread_count, 8);
CHECK_OFFSET(dead_threads_churn_request, batch, 12);
CHECK_OFFSET(dead_threads_churn_request, detach, 16);
CHECK_OFFSET(dead_threads_churn_request, reserved, 20);
CHECK_OFFSET(dead_threads_churn_request, exit_timeout, 24);
CHECK_OFFSET(dead_threads_churn_request, team, 32);
CHECK_OFFSET(dead_threads_churn_request, kernel_support, 36);
CHECK_OFFSET(dead_threads_churn_request, spawned, 40);
CHECK_OFFSET(dead_threads_churn_request, spawn_error, 44);
CHECK_OFFSET(dead_threads_churn_request, still_alive, 48);
CHECK_OFFSET(dead_threads_churn_request, detach_errors, 52);
CHECK_OFFSET(dead_threads_churn_request, first_detach_error, 56);
CHECK_OFFSET(dead_threads_churn_request, entries_before, 60);
CHECK_OFFSET(dead_threads_churn_request, own_entries_max, 64);
CHECK_OFFSET(dead_threads_churn_request, own_entries_after, 68);
CHECK_OFFSET(dead_threads_churn_request, entries_after, 72);
CHECK_OFFSET(dead_threads_churn_request, joined_ok, 76);
CHECK_OFFSET(dead_threads_churn_request, joined_bad_thread_id, 80);
CHECK_OFFSET(dead_threads_churn_request, joined_other_error, 84);
CHECK_OFFSET(dead_threads_churn_request, churn_time, 88);

CHECK_SIZE(dead_threads_join_cost_request, 80);
CHECK_OFFSET(dead_threads_join_cost_request, version, 0);
CHECK_OFFSET(dead_threads_join_cost_request, size, 4);
CHECK_OFFSET(dead_threads_join_cost_request, thread_count, 8);
CHECK_OFFSET(dead_threads_join_cost_request, batch, 12);
CHECK_OFFSET(dead_threads_join_cost_request, exit_timeout, 16);
CHECK_OFFSET(dead_threads_join_cost_request, team, 24);
CHECK_OFFSET(dead_threads_join_cost_request, spawn_error, 28);
CHECK_OFFSET(dead_threads_join_cost_request, forward_spawned, 32);
CHECK_OFFSET(dead_threads_join_cost_request, forward_joined_ok, 36);
CHECK_OFFSET(dead_threads_join_cost_request, forward_failed, 40);
CHECK_OFFSET(dead_threads_join_cost_request, reverse_spawned, 44);
CHECK_OFFSET(dead_threads_join_cost_request, reverse_joined_ok, 48);
CHECK_OFFSET(dead_threads_join_cost_request, reverse_failed, 52);
CHECK_OFFSET(dead_threads_join_cost_request, still_alive, 56);
CHECK_OFFSET(dead_threads_join_cost_request, reserved, 60);
CHECK_OFFSET(dead_threads_join_cost_request, forward_join_time, 64);
CHECK_OFFSET(dead_threads_join_cost_request, reverse_join_time, 72);

/* revision 3 */
CHECK_SIZE(dead_threads_revision_request, 16);
CHECK_OFFSET(dead_threads_revision_request, version, 0);
CHECK_OFFSET(dead_threads_revision_request, size, 4);
CHECK_OFFSET(dead_threads_revision_request, revision, 8);
CHECK_OFFSET(dead_threads_revision_request, reserved, 12);

CHECK_SIZE(dead_threads_race_request, 88);
CHECK_OFFSET(dead_threads_race_request, version, 0);
CHECK_OFFSET(dead_threads_race_request, size, 4);
CHECK_OFFSET(dead_threads_race_request, thread_count, 8);
CHECK_OFFSET(dead_threads_race_request, join_timeout, 12);
CHECK_OFFSET(dead_threads_race_request, exit_timeout, 16);
CHECK_OFFSET(dead_threads_race_request, team, 24);
CHECK_OFFSET(dead_threads_race_request, spawn_error, 28);
CHECK_OFFSET(dead_threads_race_request, spawned, 32);
CHECK_OFFSET(dead_threads_race_request, joined_ok, 36);
CHECK_OFFSET(dead_threads_race_request, joined_after_timeout, 40);
CHECK_OFFSET(dead_threads_race_request, timeouts, 44);
CHECK_OFFSET(dead_threads_race_request, statuses_lost, 48);
CHECK_OFFSET(dead_threads_race_request, joined_bad_thread_id, 52);
CHECK_OFFSET(dead_threads_race_request, joined_other_error, 56);
CHECK_OFFSET(dead_threads_race_request, first_other_error, 60);
CHECK_OFFSET(dead_threads_race_request, wrong_status, 64);
CHECK_OFFSET(dead_threads_race_request, still_alive, 68);
CHECK_OFFSET(dead_threads_race_request, own_entries_after, 72);
CHECK_OFFSET(dead_threads_race_request, reserved, 76);
CHECK_OFFSET(dead_threads_race_request, race_time, 80);


static const haiku_sys_c_fact sFacts[] = {
	SIZE(dead_threads_entry),
	ALIGN(dead_threads_entry),
	OFFSET(dead_threads_entry, thread),
	OFFSET(dead_threads_entry, status),

	SIZE(dead_threads_info_request),
	ALIGN(dead_threads_info_request),
	OFFSET(dead_threads_info_request, version),
	OFFSET(dead_threads_info_request, size),
	OFFSET(dead_threads_info_request, limit),
	OFFSET(dead_threads_info_request, list_kind),
	OFFSET(dead_threads_info_request, max_list_entries),
	OFFSET(dead_threads_info_request, max_scenario_threads),

	SIZE(dead_threads_list_request),
	ALIGN(dead_threads_list_request),
	OFFSET(dead_threads_list_request, version),
	OFFSET(dead_threads_list_request, size),
	OFFSET(dead_threads_list_request, team),
	OFFSET(dead_threads_list_request, capacity),
	OFFSET(dead_threads_list_request, entries),
	OFFSET(dead_threads_list_request, resolved_team),
	OFFSET(dead_threads_list_request, count),
	OFFSET(dead_threads_list_request, returned),
	OFFSET(dead_threads_list_request, reserved),

	SIZE(dead_threads_scenario_request),
	ALIGN(dead_threads_scenario_request),
	OFFSET(dead_threads_scenario_request, version),
	OFFSET(dead_threads_scenario_request, size),
	OFFSET(dead_threads_scenario_request, thread_count),
	OFFSET(dead_threads_scenario_request, order),
	OFFSET(dead_threads_scenario_request, seed),
	OFFSET(dead_threads_scenario_request, exit_timeout),
	OFFSET(dead_threads_scenario_request, team),
	OFFSET(dead_threads_scenario_request, spawned),
	OFFSET(dead_threads_scenario_request, spawn_error),
	OFFSET(dead_threads_scenario_request, still_alive),
	OFFSET(dead_threads_scenario_request, joined_ok),
	OFFSET(dead_threads_scenario_request, joined_bad_thread_id),
	OFFSET(dead_threads_scenario_request, joined_other_error),
	OFFSET(dead_threads_scenario_request, first_other_error),
	OFFSET(dead_threads_scenario_request, wrong_status),
	OFFSET(dead_threads_scenario_request, entries_before),
	OFFSET(dead_threads_scenario_request, entries_exited),
	OFFSET(dead_threads_scenario_request, entries_after),
	OFFSET(dead_threads_scenario_request, own_entries_exited),
	OFFSET(dead_threads_scenario_request, own_entries_after),
	OFFSET(dead_threads_scenario_request, spawn_time),
	OFFSET(dead_threads_scenario_request, exit_time),
	OFFSET(dead_threads_scenario_request, join_time),

	SIZE(dead_threads_churn_request),
	ALIGN(dead_threads_churn_request),
	OFFSET(dead_threads_churn_request, version),
	OFFSET(dead_threads_churn_request, size),
	OFFSET(dead_threads_churn_request, thread_count),
	OFFSET(dead_threads_churn_request, batch),
	OFFSET(dead_threads_churn_request, detach),
	OFFSET(dead_threads_churn_request, reserved),
	OFFSET(dead_threads_churn_request, exit_timeout),
	OFFSET(dead_threads_churn_request, team),
	OFFSET(dead_threads_churn_request, kernel_support),
	OFFSET(dead_threads_churn_request, spawned),
	OFFSET(dead_threads_churn_request, spawn_error),
	OFFSET(dead_threads_churn_request, still_alive),
	OFFSET(dead_threads_churn_request, detach_errors),
	OFFSET(dead_threads_churn_request, first_detach_error),
	OFFSET(dead_threads_churn_request, entries_before),
	OFFSET(dead_threads_churn_request, own_entries_max),
	OFFSET(dead_threads_churn_request, own_entries_after),
	OFFSET(dead_threads_churn_request, entries_after),
	OFFSET(dead_threads_churn_request, joined_ok),
	OFFSET(dead_threads_churn_request, joined_bad_thread_id),
	OFFSET(dead_threads_churn_request, joined_other_error),
	OFFSET(dead_threads_churn_request, churn_time),

	SIZE(dead_threads_join_cost_request),
	ALIGN(dead_threads_join_cost_request),
	OFFSET(dead_threads_join_cost_request, version),
	OFFSET(dead_threads_join_cost_request, size),
	OFFSET(dead_threads_join_cost_request, thread_count),
	OFFSET(dead_threads_join_cost_request, batch),
	OFFSET(dead_threads_join_cost_request, exit_timeout),
	OFFSET(dead_threads_join_cost_request, team),
	OFFSET(dead_threads_join_cost_request, spawn_error),
	OFFSET(dead_threads_join_cost_request, forward_spawned),
	OFFSET(dead_threads_join_cost_request, forward_joined_ok),
	OFFSET(dead_threads_join_cost_request, forward_failed),
	OFFSET(dead_threads_join_cost_request, reverse_spawned),
	OFFSET(dead_threads_join_cost_request, reverse_joined_ok),
	OFFSET(dead_threads_join_cost_request, reverse_failed),
	OFFSET(dead_threads_join_cost_request, still_alive),
	OFFSET(dead_threads_join_cost_request, reserved),
	OFFSET(dead_threads_join_cost_request, forward_join_time),
	OFFSET(dead_threads_join_cost_request, reverse_join_time),

	SIZE(dead_threads_revision_request),
	ALIGN(dead_threads_revision_request),
	OFFSET(dead_threads_revision_request, version),
	OFFSET(dead_threads_revision_request, size),
	OFFSET(dead_threads_revision_request, revision),
	OFFSET(dead_threads_revision_request, reserved),

	SIZE(dead_threads_race_request),
	ALIGN(dead_threads_race_request),
	OFFSET(dead_threads_race_request, version),
	OFFSET(dead_threads_race_request, size),
	OFFSET(dead_threads_race_request, thread_count),
	OFFSET(dead_threads_race_request, join_timeout),
	OFFSET(dead_threads_race_request, exit_timeout),
	OFFSET(dead_threads_race_request, team),
	OFFSET(dead_threads_race_request, spawn_error),
	OFFSET(dead_threads_race_request, spawned),
	OFFSET(dead_threads_race_request, joined_ok),
	OFFSET(dead_threads_race_request, joined_after_timeout),
	OFFSET(dead_threads_race_request, timeouts),
	OFFSET(dead_threads_race_request, statuses_lost),
	OFFSET(dead_threads_race_request, joined_bad_thread_id),
	OFFSET(dead_threads_race_request, joined_other_error),
	OFFSET(dead_threads_race_request, first_other_error),
	OFFSET(dead_threads_race_request, wrong_status),
	OFFSET(dead_threads_race_request, still_alive),
	OFFSET(dead_threads_race_request, own_entries_after),
	OFFSET(dead_threads_race_request, reserved),
	OFFSET(dead_threads_race_request, race_time),


	VALUE(DEAD_THREADS_ABI_VERSION),
	VALUE(DEAD_THREADS_OP_BASE),
	VALUE(DEAD_THREADS_GET_INFO),
	VALUE(DEAD_THREADS_GET_DEAD_LIST),
	VALUE(DEAD_THREADS_RUN_SCENARIO),
	VALUE(DEAD_THREADS_RUN_CHURN),
	VALUE(DEAD_THREADS_RUN_JOIN_COST),
	VALUE(DEAD_THREADS_MAX_LIST_ENTRIES),
	VALUE(DEAD_THREADS_MAX_SCENARIO_THREADS),
	VALUE(DEAD_THREADS_LIMIT_UNLIMITED),
	VALUE(DEAD_THREADS_LIST_KIND_LIST),
	VALUE(DEAD_THREADS_LIST_KIND_DOUBLY_LINKED),
	VALUE(DEAD_THREADS_ORDER_FORWARD),
	VALUE(DEAD_THREADS_ORDER_REVERSE),
	VALUE(DEAD_THREADS_ORDER_SHUFFLED),
	VALUE(DEAD_THREADS_SCENARIO_STATUS_BASE),
	VALUE(DEAD_THREADS_SCENARIO_STATUS(0)),
	VALUE(DEAD_THREADS_SCENARIO_STATUS(1999)),
	VALUE(DEAD_THREADS_DEFAULT_EXIT_TIMEOUT),
	VALUE(DEAD_THREADS_ABI_REVISION),
	VALUE(DEAD_THREADS_MAX_CHURN_THREADS),
	VALUE(DEAD_THREADS_MAX_JOIN_COST_THREADS),
	VALUE(DEAD_THREADS_DEFAULT_BATCH),
	VALUE(DEAD_THREADS_DETACH_AT_CREATION),
	VALUE(DEAD_THREADS_DETACH_AFTER_EXIT),
	VALUE(DEAD_THREADS_DETACH_UNSUPPORTED),
	VALUE(DEAD_THREADS_DETACH_SUPPORTED),
	VALUE(DEAD_THREADS_MAX_EXIT_TIMEOUT),
	VALUE(DEAD_THREADS_GET_REVISION),
	VALUE(DEAD_THREADS_RUN_RACE),
	VALUE(DEAD_THREADS_MAX_BATCH),
	VALUE(DEAD_THREADS_MAX_RACE_THREADS),
	VALUE(DEAD_THREADS_DEFAULT_RACE_JOIN_TIMEOUT),
	VALUE(DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT),
};


HAIKU_SYS_C_FACTS(haiku_sys_dead_threads_abi_facts, sFacts)
