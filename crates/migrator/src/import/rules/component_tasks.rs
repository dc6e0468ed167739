//! The manual tasks the vendor's documents require after importing
//! particular components, each listed only when its component was imported.
//!
//! | component | task | the reference |
//! |---|---|---|
//! | any | restart the server service | "you must restart the CIC Service after the import to implement the changes" |
//! | AdminConfig | adjust license allocation | "you might need to adjust license allocation post-import as CIC licensing changes with each release" |
//! | Lines (migration) | check the NIC name | "verify that the Network Interface Card (NIC) or NIC team uses the same name on the new server as on the existing server" |
//! | IP\Handlers, System Handlers | re-publish modified base handlers | "inventory each modified base handler and modify and publish the base handlers on the new CIC server post-import" |
//! | Server Parameters | Setup Assistant for the queue statistics intervals | "After using Interaction Migrator to import data, run IC Setup Assistant to move these parameters to their correct location" |
//! | Attendant Profiles | fix Attendant errors by hand | "If the import results in errors when opening Interaction Attendant, address these errors manually in Interaction Attendant, post-import" |
//! | Interaction Recorder (migration) | update the recordings storage path | "Copy stored recordings and update the recordings storage path" |
//! | Tracker Config (migration) | Tracker database first | "Ensure that you migrated the Tracker database using CIC Database Migration Assistant before proceeding with the import" |

use super::{FollowUp, RuleContext};
use crate::import::ImportMode;

/// The tasks importing `ctx`'s component calls for.
pub fn tasks(ctx: &RuleContext<'_>) -> Vec<FollowUp> {
    let migration = ctx.mode == ImportMode::Migration;
    let mut out = vec![FollowUp::RestartService];
    match ctx.component.id.as_str() {
        "AdminConfig" => out.push(FollowUp::AdjustLicenseAllocation),
        "Lines" if migration => out.push(FollowUp::CheckSipNic),
        "IP\\Handlers" | "System Handlers" => out.push(FollowUp::RepublishBaseHandlers),
        "Server Parameters" => out.push(FollowUp::QueueStatisticsIntervals),
        "Attendant Profiles" => out.push(FollowUp::FixAttendantErrors),
        "Interaction Recorder" if migration => out.push(FollowUp::UpdateRecorderStoragePath),
        "Tracker Config" if migration => out.push(FollowUp::TrackerDatabaseFirst),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::with_ctx;
    use super::*;

    #[test]
    fn each_task_comes_with_its_component_only() {
        let cases = [
            ("AdminConfig", FollowUp::AdjustLicenseAllocation),
            ("Lines", FollowUp::CheckSipNic),
            ("IP\\Handlers", FollowUp::RepublishBaseHandlers),
            ("Server Parameters", FollowUp::QueueStatisticsIntervals),
            ("Attendant Profiles", FollowUp::FixAttendantErrors),
            ("Interaction Recorder", FollowUp::UpdateRecorderStoragePath),
            ("Tracker Config", FollowUp::TrackerDatabaseFirst),
        ];
        for (id, task) in &cases {
            let got = with_ctx(id, ImportMode::Migration, false, tasks);
            assert_eq!(got, [FollowUp::RestartService, task.clone()], "{id}");
        }
        let users = with_ctx("Users", ImportMode::Migration, false, tasks);
        assert_eq!(users, [FollowUp::RestartService]);
        let recovered = with_ctx("Tracker Config", ImportMode::Recovery, false, |ctx| {
            tasks(ctx)
        });
        assert_eq!(recovered, [FollowUp::RestartService]);
    }
}
