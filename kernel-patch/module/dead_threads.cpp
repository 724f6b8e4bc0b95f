/*
 * dead_threads test module.
 * Distributed under the terms of the MIT License.
 *
 * Publishes /dev/misc/dead_threads, through which root can look at the
 * thread death entries of a team (Team::dead_threads) and run an in-kernel
 * scenario that fills and drains them. The ioctl ABI is in
 * dead_threads_ioctl.h. It also adds the KDL command "dead_threads".
 */


#include "dead_threads_ioctl.h"

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
#if defined(__has_include)
#	if __has_include(<util/ThreadAutoLock.h>)
		// TeamLocker moved here from AutoLock.h in 2022
#		include <util/ThreadAutoLock.h>
#	endif
#endif

#include <AutoDeleter.h>


//#define TRACE_DEAD_THREADS
#ifdef TRACE_DEAD_THREADS
#	define TRACE(x...) dprintf("dead_threads: " x)
#else
#	define TRACE(x...) ;
#endif


STATIC_ASSERT(DEAD_THREADS_OP_BASE == B_DEVICE_OP_CODES_END + 1);
STATIC_ASSERT(sizeof(thread_id) == sizeof(int32_t));
STATIC_ASSERT(sizeof(status_t) == sizeof(int32_t));
STATIC_ASSERT(sizeof(bigtime_t) == sizeof(int64_t));


static status_t dead_threads_open(const char*, uint32, void**);
static status_t dead_threads_close(void*);
static status_t dead_threads_free(void*);
static status_t dead_threads_control(void*, uint32, void*, size_t);
static status_t dead_threads_read(void*, off_t, void*, size_t*);
static status_t dead_threads_write(void*, off_t, const void*, size_t*);


static const char* sDeviceNames[] = {
	"misc/" DEAD_THREADS_DEVICE_NAME,
	NULL
};

static device_hooks sDeviceHooks = {
	dead_threads_open,
	dead_threads_close,
	dead_threads_free,
	dead_threads_control,
	dead_threads_read,
	dead_threads_write,
};

int32 api_version = B_CUR_DRIVER_API_VERSION;

// Serializes scenarios: two of them in the same team would see each other's
// entries in the team-wide counts, and each may use a good part of the
// system's thread limit.
static mutex sScenarioLock;


//	#pragma mark - dead list access


/*	Team::dead_threads has been a "struct list" (with a separate
	dead_threads_count up to hrev54540) and is a DoublyLinkedList
	(ThreadDeathEntryList) in current trees. DeathListAccess is specialized
	for the former; the primary template serves the latter and is only
	instantiated for it. The compiler thus picks the right one for the tree
	the module is built against. The module never touches dead_threads_count:
	our legacy patch removes it.
*/
template<typename List>
struct DeathListAccess {
	static thread_death_entry* First(List& list)
	{
		return list.First();
	}

	static thread_death_entry* Next(List& list, thread_death_entry* entry)
	{
		return list.GetNext(entry);
	}

	static const uint32 kKind = DEAD_THREADS_LIST_KIND_DOUBLY_LINKED;
};


template<>
struct DeathListAccess<struct list> {
	static thread_death_entry* First(struct list& list)
	{
		return (thread_death_entry*)list_get_first_item(&list);
	}

	static thread_death_entry* Next(struct list& list,
		thread_death_entry* entry)
	{
		return (thread_death_entry*)list_get_next_item(&list, entry);
	}

	static const uint32 kKind = DEAD_THREADS_LIST_KIND_LIST;
};


template<typename List>
static inline thread_death_entry*
first_death_entry(List& list)
{
	return DeathListAccess<List>::First(list);
}


template<typename List>
static inline thread_death_entry*
next_death_entry(List& list, thread_death_entry* entry)
{
	return DeathListAccess<List>::Next(list, entry);
}


template<typename List>
static inline uint32
death_list_kind(const List&)
{
	return DeathListAccess<List>::kKind;
}


/*!	The limit on the number of death entries per team that the kernel headers
	this module was built against define, or DEAD_THREADS_LIMIT_UNLIMITED.
	This is the running kernel's limit when module and kernel are built from
	the same tree, as in an image built with jam.
*/
static uint32
dead_threads_limit()
{
#ifdef MAX_DEAD_THREADS
	return MAX_DEAD_THREADS;
#else
	return DEAD_THREADS_LIMIT_UNLIMITED;
#endif
}


/*!	Copies up to \a capacity entries of the team's dead list, oldest first,
	to \a buffer and returns the length of the whole list.
	The caller must hold the team's lock (or be the kernel debugger).
*/
static uint32
copy_dead_list(Team* team, dead_threads_entry* buffer, uint32 capacity)
{
	uint32 count = 0;
	for (thread_death_entry* entry = first_death_entry(team->dead_threads);
			entry != NULL;
			entry = next_death_entry(team->dead_threads, entry)) {
		if (count < capacity) {
			buffer[count].thread = entry->thread;
			buffer[count].status = entry->status;
		}
		count++;
	}

	return count;
}


static bool
is_in_sorted(const thread_id* sorted, uint32 count, thread_id id)
{
	uint32 lower = 0;
	uint32 upper = count;
	while (lower < upper) {
		uint32 middle = lower + (upper - lower) / 2;
		if (sorted[middle] == id)
			return true;
		if (sorted[middle] < id)
			lower = middle + 1;
		else
			upper = middle;
	}

	return false;
}


/*!	Counts the entries of the team's dead list, and among them those of the
	threads in \a sorted (ascending ids). Locks the team.
*/
static void
count_dead_entries(Team* team, const thread_id* sorted, uint32 sortedCount,
	uint32& _total, uint32& _own)
{
	TeamLocker teamLocker(team);

	uint32 total = 0;
	uint32 own = 0;
	for (thread_death_entry* entry = first_death_entry(team->dead_threads);
			entry != NULL;
			entry = next_death_entry(team->dead_threads, entry)) {
		total++;
		if (sorted != NULL && is_in_sorted(sorted, sortedCount, entry->thread))
			own++;
	}

	_total = total;
	_own = own;
}


//	#pragma mark - user requests


/*!	Whether [address, address + size) lies in userland. */
static bool
is_user_range(uint64 address, size_t size)
{
	if (address != (uint64)(addr_t)address)
		return false;

	addr_t start = (addr_t)address;
	if (size == 0)
		return IS_USER_ADDRESS(start);
	if (start + size < start)
		return false;

	return IS_USER_ADDRESS(start) && IS_USER_ADDRESS(start + size - 1);
}


/*!	Copies a request from userland and checks its version and size. The
	version and size are read first, so that a request of another version is
	never read beyond its own end.
*/
template<typename Request>
static status_t
copy_request_from_user(Request& request, const void* buffer)
{
	struct {
		uint32_t	version;
		uint32_t	size;
	} header;

	if (buffer == NULL || !is_user_range((addr_t)buffer, sizeof(header))
		|| user_memcpy(&header, buffer, sizeof(header)) != B_OK) {
		return B_BAD_ADDRESS;
	}

	if (header.version != DEAD_THREADS_ABI_VERSION)
		return B_NOT_SUPPORTED;
	if (header.size != sizeof(Request))
		return B_BAD_VALUE;

	if (!is_user_range((addr_t)buffer, sizeof(Request))
		|| user_memcpy(&request, buffer, sizeof(Request)) != B_OK) {
		return B_BAD_ADDRESS;
	}

	return B_OK;
}


template<typename Request>
static status_t
copy_request_to_user(void* buffer, const Request& request)
{
	if (user_memcpy(buffer, &request, sizeof(Request)) != B_OK)
		return B_BAD_ADDRESS;

	return B_OK;
}


static status_t
get_info(dead_threads_info_request& request)
{
	Team* kernelTeam = team_get_kernel_team();

	request.limit = dead_threads_limit();
	request.list_kind = death_list_kind(kernelTeam->dead_threads);
	request.max_list_entries = DEAD_THREADS_MAX_LIST_ENTRIES;
	request.max_scenario_threads = DEAD_THREADS_MAX_SCENARIO_THREADS;

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
	if (bufferSize > 0 && !is_user_range(request.entries, bufferSize))
		return B_BAD_ADDRESS;

	dead_threads_entry* buffer = NULL;
	if (bufferSize > 0) {
		buffer = (dead_threads_entry*)malloc(bufferSize);
		if (buffer == NULL)
			return B_NO_MEMORY;
	}
	MemoryDeleter bufferDeleter(buffer);

	team_id teamID = request.team;
	if (teamID == 0)
		teamID = team_get_current_team_id();

	Team* team = Team::Get(teamID);
	if (team == NULL)
		return B_BAD_TEAM_ID;
	BReference<Team> teamReference(team, true);

	// Copy the entries while holding the team lock, but write to userland
	// only after releasing it: user_memcpy() may fault.
	TeamLocker teamLocker(team);
	uint32 count = copy_dead_list(team, buffer, request.capacity);
	teamLocker.Unlock();

	uint32 returned = count < request.capacity ? count : request.capacity;
	if (returned > 0
		&& user_memcpy((void*)(addr_t)request.entries, buffer,
			returned * sizeof(dead_threads_entry)) != B_OK) {
		return B_BAD_ADDRESS;
	}

	request.resolved_team = team->id;
	request.count = count;
	request.returned = returned;

	return B_OK;
}


//	#pragma mark - kernel scenario


/*!	Entry of the scenario threads. They are kernel threads, but they belong
	to the caller's (user) team: thread_exit() stores a death entry only when
	the exiting thread's team is not the kernel team and the thread is not
	the team's main thread, and it does not look at whether the thread ever
	ran in userland. Spawning kernel threads into a user team is what the
	kernel itself does for the debug nub thread (user_debugger.cpp).

	The kernel ignores the return value of a kernel thread's function, and
	exit_thread() in a user team only sends SIGKILLTHR, which a thread that
	never returns to userland does not handle. So the thread sets its exit
	status the way exit_thread() does and returns; common_thread_entry()
	then calls thread_exit().
*/
static status_t
scenario_thread(void* data)
{
	thread_get_current_thread()->exit.status = (status_t)(addr_t)data;
	return B_OK;
}


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


static void
build_join_order(uint32* order, uint32 count, uint32 kind, uint64 seed)
{
	for (uint32 i = 0; i < count; i++)
		order[i] = kind == DEAD_THREADS_ORDER_REVERSE ? count - 1 - i : i;

	// Nothing to shuffle with fewer than two threads. This also keeps
	// "count - 1" below from wrapping around when spawning failed at once.
	if (kind != DEAD_THREADS_ORDER_SHUFFLED || count < 2)
		return;

	// Fisher-Yates
	uint64 state = seed;
	for (uint32 i = count - 1; i > 0; i--) {
		uint32 j = (uint32)(next_random(state) % (i + 1));
		uint32 swap = order[i];
		order[i] = order[j];
		order[j] = swap;
	}
}


static int
compare_thread_ids(const void* _a, const void* _b)
{
	thread_id a = *(const thread_id*)_a;
	thread_id b = *(const thread_id*)_b;
	return a < b ? -1 : (a > b ? 1 : 0);
}


/*!	Waits until the threads have left the thread table, at most until
	\a deadline. Returns the number of threads still in it.
*/
static uint32
wait_until_gone(const thread_id* threads, uint32 count, bigtime_t deadline)
{
	uint32 next = 0;
	while (next < count) {
		if (!Thread::IsAlive(threads[next])) {
			next++;
			continue;
		}
		if (system_time() >= deadline)
			break;
		snooze(1000);
	}

	uint32 alive = 0;
	for (uint32 i = next; i < count; i++) {
		if (Thread::IsAlive(threads[i]))
			alive++;
	}

	return alive;
}


/*!	Spawns request.thread_count threads into the caller's team, each exiting
	with a distinct status, waits until all of them are gone from the thread
	table, and then joins each with wait_for_thread() in the requested order.
	Every spawned thread is joined before this function returns, whatever
	happened before: the threads run this module's code.
*/
/*!	Spawns \a count threads into the team \a teamID with the creation
	\a flags and resumes them; thread i exits with
	DEAD_THREADS_SCENARIO_STATUS(firstIndex + i).
	\return The number of threads spawned; \a _error says why it is less
		than \a count.
*/
static uint32
spawn_scenario_batch(team_id teamID, thread_id* threads, uint32 firstIndex,
	uint32 count, uint32 flags, const char* what, status_t& _error)
{
	_error = B_OK;
	for (uint32 i = 0; i < count; i++) {
		char name[B_OS_NAME_LENGTH];
		snprintf(name, sizeof(name), "dead_threads %s %" B_PRIu32, what,
			firstIndex + i);

		ThreadCreationAttributes attributes(&scenario_thread, name,
			B_NORMAL_PRIORITY,
			(void*)(addr_t)DEAD_THREADS_SCENARIO_STATUS(firstIndex + i),
			teamID);
		attributes.flags = flags;

		thread_id thread = thread_create_thread(attributes, true);
		if (thread < 0) {
			_error = thread;
			return i;
		}

		threads[i] = thread;
		resume_thread(thread);
	}

	return count;
}


static status_t
run_scenario(dead_threads_scenario_request& request)
{
	uint32 count = request.thread_count;
	if (count == 0 || count > DEAD_THREADS_MAX_SCENARIO_THREADS)
		return B_BAD_VALUE;
	if (request.order != DEAD_THREADS_ORDER_FORWARD
		&& request.order != DEAD_THREADS_ORDER_REVERSE
		&& request.order != DEAD_THREADS_ORDER_SHUFFLED) {
		return B_BAD_VALUE;
	}
	if (request.exit_timeout < 0
		|| request.exit_timeout > DEAD_THREADS_MAX_EXIT_TIMEOUT) {
		return B_BAD_VALUE;
	}

	bigtime_t exitTimeout = request.exit_timeout != 0
		? request.exit_timeout : DEAD_THREADS_DEFAULT_EXIT_TIMEOUT;
	// Only the shuffled order uses a seed; the others report 0.
	uint64 seed = 0;
	if (request.order == DEAD_THREADS_ORDER_SHUFFLED) {
		seed = request.seed;
		if (seed == 0)
			seed = (uint64)system_time() | 1;
	}

	thread_id* threads = (thread_id*)malloc(count * sizeof(thread_id));
	thread_id* sorted = (thread_id*)malloc(count * sizeof(thread_id));
	uint32* order = (uint32*)malloc(count * sizeof(uint32));
	MemoryDeleter threadsDeleter(threads);
	MemoryDeleter sortedDeleter(sorted);
	MemoryDeleter orderDeleter(order);
	if (threads == NULL || sorted == NULL || order == NULL)
		return B_NO_MEMORY;

	MutexLocker scenarioLocker(sScenarioLock);

	Team* team = thread_get_current_thread()->team;
	BReference<Team> teamReference(team);
	team_id teamID = team->id;

	uint32 unused;
	uint32 entriesBefore;
	count_dead_entries(team, NULL, 0, entriesBefore, unused);

	// spawn
	bigtime_t phaseStart = system_time();
	status_t spawnError;
	uint32 spawned = spawn_scenario_batch(teamID, threads, 0, count, 0,
		"scenario", spawnError);
	bigtime_t spawnTime = system_time() - phaseStart;
	TRACE("spawned %" B_PRIu32 " of %" B_PRIu32 " threads in team %" B_PRId32
		"\n", spawned, count, teamID);

	// let all of them exit
	phaseStart = system_time();
	uint32 stillAlive = wait_until_gone(threads, spawned,
		phaseStart + exitTimeout);
	bigtime_t exitTime = system_time() - phaseStart;

	memcpy(sorted, threads, spawned * sizeof(thread_id));
	qsort(sorted, spawned, sizeof(thread_id), &compare_thread_ids);

	uint32 entriesExited;
	uint32 ownEntriesExited;
	count_dead_entries(team, sorted, spawned, entriesExited, ownEntriesExited);

	// join, in the requested order; spawned < count only when spawning
	// failed, then the order is built over the spawned threads
	build_join_order(order, spawned, request.order, seed);

	phaseStart = system_time();
	uint32 joinedOK = 0;
	uint32 joinedBadThreadID = 0;
	uint32 joinedOtherError = 0;
	status_t firstOtherError = B_OK;
	uint32 wrongStatus = 0;
	for (uint32 k = 0; k < spawned; k++) {
		uint32 index = order[k];
		status_t exitStatus = B_OK;
		status_t result = wait_for_thread(threads[index], &exitStatus);
		if (result == B_OK) {
			joinedOK++;
			if (exitStatus != DEAD_THREADS_SCENARIO_STATUS(index))
				wrongStatus++;
		} else if (result == B_BAD_THREAD_ID) {
			joinedBadThreadID++;
		} else {
			if (joinedOtherError++ == 0)
				firstOtherError = result;
		}
	}
	bigtime_t joinTime = system_time() - phaseStart;

	// A join that failed leaves nothing behind that could still run this
	// module's code: either the thread was gone (B_BAD_THREAD_ID) or the
	// wait was not interruptible and thus the thread is gone as well.

	uint32 entriesAfter;
	uint32 ownEntriesAfter;
	count_dead_entries(team, sorted, spawned, entriesAfter, ownEntriesAfter);

	request.seed = seed;
	request.team = teamID;
	request.spawned = spawned;
	request.spawn_error = spawnError;
	request.still_alive = stillAlive;
	request.joined_ok = joinedOK;
	request.joined_bad_thread_id = joinedBadThreadID;
	request.joined_other_error = joinedOtherError;
	request.first_other_error = firstOtherError;
	request.wrong_status = wrongStatus;
	request.entries_before = entriesBefore;
	request.entries_exited = entriesExited;
	request.entries_after = entriesAfter;
	request.own_entries_exited = ownEntriesExited;
	request.own_entries_after = ownEntriesAfter;
	request.spawn_time = spawnTime;
	request.exit_time = exitTime;
	request.join_time = joinTime;

	return spawnError;
}


//	#pragma mark - revision 2 scenarios: churn and join cost


/*	The kernel learns that a thread is detached through the creation flag and
	thread_detach() the modern series (kernel-patch/modern) adds. Built
	against a tree without them, the churn scenario still runs, but cannot
	tell the kernel: its threads then leave death entries, which is exactly
	what happens to detached pthreads there.
*/
#ifdef THREAD_CREATION_FLAG_DETACHED
#	define DEAD_THREADS_KERNEL_DETACH 1
#else
#	define DEAD_THREADS_KERNEL_DETACH 0
#endif


/*!	Waits until the batch's threads are gone; those still in the thread table
	at \a deadline are then waited for without a timeout (which consumes
	their exit status), so that no thread runs this module's code anymore
	when the caller returns.
	\return The number of threads that were still alive at the deadline.
*/
static uint32
finish_scenario_batch(const thread_id* threads, uint32 count,
	bigtime_t deadline)
{
	uint32 stillAlive = wait_until_gone(threads, count, deadline);
	if (stillAlive == 0)
		return 0;

	for (uint32 i = 0; i < count; i++) {
		if (Thread::IsAlive(threads[i])) {
			status_t exitStatus;
			wait_for_thread(threads[i], &exitStatus);
		}
	}

	return stillAlive;
}


/*!	Counts the team's entries of the given threads (sorted in place). */
static uint32
count_own_entries(Team* team, thread_id* threads, uint32 count)
{
	qsort(threads, count, sizeof(thread_id), &compare_thread_ids);

	uint32 total;
	uint32 own;
	count_dead_entries(team, threads, count, total, own);
	return own;
}


static status_t
check_batch_arguments(uint32 threadCount, uint32 maxThreads, uint32& batch,
	int64 exitTimeout)
{
	if (threadCount == 0 || threadCount > maxThreads)
		return B_BAD_VALUE;
	if (batch == 0)
		batch = DEAD_THREADS_DEFAULT_BATCH;
	if (batch > DEAD_THREADS_MAX_SCENARIO_THREADS || exitTimeout < 0
		|| exitTimeout > DEAD_THREADS_MAX_EXIT_TIMEOUT) {
		return B_BAD_VALUE;
	}
	return B_OK;
}


/*!	The churn scenario: request.thread_count detached threads are created in
	the caller's team and exit, batch by batch. After each batch, the team's
	death entries of that batch's threads are counted; they must be 0 on a
	kernel that knows detached threads. At the end, every thread is waited
	for once: that must fail with B_BAD_THREAD_ID, and it cleans up whatever
	a kernel without detached threads has kept.
*/
static status_t
run_churn(dead_threads_churn_request& request)
{
	uint32 count = request.thread_count;
	uint32 batch = request.batch;
	status_t status = check_batch_arguments(count,
		DEAD_THREADS_MAX_CHURN_THREADS, batch, request.exit_timeout);
	if (status != B_OK)
		return status;
	if (request.reserved != 0
		|| (request.detach != DEAD_THREADS_DETACH_AT_CREATION
			&& request.detach != DEAD_THREADS_DETACH_AFTER_EXIT)) {
		return B_BAD_VALUE;
	}

	bigtime_t exitTimeout = request.exit_timeout != 0
		? request.exit_timeout : DEAD_THREADS_DEFAULT_EXIT_TIMEOUT;

	thread_id* threads = (thread_id*)malloc(count * sizeof(thread_id));
	thread_id* sorted = (thread_id*)malloc(count * sizeof(thread_id));
	MemoryDeleter threadsDeleter(threads);
	MemoryDeleter sortedDeleter(sorted);
	if (threads == NULL || sorted == NULL)
		return B_NO_MEMORY;

	MutexLocker scenarioLocker(sScenarioLock);

	Team* team = thread_get_current_thread()->team;
	BReference<Team> teamReference(team);
	team_id teamID = team->id;

	uint32 unused;
	uint32 entriesBefore;
	count_dead_entries(team, NULL, 0, entriesBefore, unused);

	uint32 creationFlags = 0;
#if DEAD_THREADS_KERNEL_DETACH
	if (request.detach == DEAD_THREADS_DETACH_AT_CREATION)
		creationFlags = THREAD_CREATION_FLAG_DETACHED;
#endif

	bigtime_t start = system_time();
	status_t spawnError = B_OK;
	uint32 spawned = 0;
	uint32 stillAlive = 0;
	uint32 detachErrors = 0;
	status_t firstDetachError = B_OK;
	uint32 ownEntriesMax = 0;
	while (spawned < count && spawnError == B_OK) {
		uint32 batchCount = min_c(batch, count - spawned);
		thread_id* batchThreads = threads + spawned;
		uint32 batchSpawned = spawn_scenario_batch(teamID, batchThreads,
			spawned, batchCount, creationFlags, "churn", spawnError);
		spawned += batchSpawned;

		stillAlive += finish_scenario_batch(batchThreads, batchSpawned,
			system_time() + exitTimeout);

#if DEAD_THREADS_KERNEL_DETACH
		if (request.detach == DEAD_THREADS_DETACH_AFTER_EXIT) {
			for (uint32 i = 0; i < batchSpawned; i++) {
				status_t error = thread_detach(batchThreads[i]);
				if (error != B_OK && detachErrors++ == 0)
					firstDetachError = error;
			}
		}
#endif

		memcpy(sorted, batchThreads, batchSpawned * sizeof(thread_id));
		uint32 own = count_own_entries(team, sorted, batchSpawned);
		if (own > ownEntriesMax)
			ownEntriesMax = own;
	}
	bigtime_t churnTime = system_time() - start;

	// all of this scenario's entries, and the whole list
	memcpy(sorted, threads, spawned * sizeof(thread_id));
	qsort(sorted, spawned, sizeof(thread_id), &compare_thread_ids);

	uint32 entriesAfter;
	uint32 ownEntriesAfter;
	count_dead_entries(team, sorted, spawned, entriesAfter, ownEntriesAfter);

	// Joining a detached thread that is gone must fail. On a kernel that
	// keeps entries for them, this is also what frees those entries.
	uint32 joinedOK = 0;
	uint32 joinedBadThreadID = 0;
	uint32 joinedOtherError = 0;
	for (uint32 i = 0; i < spawned; i++) {
		status_t exitStatus;
		status_t result = wait_for_thread(threads[i], &exitStatus);
		if (result == B_OK)
			joinedOK++;
		else if (result == B_BAD_THREAD_ID)
			joinedBadThreadID++;
		else
			joinedOtherError++;
	}

	request.team = teamID;
	request.kernel_support = DEAD_THREADS_KERNEL_DETACH
		? DEAD_THREADS_DETACH_SUPPORTED : DEAD_THREADS_DETACH_UNSUPPORTED;
	request.spawned = spawned;
	request.spawn_error = spawnError;
	request.still_alive = stillAlive;
	request.detach_errors = detachErrors;
	request.first_detach_error = firstDetachError;
	request.entries_before = entriesBefore;
	request.own_entries_max = ownEntriesMax;
	request.own_entries_after = ownEntriesAfter;
	request.entries_after = entriesAfter;
	request.joined_ok = joinedOK;
	request.joined_bad_thread_id = joinedBadThreadID;
	request.joined_other_error = joinedOtherError;
	request.churn_time = churnTime;

	return spawnError;
}


/*!	Lets \a count joinable threads die in the team, batch by batch, then
	waits for all of them in the given order and returns the time that took.
	Every spawned thread has been waited for when this returns.
*/
static bigtime_t
run_join_cost_phase(team_id teamID, thread_id* threads, uint32 count,
	uint32 batch, bigtime_t exitTimeout, bool reverse, uint32& _spawned,
	uint32& _joinedOK, uint32& _failed, uint32& _stillAlive,
	status_t& _spawnError)
{
	uint32 spawned = 0;
	_spawnError = B_OK;
	while (spawned < count && _spawnError == B_OK) {
		uint32 batchCount = min_c(batch, count - spawned);
		uint32 batchSpawned = spawn_scenario_batch(teamID, threads + spawned,
			spawned, batchCount, 0, "join cost", _spawnError);
		_stillAlive += finish_scenario_batch(threads + spawned, batchSpawned,
			system_time() + exitTimeout);
		spawned += batchSpawned;
	}

	uint32 joinedOK = 0;
	uint32 failed = 0;
	bigtime_t start = system_time();
	for (uint32 k = 0; k < spawned; k++) {
		uint32 index = reverse ? spawned - 1 - k : k;
		status_t exitStatus = B_OK;
		status_t result = wait_for_thread(threads[index], &exitStatus);
		if (result == B_OK
			&& exitStatus == DEAD_THREADS_SCENARIO_STATUS(index)) {
			joinedOK++;
		} else
			failed++;
	}
	bigtime_t joinTime = system_time() - start;

	_spawned = spawned;
	_joinedOK = joinedOK;
	_failed = failed;
	return joinTime;
}


/*!	The join-cost scenario: N dead threads joined oldest first, then N more
	joined newest first; the time of both join phases is reported.
	Upstream walks the team's dead list from its oldest entry, so the reverse
	phase costs O(N) per join there, and O(1) with the modern series' index.
	Entries the team had before count as well: they sit before ours.
*/
static status_t
run_join_cost(dead_threads_join_cost_request& request)
{
	uint32 count = request.thread_count;
	uint32 batch = request.batch;
	status_t status = check_batch_arguments(count,
		DEAD_THREADS_MAX_JOIN_COST_THREADS, batch, request.exit_timeout);
	if (status != B_OK)
		return status;
	if (request.reserved != 0)
		return B_BAD_VALUE;

	bigtime_t exitTimeout = request.exit_timeout != 0
		? request.exit_timeout : DEAD_THREADS_DEFAULT_EXIT_TIMEOUT;

	thread_id* threads = (thread_id*)malloc(count * sizeof(thread_id));
	MemoryDeleter threadsDeleter(threads);
	if (threads == NULL)
		return B_NO_MEMORY;

	MutexLocker scenarioLocker(sScenarioLock);

	team_id teamID = team_get_current_team_id();
	uint32 stillAlive = 0;

	request.team = teamID;
	request.forward_spawned = 0;
	request.forward_joined_ok = 0;
	request.forward_failed = 0;
	request.reverse_spawned = 0;
	request.reverse_joined_ok = 0;
	request.reverse_failed = 0;
	request.forward_join_time = 0;
	request.reverse_join_time = 0;

	status_t spawnError;
	request.forward_join_time = run_join_cost_phase(teamID, threads, count,
		batch, exitTimeout, false, request.forward_spawned,
		request.forward_joined_ok, request.forward_failed, stillAlive,
		spawnError);
	if (spawnError == B_OK) {
		request.reverse_join_time = run_join_cost_phase(teamID, threads,
			count, batch, exitTimeout, true, request.reverse_spawned,
			request.reverse_joined_ok, request.reverse_failed, stillAlive,
			spawnError);
	}

	request.spawn_error = spawnError;
	request.still_alive = stillAlive;
	return spawnError;
}


//	#pragma mark - kernel debugger


static int
dump_dead_threads(int argc, char** argv)
{
	if (argc > 2) {
		print_debugger_command_usage(argv[0]);
		return 0;
	}

	// In the kernel debugger no lock may be acquired; the other CPUs are
	// halted, so the team hash and the list are read directly, as the
	// kernel's own commands do.
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
		if (thread != NULL)
			team = thread->team;
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
			entry = next_death_entry(team->dead_threads, entry)) {
		kprintf("  %7" B_PRId32 "  %#10" B_PRIx32 "\n", entry->thread,
			(uint32)entry->status);
		count++;
	}

	uint32 limit = dead_threads_limit();
	if (limit == DEAD_THREADS_LIMIT_UNLIMITED)
		kprintf("%" B_PRIu32 " entries (no limit)\n", count);
	else {
		kprintf("%" B_PRIu32 " entries (limit %" B_PRIu32 ")\n", count,
			limit);
	}

	return 0;
}


//	#pragma mark - device hooks


static status_t
dead_threads_open(const char* name, uint32 flags, void** _cookie)
{
	*_cookie = NULL;

	if (getuid() != 0 && geteuid() != 0)
		return EPERM;

	return B_OK;
}


static status_t
dead_threads_close(void* cookie)
{
	return B_OK;
}


static status_t
dead_threads_free(void* cookie)
{
	return B_OK;
}


/*!	Copies the request in, runs \a handler on it and copies the result out,
	on success or, with \a reportOnError, also when the handler failed after
	having filled in the request.
*/
template<typename Request>
static status_t
handle_request(void* buffer, status_t (*handler)(Request&),
	bool reportOnError = false)
{
	Request request;
	status_t status = copy_request_from_user(request, buffer);
	if (status != B_OK)
		return status;

	status = handler(request);

	if (status == B_OK || reportOnError) {
		status_t copyStatus = copy_request_to_user(buffer, request);
		if (status == B_OK)
			status = copyStatus;
	}

	return status;
}


static status_t
dead_threads_control(void* cookie, uint32 op, void* buffer, size_t length)
{
	switch (op) {
		case DEAD_THREADS_GET_INFO:
			return handle_request<dead_threads_info_request>(buffer,
				&get_info);
		case DEAD_THREADS_GET_DEAD_LIST:
			return handle_request<dead_threads_list_request>(buffer,
				&get_dead_list);
		case DEAD_THREADS_RUN_SCENARIO:
			// the scenario reports what happened even when spawning failed
			return handle_request<dead_threads_scenario_request>(buffer,
				&run_scenario, true);

		// revision 2
		case DEAD_THREADS_RUN_CHURN:
			return handle_request<dead_threads_churn_request>(buffer,
				&run_churn, true);
		case DEAD_THREADS_RUN_JOIN_COST:
			return handle_request<dead_threads_join_cost_request>(buffer,
				&run_join_cost, true);
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
	return sDeviceNames;
}


device_hooks*
find_device(const char* name)
{
	return &sDeviceHooks;
}
