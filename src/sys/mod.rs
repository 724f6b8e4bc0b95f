//! What several subcommands share about the host system: the test-only
//! fault switch of the crash-safety tests ([`fault`]), writing files
//! ([`fs`]), describing child processes ([`process`]) and finding the top
//! of a Haiku checkout ([`tree`]). Nothing here belongs to one subcommand,
//! so none has to reach into another.

pub mod fault;
pub mod fs;
pub mod process;
pub mod tree;
