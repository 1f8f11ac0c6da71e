//! The course's peer-to-peer overlays as deterministic simulations, where a
//! real network would not teach better: the circular DHT ([`dht`]) with its
//! lookups, shortcuts and churn, and query flooding with a node count on an
//! unstructured overlay, with KaZaA's supernodes as a variant ([`flood`]).
//! No clock and no I/O: the page draws them, the tests check the course's
//! numbers.

pub mod dht;
pub mod flood;
