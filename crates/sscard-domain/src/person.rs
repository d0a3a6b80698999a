//! person
