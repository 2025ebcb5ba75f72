//! pallet-swarm tests, by topic.
