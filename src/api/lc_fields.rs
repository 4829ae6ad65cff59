//! Every field of `ModifyLaunchConfigurationAttributes`' request model (Tencent's SDK
//! `models.py`, 27 fields) with its JSON type, nested models included, and the value
//! `DescribeLaunchConfigurations` shows when a field was never set (Tencent's documented
//! default, or OQ-91's). Fields no refresh reads are stored as written, after this type check.

use super::error::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// A field's JSON type.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    Strs,
    Obj(&'static [Field]),
    Objs(&'static [Field]),
}

/// A field: name, type, default (JSON text; unused for objects, whose default is built from
/// their fields'), and whether Describe shows it (`LoginSettings.Password` is write-only).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub default: &'static str,
    pub shown: bool,
}

const fn f(name: &'static str, ty: Ty, default: &'static str) -> Field {
    Field {
        name,
        ty,
        default,
        shown: true,
    }
}

const fn hidden(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        default: "null",
        shown: false,
    }
}

use Ty::{Bool, Int, Obj, Objs, Str, Strs};

const ENABLED_TRUE: &[Field] = &[f("Enabled", Bool, "true")];
const INTERNET_ACCESSIBLE: &[Field] = &[
    f("InternetChargeType", Str, "\"TRAFFIC_POSTPAID_BY_HOUR\""),
    f("InternetMaxBandwidthOut", Int, "0"),
    f("PublicIpAssigned", Bool, "false"),
    f("BandwidthPackageId", Str, "\"\""),
    f("InternetServiceProvider", Str, "\"BGP\""),
    f("IPv4AddressType", Str, "\"WanIP\""),
    f("AntiDDoSPackageId", Str, "\"\""),
    f("IsKeepEIP", Bool, "false"),
];
const CHARGE_PREPAID: &[Field] = &[
    f("Period", Int, "0"), // what a real POSTPAID configuration shows (tests/fixtures/account)
    f("RenewFlag", Str, "\"NOTIFY_AND_MANUAL_RENEW\""),
];
const SPOT_OPTIONS: &[Field] = &[
    f("MaxPrice", Str, "\"\""),
    f("SpotInstanceType", Str, "\"one-time\""),
];
const MARKET_OPTIONS: &[Field] = &[
    f("SpotOptions", Obj(SPOT_OPTIONS), ""),
    f("MarketType", Str, "\"spot\""),
];
const SYSTEM_DISK: &[Field] = &[
    f("DiskType", Str, "\"CLOUD_PREMIUM\""),
    f("DiskSize", Int, "50"),
    f("Encrypt", Bool, "false"),
    f("KmsKeyId", Str, "\"\""),
];
const DATA_DISK: &[Field] = &[
    f("DiskType", Str, "\"CLOUD_PREMIUM\""),
    f("DiskSize", Int, "0"),
    f("SnapshotId", Str, "\"\""),
    f("DeleteWithInstance", Bool, "true"),
    f("Encrypt", Bool, "false"),
    f("ThroughputPerformance", Int, "0"),
    f("BurstPerformance", Bool, "false"),
    f("KmsKeyId", Str, "\"\""),
];
const HOST_NAME: &[Field] = &[
    f("HostName", Str, "\"\""),
    f("HostNameStyle", Str, "\"ORIGINAL\""),
    f("HostNameSuffix", Str, "\"\""),
    f("HostNameDelimiter", Str, "\".\""),
];
const INSTANCE_NAME: &[Field] = &[
    f("InstanceName", Str, "\"\""),
    f("InstanceNameStyle", Str, "\"ORIGINAL\""),
    f("InstanceNameSuffix", Str, "\"\""),
    f("InstanceNameDelimiter", Str, "\".\""),
];
const ENHANCED: &[Field] = &[
    f("SecurityService", Obj(ENABLED_TRUE), ""),
    f("MonitorService", Obj(ENABLED_TRUE), ""),
    f("AutomationService", Objs(ENABLED_TRUE), "[]"),
    f("AutomationToolsService", Obj(ENABLED_TRUE), ""),
];
const IPV6: &[Field] = &[
    f("InternetChargeType", Str, "\"TRAFFIC_POSTPAID_BY_HOUR\""),
    f("InternetMaxBandwidthOut", Int, "0"),
    f("BandwidthPackageId", Str, "\"\""),
];
/// The request's `LoginSettings`; Describe shows `LimitedLoginSettings` (`KeyIds` only).
const LOGIN: &[Field] = &[
    hidden("Password", Str),
    f("KeyIds", Strs, "[]"),
    hidden("KeepImageLogin", Bool),
];
const KEY_VALUE: &[Field] = &[f("Key", Str, "\"\""), f("Value", Str, "\"\"")];
const METADATA: &[Field] = &[f("Items", Objs(KEY_VALUE), "[]")];
const NETWORK_INTERFACE: &[Field] = &[
    f("InterfaceType", Str, "\"PRIMARY\""),
    f("PrivateIpv4AddressCount", Int, "1"),
    f("SecurityGroupIds", Strs, "[]"),
    f("IsKeepENI", Bool, "false"),
];

/// The request model's fields other than `LaunchConfigurationId`, in the SDK's order.
pub const MODIFY_FIELDS: &[Field] = &[
    f("ImageId", Str, "\"\""),
    f("InstanceTypes", Strs, "[]"),
    f("InstanceTypesCheckPolicy", Str, "\"ANY\""),
    f("LaunchConfigurationName", Str, "\"\""),
    f("UserData", Str, "\"\""),
    f("SecurityGroupIds", Strs, "[]"),
    f("InternetAccessible", Obj(INTERNET_ACCESSIBLE), ""),
    f("InstanceChargeType", Str, "\"POSTPAID_BY_HOUR\""),
    f("InstanceChargePrepaid", Obj(CHARGE_PREPAID), ""),
    f("InstanceMarketOptions", Obj(MARKET_OPTIONS), ""),
    f("DiskTypePolicy", Str, "\"ORIGINAL\""),
    f("SystemDisk", Obj(SYSTEM_DISK), ""),
    f("DataDisks", Objs(DATA_DISK), "[]"),
    f("HostNameSettings", Obj(HOST_NAME), ""),
    f("InstanceNameSettings", Obj(INSTANCE_NAME), ""),
    f("EnhancedService", Obj(ENHANCED), ""),
    f("CamRoleName", Str, "\"\""),
    f("HpcClusterId", Str, "\"\""),
    f("IPv6InternetAccessible", Obj(IPV6), ""),
    f("DisasterRecoverGroupIds", Strs, "[]"),
    f("LoginSettings", Obj(LOGIN), ""),
    f("InstanceTags", Objs(KEY_VALUE), "[]"),
    f("ImageFamily", Str, "\"\""),
    f("DedicatedClusterId", Str, "\"\""),
    f("Metadata", Obj(METADATA), ""),
    f("NetworkInterfaces", Objs(NETWORK_INTERFACE), "[]"),
];

/// Request fields whose change a refresh or a new instance reads (the rest are stored).
pub const MODELLED: &[&str] = &[
    "ImageId",
    "InstanceTypes",
    "UserData",
    "EnhancedService",
    "HostNameSettings",
    "LoginSettings",
];

pub fn field(name: &str) -> Option<&'static Field> {
    MODIFY_FIELDS.iter().find(|f| f.name == name)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expected(ty: Ty) -> &'static str {
    match ty {
        Str => "a string",
        Int => "an integer",
        Bool => "a boolean",
        Strs => "an array of strings",
        Obj(_) => "an object",
        Objs(_) => "an array of objects",
    }
}

fn wrong_type(path: &str, ty: Ty, found: &Value) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameter,
        format!(
            "The parameter `{path}` must be {}, found {}",
            expected(ty),
            type_name(found)
        ),
    )
}

/// Checks `value` against `ty`: unknown nested fields are `UnknownParameter`, wrong types
/// `InvalidParameter` (a null is absent, as at the top level).
pub fn check(path: &str, ty: Ty, value: &Value) -> Result<(), ApiError> {
    match (ty, value) {
        (_, Value::Null) => Ok(()),
        (Str, Value::String(_)) | (Bool, Value::Bool(_)) => Ok(()),
        (Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        (Strs, Value::Array(items)) => match items.iter().find(|v| !v.is_string()) {
            None => Ok(()),
            Some(bad) => Err(wrong_type(path, ty, bad)),
        },
        (Obj(fields), Value::Object(map)) => check_object(path, fields, map),
        (Objs(fields), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}.{i}");
                match item {
                    Value::Object(map) => check_object(&item_path, fields, map)?,
                    other => return Err(wrong_type(&item_path, Obj(fields), other)),
                }
            }
            Ok(())
        }
        (Str | Int | Bool | Strs | Obj(_) | Objs(_), other) => Err(wrong_type(path, ty, other)),
    }
}

fn check_object(path: &str, fields: &[Field], map: &Map<String, Value>) -> Result<(), ApiError> {
    for (name, value) in map {
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            return Err(ApiError::new(
                ErrorCode::UnknownParameter,
                format!("The parameter `{path}.{name}` is not recognized"),
            ));
        };
        check(&format!("{path}.{name}"), field.ty, value)?;
    }
    Ok(())
}

/// What Describe shows for a field: the stored value over the defaults, nested fields merged
/// one by one, write-only fields left out.
pub fn render(field: &Field, stored: Option<&Value>) -> Value {
    let stored = stored.filter(|v| !v.is_null());
    match field.ty {
        Obj(fields) => {
            let map = stored.and_then(Value::as_object);
            Value::Object(render_object(fields, map))
        }
        Objs(fields) => match stored.and_then(Value::as_array) {
            None => Value::Array(Vec::new()),
            Some(items) => Value::Array(
                items
                    .iter()
                    .map(|item| Value::Object(render_object(fields, item.as_object())))
                    .collect(),
            ),
        },
        Str | Int | Bool | Strs => match stored {
            Some(v) => v.clone(),
            None => serde_json::from_str(field.default).expect("defaults are JSON"),
        },
    }
}

fn render_object(fields: &[Field], map: Option<&Map<String, Value>>) -> Map<String, Value> {
    fields
        .iter()
        .filter(|f| f.shown)
        .map(|f| {
            (
                f.name.to_string(),
                render(f, map.and_then(|m| m.get(f.name))),
            )
        })
        .collect()
}

/// The documented value rules of `ModifyLaunchConfigurationAttributes` (the SDK's model), checked
/// after the shape and before the launch configuration is looked up (OQ-27's order, OQ-91).
pub fn check_values(
    req: &super::request::ModifyLaunchConfigurationRequest,
) -> Result<(), ApiError> {
    let invalid = |code: ErrorCode, message: String| Err(ApiError::new(code, message));
    let one_of = |name: &str, allowed: &[&str]| -> Result<(), ApiError> {
        match req.stored.get(name).and_then(Value::as_str) {
            Some(v) if !allowed.contains(&v) => invalid(
                ErrorCode::InvalidParameterValue,
                format!("{name} must be one of {}, found {v:?}", allowed.join(" | ")),
            ),
            Some(_) | None => Ok(()),
        }
    };
    one_of("InstanceTypesCheckPolicy", &["ALL", "ANY"])?;
    one_of(
        "InstanceChargeType",
        &["POSTPAID_BY_HOUR", "SPOTPAID", "PREPAID", "CDCPAID"],
    )?;
    one_of("DiskTypePolicy", &["ORIGINAL", "AUTOMATIC"])?;
    if let Some(types) = &req.instance_types {
        if types.is_empty() {
            return invalid(
                ErrorCode::InvalidParameterValueTooShort,
                "InstanceTypes must list at least one instance type".into(),
            );
        }
        if types.len() > MAX_INSTANCE_TYPES {
            return invalid(
                ErrorCode::InvalidParameterValueTooLong,
                format!(
                    "at most {MAX_INSTANCE_TYPES} InstanceTypes, found {}",
                    types.len()
                ),
            );
        }
    }
    let count = |name: &str| req.stored.get(name).and_then(Value::as_array).map(Vec::len);
    if count("SecurityGroupIds") == Some(0) {
        return invalid(
            ErrorCode::InvalidParameterValueTooShort,
            "SecurityGroupIds must list at least one security group".into(),
        );
    }
    for (name, max) in [
        ("DataDisks", MAX_DATA_DISKS),
        ("InstanceTags", MAX_INSTANCE_TAGS),
        ("NetworkInterfaces", MAX_NETWORK_INTERFACES),
    ] {
        if let Some(n) = count(name)
            && n > max
        {
            return invalid(
                ErrorCode::InvalidParameterValueTooLong,
                format!("at most {max} {name}, found {n}"),
            );
        }
    }
    if let Some(name) = req
        .stored
        .get("LaunchConfigurationName")
        .and_then(Value::as_str)
        && (name.is_empty() || name.len() > MAX_NAME_BYTES)
    {
        return invalid(
            ErrorCode::InvalidParameterValue,
            format!(
                "LaunchConfigurationName must be 1 to {MAX_NAME_BYTES} bytes, found {}",
                name.len()
            ),
        );
    }
    if let Some(data) = &req.user_data {
        if data.len() > MAX_USER_DATA_BYTES {
            return invalid(
                ErrorCode::InvalidParameterValueUserDataSizeExceeded,
                format!(
                    "UserData is {} bytes; at most {MAX_USER_DATA_BYTES} (16 KB, Base64-encoded)",
                    data.len()
                ),
            );
        }
        if !is_base64(data) {
            return invalid(
                ErrorCode::InvalidParameterValueUserDataFormatError,
                "UserData must be Base64-encoded (an empty string clears it)".into(),
            );
        }
    }
    Ok(())
}

/// The model's documented maxima.
pub const MAX_INSTANCE_TYPES: usize = 10;
pub const MAX_DATA_DISKS: usize = 11;
pub const MAX_INSTANCE_TAGS: usize = 10;
pub const MAX_NETWORK_INTERFACES: usize = 17;
pub const MAX_NAME_BYTES: usize = 60;
pub const MAX_USER_DATA_BYTES: usize = 16 * 1024;

/// Standard Base64 with padding (empty is valid).
fn is_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let padding = bytes.iter().rev().take_while(|b| **b == b'=').count();
    padding <= 2
        && bytes[..bytes.len() - padding]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_request_model_has_its_27_fields() {
        assert_eq!(MODIFY_FIELDS.len() + 1, 27);
        for name in MODELLED {
            assert!(field(name).is_some(), "{name}");
        }
    }

    #[test]
    fn nested_types_and_names_are_checked() {
        let disk = field("SystemDisk").unwrap();
        assert!(
            check(
                "SystemDisk",
                disk.ty,
                &json!({"DiskType": "CLOUD_SSD", "DiskSize": 100})
            )
            .is_ok()
        );
        let e = check("SystemDisk", disk.ty, &json!({"DiskSize": "100"})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert!(e.message.contains("SystemDisk.DiskSize"), "{e}");
        let e = check("SystemDisk", disk.ty, &json!({"Size": 1})).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownParameter);
        let disks = field("DataDisks").unwrap();
        let e = check("DataDisks", disks.ty, &json!([{"DiskSize": 1}, 3])).unwrap_err();
        assert!(e.message.contains("DataDisks.1"), "{e}");
        let sg = field("SecurityGroupIds").unwrap();
        assert!(check("SecurityGroupIds", sg.ty, &json!(["sg-1", 2])).is_err());
        let e = check(
            "EnhancedService",
            field("EnhancedService").unwrap().ty,
            &json!({"MonitorService": {"Enabled": 1}}),
        )
        .unwrap_err();
        assert!(
            e.message.contains("EnhancedService.MonitorService.Enabled"),
            "{e}"
        );
    }

    #[test]
    fn values_are_checked_as_documented() {
        use crate::api::request::{Action, ApiCall};
        let code = |body: Value| {
            let mut body = body;
            body["LaunchConfigurationId"] = json!("asc-1");
            let ApiCall::ModifyLaunchConfigurationAttributes(req) =
                ApiCall::parse(Action::ModifyLaunchConfigurationAttributes, &body).unwrap()
            else {
                panic!()
            };
            check_values(&req).err().map(|e| e.code)
        };
        assert_eq!(code(json!({"UserData": "djE="})), None);
        assert_eq!(code(json!({"UserData": ""})), None);
        assert_eq!(
            code(json!({"UserData": "not base64!"})),
            Some(ErrorCode::InvalidParameterValueUserDataFormatError)
        );
        assert_eq!(
            code(json!({"UserData": "A".repeat(16 * 1024 + 4)})),
            Some(ErrorCode::InvalidParameterValueUserDataSizeExceeded)
        );
        assert_eq!(
            code(json!({"InstanceTypesCheckPolicy": "SOME"})),
            Some(ErrorCode::InvalidParameterValue)
        );
        assert_eq!(
            code(json!({"InstanceTypes": []})),
            Some(ErrorCode::InvalidParameterValueTooShort)
        );
        assert_eq!(
            code(json!({"InstanceTypes": vec!["S5.SMALL1"; 11]})),
            Some(ErrorCode::InvalidParameterValueTooLong)
        );
        assert_eq!(
            code(json!({"SecurityGroupIds": []})),
            Some(ErrorCode::InvalidParameterValueTooShort)
        );
        assert_eq!(
            code(json!({"LaunchConfigurationName": "x".repeat(61)})),
            Some(ErrorCode::InvalidParameterValue)
        );
        assert_eq!(code(json!({"DiskTypePolicy": "AUTOMATIC"})), None);
    }

    #[test]
    fn describe_merges_stored_over_defaults_and_hides_the_password() {
        let disk = render(
            field("SystemDisk").unwrap(),
            Some(&json!({"DiskSize": 100})),
        );
        assert_eq!(
            disk,
            json!({"DiskType": "CLOUD_PREMIUM", "DiskSize": 100, "Encrypt": false, "KmsKeyId": ""})
        );
        let login = render(
            field("LoginSettings").unwrap(),
            Some(&json!({"Password": "secret", "KeyIds": ["skey-1"]})),
        );
        assert_eq!(login, json!({"KeyIds": ["skey-1"]}));
        assert_eq!(render(field("DataDisks").unwrap(), None), json!([]));
        assert_eq!(render(field("CamRoleName").unwrap(), None), json!(""));
    }
}
