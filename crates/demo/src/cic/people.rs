//! Users and what organises them: workgroups, roles, skills, schedules.

use super::*;

/// Users, with workgroup and role memberships, skills and a station each.
pub(super) fn users(
    g: &Gen<'_>,
    registry: &mut Registry,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    // Users, in batches so one transaction never grows unbounded.
    per_user(g, registry, |txn, i| {
        let (first, last, id) = names::user(g.salt, i);
        let wg1 = names::workgroup(i % g.scale.workgroups);
        let wg2 = names::workgroup((i * 7 + 3) % g.scale.workgroups);
        let mut groups = vec![wg1.clone()];
        if wg2 != wg1 && i % 3 == 0 {
            groups.push(wg2);
        }
        let role = if i % 10 < 7 {
            "Agent"
        } else {
            ROLES[(i % ROLES.len() as u64) as usize]
        };
        let skills: Vec<String> = (0..(i % 3))
            .map(|k| format!("Skill {}", (i + k) % g.scale.skills + 1))
            .collect();
        let mut pin = [0u8; 16];
        rng.fill_bytes(&mut pin);
        let ext = 10_000 + i;
        let mut values = vec![
            ("Display Name", sz(format!("{first} {last}"))),
            ("First Name", sz(first)),
            ("Last Name", sz(last)),
            ("Extension", sz(ext.to_string())),
            ("Email", sz(format!("{id}@example.com"))),
            ("Department", sz(names::department(g.salt, i))),
            ("Title", sz(names::title(g.salt, i))),
            ("Home Site", sz(g.site.clone())),
            ("Workgroups", multi(groups)),
            ("Roles", multi([role])),
            ("Default Station", sz(station_name(i))),
            ("Status", sz(STATUSES[rng.gen_range(0..STATUSES.len())])),
            ("Status Message", sz("")),
            (
                "Status Changed",
                sz(format!("2015-0{}-1{}T08:30:00Z", i % 9 + 1, i % 10)),
            ),
            ("NT Domain User", sz(format!("CORP\\{id}"))),
            ("Mailbox", sz(format!("{id}@mail.example.com"))),
            ("Voicemail PIN Hash", ValueData::Binary(pin.to_vec())),
            ("License Flags", dw(rng.gen_range(1..64))),
            ("Security Rights", dw(rng.gen_range(0..0xffff))),
            ("Access Flags", dw(rng.gen_range(0..256))),
            ("Language", sz(LANGUAGES[(i % 3) as usize])),
            ("Time Zone", sz("Eastern Standard Time")),
            ("Outbound ANI", sz(format!("317555{:04}", i % 10_000))),
            ("Cost Center", sz(format!("CC-{}", 100 + i % 40))),
            (
                "Created",
                ValueData::Qword(130_000_000_000_000_000 + i * 10_000_000),
            ),
        ];
        if !skills.is_empty() {
            values.push(("Skills", multi(skills)));
        }
        entry(txn, sink, &g.ds("Users", &id), &values)?;
        Ok(())
    })
}

/// Workgroups (ACD queues) with members and supervisors.
pub(super) fn workgroups(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for w in 0..g.scale.workgroups {
        let name = names::workgroup(w);
        let members: Vec<String> = (w..g.users)
            .step_by(g.scale.workgroups as usize)
            .take(400)
            .map(|i| names::user(g.salt, i).2)
            .collect();
        let supervisors: Vec<String> = members.iter().take(2).cloned().collect();
        let mut values = vec![
            ("Extension", sz((5000 + w).to_string())),
            ("Queue Type", sz("ACD")),
            ("Description", sz(format!("{name} queue"))),
            ("Has Queue", dw(1)),
            ("Alert Timeout", dw(rng.gen_range(10..40))),
            ("Wrap Up Time", dw(rng.gen_range(0..120))),
            ("Mailbox", sz(format!("wg{w}@example.com"))),
        ];
        if !members.is_empty() {
            values.push(("Members", multi(members)));
            values.push(("Supervisors", multi(supervisors)));
        }
        entry(txn, sink, &g.ds("Workgroups", &name), &values)?;
    }
    Ok(())
}

/// Roles and their rights.
pub(super) fn roles(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for (r, role) in ROLES.iter().enumerate() {
        entry(
            txn,
            sink,
            &g.ds("Roles", role),
            &[
                ("Description", sz(format!("{role} role"))),
                ("Rights", multi(RIGHTS.iter().take(3 + r).copied())),
            ],
        )?;
    }
    Ok(())
}

/// Skills.
pub(super) fn skills(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for s in 0..g.scale.skills {
        entry(
            txn,
            sink,
            &g.ds("Skills", &format!("Skill {}", s + 1)),
            &[
                ("Description", sz(format!("Proficiency area {}", s + 1))),
                (
                    "Category",
                    sz(["Language", "Product", "Tier"][(s % 3) as usize]),
                ),
            ],
        )?;
    }
    Ok(())
}

/// Schedules.
pub(super) fn schedules(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for (n, sched) in SCHEDULES.iter().enumerate() {
        entry(
            txn,
            sink,
            &g.ds("Schedules", sched),
            &[
                ("Description", sz(format!("{sched} hours"))),
                ("Start", sz(format!("{:02}:00", 6 + n % 4))),
                ("End", sz(format!("{:02}:00", 16 + n % 6))),
                ("Recurrence", sz(["Daily", "Weekdays", "Weekends"][n % 3])),
            ],
        )?;
    }
    Ok(())
}
