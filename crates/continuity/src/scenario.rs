//! What-if scenarios: a provider fails, one system is lost, the whole town is down (ransomware).
//! Each scenario becomes an [`Outage`] for the restart planner; the result names the affected
//! processes, the time until the last one is back, and the legal deadlines missed.

use crate::bia::Bia;
use crate::restart::{plan, Outage, PlanOptions, RestartGraph, RestartPlan};
use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::ObjectKind;
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Scenario {
    /// Every system of the graph must be restored (encrypted by ransomware), and every
    /// application with a restore time of its own; an application without one comes back with
    /// its server, and a SaaS application on a provider stays up. Providers, locations and
    /// connections stay up.
    TotalOutage,
    /// The provider is unavailable for `duration`; nothing of ours needs restoring, but everything
    /// that uses it waits.
    ProviderDown { provider: ObjectId, duration: Span },
    /// One system is lost and restored from backup. A lost hypervisor (`virtualisation`) takes
    /// the systems that run on it — those with a direct "uses" edge to it — with it: their disks
    /// were on it, so they are restored too.
    SystemLost { system: ObjectId },
}

/// Why a scenario could not be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    UnknownObject(ObjectId),
    WrongKind {
        object: ObjectId,
        expected: ObjectKind,
        found: ObjectKind,
    },
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScenarioError::UnknownObject(id) => write!(f, "object {id} is not in the graph"),
            ScenarioError::WrongKind {
                object,
                expected,
                found,
            } => write!(
                f,
                "object {object} is a {}, the scenario needs a {}",
                found.as_str(),
                expected.as_str()
            ),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The outage a scenario causes.
pub fn outage(graph: &RestartGraph, scenario: &Scenario) -> Result<Outage, ScenarioError> {
    let mut out = Outage::default();
    let find = |id: ObjectId, expected: ObjectKind| {
        let node = graph
            .nodes
            .iter()
            .find(|x| x.id == id)
            .ok_or(ScenarioError::UnknownObject(id))?;
        if node.kind != expected {
            return Err(ScenarioError::WrongKind {
                object: id,
                expected,
                found: node.kind,
            });
        }
        Ok(node)
    };
    match scenario {
        Scenario::TotalOutage => {
            for x in &graph.nodes {
                let app_work = x.kind == ObjectKind::Application && x.restore > Span::ZERO;
                if x.kind == ObjectKind::System || app_work {
                    out.down.insert(x.id, x.restore);
                }
            }
        }
        Scenario::ProviderDown { provider, duration } => {
            find(*provider, ObjectKind::Provider)?;
            out.down.insert(*provider, *duration);
        }
        Scenario::SystemLost { system } => {
            let node = find(*system, ObjectKind::System)?;
            out.down.insert(node.id, node.restore);
            if node.system_type.as_deref() == Some("virtualisation") {
                let guests: HashSet<ObjectId> = graph
                    .edges
                    .iter()
                    .filter(|(_, used)| used == system)
                    .map(|(user, _)| *user)
                    .collect();
                for x in &graph.nodes {
                    if x.kind == ObjectKind::System && guests.contains(&x.id) {
                        out.down.insert(x.id, x.restore);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub outage: Outage,
    pub plan: RestartPlan,
    /// When the last affected process is back (zero if none is affected).
    pub time_to_recover: Span,
    /// Affected processes that miss their MTA.
    pub beyond_mta: Vec<ObjectId>,
    /// Number of missed legal deadlines over all processes.
    pub missed_deadlines: usize,
}

pub fn run(
    graph: &RestartGraph,
    bias: &[Bia],
    scenario: &Scenario,
    opts: PlanOptions,
) -> Result<ScenarioResult, ScenarioError> {
    let outage = outage(graph, scenario)?;
    let plan = plan(graph, bias, &outage, opts);
    let time_to_recover = plan
        .processes
        .iter()
        .map(|p| p.back)
        .max()
        .unwrap_or_default();
    let beyond_mta = plan
        .processes
        .iter()
        .filter(|p| p.within_mta == Some(false))
        .map(|p| p.process)
        .collect();
    let missed_deadlines = plan.processes.iter().map(|p| p.missed.len()).sum();
    Ok(ScenarioResult {
        scenario: scenario.clone(),
        outage,
        plan,
        time_to_recover,
        beyond_mta,
        missed_deadlines,
    })
}
