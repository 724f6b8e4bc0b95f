//! What several subcommands share about the host system: writing files
//! ([`fs`]) and describing child processes ([`process`]). Nothing here
//! belongs to one subcommand, so none has to reach into another.

pub mod fs;
pub mod process;
