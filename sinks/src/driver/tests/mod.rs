//! Unit tests of [`super`].

mod route;
