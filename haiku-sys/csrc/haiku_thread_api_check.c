/*
 * haiku-sys: layout check of the bundled thread API header
 * (include/haiku_thread_api.h).
 *
 * Compiled by build.rs with the target's C compiler and linked into the
 * crate. The static assertions pin a few facts of Haiku's ABI; the table
 * exported below lets tests/c_layout.rs check that the Rust bindings in use
 * agree with C on the layout of thread_info and on two status values.
 */

#include "haiku_sys_c_facts.h"
#include "haiku_thread_api.h"


_Static_assert(sizeof(status_t) == 4, "status_t is 32 bits");
_Static_assert(sizeof(bigtime_t) == 8, "bigtime_t is 64 bits");
_Static_assert(B_BAD_THREAD_ID == (-2147483647 - 1) + 0x1000 + 0x100,
	"B_BAD_THREAD_ID");


static const haiku_sys_c_fact sFacts[] = {
	SIZE(thread_info),
	ALIGN(thread_info),
	OFFSET(thread_info, thread),
	OFFSET(thread_info, team),
	OFFSET(thread_info, name),
	OFFSET(thread_info, state),
	OFFSET(thread_info, priority),
	OFFSET(thread_info, sem),
	OFFSET(thread_info, user_time),
	OFFSET(thread_info, kernel_time),
	OFFSET(thread_info, stack_base),
	OFFSET(thread_info, stack_end),

	VALUE(B_BAD_THREAD_ID),
	VALUE(ESRCH),
};

HAIKU_SYS_C_FACTS(haiku_sys_thread_api_facts, sFacts)
