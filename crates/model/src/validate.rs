//! Scenario validation: every problem at once, each naming its JSON path
//! (`vehicles[3].capacity_kg: must be greater than 0`).

use serde::{Deserialize, Serialize};

/// One problem found in a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `vehicles[3].capacity_kg`.
    pub path: String,
    /// What is wrong, e.g. `must be greater than 0`.
    pub message: String,
}

impl Problem {
    /// Builds a problem.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The outcome of validating a scenario. Errors make the scenario unusable; warnings
/// describe visits the plan will report as unserved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Problems that make the scenario unusable.
    pub errors: Vec<Problem>,
    /// Problems the planner survives (the affected visits end up unserved).
    pub warnings: Vec<Problem>,
}

impl ValidationReport {
    /// Whether there are no errors (warnings are allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}
