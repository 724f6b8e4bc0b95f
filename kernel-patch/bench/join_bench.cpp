/*
 * join_bench: what a join of an already dead thread costs in a Haiku team,
 * with upstream's death entry list and with the dead-threads index.
 *
 * Built for the host with the Haiku checkout's own container headers
 * (util/DoublyLinkedList.h, util/OpenHashTable.h from $HAIKU_TOP/headers/
 * private/util), driven by `dead-threads bench --haiku DIR`.
 *
 * The model, taken from src/system/kernel/thread.cpp:
 * - thread_exit() appends each death entry at the tail of
 *   Team::dead_threads (DoublyLinkedList::Add()), so the list is ordered
 *   by time of death, oldest first.
 * - upstream's wait_for_thread_etc() walks the list from First(), i.e. the
 *   oldest entry, until it finds the thread ID, then Remove()s and free()s
 *   the entry.
 * - the patched kernel keeps the same list and, beside it, a BOpenHashTable
 *   keyed by thread ID (Team::dead_threads_index). thread_exit() makes room
 *   (ResizeNeeded()/Resize()) and then InsertUnchecked()s; a join Lookup()s,
 *   Remove()s from both, free()s.
 * "forward" joins the threads in the order they died (each one is at the
 * head of the list), "reverse" joins the newest first (each one is at the
 * tail), "miss" joins an ID that has no entry (a thread already joined, or a
 * bad ID), which upstream answers only after walking the whole list.
 *
 * Output: one line per implementation and N:
 *   RESULT impl=<list|index> n=<N> forward_ns=<f> reverse_ns=<r>
 *     miss_ns=<m> ratio=<r/f>
 * (one line each), per-join nanoseconds, the best of several rounds.
 * Nothing here is a pass/fail test; the driver prints the ratios.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <OS.h>
#include <SupportDefs.h>

#include <DoublyLinkedList.h>
#include <OpenHashTable.h>


// The patched kernel's thread_death_entry (headers/private/kernel/
// thread_types.h with the modern series applied).
struct death_entry : DoublyLinkedListLinkImpl<death_entry> {
	thread_id		thread;
	status_t		status;
	death_entry*	hash_next;
};

typedef DoublyLinkedList<death_entry> DeathEntryList;

struct DeathEntryHashDefinition {
	typedef thread_id	KeyType;
	typedef death_entry	ValueType;

	size_t HashKey(thread_id key) const
	{
		return (size_t)key;
	}

	size_t Hash(const death_entry* value) const
	{
		return HashKey(value->thread);
	}

	bool Compare(thread_id key, const death_entry* value) const
	{
		return value->thread == key;
	}

	death_entry*& GetLink(death_entry* value) const
	{
		return value->hash_next;
	}
};

typedef BOpenHashTable<DeathEntryHashDefinition> DeathEntryTable;


static const thread_id kFirstThreadID = 1000;
static const thread_id kMissingThreadID = -17;


static inline status_t
exit_status_of(thread_id id)
{
	return (status_t)(id * 7 + 3);
}


static double
now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}


static void
fail(const char* what, thread_id id)
{
	fprintf(stderr, "join_bench: %s (thread %d)\n", what, (int)id);
	exit(3);
}


// #pragma mark - upstream: the list alone


struct ListTeam {
	DeathEntryList	dead_threads;

	void ThreadExit(thread_id id)
	{
		death_entry* entry = (death_entry*)malloc(sizeof(death_entry));
		if (entry == NULL)
			fail("out of memory", id);
		entry->thread = id;
		entry->status = exit_status_of(id);
		dead_threads.Add(entry);
	}

	bool Join(thread_id id, status_t* _status)
	{
		for (death_entry* entry = dead_threads.First(); entry != NULL;
				entry = dead_threads.GetNext(entry)) {
			if (entry->thread == id) {
				dead_threads.Remove(entry);
				*_status = entry->status;
				free(entry);
				return true;
			}
		}
		return false;
	}

	bool IsEmpty() const { return dead_threads.IsEmpty(); }
};


// #pragma mark - patched: list plus index


struct IndexTeam {
	DeathEntryList	dead_threads;
	DeathEntryTable	dead_threads_index;

	IndexTeam()
	{
		if (dead_threads_index.Init() != B_OK)
			fail("out of memory", 0);
	}

	void Reserve()
	{
		// team_reserve_dead_thread_entry()
		while (true) {
			size_t size = dead_threads_index.ResizeNeeded();
			if (size == 0)
				return;
			void* allocation = malloc(size);
			if (allocation == NULL)
				return;
			if (dead_threads_index.Resize(allocation, size))
				return;
		}
	}

	void ThreadExit(thread_id id)
	{
		death_entry* entry = (death_entry*)malloc(sizeof(death_entry));
		if (entry == NULL)
			fail("out of memory", id);
		Reserve();
		entry->thread = id;
		entry->status = exit_status_of(id);
		dead_threads.Add(entry);
		dead_threads_index.InsertUnchecked(entry);
	}

	bool Join(thread_id id, status_t* _status)
	{
		death_entry* entry = dead_threads_index.Lookup(id);
		if (entry == NULL)
			return false;
		dead_threads_index.Remove(entry);
		dead_threads.Remove(entry);
		*_status = entry->status;
		free(entry);
		return true;
	}

	bool IsEmpty() const
	{
		return dead_threads.IsEmpty() && dead_threads_index.IsEmpty();
	}
};


// #pragma mark - measuring


enum JoinOrder {
	FORWARD,
	REVERSE
};


/*!	Lets \a n threads die, then joins all of them in \a order and returns
	the nanoseconds per join. Checks every exit status.
*/
template<typename Team>
static double
measure_joins(int32 n, JoinOrder order)
{
	Team team;
	for (int32 i = 0; i < n; i++)
		team.ThreadExit(kFirstThreadID + i);

	double start = now_ns();
	for (int32 i = 0; i < n; i++) {
		thread_id id = order == FORWARD
			? kFirstThreadID + i : kFirstThreadID + n - 1 - i;
		status_t status;
		if (!team.Join(id, &status))
			fail("no death entry", id);
		if (status != exit_status_of(id))
			fail("wrong exit status", id);
	}
	double elapsed = now_ns() - start;

	if (!team.IsEmpty())
		fail("entries left after joining all threads", 0);
	return elapsed / n;
}


/*!	Lets \a n threads die, then times \a rounds joins of an ID that has no
	entry, and returns the nanoseconds per join.
*/
template<typename Team>
static double
measure_misses(int32 n, int32 rounds)
{
	Team team;
	for (int32 i = 0; i < n; i++)
		team.ThreadExit(kFirstThreadID + i);

	double start = now_ns();
	for (int32 i = 0; i < rounds; i++) {
		status_t status;
		if (team.Join(kMissingThreadID - i, &status))
			fail("found an entry that does not exist", kMissingThreadID - i);
	}
	double elapsed = now_ns() - start;

	for (int32 i = 0; i < n; i++) {
		status_t status;
		team.Join(kFirstThreadID + i, &status);
	}
	return elapsed / rounds;
}


/*!	The best of a few rounds: the least disturbed by other processes. Rounds
	stop early once \a budgetNs is spent (a reverse walk of a long list is
	slow by design).
*/
template<typename Team>
static double
best_of(int32 n, JoinOrder order, double budgetNs)
{
	double best = 0;
	double spent = 0;
	for (int round = 0; round < 5; round++) {
		double perJoin = measure_joins<Team>(n, order);
		if (round == 0 || perJoin < best)
			best = perJoin;
		spent += perJoin * n;
		if (spent > budgetNs)
			break;
	}
	return best;
}


template<typename Team>
static void
run(const char* name, int32 n)
{
	const double budget = 2e9;
	double forward = best_of<Team>(n, FORWARD, budget);
	double reverse = best_of<Team>(n, REVERSE, budget);
	int32 missRounds = n >= 100000 ? 200 : 2000;
	double miss = measure_misses<Team>(n, missRounds);
	for (int round = 1; round < 3; round++) {
		double again = measure_misses<Team>(n, missRounds);
		if (again < miss)
			miss = again;
	}
	printf("RESULT impl=%s n=%d forward_ns=%.2f reverse_ns=%.2f miss_ns=%.2f "
		"ratio=%.3f\n", name, (int)n, forward, reverse, miss,
		reverse / forward);
	fflush(stdout);
}


int
main(int argc, char** argv)
{
	int32 sizes[16];
	int count = 0;
	for (int i = 1; i < argc && count < 16; i++) {
		long n = strtol(argv[i], NULL, 10);
		if (n < 1 || n > 10000000) {
			fprintf(stderr, "join_bench: bad N \"%s\" (1 .. 10000000)\n",
				argv[i]);
			return 2;
		}
		sizes[count++] = (int32)n;
	}
	if (count == 0) {
		sizes[0] = 1000;
		sizes[1] = 10000;
		sizes[2] = 100000;
		count = 3;
	}

	printf("# dead thread joins: upstream list (walk from the oldest entry) "
		"vs. list + BOpenHashTable index\n");
	for (int i = 0; i < count; i++) {
		run<ListTeam>("list", sizes[i]);
		run<IndexTeam>("index", sizes[i]);
	}
	return 0;
}
