//! Demand intake: ideas with a business case, reviewed and approved into projects.
//!
//! A demand moves `draft → submitted → under_review → approved | rejected |
//! deferred`; a submitted demand may be withdrawn to draft and a deferred one
//! revisited. Approval creates the project in the same transaction
//! ([`demands::transition`]).

pub mod demands;
pub mod http;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemandState {
    Draft,
    Submitted,
    UnderReview,
    Approved,
    Rejected,
    Deferred,
}

crate::text_enum!(DemandState {
    Draft = "draft",
    Submitted = "submitted",
    UnderReview = "under_review",
    Approved = "approved",
    Rejected = "rejected",
    Deferred = "deferred",
});

impl crate::lifecycle::Lifecycle for DemandState {
    /// The states a demand may move to from this one. Approved and rejected are
    /// final: an approved demand lives on as its project, a rejected one as a
    /// record of the decision.
    fn next(self) -> &'static [DemandState] {
        use DemandState::*;
        match self {
            Draft => &[Submitted],
            Submitted => &[UnderReview, Draft],
            UnderReview => &[Approved, Rejected, Deferred],
            Deferred => &[UnderReview],
            Approved | Rejected => &[],
        }
    }
}

impl DemandState {
    /// The requester may still change the business case: before review starts,
    /// so reviewers never judge a moving target.
    pub fn is_editable(self) -> bool {
        matches!(self, DemandState::Draft | DemandState::Submitted)
    }

    /// Moving here is a decision, signed with `decided_by`, `decided_at` and a note.
    pub fn is_decision(self) -> bool {
        matches!(self, DemandState::Approved | DemandState::Rejected | DemandState::Deferred)
    }
}

#[cfg(test)]
mod tests {
    use crate::lifecycle::Lifecycle;
    use super::DemandState::*;

    #[test]
    fn approved_and_rejected_demands_are_final() {
        assert!(Approved.next().is_empty());
        assert!(Rejected.next().is_empty());
    }

    #[test]
    fn only_a_reviewed_demand_can_be_decided() {
        for state in [Draft, Submitted, Deferred] {
            assert!(!state.next().contains(&Approved), "{state}");
        }
        assert!(UnderReview.next().contains(&Approved));
    }

    #[test]
    fn a_submitted_demand_can_be_withdrawn_and_a_deferred_one_revisited() {
        assert!(Submitted.next().contains(&Draft));
        assert!(Deferred.next().contains(&UnderReview));
    }

    #[test]
    fn the_business_case_is_editable_only_before_review() {
        let editable: Vec<_> = [Draft, Submitted, UnderReview, Approved, Rejected, Deferred].into_iter().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, [Draft, Submitted]);
    }
}
