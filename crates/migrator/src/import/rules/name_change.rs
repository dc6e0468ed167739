//! What a server's name change calls for after a migration.
//!
//! Certificates tie to a host name. The migration guide: "New certificates
//! tie to a host name. Generate new certificates for your CIC 2015 R1 or
//! later servers under the following scenarios: Your Interaction Media
//! Server 2015 R1 or later has a different name than your Interaction
//! Media Server 3.0. […] Due to the name change, you must recreate the
//! certificates." and "Your CIC 4.0 server has a different host name than
//! your CIC 3.0 server. […] add the CIC 2015 R1 or later server to your
//! Interaction Media Server". A same-version migration always changes the
//! name ("The CIC server to which you import data must have a different
//! name than the CIC server from which you export CIC configuration
//! data."), so it always gets this follow-up.

use super::{FollowUp, Names};
use crate::import::ImportMode;
use transit_server::Role;

/// The follow-ups of an import from `source` into `target`: a
/// "recreate the certificates" task when a migration changes the server
/// name (recovery keeps the name).
pub fn follow_ups(mode: ImportMode, role: Role, source: &Names, target: &Names) -> Vec<FollowUp> {
    if mode == ImportMode::Recovery || source.server.eq_ignore_ascii_case(&target.server) {
        return Vec::new();
    }
    vec![FollowUp::RecreateCertificates {
        role: role.to_string(),
        from: source.server.clone(),
        to: target.server.clone(),
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{source, target};
    use super::*;

    #[test]
    fn a_name_change_in_migration_mode_calls_for_new_certificates() {
        let fu = follow_ups(ImportMode::Migration, Role::Media, &source(), &target());
        assert_eq!(
            fu,
            [FollowUp::RecreateCertificates {
                role: "media".into(),
                from: "CICA".into(),
                to: "CICB".into()
            }]
        );
        assert!(follow_ups(ImportMode::Recovery, Role::Cic, &source(), &target()).is_empty());
        assert!(follow_ups(ImportMode::Migration, Role::Cic, &source(), &source()).is_empty());
    }
}
