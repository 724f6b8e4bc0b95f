/*
 * Copyright 2026, dead-threads authors.
 * Distributed under the terms of the MIT License.
 */

/*
 * dead_threads test module: ioctl ABI of /dev/misc/dead_threads.
 *
 * This header is the single source of the ABI. It is included by the kernel
 * driver (C++), by userland C, and by bindgen for the Rust client
 * (haiku-sys). It therefore uses only <stdint.h> types, so that it also
 * compiles on non-Haiku hosts, where haiku-sys checks that the C and Rust
 * layouts agree.
 *
 * Every request starts with "uint32_t version; uint32_t size;". The driver
 * answers B_NOT_SUPPORTED when version is not DEAD_THREADS_ABI_VERSION and
 * B_BAD_VALUE when size is not the size of the request structure of this
 * version. All other fields are fixed-width; user addresses are carried as
 * uint64_t so the layout is the same for every architecture; the static
 * assertions at the end of this file pin it for every compiler that includes
 * the header (C11 or C++11 and newer).
 */
#ifndef _DEAD_THREADS_IOCTL_H
#define _DEAD_THREADS_IOCTL_H


#include <stdint.h>


#define DEAD_THREADS_DEVICE_NAME		"dead_threads"
#define DEAD_THREADS_DEVICE_PATH		"/dev/misc/dead_threads"

#define DEAD_THREADS_ABI_VERSION		1

/* B_DEVICE_OP_CODES_END + 1, like the other misc drivers (the driver checks
 * this against <Drivers.h> at compile time). */
#define DEAD_THREADS_OP_BASE			10000

enum {
	/* dead_threads_info_request */
	DEAD_THREADS_GET_INFO = DEAD_THREADS_OP_BASE,
	/* dead_threads_list_request */
	DEAD_THREADS_GET_DEAD_LIST,
	/* dead_threads_scenario_request */
	DEAD_THREADS_RUN_SCENARIO,

	/* ABI revision 2 (same version 1 of the requests above, which keep
	 * their layout): the churn and join-cost scenarios. A revision 1 driver
	 * answers B_DEV_INVALID_IOCTL for them, like for any unknown opcode;
	 * that is how a client tells the revisions apart. */
	/* dead_threads_churn_request */
	DEAD_THREADS_RUN_CHURN,
	/* dead_threads_join_cost_request */
	DEAD_THREADS_RUN_JOIN_COST,

	/* ABI revision 3: the driver's revision, and the join race scenario */
	/* dead_threads_revision_request */
	DEAD_THREADS_GET_REVISION,
	/* dead_threads_race_request */
	DEAD_THREADS_RUN_RACE,

	DEAD_THREADS_OP_END
};

/* Caps enforced by the driver; larger requests get B_BAD_VALUE. */
#define DEAD_THREADS_MAX_LIST_ENTRIES		16384
#define DEAD_THREADS_MAX_SCENARIO_THREADS	2048

/* The revision of the ABI this header describes (see DEAD_THREADS_RUN_CHURN
 * and DEAD_THREADS_GET_REVISION) */
#define DEAD_THREADS_ABI_REVISION			3

/* Every scenario spawns its threads in batches of at most
 * DEAD_THREADS_MAX_BATCH threads alive at a time, an eighth of Haiku's
 * default limit of 4096 threads, so that the rest of the system does not
 * run out of threads meanwhile. */
#define DEAD_THREADS_MAX_BATCH				512
#define DEAD_THREADS_DEFAULT_BATCH			256

/* Caps of the revision 2 and 3 scenarios */
#define DEAD_THREADS_MAX_CHURN_THREADS		100000
#define DEAD_THREADS_MAX_JOIN_COST_THREADS	100000
#define DEAD_THREADS_MAX_RACE_THREADS		100000

/* Timeout of each join attempt of the race scenario (microseconds): the
 * default, used when join_timeout is 0, and the largest accepted. */
#define DEAD_THREADS_DEFAULT_RACE_JOIN_TIMEOUT	20
#define DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT		1000

/* dead_threads_info_request.limit when the kernel keeps every entry */
#define DEAD_THREADS_LIMIT_UNLIMITED		0

/* dead_threads_info_request.list_kind */
enum {
	/* Team::dead_threads is a "struct list" (2018 .. early 2025) */
	DEAD_THREADS_LIST_KIND_LIST = 1,
	/* Team::dead_threads is a DoublyLinkedList (ThreadDeathEntryList) */
	DEAD_THREADS_LIST_KIND_DOUBLY_LINKED = 2
};

/* dead_threads_scenario_request.order */
enum {
	/* join in spawn order */
	DEAD_THREADS_ORDER_FORWARD = 0,
	/* join newest first */
	DEAD_THREADS_ORDER_REVERSE = 1,
	/* join in a permutation drawn from "seed" */
	DEAD_THREADS_ORDER_SHUFFLED = 2
};

/* dead_threads_churn_request.detach: how the scenario threads are detached */
enum {
	/* created detached (THREAD_CREATION_FLAG_DETACHED, as pthread_create()
	 * with PTHREAD_CREATE_DETACHED does) */
	DEAD_THREADS_DETACH_AT_CREATION = 0,
	/* detached once they are gone (thread_detach(), as pthread_detach() on
	 * a dead thread does) */
	DEAD_THREADS_DETACH_AFTER_EXIT = 1
};

/* dead_threads_churn_request.kernel_support */
enum {
	/* the kernel the module was built for cannot be told that a thread is
	 * detached: the threads are created and left alone, which is what
	 * libroot does with a detached pthread there */
	DEAD_THREADS_DETACH_UNSUPPORTED = 0,
	/* the kernel has THREAD_CREATION_FLAG_DETACHED and thread_detach() */
	DEAD_THREADS_DETACH_SUPPORTED = 1
};

/* Exit status of scenario thread i (0-based); every thread's is distinct. */
#define DEAD_THREADS_SCENARIO_STATUS_BASE	0x5d000000
#define DEAD_THREADS_SCENARIO_STATUS(i) \
	((int32_t)(DEAD_THREADS_SCENARIO_STATUS_BASE + (int32_t)(i)))

/* Default bound for the wait until all scenario threads left the thread
 * table (microseconds), used when exit_timeout is 0, and the largest bound
 * accepted. */
#define DEAD_THREADS_DEFAULT_EXIT_TIMEOUT	10000000
#define DEAD_THREADS_MAX_EXIT_TIMEOUT		600000000


/* One death entry of a team: a thread that exited and was not waited for. */
typedef struct dead_threads_entry {
	int32_t		thread;
	int32_t		status;
} dead_threads_entry;


typedef struct dead_threads_info_request {
	uint32_t	version;
	uint32_t	size;
	/* out */
	uint32_t	limit;
		/* MAX_DEAD_THREADS of the kernel headers the module was built
		 * against, or DEAD_THREADS_LIMIT_UNLIMITED */
	uint32_t	list_kind;
		/* DEAD_THREADS_LIST_KIND_* */
	uint32_t	max_list_entries;
		/* DEAD_THREADS_MAX_LIST_ENTRIES */
	uint32_t	max_scenario_threads;
		/* DEAD_THREADS_MAX_SCENARIO_THREADS */
} dead_threads_info_request;


typedef struct dead_threads_list_request {
	uint32_t	version;
	uint32_t	size;
	/* in */
	int32_t		team;
		/* 0: the caller's team */
	uint32_t	capacity;
		/* entries the buffer at "entries" can hold,
		 * <= DEAD_THREADS_MAX_LIST_ENTRIES; may be 0 */
	uint64_t	entries;
		/* user address of capacity dead_threads_entry, oldest first */
	/* out */
	int32_t		resolved_team;
		/* the team that was read */
	uint32_t	count;
		/* number of entries in the team's dead list */
	uint32_t	returned;
		/* entries written to "entries": min(count, capacity) */
	uint32_t	reserved;
		/* must be 0 */
} dead_threads_list_request;


typedef struct dead_threads_scenario_request {
	uint32_t	version;
	uint32_t	size;
	/* in */
	uint32_t	thread_count;
		/* 1 .. DEAD_THREADS_MAX_SCENARIO_THREADS */
	uint32_t	order;
		/* DEAD_THREADS_ORDER_* */
	uint64_t	seed;
		/* shuffle seed; 0: the driver picks one. out: the seed used,
		 * 0 for the forward and reverse orders */
	int64_t		exit_timeout;
		/* per batch of DEAD_THREADS_DEFAULT_BATCH threads, microseconds,
		 * 0 .. DEAD_THREADS_MAX_EXIT_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_EXIT_TIMEOUT */
	/* out: threads */
	int32_t		team;
		/* the caller's team, into which the threads were spawned */
	uint32_t	spawned;
		/* threads spawned (thread_count unless spawning failed or the
		 * caller was killed) */
	int32_t		spawn_error;
		/* B_OK, or why spawning stopped early (B_INTERRUPTED: the caller
		 * is being killed) */
	uint32_t	still_alive;
		/* threads still in the thread table when the exit wait ended */
	/* out: joins, by result of wait_for_thread() */
	uint32_t	joined_ok;
	uint32_t	joined_bad_thread_id;
	uint32_t	joined_other_error;
	int32_t		first_other_error;
		/* the first result that was neither B_OK nor B_BAD_THREAD_ID */
	uint32_t	wrong_status;
		/* joins that returned B_OK with another thread's exit status */
	/* out: the caller's team's dead list */
	uint32_t	entries_before;
		/* length of the whole list before spawning */
	uint32_t	entries_exited;
		/* length of the whole list once all threads had left */
	uint32_t	entries_after;
		/* length of the whole list after all joins */
	uint32_t	own_entries_exited;
		/* entries of this scenario's threads once all had left */
	uint32_t	own_entries_after;
		/* entries of this scenario's threads after all joins */
	/* out: time of each phase, microseconds */
	int64_t		spawn_time;
	int64_t		exit_time;
	int64_t		join_time;
} dead_threads_scenario_request;


/* Revision 2: N detached threads are created and exit in the caller's team,
 * in batches; the team's death entries of those threads are counted after
 * every batch (they must stay 0) and, at the end, each thread is waited for
 * once (which must fail with B_BAD_THREAD_ID). */
typedef struct dead_threads_churn_request {
	uint32_t	version;
	uint32_t	size;
	/* in */
	uint32_t	thread_count;
		/* 1 .. DEAD_THREADS_MAX_CHURN_THREADS */
	uint32_t	batch;
		/* threads alive at once, 1 .. DEAD_THREADS_MAX_BATCH;
		 * 0: DEAD_THREADS_DEFAULT_BATCH */
	uint32_t	detach;
		/* DEAD_THREADS_DETACH_* */
	uint32_t	reserved;
		/* must be 0 */
	int64_t		exit_timeout;
		/* per batch, microseconds, 0 .. DEAD_THREADS_MAX_EXIT_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_EXIT_TIMEOUT */
	/* out */
	int32_t		team;
	uint32_t	kernel_support;
		/* DEAD_THREADS_DETACH_SUPPORTED or _UNSUPPORTED */
	uint32_t	spawned;
	int32_t		spawn_error;
		/* B_OK, or why spawning stopped early */
	uint32_t	still_alive;
		/* threads still in the thread table when a batch's wait ended;
		 * they were then joined (and are not detached) */
	uint32_t	detach_errors;
		/* thread_detach() calls that failed (AFTER_EXIT only) */
	int32_t		first_detach_error;
	uint32_t	entries_before;
		/* length of the team's whole dead list before spawning */
	uint32_t	own_entries_max;
		/* most entries of this scenario's threads seen after any batch */
	uint32_t	own_entries_after;
		/* entries of this scenario's threads after the last batch */
	uint32_t	entries_after;
		/* length of the whole list after the last batch */
	uint32_t	joined_ok;
		/* final waits that succeeded (each consumes an entry) */
	uint32_t	joined_bad_thread_id;
		/* final waits that failed with B_BAD_THREAD_ID */
	uint32_t	joined_other_error;
	int64_t		churn_time;
		/* microseconds for spawning, exiting and detaching all threads */
} dead_threads_churn_request;


/* Revision 2: N threads die in the caller's team without being waited for
 * (in batches), then all are waited for oldest first ("forward"); then N more
 * die and are waited for newest first ("reverse"). The time of each join
 * phase is reported: per join, it is (forward|reverse)_join_time / joined. */
typedef struct dead_threads_join_cost_request {
	uint32_t	version;
	uint32_t	size;
	/* in */
	uint32_t	thread_count;
		/* 1 .. DEAD_THREADS_MAX_JOIN_COST_THREADS */
	uint32_t	batch;
		/* threads alive at once, 1 .. DEAD_THREADS_MAX_BATCH;
		 * 0: DEAD_THREADS_DEFAULT_BATCH */
	int64_t		exit_timeout;
		/* per batch, microseconds, 0 .. DEAD_THREADS_MAX_EXIT_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_EXIT_TIMEOUT */
	/* out */
	int32_t		team;
	int32_t		spawn_error;
		/* B_OK, or why spawning stopped early (then nothing was timed) */
	uint32_t	forward_spawned;
	uint32_t	forward_joined_ok;
	uint32_t	forward_failed;
		/* waits that did not return B_OK with the right exit status */
	uint32_t	reverse_spawned;
	uint32_t	reverse_joined_ok;
	uint32_t	reverse_failed;
	uint32_t	still_alive;
		/* threads that had not left the thread table in time (summed over
		 * batches); they are joined in the timed phase, so the counts
		 * stay exact and only the time includes their wait */
	uint32_t	reserved;
	int64_t		forward_join_time;
		/* microseconds for all forward joins */
	int64_t		reverse_join_time;
		/* microseconds for all reverse joins */
} dead_threads_join_cost_request;


/* Revision 3: the driver's ABI revision. A client checks it when it opens
 * the device: the module reads private kernel structures and must come
 * from the same tree as the running kernel, and a client of another
 * revision would misread the scenarios it knows. A driver older than
 * revision 3 answers B_DEV_INVALID_IOCTL. */
typedef struct dead_threads_revision_request {
	uint32_t	version;
	uint32_t	size;
	/* out */
	uint32_t	revision;
		/* DEAD_THREADS_ABI_REVISION of the driver */
	uint32_t	reserved;
		/* must be 0 */
} dead_threads_revision_request;


/* Revision 3: the join race. Each of N threads is spawned into the caller's
 * team and joined at once by the caller (a kernel joiner) with
 * wait_for_thread_etc(B_RELATIVE_TIMEOUT, join_timeout), retried while it
 * times out; the thread sleeps a little before it exits, so that its exit
 * falls into one of the timed waits. A join that returns B_BAD_THREAD_ID
 * after an earlier B_TIMED_OUT for the same thread lost its exit status:
 * the exit handed it to the waiter whose wait then timed out, and stored no
 * death entry. statuses_lost must be 0 on a kernel with the lossless
 * patches. */
typedef struct dead_threads_race_request {
	uint32_t	version;
	uint32_t	size;
	/* in */
	uint32_t	thread_count;
		/* 1 .. DEAD_THREADS_MAX_RACE_THREADS */
	uint32_t	join_timeout;
		/* microseconds per join attempt,
		 * 1 .. DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_RACE_JOIN_TIMEOUT */
	int64_t		exit_timeout;
		/* per thread: how long attempts are retried, microseconds,
		 * 0 .. DEAD_THREADS_MAX_EXIT_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_EXIT_TIMEOUT */
	/* out */
	int32_t		team;
	int32_t		spawn_error;
		/* B_OK, or why spawning stopped early (B_INTERRUPTED: the caller
		 * is being killed) */
	uint32_t	spawned;
	uint32_t	joined_ok;
		/* joins that returned B_OK */
	uint32_t	joined_after_timeout;
		/* of those, the ones after at least one B_TIMED_OUT (timing) */
	uint32_t	timeouts;
		/* join attempts that returned B_TIMED_OUT (timing) */
	uint32_t	statuses_lost;
		/* B_BAD_THREAD_ID after an earlier B_TIMED_OUT */
	uint32_t	joined_bad_thread_id;
		/* B_BAD_THREAD_ID at the first attempt */
	uint32_t	joined_other_error;
	int32_t		first_other_error;
	uint32_t	wrong_status;
		/* B_OK joins that returned another thread's exit status */
	uint32_t	still_alive;
		/* threads still timing out when exit_timeout had passed; they
		 * were then joined without a timeout */
	uint32_t	own_entries_after;
		/* entries of this scenario's threads left in the team's list */
	uint32_t	reserved;
		/* must be 0 */
	int64_t		race_time;
		/* microseconds for all spawns and joins */
} dead_threads_race_request;


/* The layout is the same on every architecture (32-bit Haiku included):
 * fixed-width fields only, 64-bit fields at offsets that are multiples of
 * 8, sizes that are multiples of 8. Changing any of it needs a new
 * DEAD_THREADS_ABI_VERSION. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#	define DEAD_THREADS_ABI_ASSERT(condition) \
		static_assert(condition, #condition)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) \
	&& __STDC_VERSION__ >= 201112L
#	define DEAD_THREADS_ABI_ASSERT(condition) \
		_Static_assert(condition, #condition)
#endif

#ifdef DEAD_THREADS_ABI_ASSERT
#	define DEAD_THREADS_ABI_OFFSET(type, field, offset) \
		DEAD_THREADS_ABI_ASSERT(__builtin_offsetof(type, field) == (offset))
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_entry) == 8);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_info_request) == 24);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_list_request) == 40);
DEAD_THREADS_ABI_OFFSET(dead_threads_list_request, entries, 16);
DEAD_THREADS_ABI_OFFSET(dead_threads_list_request, reserved, 36);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_scenario_request) == 112);
DEAD_THREADS_ABI_OFFSET(dead_threads_scenario_request, seed, 16);
DEAD_THREADS_ABI_OFFSET(dead_threads_scenario_request, exit_timeout, 24);
DEAD_THREADS_ABI_OFFSET(dead_threads_scenario_request, own_entries_after, 84);
DEAD_THREADS_ABI_OFFSET(dead_threads_scenario_request, spawn_time, 88);
DEAD_THREADS_ABI_OFFSET(dead_threads_scenario_request, join_time, 104);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_churn_request) == 96);
DEAD_THREADS_ABI_OFFSET(dead_threads_churn_request, exit_timeout, 24);
DEAD_THREADS_ABI_OFFSET(dead_threads_churn_request, joined_other_error, 84);
DEAD_THREADS_ABI_OFFSET(dead_threads_churn_request, churn_time, 88);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_join_cost_request) == 80);
DEAD_THREADS_ABI_OFFSET(dead_threads_join_cost_request, exit_timeout, 16);
DEAD_THREADS_ABI_OFFSET(dead_threads_join_cost_request, reserved, 60);
DEAD_THREADS_ABI_OFFSET(dead_threads_join_cost_request, forward_join_time,
	64);
DEAD_THREADS_ABI_OFFSET(dead_threads_join_cost_request, reverse_join_time,
	72);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_revision_request) == 16);
DEAD_THREADS_ABI_ASSERT(sizeof(dead_threads_race_request) == 88);
DEAD_THREADS_ABI_OFFSET(dead_threads_race_request, exit_timeout, 16);
DEAD_THREADS_ABI_OFFSET(dead_threads_race_request, reserved, 76);
DEAD_THREADS_ABI_OFFSET(dead_threads_race_request, race_time, 80);
#	undef DEAD_THREADS_ABI_OFFSET
#	undef DEAD_THREADS_ABI_ASSERT
#endif


#endif	/* _DEAD_THREADS_IOCTL_H */
