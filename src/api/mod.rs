//! Tencent vocabulary: request and response structures with exact field names, status enums,
//! error codes and the request checks that need no state. Knows nothing of time, RNG or files.

pub mod body;
pub mod documented;
pub mod enums;
pub mod error;
pub mod lc_fields;
pub mod query;
pub mod request;
pub mod response;
pub mod settings;

pub use enums::*;
pub use error::{ApiError, ErrorCode};
pub use request::{Action, ApiCall};
pub use response::*;
pub use settings::RefreshSettings;
