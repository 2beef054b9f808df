//! How one check's outcome moves a probe's state: down after N failures in
//! a row, up (or degraded) after one success; during maintenance a failure
//! changes nothing.

use super::types::{Outcome, ProbeState};

/// A probe's state after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub state: ProbeState,
    pub consecutive_failures: i32,
    /// This check started a run of failures.
    pub streak_started: bool,
    /// The state went to down: an incident opens.
    pub went_down: bool,
    /// The state left down: the open incident closes.
    pub came_back: bool,
}

/// The state after a check with `outcome`.
pub fn next(
    state: ProbeState,
    failures: i32,
    outcome: Outcome,
    failures_before_down: i32,
    in_maintenance: bool,
) -> Transition {
    let unchanged = Transition {
        state,
        consecutive_failures: failures,
        streak_started: false,
        went_down: false,
        came_back: false,
    };
    match outcome {
        Outcome::Down if in_maintenance => unchanged,
        Outcome::Down => {
            let failures = failures.saturating_add(1);
            let down = failures >= failures_before_down;
            Transition {
                state: if down { ProbeState::Down } else { state },
                consecutive_failures: failures,
                streak_started: failures == 1,
                went_down: down && state != ProbeState::Down,
                came_back: false,
            }
        }
        Outcome::Up | Outcome::Degraded => Transition {
            state: if outcome == Outcome::Up {
                ProbeState::Up
            } else {
                ProbeState::Degraded
            },
            consecutive_failures: 0,
            streak_started: false,
            went_down: false,
            came_back: state == ProbeState::Down,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_n_failures_in_a_row_and_up_after_one_success() {
        let t1 = next(ProbeState::Up, 0, Outcome::Down, 2, false);
        assert_eq!(
            (
                t1.state,
                t1.consecutive_failures,
                t1.streak_started,
                t1.went_down
            ),
            (ProbeState::Up, 1, true, false)
        );
        let t2 = next(t1.state, t1.consecutive_failures, Outcome::Down, 2, false);
        assert_eq!((t2.state, t2.went_down), (ProbeState::Down, true));
        let t3 = next(t2.state, t2.consecutive_failures, Outcome::Down, 2, false);
        assert_eq!(
            (t3.state, t3.went_down, t3.consecutive_failures),
            (ProbeState::Down, false, 3)
        );
        let t4 = next(t3.state, t3.consecutive_failures, Outcome::Up, 2, false);
        assert_eq!(
            (t4.state, t4.came_back, t4.consecutive_failures),
            (ProbeState::Up, true, 0)
        );
    }

    #[test]
    fn a_single_failure_between_successes_changes_nothing_visible() {
        let t = next(ProbeState::Up, 0, Outcome::Down, 2, false);
        let t = next(t.state, t.consecutive_failures, Outcome::Up, 2, false);
        assert_eq!((t.state, t.came_back), (ProbeState::Up, false));
    }

    #[test]
    fn failures_during_maintenance_count_for_nothing() {
        let t = next(ProbeState::Up, 0, Outcome::Down, 1, true);
        assert_eq!(
            (t.state, t.consecutive_failures, t.went_down),
            (ProbeState::Up, 0, false)
        );
    }

    #[test]
    fn a_soon_expiring_certificate_degrades_without_an_incident() {
        let t = next(ProbeState::Down, 3, Outcome::Degraded, 2, false);
        assert_eq!((t.state, t.came_back), (ProbeState::Degraded, true));
    }
}
