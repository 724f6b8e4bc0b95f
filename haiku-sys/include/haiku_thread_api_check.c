/*
 * haiku_thread_api_check.c - compiled by haiku-sys's build.rs with the C
 * compiler of the target (cc crate) and linked into the crate. It reports
 * the C layout of thread_info as declared by haiku_thread_api.h, so that
 * tests/c_layout.rs can check that the Rust bindings agree with C.
 */
#include <stddef.h>

#include "haiku_thread_api.h"

#define HAIKU_SYS_FIELD(field) offsetof(thread_info, field)

const size_t haiku_sys_c_thread_info_size = sizeof(thread_info);
const size_t haiku_sys_c_thread_info_align = _Alignof(thread_info);
const size_t haiku_sys_c_thread_info_offsets[10] = {
	HAIKU_SYS_FIELD(thread),
	HAIKU_SYS_FIELD(team),
	HAIKU_SYS_FIELD(name),
	HAIKU_SYS_FIELD(state),
	HAIKU_SYS_FIELD(priority),
	HAIKU_SYS_FIELD(sem),
	HAIKU_SYS_FIELD(user_time),
	HAIKU_SYS_FIELD(kernel_time),
	HAIKU_SYS_FIELD(stack_base),
	HAIKU_SYS_FIELD(stack_end),
};
const int haiku_sys_c_b_bad_thread_id = B_BAD_THREAD_ID;
const int haiku_sys_c_esrch = ESRCH;

_Static_assert(sizeof(status_t) == 4, "status_t is 32 bits");
_Static_assert(sizeof(bigtime_t) == 8, "bigtime_t is 64 bits");
_Static_assert(B_BAD_THREAD_ID == (-2147483647 - 1) + 0x1000 + 0x100,
	"B_BAD_THREAD_ID");
