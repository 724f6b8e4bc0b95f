/*
 * haiku_sys_c_facts.h - the shape shared by haiku-sys's C checks.
 *
 * Written for haiku-sys (dead-threads project). A C check (a .c file in
 * csrc/, one per BindingsSpec in codegen.rs) is compiled by build.rs with
 * the target's C compiler and linked into the crate. Besides its
 * _Static_asserts it exports a table of named facts (sizes, alignments,
 * field offsets, constant values) as the C compiler sees them, through one
 * function defined with HAIKU_SYS_C_FACTS(); a Rust test
 * (tests/c_facts/mod.rs) reads the table and compares it, name by name,
 * with what Rust computes for the bindgen'd items.
 */
#ifndef HAIKU_SYS_C_FACTS_H
#define HAIKU_SYS_C_FACTS_H


#include <stddef.h>
#include <stdint.h>


/* One fact: its name (as the Rust test spells it) and its value. */
typedef struct haiku_sys_c_fact {
	const char*	name;
	int64_t		value;
} haiku_sys_c_fact;

#define SIZE(type)			{ "sizeof " #type, (int64_t)sizeof(type) }
#define ALIGN(type)			{ "alignof " #type, (int64_t)_Alignof(type) }
#define OFFSET(type, field)	{ #type "." #field, (int64_t)offsetof(type, field) }
#define VALUE(name)			{ #name, (int64_t)(name) }

/* Defines "const haiku_sys_c_fact* function(size_t* _count)", which returns
 * the static array table and stores its length in *_count. */
#define HAIKU_SYS_C_FACTS(function, table) \
	const haiku_sys_c_fact* function(size_t* _count); \
	\
	const haiku_sys_c_fact* \
	function(size_t* _count) \
	{ \
		*_count = sizeof(table) / sizeof(table[0]); \
		return table; \
	}


#endif	/* HAIKU_SYS_C_FACTS_H */
