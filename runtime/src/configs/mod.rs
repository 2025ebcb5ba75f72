//! Pallet configurations, one file per concern.

pub mod collator;
pub mod governance;
pub mod monetary;
pub mod parachain;
pub mod replica;
pub mod system;
#[cfg(feature = "upgrade-test")]
pub mod upgrade_test;
pub mod xcm_config;

pub use system::RuntimeBlockWeights;
