//! Which error codes each action is documented to return (spec §5, S-CLIENT lists), plus the
//! common API 3.0 codes any action may return. Used to check that every refusal is documented.

use super::error::ErrorCode;
use super::request::Action;

/// Common codes (S-COMMON-ERR) and `InvalidParameterValue.Range`, which OQ-27 uses for numeric
/// ranges of any action.
const COMMON: &[ErrorCode] = &[
    ErrorCode::RequestLimitExceeded,
    ErrorCode::MissingParameter,
    ErrorCode::InvalidParameter,
    ErrorCode::InvalidParameterValue,
    ErrorCode::InvalidParameterValueRange,
    ErrorCode::UnknownParameter,
    ErrorCode::UnsupportedOperation,
    ErrorCode::InternalError,
    ErrorCode::ResourceNotFound,
    ErrorCode::InvalidAction,
    ErrorCode::InvalidParameterActionNotFound,
    ErrorCode::AuthFailureSignatureFailure,
    ErrorCode::AuthFailureSignatureExpire,
    ErrorCode::AuthFailureSecretIdNotFound,
    ErrorCode::AuthFailureInvalidAuthorization,
    ErrorCode::AuthFailureMfaFailure,
    ErrorCode::AuthFailureTokenFailure,
    ErrorCode::AuthFailureUnauthorizedOperation,
    ErrorCode::RequestSizeLimitExceeded,
    ErrorCode::NoSuchVersion,
    ErrorCode::UnsupportedRegion,
    ErrorCode::UnsupportedProtocol,
];

/// The product codes documented for `action` (spec §5).
pub fn product_codes(action: Action) -> &'static [ErrorCode] {
    use ErrorCode::*;
    match action {
        Action::StartInstanceRefresh => &[
            InvalidParameterValueBatchNumberTooLarge,
            InvalidParameterValueMaxSurgeTooLarge,
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceUnavailableAutoScalingGroupAbnormalStatus,
            ResourceUnavailableAutoScalingGroupInActivity,
            ResourceUnavailableAutoScalingGroupInRefreshActivity,
            ResourceUnavailableInquiryPriceResetInstanceFailed,
            ResourceUnavailableNoInstanceCanRefresh,
            ResourceUnavailableRefreshActivityStatusConflictWithOperation,
            UnauthorizedOperationAutoScalingRoleUnauthorized,
        ],
        Action::StopInstanceRefresh
        | Action::ResumeInstanceRefresh
        | Action::CancelInstanceRefresh => &[
            ResourceNotFoundRefreshActivityNotFound,
            ResourceUnavailableRefreshActivityStatusConflictWithOperation,
            UnauthorizedOperationAutoScalingRoleUnauthorized,
        ],
        Action::RollbackInstanceRefresh => &[
            InvalidParameterValueBatchNumberTooLarge,
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceUnavailableAutoScalingGroupAbnormalStatus,
            ResourceUnavailableAutoScalingGroupInActivity,
            ResourceUnavailableAutoScalingGroupInRefreshActivity,
            ResourceUnavailableInquiryPriceResetInstanceFailed,
            ResourceUnavailableNoInstanceCanRefresh,
            ResourceUnavailableNoInstanceCanRollback,
            ResourceUnavailableRefreshActivityCanNotRollback,
            ResourceUnavailableRefreshActivityStatusConflictWithOperation,
            ResourceUnavailableRollbackTypeActivityCanNotRollbackAgain,
            UnauthorizedOperationAutoScalingRoleUnauthorized,
        ],
        Action::DescribeRefreshActivities => &[
            InvalidParameterConflict,
            InvalidParameterValueFilter,
            InvalidParameterValueInvalidAutoScalingGroupId,
            InvalidParameterValueInvalidFilter,
            InvalidParameterValueLimitExceeded,
            LimitExceededFilterValuesTooLong,
        ],
        Action::EnableAutoScalingGroup => &[
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceUnavailableAutoScalingGroupInRefreshActivity,
        ],
        Action::DisableAutoScalingGroup => &[ResourceNotFoundAutoScalingGroupIdNotFound],
        Action::RemoveInstances | Action::DetachInstances => &[
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceNotFoundInstancesNotInAutoScalingGroup,
            ResourceUnavailableAutoScalingGroupInActivity,
            ResourceUnavailableInstanceInOperation,
            ResourceInsufficientAutoScalingGroupBelowMinSize,
            ResourceInsufficientInServiceInstanceBelowMinSize,
            InvalidParameterValueLimitExceeded,
            FailedOperationNoActivityToGenerate,
        ],
        Action::ScaleInInstances => &[
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceUnavailableAutoScalingGroupInActivity,
            ResourceInsufficientAutoScalingGroupBelowMinSize,
            FailedOperationNoActivityToGenerate,
        ],
        Action::ScaleOutInstances => &[
            ResourceNotFoundAutoScalingGroupIdNotFound,
            ResourceUnavailableAutoScalingGroupInActivity,
            ResourceInsufficientAutoScalingGroupAboveMaxSize,
        ],
        Action::ModifyLaunchConfigurationAttributes => &[
            ResourceNotFoundLaunchConfigurationIdNotFound,
            InvalidParameterValueTooLong,
            InvalidParameterValueTooShort,
            InvalidParameterValueUserDataFormatError,
            InvalidParameterValueUserDataSizeExceeded,
        ],
        Action::CompleteLifecycleAction => &[
            ResourceNotFoundLifecycleHookNotFound,
            ResourceNotFoundLifecycleHookInstanceNotMatch,
            ResourceUnavailableLifecycleActionResultHasSet,
        ],
        Action::ExecuteScalingPolicy => &[
            ResourceNotFoundScalingPolicyNotFound,
            ResourceInUseAutoScalingGroupNotActive,
            ResourceUnavailableAutoScalingGroupInActivity,
            FailedOperationNoActivityToGenerate,
        ],
        Action::DescribeAutoScalingGroups
        | Action::DescribeAutoScalingInstances
        | Action::DescribeAutoScalingActivities
        | Action::DescribeLaunchConfigurations
        | Action::DescribeLifecycleHooks => &[
            InvalidParameterConflict,
            InvalidParameterValueFilter,
            InvalidParameterValueInvalidAutoScalingGroupId,
            InvalidParameterValueInvalidFilter,
            InvalidParameterValueLimitExceeded,
            LimitExceededFilterValuesTooLong,
        ],
        Action::DescribeAccountLimits => &[],
    }
}

/// Whether `action` may return `code`.
pub fn is_documented(action: Action, code: ErrorCode) -> bool {
    COMMON.contains(&code) || product_codes(action).contains(&code)
}
