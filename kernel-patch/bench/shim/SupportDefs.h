/*
 * dead-threads benchmark shim (not part of Haiku).
 *
 * The benchmark compiles Haiku's own container headers
 * (headers/private/util/DoublyLinkedList.h and OpenHashTable.h) for the
 * host. Those include <SupportDefs.h> and <OS.h> for a handful of basic
 * types and status codes; this file provides just those, so that no other
 * Haiku header is needed on the host.
 */
#ifndef DEAD_THREADS_BENCH_SUPPORT_DEFS_H
#define DEAD_THREADS_BENCH_SUPPORT_DEFS_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t int32;
typedef uint32_t uint32;
typedef int32 status_t;
typedef int32 thread_id;

#define B_OK			((status_t)0)
#define B_NO_MEMORY		((status_t)-2147483647 - 1)

#endif
