/*
 * legacy-limited, upstream (unpatched): the death-entry protocol of the tree
 * as it is. The model is in death_entry.pml; README.md says what it
 * abstracts and which violation each scenario shows.
 *
 * spin -run legacy-limited.upstream.pml         default scenario: EVICTION
 * spin -DSCENARIO_<name> -run legacy-limited.upstream.pml   another scenario
 */
#define BASE_LEGACY

#if !defined(SCENARIO_ALL) && !defined(SCENARIO_EVICTION) \
	&& !defined(SCENARIO_RACE) && !defined(SCENARIO_PRESSURE) \
	&& !defined(SCENARIO_WAITER_LEAK) && !defined(SCENARIO_LATE_WAITER) \
	&& !defined(SCENARIO_DETACH) && !defined(SCENARIO_EXEC) \
	&& !defined(SCENARIO_TWO_JOINERS)
#define SCENARIO_EVICTION
#endif

#include "death_entry.pml"
