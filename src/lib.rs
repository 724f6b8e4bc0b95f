//! dead-threads: verify that Haiku keeps every thread's exit status until it is joined.
