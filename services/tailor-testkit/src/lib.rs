//! Test support shared by Tailor's crates. Not part of the product.

pub mod broker;
pub mod models;
pub mod registry;
pub mod shop;
pub mod synthetic;
