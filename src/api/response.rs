//! Response structures, serialized in Tencent's field order (`reference/autoscaling-refresh-api.json`)
//! inside the API 3.0 envelope.

use super::enums::{ActivityStatus, ActivityType, BatchStatus, InstanceStatus, RefreshMode};
use super::error::ApiError;
use super::settings::RefreshSettingsOutput;
use serde::Serialize;
use serde_json::{Map, Value};

/// §2.5 `RefreshBatchRelatedInstance`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefreshBatchRelatedInstance {
    #[serde(rename = "InstanceId")]
    pub instance_id: String,
    #[serde(rename = "InstanceStatus")]
    pub instance_status: InstanceStatus,
    #[serde(rename = "LastActivityId")]
    pub last_activity_id: String,
    #[serde(rename = "InstanceStatusMessage")]
    pub instance_status_message: String,
}

/// §2.4 `RefreshBatch`. `StartTime`/`EndTime` are nullable.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefreshBatch {
    #[serde(rename = "RefreshBatchNum")]
    pub refresh_batch_num: u64,
    #[serde(rename = "RefreshBatchStatus")]
    pub refresh_batch_status: BatchStatus,
    #[serde(rename = "RefreshBatchRelatedInstanceSet")]
    pub refresh_batch_related_instance_set: Vec<RefreshBatchRelatedInstance>,
    #[serde(rename = "StartTime")]
    pub start_time: Option<String>,
    #[serde(rename = "EndTime")]
    pub end_time: Option<String>,
}

/// §2.3 `RefreshActivity`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefreshActivity {
    #[serde(rename = "AutoScalingGroupId")]
    pub auto_scaling_group_id: String,
    #[serde(rename = "RefreshActivityId")]
    pub refresh_activity_id: String,
    /// Only meaningful for rollback activities (§2.3); `""` on NORMAL ones (OQ-37 in README).
    #[serde(rename = "OriginRefreshActivityId")]
    pub origin_refresh_activity_id: String,
    #[serde(rename = "RefreshBatchSet")]
    pub refresh_batch_set: Vec<RefreshBatch>,
    #[serde(rename = "RefreshMode")]
    pub refresh_mode: RefreshMode,
    #[serde(rename = "RefreshSettings")]
    pub refresh_settings: RefreshSettingsOutput,
    #[serde(rename = "ActivityType")]
    pub activity_type: ActivityType,
    #[serde(rename = "Status")]
    pub status: ActivityStatus,
    #[serde(rename = "CurrentRefreshBatchNum")]
    pub current_refresh_batch_num: u64,
    #[serde(rename = "StartTime")]
    pub start_time: Option<String>,
    #[serde(rename = "EndTime")]
    pub end_time: Option<String>,
    #[serde(rename = "CreatedTime")]
    pub created_time: String,
}

/// The payload of a successful call (without `RequestId`).
#[derive(Debug, Clone, PartialEq)]
pub enum ApiOutput {
    /// Stop, Resume, Cancel, Enable, Disable, CompleteLifecycleAction ...: `RequestId` only.
    Empty,
    /// Start and Rollback (§1.1, §1.6).
    RefreshActivityId(String),
    /// A scaling activity was started (RemoveInstances, ScaleOut ...).
    ActivityId(String),
    Describe {
        total_count: u64,
        refresh_activity_set: Vec<RefreshActivity>,
    },
    /// Other JSON payloads (DescribeAutoScalingGroups ...), already in Tencent's shape.
    Json(Map<String, Value>),
}

/// One API response: a request id and an outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub request_id: String,
    pub result: Result<ApiOutput, ApiError>,
}

impl ApiResponse {
    /// The API 3.0 envelope: `{"Response": {..., "RequestId": ...}}` (S-COMMON-ERR).
    pub fn to_json(&self) -> Value {
        match &self.result {
            Err(e) => e.envelope(&self.request_id),
            Ok(output) => {
                let mut body = Map::new();
                match output {
                    ApiOutput::Empty => {}
                    ApiOutput::RefreshActivityId(id) => {
                        body.insert("RefreshActivityId".into(), Value::String(id.clone()));
                    }
                    ApiOutput::ActivityId(id) => {
                        body.insert("ActivityId".into(), Value::String(id.clone()));
                    }
                    ApiOutput::Describe {
                        total_count,
                        refresh_activity_set,
                    } => {
                        body.insert("TotalCount".into(), Value::from(*total_count));
                        body.insert(
                            "RefreshActivitySet".into(),
                            serde_json::to_value(refresh_activity_set)
                                .expect("response structs always serialize"),
                        );
                    }
                    ApiOutput::Json(map) => {
                        for (k, v) in map {
                            body.insert(k.clone(), v.clone());
                        }
                    }
                }
                body.insert("RequestId".into(), Value::String(self.request_id.clone()));
                let mut top = Map::new();
                top.insert("Response".into(), Value::Object(body));
                Value::Object(top)
            }
        }
    }

    pub fn error_code(&self) -> Option<super::error::ErrorCode> {
        self.result.as_ref().err().map(|e| e.code)
    }
}
