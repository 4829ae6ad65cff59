//! refreshsim: a deterministic discrete-event simulator of Tencent Cloud Auto Scaling's
//! instance refresh. See ARCHITECTURE.md for the map.

pub mod account;
pub mod advise;
pub mod api;
pub mod app;
pub mod check;
pub mod fit;
pub mod hash;
pub mod import;
pub mod model;
pub mod output;
pub mod report;
pub mod run;
pub mod scenario;
pub mod serve;
pub mod sim;
pub mod sweep;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod timeline;
