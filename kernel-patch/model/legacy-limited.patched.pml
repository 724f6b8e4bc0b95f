/*
 * legacy-limited, patched with the dead-threads series (the lossless design
 * of issue 9: no limit, no leak with a waiter, late waiter, the
 * waiters_own_status race fix, the entry allocated at creation, detach,
 * exec frees). The model is in death_entry.pml; see README.md.
 *
 * spin -run legacy-limited.patched.pml          every actor, every property
 * spin -DMUTATION_<name> -run legacy-limited.patched.pml   a deliberate bug
 */
#define BASE_LEGACY
#define PATCHED

#if !defined(SCENARIO_ALL) && !defined(SCENARIO_EVICTION) \
	&& !defined(SCENARIO_RACE) && !defined(SCENARIO_PRESSURE) \
	&& !defined(SCENARIO_WAITER_LEAK) && !defined(SCENARIO_LATE_WAITER) \
	&& !defined(SCENARIO_DETACH) && !defined(SCENARIO_EXEC) \
	&& !defined(SCENARIO_TWO_JOINERS)
#define SCENARIO_ALL
#endif

#include "death_entry.pml"
