//! The list queries of the Describe actions: ids or `Filters`, `Limit` and `Offset`, read and
//! checked as `DescribeRefreshActivities` does (OQ-29's order), each action with its documented
//! filter names (Tencent's SDK `models.py`). Paging is the caller's (`page`).

use super::body::{Body, required};
use super::error::{ApiError, ErrorCode};
use super::request::Filter;
use serde_json::Value;

/// Tencent's limits for every Describe list (the SDK's request models).
pub const MAX_IDS: usize = 100;
pub const MAX_FILTERS: usize = 10;
pub const MAX_FILTER_VALUES: usize = 5;
pub const MAX_LIMIT: u64 = 100;
pub const DEFAULT_LIMIT: u64 = 20;

/// One action's list query as written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub ids: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// What a filter's values must look like.
#[derive(Debug, Clone, Copy)]
pub enum ValueRule {
    Any,
    /// An id with this prefix (`asg-`, `ins-` ...): `InvalidParameterValue.Filter` otherwise.
    IdPrefix(&'static str),
    /// One of an enumeration's spellings.
    OneOf(fn(&str) -> bool),
    /// A scaling group id (`asg-…`), refused with its own code
    /// (`InvalidParameterValue.InvalidAutoScalingGroupId`), as DescribeRefreshActivities does.
    ScalingGroupId,
}

/// A documented filter name; `tag:` is a prefix (`tag:KEY`).
#[derive(Debug, Clone, Copy)]
pub struct FilterSpec {
    pub name: &'static str,
    pub rule: ValueRule,
}

/// One action's list: the ids field and the documented filters.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    pub ids_field: &'static str,
    pub filters: &'static [FilterSpec],
}

pub const TAG_PREFIX: &str = "tag:";

impl ListSpec {
    /// The fields of the list part of a request body (the caller adds its own).
    pub fn fields(&self) -> [&'static str; 4] {
        [self.ids_field, "Filters", "Limit", "Offset"]
    }

    fn filter(&self, name: &str) -> Option<&FilterSpec> {
        self.filters.iter().find(|f| {
            (f.name != TAG_PREFIX && f.name == name)
                || (f.name == TAG_PREFIX
                    && name.len() > TAG_PREFIX.len()
                    && name.starts_with(TAG_PREFIX))
        })
    }
}

/// Reads the list fields of `body` (shape only: types and required `Name`/`Values`).
pub fn read_list(body: &Body<'_>, spec: &ListSpec) -> Result<ListQuery, ApiError> {
    let ids = body.strings(spec.ids_field)?;
    let filters = match body.objects("Filters", &["Name", "Values"])? {
        None => None,
        Some(items) => {
            let mut filters = Vec::with_capacity(items.len());
            for item in &items {
                let name = item.string("Name")?;
                let values = item.strings("Values")?;
                filters.push(Filter {
                    name: required(name, item, "Name")?,
                    values: required(values, item, "Values")?,
                });
            }
            Some(filters)
        }
    };
    Ok(ListQuery {
        ids,
        filters,
        limit: body.uint("Limit")?,
        offset: body.uint("Offset")?,
    })
}

/// Reads a body that is only a list query.
pub fn parse_list(value: &Value, spec: &ListSpec) -> Result<ListQuery, ApiError> {
    let body = Body::top(value, &spec.fields())?;
    read_list(&body, spec)
}

fn limit_exceeded(what: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValueLimitExceeded, what)
}

/// The checks of OQ-29, in its order: ids with Filters, too many ids, too many filters, Limit
/// over 100, then each filter's name, value count and values.
pub fn check_list(query: &ListQuery, spec: &ListSpec) -> Result<(), ApiError> {
    check_list_parts(
        query.ids.as_deref(),
        query.filters.as_deref(),
        query.limit,
        spec,
    )
}

/// [`check_list`] over the parts of a request that keeps them in its own type.
pub fn check_list_parts(
    ids: Option<&[String]>,
    filters: Option<&[Filter]>,
    limit: Option<u64>,
    spec: &ListSpec,
) -> Result<(), ApiError> {
    if ids.is_some() && filters.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterConflict,
            format!(
                "{} and Filters cannot be specified at the same time",
                spec.ids_field
            ),
        ));
    }
    if let Some(ids) = ids
        && ids.len() > MAX_IDS
    {
        return Err(limit_exceeded(format!(
            "at most {MAX_IDS} {} per request, found {}",
            spec.ids_field,
            ids.len()
        )));
    }
    if let Some(filters) = filters
        && filters.len() > MAX_FILTERS
    {
        return Err(limit_exceeded(format!(
            "at most {MAX_FILTERS} Filters per request, found {}",
            filters.len()
        )));
    }
    if let Some(limit) = limit
        && limit > MAX_LIMIT
    {
        return Err(limit_exceeded(format!(
            "Limit must be at most {MAX_LIMIT}, found {limit}"
        )));
    }
    for filter in filters.into_iter().flatten() {
        check_filter(filter, spec)?;
    }
    Ok(())
}

fn check_filter(filter: &Filter, spec: &ListSpec) -> Result<(), ApiError> {
    let Some(known) = spec.filter(&filter.name) else {
        let names: Vec<String> = spec
            .filters
            .iter()
            .map(|f| {
                if f.name == TAG_PREFIX {
                    "tag:<key>".to_string()
                } else {
                    f.name.to_string()
                }
            })
            .collect();
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValueInvalidFilter,
            format!(
                "Unknown filter `{}`; supported: {}",
                filter.name,
                names.join(", ")
            ),
        ));
    };
    if filter.values.len() > MAX_FILTER_VALUES {
        return Err(ApiError::new(
            ErrorCode::LimitExceededFilterValuesTooLong,
            format!(
                "Filter `{}` has {} values; at most {MAX_FILTER_VALUES} are allowed",
                filter.name,
                filter.values.len()
            ),
        ));
    }
    for value in &filter.values {
        let ok = match known.rule {
            ValueRule::Any => true,
            ValueRule::IdPrefix(prefix) => is_well_formed_id(value, prefix),
            ValueRule::OneOf(parse) => parse(value),
            ValueRule::ScalingGroupId => {
                if !is_well_formed_id(value, "asg-") {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterValueInvalidAutoScalingGroupId,
                        format!("`{value}` is not a valid scaling group id (asg-…)"),
                    ));
                }
                true
            }
        };
        if !ok {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValueFilter,
                format!("Invalid value `{value}` for filter `{}`", filter.name),
            ));
        }
    }
    Ok(())
}

/// `prefix` followed by one or more lower-case letters or digits.
pub fn is_well_formed_id(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

impl ListQuery {
    /// Whether an item passes: its id is listed, or every filter has a value the item shows
    /// (`values_of(name)` gives the item's values for a filter; none = no match).
    pub fn admits(&self, id: &str, values_of: impl Fn(&str) -> Vec<String>) -> bool {
        if let Some(ids) = &self.ids {
            return ids.iter().any(|x| x == id); // unknown ids are silently absent
        }
        self.filters.iter().flatten().all(|filter| {
            let shown = values_of(&filter.name);
            filter.values.iter().any(|v| shown.iter().any(|s| s == v))
        })
    }

    /// `TotalCount` and the page of `items` (already in the action's order).
    pub fn page<T>(&self, items: Vec<T>) -> (u64, Vec<T>) {
        let total = items.len() as u64;
        let offset = self.offset.unwrap_or(0).min(total) as usize;
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let page = items.into_iter().skip(offset).take(limit).collect();
        (total, page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: ListSpec = ListSpec {
        ids_field: "InstanceIds",
        filters: &[
            FilterSpec {
                name: "instance-id",
                rule: ValueRule::IdPrefix("ins-"),
            },
            FilterSpec {
                name: TAG_PREFIX,
                rule: ValueRule::Any,
            },
        ],
    };

    fn code(body: Value) -> Option<ErrorCode> {
        parse_list(&body, &SPEC)
            .and_then(|q| check_list(&q, &SPEC))
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn oq29_checks_in_order_for_any_list() {
        assert_eq!(code(json!({})), None);
        assert_eq!(
            code(json!({"InstanceIds": ["ins-a"], "Filters": [], "Limit": 101})),
            Some(ErrorCode::InvalidParameterConflict)
        );
        assert_eq!(
            code(json!({"Limit": 101})),
            Some(ErrorCode::InvalidParameterValueLimitExceeded)
        );
        assert_eq!(code(json!({"Limit": 100})), None);
        assert_eq!(
            code(json!({"Limit": -1})),
            Some(ErrorCode::InvalidParameter)
        );
        assert_eq!(
            code(json!({"Filters": [{"Name": "zone", "Values": ["x"]}]})),
            Some(ErrorCode::InvalidParameterValueInvalidFilter)
        );
        assert_eq!(
            code(
                json!({"Filters": [{"Name": "instance-id", "Values": ["a", "b", "c", "d", "e", "f"]}]})
            ),
            Some(ErrorCode::LimitExceededFilterValuesTooLong)
        );
        assert_eq!(
            code(json!({"Filters": [{"Name": "instance-id", "Values": ["asg-1"]}]})),
            Some(ErrorCode::InvalidParameterValueFilter)
        );
        assert_eq!(
            code(json!({"Filters": [{"Name": "tag:team", "Values": ["x"]}]})),
            None
        );
        assert_eq!(
            code(json!({"Filters": [{"Name": "tag:", "Values": ["x"]}]})),
            Some(ErrorCode::InvalidParameterValueInvalidFilter)
        );
        assert_eq!(
            code(json!({"Filters": [{"Name": "instance-id"}]})),
            Some(ErrorCode::MissingParameter)
        );
        assert_eq!(code(json!({"Other": 1})), Some(ErrorCode::UnknownParameter));
    }

    #[test]
    fn paging_defaults_to_20_from_0_and_clamps_the_offset() {
        let q = ListQuery::default();
        let (total, page) = q.page((0..45).collect::<Vec<_>>());
        assert_eq!((total, page.len(), page[0]), (45, 20, 0));
        let q = ListQuery {
            offset: Some(40),
            limit: Some(10),
            ..ListQuery::default()
        };
        assert_eq!(
            q.page((0..45).collect::<Vec<_>>()),
            (45, vec![40, 41, 42, 43, 44])
        );
        let q = ListQuery {
            offset: Some(99),
            ..ListQuery::default()
        };
        assert_eq!(q.page((0..45).collect::<Vec<_>>()), (45, vec![]));
    }

    #[test]
    fn ids_select_and_filters_and_together() {
        let by_id = ListQuery {
            ids: Some(vec!["ins-b".into()]),
            ..ListQuery::default()
        };
        assert!(by_id.admits("ins-b", |_| vec![]));
        assert!(!by_id.admits("ins-a", |_| vec![]));
        let filtered = ListQuery {
            filters: Some(vec![
                Filter {
                    name: "instance-id".into(),
                    values: vec!["ins-a".into(), "ins-b".into()],
                },
                Filter {
                    name: "tag:team".into(),
                    values: vec!["web".into()],
                },
            ]),
            ..ListQuery::default()
        };
        let values = |name: &str| match name {
            "instance-id" => vec!["ins-a".to_string()],
            "tag:team" => vec!["web".to_string()],
            _ => vec![],
        };
        assert!(filtered.admits("ins-a", values));
        assert!(!filtered.admits("ins-a", |n| if n == "tag:team" {
            vec![]
        } else {
            values(n)
        }));
    }
}
