/*
 * Copyright 2026, dead-threads authors.
 * Distributed under the terms of the MIT License.
 */

/*!	The dead_threads test module.

	Publishes /dev/misc/dead_threads, through which root can read the thread
	death entries of a team (Team::dead_threads) and run in-kernel scenarios
	that fill and drain them; the ioctl ABI is in dead_threads_ioctl.h. Adds
	the KDL command "dead_threads".

	The module reads private kernel structures: it must be built from the
	same tree as the kernel it runs on.
*/


#include "dead_threads_ioctl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <Drivers.h>
#include <KernelExport.h>

#include <debug.h>
#include <kernel.h>
#include <lock.h>
#include <team.h>
#include <thread.h>
#include <thread_types.h>
#include <util/AutoLock.h>
#include <util/list.h>

#include <AutoDeleter.h>


//	#pragma mark - differences between the trees the module builds against


// TeamLocker moved from AutoLock.h to ThreadAutoLock.h in 2022.
#if defined(__has_include)
#	if __has_include(<util/ThreadAutoLock.h>)
#		include <util/ThreadAutoLock.h>
#	endif
#endif

// MAX_DEAD_THREADS is gone since hrev54540 (and with our legacy patch).
#ifdef MAX_DEAD_THREADS
#	define DEAD_THREADS_LIMIT	MAX_DEAD_THREADS
#else
#	define DEAD_THREADS_LIMIT	DEAD_THREADS_LIMIT_UNLIMITED
#endif

// THREAD_CREATION_FLAG_DETACHED and thread_detach() come with the lossless
// series. Without them the churn scenario cannot tell the kernel, and its
// threads keep their entries, as detached pthreads do there.
#ifdef THREAD_CREATION_FLAG_DETACHED
#	define DEAD_THREADS_KERNEL_DETACH	1
#else
#	define DEAD_THREADS_KERNEL_DETACH	0
#endif


/*!	is_user_address_range() for trees before 2023, which lack it. Where the
	tree has it, its non-template function wins overload resolution.
*/
template<typename Size>
static inline bool
is_user_address_range(const void* address, Size size)
{
	addr_t start = (addr_t)address;
	return start + size >= start && IS_USER_ADDRESS(start)
		&& IS_USER_ADDRESS(start + size - 1);
}


/*!	Team::dead_threads is a "struct list" up to early 2025 and a
	DoublyLinkedList (ThreadDeathEntryList) since; the compiler picks the
	matching specialization. The module never touches dead_threads_count
	(our legacy patch removes it).
*/
template<typename List>
struct DeathList {
	static thread_death_entry* First(List& list)
		{ return list.First(); }
	static thread_death_entry* Next(List& list, thread_death_entry* entry)
		{ return list.GetNext(entry); }
	static const uint32 kKind = DEAD_THREADS_LIST_KIND_DOUBLY_LINKED;
};


template<>
struct DeathList<struct list> {
	static thread_death_entry* First(struct list& list)
		{ return (thread_death_entry*)list_get_first_item(&list); }
	static thread_death_entry* Next(struct list& list,
			thread_death_entry* entry)
		{ return (thread_death_entry*)list_get_next_item(&list, entry); }
	static const uint32 kKind = DEAD_THREADS_LIST_KIND_LIST;
};


template<typename List>
static inline thread_death_entry*
first_death_entry(List& list)
{
	return DeathList<List>::First(list);
}


template<typename List>
static inline thread_death_entry*
next_death_entry(List& list, thread_death_entry* entry)
{
	return DeathList<List>::Next(list, entry);
}


template<typename List>
static inline uint32
death_list_kind(const List&)
{
	return DeathList<List>::kKind;
}


//	#pragma mark - globals


STATIC_ASSERT(DEAD_THREADS_OP_BASE == B_DEVICE_OP_CODES_END + 1);
STATIC_ASSERT(sizeof(thread_id) == sizeof(int32_t));
STATIC_ASSERT(sizeof(status_t) == sizeof(int32_t));
STATIC_ASSERT(sizeof(bigtime_t) == sizeof(int64_t));

// The KDL command stops at this many entries: the list looks corrupt then.
static const uint32 kMaxDebuggerEntries = 1 << 20;

// Slice of the waits for threads the module spawned (see join_spawned()).
static const bigtime_t kJoinSlice = 100000;

int32 api_version = B_CUR_DRIVER_API_VERSION;

// Serializes the scenarios: two of them in one team would see each other's
// entries in the team-wide counts. A second caller gets B_BUSY.
static mutex sScenarioLock;


//	#pragma mark - dead list access


static int
compare_thread_ids(const void* _a, const void* _b)
{
	thread_id a = *(const thread_id*)_a;
	thread_id b = *(const thread_id*)_b;
	return a < b ? -1 : (a > b ? 1 : 0);
}


/*!	Counts the team's dead list and copies up to \a capacity of its entries,
	oldest first, to \a buffer; counts in \a _own those of the threads in
	\a sorted (ascending ids, may be NULL). Locks the team.
	\return The length of the whole list.
*/
static uint32
read_dead_list(Team* team, dead_threads_entry* buffer, uint32 capacity,
	const thread_id* sorted, uint32 sortedCount, uint32* _own)
{
	TeamLocker teamLocker(team);

	uint32 count = 0;
	uint32 own = 0;
	for (thread_death_entry* entry = first_death_entry(team->dead_threads);
			entry != NULL;
			entry = next_death_entry(team->dead_threads, entry), count++) {
		if (count < capacity) {
			buffer[count].thread = entry->thread;
			buffer[count].status = entry->status;
		}
		if (sorted != NULL && bsearch(&entry->thread, sorted, sortedCount,
				sizeof(thread_id), &compare_thread_ids) != NULL) {
			own++;
		}
	}

	if (_own != NULL)
		*_own = own;
	return count;
}


//	#pragma mark - scenario threads


/*!	Entry of the scenario threads: kernel threads, but in the caller's (user)
	team. thread_exit() stores a death entry for any thread of a user team
	that is not its main thread, whether or not it ever ran in userland; the
	kernel spawns its debug nub thread into user teams the same way.

	The kernel ignores a kernel thread's return value, and exit_thread() in a
	user team only sends SIGKILLTHR, which a thread that never returns to
	userland does not handle. So the thread sets its exit status the way
	exit_thread() does and returns; common_thread_entry() then calls
	thread_exit().
*/
static status_t
scenario_thread(void* data)
{
	thread_get_current_thread()->exit.status = (status_t)(addr_t)data;
	return B_OK;
}


struct race_thread_args {
	status_t	status;
	bigtime_t	delay;
};


/*!	Entry of the race scenario's threads: sleeps \c delay, so that the exit
	falls into one of the joiner's timed waits, and exits with \c status.
	\a data points to the joiner's stack; it is read before anything else,
	and the joiner keeps it until the thread has exited.
*/
static status_t
race_thread(void* data)
{
	race_thread_args args = *(const race_thread_args*)data;
	snooze(args.delay);
	thread_get_current_thread()->exit.status = args.status;
	return B_OK;
}


static bool
caller_is_killed()
{
	return thread_is_interrupted(thread_get_current_thread(),
		B_KILL_CAN_INTERRUPT);
}


/*!	Waits for a thread the module spawned until it is gone, and returns
	wait_for_thread_etc()'s result. This wait cannot be interrupted: the
	module must not return while its code still runs in a thread. A scenario
	thread runs a few instructions and sleeps at most
	2 * DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT, so each wait is bounded by
	kJoinSlice and only a thread that did not get the CPU needs a second
	one; it then gets a priority above every normal thread.
*/
static status_t
join_spawned(thread_id thread, status_t& _exitStatus)
{
	while (true) {
		status_t result = wait_for_thread_etc(thread, B_RELATIVE_TIMEOUT,
			kJoinSlice, &_exitStatus);
		if (result != B_TIMED_OUT)
			return result;
		set_thread_priority(thread, B_URGENT_DISPLAY_PRIORITY);
	}
}


//	#pragma mark - scenario runs


/*!	What every scenario shares. \c batch threads are alive at once;
	\c exitTimeout is per batch (per thread in the race scenario).
	\c threads and \c sorted (scratch) have \c count entries; a thread
	joined early (a straggler) is -1 in \c threads. \c error is B_OK, the
	spawn error, or B_INTERRUPTED.
*/
struct scenario_run {
	uint32		count;
	uint32		batch;
	bigtime_t	exitTimeout;

	Team*		team;
	team_id		teamID;
	thread_id*	threads;
	thread_id*	sorted;
	uint32		spawned;
	uint32		stillAlive;
	status_t	error;
	bigtime_t	spawnTime;
	bigtime_t	exitTime;
};


/*!	\a batch and \a exitTimeout of 0 mean the defaults. */
static status_t
init_run(scenario_run& run, uint32 count, uint32 maxCount, uint32 batch,
	int64 exitTimeout)
{
	if (count == 0 || count > maxCount || batch > DEAD_THREADS_MAX_BATCH
		|| exitTimeout < 0 || exitTimeout > DEAD_THREADS_MAX_EXIT_TIMEOUT) {
		return B_BAD_VALUE;
	}

	run.count = count;
	run.batch = batch != 0 ? batch : DEAD_THREADS_DEFAULT_BATCH;
	run.exitTimeout = exitTimeout != 0
		? exitTimeout : DEAD_THREADS_DEFAULT_EXIT_TIMEOUT;
	return B_OK;
}


/*!	Spawns thread \a index of the run into the caller's team, suspended,
	unless the caller is being killed. Sets run.error when it does not.
*/
static thread_id
spawn_thread_of(scenario_run& run, thread_func entry, void* data,
	uint32 index, uint32 flags, const char* what)
{
	if (caller_is_killed()) {
		run.error = B_INTERRUPTED;
		return B_INTERRUPTED;
	}

	char name[B_OS_NAME_LENGTH];
	snprintf(name, sizeof(name), "dead_threads %s %" B_PRIu32, what, index);

	ThreadCreationAttributes attributes(entry, name, B_NORMAL_PRIORITY, data,
		run.teamID);
	attributes.flags = flags;
	thread_id thread = thread_create_thread(attributes, true);
	if (thread < 0)
		run.error = thread;
	return thread;
}


/*!	Spawns the run's next batch (thread i exits with
	DEAD_THREADS_SCENARIO_STATUS(i)) and waits until it has left the thread
	table, at most run.exitTimeout and only while the caller is not killed.
	With \a joinStragglers, the threads still alive then are joined and set
	to -1 in run.threads. Sets run.error when spawning stops early.
	\return The number of threads spawned.
*/
static uint32
spawn_batch(scenario_run& run, uint32 flags, const char* what,
	bool joinStragglers)
{
	thread_id* threads = run.threads + run.spawned;
	uint32 count = min_c(run.batch, run.count - run.spawned);
	uint32 spawned = 0;
	bigtime_t start = system_time();
	for (; spawned < count; spawned++) {
		uint32 index = run.spawned + spawned;
		thread_id thread = spawn_thread_of(run, &scenario_thread,
			(void*)(addr_t)DEAD_THREADS_SCENARIO_STATUS(index), index, flags,
			what);
		if (thread < 0)
			break;
		threads[spawned] = thread;
		resume_thread(thread);
	}
	run.spawned += spawned;

	bigtime_t exitStart = system_time();
	run.spawnTime += exitStart - start;
	bigtime_t deadline = exitStart + run.exitTimeout;
	uint32 next = 0;
	while (next < spawned && system_time() < deadline && !caller_is_killed()) {
		if (Thread::IsAlive(threads[next]))
			snooze(1000);
		else
			next++;
	}

	for (uint32 i = next; i < spawned; i++) {
		if (!Thread::IsAlive(threads[i]))
			continue;
		run.stillAlive++;
		if (joinStragglers) {
			status_t exitStatus;
			join_spawned(threads[i], exitStatus);
			threads[i] = -1;
		}
	}
	run.exitTime += system_time() - exitStart;

	return spawned;
}


/*!	Counts the team's entries of the first \a count of \a threads (sorted
	into run.sorted); \a _total receives the whole list's length. (The ABI's
	uint32_t is not uint32 on every 32-bit tree: unsigned int and unsigned
	long.)
*/
static uint32
count_own_entries(scenario_run& run, const thread_id* threads, uint32 count,
	uint32_t* _total = NULL)
{
	memcpy(run.sorted, threads, count * sizeof(thread_id));
	qsort(run.sorted, count, sizeof(thread_id), &compare_thread_ids);

	uint32 own;
	uint32 total = read_dead_list(run.team, NULL, 0, run.sorted, count, &own);
	if (_total != NULL)
		*_total = total;
	return own;
}


//	#pragma mark - the scenarios


/*!	splitmix64: small, good enough for a permutation, and the same sequence
	for the same seed on every architecture.
*/
static uint64
next_random(uint64& state)
{
	uint64 value = (state += 0x9e3779b97f4a7c15ULL);
	value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
	value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
	return value ^ (value >> 31);
}


static status_t
check_scenario(dead_threads_scenario_request& request, scenario_run& run)
{
	if (request.order != DEAD_THREADS_ORDER_FORWARD
		&& request.order != DEAD_THREADS_ORDER_REVERSE
		&& request.order != DEAD_THREADS_ORDER_SHUFFLED) {
		return B_BAD_VALUE;
	}
	return init_run(run, request.thread_count,
		DEAD_THREADS_MAX_SCENARIO_THREADS, 0, request.exit_timeout);
}


/*!	The kernel scenario: spawns the threads, each exiting with a distinct
	status, in batches that each leave the thread table before the next is
	spawned; then joins every thread with wait_for_thread() in the requested
	order and counts the results and the team's entries.
*/
static void
run_scenario(dead_threads_scenario_request& request, scenario_run& run)
{
	uint64 seed = 0;
	if (request.order == DEAD_THREADS_ORDER_SHUFFLED)
		seed = request.seed != 0 ? request.seed : (uint64)system_time() | 1;

	request.entries_before = read_dead_list(run.team, NULL, 0, NULL, 0, NULL);

	while (run.spawned < run.count && run.error == B_OK)
		spawn_batch(run, 0, "scenario", false);
	request.spawn_time = run.spawnTime;
	request.exit_time = run.exitTime;

	uint32 spawned = run.spawned;
	request.own_entries_exited = count_own_entries(run, run.threads, spawned,
		&request.entries_exited);

	// The join order, in run.sorted (reused as indices): spawn order,
	// reversed, or a Fisher-Yates permutation.
	uint32* order = (uint32*)run.sorted;
	for (uint32 i = 0; i < spawned; i++) {
		order[i] = request.order == DEAD_THREADS_ORDER_REVERSE
			? spawned - 1 - i : i;
	}
	uint64 state = seed;
	for (uint32 i = spawned; request.order == DEAD_THREADS_ORDER_SHUFFLED
			&& i > 1; i--) {
		uint32 j = (uint32)(next_random(state) % i);
		uint32 swap = order[i - 1];
		order[i - 1] = order[j];
		order[j] = swap;
	}

	bigtime_t start = system_time();
	for (uint32 k = 0; k < spawned; k++) {
		uint32 index = order[k];
		status_t exitStatus = B_OK;
		status_t result = join_spawned(run.threads[index], exitStatus);
		if (result == B_OK) {
			request.joined_ok++;
			if (exitStatus != DEAD_THREADS_SCENARIO_STATUS(index))
				request.wrong_status++;
		} else if (result == B_BAD_THREAD_ID) {
			request.joined_bad_thread_id++;
		} else if (request.joined_other_error++ == 0)
			request.first_other_error = result;
	}
	request.join_time = system_time() - start;

	request.own_entries_after = count_own_entries(run, run.threads, spawned,
		&request.entries_after);
	request.seed = seed;
	request.spawned = spawned;
	request.still_alive = run.stillAlive;
}


static status_t
check_churn(dead_threads_churn_request& request, scenario_run& run)
{
	if (request.reserved != 0
		|| (request.detach != DEAD_THREADS_DETACH_AT_CREATION
			&& request.detach != DEAD_THREADS_DETACH_AFTER_EXIT)) {
		return B_BAD_VALUE;
	}
	return init_run(run, request.thread_count, DEAD_THREADS_MAX_CHURN_THREADS,
		request.batch, request.exit_timeout);
}


/*!	The churn scenario: detached threads are created and exit, batch by
	batch. After each batch, the team's entries of its threads are counted;
	they must be 0 on a kernel that knows detached threads. At the end every
	thread is waited for once, which must fail with B_BAD_THREAD_ID and frees
	whatever a kernel without detached threads kept.
*/
static void
run_churn(dead_threads_churn_request& request, scenario_run& run)
{
	uint32 flags = 0;
#if DEAD_THREADS_KERNEL_DETACH
	if (request.detach == DEAD_THREADS_DETACH_AT_CREATION)
		flags = THREAD_CREATION_FLAG_DETACHED;
#endif

	request.entries_before = read_dead_list(run.team, NULL, 0, NULL, 0, NULL);

	bigtime_t start = system_time();
	while (run.spawned < run.count && run.error == B_OK) {
		thread_id* threads = run.threads + run.spawned;
		uint32 spawned = spawn_batch(run, flags, "churn", true);

#if DEAD_THREADS_KERNEL_DETACH
		// Stragglers were joined already (-1): they are not detached.
		for (uint32 i = 0; request.detach == DEAD_THREADS_DETACH_AFTER_EXIT
				&& i < spawned; i++) {
			status_t error = threads[i] >= 0 ? thread_detach(threads[i]) : B_OK;
			if (error != B_OK && request.detach_errors++ == 0)
				request.first_detach_error = error;
		}
#endif

		uint32 own = count_own_entries(run, threads, spawned);
		if (own > request.own_entries_max)
			request.own_entries_max = own;
	}
	request.churn_time = system_time() - start;

	request.own_entries_after = count_own_entries(run, run.threads,
		run.spawned, &request.entries_after);

	for (uint32 i = 0; i < run.spawned; i++) {
		status_t exitStatus;
		status_t result = join_spawned(run.threads[i], exitStatus);
		if (result == B_OK)
			request.joined_ok++;
		else if (result == B_BAD_THREAD_ID)
			request.joined_bad_thread_id++;
		else
			request.joined_other_error++;
	}

	request.kernel_support = DEAD_THREADS_KERNEL_DETACH
		? DEAD_THREADS_DETACH_SUPPORTED : DEAD_THREADS_DETACH_UNSUPPORTED;
	request.spawned = run.spawned;
	request.still_alive = run.stillAlive;
}


static status_t
check_join_cost(dead_threads_join_cost_request& request, scenario_run& run)
{
	if (request.reserved != 0)
		return B_BAD_VALUE;
	return init_run(run, request.thread_count,
		DEAD_THREADS_MAX_JOIN_COST_THREADS, request.batch,
		request.exit_timeout);
}


struct join_cost_phase {
	bool		reverse;
	uint32_t*	spawned;
	uint32_t*	joinedOK;
	uint32_t*	failed;
	int64_t*	joinTime;
};


/*!	The join-cost scenario: N dead threads joined oldest first, then N more
	joined newest first, each join phase timed. Upstream walks the dead list
	from its oldest entry, so a reverse join costs O(N) there and O(1) with
	the modern series' index. Entries the team had before sit before ours
	and count too.
*/
static void
run_join_cost(dead_threads_join_cost_request& request, scenario_run& run)
{
	const join_cost_phase phases[] = {
		{ false, &request.forward_spawned, &request.forward_joined_ok,
			&request.forward_failed, &request.forward_join_time },
		{ true, &request.reverse_spawned, &request.reverse_joined_ok,
			&request.reverse_failed, &request.reverse_join_time },
	};

	for (size_t p = 0; p < B_COUNT_OF(phases) && run.error == B_OK; p++) {
		const join_cost_phase& phase = phases[p];
		run.spawned = 0;
		while (run.spawned < run.count && run.error == B_OK)
			spawn_batch(run, 0, "join cost", false);

		bigtime_t start = system_time();
		for (uint32 k = 0; k < run.spawned; k++) {
			uint32 index = phase.reverse ? run.spawned - 1 - k : k;
			status_t exitStatus = B_OK;
			status_t result = join_spawned(run.threads[index], exitStatus);
			if (result == B_OK
				&& exitStatus == DEAD_THREADS_SCENARIO_STATUS(index)) {
				(*phase.joinedOK)++;
			} else
				(*phase.failed)++;
		}
		*phase.joinTime = system_time() - start;
		*phase.spawned = run.spawned;
	}

	request.still_alive = run.stillAlive;
}


static status_t
check_race(dead_threads_race_request& request, scenario_run& run)
{
	if (request.reserved != 0
		|| request.join_timeout > DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT) {
		return B_BAD_VALUE;
	}
	if (request.join_timeout == 0)
		request.join_timeout = DEAD_THREADS_DEFAULT_RACE_JOIN_TIMEOUT;
	return init_run(run, request.thread_count, DEAD_THREADS_MAX_RACE_THREADS,
		1, request.exit_timeout);
}


/*!	The join race: each thread is spawned suspended and joined at once with
	timed waits, retried while they time out (the first wait resumes the
	thread). The thread sleeps 0 to 7/4 of a wait before exiting, so its exit
	often coincides with the end of a wait. A kernel that hands the status to
	a queued waiter and stores no entry, and then lets that waiter time out,
	has lost the status: the next attempt gets B_BAD_THREAD_ID.
*/
static void
run_race(dead_threads_race_request& request, scenario_run& run)
{
	bigtime_t timeout = request.join_timeout;

	bigtime_t start = system_time();
	for (uint32 i = 0; i < run.count; i++) {
		race_thread_args args = { DEAD_THREADS_SCENARIO_STATUS(i),
			(bigtime_t)(i % 8) * timeout / 4 };
		thread_id thread = spawn_thread_of(run, &race_thread, &args, i, 0,
			"race");
		if (thread < 0)
			break;
		run.threads[run.spawned++] = thread;

		bigtime_t deadline = system_time() + run.exitTimeout;
		bool timedOut = false;
		status_t exitStatus = B_OK;
		status_t result;
		while (true) {
			result = wait_for_thread_etc(thread, B_RELATIVE_TIMEOUT, timeout,
				&exitStatus);
			if (result != B_TIMED_OUT)
				break;
			request.timeouts++;
			timedOut = true;
			if (system_time() >= deadline) {
				// args must outlive the thread
				run.stillAlive++;
				result = join_spawned(thread, exitStatus);
				break;
			}
		}

		if (result == B_OK) {
			request.joined_ok++;
			if (timedOut)
				request.joined_after_timeout++;
			if (exitStatus != args.status)
				request.wrong_status++;
		} else if (result == B_BAD_THREAD_ID) {
			if (timedOut)
				request.statuses_lost++;
			else
				request.joined_bad_thread_id++;
		} else {
			if (request.joined_other_error++ == 0)
				request.first_other_error = result;
			// args must outlive the thread
			join_spawned(thread, exitStatus);
		}
	}
	request.race_time = system_time() - start;

	request.own_entries_after = count_own_entries(run, run.threads,
		run.spawned);
	request.spawned = run.spawned;
	request.still_alive = run.stillAlive;
}


//	#pragma mark - requests


/*!	Copies a request from userland and checks its version and size. Version
	and size are read first, so that a request of another version is never
	read beyond its own end.
*/
template<typename Request>
static status_t
copy_request_from_user(Request& request, const void* buffer)
{
	struct {
		uint32_t	version;
		uint32_t	size;
	} header;

	if (buffer == NULL || !is_user_address_range(buffer, sizeof(header))
		|| user_memcpy(&header, buffer, sizeof(header)) != B_OK) {
		return B_BAD_ADDRESS;
	}
	if (header.version != DEAD_THREADS_ABI_VERSION)
		return B_NOT_SUPPORTED;
	if (header.size != sizeof(Request))
		return B_BAD_VALUE;
	if (!is_user_address_range(buffer, sizeof(Request))
		|| user_memcpy(&request, buffer, sizeof(Request)) != B_OK) {
		return B_BAD_ADDRESS;
	}

	return B_OK;
}


static status_t
get_info(dead_threads_info_request& request)
{
	request.limit = DEAD_THREADS_LIMIT;
	request.list_kind = death_list_kind(team_get_kernel_team()->dead_threads);
	request.max_list_entries = DEAD_THREADS_MAX_LIST_ENTRIES;
	request.max_scenario_threads = DEAD_THREADS_MAX_SCENARIO_THREADS;
	return B_OK;
}


static status_t
get_revision(dead_threads_revision_request& request)
{
	if (request.reserved != 0)
		return B_BAD_VALUE;
	request.revision = DEAD_THREADS_ABI_REVISION;
	return B_OK;
}


static status_t
get_dead_list(dead_threads_list_request& request)
{
	if (request.capacity > DEAD_THREADS_MAX_LIST_ENTRIES
		|| request.reserved != 0) {
		return B_BAD_VALUE;
	}

	size_t bufferSize = request.capacity * sizeof(dead_threads_entry);
	void* entries = (void*)(addr_t)request.entries;
	if (bufferSize > 0 && ((uint64)(addr_t)entries != request.entries
			|| !is_user_address_range(entries, bufferSize))) {
		return B_BAD_ADDRESS;
	}

	dead_threads_entry* buffer = NULL;
	if (bufferSize > 0) {
		buffer = (dead_threads_entry*)malloc(bufferSize);
		if (buffer == NULL)
			return B_NO_MEMORY;
	}
	MemoryDeleter bufferDeleter(buffer);

	team_id teamID = request.team != 0
		? request.team : team_get_current_team_id();
	Team* team = Team::Get(teamID);
	if (team == NULL)
		return B_BAD_TEAM_ID;
	BReference<Team> teamReference(team, true);

	// read under the team's lock, write to userland after it (may fault)
	uint32 count = read_dead_list(team, buffer, request.capacity, NULL, 0,
		NULL);
	uint32 returned = min_c(count, request.capacity);
	if (returned > 0 && user_memcpy(entries, buffer,
			returned * sizeof(dead_threads_entry)) != B_OK) {
		return B_BAD_ADDRESS;
	}

	request.resolved_team = team->id;
	request.count = count;
	request.returned = returned;
	return B_OK;
}


/*!	Copies the request in, runs \a handler on it and copies the result
	out if the handler succeeded.
*/
template<typename Request>
static status_t
handle_request(void* buffer, status_t (*handler)(Request&))
{
	Request request;
	status_t status = copy_request_from_user(request, buffer);
	if (status == B_OK)
		status = handler(request);
	if (status == B_OK
		&& user_memcpy(buffer, &request, sizeof(Request)) != B_OK) {
		status = B_BAD_ADDRESS;
	}
	return status;
}


/*!	The one path of every scenario: copy the request in, validate it with
	\a check (refused requests are not copied back), allocate, take the
	scenario lock (B_BUSY while another scenario runs), \a run it in the
	caller's team, and copy the request with the results out, also when
	spawning stopped early. Every thread the scenario spawned is gone when
	\a run returns.
	\return B_OK, or why the scenario stopped early (the spawn error, or
		B_INTERRUPTED when the caller is being killed).
*/
template<typename Request>
static status_t
handle_scenario(void* buffer, status_t (*check)(Request&, scenario_run&),
	void (*run)(Request&, scenario_run&))
{
	Request request;
	status_t status = copy_request_from_user(request, buffer);
	if (status != B_OK)
		return status;

	scenario_run scenario = {};
	status = check(request, scenario);
	if (status != B_OK)
		return status;

	// every request's results start with "team"
	memset(&request.team, 0, sizeof(Request) - offsetof(Request, team));

	size_t size = scenario.count * sizeof(thread_id);
	scenario.threads = (thread_id*)malloc(size);
	scenario.sorted = (thread_id*)malloc(size);
	MemoryDeleter threadsDeleter(scenario.threads);
	MemoryDeleter sortedDeleter(scenario.sorted);
	if (scenario.threads == NULL || scenario.sorted == NULL)
		return B_NO_MEMORY;

	if (mutex_trylock(&sScenarioLock) != B_OK)
		return B_BUSY;
	MutexLocker scenarioLocker(sScenarioLock, true);

	scenario.team = thread_get_current_thread()->team;
	BReference<Team> teamReference(scenario.team);
	scenario.teamID = scenario.team->id;

	request.team = scenario.teamID;
	run(request, scenario);
	request.spawn_error = scenario.error;

	scenarioLocker.Unlock();

	status = user_memcpy(buffer, &request, sizeof(Request)) == B_OK
		? B_OK : B_BAD_ADDRESS;
	return scenario.error != B_OK ? scenario.error : status;
}


//	#pragma mark - kernel debugger


static int
dump_dead_threads(int argc, char** argv)
{
	if (argc > 2) {
		print_debugger_command_usage(argv[0]);
		return 0;
	}

	// No lock may be taken in the kernel debugger; the other CPUs are
	// halted, so the team and its list are read as the kernel's own
	// commands read them.
	Team* team = NULL;
	if (argc == 2) {
		team_id id = (team_id)parse_expression(argv[1]);
		team = team_get_team_struct_locked(id);
		if (team == NULL) {
			kprintf("dead_threads: no team with ID %" B_PRId32 "\n", id);
			return 0;
		}
	} else {
		Thread* thread = thread_get_current_thread();
		team = thread != NULL ? thread->team : NULL;
		if (team == NULL) {
			kprintf("dead_threads: no current team\n");
			return 0;
		}
	}

	kprintf("dead threads of team %" B_PRId32 " (%s):\n", team->id,
		team->Name());
	kprintf("  thread      status\n");

	uint32 count = 0;
	for (thread_death_entry* entry = first_death_entry(team->dead_threads);
			entry != NULL;
			entry = next_death_entry(team->dead_threads, entry), count++) {
		if (!IS_KERNEL_ADDRESS(entry) || count >= kMaxDebuggerEntries) {
			kprintf("dead_threads: the list looks corrupt: entry %" B_PRIu32
				" is at %p; stopped\n", count, entry);
			return 0;
		}
		kprintf("  %7" B_PRId32 "  %#10" B_PRIx32 "\n", entry->thread,
			(uint32)entry->status);
	}

	if (DEAD_THREADS_LIMIT == DEAD_THREADS_LIMIT_UNLIMITED)
		kprintf("%" B_PRIu32 " entries (no limit)\n", count);
	else {
		kprintf("%" B_PRIu32 " entries (limit %" B_PRIu32 ")\n", count,
			(uint32)DEAD_THREADS_LIMIT);
	}
	return 0;
}


//	#pragma mark - device hooks


static status_t
dead_threads_open(const char* name, uint32 flags, void** _cookie)
{
	*_cookie = NULL;
	return geteuid() == 0 ? B_OK : B_PERMISSION_DENIED;
}


/*!	The close and the free hook: there is no cookie. */
static status_t
dead_threads_close(void* cookie)
{
	return B_OK;
}


static status_t
dead_threads_control(void* cookie, uint32 op, void* buffer, size_t length)
{
	// A descriptor inherited by or passed to another process works only
	// for root as well.
	if (geteuid() != 0)
		return B_PERMISSION_DENIED;

	switch (op) {
		case DEAD_THREADS_GET_INFO:
			return handle_request<dead_threads_info_request>(buffer,
				&get_info);
		case DEAD_THREADS_GET_DEAD_LIST:
			return handle_request<dead_threads_list_request>(buffer,
				&get_dead_list);
		case DEAD_THREADS_GET_REVISION:
			return handle_request<dead_threads_revision_request>(buffer,
				&get_revision);
		case DEAD_THREADS_RUN_SCENARIO:
			return handle_scenario<dead_threads_scenario_request>(buffer,
				&check_scenario, &run_scenario);
		case DEAD_THREADS_RUN_CHURN:
			return handle_scenario<dead_threads_churn_request>(buffer,
				&check_churn, &run_churn);
		case DEAD_THREADS_RUN_JOIN_COST:
			return handle_scenario<dead_threads_join_cost_request>(buffer,
				&check_join_cost, &run_join_cost);
		case DEAD_THREADS_RUN_RACE:
			return handle_scenario<dead_threads_race_request>(buffer,
				&check_race, &run_race);
	}

	return B_DEV_INVALID_IOCTL;
}


static status_t
dead_threads_read(void* cookie, off_t position, void* buffer,
	size_t* _length)
{
	*_length = 0;
	return B_NOT_ALLOWED;
}


static status_t
dead_threads_write(void* cookie, off_t position, const void* buffer,
	size_t* _length)
{
	*_length = 0;
	return B_NOT_ALLOWED;
}


//	#pragma mark - driver API


status_t
init_hardware(void)
{
	return B_OK;
}


status_t
init_driver(void)
{
	mutex_init(&sScenarioLock, "dead_threads scenario");

	add_debugger_command_etc("dead_threads", &dump_dead_threads,
		"Prints the thread death entries of a team",
		"[ <team> ]\n"
		"Prints the death entries (threads that exited and were not waited\n"
		"for yet) of the given team, or of the current team.\n"
		"  <team>  - The ID of the team.\n", 0);
	return B_OK;
}


void
uninit_driver(void)
{
	remove_debugger_command("dead_threads", &dump_dead_threads);
	mutex_destroy(&sScenarioLock);
}


const char**
publish_devices(void)
{
	static const char* devices[] = {
		"misc/" DEAD_THREADS_DEVICE_NAME,
		NULL
	};
	return devices;
}


device_hooks*
find_device(const char* name)
{
	static device_hooks hooks = {
		&dead_threads_open,
		&dead_threads_close,
		&dead_threads_close,
		&dead_threads_control,
		&dead_threads_read,
		&dead_threads_write,
	};
	return &hooks;
}
