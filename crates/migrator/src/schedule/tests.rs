use super::*;
use transit_units::Weekday;

fn sample(every: Every) -> ExportSchedule {
    ExportSchedule {
        name: "nightly".into(),
        every,
        at: At {
            hour: 2,
            minute: 30,
        },
        binary: "/usr/local/bin/transit".into(),
        server_root: "/srv/cic 01".into(),
        folder: "/backup/100%/$HOME".into(),
        components: "all".into(),
        password_file: Some("/etc/transit/pw".into()),
        keep: Some("7".parse().unwrap()),
    }
}

#[test]
fn names_are_checked() {
    assert!(check_name("dr-site_1").is_ok());
    for bad in ["", "a b", "../x", "x/y", &"n".repeat(65)] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn line_breaks_are_refused() {
    let mut s = sample(Every::Daily);
    s.folder = "/backup/a\nb".into();
    assert!(matches!(s.check(), Err(ScheduleError::LineBreak(_))));
}

#[test]
fn units_read_back_and_escape_systemd_specials() {
    let schedule = sample(Every::Weekly(Weekday::Fri));
    let service = schedule.service_unit();
    let timer = schedule.timer_unit();
    assert_eq!(ExportSchedule::from_unit(&service), Some(schedule.clone()));
    assert_eq!(ExportSchedule::from_unit(&timer), Some(schedule.clone()));
    assert_eq!(
        ExportSchedule::from_unit("[Unit]\nDescription=other\n"),
        None
    );
    insta::assert_snapshot!("service_unit", service);
    insta::assert_snapshot!("timer_unit", timer);
}

#[test]
fn cron_lines_quote_for_the_shell_and_escape_percent() {
    let mut s = sample(Every::Weekly(Weekday::Sun));
    s.folder = "/backup/it's 100%".into();
    let line = s.cron_line();
    assert!(
        line.starts_with(
            "30 2 * * 0 '/usr/local/bin/transit' '--server-root' '/srv/cic 01' 'export'"
        ),
        "{line}"
    );
    assert!(line.contains(r"'/backup/it'\''s 100\%'"), "{line}");
    assert!(line.ends_with("# transit-schedule nightly"), "{line}");
    assert!(sample(Every::Hourly).cron_line().starts_with("30 * * * * "));
    assert!(sample(Every::Daily).cron_line().starts_with("30 2 * * * "));
}

#[test]
fn install_list_and_remove_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let folder = UnitFolder::new(Some(dir.path().to_path_buf())).unwrap();
    let s = sample(Every::Daily);
    install(&folder, &s).unwrap();
    assert!(matches!(
        install(&folder, &s),
        Err(ScheduleError::Exists { .. })
    ));
    let listed = list(&folder).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, s);
    let removed = remove(&folder, "nightly").unwrap();
    assert_eq!(removed.deleted.len(), 2);
    assert!(removed.disabled.is_none(), "not a folder systemd reads");
    assert!(matches!(
        remove(&folder, "nightly"),
        Err(ScheduleError::NotFound { .. })
    ));
}
