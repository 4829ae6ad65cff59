//! refreshsim: a deterministic discrete-event simulator of Tencent Cloud Auto Scaling's
//! instance refresh. See ARCHITECTURE.md for the map.

pub mod api;
pub mod hash;
pub mod model;
pub mod scenario;
pub mod sim;
pub mod time;
pub mod timeline;
