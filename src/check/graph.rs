//! The legal transition graphs of spec §10, shared by the timeline and Describe checkers.

use crate::api::{ActivityStatus, BatchStatus, InstanceStatus};

/// §10 activity graph (with OQ-21: Stop from INIT; OQ-26: FAILED/CANCELLED by rollback; OQ-34:
/// FAILED from any non-terminal status on an unrecoverable error).
pub fn activity_step(from: ActivityStatus, to: ActivityStatus) -> bool {
    use ActivityStatus::*;
    if from.is_terminal() || from == to {
        return false;
    }
    match to {
        Init => false,
        Running => matches!(from, Init | FailedPause | AutoPause | ManualPause),
        ManualPause => matches!(from, Init | Running),
        AutoPause => from == Running,
        FailedPause => matches!(from, Running | ManualPause),
        Successful => from == Running,
        Cancelled | Failed => true,
    }
}

/// Whether `to` can follow `from` after any number of steps (Describe polls see snapshots).
pub fn activity_reachable(from: ActivityStatus, to: ActivityStatus) -> bool {
    let mut seen = vec![from];
    let mut frontier = vec![from];
    while let Some(status) = frontier.pop() {
        if status == to {
            return true;
        }
        for &next in ActivityStatus::ALL {
            if activity_step(status, next) && !seen.contains(&next) {
                seen.push(next);
                frontier.push(next);
            }
        }
    }
    false
}

/// §10 batch graph; `None` is "not planned yet".
pub fn batch_step(from: Option<BatchStatus>, to: BatchStatus) -> bool {
    use BatchStatus::*;
    match from {
        None => to == Waiting,
        Some(Waiting) => matches!(to, Init | Cancelled),
        Some(Init) => matches!(to, Running | Successful | Failed | PartiallySuccessful),
        Some(Running) => matches!(to, Successful | Failed | PartiallySuccessful),
        // OQ-22: RETRY puts a finished batch back to RUNNING (or straight to its new status when
        // every retried instance has vanished).
        Some(Failed | PartiallySuccessful) => {
            matches!(to, Running | Successful | Failed | PartiallySuccessful) && from != Some(to)
        }
        Some(Successful | Cancelled) => false,
    }
}

pub fn batch_reachable(from: BatchStatus, to: BatchStatus) -> bool {
    use BatchStatus::*;
    if from == to {
        return true;
    }
    match from {
        Waiting => true,
        Init | Running => !matches!(to, Waiting | Cancelled | Init),
        Failed | PartiallySuccessful => {
            matches!(to, Running | Successful | Failed | PartiallySuccessful)
        }
        Successful | Cancelled => false,
    }
}

/// §10 instance graph; `None` is "not planned yet".
pub fn instance_step(from: Option<InstanceStatus>, to: InstanceStatus) -> bool {
    use InstanceStatus::*;
    match from {
        None => to == Waiting,
        Some(Waiting) => matches!(to, Init | Cancelled | NotFound),
        // OQ-39: an instance stopped during its INIT (hooks) fails.
        Some(Init) => matches!(to, Running | Failed | NotFound),
        Some(Running) => matches!(to, Successful | Failed | NotFound),
        Some(Failed) => matches!(to, Waiting | NotFound),
        Some(Successful | Cancelled | NotFound) => false,
    }
}

pub fn instance_reachable(from: InstanceStatus, to: InstanceStatus) -> bool {
    use InstanceStatus::*;
    if from == to {
        return true;
    }
    match from {
        Waiting | Failed | Init | Running => match to {
            Waiting => matches!(from, Failed | Init | Running),
            Init | Running | Successful | Failed | Cancelled | NotFound => true,
        },
        Successful | Cancelled | NotFound => false,
    }
}

pub fn instance_terminal(status: InstanceStatus) -> bool {
    matches!(
        status,
        InstanceStatus::Successful | InstanceStatus::Cancelled | InstanceStatus::NotFound
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ActivityStatus::*;

    #[test]
    fn spec_10_activity_graph() {
        assert!(activity_step(Init, Running));
        assert!(activity_step(Running, AutoPause));
        assert!(activity_step(ManualPause, FailedPause), "OQ-21");
        assert!(!activity_step(AutoPause, FailedPause));
        assert!(
            !activity_step(Successful, Running),
            "terminal stays terminal"
        );
        assert!(!activity_step(FailedPause, Successful));
        assert!(activity_reachable(Init, Successful));
        assert!(activity_reachable(FailedPause, Successful));
        assert!(!activity_reachable(Cancelled, Running));
    }

    #[test]
    fn spec_10_batch_and_instance_graphs() {
        use crate::api::BatchStatus as B;
        use crate::api::InstanceStatus as I;
        assert!(batch_step(None, B::Waiting));
        assert!(
            batch_step(Some(B::PartiallySuccessful), B::Running),
            "OQ-22 RETRY"
        );
        assert!(!batch_step(Some(B::Successful), B::Running));
        assert!(
            !batch_step(Some(B::Waiting), B::Running),
            "INIT comes first"
        );
        assert!(instance_step(Some(I::Failed), I::Waiting), "RETRY");
        assert!(!instance_step(Some(I::NotFound), I::Waiting));
        assert!(!instance_step(Some(I::Waiting), I::Successful));
        assert!(instance_reachable(I::Waiting, I::Successful));
        assert!(!instance_reachable(I::Successful, I::Failed));
    }
}
