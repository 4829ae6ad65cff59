//! Tencent Cloud API 3.0 errors: the product codes of spec §5 and the common codes, spelled
//! exactly, with the 3.0 error envelope.

use serde_json::{Value, json};
use std::fmt;

/// Declares the closed set of error codes this simulator can return.
macro_rules! error_codes {
    ($($(#[$vmeta:meta])* $variant:ident = $text:literal,)+) => {
        /// An error code, spelled as Tencent spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ErrorCode { $($(#[$vmeta])* $variant,)+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)+ }
            }

            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text { $($text => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

error_codes! {
    // Common codes (S-COMMON-ERR).
    /// More than 20 requests of one action in a rolling second (OQ-30).
    RequestLimitExceeded = "RequestLimitExceeded",
    /// A required parameter is absent (OQ-27 step 3).
    MissingParameter = "MissingParameter",
    /// A parameter has the wrong type or shape.
    InvalidParameter = "InvalidParameter",
    /// A parameter value is not allowed (bad enum value, rollback with MaxSurge, ...).
    InvalidParameterValue = "InvalidParameterValue",
    /// A parameter the action does not define (unknown fields are errors, not ignored).
    UnknownParameter = "UnknownParameter",
    UnsupportedOperation = "UnsupportedOperation",
    InternalError = "InternalError",
    ResourceNotFound = "ResourceNotFound",
    /// The action name is not one this endpoint implements.
    InvalidAction = "InvalidAction",
    AuthFailureSignatureFailure = "AuthFailure.SignatureFailure",
    AuthFailureSignatureExpire = "AuthFailure.SignatureExpire",
    AuthFailureSecretIdNotFound = "AuthFailure.SecretIdNotFound",
    AuthFailureInvalidAuthorization = "AuthFailure.InvalidAuthorization",
    AuthFailureMfaFailure = "AuthFailure.MFAFailure",
    AuthFailureTokenFailure = "AuthFailure.TokenFailure",
    AuthFailureUnauthorizedOperation = "AuthFailure.UnauthorizedOperation",
    InvalidParameterActionNotFound = "InvalidParameter.ActionNotFound",
    RequestSizeLimitExceeded = "RequestSizeLimitExceeded",
    NoSuchVersion = "NoSuchVersion",
    UnsupportedRegion = "UnsupportedRegion",
    /// An HTTP method other than GET and POST.
    UnsupportedProtocol = "UnsupportedProtocol",

    // Product codes (spec §5).
    InvalidParameterValueBatchNumberTooLarge = "InvalidParameterValue.BatchNumberTooLarge",
    InvalidParameterValueMaxSurgeTooLarge = "InvalidParameterValue.MaxSurgeTooLarge",
    InvalidParameterValueRange = "InvalidParameterValue.Range",
    InvalidParameterValueFilter = "InvalidParameterValue.Filter",
    InvalidParameterValueInvalidFilter = "InvalidParameterValue.InvalidFilter",
    InvalidParameterValueLimitExceeded = "InvalidParameterValue.LimitExceeded",
    InvalidParameterValueTooLong = "InvalidParameterValue.TooLong",
    InvalidParameterValueTooShort = "InvalidParameterValue.TooShort",
    InvalidParameterValueUserDataFormatError = "InvalidParameterValue.UserDataFormatError",
    InvalidParameterValueUserDataSizeExceeded = "InvalidParameterValue.UserDataSizeExceeded",
    InvalidParameterValueInvalidAutoScalingGroupId = "InvalidParameterValue.InvalidAutoScalingGroupId",
    InvalidParameterValueInvalidInstanceId = "InvalidParameterValue.InvalidInstanceId",
    InvalidParameterValueInvalidLaunchConfigurationId = "InvalidParameterValue.InvalidLaunchConfigurationId",
    InvalidParameterValueInvalidLifecycleHookId = "InvalidParameterValue.InvalidLifecycleHookId",
    InvalidParameterConflict = "InvalidParameter.Conflict",
    LimitExceededFilterValuesTooLong = "LimitExceeded.FilterValuesTooLong",
    ResourceNotFoundAutoScalingGroupIdNotFound = "ResourceNotFound.AutoScalingGroupIdNotFound",
    ResourceNotFoundRefreshActivityNotFound = "ResourceNotFound.RefreshActivityNotFound",
    ResourceNotFoundInstancesNotInAutoScalingGroup = "ResourceNotFound.InstancesNotInAutoScalingGroup",
    ResourceNotFoundLaunchConfigurationIdNotFound = "ResourceNotFound.LaunchConfigurationIdNotFound",
    ResourceNotFoundLifecycleHookNotFound = "ResourceNotFound.LifecycleHookNotFound",
    ResourceNotFoundLifecycleHookInstanceNotMatch = "ResourceNotFound.LifecycleHookInstanceNotMatch",
    ResourceNotFoundScalingPolicyNotFound = "ResourceNotFound.ScalingPolicyNotFound",
    ResourceUnavailableAutoScalingGroupAbnormalStatus = "ResourceUnavailable.AutoScalingGroupAbnormalStatus",
    ResourceUnavailableAutoScalingGroupInActivity = "ResourceUnavailable.AutoScalingGroupInActivity",
    ResourceUnavailableAutoScalingGroupInRefreshActivity = "ResourceUnavailable.AutoScalingGroupInRefreshActivity",
    ResourceUnavailableInquiryPriceResetInstanceFailed = "ResourceUnavailable.InquiryPriceResetInstanceFailed",
    ResourceUnavailableNoInstanceCanRefresh = "ResourceUnavailable.NoInstanceCanRefresh",
    ResourceUnavailableNoInstanceCanRollback = "ResourceUnavailable.NoInstanceCanRollback",
    ResourceUnavailableRefreshActivityCanNotRollback = "ResourceUnavailable.RefreshActivityCanNotRollback",
    ResourceUnavailableRefreshActivityStatusConflictWithOperation = "ResourceUnavailable.RefreshActivityStatusConflictWithOperation",
    ResourceUnavailableRollbackTypeActivityCanNotRollbackAgain = "ResourceUnavailable.RollbackTypeActivityCanNotRollbackAgain",
    ResourceUnavailableAutoScalingGroupDisabled = "ResourceUnavailable.AutoScalingGroupDisabled",
    ResourceUnavailableInstanceInOperation = "ResourceUnavailable.InstanceInOperation",
    ResourceUnavailableLifecycleActionResultHasSet = "ResourceUnavailable.LifecycleActionResultHasSet",
    ResourceInUseAutoScalingGroupNotActive = "ResourceInUse.AutoScalingGroupNotActive",
    ResourceInsufficientAutoScalingGroupBelowMinSize = "ResourceInsufficient.AutoScalingGroupBelowMinSize",
    ResourceInsufficientAutoScalingGroupAboveMaxSize = "ResourceInsufficient.AutoScalingGroupAboveMaxSize",
    ResourceInsufficientInServiceInstanceBelowMinSize = "ResourceInsufficient.InServiceInstanceBelowMinSize",
    FailedOperationNoActivityToGenerate = "FailedOperation.NoActivityToGenerate",
    UnauthorizedOperationAutoScalingRoleUnauthorized = "UnauthorizedOperation.AutoScalingRoleUnauthorized",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused API call: Tencent's code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The Tencent Cloud API 3.0 error envelope (S-COMMON-ERR).
    pub fn envelope(&self, request_id: &str) -> Value {
        json!({
            "Response": {
                "Error": { "Code": self.code.as_str(), "Message": self.message },
                "RequestId": request_id,
            }
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate spelling {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
    }

    #[test]
    fn s_common_err_envelope_shape() {
        let e = ApiError::new(
            ErrorCode::MissingParameter,
            "AutoScalingGroupId is required",
        );
        let v = e.envelope("r-1");
        assert_eq!(v["Response"]["Error"]["Code"], "MissingParameter");
        assert_eq!(v["Response"]["RequestId"], "r-1");
    }
}
