/*
 * haiku_thread_api.h - the part of Haiku's native thread API that haiku-sys
 * binds, declared for hosts without Haiku's headers.
 *
 * Written for haiku-sys (dead-threads project). It states interface facts of
 * Haiku's public headers <OS.h> and <Errors.h> (type names, function
 * signatures, constant values, the layout of thread_info); it is not a copy
 * of them. Declarations mirror the kind of each original item (typedef,
 * macro, enum) so that bindgen produces the same Rust items from this file
 * as from the real headers, which tests/haiku_top_header.rs verifies
 * against a Haiku checkout (HAIKU_TOP).
 *
 * src/bindings/thread_api.rs is generated from this file; after editing,
 * regenerate it:
 *   HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings
 */
#ifndef HAIKU_SYS_THREAD_API_H
#define HAIKU_SYS_THREAD_API_H

/* Fixed-width integer types (x86_64: int64 is a long). */
typedef int __haiku_std_int32;
typedef unsigned int __haiku_std_uint32;
typedef long __haiku_std_int64;
typedef __haiku_std_int32 __haiku_int32;
typedef __haiku_std_uint32 __haiku_uint32;
typedef __haiku_std_int64 __haiku_int64;
typedef __haiku_int32 int32;
typedef __haiku_uint32 uint32;
typedef __haiku_int64 int64;

typedef __SIZE_TYPE__ size_t;

typedef int32 status_t;
typedef int64 bigtime_t;

/* Status codes. Haiku's error codes are negative: they count up from
 * INT_MIN, in groups of 0x1000 per kit. */
#define HAIKU_SYS_ERROR_BASE		(-2147483647 - 1)
#define HAIKU_SYS_OS_ERROR_BASE		(HAIKU_SYS_ERROR_BASE + 0x1000)
#define HAIKU_SYS_STORAGE_ERROR_BASE	(HAIKU_SYS_ERROR_BASE + 0x6000)
#define HAIKU_SYS_POSIX_ERROR_BASE	(HAIKU_SYS_ERROR_BASE + 0x7000)
#define HAIKU_SYS_DEVICE_ERROR_BASE	(HAIKU_SYS_ERROR_BASE + 0xa000)

#define B_NO_MEMORY			(HAIKU_SYS_ERROR_BASE + 0)
#define B_IO_ERROR			(HAIKU_SYS_ERROR_BASE + 1)
#define B_PERMISSION_DENIED		(HAIKU_SYS_ERROR_BASE + 2)
#define B_BAD_INDEX			(HAIKU_SYS_ERROR_BASE + 3)
#define B_BAD_TYPE			(HAIKU_SYS_ERROR_BASE + 4)
#define B_BAD_VALUE			(HAIKU_SYS_ERROR_BASE + 5)
#define B_MISMATCHED_VALUES		(HAIKU_SYS_ERROR_BASE + 6)
#define B_NAME_NOT_FOUND		(HAIKU_SYS_ERROR_BASE + 7)
#define B_NAME_IN_USE			(HAIKU_SYS_ERROR_BASE + 8)
#define B_TIMED_OUT			(HAIKU_SYS_ERROR_BASE + 9)
#define B_INTERRUPTED			(HAIKU_SYS_ERROR_BASE + 10)
#define B_WOULD_BLOCK			(HAIKU_SYS_ERROR_BASE + 11)
#define B_CANCELED			(HAIKU_SYS_ERROR_BASE + 12)
#define B_NO_INIT			(HAIKU_SYS_ERROR_BASE + 13)
#define B_NOT_INITIALIZED		(HAIKU_SYS_ERROR_BASE + 13)
#define B_BUSY				(HAIKU_SYS_ERROR_BASE + 14)
#define B_NOT_ALLOWED			(HAIKU_SYS_ERROR_BASE + 15)
#define B_BAD_DATA			(HAIKU_SYS_ERROR_BASE + 16)
#define B_DONT_DO_THAT			(HAIKU_SYS_ERROR_BASE + 17)

#define B_ERROR				(-1)
#define B_OK				0
#define B_NO_ERROR			0

#define B_BAD_SEM_ID			(HAIKU_SYS_OS_ERROR_BASE + 0x000)
#define B_NO_MORE_SEMS			(HAIKU_SYS_OS_ERROR_BASE + 0x001)
#define B_BAD_THREAD_ID			(HAIKU_SYS_OS_ERROR_BASE + 0x100)
#define B_NO_MORE_THREADS		(HAIKU_SYS_OS_ERROR_BASE + 0x101)
#define B_BAD_THREAD_STATE		(HAIKU_SYS_OS_ERROR_BASE + 0x102)
#define B_BAD_TEAM_ID			(HAIKU_SYS_OS_ERROR_BASE + 0x103)
#define B_NO_MORE_TEAMS			(HAIKU_SYS_OS_ERROR_BASE + 0x104)
#define B_BAD_PORT_ID			(HAIKU_SYS_OS_ERROR_BASE + 0x200)
#define B_NO_MORE_PORTS			(HAIKU_SYS_OS_ERROR_BASE + 0x201)
#define B_BAD_IMAGE_ID			(HAIKU_SYS_OS_ERROR_BASE + 0x300)
#define B_BAD_ADDRESS			(HAIKU_SYS_OS_ERROR_BASE + 0x301)
#define B_NOT_AN_EXECUTABLE		(HAIKU_SYS_OS_ERROR_BASE + 0x302)
#define B_MISSING_LIBRARY		(HAIKU_SYS_OS_ERROR_BASE + 0x303)
#define B_MISSING_SYMBOL		(HAIKU_SYS_OS_ERROR_BASE + 0x304)
#define B_DEBUGGER_ALREADY_INSTALLED	(HAIKU_SYS_OS_ERROR_BASE + 0x400)

#define B_FILE_ERROR			(HAIKU_SYS_STORAGE_ERROR_BASE + 0)
#define B_ENTRY_NOT_FOUND		(HAIKU_SYS_STORAGE_ERROR_BASE + 3)

/* POSIX error numbers are Haiku status codes too (negative, from the POSIX
 * base); some status codes are defined as the POSIX ones. */
#define EDEADLK				(HAIKU_SYS_POSIX_ERROR_BASE + 3)
#define ESRCH				(HAIKU_SYS_POSIX_ERROR_BASE + 13)
#define B_TOO_MANY_ARGS			(HAIKU_SYS_POSIX_ERROR_BASE + 1)
#define B_FILE_TOO_LARGE		(HAIKU_SYS_POSIX_ERROR_BASE + 4)
#define B_DEVICE_NOT_FOUND		(HAIKU_SYS_POSIX_ERROR_BASE + 7)
#define B_RESULT_NOT_REPRESENTABLE	(HAIKU_SYS_POSIX_ERROR_BASE + 17)
#define B_BUFFER_OVERFLOW		(HAIKU_SYS_POSIX_ERROR_BASE + 41)
#define B_NOT_SUPPORTED			(HAIKU_SYS_POSIX_ERROR_BASE + 43)

#define B_DEV_INVALID_IOCTL		(HAIKU_SYS_DEVICE_ERROR_BASE + 0)

/* Limits and timeouts */
#define B_OS_NAME_LENGTH		32
#define B_INFINITE_TIMEOUT		9223372036854775807LL

/* Flags of wait_for_thread_etc() and the other blocking calls: timeouts. */
enum {
	B_TIMEOUT			= 0x08,
	B_RELATIVE_TIMEOUT		= 0x08,
	B_ABSOLUTE_TIMEOUT		= 0x10,
	B_TIMEOUT_REAL_TIME_BASE	= 0x40,
	B_ABSOLUTE_REAL_TIME_TIMEOUT	= 0x50
};

typedef int32 sem_id;
typedef int32 team_id;
typedef int32 thread_id;

/* Flags of wait_for_thread_etc() and the semaphore calls. */
enum {
	B_CAN_INTERRUPT			= 0x01,
	B_CHECK_PERMISSION		= 0x04,
	B_KILL_CAN_INTERRUPT		= 0x20,
	B_DO_NOT_RESCHEDULE		= 0x02,
	B_RELEASE_ALL			= 0x08,
	B_RELEASE_IF_WAITING_ONLY	= 0x10
};

/* Threads */
typedef enum {
	B_THREAD_RUNNING		= 1,
	B_THREAD_READY			= 2,
	B_THREAD_RECEIVING		= 3,
	B_THREAD_ASLEEP			= 4,
	B_THREAD_SUSPENDED		= 5,
	B_THREAD_WAITING		= 6
} thread_state;

typedef struct {
	thread_id	thread;
	team_id		team;
	char		name[B_OS_NAME_LENGTH];
	thread_state	state;
	int32		priority;
	sem_id		sem;
	bigtime_t	user_time;
	bigtime_t	kernel_time;
	void		*stack_base;
	void		*stack_end;
} thread_info;

#define B_IDLE_PRIORITY			0
#define B_LOWEST_ACTIVE_PRIORITY	1
#define B_LOW_PRIORITY			5
#define B_NORMAL_PRIORITY		10
#define B_DISPLAY_PRIORITY		15
#define B_URGENT_DISPLAY_PRIORITY	20
#define B_REAL_TIME_DISPLAY_PRIORITY	100
#define B_URGENT_PRIORITY		110
#define B_REAL_TIME_PRIORITY		120
#define B_FIRST_REAL_TIME_PRIORITY	B_REAL_TIME_DISPLAY_PRIORITY

typedef status_t (*thread_func)(void *);

extern thread_id spawn_thread(thread_func, const char *name, int32 priority,
	void *data);
extern status_t kill_thread(thread_id thread);
extern status_t resume_thread(thread_id thread);
extern status_t suspend_thread(thread_id thread);
extern status_t rename_thread(thread_id thread, const char *newName);
extern status_t set_thread_priority(thread_id thread, int32 newPriority);
extern void exit_thread(status_t status);
extern status_t wait_for_thread(thread_id thread, status_t *returnValue);
extern status_t wait_for_thread_etc(thread_id id, uint32 flags,
	bigtime_t timeout, status_t *_returnCode);
extern thread_id find_thread(const char *name);
extern status_t snooze(bigtime_t amount);
/* get_thread_info(id, info) is _get_thread_info(id, info, sizeof(*info)). */
extern status_t _get_thread_info(thread_id id, thread_info *info,
	size_t size);
extern bigtime_t system_time(void);
extern int debug_printf(const char *format, ...);

#endif /* HAIKU_SYS_THREAD_API_H */
