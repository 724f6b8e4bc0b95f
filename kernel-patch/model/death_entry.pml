/*
 * death_entry.pml -- the thread death-entry protocol of the Haiku kernel,
 * shared by the six variant files of this directory (see README.md).
 *
 * A variant file defines, before including this one:
 *   BASE_LEGACY | BASE_UNLIMITED | BASE_CURRENT   the upstream tree modelled
 *   PATCHED (optional)        the tree after the dead-threads series
 *   SCENARIO_<name> (optional, may come from `spin -DSCENARIO_<name>`)
 *   MUTATION_<name> (optional, patched files only, for the power tests)
 *
 * Line citations name the upstream revision of each base:
 *   L = 41853a8bbf (legacy-limited), U = b6190d29d6 (upstream-unlimited),
 *   C = 47136e7183 (upstream-current);
 * paths are src/system/kernel/thread.cpp unless another file is named,
 * libroot = src/system/libroot/posix/pthread/pthread.cpp.
 * The patched steps cite the upstream lines they change and the design
 * item of the lossless issue (issue 9) they implement:
 *   D3 late waiter, D4 exit.waiters_own_status, D5 exit.death_entry
 *   (allocated at creation), D6 detach, D7 exec frees the entries.
 *
 * Every `atomic` block below is one critical section of the C code (or one
 * step that is atomic there: an allocation, a semaphore operation); the
 * comment in front of it names the function and the lines.
 */

/* ---------------------------------------------------------------- bases */

#if defined(BASE_LEGACY)
#define DEAD_LIMIT	1	/* MAX_DEAD_THREADS (32 in thread_types.h:99),
						   shrunk to 1: two exits show the eviction */
#elif defined(BASE_UNLIMITED) || defined(BASE_CURRENT)
#else
#error "define BASE_LEGACY, BASE_UNLIMITED or BASE_CURRENT"
#endif

#ifdef PATCHED
#define IS_PATCHED	1
#else
#define IS_PATCHED	0
#endif

/* ------------------------------------------------------------ scenarios */
/*
 * A scenario fixes which actors run and which properties are checked.
 * SCENARIO_ALL runs everything the model has (every mode of every thread,
 * interrupts, allocation failure, exec and team deletion) and checks every
 * property; the patched files check it by default. The others isolate one
 * upstream bug each, so that the upstream files can show each one.
 *
 *   NT            threads X0.. that exit (1 or 2)
 *   MODES_*       what the application does with each thread
 *   MAXI          interruptions/timeouts a joiner may suffer (0 = blocking)
 *   ALLOC_FAIL    malloc() may fail where the C code allocates
 *   END_EXEC / END_DELETE   the team may exec / be deleted
 *   CHECK_*       properties checked (P2 and P5 always are)
 */
#if !defined(SCENARIO_ALL) && !defined(SCENARIO_EVICTION) \
	&& !defined(SCENARIO_RACE) && !defined(SCENARIO_PRESSURE) \
	&& !defined(SCENARIO_WAITER_LEAK) && !defined(SCENARIO_LATE_WAITER) \
	&& !defined(SCENARIO_DETACH) && !defined(SCENARIO_EXEC) \
	&& !defined(SCENARIO_TWO_JOINERS)
#error "no scenario: the variant file defines its default one"
#endif

#define MODE_JOIN		1	/* pthread_join() (or a timed/polling join) */
#define MODE_NOJOIN		2	/* joinable, nobody joins (before exec/exit) */
#define MODE_DETACH_CREATE	3	/* PTHREAD_CREATE_DETACHED */
#define MODE_DETACH_LATER	4	/* pthread_detach() racing the exit */
#define MODE_NONE		5	/* creation failed: no thread */

#ifdef SCENARIO_ALL
#define NT 2
#define MODES_JOIN 1
#define MODES_NOJOIN 1
#define MODES_DETACH 1
#define MAXI 2
#define ALLOC_FAIL 1
#define END_EXEC 1
#define END_DELETE 1
#define CHECK_P1 1
#define CHECK_P3_LEAK 1
#define CHECK_P3_LATE 1
#define CHECK_P3_EXEC 1
#define CHECK_P4 1
#endif

#ifdef SCENARIO_EVICTION	/* two exits, no waiter: the limit evicts */
#define NT 2
#define MODES_JOIN 1
#define CHECK_P1 1
#endif

#ifdef SCENARIO_RACE		/* one join, interrupted or timed out once */
#define NT 1
#define MODES_JOIN 1
#define MAXI 1
#define CHECK_P1 1
#endif

#ifdef SCENARIO_PRESSURE	/* malloc() fails where the C code allocates */
#define NT 1
#define MODES_JOIN 1
#define ALLOC_FAIL 1
#define CHECK_P1 1
#endif

#ifdef SCENARIO_WAITER_LEAK	/* a blocking joiner queued before the exit */
#define NT 1
#define MODES_JOIN 1
#define CHECK_P1 1
#define CHECK_P3_LEAK 1
#endif

#ifdef SCENARIO_LATE_WAITER	/* a joiner that queues after the decision */
#define NT 1
#define MODES_JOIN 1
#define CHECK_P1 1
#define CHECK_P3_LATE 1
#endif

#ifdef SCENARIO_TWO_JOINERS	/* two joiners of one thread, e.g. two
							   wait_for_thread() calls */
#define NT 1
#define NJ 2
#define MODES_JOIN 1
#define MODES_NOJOIN 1
#define MAXI 2
#define END_EXEC 1
#define END_DELETE 1
#define CHECK_P1 1
#define CHECK_P3_LEAK 1
#define CHECK_P3_LATE 1
#define CHECK_P3_EXEC 1
#endif

#ifdef SCENARIO_DETACH		/* detached at creation or by pthread_detach */
#define NT 1
#define MODES_DETACH 1
#define CHECK_P4 1
#endif

#ifdef SCENARIO_EXEC		/* exec with a joinable thread nobody joined */
#define NT 1
#define MODES_NOJOIN 1
#define END_EXEC 1
#define CHECK_P3_EXEC 1
#endif

#ifndef NJ
#define NJ NT
#endif
#ifndef MODES_JOIN
#define MODES_JOIN 0
#endif
#ifndef MODES_NOJOIN
#define MODES_NOJOIN 0
#endif
#ifndef MODES_DETACH
#define MODES_DETACH 0
#endif
#ifndef MAXI
#define MAXI 0
#endif
#ifndef ALLOC_FAIL
#define ALLOC_FAIL 0
#endif
#ifndef END_EXEC
#define END_EXEC 0
#endif
#ifndef END_DELETE
#define END_DELETE 0
#endif
#ifndef CHECK_P1
#define CHECK_P1 0
#endif
#ifndef CHECK_P3_LEAK
#define CHECK_P3_LEAK 0
#endif
#ifndef CHECK_P3_LATE
#define CHECK_P3_LATE 0
#endif
#ifndef CHECK_P3_EXEC
#define CHECK_P3_EXEC 0
#endif
#ifndef CHECK_P4
#define CHECK_P4 0
#endif

/* ------------------------------------------------------------ constants */

#define NONE		255
#define NSLOT		NT	/* heap slots: one death entry per thread at most */
#define NTA		2	/* array size for per-thread state */
#define NJA		3	/* array size for per-joiner state */

#define R_OK		0	/* B_OK */
#define R_BAD_THREAD	1	/* B_BAD_THREAD_ID */
#define R_INTERRUPTED	2	/* B_INTERRUPTED / B_TIMED_OUT / B_WOULD_BLOCK */
#define R_BAD_SEM	3	/* B_BAD_SEM_ID from acquire_sem_etc() */
#define R_WAIT		4	/* (model) queued, about to wait */
#define R_GONE		5	/* (model) Thread::GetAndLock() found nothing */

#define STATUS(k)	(10 + (k))	/* thread k's exit status */

/* A property is a flag that is set when it is violated, so that Spin names
 * it in "assertion violated !(p..)". */
#define CHECK(flag, cond) \
	if \
	:: !(cond) -> flag = true \
	:: else -> skip \
	fi; \
	assert(!flag)

bool p1_lost_status;		/* P1: join of a joinable thread failed */
bool p2_double_free;		/* P2: free() of a free entry */
bool p2_use_after_free;		/* P2: a freed entry read */
bool p2_stack_after_return;	/* P2: exit filled a returned waiter's entry */
bool p2_wrong_status;		/* P2: a join returned B_OK without the status */
bool p3_leak;				/* P3: allocated entry nobody can reach */
bool p3_joined_entry_kept;	/* P3: entry of a joined thread kept */
bool p3_exec_kept;			/* P3: exec kept the old image's entries */
bool p4_detached_entry;		/* P4: a detached thread left an entry */

/* --------------------------------------------------------------- memory */

bool mem[NSLOT];			/* allocated? */
byte ent_thread[NSLOT];		/* thread_death_entry::thread */
byte ent_status[NSLOT];		/* thread_death_entry::status */

/* Team::dead_threads, in insertion order (list_add_item / Add append) */
byte dl[NSLOT];
byte dlc;

/* ----------------------------------------------------------------- team */

bool killed;		/* team_kill_other_threads_locked() / shutdown sent
					   SIGKILL to the other threads */
bool exec_done;		/* exec_team() is past the old image */
bool team_deleted;	/* Team::~Team() ran */
byte apps_running;	/* joiner and detacher threads still alive */

/* -------------------------------------------------------------- threads */

byte x_mode[NTA];
bool x_in_team[NTA];		/* thread->team == team (not the kernel team) */
bool x_visible[NTA];		/* thread->visible */
bool x_sem_valid[NTA];	/* thread->exit.sem >= 0 */
bool x_sem_alive[NTA];	/* the exit semaphore exists (not deleted) */
bool x_detached[NTA];	/* (patched) exit.detached */
bool x_own[NTA];			/* (patched) exit.waiters_own_status */
byte x_entry[NTA];		/* (patched) exit.death_entry */

/* joiners: joiner j waits for thread j_target[j]; one per thread
 * (pthread_join() allows one), plus a second one on X0 in
 * SCENARIO_TWO_JOINERS (wait_for_thread() allows any number) */
byte j_target[NJA];
bool j_queued[NJA];		/* its stack `death` is on thread->exit.waiters */
bool j_in_call[NJA];	/* inside wait_for_thread_etc(): `death` alive */
byte j_status[NJA];		/* death.status */
bool j_joined[NJA];		/* the join returned the status */
bool j_failed[NJA];		/* the join returned B_BAD_THREAD_ID, team alive */

#define QUEUED(k) ((j_queued[0] && j_target[0] == (k)) \
	|| (j_queued[1] && j_target[1] == (k)) \
	|| (j_queued[2] && j_target[2] == (k)))
#define FAILED(k) ((j_failed[0] && j_target[0] == (k)) \
	|| (j_failed[1] && j_target[1] == (k)) \
	|| (j_failed[2] && j_target[2] == (k)))
#define JOINED(k) ((j_joined[0] && j_target[0] == (k)) \
	|| (j_joined[1] && j_target[1] == (k)) \
	|| (j_joined[2] && j_target[2] == (k)))

/* ------------------------------------------------------------- helpers */

inline mem_alloc(r)
{
	/* malloc(sizeof(thread_death_entry)) */
	if
	:: ALLOC_FAIL -> r = NONE
	:: true ->
		r = 0;
		do
		:: r < NSLOT && mem[r] -> r++
		:: else -> break
		od;
		assert(r < NSLOT);
		mem[r] = true
	fi
}

inline mem_free(s)
{
	/* free(entry) / deferred_free(entry); free(NULL) is a no-op */
	if
	:: s != NONE ->
		CHECK(p2_double_free, mem[s]);
		mem[s] = false;
		ent_thread[s] = 0;
		ent_status[s] = 0
	:: else -> skip
	fi
}

inline mem_use(s)
{
	CHECK(p2_use_after_free, mem[s])
}

inline dl_add(s)
{
	/* list_add_item(&team->dead_threads, e) / team->dead_threads.Add(e) */
	mem_use(s);
	dl[dlc] = s;
	dlc++
}

inline dl_remove_at(i)
{
	do
	:: i + 1 < dlc -> dl[i] = dl[i + 1]; i++
	:: else -> break
	od;
	dlc--;
	dl[dlc] = NONE
}

/* Scan team->dead_threads for thread `id`, unlink the entry, r = it. */
inline dl_remove_id(id, r, i)
{
	r = NONE;
	i = 0;
	do
	:: i < dlc ->
		mem_use(dl[i]);
		if
		:: ent_thread[dl[i]] == id -> r = dl[i]; break
		:: else -> i++
		fi
	:: else -> break
	od;
	if
	:: r != NONE -> dl_remove_at(i)
	:: else -> skip
	fi;
	i = 0
}

/* ============================================================ thread_exit */

proctype Exiter(byte k)
{
	byte e = NONE;	/* threadDeathEntry */
	byte i;

#if !IS_PATCHED || defined(MUTATION_ALLOC_AT_EXIT)
	/* thread_exit(), non-main thread: L:2010-2011 U:2065-2066 C:2158-2159
	 *   threadDeathEntry = malloc(sizeof(thread_death_entry));
	 * (no lock held; may fail under memory pressure) */
	atomic { mem_alloc(e) }
#endif

#if IS_PATCHED && defined(MUTATION_TAKE_ENTRY_UNLOCKED)
	/* D5 as SPEC-lossless allows it: "takes the entry ... under the locks,
	 * or before them": a plain load and store, no thread lock. */
	e = x_entry[k];
	x_entry[k] = NONE;
#endif

	/* thread_exit() decision step, kernel team lock + team lock + thread
	 * lock (+ spinlocks): L:2014-2160 U:2069-2206 C:2162-2303.
	 * remove_thread_from_team(); insert_thread_into_team(kernelTeam)
	 * (L:2057-2058 U:2112-2113 C:2205-2206); team->death_entry->
	 * remaining_threads-- (exec/shutdown waits for it, L:2065-2067
	 * U:2120-2122 C:2213-2215); then store the entry unless waiters:
	 * L:2136-2154 (limit: evict the head), U:2191-2199, C:2284-2295. */
	atomic {
#if IS_PATCHED && !defined(MUTATION_TAKE_ENTRY_UNLOCKED) \
	&& !defined(MUTATION_ALLOC_AT_EXIT)
		/* D5: threadDeathEntry = thread->exit.death_entry; ... = NULL; */
		e = x_entry[k];
		x_entry[k] = NONE;
#endif
		x_in_team[k] = false;
#if IS_PATCHED
		/* D6: nothing is stored for a detached thread; D4: not stored
		 * because waiters are queued -> they own the status. */
		if
		:: e != NONE && !x_detached[k] && !QUEUED(k) ->
			/* (a joinable thread that was created has its entry: when
			 * it has none, P1 reports the join that fails) */
			ent_thread[e] = k;
			ent_status[e] = STATUS(k);
			dl_add(e);
			e = NONE;
#if defined(MUTATION_KEEP_LIMIT) && defined(DEAD_LIMIT)
			/* the limit of legacy/0001 put back */
			if
			:: dlc > DEAD_LIMIT -> e = dl[0]; i = 0; dl_remove_at(i); i = 0
			:: else -> skip
			fi
#endif
		:: else ->
#ifndef MUTATION_NO_RACE_FIX
			if
			:: QUEUED(k) -> x_own[k] = true
			:: else -> skip
			fi
#else
			skip
#endif
		fi
#else
		if
		:: e != NONE && !QUEUED(k) ->
			mem_use(e);
			ent_thread[e] = k;
			ent_status[e] = STATUS(k);
			dl_add(e);
			e = NONE;
#ifdef DEAD_LIMIT
			/* if (team->dead_threads_count > MAX_DEAD_THREADS)
			 *   threadDeathEntry = list_remove_head_item(...); L:2147-2152 */
			if
			:: dlc > DEAD_LIMIT -> e = dl[0]; i = 0; dl_remove_at(i); i = 0
			:: else -> skip
			fi
#endif
		:: else -> skip
		fi
#endif
	}

	/* after the locks: L:2167 free(threadDeathEntry); C:2293
	 * deferred_free(threadDeathEntry) (inside the section, freed later);
	 * U has no free at all: the unused entry is lost (U:2191-2199).
	 * Patched (D5): free() the entry that was not stored. */
#if IS_PATCHED || defined(BASE_LEGACY) || defined(BASE_CURRENT)
	atomic { mem_free(e); e = NONE }
#else
	e = NONE	/* the pointer goes out of scope: leaked */
#endif

	/* thread lock + sThreadHashLock: thread->visible = false;
	 * L:2177-2186 U:2221-2230 C:2318-2327 */
	atomic { x_visible[k] = false }

	/* thread lock: thread->exit.sem = -1; fill every queued waiter's
	 * death.status: L:2236-2252 U:2281-2297 C:2378-2393 */
	atomic {
		x_sem_valid[k] = false;
		i = 0;
		do
		:: i < NJA ->
			if
			:: j_queued[i] && j_target[i] == k ->
				CHECK(p2_stack_after_return, j_in_call[i]);
				j_status[i] = STATUS(k)
			:: else -> skip
			fi;
			i++
		:: else -> break
		od;
		i = 0
	}

	/* delete_sem(cachedExitSem): L:2254 U:2299 C:2395 -- wakes every
	 * waiter with B_BAD_SEM_ID */
	atomic { x_sem_alive[k] = false }

#if IS_PATCHED
	/* D5: the undertaker deletes the Thread; ~Thread() frees a left-over
	 * exit.death_entry (none is left here: the exit took it) */
	atomic { mem_free(x_entry[k]); x_entry[k] = NONE }
#endif
}

/* ================================================ wait_for_thread_etc */

proctype Joiner(byte j)
{
	byte k = j_target[j];
	byte res;
	byte budget = MAXI;
	bool left_team;	/* (patched, D3) threadLeftTeam */
	bool wait_sem;
	byte r = NONE;
	byte i;

	/* libroot: pthread_join() L:libroot:199-216, __pthread_join()
	 * U:libroot:146-168 C:libroot:148-170: do { wait_for_thread_etc() }
	 * while (B_INTERRUPTED); a timed or polling join
	 * (pthread_timedjoin_np / pthread_tryjoin_np, U/C) is retried by its
	 * caller until it succeeds. Every userland wait is B_CAN_INTERRUPT
	 * (_user_wait_for_thread L:3653-3669, _user_wait_for_thread_etc
	 * U:3728 C:3818-3836). */
	do
	:: true ->
		left_team = false;
		wait_sem = false;

		/* wait_for_thread_etc(): Thread::GetAndLock(id), thread lock:
		 * queue `death` if exit.sem >= 0. L:2475-2486 U:2526-2537
		 * C:2622-2633. Patched (D3): threadLeftTeam = thread->team ==
		 * kernelTeam. */
		atomic {
			j_in_call[j] = true;
			if
			:: x_visible[k] ->
				if
				:: x_sem_valid[k] ->
					j_queued[j] = true;
#if IS_PATCHED && !defined(MUTATION_NO_LATE_WAITER)
					left_team = !x_in_team[k];
#endif
					res = R_WAIT
				:: else -> res = R_BAD_THREAD
				fi
			:: else -> res = R_GONE
			fi
		}

		if
		:: res == R_GONE ->
			/* not found: team lock, scan team->dead_threads by id, unlink,
			 * take the status, free. L:2487-2523 U:2538-2573
			 * C:2634-2669 */
			atomic {
				dl_remove_id(k, r, i);
				if
				:: r != NONE ->
					j_status[j] = ent_status[r];
					mem_free(r);
					r = NONE;
					res = R_OK
				:: else -> res = R_BAD_THREAD
				fi
			}
		:: res == R_WAIT ->
			/* acquire_sem_etc(exitSem, 1, flags, timeout): L:2531
			 * U:2581 C:2677. Returns B_BAD_SEM_ID once the exit deleted
			 * it; while it exists a signal, the timeout or a poll may end
			 * the wait first (B_INTERRUPTED/B_TIMED_OUT/B_WOULD_BLOCK). */
			atomic {
				if
				:: !x_sem_alive[k] -> res = R_BAD_SEM
				:: x_sem_alive[k] && budget > 0 ->
					budget--;
					res = R_INTERRUPTED
				:: x_sem_alive[k] && killed -> res = R_INTERRUPTED
				fi
			}
			if
			:: res == R_BAD_SEM -> res = R_OK
			:: else ->
				/* error branch: Thread::GetAndLock(id), thread lock:
				 * visible -> unlink `death`, return the error; gone ->
				 * acquire_sem(exitSem), B_OK. L:2539-2553 U:2589-2603
				 * C:2685-2699. Patched (D4): visible and
				 * exit.waiters_own_status -> keep `death` queued and wait
				 * uninterruptibly like the "gone" case. */
				atomic {
					if
					:: x_visible[k] ->
#if IS_PATCHED
						if
						:: x_own[k] -> wait_sem = true
						:: else -> j_queued[j] = false
						fi
#else
						j_queued[j] = false
#endif
					:: else -> wait_sem = true
					fi
				}
				if
				:: wait_sem ->
#ifdef MUTATION_RACE_NO_WAIT
					/* the flag alone taken as "the status is there" */
					skip;
#else
					/* acquire_sem(exitSem): uninterruptible */
					!x_sem_alive[k];
#endif
					res = R_OK
				:: else -> skip
				fi
			fi
#if IS_PATCHED && !defined(MUTATION_NO_LATE_WAITER)
			/* D3: we got the status but queued after the decision: the
			 * exit stored an entry; remove it from our team (team lock),
			 * free it after unlocking. (patch: after C:2699) */
			if
			:: res == R_OK && left_team ->
				atomic { dl_remove_id(k, r, i) }
				atomic { mem_free(r); r = NONE }
			:: else -> skip
			fi
#endif
		:: else -> skip	/* exit.sem < 0: B_BAD_THREAD_ID */
		fi;

		/* return from wait_for_thread_etc(): `death` goes out of scope
		 * (it stays linked in the dying thread's list after B_BAD_SEM_ID,
		 * which nobody reads any more). L:2556-2559 */
		atomic {
			j_in_call[j] = false;
			if
			:: res == R_OK ->
				CHECK(p2_wrong_status, j_status[j] == STATUS(k));
				j_joined[j] = true
			:: else -> skip
			fi
		}

		if
		:: res == R_OK -> break
		:: res == R_INTERRUPTED && !killed -> skip	/* loop again */
		:: res == R_INTERRUPTED && killed -> break	/* dies */
		:: res == R_BAD_THREAD ->
			/* ESRCH. P1 is checked at quiescence: this join failed and
			 * no join of the thread ever got its status. (With one
			 * joiner per thread that is this join's result; with two,
			 * the other one may own the status: it was queued when the
			 * thread decided, and it gets it from the semaphore.) */
			j_failed[j] = !killed;
			break
		fi
	od;
	atomic { apps_running-- }
}

/* ==================================================== pthread_detach */

proctype Detacher(byte k)
{
	byte d = NONE;
	byte i;

	if
	:: killed -> skip	/* the team went away first */
	:: else ->
#if IS_PATCHED
		/* D6 thread_detach(): team lock, Thread::GetAndLock(id): still
		 * in our team -> exit.detached = true, take exit.death_entry;
		 * else remove the stored entry from the team. */
		atomic {
			if
			:: x_visible[k] && x_in_team[k] ->
				x_detached[k] = true;
				d = x_entry[k];
				x_entry[k] = NONE
			:: else ->
#ifndef MUTATION_DETACH_KEEPS_DEAD_ENTRY
				dl_remove_id(k, d, i)
#else
				skip	/* "gone: nothing to do" */
#endif
			fi
		}
		/* free(entry) after unlocking */
		atomic { mem_free(d); d = NONE }
#else
		/* pthread_detach(): atomic_or(&thread->flags, THREAD_DETACHED),
		 * the kernel is not told. L:libroot:244-258 U:libroot:257-272
		 * C:libroot:268-283 */
		skip
#endif
	fi;
	atomic { apps_running-- }
}

/* ================================================== exec / deletion */

proctype TeamEnd(bool do_exec)
{
	byte i;

	/* exec_team() (team.cpp L:1900 U:1962 C:1965): L and U refuse while
	 * other threads exist (L:team.cpp:1939-1943, U:team.cpp:2000-2004);
	 * C kills them (team_kill_other_threads_locked(), C:team.cpp:2003,
	 * 1923-1950). team_shutdown_team() (before team_delete_team(), via
	 * L:2002 U:2057 C:2150) kills them on every base (L:team.cpp:
	 * 3185-3210 U:team.cpp:3267-3290 C:team.cpp:3265). */
#ifdef BASE_CURRENT
	killed = true;
#else
	if
	:: !do_exec -> killed = true
	:: else -> skip
	fi;
#endif
	/* wait until the other threads have left the team (remaining_threads
	 * reaches 0) and the joiner/detacher threads are gone */
	apps_running == 0 && !x_in_team[0] && !x_in_team[1];
	if
	:: do_exec ->
		/* patched (D7): exec_team() frees every entry of
		 * team->dead_threads (team lock) */
		atomic {
			exec_done = true;
#if IS_PATCHED && !defined(MUTATION_NO_EXEC_FREE)
			do
			:: dlc > 0 ->
				i = dl[0];
				mem_free(i);
				i = 0;
				dl_remove_at(i)
			:: else -> break
			od;
#endif
			i = 0
		}
	:: else ->
		/* Team::~Team(): free every dead_threads entry
		 * (team.cpp L:531-533 U:533-535 C:530-531) */
		atomic {
			team_deleted = true;
			do
			:: dlc > 0 ->
				i = dl[0];
				mem_free(i);
				i = 0;
				dl_remove_at(i)
			:: else -> break
			od;
			i = 0
		}
	fi
}

/* ====================================================== creation/init */

init {
	byte k, s, i;
	bool found;

	atomic {
		s = 0;
		do
		:: s < NSLOT -> dl[s] = NONE; s++
		:: else -> break
		od;

		k = 0;
		do
		:: k < NT ->
			x_entry[k] = NONE;
			if
			:: MODES_JOIN -> x_mode[k] = MODE_JOIN
			:: MODES_NOJOIN -> x_mode[k] = MODE_NOJOIN
			:: MODES_DETACH -> x_mode[k] = MODE_DETACH_CREATE
			:: MODES_DETACH -> x_mode[k] = MODE_DETACH_LATER
			fi;
#if IS_PATCHED
			/* thread_create_thread(), team lock held (L:978 U:999
			 * C:1086): D5 allocates exit.death_entry for a joinable
			 * non-main thread of a user team; failure -> B_NO_MEMORY,
			 * creation fails, nobody may join. D6: created detached ->
			 * exit.detached, no entry. */
			if
			:: x_mode[k] == MODE_DETACH_CREATE -> x_detached[k] = true
#ifdef MUTATION_ALLOC_AT_EXIT
			:: else -> skip	/* thread_exit() allocates, as upstream */
#else
			:: else ->
				mem_alloc(s);
				if
				:: s == NONE -> x_mode[k] = MODE_NONE
				:: else ->
					x_entry[k] = s;
					/* a later failure path of the creation:
					 * ~Thread() frees the entry */
					if
					:: ALLOC_FAIL ->
#ifndef MUTATION_NO_DTOR_FREE
						mem_free(x_entry[k]);
#endif
						x_entry[k] = NONE;
						x_mode[k] = MODE_NONE
					:: true -> skip
					fi
				fi
#endif
			fi;
#endif
			if
			:: x_mode[k] != MODE_NONE ->
				x_in_team[k] = true;
				x_visible[k] = true;
				x_sem_valid[k] = true;
				x_sem_alive[k] = true
			:: else -> skip
			fi;
			k++
		:: else -> break
		od;

		k = 0;
		do
		:: k < NT ->
			if
			:: x_mode[k] != MODE_NONE -> run Exiter(k)
			:: else -> skip
			fi;
			if
			:: x_mode[k] == MODE_JOIN ->
				j_target[k] = k;
				apps_running++;
				run Joiner(k);
				if
				:: NJ > NT && k == 0 ->
					/* the second joiner of X0 */
					j_target[NT] = 0;
					apps_running++;
					run Joiner(NT)
				:: else -> skip
				fi
			:: x_mode[k] == MODE_DETACH_LATER ->
				apps_running++;
				run Detacher(k)
			:: else -> skip
			fi;
			k++
		:: else -> break
		od;

		if
		:: END_EXEC -> run TeamEnd(true)
		:: END_DELETE -> run TeamEnd(false)
		:: true -> skip	/* the team lives on */
		fi
	}

	/* quiescence: every thread of the model has ended */
	_nr_pr == 1;

	atomic {
#if CHECK_P3_LEAK
		/* every allocated entry is reachable from the team */
		s = 0;
		do
		:: s < NSLOT ->
			if
			:: mem[s] ->
				found = false;
				i = 0;
				do
				:: i < dlc -> found = found || dl[i] == s; i++
				:: else -> break
				od;
				CHECK(p3_leak, found)
			:: else -> skip
			fi;
			s++
		:: else -> break
		od;
#endif
		k = 0;
		do
		:: k < NT ->
			found = false;
			i = 0;
			do
			:: i < dlc -> found = found || ent_thread[dl[i]] == k; i++
			:: else -> break
			od;
#if CHECK_P1
			/* a join failed, and nobody got the status */
			CHECK(p1_lost_status, !(FAILED(k) && !JOINED(k)));
#endif
#if CHECK_P3_LATE
			/* a joined thread keeps no entry */
			CHECK(p3_joined_entry_kept, !(JOINED(k) && found));
#endif
#if CHECK_P4
			/* a detached thread keeps no entry */
			CHECK(p4_detached_entry, !((x_mode[k] == MODE_DETACH_CREATE
				|| x_mode[k] == MODE_DETACH_LATER) && found));
#endif
			k++
		:: else -> break
		od;
#if CHECK_P3_EXEC
		/* exec: the new image cannot join the old one's threads */
		CHECK(p3_exec_kept, !exec_done || dlc == 0);
#endif
		/* P3: after team deletion nothing at all is left */
		s = 0;
		do
		:: s < NSLOT ->
			CHECK(p3_leak, !team_deleted || !mem[s]);
			s++
		:: else -> break
		od
	}
}
