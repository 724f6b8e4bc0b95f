//! Bindings to Haiku's native thread API.
