use super::*;

fn sample(every: Every) -> Schedule {
    Schedule {
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
        keep: Some(7),
    }
}

#[test]
fn every_parses_the_three_forms_and_refuses_the_rest() {
    assert_eq!(Every::parse("daily"), Ok(Every::Daily));
    assert_eq!(Every::parse("HOURLY"), Ok(Every::Hourly));
    assert_eq!(Every::parse("weekly:sun"), Ok(Every::Weekly(Weekday::Sun)));
    assert_eq!(
        Every::parse("weekly:Wednesday"),
        Ok(Every::Weekly(Weekday::Wed))
    );
    for bad in ["monthly", "weekly:", "weekly:Funday", "", "weekly"] {
        let err = Every::parse(bad).unwrap_err();
        assert!(err.contains("--every"), "{bad}: {err}");
    }
}

#[test]
fn at_accepts_24_hour_times_only() {
    assert_eq!(
        At::parse("02:30"),
        Ok(At {
            hour: 2,
            minute: 30
        })
    );
    assert_eq!(At::parse("2:05"), Ok(At { hour: 2, minute: 5 }));
    assert_eq!(
        At::parse("23:59"),
        Ok(At {
            hour: 23,
            minute: 59
        })
    );
    for bad in [
        "24:00", "12:60", "12", "12:5", "ab:cd", "-1:00", "12:00:00", "", "1:2:3", "123:00",
    ] {
        let err = At::parse(bad).unwrap_err();
        assert!(err.contains("HH:MM"), "{bad}: {err}");
    }
}

#[test]
fn names_and_keep_are_checked() {
    assert!(check_name("dr-site_1").is_ok());
    for bad in ["", "a b", "../x", "x/y", &"n".repeat(65)] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
    assert_eq!(check_keep(3), Ok(3));
    for bad in [0, -1, i64::from(u32::MAX) + 1] {
        let err = check_keep(bad).unwrap_err();
        assert!(err.contains("keep at least 1"), "{err}");
    }
}

#[test]
fn calendar_expressions() {
    assert_eq!(sample(Every::Daily).on_calendar(), "*-*-* 02:30:00");
    assert_eq!(sample(Every::Hourly).on_calendar(), "*-*-* *:30:00");
    assert_eq!(
        sample(Every::Weekly(Weekday::Sun)).on_calendar(),
        "Sun *-*-* 02:30:00"
    );
}

#[test]
fn units_read_back_and_escape_systemd_specials() {
    let schedule = sample(Every::Weekly(Weekday::Fri));
    let service = schedule.service_unit();
    let timer = schedule.timer_unit();
    assert_eq!(Schedule::from_unit(&service), Some(schedule.clone()));
    assert_eq!(Schedule::from_unit(&timer), Some(schedule.clone()));
    assert_eq!(Schedule::from_unit("[Unit]\nDescription=other\n"), None);
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
