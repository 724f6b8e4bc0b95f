/*
 * dead-threads benchmark shim (not part of Haiku): see SupportDefs.h.
 */
#ifndef DEAD_THREADS_BENCH_OS_H
#define DEAD_THREADS_BENCH_OS_H

#include <stdio.h>
#include <stdlib.h>

#include <SupportDefs.h>

static inline void
debugger(const char* message)
{
	fprintf(stderr, "debugger: %s\n", message);
	abort();
}

#endif
