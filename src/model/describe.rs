//! `DescribeRefreshActivities` (§1.2, OQ-29): Tencent's exact response shape, at any instant.

use super::world::{Activity, World};
use crate::api::query::{FilterSpec, ListSpec, ValueRule, check_list_parts};
use crate::api::request::DescribeRefreshActivitiesRequest;
use crate::api::{
    ActivityStatus, ActivityType, ApiError, ApiOutput, RefreshActivity, RefreshBatch,
    RefreshBatchRelatedInstance,
};
use crate::time::Epoch;

/// §1.2 limits: the same for every Describe list.
pub use crate::api::query::{DEFAULT_LIMIT, MAX_FILTER_VALUES, MAX_FILTERS, MAX_IDS, MAX_LIMIT};

impl World {
    /// The describe query, checked in OQ-29's order. Read-only.
    pub fn describe(&self, req: &DescribeRefreshActivitiesRequest) -> Result<ApiOutput, ApiError> {
        self.describe_at(req, self.epoch)
    }

    pub fn describe_at(
        &self,
        req: &DescribeRefreshActivitiesRequest,
        epoch: Epoch,
    ) -> Result<ApiOutput, ApiError> {
        check_describe(req)?;
        let mut matched: Vec<&Activity> = self
            .activities
            .iter()
            .filter(|act| self.matches(act, req))
            .collect();
        // OQ-29: CreatedTime descending, then RefreshActivityId ascending.
        matched.sort_by(|x, y| {
            y.created
                .as_ms()
                .cmp(&x.created.as_ms())
                .then_with(|| self.names.get(x.id).cmp(self.names.get(y.id)))
        });
        let total_count = matched.len() as u64;
        let offset = req.offset.unwrap_or(0).min(total_count) as usize;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let page = matched
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|act| self.render_activity(act, epoch))
            .collect();
        Ok(ApiOutput::Describe {
            total_count,
            refresh_activity_set: page,
        })
    }

    fn matches(&self, act: &Activity, req: &DescribeRefreshActivitiesRequest) -> bool {
        let id = self.names.get(act.id);
        if let Some(ids) = &req.refresh_activity_ids {
            return ids.iter().any(|x| x == id); // unknown ids are silently absent
        }
        req.filters.iter().flatten().all(|filter| {
            let value = match filter.name.as_str() {
                "auto-scaling-group-id" => self.names.get(self.group.id),
                "refresh-activity-status-code" => act.status.as_str(),
                "refresh-activity-type" => act.activity_type.as_str(),
                "refresh-activity-id" => id,
                _ => unreachable!("filter names are checked first"),
            };
            filter.values.iter().any(|v| v == value)
        })
    }

    /// One `RefreshActivity` as Tencent renders it (§2.3–§2.5): batches in descending order,
    /// instances by id, whole-second UTC times (OQ-15).
    pub fn render_activity(&self, act: &Activity, epoch: Epoch) -> RefreshActivity {
        let time = |t: Option<crate::time::SimTime>| t.map(|t| epoch.render(t));
        let batches = act
            .batches
            .iter()
            .enumerate()
            .rev()
            .map(|(b, batch)| RefreshBatch {
                refresh_batch_num: b as u64 + 1,
                refresh_batch_status: batch.status,
                refresh_batch_related_instance_set: act
                    .batch_items(b as u32)
                    .map(|i| {
                        let item = &act.items[i];
                        RefreshBatchRelatedInstance {
                            instance_id: self
                                .names
                                .get(self.instances[item.instance as usize].id)
                                .to_string(),
                            instance_status: item.status,
                            last_activity_id: item
                                .last_activity
                                .map(|s| self.names.get(s).to_string())
                                .unwrap_or_default(),
                            instance_status_message: item.msg.render(&self.names),
                        }
                    })
                    .collect(),
                start_time: time(batch.started),
                end_time: time(batch.ended),
            })
            .collect();
        RefreshActivity {
            auto_scaling_group_id: self.names.get(self.group.id).to_string(),
            refresh_activity_id: self.names.get(act.id).to_string(),
            origin_refresh_activity_id: act
                .origin
                .map(|o| self.names.get(self.activities[o as usize].id).to_string())
                .unwrap_or_default(),
            refresh_batch_set: batches,
            refresh_mode: act.mode,
            refresh_settings: act.settings.to_output(),
            activity_type: act.activity_type,
            status: act.status,
            current_refresh_batch_num: u64::from(act.cursor) + 1,
            start_time: time(act.started),
            end_time: time(act.ended),
            created_time: epoch.render(act.created),
        }
    }
}

/// DescribeRefreshActivities' list (§1.2): its ids field and documented filters.
const REFRESH_LIST: ListSpec = ListSpec {
    ids_field: "RefreshActivityIds",
    filters: &[
        FilterSpec {
            name: "auto-scaling-group-id",
            rule: ValueRule::ScalingGroupId,
        },
        FilterSpec {
            name: "refresh-activity-status-code",
            rule: ValueRule::OneOf(is_activity_status),
        },
        FilterSpec {
            name: "refresh-activity-type",
            rule: ValueRule::OneOf(is_activity_type),
        },
        FilterSpec {
            name: "refresh-activity-id",
            rule: ValueRule::Any,
        },
    ],
};

fn is_activity_status(value: &str) -> bool {
    ActivityStatus::parse(value).is_some()
}

fn is_activity_type(value: &str) -> bool {
    ActivityType::parse(value).is_some()
}

/// OQ-29 checks, in order (the shared list checks of every Describe action).
pub fn check_describe(req: &DescribeRefreshActivitiesRequest) -> Result<(), ApiError> {
    check_list_parts(
        req.refresh_activity_ids.as_deref(),
        req.filters.as_deref(),
        req.limit,
        &REFRESH_LIST,
    )
}
