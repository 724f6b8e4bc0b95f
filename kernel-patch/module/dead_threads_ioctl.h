/*
 * dead_threads test module: ioctl ABI of /dev/misc/dead_threads.
 * Distributed under the terms of the MIT License.
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
 * uint64_t so the layout is the same for every architecture.
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

	/* Reserved for further in-kernel scenarios: a churn scenario (threads
	 * that keep dying while others join) and a join-cost scenario (time of
	 * wait_for_thread() as a function of the dead list length). Not
	 * implemented by version 1 of the driver, which answers
	 * B_DEV_INVALID_IOCTL like for any unknown opcode. */
	DEAD_THREADS_RESERVED_CHURN,
	DEAD_THREADS_RESERVED_JOIN_COST,

	DEAD_THREADS_OP_END
};

/* Caps enforced by the driver; larger requests get B_BAD_VALUE. */
#define DEAD_THREADS_MAX_LIST_ENTRIES		16384
#define DEAD_THREADS_MAX_SCENARIO_THREADS	2048

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
		/* microseconds, 0 .. DEAD_THREADS_MAX_EXIT_TIMEOUT;
		 * 0: DEAD_THREADS_DEFAULT_EXIT_TIMEOUT */
	/* out: threads */
	int32_t		team;
		/* the caller's team, into which the threads were spawned */
	uint32_t	spawned;
		/* threads spawned (thread_count unless spawning failed) */
	int32_t		spawn_error;
		/* B_OK, or why spawning stopped early */
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


#endif	/* _DEAD_THREADS_IOCTL_H */
